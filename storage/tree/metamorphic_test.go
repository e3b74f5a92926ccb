package tree

import (
	"context"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/chunk/diskstore"
)

// The same random edits on differently configured node stores (memory or
// Pebble chunk store; no cache, a tiny cache that evicts all the time, a
// large one) give the same maps, to the hash, and the same reads.
func TestMetamorphicStores(t *testing.T) {
	ctx := context.Background()
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))

	disk, err := diskstore.Open(t.TempDir(), diskstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { disk.Close() })
	stores := map[string]*NodeStore{
		"memory, no cache":    NewNodeStore(chunk.NewMemoryStore(), nil),
		"memory, tiny cache":  NewNodeStore(chunk.NewMemoryStore(), NewNodeCache(64<<10)),
		"pebble, large cache": NewNodeStore(disk, NewNodeCache(64<<20)),
	}
	maps := map[string]Map{}
	for name, ns := range stores {
		m, err := NewEmptyMap(ctx, ns)
		if err != nil {
			t.Fatal(err)
		}
		maps[name] = m
	}
	o := oracle{}
	for round := 0; round < 30; round++ {
		var edits []Edit
		for i, n := 0, rng.Intn(2000); i < n; i++ {
			k := key(rng.Intn(20_000))
			switch rng.Intn(4) {
			case 0:
				edits = append(edits, Edit{Key: k, Delete: true})
			case 1:
				edits = append(edits, Edit{Key: k, Value: make([]byte, InlineLimit+rng.Intn(5000))})
			default:
				edits = append(edits, Edit{Key: k, Value: []byte(fmt.Sprintf("v%d-%d", round, rng.Intn(1000)))})
			}
		}
		o.apply(edits)
		var want chunk.Hash
		for name := range stores {
			m, err := maps[name].Edit(ctx, edits)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			maps[name] = m
			if want.IsZero() {
				want = m.Hash()
			} else if m.Hash() != want {
				t.Fatalf("round %d: %s has root %s, another store %s", round, name, m.Hash(), want)
			}
		}
	}
	for name, m := range maps {
		t.Run(name, func(t *testing.T) { checkMap(t, m, o) })
	}
}
