package diskstore

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
)

// Commits from many goroutines, with a checkpoint every few records: each
// group's record is written while the one before it syncs, and the
// journal starts over under callers still waiting for records of the
// epoch before. Every acknowledged update is in the refs, before and after
// reopening, and the refs never go back.
func TestPipelinedSyncs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openWith(t, dir, Options{CheckpointSize: 8 << 10})
	// Some leaders wait for their sync only after later groups have
	// written, synced and checkpointed.
	var n atomic.Int64
	testHookPipelined = func() {
		if n.Add(1)%3 == 0 {
			time.Sleep(2 * time.Millisecond)
		}
	}
	defer func() { testHookPipelined = nil }()
	const writers, commits = 8, 150
	final := make([]chunk.Hash, writers)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("refs/heads/w%d", w)
			var prev chunk.Hash
			for i := range commits {
				c := chunk.New([]byte(fmt.Sprintf("%s commit %d %0400d", name, i, i)))
				if err := s.Put(ctx, c); err != nil {
					errs <- err
					return
				}
				if err := s.UpdateRefs(ctx, chunk.RefUpdate{Name: name, Old: prev, New: c.Hash}); err != nil {
					errs <- fmt.Errorf("%s, commit %d: %w", name, i, err)
					return
				}
				refs, err := s.Refs(ctx)
				if err != nil {
					errs <- err
					return
				}
				if refs[name] != c.Hash {
					errs <- fmt.Errorf("%s, commit %d: acknowledged, but the refs hold %s", name, i, refs[name])
					return
				}
				prev = c.Hash
			}
			final[w] = prev
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if s.checkpoints.Load() == 0 || n.Load() == 0 {
		t.Fatalf("%d checkpoints and %d pipelined groups during the commits", s.checkpoints.Load(), n.Load())
	}
	check := func(s *Store) {
		t.Helper()
		refs, err := s.Refs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for w, h := range final {
			if name := fmt.Sprintf("refs/heads/w%d", w); refs[name] != h {
				t.Errorf("%s = %s, want %s", name, refs[name], h)
			}
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir)
	defer s.Close()
	check(s)
}
