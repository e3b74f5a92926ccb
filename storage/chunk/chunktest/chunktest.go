package chunktest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
)

// RunStoreTests runs the conformance suite against the stores open returns.
// Each call of open must return a new, empty store.
func RunStoreTests(t *testing.T, open func(t *testing.T) chunk.Collectable) {
	t.Run("Chunks", func(t *testing.T) { testChunks(t, open) })
	t.Run("GetMany", func(t *testing.T) { testGetMany(t, open) })
	t.Run("HasMany", func(t *testing.T) { testHasMany(t, open) })
	t.Run("Refs", func(t *testing.T) { testRefs(t, open) })
	t.Run("RefBatches", func(t *testing.T) { testRefBatches(t, open) })
	t.Run("Closed", func(t *testing.T) { testClosed(t, open) })
	t.Run("ConcurrentCommits", func(t *testing.T) { testConcurrentCommits(t, open) })
	t.Run("Generations", func(t *testing.T) { testGenerations(t, open) })
	t.Run("GC", func(t *testing.T) { testGC(t, open) })
	t.Run("GCConcurrentWriters", func(t *testing.T) { testGCConcurrentWriters(t, open) })
}

// Seed returns the seed for a randomized test, from CAIRN_SEED if set, and
// logs it so that a failure can be replayed.
func Seed(t testing.TB) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CAIRN_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("CAIRN_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seed %d (replay with CAIRN_SEED=%d)", seed, seed)
	return seed
}

// Opaque returns a chunk of kind KindOpaque carrying payload.
func Opaque(payload string) chunk.Chunk {
	return chunk.New(chunk.Encode(chunk.KindOpaque, nil, []byte(payload)))
}

// Node returns a chunk that refers to children.
func Node(payload string, children ...chunk.Chunk) chunk.Chunk {
	refs := make([]chunk.Hash, len(children))
	for i, c := range children {
		refs[i] = c.Hash
	}
	return chunk.New(chunk.Encode(chunk.KindTreeInternal, refs, []byte(payload)))
}

func put(t *testing.T, s chunk.Store, cs ...chunk.Chunk) {
	t.Helper()
	if err := s.Put(context.Background(), cs...); err != nil {
		t.Fatalf("put: %v", err)
	}
}

func update(t *testing.T, s chunk.Store, us ...chunk.RefUpdate) {
	t.Helper()
	if err := s.UpdateRefs(context.Background(), us...); err != nil {
		t.Fatalf("update refs %v: %v", us, err)
	}
}

func refs(t *testing.T, s chunk.Store) map[string]chunk.Hash {
	t.Helper()
	r, err := s.Refs(context.Background())
	if err != nil {
		t.Fatalf("refs: %v", err)
	}
	return r
}

func has(t *testing.T, s chunk.Store, h chunk.Hash) bool {
	t.Helper()
	ok, err := s.Has(context.Background(), h)
	if err != nil {
		t.Fatalf("has %s: %v", h, err)
	}
	return ok
}

func wantRefs(t *testing.T, s chunk.Store, want map[string]chunk.Hash) {
	t.Helper()
	got := refs(t, s)
	if len(got) != len(want) {
		t.Fatalf("refs = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("refs = %v, want %v", got, want)
		}
	}
}

