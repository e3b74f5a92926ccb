package diskstore

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/chunk/chunktest"
	"github.com/cockroachdb/pebble/v2"
)

func open(t *testing.T, dir string) *Store {
	t.Helper()
	return openWith(t, dir, Options{})
}

// direct is the options of a store without a journal: every Put reaches
// Pebble at once, for tests that look at or damage what Pebble holds.
var direct = Options{CheckpointSize: -1}

func openWith(t *testing.T, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestConformance runs the store conformance suite against Store.
func TestConformance(t *testing.T) {
	t.Run("journal", func(t *testing.T) {
		chunktest.RunStoreTests(t, func(t *testing.T) chunk.Collectable {
			return open(t, t.TempDir())
		})
	})
	t.Run("small checkpoints", func(t *testing.T) {
		chunktest.RunStoreTests(t, func(t *testing.T) chunk.Collectable {
			return openWith(t, t.TempDir(), Options{CheckpointSize: 1 << 10})
		})
	})
	t.Run("direct", func(t *testing.T) {
		chunktest.RunStoreTests(t, func(t *testing.T) chunk.Collectable {
			return openWith(t, t.TempDir(), direct)
		})
	})
}

// TestReopen ensures that chunks, refs and the generation survive Close and
// Open, and that leases start at the persisted generation.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	leaf := chunktest.Opaque(strings.Repeat("compressible ", 100))
	root := chunktest.Node("root", leaf)
	if err := s.Put(ctx, leaf, root); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateRefs(ctx, chunk.RefUpdate{Name: "refs/heads/main", New: root.Hash}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := s.AdvanceGeneration(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, dir)
	if g := s.Leases().Generation(); g != 3 {
		t.Fatalf("generation after reopen = %d, want 3", g)
	}
	h, ok, err := chunk.GetRef(ctx, s, "refs/heads/main")
	if err != nil || !ok || h != root.Hash {
		t.Fatalf("ref after reopen = %s, %v, %v; want %s", h, ok, err, root.Hash)
	}
	if err := s.Check(ctx); err != nil {
		t.Fatalf("check after reopen: %v", err)
	}
	if g, err := s.AdvanceGeneration(ctx); err != nil || g != 4 {
		t.Fatalf("advance after reopen = %d, %v; want 4", g, err)
	}
}

// TestCompression ensures that a chunk is stored compressed only when that
// saves space.
func TestCompression(t *testing.T) {
	ctx := context.Background()
	s := openWith(t, t.TempDir(), direct)
	cases := []struct {
		name  string
		data  []byte
		codec byte
	}{
		{"short", []byte("short"), codecRaw},
		{"repetitive", []byte(strings.Repeat("abc", 1000)), codecSnappy},
		{"incompressible", func() []byte {
			var b []byte
			for i := range 200 {
				h := chunk.Of([]byte{byte(i)})
				b = append(b, h[:]...)
			}
			return b
		}(), codecRaw},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := chunk.New(tc.data)
			if err := s.Put(ctx, c); err != nil {
				t.Fatal(err)
			}
			v, closer, err := s.db.Get(chunkKey(c.Hash))
			if err != nil {
				t.Fatal(err)
			}
			defer closer.Close()
			if v[0] != tc.codec {
				t.Fatalf("codec = %d, want %d", v[0], tc.codec)
			}
			if tc.codec == codecSnappy && len(v) >= len(tc.data) {
				t.Fatalf("compressed value of %d bytes for %d bytes of data", len(v), len(tc.data))
			}
		})
	}
}

// TestCorruption ensures that damaged values and missing reachable chunks
// are reported as corruption or absence naming the chunk, never a panic.
func TestCorruption(t *testing.T) {
	ctx := context.Background()
	leaf := chunktest.Opaque(strings.Repeat("leaf ", 50))
	root := chunktest.Node("root", leaf)
	cases := []struct {
		name  string
		value func(good []byte) []byte // nil: delete the leaf
		want  error
	}{
		{"flipped byte", func(v []byte) []byte { v[len(v)-1] ^= 1; return v }, chunk.ErrCorruption},
		{"unknown codec", func(v []byte) []byte { v[0] = 9; return v }, chunk.ErrCorruption},
		{"truncated", func(v []byte) []byte { return v[:1] }, chunk.ErrCorruption},
		{"bad snappy", func(v []byte) []byte { v[0] = codecSnappy; return append(v[:2], 0xff, 0xff, 0xff) }, chunk.ErrCorruption},
		{"missing", nil, chunk.ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := openWith(t, t.TempDir(), direct)
			if err := s.Put(ctx, leaf, root); err != nil {
				t.Fatal(err)
			}
			if err := s.UpdateRefs(ctx, chunk.RefUpdate{Name: "main", New: root.Hash}); err != nil {
				t.Fatal(err)
			}
			key := chunkKey(leaf.Hash)
			if tc.value == nil {
				err := s.db.Delete(key, pebble.Sync)
				if err != nil {
					t.Fatal(err)
				}
			} else {
				v, closer, err := s.db.Get(key)
				if err != nil {
					t.Fatal(err)
				}
				bad := tc.value(append([]byte(nil), v...))
				closer.Close()
				if err := s.db.Set(key, bad, pebble.Sync); err != nil {
					t.Fatal(err)
				}
			}
			_, err := s.Get(ctx, leaf.Hash)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), leaf.Hash.String()) {
				t.Fatalf("get = %v, want %v naming %s", err, tc.want, leaf.Hash)
			}
			err = s.GetMany(ctx, []chunk.Hash{leaf.Hash}, func(chunk.Chunk) error { return nil })
			if tc.value != nil && !errors.Is(err, tc.want) {
				t.Fatalf("get many = %v, want %v", err, tc.want)
			}
			err = s.Check(ctx)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), leaf.Hash.String()) {
				t.Fatalf("check = %v, want %v naming %s", err, tc.want, leaf.Hash)
			}
		})
	}
}

