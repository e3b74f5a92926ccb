package chunk_test

import (
	"context"
	"testing"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/chunk/chunktest"
	"github.com/cairndb/cairn/storage/chunk/diskstore"
)

// eachStore runs test against a new memory store and a new disk store.
func eachStore(t *testing.T, test func(t *testing.T, s chunk.Collectable)) {
	t.Run("memory", func(t *testing.T) {
		s := chunk.NewMemoryStore()
		t.Cleanup(func() { s.Close() })
		test(t, s)
	})
	t.Run("disk", func(t *testing.T) {
		s, err := diskstore.Open(t.TempDir(), diskstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		test(t, s)
	})
}

// hookStore runs a function once, the first time GC (or anyone) calls Refs
// or GetMany on it, to interleave other work with a collection at a precise
// point.
type hookStore struct {
	chunk.Collectable
	afterRefs     func()
	beforeGetMany func()
}

func (h *hookStore) Refs(ctx context.Context) (map[string]chunk.Hash, error) {
	r, err := h.Collectable.Refs(ctx)
	if f := h.afterRefs; f != nil {
		h.afterRefs = nil
		f()
	}
	return r, err
}

func (h *hookStore) GetMany(ctx context.Context, hashes []chunk.Hash, found func(chunk.Chunk) error) error {
	if f := h.beforeGetMany; f != nil {
		h.beforeGetMany = nil
		f()
	}
	return h.Collectable.GetMany(ctx, hashes, found)
}

// waitUpTo waits for done, or gives up after d (the fixed code may hold the
// awaited goroutine off until the collection has moved on).
func waitUpTo(done <-chan struct{}, d time.Duration) {
	select {
	case <-done:
	case <-time.After(d):
	}
}

// TestGCCommitBetweenRefsAndLeases ensures that a transaction that commits
// and releases its lease while GC is reading the refs and the leases does
// not lose its new tree: GC either sees the new root in the refs or the
// lease that protects what the transaction wrote.
func TestGCCommitBetweenRefsAndLeases(t *testing.T) {
	eachStore(t, func(t *testing.T, s chunk.Collectable) {
		ctx := context.Background()
		old := chunktest.Opaque("old root")
		if err := s.Put(ctx, old); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateRefs(ctx, chunk.RefUpdate{Name: "main", New: old.Hash}); err != nil {
			t.Fatal(err)
		}
		// A transaction, following the contract: lease, put, update, release.
		lease := s.Leases().Acquire(old.Hash)
		leaf := chunktest.Opaque("new leaf")
		root := chunktest.Node("new root", leaf)
		if err := s.Put(ctx, leaf, root); err != nil {
			t.Fatal(err)
		}
		released := make(chan struct{})
		h := &hookStore{Collectable: s, afterRefs: func() {
			// GC has read the refs: the transaction commits and releases.
			if err := s.UpdateRefs(ctx, chunk.RefUpdate{Name: "main", Old: old.Hash, New: root.Hash}); err != nil {
				t.Error(err)
			}
			go func() { lease.Release(); close(released) }()
			waitUpTo(released, 100*time.Millisecond)
		}}
		if _, err := chunk.GC(ctx, h); err != nil {
			t.Fatalf("gc: %v", err)
		}
		<-released
		for _, c := range []chunk.Chunk{leaf, root} {
			if ok, err := s.Has(ctx, c.Hash); err != nil || !ok {
				t.Fatalf("chunk %q of the committed tree: has = %v, %v; want true", c.Data, ok, err)
			}
		}
	})
}

// TestGCConcurrentCollections ensures that two collections running at once
// do not make one of them fail: a chunk reachable from the refs the first
// read must not be deleted by the second while the first marks.
func TestGCConcurrentCollections(t *testing.T) {
	eachStore(t, func(t *testing.T, s chunk.Collectable) {
		ctx := context.Background()
		leaf := chunktest.Opaque("leaf")
		old := chunktest.Node("old root", leaf)
		if err := s.Put(ctx, leaf, old); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateRefs(ctx, chunk.RefUpdate{Name: "main", New: old.Hash}); err != nil {
			t.Fatal(err)
		}
		// A transaction writes the next root under a lease.
		lease := s.Leases().Acquire(old.Hash)
		next := chunktest.Opaque("next root")
		if err := s.Put(ctx, next); err != nil {
			t.Fatal(err)
		}
		var err2 error
		done2 := make(chan struct{})
		h := &hookStore{Collectable: s, beforeGetMany: func() {
			// The first collection has read main = old and starts marking.
			// The ref moves on and a second collection runs.
			if err := s.UpdateRefs(ctx, chunk.RefUpdate{Name: "main", Old: old.Hash, New: next.Hash}); err != nil {
				t.Error(err)
			}
			lease.Release()
			go func() { _, err2 = chunk.GC(ctx, s); close(done2) }()
			waitUpTo(done2, 200*time.Millisecond)
		}}
		if _, err := chunk.GC(ctx, h); err != nil {
			t.Errorf("first gc: %v", err)
		}
		<-done2
		if err2 != nil {
			t.Errorf("second gc: %v", err2)
		}
		if _, err := chunk.GC(ctx, s); err != nil {
			t.Fatalf("third gc: %v", err)
		}
		if ok, _ := s.Has(ctx, old.Hash); ok {
			t.Fatalf("old root not collected once no collection needs it")
		}
	})
}

// TestGetManyDuplicates ensures that GetMany calls found once for each hash
// the store holds even when the hash is asked for twice, as the disk store
// does.
func TestGetManyDuplicates(t *testing.T) {
	eachStore(t, func(t *testing.T, s chunk.Collectable) {
		ctx := context.Background()
		a := chunktest.Opaque("a")
		if err := s.Put(ctx, a); err != nil {
			t.Fatal(err)
		}
		calls := 0
		err := s.GetMany(ctx, []chunk.Hash{a.Hash, a.Hash, chunktest.Opaque("absent").Hash, a.Hash}, func(chunk.Chunk) error {
			calls++
			return nil
		})
		if err != nil || calls != 1 {
			t.Fatalf("get many of one chunk asked three times: %d calls, %v; want 1", calls, err)
		}
	})
}