// testChunks ensures that Put chunks come back from Get and Has, whatever
// their size, that Put is idempotent, and that a miss is ErrNotFound.
func testChunks(t *testing.T, open func(*testing.T) chunk.Collectable) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(Seed(t), 1))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	repetitive := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = "abcdefgh"[i%8]
		}
		return b
	}
	cases := []struct {
		name string
		data []byte
	}{
		{"empty", []byte{}},
		{"one byte", []byte{7}},
		{"envelope", chunk.Encode(chunk.KindOpaque, nil, []byte("hello"))},
		{"random 4KiB", random(4 << 10)},
		{"repetitive 4KiB", repetitive(4 << 10)},
		{"random 1MiB", random(1 << 20)},
		{"repetitive 1MiB", repetitive(1 << 20)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			c := chunk.New(tc.data)
			if _, err := s.Get(ctx, c.Hash); !errors.Is(err, chunk.ErrNotFound) {
				t.Fatalf("get before put: err = %v, want ErrNotFound", err)
			}
			if has(t, s, c.Hash) {
				t.Fatalf("has before put = true")
			}
			put(t, s, c)
			put(t, s, c) // idempotent
			got, err := s.Get(ctx, c.Hash)
			if err != nil {
				t.Fatalf("get: %v", err)
			}
			if string(got) != string(tc.data) {
				t.Fatalf("get returned %d bytes, not the %d put", len(got), len(tc.data))
			}
			if !has(t, s, c.Hash) {
				t.Fatalf("has after put = false")
			}
		})
	}
	t.Run("several at once", func(t *testing.T) {
		s := open(t)
		var cs []chunk.Chunk
		for i := range 100 {
			cs = append(cs, Opaque(fmt.Sprint("chunk ", i)))
		}
		put(t, s, cs...)
		for _, c := range cs {
			got, err := s.Get(ctx, c.Hash)
			if err != nil || string(got) != string(c.Data) {
				t.Fatalf("get %s = %q, %v; want %q", c.Hash, got, err, c.Data)
			}
		}
	})
}

// testGetMany ensures that GetMany delivers each present chunk once, skips
// absent ones, and that the slices it delivers stay valid.
func testGetMany(t *testing.T, open func(*testing.T) chunk.Collectable) {
	ctx := context.Background()
	s := open(t)
	var present, all []chunk.Hash
	want := make(map[chunk.Hash]string)
	for i := range 500 {
		c := Opaque(fmt.Sprint("chunk ", i))
		all = append(all, c.Hash)
		if i%3 != 0 {
			put(t, s, c)
			present = append(present, c.Hash)
			want[c.Hash] = string(c.Data)
		}
	}
	got := make(map[chunk.Hash][]byte)
	err := s.GetMany(ctx, all, func(c chunk.Chunk) error {
		if _, dup := got[c.Hash]; dup {
			return fmt.Errorf("chunk %s delivered twice", c.Hash)
		}
		got[c.Hash] = c.Data
		return nil
	})
	if err != nil {
		t.Fatalf("get many: %v", err)
	}
	if len(got) != len(present) {
		t.Fatalf("get many delivered %d chunks, want %d", len(got), len(present))
	}
	for h, data := range got {
		if string(data) != want[h] || chunk.Of(data) != h {
			t.Fatalf("get many delivered wrong bytes for %s", h)
		}
	}

	t.Run("callback error stops it", func(t *testing.T) {
		stop := errors.New("stop")
		calls := 0
		err := s.GetMany(ctx, present, func(chunk.Chunk) error { calls++; return stop })
		if !errors.Is(err, stop) || calls != 1 {
			t.Fatalf("get many = %v after %d calls, want the callback's error after 1", err, calls)
		}
	})
	t.Run("empty", func(t *testing.T) {
		err := s.GetMany(ctx, nil, func(chunk.Chunk) error { return errors.New("called") })
		if err != nil {
			t.Fatalf("get many of nothing: %v", err)
		}
	})
}

// testHasMany ensures that HasMany returns exactly the absent hashes.
func testHasMany(t *testing.T, open func(*testing.T) chunk.Collectable) {
	ctx := context.Background()
	s := open(t)
	var all []chunk.Hash
	wantAbsent := make(chunk.HashSet)
	for i := range 300 {
		c := Opaque(fmt.Sprint("has ", i))
		all = append(all, c.Hash)
		if i%2 == 0 {
			put(t, s, c)
		} else {
			wantAbsent.Add(c.Hash)
		}
	}
	absent, err := s.HasMany(ctx, all)
	if err != nil {
		t.Fatalf("has many: %v", err)
	}
	if len(absent) != len(wantAbsent) {
		t.Fatalf("has many: %d absent, want %d", len(absent), len(wantAbsent))
	}
	for h := range wantAbsent {
		if !absent.Has(h) {
			t.Fatalf("has many: %s not reported absent", h)
		}
	}
	absent, err = s.HasMany(ctx, nil)
	if err != nil || len(absent) != 0 {
		t.Fatalf("has many of nothing = %v, %v", absent, err)
	}
}

