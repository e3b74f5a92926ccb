package diskstore

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
)

// After deleting most chunks, Compact gives their space back.
func TestCompactFreesDeletedChunks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	// Without a journal, so that the chunks reach Pebble when Put.
	s, err := Open(dir, Options{CheckpointSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var hashes []chunk.Hash
	for i := 0; i < 64; i++ {
		batch := make([]chunk.Chunk, 64)
		for j := range batch {
			data := make([]byte, 4096)
			rand.Read(data) // incompressible
			batch[j] = chunk.New(data)
			hashes = append(hashes, batch[j].Hash)
		}
		if err := s.Put(ctx, batch...); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.UpdateRefs(ctx); err != nil { // sync
		t.Fatal(err)
	}
	gen, err := s.AdvanceGeneration(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	before := dirSize(t, dir)
	keep := hashes[:len(hashes)/16]
	if n, err := s.DeleteChunks(ctx, hashes[len(keep):], gen); err != nil || n != len(hashes)-len(keep) {
		t.Fatalf("deleted %d, %v", n, err)
	}
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	// Pebble removes the replaced table files in the background.
	after := dirSize(t, dir)
	for deadline := time.Now().Add(5 * time.Second); after > before/2 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		after = dirSize(t, dir)
	}
	if after > before/2 {
		t.Errorf("directory %d bytes before deleting 15/16 of the chunks, %d after compacting", before, after)
	}
	for _, h := range keep {
		if _, err := s.Get(ctx, h); err != nil {
			t.Fatalf("kept chunk %v: %v", h, err)
		}
	}
}

// dirSize is the size of dir's table files (the write-ahead log shrinks
// on its own schedule).
func dirSize(t *testing.T, dir string) int64 {
	var n int64
	filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && filepath.Ext(path) == ".sst" {
			n += fi.Size()
		}
		return nil
	})
	return n
}
