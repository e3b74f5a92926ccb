package tree

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cairndb/cairn/storage/chunk"
)

// The encoding of nodes and blobs is pinned: a change to these hashes is a
// change of the on-disk format and must come with a new format version.
func TestGoldenHashes(t *testing.T) {
	ctx := context.Background()
	ns, _ := newTestNodeStore(t, true)
	b := NewBuilder(ns)
	for i := 0; i < 20_000; i++ {
		if err := b.Add(ctx, key(i), val(i)); err != nil {
			t.Fatal(err)
		}
	}
	big := make([]byte, 100_000)
	for i := range big {
		big[i] = byte(i * 7 % 251)
	}
	if err := b.Add(ctx, []byte("zz-big"), big); err != nil {
		t.Fatal(err)
	}
	m, err := b.Finish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		got  chunk.Hash
		want string
	}{
		{"empty map", EmptyMapHash, "me24cd3m5m70el3jvgedet6gu98sck9e"},
		{"20k entries and a blob", m.Hash(), "eh2oifebh3fdsb7bmtllg81l1omfsm14"},
	} {
		if tc.got.String() != tc.want {
			t.Errorf("%s: hash %s, want %s", tc.name, tc.got, tc.want)
		}
	}
}

// A node whose bytes are damaged is reported as corruption naming the chunk,
// never a panic or wrong data.
func TestCorruptNodes(t *testing.T) {
	ctx := context.Background()
	ns, cs := newTestNodeStore(t, false)
	o := oracle{}
	for i := 0; i < 5000; i++ {
		o[string(key(i))] = string(val(i))
	}
	m := buildFromOracle(t, ns, o)
	rootData, err := cs.Get(ctx, m.Hash())
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{
		"truncated":     rootData[:len(rootData)/2],
		"empty":         {},
		"wrong kind":    chunk.Encode(chunk.KindCommit, nil, nil),
		"garbage":       []byte("\x01\x02\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff"),
		"trailing byte": append(append([]byte(nil), rootData...), 0),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			bad := chunk.Of(append([]byte("bad "), data...))
			// Store the bytes under a hash of our choosing, as a corrupt
			// disk or a lying peer would.
			if err := cs.Put(ctx, chunk.Chunk{Hash: bad, Data: data}); err != nil {
				t.Fatal(err)
			}
			_, err := LoadMap(ctx, ns, bad)
			if !errors.Is(err, chunk.ErrCorruption) {
				t.Fatalf("LoadMap of %s node: %v, want corruption", name, err)
			}
			if want := bad.String(); err != nil && !strings.Contains(err.Error(), want) {
				t.Fatalf("error %q does not name chunk %s", err, want)
			}
		})
	}
}

// FuzzDecodeNode feeds arbitrary bytes to the node decoder: it must return a
// node or a corruption error, never panic, and a node it accepts must be
// safe to read.
func FuzzDecodeNode(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := decodeNode(chunk.Of(data), data)
		if err != nil {
			if !errors.Is(err, chunk.ErrCorruption) {
				t.Fatalf("error %v is not a corruption error", err)
			}
			return
		}
		for i := 0; i < n.count(); i++ {
			_ = n.key(i)
			_ = n.val(i)
		}
		_ = n.treeCount()
	})
}