// testRefs ensures that UpdateRefs creates, moves and deletes refs by
// compare-and-swap and that a failed update changes nothing.
func testRefs(t *testing.T, open func(*testing.T) chunk.Collectable) {
	ctx := context.Background()
	s := open(t)
	// The chunks are named by refs one after the other: the lease keeps
	// them while no ref names them, as GC's contract asks (a store may
	// collect on its own, as the disk store's checkpoints do).
	defer s.Leases().Acquire().Release()
	a, b, c := Opaque("a"), Opaque("b"), Opaque("c")
	put(t, s, a, b, c)
	wantRefs(t, s, nil)

	update(t, s, chunk.RefUpdate{Name: "refs/heads/main", New: a.Hash})
	wantRefs(t, s, map[string]chunk.Hash{"refs/heads/main": a.Hash})
	if h, ok, err := chunk.GetRef(ctx, s, "refs/heads/main"); err != nil || !ok || h != a.Hash {
		t.Fatalf("get ref = %s, %v, %v; want %s", h, ok, err, a.Hash)
	}

	conflicts := []struct {
		name string
		u    chunk.RefUpdate
	}{
		{"create existing", chunk.RefUpdate{Name: "refs/heads/main", New: b.Hash}},
		{"wrong old value", chunk.RefUpdate{Name: "refs/heads/main", Old: c.Hash, New: b.Hash}},
		{"absent ref", chunk.RefUpdate{Name: "refs/heads/dev", Old: a.Hash, New: b.Hash}},
		{"delete with wrong old", chunk.RefUpdate{Name: "refs/heads/main", Old: b.Hash}},
	}
	for _, tc := range conflicts {
		t.Run(tc.name, func(t *testing.T) {
			err := s.UpdateRefs(ctx, tc.u)
			if !errors.Is(err, chunk.ErrRefConflict) {
				t.Fatalf("update = %v, want ErrRefConflict", err)
			}
			wantRefs(t, s, map[string]chunk.Hash{"refs/heads/main": a.Hash})
		})
	}

	t.Run("missing chunk", func(t *testing.T) {
		missing := Opaque("never put")
		err := s.UpdateRefs(ctx, chunk.RefUpdate{Name: "refs/heads/main", Old: a.Hash, New: missing.Hash})
		if !errors.Is(err, chunk.ErrMissingChunk) {
			t.Fatalf("update = %v, want ErrMissingChunk", err)
		}
		wantRefs(t, s, map[string]chunk.Hash{"refs/heads/main": a.Hash})
	})

	t.Run("bad names", func(t *testing.T) {
		for _, name := range []string{"", string(make([]byte, chunk.MaxRefNameLen+1))} {
			err := s.UpdateRefs(ctx, chunk.RefUpdate{Name: name, New: a.Hash})
			if !errors.Is(err, chunk.ErrBadRefName) {
				t.Fatalf("update of ref %.10q = %v, want ErrBadRefName", name, err)
			}
		}
		long := string(make([]byte, chunk.MaxRefNameLen))
		update(t, s, chunk.RefUpdate{Name: long, New: a.Hash})
		update(t, s, chunk.RefUpdate{Name: long, Old: a.Hash})
	})

	t.Run("move and delete", func(t *testing.T) {
		update(t, s, chunk.RefUpdate{Name: "refs/heads/main", Old: a.Hash, New: b.Hash})
		wantRefs(t, s, map[string]chunk.Hash{"refs/heads/main": b.Hash})
		update(t, s, chunk.RefUpdate{Name: "refs/heads/main", Old: b.Hash})
		wantRefs(t, s, nil)
		// Deleting an absent ref is a successful no-op.
		update(t, s, chunk.RefUpdate{Name: "refs/heads/main"})
		wantRefs(t, s, nil)
		update(t, s, chunk.RefUpdate{Name: "refs/heads/main", New: c.Hash})
		wantRefs(t, s, map[string]chunk.Hash{"refs/heads/main": c.Hash})
	})

	t.Run("returned map is a copy", func(t *testing.T) {
		r := refs(t, s)
		r["refs/heads/main"] = a.Hash
		r["refs/heads/other"] = a.Hash
		wantRefs(t, s, map[string]chunk.Hash{"refs/heads/main": c.Hash})
	})
}

