package diskstore

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/chunk/chunktest"
)

// copyFiles copies the named files of src into a new directory dst.
func copyFiles(t *testing.T, src, dst string, names []string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		in, err := os.Open(filepath.Join(src, n))
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dst, n))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			t.Fatal(err)
		}
		in.Close()
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSnapshotFiles takes a file snapshot of a journaled store while
// commits run, and opens a copy of its files as a store: it holds exactly
// the refs the snapshot reported and every chunk they reach.
func TestSnapshotFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	// A small checkpoint size: commits of a leaf of 3 KB go to Pebble
	// directly, and Puts while the overlay is full too, while snapshots
	// are taken.
	s := openWith(t, dir, Options{CheckpointSize: 4 << 10})

	var roots []chunk.Hash
	commit := func(name string, i int) chunk.Hash {
		leaf := chunktest.Opaque(fmt.Sprintf("leaf %s %d %s", name, i, strings.Repeat("x", 3000)))
		root := chunktest.Node(fmt.Sprintf("root %s %d", name, i), leaf)
		if err := s.Put(ctx, leaf, root); err != nil {
			t.Error(err)
		}
		old, _, _ := chunk.GetRef(ctx, s, name)
		if err := s.UpdateRefs(ctx, chunk.RefUpdate{Name: name, Old: old, New: root.Hash}); err != nil {
			t.Error(err)
		}
		return root.Hash
	}
	for i := range 20 {
		roots = append(roots, commit(fmt.Sprintf("refs/heads/b%d", i), 0))
	}

	// Writers keep committing while snapshots are taken.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				commit(fmt.Sprintf("refs/heads/w%d", w), i)
			}
		}()
	}
	var snaps []*chunk.FileSnapshot
	for range 3 {
		snap, err := s.SnapshotFiles(ctx)
		if err != nil {
			t.Fatal(err)
		}
		snaps = append(snaps, snap)
	}
	close(stop)
	wg.Wait()

	for i, snap := range snaps {
		if len(snap.Refs) < 20 {
			t.Fatalf("snapshot %d has %d refs, want at least 20", i, len(snap.Refs))
		}
		cp := filepath.Join(t.TempDir(), "copy")
		copyFiles(t, snap.Dir, cp, snap.Files)
		c, err := Open(cp, direct)
		if err != nil {
			t.Fatalf("open the copy of snapshot %d: %v", i, err)
		}
		got, err := c.Refs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(snap.Refs) {
			t.Fatalf("copy %d has %d refs, the snapshot reported %d", i, len(got), len(snap.Refs))
		}
		for name, h := range snap.Refs {
			if got[name] != h {
				t.Fatalf("copy %d: ref %s = %s, want %s", i, name, got[name], h)
			}
		}
		if err := c.Check(ctx); err != nil {
			t.Fatalf("check the copy of snapshot %d: %v", i, err)
		}
		for _, h := range roots {
			if ok, err := c.Has(ctx, h); err != nil || !ok {
				t.Fatalf("copy %d lacks root %s (%v)", i, h, err)
			}
		}
		c.Close()
		if err := snap.Release(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(snap.Dir); !os.IsNotExist(err) {
			t.Fatalf("released snapshot still there: %v", err)
		}
	}

	// A snapshot left behind by a crash is removed at the next open.
	snap, err := s.SnapshotFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir)
	if _, err := os.Stat(snap.Dir); !os.IsNotExist(err) {
		t.Fatalf("snapshot left by a crash still there after open: %v", err)
	}
}
