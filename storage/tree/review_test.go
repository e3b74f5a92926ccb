package tree

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
)

// within runs fn and fails the test if it does not return within d (the
// goroutine is abandoned: the test binary exits soon after).
func within(t *testing.T, d time.Duration, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("did not finish within %v", d)
	}
}

// At with an ordinal beyond the int range on a one-leaf map reports no
// entry instead of panicking with a negative index.
func TestReviewAtHugeOrdinal(t *testing.T) {
	ctx := context.Background()
	ns, _ := newTestNodeStore(t, true)
	m := buildFromOracle(t, ns, oracle{"a": "1", "b": "2"})
	for _, i := range []uint64{2, 1 << 31, 1 << 32, 1 << 63, math.MaxUint64} {
		if _, _, ok, err := m.At(ctx, i); ok || err != nil {
			t.Fatalf("At(%d) = %v, %v; want no entry", i, ok, err)
		}
	}
}

// putRaw stores data under a hash of the test's choosing, as a corrupt disk
// or a lying peer would.
func putRaw(t *testing.T, cs chunk.Store, h chunk.Hash, data []byte) {
	t.Helper()
	if err := cs.Put(context.Background(), chunk.Chunk{Hash: h, Data: data}); err != nil {
		t.Fatal(err)
	}
}

func putNode(t *testing.T, cs chunk.Store, n *node) chunk.Hash {
	t.Helper()
	putRaw(t, cs, n.hash, n.data)
	return n.hash
}

// exercise runs every read of m and reports the first error; it must not
// panic or hang.
func exercise(ctx context.Context, m Map, from Map) error {
	var first error
	note := func(err error) {
		if first == nil && err != nil {
			first = err
		}
	}
	for _, k := range []string{"", "a", "b", "c", "d", "e", "z"} {
		_, _, err := m.Get(ctx, []byte(k))
		note(err)
		_, err = m.Has(ctx, []byte(k))
		note(err)
		_, err = m.Ordinal(ctx, []byte(k))
		note(err)
	}
	for i := uint64(0); i < 6; i++ {
		_, _, _, err := m.At(ctx, i)
		note(err)
	}
	for _, r := range []Range{{}, {Reverse: true}, {Start: []byte("c")}, {End: []byte("c"), Reverse: true}} {
		it, err := m.Iter(ctx, r)
		note(err)
		for err == nil {
			_, _, err = it.Next(ctx)
			if err != io.EOF {
				note(err)
			}
		}
	}
	note(Diff(ctx, from, m, func(Difference) error { return nil }))
	note(Diff(ctx, m, from, func(Difference) error { return nil }))
	_, err := m.Edit(ctx, []Edit{{Key: []byte("c"), Value: []byte("x")}, {Key: []byte("zz"), Delete: true}})
	note(err)
	return first
}

func leafEntries(kv ...string) []entry {
	var es []entry
	for i := 0; i < len(kv); i += 2 {
		es = append(es, entry{key: []byte(kv[i]), val: inlineValue([]byte(kv[i+1]))})
	}
	return es
}

// Internal nodes whose children are not one level below them (a corrupt
// store, or a chunk that names itself) are corruption: reads must neither
// loop forever nor panic.
func TestReviewCorruptChildLevels(t *testing.T) {
	ctx := context.Background()
	ns, cs := newTestNodeStore(t, false)
	other := buildFromOracle(t, ns, oracle{"a": "1", "b": "2", "c": "3"})
	l1 := makeNode(0, leafEntries("a", "1", "b", "2"))
	l2 := makeNode(0, leafEntries("c", "3", "d", "4"))
	putNode(t, cs, l1)
	putNode(t, cs, l2)
	mid := makeNode(1, []entry{{key: []byte("b"), child: l1.hash, count: 2}, {key: []byte("d"), child: l2.hash, count: 2}})
	putNode(t, cs, mid)

	self := chunk.Of([]byte("a node that names itself"))
	cases := map[string]chunk.Hash{
		// Level 1, its only child is itself.
		"self cycle": func() chunk.Hash {
			putRaw(t, cs, self, encodeNode(1, []entry{{key: []byte("z"), child: self, count: 1}}))
			return self
		}(),
		// Level 2 with leaves for children.
		"skips a level": putNode(t, cs, makeNode(2, []entry{{key: []byte("b"), child: l1.hash, count: 2}, {key: []byte("d"), child: l2.hash, count: 2}})),
		// Level 1 with a level-1 child.
		"same level": putNode(t, cs, makeNode(1, []entry{{key: []byte("d"), child: mid.hash, count: 1}})),
		// Level 1 with an empty leaf for a child.
		"empty child": putNode(t, cs, makeNode(1, []entry{{key: []byte("b"), child: l1.hash, count: 2}, {key: []byte("c"), child: EmptyMapHash, count: 1}})),
	}
	putNode(t, cs, makeNode(0, nil))
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			m, err := LoadMap(ctx, ns, h)
			if errors.Is(err, chunk.ErrCorruption) {
				return // a store that checks hashes refuses a chunk naming itself at once
			}
			if err != nil {
				t.Fatal(err)
			}
			within(t, 5*time.Second, func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("panic: %v", r)
					}
				}()
				if err := exercise(ctx, m, other); !errors.Is(err, chunk.ErrCorruption) {
					t.Errorf("reads gave %v, want a corruption error", err)
				}
			})
		})
	}
}