// testRefBatches ensures that a batch of updates applies all or nothing.
func testRefBatches(t *testing.T, open func(*testing.T) chunk.Collectable) {
	ctx := context.Background()
	s := open(t)
	a, b := Opaque("a"), Opaque("b")
	put(t, s, a, b)
	update(t, s,
		chunk.RefUpdate{Name: "x", New: a.Hash},
		chunk.RefUpdate{Name: "y", New: a.Hash},
		chunk.RefUpdate{Name: "z", New: b.Hash})
	start := map[string]chunk.Hash{"x": a.Hash, "y": a.Hash, "z": b.Hash}
	wantRefs(t, s, start)

	failures := []struct {
		name string
		us   []chunk.RefUpdate
		want error
	}{
		{"one conflict", []chunk.RefUpdate{
			{Name: "x", Old: a.Hash, New: b.Hash},
			{Name: "y", Old: b.Hash, New: b.Hash}, // y holds a
			{Name: "w", New: b.Hash},
		}, chunk.ErrRefConflict},
		{"one missing chunk", []chunk.RefUpdate{
			{Name: "x", Old: a.Hash, New: b.Hash},
			{Name: "z", Old: b.Hash, New: Opaque("missing").Hash},
		}, chunk.ErrMissingChunk},
		{"same ref twice", []chunk.RefUpdate{
			{Name: "x", Old: a.Hash, New: b.Hash},
			{Name: "x", Old: a.Hash, New: b.Hash},
		}, chunk.ErrBadRefName},
		{"one bad name", []chunk.RefUpdate{
			{Name: "x", Old: a.Hash, New: b.Hash},
			{Name: "", New: b.Hash},
		}, chunk.ErrBadRefName},
	}
	for _, tc := range failures {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.UpdateRefs(ctx, tc.us...); !errors.Is(err, tc.want) {
				t.Fatalf("update = %v, want %v", err, tc.want)
			}
			wantRefs(t, s, start)
		})
	}

	t.Run("mixed create move delete", func(t *testing.T) {
		update(t, s,
			chunk.RefUpdate{Name: "x", Old: a.Hash},
			chunk.RefUpdate{Name: "y", Old: a.Hash, New: b.Hash},
			chunk.RefUpdate{Name: "w", New: a.Hash})
		wantRefs(t, s, map[string]chunk.Hash{"y": b.Hash, "z": b.Hash, "w": a.Hash})
	})
}