// TestLocked ensures that a store cannot be opened twice at once.
func TestLocked(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	_, err := Open(dir, Options{})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second open = %v, want ErrLocked", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	s2.Close()
}

// TestFormat ensures that Open refuses a store of an unknown format version
// and a Pebble database that is not a cairn store.
func TestFormat(t *testing.T) {
	t.Run("unknown version", func(t *testing.T) {
		dir := t.TempDir()
		s := open(t, dir)
		if err := s.db.Set(keyFormat, []byte("cairn-store 99"), pebble.Sync); err != nil {
			t.Fatal(err)
		}
		s.Close()
		_, err := Open(dir, Options{})
		if !errors.Is(err, ErrUnknownFormat) || !strings.Contains(err.Error(), "cairn-store 99") {
			t.Fatalf("open = %v, want ErrUnknownFormat naming the version", err)
		}
	})
	t.Run("foreign database", func(t *testing.T) {
		dir := t.TempDir()
		db, err := pebble.Open(dir, &pebble.Options{Logger: quietLogger{}})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Set([]byte("hello"), []byte("world"), pebble.Sync); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if _, err := Open(dir, Options{}); !errors.Is(err, ErrUnknownFormat) {
			t.Fatalf("open = %v, want ErrUnknownFormat", err)
		}
	})
	t.Run("not a directory", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(file, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(file, Options{}); err == nil || errors.Is(err, ErrLocked) {
			t.Fatalf("open of a file = %v, want an error other than ErrLocked", err)
		}
	})
}