// countingStore counts Gets.
type countingStore struct {
	chunk.Store
	gets atomic.Int64
}

func (s *countingStore) Get(ctx context.Context, h chunk.Hash) ([]byte, error) {
	s.gets.Add(1)
	return s.Store.Get(ctx, h)
}

// A blob index that expands to far more than the value's stated length is
// refused before the bytes are gathered: reading it neither allocates nor
// reads without bound.
func TestReviewBlobBomb(t *testing.T) {
	ctx := context.Background()
	cs := &countingStore{Store: chunk.NewMemoryStore()}
	put := func(kind chunk.Kind, refs []chunk.Hash, payload []byte) chunk.Hash {
		c := chunk.New(chunk.Encode(kind, refs, payload))
		putRaw(t, cs, c.Hash, c.Data)
		return c.Hash
	}
	fan := func(child chunk.Hash, n int, l uint64) chunk.Hash {
		refs := make([]chunk.Hash, n)
		p := binaryUvarint(nil, uint64(n))
		for i := range refs {
			refs[i] = child
			p = binaryUvarint(p, l)
		}
		return put(chunk.KindBlobInternal, refs, p)
	}

	t.Run("bytes", func(t *testing.T) {
		leaf := put(chunk.KindBlobLeaf, nil, bytes.Repeat([]byte("x"), 16384))
		root := fan(fan(leaf, 64, 16384), 64, 64*16384) // 64 MiB
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := readBlob(ctx, cs, root, 2000)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, chunk.ErrCorruption) {
			t.Fatalf("readBlob: %v, want corruption", err)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
			t.Fatalf("reading a 2000-byte value allocated %d bytes", alloc)
		}
	})
	t.Run("empty parts", func(t *testing.T) {
		empty := put(chunk.KindBlobLeaf, nil, nil)
		root := fan(fan(empty, 1000, 0), 1000, 0)
		cs.gets.Store(0)
		if _, err := readBlob(ctx, cs, root, 2000); !errors.Is(err, chunk.ErrCorruption) {
			t.Fatalf("readBlob: %v, want corruption", err)
		}
		if n := cs.gets.Load(); n > 100 {
			t.Fatalf("reading a 2000-byte value read %d chunks", n)
		}
	})
}

// Child counts whose sum overflows are corruption.
func TestReviewCountOverflow(t *testing.T) {
	l1 := makeNode(0, leafEntries("a", "1"))
	l2 := makeNode(0, leafEntries("b", "2"))
	data := encodeNode(1, []entry{{key: []byte("a"), child: l1.hash, count: math.MaxUint64}, {key: []byte("b"), child: l2.hash, count: 2}})
	if _, err := decodeNode(chunk.Of(data), data); !errors.Is(err, chunk.ErrCorruption) {
		t.Fatalf("decodeNode: %v, want corruption", err)
	}
}