// testClosed ensures that every method of a closed store returns ErrClosed
// and that closing again is harmless.
func testClosed(t *testing.T, open func(*testing.T) chunk.Collectable) {
	ctx := context.Background()
	s := open(t)
	a := Opaque("a")
	put(t, s, a)
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	calls := map[string]func() error{
		"Get":     func() error { _, err := s.Get(ctx, a.Hash); return err },
		"GetMany": func() error { return s.GetMany(ctx, []chunk.Hash{a.Hash}, func(chunk.Chunk) error { return nil }) },
		"Has":     func() error { _, err := s.Has(ctx, a.Hash); return err },
		"HasMany": func() error { _, err := s.HasMany(ctx, []chunk.Hash{a.Hash}); return err },
		"Put":     func() error { return s.Put(ctx, Opaque("b")) },
		"Refs":    func() error { _, err := s.Refs(ctx); return err },
		"UpdateRefs": func() error {
			return s.UpdateRefs(ctx, chunk.RefUpdate{Name: "x", New: a.Hash})
		},
		"ForEachChunk": func() error {
			return s.ForEachChunk(ctx, func(chunk.Hash, uint64) error { return nil })
		},
		"DeleteChunks":      func() error { _, err := s.DeleteChunks(ctx, []chunk.Hash{a.Hash}, 1); return err },
		"AdvanceGeneration": func() error { _, err := s.AdvanceGeneration(ctx); return err },
		"GC":                func() error { _, err := chunk.GC(ctx, s); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			if err := call(); !errors.Is(err, chunk.ErrClosed) {
				t.Fatalf("%s after close = %v, want ErrClosed", name, err)
			}
		})
	}
}

// testConcurrentCommits ensures that concurrent compare-and-swap loops on one
// ref lose no increment, and that writers on their own refs never conflict,
// while readers read.
func testConcurrentCommits(t *testing.T, open func(*testing.T) chunk.Collectable) {
	ctx := context.Background()
	s := open(t)
	const workers, perWorker = 8, 25
	counter := func(n int) chunk.Chunk { return Opaque(fmt.Sprint("counter ", n)) }
	put(t, s, counter(0))
	update(t, s, chunk.RefUpdate{Name: "counter", New: counter(0).Hash})

	var wg sync.WaitGroup
	errs := make(chan error, 2*workers+1)
	done := make(chan struct{})
	for w := range workers {
		wg.Add(2)
		// An incrementer of the shared counter.
		go func() {
			defer wg.Done()
			for range perWorker {
				for {
					cur, _, err := chunk.GetRef(ctx, s, "counter")
					if err != nil {
						errs <- err
						return
					}
					data, err := s.Get(ctx, cur)
					if err != nil {
						errs <- err
						return
					}
					env, err := chunk.Decode(cur, data)
					if err != nil {
						errs <- err
						return
					}
					var n int
					fmt.Sscanf(string(env.Payload), "counter %d", &n)
					next := counter(n + 1)
					// Leased from the Put to the update, as GC's
					// contract asks (a store may collect on its own).
					lease := s.Leases().Acquire()
					if err := s.Put(ctx, next); err != nil {
						errs <- err
						return
					}
					err = s.UpdateRefs(ctx, chunk.RefUpdate{Name: "counter", Old: cur, New: next.Hash})
					lease.Release()
					if errors.Is(err, chunk.ErrRefConflict) {
						continue
					}
					if err != nil {
						errs <- err
						return
					}
					break
				}
			}
		}()
		// A writer of its own ref, which must never conflict.
		go func() {
			defer wg.Done()
			name := fmt.Sprint("refs/heads/w", w)
			var cur chunk.Hash
			for i := range perWorker {
				c := Opaque(fmt.Sprint(name, " ", i))
				lease := s.Leases().Acquire()
				if err := s.Put(ctx, c); err != nil {
					errs <- err
					return
				}
				err := s.UpdateRefs(ctx, chunk.RefUpdate{Name: name, Old: cur, New: c.Hash})
				lease.Release()
				if err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
				cur = c.Hash
			}
		}()
	}
	// A reader: every ref it sees names a chunk it can read.
	go func() {
		for {
			select {
			case <-done:
				errs <- nil
				return
			default:
			}
			// Read and leased in one step, as GC's contract asks of a
			// reader (a store may collect on its own).
			rs, lease, err := s.Leases().AcquireRefs(ctx, s)
			if err != nil {
				errs <- err
				return
			}
			for name, h := range rs {
				if _, err := s.Get(ctx, h); err != nil {
					errs <- fmt.Errorf("ref %s: %w", name, err)
					lease.Release()
					return
				}
			}
			lease.Release()
		}
	}()
	wg.Wait()
	close(done)
	// The reader sends nil when it stops; anything before is an error.
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	want := map[string]chunk.Hash{"counter": counter(workers * perWorker).Hash}
	for w := range workers {
		want[fmt.Sprint("refs/heads/w", w)] = Opaque(fmt.Sprint("refs/heads/w", w, " ", perWorker-1)).Hash
	}
	wantRefs(t, s, want)
}

