package tree

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
)

// batchStore counts single and batched reads, and can fail its batches.
type batchStore struct {
	chunk.Store
	gets, batches, batched atomic.Int64
	failBatches            bool
}

func (s *batchStore) Get(ctx context.Context, h chunk.Hash) ([]byte, error) {
	s.gets.Add(1)
	return s.Store.Get(ctx, h)
}

func (s *batchStore) GetMany(ctx context.Context, hs []chunk.Hash, found func(chunk.Chunk) error) error {
	s.batches.Add(1)
	if s.failBatches {
		return errors.New("batch read failed")
	}
	return s.Store.GetMany(ctx, hs, func(c chunk.Chunk) error {
		s.batched.Add(1)
		return found(c)
	})
}

// readaheadMap builds a map of n entries of about 100 bytes in a fresh store
// and returns it over a cold cache, so every node is read from the store.
func readaheadMap(t *testing.T, n int, failBatches bool) (Map, *batchStore) {
	t.Helper()
	ctx := context.Background()
	bs := &batchStore{Store: chunk.NewMemoryStore(), failBatches: failBatches}
	b := NewBuilder(NewNodeStore(bs, nil))
	for i := range n {
		if err := b.Add(ctx, fmt.Appendf(nil, "key%08d", i), fmt.Appendf(nil, "value %08d %080d", i, i)); err != nil {
			t.Fatal(err)
		}
	}
	m, err := b.Finish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cold := NewNodeStore(bs, NewNodeCache(32<<20))
	root, err := cold.read(ctx, m.root.hash)
	if err != nil {
		t.Fatal(err)
	}
	bs.gets.Store(0)
	return Map{ns: cold, root: root}, bs
}

// scan reads r from m and returns its keys' count, checking they are the
// consecutive keys from first.
func scan(t *testing.T, m Map, r Range, first int) int {
	t.Helper()
	ctx := context.Background()
	it, err := m.Iter(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		k, v, err := it.Next(ctx)
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("key%08d", first+n); string(k) != want || string(v) != fmt.Sprintf("value %08d %080d", first+n, first+n) {
			t.Fatalf("entry %d: %q, want key %q", n, k, want)
		}
		n++
	}
}

// A forward scan reads the leaves ahead of it in batches, so it reads few
// nodes one at a time; what it returns is unchanged.
func TestReadaheadScan(t *testing.T) {
	const n = 50000
	m, bs := readaheadMap(t, n, false)
	if m.root.level < 2 {
		t.Fatalf("the tree has %d levels; the test needs internal nodes above level 1", m.root.level+1)
	}
	if got := scan(t, m, Range{}, 0); got != n {
		t.Fatalf("scanned %d entries, want %d", got, n)
	}
	leaves := bs.gets.Load() + bs.batched.Load()
	t.Logf("%d single reads, %d batches of %d nodes in all", bs.gets.Load(), bs.batches.Load(), bs.batched.Load())
	if bs.gets.Load()*5 > leaves {
		t.Fatalf("%d of %d node reads were single: the readahead did not serve the scan", bs.gets.Load(), leaves)
	}
}

// A short range reads ahead no further than its end, and a point read not
// at all.
func TestReadaheadStopsAtRangeEnd(t *testing.T) {
	m, bs := readaheadMap(t, 50000, false)
	// Wait for the batches of each scan: they run in the background.
	drain := func() {
		m.ns.raMu.Lock()
		busy := len(m.ns.inflight)
		m.ns.raMu.Unlock()
		for busy > 0 {
			time.Sleep(time.Millisecond)
			m.ns.raMu.Lock()
			busy = len(m.ns.inflight)
			m.ns.raMu.Unlock()
		}
	}
	r := Range{Start: []byte("key00020000"), End: []byte("key00020300"), EndInclusive: true}
	if got := scan(t, m, r, 20000); got != 301 {
		t.Fatalf("scanned %d entries, want 301", got)
	}
	drain()
	// 301 entries of about 110 bytes span a few leaves of about 4 KiB; the
	// readahead may ask for the leaf holding the end key, not beyond.
	read := bs.gets.Load() + bs.batched.Load()
	if read > 16 {
		t.Fatalf("a 301-entry range read %d nodes (%d single, %d batched)", read, bs.gets.Load(), bs.batched.Load())
	}
	bs.gets.Store(0)
	bs.batches.Store(0)
	if got := scan(t, m, Range{Start: []byte("key00040000"), End: []byte("key00040000"), EndInclusive: true}, 40000); got != 1 {
		t.Fatalf("point range gave %d entries", got)
	}
	drain()
	if bs.batches.Load() != 0 {
		t.Fatalf("a point read started %d readahead batches", bs.batches.Load())
	}
}

// When the batches fail, each leaf is read on its own and the scan is whole.
func TestReadaheadFailingBatches(t *testing.T) {
	const n = 20000
	m, bs := readaheadMap(t, n, true)
	if got := scan(t, m, Range{}, 0); got != n {
		t.Fatalf("scanned %d entries, want %d", got, n)
	}
	if bs.batches.Load() == 0 {
		t.Fatal("the scan started no readahead batch")
	}
}

// A reverse scan does not read ahead (its leaves come in the other order).
func TestReadaheadReverse(t *testing.T) {
	const n = 20000
	m, bs := readaheadMap(t, n, false)
	ctx := context.Background()
	it, err := m.Iter(ctx, Range{Reverse: true})
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for {
		if _, _, err := it.Next(ctx); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		got++
	}
	if got != n || bs.batches.Load() != 0 {
		t.Fatalf("reverse scan: %d entries, %d batches; want %d and 0", got, bs.batches.Load(), n)
	}
}
