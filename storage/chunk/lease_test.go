package chunk_test

import (
	"context"
	"testing"

	"github.com/cairndb/cairn/storage/chunk"
)

// A lease taken with AcquireRefs keeps what the refs named when it was
// taken, after the refs move on, until it is released.
func TestAcquireRefsKeepsOldValues(t *testing.T) {
	ctx := context.Background()
	s := chunk.NewMemoryStore()
	old := chunk.New(chunk.Encode(chunk.KindOpaque, nil, []byte("old")))
	cur := chunk.New(chunk.Encode(chunk.KindOpaque, nil, []byte("new")))
	if err := s.Put(ctx, old, cur); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateRefs(ctx, chunk.RefUpdate{Name: "main", New: old.Hash}); err != nil {
		t.Fatal(err)
	}
	refs, lease, err := s.Leases().AcquireRefs(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if refs["main"] != old.Hash {
		t.Fatalf("refs = %v", refs)
	}
	if err := s.UpdateRefs(ctx, chunk.RefUpdate{Name: "main", Old: old.Hash, New: cur.Hash}); err != nil {
		t.Fatal(err)
	}
	if _, err := chunk.GC(ctx, s); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Has(ctx, old.Hash); !ok {
		t.Fatal("GC deleted a chunk a live lease took from the refs")
	}
	lease.Release()
	if _, err := chunk.GC(ctx, s); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Has(ctx, old.Hash); ok {
		t.Fatal("GC kept an unreachable chunk after its lease was released")
	}
	if ok, _ := s.Has(ctx, cur.Hash); !ok {
		t.Fatal("GC deleted the chunk the ref names")
	}
}
