package diskstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/chunk/chunktest"
	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// inPebble reports whether Pebble itself holds chunk h.
func inPebble(t *testing.T, s *Store, h chunk.Hash) bool {
	t.Helper()
	_, closer, err := s.db.Get(chunkKey(h))
	if errors.Is(err, pebble.ErrNotFound) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	closer.Close()
	return true
}

// crashClone is an image of fs as a power failure that kept nothing
// unsynced would leave it.
func crashClone(fs *vfs.MemFS) *vfs.MemFS {
	return fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0, RNG: rand.New(rand.NewPCG(1, 2))})
}

// commitChain commits n trees to ref, each a root over a new leaf and the
// root before, and returns the roots.
func commitChain(t *testing.T, s *Store, ref string, n int) []chunk.Hash {
	t.Helper()
	ctx := context.Background()
	var roots []chunk.Hash
	var cur chunk.Hash
	for i := range n {
		leaf := chunktest.Opaque(fmt.Sprintf("%s leaf %d %s", ref, i, strings.Repeat("x", 100)))
		kids := []chunk.Chunk{leaf}
		if !cur.IsZero() {
			data, err := s.Get(ctx, cur)
			if err != nil {
				t.Fatal(err)
			}
			kids = append(kids, chunk.Chunk{Hash: cur, Data: data})
		}
		root := chunktest.Node(fmt.Sprintf("%s root %d", ref, i), kids...)
		if err := s.Put(ctx, leaf, root); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateRefs(ctx, chunk.RefUpdate{Name: ref, Old: cur, New: root.Hash}); err != nil {
			t.Fatal(err)
		}
		cur = root.Hash
		roots = append(roots, cur)
	}
	return roots
}

// Commits live in the journal, not in Pebble, until a checkpoint; after a
// power failure they are replayed from it, whole.
func TestJournalReplay(t *testing.T) {
	ctx := context.Background()
	fs := vfs.NewCrashableMem()
	s := openWith(t, "/store", Options{fs: fs})
	roots := commitChain(t, s, "refs/heads/main", 20)
	last := roots[len(roots)-1]
	if inPebble(t, s, last) {
		t.Fatal("a commit reached Pebble before any checkpoint")
	}
	if !s.jrnl.records() {
		t.Fatal("the journal holds no record")
	}
	crashed := crashClone(fs)
	s.Close()

	s2 := openWith(t, "/store", Options{fs: crashed})
	if h, _, _ := chunk.GetRef(ctx, s2, "refs/heads/main"); h != last {
		t.Fatalf("after replay main = %s, want %s", h, last)
	}
	if err := s2.Check(ctx); err != nil {
		t.Fatal(err)
	}
	// Open checkpointed what it replayed.
	if !inPebble(t, s2, last) || s2.jrnl.records() {
		t.Fatalf("after open: root in Pebble %v, journal records %v", inPebble(t, s2, last), s2.jrnl.records())
	}
}