// TestCorruptMetadata ensures that garbage where the store keeps its own
// bookkeeping (Pebble's MANIFEST, a ref's value, the generation) makes Open
// fail with a corruption error naming the store, never a panic or an empty
// store.
func TestCorruptMetadata(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) string {
		dir := t.TempDir()
		s := open(t, dir)
		c := chunktest.Opaque("payload")
		if err := s.Put(ctx, c); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateRefs(ctx, chunk.RefUpdate{Name: "refs/heads/main", New: c.Hash}); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	t.Run("manifest garbage", func(t *testing.T) {
		dir := setup(t)
		s, err := Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		manifests, _ := filepath.Glob(filepath.Join(dir, "MANIFEST-*"))
		if len(manifests) == 0 {
			t.Fatal("no MANIFEST file")
		}
		for _, m := range manifests {
			if err := os.WriteFile(m, []byte(strings.Repeat("garbage!", 64)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		_, err = Open(dir, Options{})
		if !errors.Is(err, chunk.ErrCorruption) || !strings.Contains(err.Error(), dir) {
			t.Fatalf("open = %v, want corruption naming %s", err, dir)
		}
	})
	for _, tc := range []struct {
		name  string
		key   []byte
		value []byte
	}{
		{"ref value garbage", refKey("refs/heads/main"), []byte("garbage")},
		{"generation garbage", keyGen, []byte{0xff, 0xff}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := setup(t)
			s, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.db.Set(tc.key, tc.value, pebble.Sync); err != nil {
				t.Fatal(err)
			}
			s.Close()
			_, err = Open(dir, Options{})
			if !errors.Is(err, chunk.ErrCorruption) || !strings.Contains(err.Error(), dir) {
				t.Fatalf("open = %v, want corruption naming %s", err, dir)
			}
		})
	}
}

// Stores opened with one Cache share it: what one reads counts against the
// budget both see, each reads only its own chunks, and the cache outlives
// the creator's Close for as long as a store uses it.
func TestSharedCache(t *testing.T) {
	ctx := context.Background()
	cache := NewCache(8 << 20)
	opts := Options{Cache: cache, CheckpointSize: -1} // straight to Pebble: reads go through the cache
	a := openWith(t, t.TempDir(), opts)
	b := openWith(t, t.TempDir(), opts)
	cache.Close()

	ca := chunktest.Opaque(strings.Repeat("a", 64<<10))
	cb := chunktest.Opaque(strings.Repeat("b", 64<<10))
	if err := a.Put(ctx, ca); err != nil {
		t.Fatal(err)
	}
	if err := b.Put(ctx, cb); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Store{a, b} {
		if err := s.db.Flush(); err != nil { // reads then come from a table, through the cache
			t.Fatal(err)
		}
	}
	if ok, err := b.Has(ctx, ca.Hash); err != nil || ok {
		t.Fatalf("b has a's chunk: %v, %v", ok, err)
	}
	before := a.db.Metrics().BlockCache.Size
	if got, err := b.Get(ctx, cb.Hash); err != nil || !bytes.Equal(got, cb.Data) {
		t.Fatalf("b reads its chunk: %v", err)
	}
	if after := a.db.Metrics().BlockCache.Size; after <= before {
		t.Fatalf("a's cache held %d bytes before b read, %d after: the cache is not shared", before, after)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if got, err := a.Get(ctx, ca.Hash); err != nil || !bytes.Equal(got, ca.Data) {
		t.Fatalf("a reads its chunk after b closed: %v", err)
	}
}

// PutOwned keeps the caller's bytes in the journal's overlay; Put copies
// them, so a caller reusing its buffer after Put changes nothing stored. A
// chunk put either way reads back whole and reaches Pebble at a checkpoint.
func TestPutOwned(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	buf := []byte("reused buffer")
	copied := chunk.New(buf)
	if err := s.Put(ctx, copied); err != nil {
		t.Fatal(err)
	}
	copy(buf, "XXXXXXXXXXXXX")
	owned := chunk.New([]byte("owned bytes"))
	if err := s.PutOwned(ctx, owned); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		for _, c := range []chunk.Chunk{copied, owned} {
			got, err := s.Get(ctx, c.Hash)
			if err != nil {
				t.Fatalf("%s: get %s: %v", when, c.Hash, err)
			}
			if c.Hash == copied.Hash && string(got) != "reused buffer" || c.Hash == owned.Hash && string(got) != "owned bytes" {
				t.Fatalf("%s: get %s = %q", when, c.Hash, got)
			}
		}
	}
	check("in the overlay")
	if err := s.UpdateRefs(ctx, chunk.RefUpdate{Name: "a", New: copied.Hash}, chunk.RefUpdate{Name: "b", New: owned.Hash}); err != nil {
		t.Fatal(err)
	}
	if err := checkpointNow(s); err != nil {
		t.Fatal(err)
	}
	check("after a checkpoint")
}

// HasMany remembers a few chunks it found in Pebble (presentCache), and
// forgets them when DeleteChunks removes chunks: a deleted chunk is
// reported absent at the next call.
func TestHasManyAfterDelete(t *testing.T) {
	ctx := context.Background()
	s := openWith(t, t.TempDir(), direct) // every Put goes to Pebble
	a, b := chunk.New([]byte("staged root")), chunk.New([]byte("collected"))
	if err := s.Put(ctx, a, b); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ { // the first call fills the cache, the others read it
		if absent, err := s.HasMany(ctx, []chunk.Hash{a.Hash, b.Hash}); err != nil || len(absent) != 0 {
			t.Fatalf("call %d: absent %v, %v", i, absent, err)
		}
	}
	gen, err := s.AdvanceGeneration(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteChunks(ctx, []chunk.Hash{b.Hash}, gen); err != nil || n != 1 {
		t.Fatalf("deleted %d, %v", n, err)
	}
	absent, err := s.HasMany(ctx, []chunk.Hash{a.Hash, b.Hash})
	if err != nil {
		t.Fatal(err)
	}
	if len(absent) != 1 || !absent.Has(b.Hash) {
		t.Fatalf("after deleting %s: absent %v", b.Hash, absent.Sorted())
	}
	if ok, err := s.Has(ctx, a.Hash); err != nil || !ok {
		t.Fatalf("has %s: %v, %v", a.Hash, ok, err)
	}
}

// A lookup that began before a deletion adds nothing to the cache.
func TestPresentCacheEpoch(t *testing.T) {
	var p presentCache
	h := chunk.New([]byte("x")).Hash
	rest, epoch := p.lacking([]chunk.Hash{h})
	if len(rest) != 1 {
		t.Fatalf("empty cache: lacking %v", rest)
	}
	p.forget() // a deletion while the lookup ran
	p.add(rest, epoch)
	if rest, _ := p.lacking([]chunk.Hash{h}); len(rest) != 1 {
		t.Fatal("a lookup from before a deletion was remembered")
	}
	rest, epoch = p.lacking([]chunk.Hash{h})
	p.add(rest, epoch)
	if rest, _ := p.lacking([]chunk.Hash{h}); len(rest) != 0 {
		t.Fatalf("not remembered: lacking %v", rest)
	}
}