// FuzzReadBlob feeds arbitrary bytes as a blob chunk.
func FuzzReadBlob(f *testing.F) {
	f.Add(chunk.Encode(chunk.KindBlobLeaf, nil, []byte("hello")), uint64(5))
	f.Add(chunk.Encode(chunk.KindBlobInternal, []chunk.Hash{{1}}, []byte{1, 5}), uint64(5))
	f.Fuzz(func(t *testing.T, data []byte, size uint64) {
		cs := chunk.NewMemoryStore()
		c := chunk.New(data)
		if err := cs.Put(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		_, err := readBlob(context.Background(), cs, c.Hash, size)
		if err != nil && !errors.Is(err, chunk.ErrCorruption) && !errors.Is(err, chunk.ErrNotFound) {
			t.Fatalf("error %v is neither corruption nor not-found", err)
		}
	})
}

// fuzzSeeds returns real node chunks: a leaf, an internal node, an empty leaf,
// and a leaf with an out-of-line value.
func fuzzSeeds(tb testing.TB) [][]byte {
	ctx := context.Background()
	ns, cs := newTestNodeStore(tb, false)
	var seeds [][]byte
	b := NewBuilder(ns)
	for i := 0; i < 2000; i++ {
		if err := b.Add(ctx, key(i), val(i)); err != nil {
			tb.Fatal(err)
		}
	}
	if err := b.Add(ctx, []byte("zz"), make([]byte, 5000)); err != nil {
		tb.Fatal(err)
	}
	m, err := b.Finish(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	root, _ := cs.Get(ctx, m.Hash())
	seeds = append(seeds, root, encodeNode(0, nil))
	it, _ := m.Iter(ctx, Range{Start: []byte("zz")})
	if _, _, err := it.Next(ctx); err == nil {
		seeds = append(seeds, mustGet(tb, cs, it.c.nodes[0].hash))
	}
	it, _ = m.Iter(ctx, Range{})
	if _, _, err := it.Next(ctx); err == nil {
		seeds = append(seeds, mustGet(tb, cs, it.c.nodes[0].hash))
	}
	return seeds
}

func mustGet(tb testing.TB, cs chunk.Store, h chunk.Hash) []byte {
	data, err := cs.Get(context.Background(), h)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// TestWriteFuzzCorpus refreshes the committed seed corpus when asked to.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("CAIRN_WRITE_CORPUS") == "" {
		t.Skip("set CAIRN_WRITE_CORPUS=1 to rewrite testdata/fuzz/FuzzDecodeNode")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecodeNode")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, s := range fuzzSeeds(t) {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%d", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// A node made while encoding is the node a reader decodes from its bytes,
// in an allocation of its exact size.
func TestMakeNodeMatchesDecode(t *testing.T) {
	ctx := context.Background()
	ns, cs := newTestNodeStore(t, false)
	o := oracle{}
	for i := 0; i < 30_000; i++ {
		v := string(val(i))
		if i%1000 == 0 {
			v = strings.Repeat(v, 200)
		}
		o[string(key(i))] = v
	}
	m := buildFromOracle(t, ns, o)
	seen := 0
	err := chunk.Walk(ctx, cs, []chunk.Hash{m.Hash()}, nil, func(h chunk.Hash, data []byte) error {
		env, _ := chunk.Decode(h, data)
		if env.Kind != chunk.KindTreeLeaf && env.Kind != chunk.KindTreeInternal {
			return nil
		}
		d, err := decodeNode(h, data)
		if err != nil {
			return err
		}
		entries := make([]entry, d.count())
		for i := range entries {
			entries[i] = nodeEntry(d, i)
		}
		made := makeNode(d.level, entries)
		if made.hash != h || !bytes.Equal(made.data, data) || made.treeCount() != d.treeCount() ||
			!slices.Equal(made.keyOff, d.keyOff) || !slices.Equal(made.valOff, d.valOff) ||
			!slices.Equal(made.cum, d.cum) || made.env.NumRefs() != d.env.NumRefs() {
			t.Fatalf("node %s: made and decoded nodes differ", h)
		}
		if cap(made.data) != len(made.data) {
			t.Fatalf("node %s: %d bytes allocated for %d", h, cap(made.data), len(made.data))
		}
		seen++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 100 {
		t.Fatalf("only %d nodes checked", seen)
	}
}

// Lengths and counts in a node have one encoding: a longer-than-shortest
// varint is corruption, so equal maps always have equal bytes.
func TestNonShortestVarint(t *testing.T) {
	good := encodeNode(0, []entry{{key: []byte("a"), val: inlineValue([]byte("1"))}})
	if _, err := decodeNode(chunk.Of(good), good); err != nil {
		t.Fatal(err)
	}
	// The payload starts after the 3-byte header (no refs): level 0, n=1,
	// key length 1. Spell the key length 1 as 0x81 0x00.
	bad := append(append(append([]byte{}, good[:5]...), 0x81, 0x00), good[6:]...)
	if _, err := decodeNode(chunk.Of(bad), bad); !errors.Is(err, chunk.ErrCorruption) {
		t.Fatalf("decode of a padded varint: %v, want corruption", err)
	}
}
