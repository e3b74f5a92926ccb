package tree

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/cairndb/cairn/storage/chunk"
)

// Maps, node stores and a small shared cache (so that nodes are evicted and
// reloaded all the time) serve concurrent readers and writers; run under
// -race.
func TestConcurrentReadersAndWriters(t *testing.T) {
	ctx := context.Background()
	ns, _ := newTestNodeStore(t, false)
	ns.cache = NewNodeCache(256 << 10)
	o := oracle{}
	for i := 0; i < 20_000; i++ {
		o[string(key(i))] = string(val(i))
	}
	base := buildFromOracle(t, ns, o)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 4; g++ {
		wg.Add(2)
		go func(g int) { // a writer editing its own version of the map
			defer wg.Done()
			m := base
			for i := 0; i < 50; i++ {
				var err error
				k := key((g*7919 + i*104729) % 20_000)
				if m, err = m.Edit(ctx, []Edit{{Key: k, Value: []byte(fmt.Sprintf("g%d i%d", g, i))}}); err != nil {
					errs <- err
					return
				}
				if v, ok, err := m.Get(ctx, k); err != nil || !ok || string(v) != fmt.Sprintf("g%d i%d", g, i) {
					errs <- fmt.Errorf("writer %d read back %q %v %v", g, v, ok, err)
					return
				}
			}
		}(g)
		go func(g int) { // a reader of the shared base version
			defer wg.Done()
			for i := 0; i < 200; i++ {
				k := key((g*31 + i*977) % 20_000)
				v, ok, err := base.Get(ctx, k)
				if err != nil || !ok || string(v) != o[string(k)] {
					errs <- fmt.Errorf("reader %d: Get(%s) = %q %v %v", g, k, v, ok, err)
					return
				}
			}
			it, err := base.Iter(ctx, Range{Start: key(g * 1000), End: key(g*1000 + 500)})
			n := 0
			for err == nil {
				if _, _, err = it.Next(ctx); err == nil {
					n++
				}
			}
			if err != io.EOF || n != 500 {
				errs <- fmt.Errorf("reader %d: range gave %d entries, then %v", g, n, err)
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if st := ns.cache.Stats(); st.Bytes > 256<<10 {
		t.Errorf("cache holds %d bytes, bound is %d", st.Bytes, 256<<10)
	}
}

// A cache shared by two stores never serves one store a node only the other
// holds: a chunk missing from a store is reported missing.
func TestSharedCacheKeepsStoresApart(t *testing.T) {
	ctx := context.Background()
	cache := NewNodeCache(1 << 20)
	a := NewNodeStore(chunk.NewMemoryStore(), cache)
	b := NewNodeStore(chunk.NewMemoryStore(), cache)
	m := buildFromOracle(t, a, oracle{"k": "v"})
	if _, err := LoadMap(ctx, b, m.Hash()); !errors.Is(err, chunk.ErrNotFound) {
		t.Fatalf("store b loaded a map only store a holds: %v", err)
	}
}
