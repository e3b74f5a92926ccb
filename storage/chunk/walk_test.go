package chunk_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/chunk/chunktest"
)

// TestWalk ensures Walk visits every reachable chunk once, honours skip, and
// reports missing and malformed chunks.
func TestWalk(t *testing.T) {
	ctx := context.Background()
	shared := chunktest.Opaque("shared")
	a := chunktest.Node("a", shared)
	b := chunktest.Node("b", shared, chunktest.Opaque("b leaf"))
	root := chunktest.Node("root", a, b)
	s := chunk.NewMemoryStore()
	if err := s.Put(ctx, shared, a, b, root, chunktest.Opaque("b leaf")); err != nil {
		t.Fatal(err)
	}
	walk := func(roots []chunk.Hash, skip func(chunk.Hash) bool) (map[chunk.Hash]int, error) {
		seen := make(map[chunk.Hash]int)
		err := chunk.Walk(ctx, s, roots, skip, func(h chunk.Hash, _ []byte) error {
			seen[h]++
			return nil
		})
		return seen, err
	}

	t.Run("all once", func(t *testing.T) {
		seen, err := walk([]chunk.Hash{root.Hash, a.Hash, {}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) != 5 {
			t.Fatalf("visited %d chunks, want 5", len(seen))
		}
		for h, n := range seen {
			if n != 1 {
				t.Fatalf("visited %s %d times", h, n)
			}
		}
	})
	t.Run("skip", func(t *testing.T) {
		seen, err := walk([]chunk.Hash{root.Hash}, func(h chunk.Hash) bool { return h == b.Hash })
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) != 3 || seen[b.Hash] != 0 {
			t.Fatalf("visited %v, want root, a and shared", seen)
		}
	})
	t.Run("missing", func(t *testing.T) {
		orphan := chunktest.Node("orphan", chunktest.Opaque("never stored"))
		if err := s.Put(ctx, orphan); err != nil {
			t.Fatal(err)
		}
		if _, err := walk([]chunk.Hash{orphan.Hash}, nil); !errors.Is(err, chunk.ErrNotFound) {
			t.Fatalf("walk = %v, want ErrNotFound", err)
		}
	})
	t.Run("malformed", func(t *testing.T) {
		bad := chunk.New([]byte{9, 9, 9})
		if err := s.Put(ctx, bad); err != nil {
			t.Fatal(err)
		}
		if _, err := walk([]chunk.Hash{bad.Hash}, nil); !errors.Is(err, chunk.ErrCorruption) {
			t.Fatalf("walk = %v, want ErrCorruption", err)
		}
	})
}
