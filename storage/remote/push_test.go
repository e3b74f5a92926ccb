package remote

import (
	"context"
	"sync"
	"testing"

	"github.com/cairndb/cairn/storage/chunk"
)

func TestPushAndFetch(t *testing.T) {
	ctx := context.Background()
	src := newTestDB()
	m1 := src.build(t, "refs/heads/main", 5000)
	d := Memory(t.Name())
	// ancestry for the test: a → b if b was made from a
	parent := map[chunk.Hash]chunk.Hash{}
	isAncestor := func(_ context.Context, a, b chunk.Hash) (bool, error) {
		for h := b; !h.IsZero(); h = parent[h] {
			if h == a {
				return true, nil
			}
		}
		return false, nil
	}
	push := func(ref string, h chunk.Hash, force bool) PushStats {
		t.Helper()
		st, err := Push(ctx, src.cs, d, []RefPush{{Ref: ref, New: h, Force: force}}, PushOptions{IsAncestor: isAncestor})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	st := push("refs/heads/main", m1.Hash(), false)
	if st.Results[0].Status != "new" || st.Chunks == 0 {
		t.Fatalf("first push: %+v", st)
	}
	if st := push("refs/heads/main", m1.Hash(), false); st.Results[0].Status != "up-to-date" || st.Uploaded != 0 {
		t.Fatalf("push of the same value: %+v", st)
	}
	src.edit(t, "refs/heads/main", 10, 1)
	h2 := mustRef(t, src, "refs/heads/main")
	parent[h2] = m1.Hash()
	st = push("refs/heads/main", h2, false)
	if st.Results[0].Status != "fast-forward" || st.Uploaded > 64<<10 {
		t.Fatalf("fast-forward push: %+v", st)
	}
	// A value not descending from the remote's is rejected, and the
	// remote keeps its ref; with force it goes through.
	other := src.build(t, "refs/heads/other", 100)
	if st := push("refs/heads/main", other.Hash(), false); st.Results[0].Status != "rejected" {
		t.Fatalf("non-fast-forward push: %+v", st)
	}
	got, _, err := Fetch(ctx, d, chunk.NewMemoryStore(), nil, nil)
	if err != nil || got["refs/heads/main"] != h2 {
		t.Fatalf("remote after a rejected push: %v, %v", got, err)
	}
	if st := push("refs/heads/main", other.Hash(), true); st.Results[0].Status != "forced" {
		t.Fatalf("forced push: %+v", st)
	}
	push("refs/heads/feature", h2, false)
	if st := push("refs/heads/feature", chunk.Hash{}, false); st.Results[0].Status != "deleted" {
		t.Fatalf("delete: %+v", st)
	}
	// Fetch into an empty store: the refs, and every chunk they reach.
	dst := chunk.NewMemoryStore()
	refs, fst, err := Fetch(ctx, d, dst, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 1 || refs["refs/heads/main"] != other.Hash() || fst.Chunks == 0 {
		t.Fatalf("fetch: %v %+v", refs, fst)
	}
	if err := chunk.Walk(ctx, dst, []chunk.Hash{other.Hash()}, nil, func(h chunk.Hash, data []byte) error { return chunk.Verify(h, data) }); err != nil {
		t.Fatalf("fetched store: %v", err)
	}
	// A second fetch copies nothing.
	if _, fst, err := Fetch(ctx, d, dst, nil, nil); err != nil || fst.Chunks != 0 {
		t.Fatalf("second fetch: %+v %v", fst, err)
	}
}

func TestConcurrentPushes(t *testing.T) {
	// Two pushes of different histories to one ref: exactly one wins, the
	// other is rejected as non-fast-forward; the remote holds the winner.
	ctx := context.Background()
	for round := range 5 {
		d := Memory(t.Name() + string(rune('a'+round)))
		a, b := newTestDB(), newTestDB()
		ma := a.build(t, "refs/heads/main", 2000+round)
		mb := b.build(t, "refs/heads/main", 3000+round)
		never := func(context.Context, chunk.Hash, chunk.Hash) (bool, error) { return false, nil }
		var wg sync.WaitGroup
		results := make([]string, 2)
		for i, db := range []*testDB{a, b} {
			h := []chunk.Hash{ma.Hash(), mb.Hash()}[i]
			wg.Add(1)
			go func() {
				defer wg.Done()
				st, err := Push(ctx, db.cs, d, []RefPush{{Ref: "refs/heads/main", New: h}}, PushOptions{IsAncestor: never, PackSize: 16 << 10})
				if err != nil {
					t.Error(err)
					return
				}
				results[i] = st.Results[0].Status
			}()
		}
		wg.Wait()
		refs, _, err := Fetch(ctx, d, chunk.NewMemoryStore(), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		winner := refs["refs/heads/main"]
		switch {
		case results[0] == "new" && results[1] == "rejected" && winner == ma.Hash():
		case results[1] == "new" && results[0] == "rejected" && winner == mb.Hash():
		default:
			t.Fatalf("round %d: results %v, remote at %s (a %s, b %s)", round, results, winner, ma.Hash(), mb.Hash())
		}
		if _, err := Verify(ctx, d, nil); err != nil {
			t.Fatal(err)
		}
	}
}
