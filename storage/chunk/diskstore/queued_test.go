package diskstore

import (
	"context"
	"errors"
	"testing"

	"github.com/cairndb/cairn/storage/chunk"
)

// Updates queued one on top of another before any is waited on are
// carried out in order; one whose Old is stale is refused alone.
func TestUpdateRefsQueuedChains(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	var hs []chunk.Hash
	for _, d := range []string{"a", "b", "c"} {
		c := chunk.New([]byte(d))
		if err := s.Put(ctx, c); err != nil {
			t.Fatal(err)
		}
		hs = append(hs, c.Hash)
	}
	w1 := s.UpdateRefsQueued(ctx, chunk.RefUpdate{Name: "r", New: hs[0]})
	w2 := s.UpdateRefsQueued(ctx, chunk.RefUpdate{Name: "r", Old: hs[0], New: hs[1]})
	w3 := s.UpdateRefsQueued(ctx, chunk.RefUpdate{Name: "r", Old: hs[0], New: hs[2]}) // stale
	if err := w1(); err != nil {
		t.Fatal(err)
	}
	if err := w2(); err != nil {
		t.Fatal(err)
	}
	if err := w3(); !errors.Is(err, chunk.ErrRefConflict) {
		t.Fatalf("stale queued update: %v", err)
	}
	s.Close()
	s = open(t, dir)
	if h, ok, err := chunk.GetRef(ctx, s, "r"); err != nil || !ok || h != hs[1] {
		t.Fatalf("after reopening: %v %v %v, want %v", h, ok, err, hs[1])
	}
}
