package diskstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/chunk/chunktest"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestEmptyUpdateRefsIsDurable ensures that, in a store without a journal,
// an UpdateRefs that changes no ref still makes the chunks put before it
// durable. (A journal makes durable what the refs reach: see
// TestJournalDurableReachable.)
func TestEmptyUpdateRefsIsDurable(t *testing.T) {
	ctx := context.Background()
	fs := vfs.NewCrashableMem()
	const dir = "/store"
	s, err := Open(dir, Options{fs: fs, CheckpointSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := chunktest.Opaque("put before an empty update")
	if err := s.Put(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateRefs(ctx); err != nil {
		t.Fatal(err)
	}
	crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0, RNG: rand.New(rand.NewPCG(1, 2))})
	s2, err := Open(dir, Options{fs: crashed})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if ok, err := s2.Has(ctx, c.Hash); err != nil || !ok {
		t.Fatalf("chunk put before a successful UpdateRefs, after a crash: has = %v, %v; want true", ok, err)
	}
}

// TestGetManyReadError ensures that a chunk Pebble cannot read (a damaged
// table block) makes the store's reads fail with a corruption error: not end
// the process (Pebble's default), and not skip the chunk as absent (a later
// seek clears the iterator's error).
func TestGetManyReadError(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openWith(t, dir, direct)
	rng := rand.New(rand.NewPCG(3, 4))
	var hashes []chunk.Hash
	for i := range 64 {
		data := make([]byte, 2048)
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		c := chunktest.Opaque(fmt.Sprint(i, string(data)))
		if err := s.Put(ctx, c); err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, c.Hash)
	}
	if err := s.db.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// The chunks' table is the largest (Open flushes a small one with the
	// store's own keys).
	tables, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
	var table string
	var size int64
	for _, name := range tables {
		if fi, err := os.Stat(name); err == nil && fi.Size() > size {
			table, size = name, fi.Size()
		}
	}
	if size < 64*2048 {
		t.Fatalf("largest table %s holds %d bytes, want the 64 chunks of 2 KB", table, size)
	}
	b, err := os.ReadFile(table)
	if err != nil {
		t.Fatal(err)
	}
	// Damage a data block in the middle of the table (the first holds the
	// store's own keys, the end the index).
	for i := len(b) / 2; i < len(b)/2+100; i++ {
		b[i] ^= 0xff
	}
	if err := os.WriteFile(table, b, 0o644); err != nil {
		t.Fatal(err)
	}
	s = openWith(t, dir, direct)
	bad := 0
	for _, h := range hashes {
		if _, err := s.Get(ctx, h); err != nil {
			if !errors.Is(err, chunk.ErrCorruption) {
				t.Fatalf("get of a damaged chunk = %v, want corruption", err)
			}
			bad++
		}
	}
	if bad == 0 || bad == len(hashes) {
		t.Fatalf("%d of %d chunks unreadable; the test needs some of each", bad, len(hashes))
	}
	got := 0
	err = s.GetMany(ctx, hashes, func(chunk.Chunk) error { got++; return nil })
	if !errors.Is(err, chunk.ErrCorruption) {
		t.Errorf("get many with %d damaged chunks = %v after %d delivered, want corruption", bad, err, got)
	}
	absent, err := s.HasMany(ctx, hashes)
	if !errors.Is(err, chunk.ErrCorruption) {
		t.Errorf("has many with %d damaged chunks = %d absent, %v; want corruption", bad, len(absent), err)
	}
	if err := chunk.Walk(ctx, s, hashes, nil, func(chunk.Hash, []byte) error { return nil }); !errors.Is(err, chunk.ErrCorruption) {
		t.Errorf("walk over damaged chunks = %v, want corruption", err)
	}
	for _, h := range hashes {
		if _, err := s.Has(ctx, h); err != nil && !errors.Is(err, chunk.ErrCorruption) {
			t.Errorf("has of a damaged chunk = %v, want corruption", err)
		}
	}
	err = s.ForEachChunk(ctx, func(chunk.Hash, uint64) error { return nil })
	if !errors.Is(err, chunk.ErrCorruption) {
		t.Errorf("for each chunk over damaged chunks = %v, want corruption", err)
	}
}