// A chunk reachable from a ref an UpdateRefs set is durable when it returns,
// even if it was put before an earlier UpdateRefs that did not reach it.
func TestJournalDurableReachable(t *testing.T) {
	ctx := context.Background()
	fs := vfs.NewCrashableMem()
	s := openWith(t, "/store", Options{fs: fs})
	leaf := chunktest.Opaque("put early")
	if err := s.Put(ctx, leaf); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateRefs(ctx); err != nil {
		t.Fatal(err)
	}
	root := chunktest.Node("root", leaf)
	if err := s.Put(ctx, root); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateRefs(ctx, chunk.RefUpdate{Name: "main", New: root.Hash}); err != nil {
		t.Fatal(err)
	}
	s2 := openWith(t, "/store", Options{fs: crashClone(fs)})
	if err := s2.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// journalBytes returns the journal file of the store in dir on fs.
func journalBytes(t *testing.T, fs vfs.FS, dir string) []byte {
	t.Helper()
	f, err := fs.Open(fs.PathJoin(dir, journalName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeJournal(t *testing.T, fs vfs.FS, dir string, b []byte) {
	t.Helper()
	f, err := fs.Create(fs.PathJoin(dir, journalName), vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// recordOffsets returns where each record of a journal starts, and where
// the last one ends.
func recordOffsets(b []byte) (offs []int, end int) {
	epoch := binary.LittleEndian.Uint64(b[len(journalMagic)+4:])
	off := journalHeaderLen
	for {
		n, ok := recordAt(b[off:], epoch)
		if !ok {
			return offs, off
		}
		offs = append(offs, off)
		off += recordHeaderLen + int(n)
	}
}

// A torn last record (a crash while it was written) ends the journal: the
// commits before it are replayed. Damage before the last record is
// corruption: Open fails rather than drop acknowledged commits.
func TestJournalDamage(t *testing.T) {
	ctx := context.Background()
	fs := vfs.NewCrashableMem()
	s := openWith(t, "/store", Options{fs: fs})
	roots := commitChain(t, s, "main", 3)
	base := crashClone(fs) // before Close, which checkpoints
	s.Close()
	image := journalBytes(t, base, "/store")
	offs, end := recordOffsets(image)
	if len(offs) != 3 {
		t.Fatalf("%d records, want 3", len(offs))
	}
	// A record of an earlier epoch, left in the reused file.
	stale := append([]byte(nil), image[offs[0]:offs[1]]...)
	binary.LittleEndian.PutUint64(stale[8:], binary.LittleEndian.Uint64(stale[8:])-1)
	cases := []struct {
		name string
		edit func([]byte) []byte
		want chunk.Hash // main after open; zero: Open fails with corruption
	}{
		{"intact", func(b []byte) []byte { return b }, roots[2]},
		{"last record cut short", func(b []byte) []byte { return b[:offs[2]+recordHeaderLen+10] }, roots[1]},
		{"last header cut short", func(b []byte) []byte { return b[:offs[2]+3] }, roots[1]},
		{"last record damaged", func(b []byte) []byte { b[end-5] ^= 1; return b }, roots[1]},
		{"no zeros after the end", func(b []byte) []byte { return b[:end] }, roots[2]},
		{"an earlier epoch's record after the end", func(b []byte) []byte { copy(b[end:], stale); return b }, roots[2]},
		{"an earlier epoch's record after a torn one", func(b []byte) []byte {
			b[end-5] ^= 1
			copy(b[end:], stale)
			return b
		}, roots[1]},
		{"first record damaged", func(b []byte) []byte { b[offs[0]+recordHeaderLen+3] ^= 1; return b }, chunk.Hash{}},
		{"second length damaged", func(b []byte) []byte { b[offs[1]] ^= 0x40; return b }, chunk.Hash{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			img := crashClone(base)
			writeJournal(t, img, "/store", tc.edit(append([]byte(nil), image...)))
			s, err := Open("/store", Options{fs: img})
			if tc.want.IsZero() {
				if !errors.Is(err, chunk.ErrCorruption) {
					t.Fatalf("open = %v, want corruption", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if h, _, _ := chunk.GetRef(ctx, s, "main"); h != tc.want {
				t.Fatalf("main = %s, want %s", h, tc.want)
			}
			if err := s.Check(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A crash after a checkpoint's Pebble batch and before the journal starts
// over leaves a journal of the previous epoch: Open ignores it, since Pebble
// has what it held.
func TestJournalStaleEpoch(t *testing.T) {
	ctx := context.Background()
	fs := vfs.NewCrashableMem()
	s := openWith(t, "/store", Options{fs: fs})
	roots := commitChain(t, s, "main", 3)
	old := journalBytes(t, fs, "/store")
	if err := checkpointNow(s); err != nil {
		t.Fatal(err)
	}
	more := commitChain(t, s, "other", 1)
	if err := checkpointNow(s); err != nil {
		t.Fatal(err)
	}
	img := crashClone(fs)
	s.Close()
	writeJournal(t, img, "/store", old)
	s2 := openWith(t, "/store", Options{fs: img})
	refs, _ := s2.Refs(ctx)
	if refs["main"] != roots[2] || refs["other"] != more[0] {
		t.Fatalf("refs = %v", refs)
	}
}

// A checkpoint writes to Pebble only what the refs reach: a tree a later
// commit replaced never reaches it, and is dropped by the first checkpoint
// after the replacing commit.
func TestCheckpointWritesOnlyLive(t *testing.T) {
	ctx := context.Background()
	s := openWith(t, t.TempDir(), Options{CheckpointSize: 1 << 30}) // checkpoints by hand
	last := commitChain(t, s, "main", 5)[4]
	leafA, leafB := chunktest.Opaque("leaf a"), chunktest.Opaque("leaf b")
	a, b := chunktest.Node("replaced", leafA), chunktest.Node("current", leafB)
	l := s.Leases().Acquire(last)
	if err := s.Put(ctx, leafA, a, leafB, b); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateRefs(ctx, chunk.RefUpdate{Name: "main", Old: last, New: a.Hash}); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateRefs(ctx, chunk.RefUpdate{Name: "main", Old: a.Hash, New: b.Hash}); err != nil {
		t.Fatal(err)
	}
	l.Release()
	if err := checkpointNow(s); err != nil {
		t.Fatal(err)
	}
	for _, c := range []chunk.Chunk{a, leafA} {
		if inPebble(t, s, c.Hash) || s.ov.has(c.Hash) {
			t.Errorf("replaced chunk %s: in Pebble %v, in the overlay %v; want neither", c.Data, inPebble(t, s, c.Hash), s.ov.has(c.Hash))
		}
	}
	for _, c := range []chunk.Chunk{b, leafB} {
		if !inPebble(t, s, c.Hash) || s.ov.has(c.Hash) {
			t.Errorf("current chunk %s: in Pebble %v, in the overlay %v", c.Data, inPebble(t, s, c.Hash), s.ov.has(c.Hash))
		}
	}
	if s.ov.size() != 0 {
		t.Errorf("the overlay holds %d bytes after a checkpoint with nothing in flight", s.ov.size())
	}
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// The prune goes by the leases live when it runs: committed chunks a lease
// kept at the checkpoint are dropped by the prune after that lease ends
// (the commit path's prune waits for the leases of the generation before),
// and kept by one that runs while it lasts.
func TestPruneAfterLeasesEnd(t *testing.T) {
	ctx := context.Background()
	for _, released := range []bool{false, true} {
		s := openWith(t, t.TempDir(), Options{CheckpointSize: 1 << 30})
		last := commitChain(t, s, "main", 2)[1]
		l := s.Leases().Acquire(last)
		a, b := chunktest.Opaque(fmt.Sprint("replaced ", released)), chunktest.Opaque("current")
		if err := s.Put(ctx, a, b); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateRefs(ctx, chunk.RefUpdate{Name: "main", Old: last, New: a.Hash}); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateRefs(ctx, chunk.RefUpdate{Name: "main", Old: a.Hash, New: b.Hash}); err != nil {
			t.Fatal(err)
		}
		if err := s.checkpoint(true); err != nil {
			t.Fatal(err)
		}
		gen := s.gen.Load()
		if released {
			go func() {
				time.Sleep(5 * time.Millisecond)
				l.Release()
			}()
			start := time.Now()
			s.awaitLeasesFrom(gen)
			if s.leases.Oldest() < gen {
				t.Fatalf("awaitLeasesFrom returned after %v with a lease of generation %d live", time.Since(start), s.leases.Oldest())
			}
		}
		s.pruneOverlay()
		checkOverlay(t, s)
		if kept := s.ov.has(a.Hash); kept == released {
			t.Errorf("lease released before the prune %v: replaced chunk kept %v", released, kept)
		}
		if got, err := s.Get(ctx, b.Hash); err != nil || !bytes.Equal(got, b.Data) {
			t.Fatalf("current chunk: %q, %v", got, err)
		}
		l.Release()
		if err := s.Check(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// Chunks written under a live lease stay in the overlay (and out of Pebble)
// however many checkpoints pass. Once the lease is released, a chunk never
// committed is dropped when two checkpoints found it garbage.
func TestCheckpointKeepsLeased(t *testing.T) {
	ctx := context.Background()
	s := openWith(t, t.TempDir(), Options{CheckpointSize: 1 << 30})
	lease := s.Leases().Acquire()
	pending := chunktest.Opaque("written under a live lease")
	if err := s.Put(ctx, pending); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		commitChain(t, s, fmt.Sprint("ref", i), 2)
		if err := checkpointNow(s); err != nil {
			t.Fatal(err)
		}
	}
	if !s.ov.has(pending.Hash) || inPebble(t, s, pending.Hash) {
		t.Fatalf("leased chunk: in the overlay %v, in Pebble %v", s.ov.has(pending.Hash), inPebble(t, s, pending.Hash))
	}
	lease.Release()
	checkpointNow(s)
	if !s.ov.has(pending.Hash) {
		t.Fatal("garbage dropped at the first checkpoint that found it")
	}
	checkpointNow(s)
	if s.ov.has(pending.Hash) || inPebble(t, s, pending.Hash) {
		t.Fatal("garbage kept after two checkpoints found it")
	}
}

// GC collects the overlay's garbage as it does Pebble's.
func TestGCCollectsOverlay(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	garbage := chunktest.Opaque("garbage")
	if err := s.Put(ctx, garbage); err != nil {
		t.Fatal(err)
	}
	root := commitChain(t, s, "main", 2)[1]
	st, err := chunk.GC(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if s.ov.has(garbage.Hash) || st.Deleted != 1 {
		t.Fatalf("after gc: garbage held %v, stats %+v", s.ov.has(garbage.Hash), st)
	}
	if h, _, _ := chunk.GetRef(ctx, s, "main"); h != root {
		t.Fatal("ref moved")
	}
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// A store of format 1 (before the journal) opens and is upgraded.
func TestUpgradeFormat1(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openWith(t, dir, direct)
	root := commitChain(t, s, "main", 3)[2]
	if err := s.db.Set(keyFormat, []byte(formatValueV1), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Delete(keyEpoch, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, dir)
	if h, _, _ := chunk.GetRef(ctx, s, "main"); h != root {
		t.Fatalf("main = %s after the upgrade, want %s", h, root)
	}
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
	v, closer, err := s.db.Get(keyFormat)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	if string(v) != formatValue {
		t.Fatalf("format after the upgrade = %q", v)
	}
}

// TestJournalGolden pins the journal's bytes for a known commit: a change to
// its layout must be deliberate and come with a new journal version; rewrite
// the file with -update-layout.
func TestJournalGolden(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	ctx := context.Background()
	small := chunk.New(chunk.Encode(chunk.KindOpaque, nil, []byte("small")))
	big := chunk.New(chunk.Encode(chunk.KindOpaque, []chunk.Hash{small.Hash}, []byte("big")))
	if err := s.Put(ctx, small, big); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateRefs(ctx, chunk.RefUpdate{Name: "refs/heads/main", New: big.Hash}); err != nil {
		t.Fatal(err)
	}
	got := hex.Dump(journalBytes(t, vfs.Default, dir)[:s.jrnl.size])
	golden := filepath.Join("testdata", "journal.golden")
	if *updateLayout {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("journal layout changed:\n got:\n%s\nwant:\n%s", got, want)
	}
}

// checkOverlay fails unless the overlay's index finds every chunk it
// holds through its filter, its size is the sum of theirs, no chunk is
// journaled in an epoch to come, and, once the last checkpoint's prune has
// run, none is left that the checkpoint wrote to Pebble.
func checkOverlay(t *testing.T, s *Store) {
	t.Helper()
	s.pruneMu.Lock() // no checkpoint marks, and no prune drops, meanwhile
	defer s.pruneMu.Unlock()
	pruned := !s.prunePending
	o := &s.ov
	o.mu.RLock()
	defer o.mu.RUnlock()
	var bytes int64
	for h, e := range o.all.m {
		if e.journaledIn > o.epoch {
			t.Fatalf("chunk %s journaled in epoch %d, the overlay's is %d", h, e.journaledIn, o.epoch)
		}
		if pruned && e.inPebble {
			t.Fatalf("chunk %s written to Pebble stays in the overlay after the prune", h)
		}
		if !e.inPebble && !o.inJournal(e) && o.unjournaled.get(h) != e && o.prevJournaled.get(h) != e {
			t.Fatalf("unjournaled chunk %s (journaled in epoch %d of %d) is in neither set a commit looks in", h, e.journaledIn, o.epoch)
		}
		bytes += int64(len(e.data))
	}
	if bytes != o.bytes {
		t.Fatalf("the overlay counts %d bytes, holds %d", o.bytes, bytes)
	}
	if pruned && o.prevJournaled.len() != 0 {
		t.Fatalf("the prune left %d chunks in prevJournaled", o.prevJournaled.len())
	}
	sets := map[string]*chunkSet{"all": &o.all, "unjournaled": &o.unjournaled, "prevJournaled": &o.prevJournaled, "journaled": &o.journaled}
	for name, set := range sets {
		for h, e := range set.m {
			if o.all.m[h] != e {
				t.Fatalf("chunk %s is in %s but not in the overlay", h, name)
			}
			if set.get(h) != e {
				t.Fatalf("chunk %s is in %s but its filter misses it", h, name)
			}
		}
		// Every count is exact, unless it reached maxCount: deletions
		// take their hashes out of the filter.
		want := make([]int, len(set.counts))
		for h := range set.m {
			want[set.slot(h)]++
		}
		for slot, c := range set.counts {
			if c < maxCount && int(c) != want[slot] {
				t.Fatalf("%s: filter slot %d counts %d, holds %d", name, slot, c, want[slot])
			}
		}
	}
}

// checkpointNow checkpoints s and prunes its overlay, as a commit leader's
// checkpoint and the prune after it do.
func checkpointNow(s *Store) error {
	err := s.checkpoint(true)
	s.pruneOverlay()
	return err
}

// The overlay's index, which commits look references up in, follows the
// overlay through commits, checkpoints, GC and chunks put again.
func TestOverlayIndex(t *testing.T) {
	ctx := context.Background()
	s := openWith(t, t.TempDir(), Options{CheckpointSize: 4 << 10})
	rng := rand.New(rand.NewPCG(7, 8))
	var kept []chunk.Chunk
	var leases []*chunk.Lease
	var hot chunk.Hash // a ref each commit replaces: its old trees become garbage
	for i := range 400 {
		switch rng.IntN(7) {
		case 4:
			leases = append(leases, s.Leases().Acquire())
		case 5:
			if len(leases) > 0 {
				j := rng.IntN(len(leases))
				leases[j].Release()
				leases = append(leases[:j], leases[j+1:]...)
			}
		case 6:
			leaf := chunktest.Opaque(fmt.Sprintf("hot %d %s", i, strings.Repeat("z", 300)))
			root := chunktest.Node(fmt.Sprintf("hot root %d", i), leaf)
			if err := s.Put(ctx, leaf, root); err != nil {
				t.Fatal(err)
			}
			if err := s.UpdateRefs(ctx, chunk.RefUpdate{Name: "hot", Old: hot, New: root.Hash}); err != nil {
				t.Fatal(err)
			}
			hot = root.Hash
		case 0: // a chunk no ref reaches (yet)
			c := chunktest.Opaque(fmt.Sprintf("loose %d %s", i, strings.Repeat("y", 200)))
			if err := s.Put(ctx, c); err != nil {
				t.Fatal(err)
			}
			kept = append(kept, c)
		case 1: // one put before, again
			if len(kept) > 0 {
				if err := s.Put(ctx, kept[rng.IntN(len(kept))]); err != nil {
					t.Fatal(err)
				}
			}
		case 2:
			commitChain(t, s, fmt.Sprintf("ref%d", i), 1+rng.IntN(3))
		case 3:
			if _, err := s.AdvanceGeneration(ctx); err != nil {
				t.Fatal(err)
			}
		}
		checkOverlay(t, s)
	}
	if _, err := chunk.GC(ctx, s); err != nil {
		t.Fatal(err)
	}
	checkOverlay(t, s)
}
