package tree

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
)

// Edits give the same map, to the hash, as building from scratch: the tree's
// shape depends on its entries only, not on their history.
func TestHistoryIndependence(t *testing.T) {
	ctx := context.Background()
	n := 100_000
	if testing.Short() {
		n = 20_000
	}
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))

	ns, _ := newTestNodeStore(t, true)
	o := oracle{}
	for i := 0; i < n; i++ {
		o[string(key(i))] = string(val(i))
	}
	want := buildFromOracle(t, ns, o).Hash()

	for order := 0; order < 3; order++ {
		perm := rng.Perm(n)
		for _, batch := range []int{1, 100, 10_000} {
			t.Run(fmt.Sprintf("order=%d/batch=%d", order, batch), func(t *testing.T) {
				ns, cs := newTestNodeStore(t, true)
				m, err := NewEmptyMap(ctx, ns)
				if err != nil {
					t.Fatal(err)
				}
				for start := 0; start < n; start += batch {
					var edits []Edit
					for _, i := range perm[start:min(start+batch, n)] {
						edits = append(edits, Edit{Key: key(i), Value: val(i)})
					}
					if m, err = m.Edit(ctx, edits); err != nil {
						t.Fatal(err)
					}
					if start%20_000 == 0 {
						collectGarbage(t, cs, m)
					}
				}
				if m.Hash() != want {
					t.Fatalf("root %s, want %s", m.Hash(), want)
				}
			})
		}
	}
	// Deleting everything again, in random batches, gives the empty map.
	t.Run("delete-all", func(t *testing.T) {
		m, err := LoadMap(ctx, ns, want)
		if err != nil {
			t.Fatal(err)
		}
		perm := rng.Perm(n)
		for start := 0; start < n; start += 777 {
			var edits []Edit
			for _, i := range perm[start:min(start+777, n)] {
				edits = append(edits, Edit{Key: key(i), Delete: true})
			}
			if m, err = m.Edit(ctx, edits); err != nil {
				t.Fatal(err)
			}
		}
		if m.Hash() != EmptyMapHash || m.Count() != 0 {
			t.Fatalf("after deleting all: %s count %d", m.Hash(), m.Count())
		}
	})
}

// collectGarbage drops every chunk m does not need, keeping long tests small.
func collectGarbage(t tb, cs *chunk.MemoryStore, m Map) {
	t.Helper()
	lease := cs.Leases().Acquire(m.Hash())
	defer lease.Release()
	if _, err := chunk.GC(context.Background(), cs); err != nil {
		t.Fatal(err)
	}
}

// A single-key update of a big map writes at most one node per level (plus
// one when the root splits).
func TestEditWritesOnlyThePath(t *testing.T) {
	ctx := context.Background()
	ns, cs := newTestNodeStore(t, true)
	o := oracle{}
	for i := 0; i < 50_000; i++ {
		o[string(key(i))] = string(val(i))
	}
	m := buildFromOracle(t, ns, o)
	rng := rand.New(rand.NewSource(2))
	for trial := 0; trial < 50; trial++ {
		i := rng.Intn(50_000)
		before := cs.Len()
		m2, err := m.Edit(ctx, []Edit{{Key: key(i), Value: []byte(fmt.Sprintf("new %d", trial))}})
		if err != nil {
			t.Fatal(err)
		}
		if added := cs.Len() - before; added > m2.Height()+1 {
			t.Fatalf("update of one key in a %d-level map wrote %d chunks", m2.Height(), added)
		}
		m = m2
	}
}

// Replacing values by values of the same length takes the in-place path;
// its result is still, to the hash, the map built from scratch, for single
// and batched edits, at the first and last keys, and for long values.
func TestSameLengthUpdates(t *testing.T) {
	ctx := context.Background()
	ns, cs := newTestNodeStore(t, true)
	o := oracle{}
	for i := 0; i < 30_000; i++ {
		o[string(key(i))] = fmt.Sprintf("%08d", i)
	}
	o[string(key(30_000))] = strings.Repeat("b", InlineLimit+10) // out of line
	m := buildFromOracle(t, ns, o)
	rng := rand.New(rand.NewSource(4))
	for trial := 0; trial < 60; trial++ {
		var edits []Edit
		n := 1 + trial%5*20
		for e := 0; e < n; e++ {
			i := rng.Intn(30_001)
			switch trial % 7 {
			case 1:
				i = 0
			case 2:
				i = 30_000
			}
			v := fmt.Sprintf("%08d", rng.Intn(1e8))
			if i == 30_000 {
				v = strings.Repeat(string(rune('c'+trial%20)), InlineLimit+10)
			}
			edits = append(edits, Edit{Key: key(i), Value: []byte(v)})
		}
		before := cs.Len()
		var err error
		if m, err = m.Edit(ctx, edits); err != nil {
			t.Fatal(err)
		}
		o.apply(edits)
		if n == 1 && cs.Len()-before > m.Height()+1 {
			t.Fatalf("one same-length update wrote %d chunks", cs.Len()-before)
		}
		if want := buildFromOracle(t, ns, o).Hash(); m.Hash() != want {
			t.Fatalf("trial %d: edited %s, built %s", trial, m.Hash(), want)
		}
	}
	checkMap(t, m, o)
}