// testGenerations ensures that Put stamps the current generation, that
// DeleteChunks spares chunks stamped at or after its bound, and that the
// lease registry follows AdvanceGeneration.
func testGenerations(t *testing.T, open func(*testing.T) chunk.Collectable) {
	ctx := context.Background()
	s := open(t)
	gens := func() map[chunk.Hash]uint64 {
		t.Helper()
		out := make(map[chunk.Hash]uint64)
		err := s.ForEachChunk(ctx, func(h chunk.Hash, gen uint64) error {
			if _, dup := out[h]; dup {
				return fmt.Errorf("chunk %s listed twice", h)
			}
			out[h] = gen
			return nil
		})
		if err != nil {
			t.Fatalf("for each chunk: %v", err)
		}
		return out
	}
	start := s.Leases().Generation()
	a, b := Opaque("a"), Opaque("b")
	put(t, s, a, b)
	g1, err := s.AdvanceGeneration(ctx)
	if err != nil {
		t.Fatalf("advance generation: %v", err)
	}
	if g1 <= start || s.Leases().Generation() != g1 {
		t.Fatalf("advance generation from %d = %d, leases at %d", start, g1, s.Leases().Generation())
	}
	put(t, s, b) // restamped
	if got := gens(); len(got) != 2 || got[a.Hash] != start || got[b.Hash] != g1 {
		t.Fatalf("generations = %v, want a at %d, b at %d", got, start, g1)
	}
	n, err := s.DeleteChunks(ctx, []chunk.Hash{a.Hash, b.Hash, Opaque("absent").Hash}, g1)
	if err != nil || n != 1 {
		t.Fatalf("delete chunks = %d, %v; want 1 deleted", n, err)
	}
	if has(t, s, a.Hash) || !has(t, s, b.Hash) {
		t.Fatalf("after delete: has a = %v, has b = %v; want false, true", has(t, s, a.Hash), has(t, s, b.Hash))
	}
	put(t, s, a) // a deleted chunk can be put again
	if !has(t, s, a.Hash) {
		t.Fatalf("chunk put again after delete is missing")
	}
	g2, err := s.AdvanceGeneration(ctx)
	if err != nil || g2 <= g1 {
		t.Fatalf("second advance = %d, %v; want above %d", g2, err, g1)
	}
}

