package tree

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cairndb/cairn/storage/chunk"
)

// Nodes an edit replaces go to the cold end of the cache: a stream of
// random edits, which writes many times the cache's size in new nodes,
// leaves the cache holding the live tree, which reads back without a miss.
func TestCacheKeepsLiveNodes(t *testing.T) {
	ctx := context.Background()
	o := oracle{}
	for i := range 20000 {
		o[fmt.Sprintf("key%08d", i)] = fmt.Sprintf("value %d %0100d", i, i)
	}
	live := func(m Map) (nodes, bytes int) {
		var walk func(h chunk.Hash)
		walk = func(h chunk.Hash) {
			n, err := m.ns.read(ctx, h)
			if err != nil {
				t.Fatal(err)
			}
			nodes++
			bytes += n.size
			if !n.leaf() {
				for i := range n.count() {
					walk(n.child(i))
				}
			}
		}
		walk(m.root.hash)
		return nodes, bytes
	}
	// Sized from an uncached build: twice the live tree.
	plain, _ := newTestNodeStore(t, false)
	_, size := live(buildFromOracle(t, plain, o))
	cache := NewNodeCache(2 * size)
	ns := NewNodeStore(chunk.NewMemoryStore(), cache)
	m := buildFromOracle(t, ns, o)
	rng := rand.New(rand.NewPCG(1, 2))
	keys := o.keys()
	for i := range 3000 {
		k := keys[rng.IntN(len(keys))]
		var err error
		if m, err = m.Edit(ctx, []Edit{{Key: []byte(k), Value: []byte(fmt.Sprintf("edit %d", i))}}); err != nil {
			t.Fatal(err)
		}
	}
	before := cache.Stats()
	nodes, _ := live(m)
	after := cache.Stats()
	if misses := after.Misses - before.Misses; misses > uint64(nodes)/50 {
		t.Fatalf("reading the live tree's %d nodes missed the cache %d times", nodes, misses)
	}
}