// Keys too long for a node must not make the builder or Edit recurse or
// loop for ever: a key that ends a node by itself at every level (any key
// of about 4850 bytes or more) keeps the levels above it from ever shrinking
// to a root. Such keys are refused; keys up to MaxKeySize work anywhere.
func TestReviewHugeKey(t *testing.T) {
	ctx := context.Background()
	ns, _ := newTestNodeStore(t, true)
	// Longest first would hang if refused no longer: stop at the first accepted.
	for _, n := range []int{MaxKeySize + 1, 4900, MaxNodeSize + 100} {
		huge := bytes.Repeat([]byte("k"), n)
		b := NewBuilder(ns)
		if err := b.Add(ctx, []byte("a"), []byte("1")); err != nil {
			t.Fatal(err)
		}
		if err := b.Add(ctx, huge, []byte("2")); !errors.Is(err, ErrKeyTooLong) {
			t.Fatalf("Builder.Add of a %d-byte key: %v, want ErrKeyTooLong", n, err)
		}
		m, err := b.Finish(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Edit(ctx, []Edit{{Key: []byte("b"), Value: []byte("1")}, {Key: huge, Value: []byte("2")}}); !errors.Is(err, ErrKeyTooLong) {
			t.Fatalf("Edit setting a %d-byte key: %v, want ErrKeyTooLong", n, err)
		}
		if m2, err := m.Edit(ctx, []Edit{{Key: huge, Delete: true}}); err != nil || m2.Hash() != m.Hash() {
			t.Fatalf("Edit deleting an absent %d-byte key: %v", n, err)
		}
	}
	// Keys of MaxKeySize bytes, alone and in runs, at the start, middle and
	// end: edits give the built map.
	long := func(i int) string {
		return fmt.Sprintf("%08d", i) + strings.Repeat("L", MaxKeySize-8)
	}
	o := oracle{}
	for i := 0; i < 600; i++ {
		if i%50 < 20 || i == 599 {
			o[long(i)] = "long"
		} else {
			o[fmt.Sprintf("%08d", i)] = "short"
		}
	}
	want := buildFromOracle(t, ns, o)
	checkMap(t, want, o)
	m, err := NewEmptyMap(ctx, ns)
	if err != nil {
		t.Fatal(err)
	}
	keys := o.keys()
	for start := 0; start < len(keys); start += 97 {
		var edits []Edit
		for _, k := range keys[start:min(start+97, len(keys))] {
			edits = append(edits, Edit{Key: []byte(k), Value: []byte(o[k])})
		}
		if m, err = m.Edit(ctx, edits); err != nil {
			t.Fatal(err)
		}
	}
	if m.Hash() != want.Hash() {
		t.Fatalf("edited %s, built %s", m.Hash(), want.Hash())
	}
	// Deleting most of them again shrinks the tree to the built one.
	var edits []Edit
	for i, k := range keys {
		if i%3 != 1 {
			edits = append(edits, Edit{Key: []byte(k), Delete: true})
			delete(o, k)
		}
	}
	if m, err = m.Edit(ctx, edits); err != nil {
		t.Fatal(err)
	}
	if want := buildFromOracle(t, ns, o); m.Hash() != want.Hash() || m.Height() != want.Height() {
		t.Fatalf("after deletions: edited %s, built %s", m.Hash(), want.Hash())
	}
	checkMap(t, m, o)
}

func binaryUvarint(p []byte, x uint64) []byte { return binary.AppendUvarint(p, x) }

// StartExclusive without a Start bounds nothing: a nil Start means no bound,
// so the empty key is not excluded.
func TestReviewNilStartExclusive(t *testing.T) {
	ns, _ := newTestNodeStore(t, true)
	o := oracle{"": "empty", "a": "1", "b": "2"}
	m := buildFromOracle(t, ns, o)
	for _, r := range []Range{
		{StartExclusive: true},
		{StartExclusive: true, Reverse: true},
		{StartExclusive: true, End: []byte("b")},
		{Start: []byte{}, StartExclusive: true},
	} {
		if got, want := collect(t, m, r), oracleRange(o, r); !slices.Equal(got, want) {
			t.Errorf("range %+v: got %q, want %q", r, got, want)
		}
	}
}

// Random ranges, with nil and empty bounds, prefixes and an empty key, give
// what the model gives.
func TestReviewRandomRanges(t *testing.T) {
	for _, n := range []int{0, 1, 3, 200, 6000} {
		ns, _ := newTestNodeStore(t, n%2 == 0)
		o := oracle{}
		for i := 0; i < n; i++ {
			o[fmt.Sprintf("k%05d", i*3)] = fmt.Sprint(i)
		}
		if n == 3 {
			o[""] = "empty"
		}
		m := buildFromOracle(t, ns, o)
		rng := rand.New(rand.NewSource(int64(n)))
		rk := func() []byte {
			switch rng.Intn(6) {
			case 0:
				return nil
			case 1:
				return []byte{}
			}
			return []byte(fmt.Sprintf("k%05d", rng.Intn(n*3+10)))[:1+rng.Intn(6)]
		}
		for i := 0; i < 1000; i++ {
			r := Range{Start: rk(), StartExclusive: rng.Intn(2) == 0, End: rk(), EndInclusive: rng.Intn(2) == 0, Reverse: rng.Intn(2) == 0}
			if rng.Intn(3) == 0 {
				r.Prefix = rk()
			}
			got, want := collect(t, m, r), oracleRange(o, r)
			if !slices.Equal(got, want) {
				t.Fatalf("n=%d range %+v: got %d want %d", n, r, len(got), len(want))
			}
		}
	}
}

// An edit that leaves the root with one child descends to the new root
// through old nodes; a corrupt one there is reported, not followed for ever.
func TestReviewCollapseCorrupt(t *testing.T) {
	ctx := context.Background()
	ns, cs := newTestNodeStore(t, false)
	self := chunk.Of([]byte("a node that names itself"))
	putRaw(t, cs, self, encodeNode(1, []entry{{key: []byte("b"), child: self, count: 1}}))
	leaf := makeNode(0, leafEntries("c", "3", "d", "4"))
	putNode(t, cs, leaf)
	y := makeNode(1, []entry{{key: []byte("d"), child: leaf.hash, count: 2}})
	putNode(t, cs, y)
	root := makeNode(2, []entry{{key: []byte("b"), child: self, count: 1}, {key: []byte("d"), child: y.hash, count: 2}})
	m, err := LoadMap(ctx, ns, putNode(t, cs, root))
	if err != nil {
		t.Fatal(err)
	}
	within(t, 5*time.Second, func() {
		_, err := m.Edit(ctx, []Edit{{Key: []byte("c"), Delete: true}, {Key: []byte("d"), Delete: true}})
		if !errors.Is(err, chunk.ErrCorruption) {
			t.Errorf("Edit: %v, want corruption", err)
		}
	})
}