// testGC ensures that GC deletes exactly the unreachable chunks that no
// lease protects.
func testGC(t *testing.T, open func(*testing.T) chunk.Collectable) {
	ctx := context.Background()
	gc := func(t *testing.T, s chunk.Collectable) chunk.GCStats {
		t.Helper()
		st, err := chunk.GC(ctx, s)
		if err != nil {
			t.Fatalf("gc: %v", err)
		}
		return st
	}
	present := func(t *testing.T, s chunk.Collectable, want bool, cs ...chunk.Chunk) {
		t.Helper()
		for _, c := range cs {
			if got := has(t, s, c.Hash); got != want {
				t.Fatalf("after gc, has %q = %v, want %v", c.Data, got, want)
			}
		}
	}

	t.Run("unreachable deleted", func(t *testing.T) {
		s := open(t)
		l1, l2, shared := Opaque("leaf 1"), Opaque("leaf 2"), Opaque("shared")
		root := Node("root", l1, Node("mid", l2, shared), shared)
		mid := Node("mid", l2, shared)
		g1, g2 := Opaque("garbage 1"), Opaque("garbage 2")
		gRoot := Node("garbage root", g1, shared)
		put(t, s, l1, l2, shared, mid, root, g1, g2, gRoot)
		update(t, s, chunk.RefUpdate{Name: "main", New: root.Hash})
		st := gc(t, s)
		present(t, s, true, l1, l2, shared, mid, root)
		present(t, s, false, g1, g2, gRoot)
		if st.Reachable != 5 || st.Deleted != 3 || st.Scanned != 8 {
			t.Fatalf("gc stats = %+v, want 5 reachable, 8 scanned, 3 deleted", st)
		}
		// Moving the ref makes the old tree garbage, except what is shared.
		root2 := Node("root 2", shared)
		put(t, s, root2)
		update(t, s, chunk.RefUpdate{Name: "main", Old: root.Hash, New: root2.Hash})
		gc(t, s)
		present(t, s, true, root2, shared)
		present(t, s, false, root, mid, l1, l2)
	})

	t.Run("leased roots kept", func(t *testing.T) {
		s := open(t)
		leaf := Opaque("leased leaf")
		root := Node("leased root", leaf)
		put(t, s, leaf, root)
		lease := s.Leases().Acquire(root.Hash, chunk.Hash{})
		for range 2 {
			gc(t, s)
			present(t, s, true, leaf, root)
		}
		lease.Release()
		lease.Release() // idempotent
		gc(t, s)
		present(t, s, false, leaf, root)
	})

	t.Run("written under live lease kept", func(t *testing.T) {
		s := open(t)
		old := Opaque("old garbage")
		put(t, s, old)
		gc(t, s)
		present(t, s, false, old)

		lease := s.Leases().Acquire()
		fresh := Opaque("fresh")
		put(t, s, fresh)
		gc(t, s)
		gc(t, s)
		present(t, s, true, fresh)
		lease.Release()
		gc(t, s)
		present(t, s, false, fresh)

		// A chunk written before a lease began is collected, unless it is
		// put again under the lease.
		stale, reused := Opaque("stale"), Opaque("reused")
		put(t, s, stale, reused)
		if _, err := s.AdvanceGeneration(ctx); err != nil {
			t.Fatalf("advance generation: %v", err)
		}
		lease = s.Leases().Acquire()
		put(t, s, reused)
		gc(t, s)
		present(t, s, false, stale)
		present(t, s, true, reused)
		lease.Release()
		gc(t, s)
		present(t, s, false, reused)
	})

	t.Run("missing reachable chunk fails", func(t *testing.T) {
		s := open(t)
		leaf := Opaque("leaf never put")
		root := Node("root", leaf)
		garbage := Opaque("garbage")
		put(t, s, leaf, root, garbage)
		update(t, s, chunk.RefUpdate{Name: "main", New: root.Hash})
		if _, err := s.DeleteChunks(ctx, []chunk.Hash{leaf.Hash}, s.Leases().Generation()+1); err != nil {
			t.Fatalf("delete chunks: %v", err)
		}
		if _, err := chunk.GC(ctx, s); !errors.Is(err, chunk.ErrNotFound) {
			t.Fatalf("gc = %v, want ErrNotFound", err)
		}
		present(t, s, true, garbage)
	})
}

