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

// TestSnapshotAfterQuietCrash snapshots a store whose Pebble found no log
// to replay when it opened: the files a kill leaves between the flush
// Pebble's Open makes and the log it creates next. Pebble then writes no
// manifest of its own until its next flush, and its checkpoints copy the
// current manifest up to the size it has written. The snapshot must still
// open with every chunk.
func TestSnapshotAfterQuietCrash(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	leaf := chunktest.Opaque("leaf")
	root := chunktest.Node("root", leaf)
	if err := s.Put(ctx, leaf, root); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateRefs(ctx, chunk.RefUpdate{Name: "refs/heads/main", New: root.Hash}); err != nil {
		t.Fatal(err)
	}
	// The journal's records go to Pebble, then to a table.
	if err := s.exclusive(ctx, func() error { return s.checkpoint(false) }); err != nil {
		t.Fatal(err)
	}
	// The crash: the tables and the manifest as they are after a flush,
	// no log. (Copied once the store is closed, so that no compaction
	// removes a table meanwhile; the log Close leaves holds nothing.)
	if err := s.db.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	crashed := filepath.Join(t.TempDir(), "crashed")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() && e.Name() != "LOCK" && !strings.HasSuffix(e.Name(), ".log") {
			names = append(names, e.Name())
		}
	}
	copyFiles(t, dir, crashed, names)

	s = open(t, crashed)
	defer s.Close()
	snap, err := s.SnapshotFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	cp := filepath.Join(t.TempDir(), "copy")
	copyFiles(t, snap.Dir, cp, snap.Files)
	c, err := Open(cp, direct)
	if err != nil {
		t.Fatalf("open the copy: %v", err)
	}
	defer c.Close()
	if h, ok, err := chunk.GetRef(ctx, c, "refs/heads/main"); err != nil || !ok || h != root.Hash {
		t.Fatalf("copy: main = %s, %v, %v; want %s", h, ok, err, root.Hash)
	}
	if err := c.Check(ctx); err != nil {
		t.Fatalf("check the copy: %v", err)
	}
}