// testGCConcurrentWriters ensures that GC running while writers commit new
// trees, each reusing chunks of the tree it replaces, never deletes a chunk
// reachable from a ref.
func testGCConcurrentWriters(t *testing.T, open func(*testing.T) chunk.Collectable) {
	ctx := context.Background()
	seed := Seed(t)
	s := open(t)
	const writers = 4
	rounds := 40
	if testing.Short() {
		rounds = 10
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers+1)
	stop := make(chan struct{})
	gcDone := make(chan struct{})
	gcRuns := 0
	go func() {
		defer close(gcDone)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := chunk.GC(ctx, s); err != nil {
				errs <- fmt.Errorf("gc: %w", err)
				return
			}
			gcRuns++
		}
	}()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := gcWriter(ctx, s, fmt.Sprint("refs/heads/w", w), seed+uint64(w), rounds); err != nil {
				errs <- fmt.Errorf("writer %d: %w", w, err)
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-gcDone
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	st, err := chunk.GC(ctx, s)
	if err != nil {
		t.Fatalf("final gc: %v", err)
	}
	t.Logf("%d concurrent collections; final: %+v", gcRuns, st)
	st, err = chunk.GC(ctx, s)
	if err != nil {
		t.Fatalf("second final gc: %v", err)
	}
	if st.Scanned != st.Reachable || st.Deleted != 0 {
		t.Fatalf("after a final gc with no leases, gc found %+v: want only reachable chunks left", st)
	}
	if err := checkReachable(ctx, s); err != nil {
		t.Fatal(err)
	}
}

// gcWriter commits rounds new trees to ref, each under a lease, following
// the contract of chunk.GC. Each tree keeps some leaves of the one before.
func gcWriter(ctx context.Context, s chunk.Collectable, ref string, seed uint64, rounds int) error {
	rng := rand.New(rand.NewPCG(seed, 2))
	var cur chunk.Hash
	for i := range rounds {
		lease := s.Leases().Acquire(cur)
		var leaves []chunk.Hash
		if !cur.IsZero() {
			data, err := s.Get(ctx, cur)
			if err != nil {
				lease.Release()
				return fmt.Errorf("read root %s: %w", cur, err)
			}
			env, err := chunk.Decode(cur, data)
			if err != nil {
				lease.Release()
				return err
			}
			for _, h := range env.Refs() {
				if rng.IntN(2) == 0 {
					leaves = append(leaves, h)
				}
			}
		}
		var fresh []chunk.Chunk
		for j := range 1 + rng.IntN(6) {
			c := Opaque(fmt.Sprintf("%s round %d leaf %d %d", ref, i, j, rng.Uint64()))
			fresh = append(fresh, c)
			leaves = append(leaves, c.Hash)
		}
		// Sometimes a leaf that another writer may also write.
		if rng.IntN(3) == 0 {
			c := Opaque(fmt.Sprint("common ", rng.IntN(5)))
			fresh = append(fresh, c)
			leaves = append(leaves, c.Hash)
		}
		root := chunk.New(chunk.Encode(chunk.KindTreeInternal, leaves, []byte(fmt.Sprint(ref, " root ", i))))
		if err := s.Put(ctx, fresh...); err != nil {
			lease.Release()
			return err
		}
		if err := s.Put(ctx, root); err != nil {
			lease.Release()
			return err
		}
		err := s.UpdateRefs(ctx, chunk.RefUpdate{Name: ref, Old: cur, New: root.Hash})
		lease.Release()
		if err != nil {
			return err
		}
		cur = root.Hash
		if err := chunk.Walk(ctx, s, []chunk.Hash{cur}, nil, func(chunk.Hash, []byte) error { return nil }); err != nil {
			return fmt.Errorf("round %d: tree just committed: %w", i, err)
		}
	}
	return nil
}

// checkReachable walks everything reachable from the refs of s.
func checkReachable(ctx context.Context, s chunk.Store) error {
	rs, err := s.Refs(ctx)
	if err != nil {
		return err
	}
	var roots []chunk.Hash
	for _, h := range rs {
		roots = append(roots, h)
	}
	if err := chunk.Walk(ctx, s, roots, nil, func(h chunk.Hash, data []byte) error { return chunk.Verify(h, data) }); err != nil {
		return fmt.Errorf("walk from refs: %w", err)
	}
	return nil
}
