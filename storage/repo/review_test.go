package repo

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
)

// hookRefsStore runs beforeUpdate once, at the next UpdateRefs, before the
// update is applied: it lets a test change the refs between an operation's
// reading of them and its compare-and-swap.
type hookRefsStore struct {
	*chunk.MemoryStore
	beforeUpdate func()
}

func (s *hookRefsStore) UpdateRefs(ctx context.Context, updates ...chunk.RefUpdate) error {
	if f := s.beforeUpdate; f != nil {
		s.beforeUpdate = nil
		f()
	}
	return s.MemoryStore.UpdateRefs(ctx, updates...)
}

// checkBranchesAndWorkingSets fails the test if a working set has no branch.
func checkBranchesAndWorkingSets(t *testing.T, s chunk.Store) {
	t.Helper()
	refs, err := s.Refs(context.Background())
	check(t, err)
	for name := range refs {
		if b, ok := cutPrefix(name, WorkingSetsPrefix); ok {
			if _, ok := refs[BranchRef(b)]; !ok {
				t.Errorf("working set of missing branch %q", b)
			}
		}
	}
}

// hookRepo returns a repository over a hookRefsStore with a branch
// "fetched" that has no working set (as after a fetch), and the working set
// an UpdateWorkingSet run from the hook gives it.
func hookRepo(t *testing.T) (*Repo, *hookRefsStore, *WorkingSet) {
	ctx := context.Background()
	s := &hookRefsStore{MemoryStore: chunk.NewMemoryStore()}
	r, err := Init(ctx, s, InitOptions{Time: initTime})
	check(t, err)
	head, err := r.BranchHead(ctx, "main")
	check(t, err)
	check(t, s.MemoryStore.UpdateRefs(ctx, chunk.RefUpdate{Name: BranchRef("fetched"), New: head}))
	rc := chunk.New(chunk.Encode(chunk.KindOpaque, nil, []byte("rows")))
	check(t, s.Put(ctx, rc))
	th, err := r.WriteTable(ctx, &TableRecord{Rows: rc.Hash})
	check(t, err)
	root, err := EmptyRoot().PutTable("t", th)
	check(t, err)
	rh, err := r.WriteRoot(ctx, root)
	check(t, err)
	return r, s, &WorkingSet{Working: rh, Staged: emptyRootHash}
}

// DeleteBranch of a branch without a working set must check that it still
// has none: a working set created meanwhile would outlive its branch.
func TestReviewDeleteBranchChecksAbsentWorkingSet(t *testing.T) {
	ctx := context.Background()
	r, s, ws := hookRepo(t)
	s.beforeUpdate = func() {
		_, err := r.UpdateWorkingSet(ctx, "fetched", chunk.Hash{}, ws)
		check(t, err)
	}
	err := r.DeleteBranch(ctx, "fetched")
	if err != nil && !errors.Is(err, chunk.ErrRefConflict) {
		t.Fatalf("DeleteBranch: %v", err)
	}
	checkBranchesAndWorkingSets(t, s)
}

// RenameBranch of a branch without a working set must check that it still
// has none: otherwise the working set created meanwhile is left behind,
// without its branch, and the renamed branch lacks it.
func TestReviewRenameBranchChecksAbsentWorkingSet(t *testing.T) {
	ctx := context.Background()
	r, s, ws := hookRepo(t)
	s.beforeUpdate = func() {
		_, err := r.UpdateWorkingSet(ctx, "fetched", chunk.Hash{}, ws)
		check(t, err)
	}
	err := r.RenameBranch(ctx, "fetched", "renamed")
	if err != nil && !errors.Is(err, chunk.ErrRefConflict) {
		t.Fatalf("RenameBranch: %v", err)
	}
	checkBranchesAndWorkingSets(t, s)
	if err == nil {
		got, _, err := r.WorkingSet(ctx, "renamed")
		check(t, err)
		if *got != *ws {
			t.Errorf("renamed branch lost its working set: %+v, want %+v", got, ws)
		}
	}
}

// putCommit stores c as is, heights unchecked, and returns its hash.
func putCommit(t *testing.T, r *testRepo, c *Commit) chunk.Hash {
	t.Helper()
	cc, err := c.Encode()
	check(t, err)
	check(t, r.store.Put(context.Background(), cc))
	return cc.Hash
}

// An edge to a parent the walk has already read is checked too: a parent
// not lower than its child is corruption even when another child led to it
// first.
func TestReviewCorruptEdgeToSeenParent(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	sig := func(sec int) Signature { return Signature{Time: initTime.Add(time.Duration(sec) * time.Second)} }
	mk := func(msg string, height uint64, sec int, parents ...chunk.Hash) chunk.Hash {
		return putCommit(t, r, &Commit{Root: emptyRootHash, Parents: parents, Height: height,
			Author: sig(sec), Committer: sig(sec), Message: msg})
	}
	root := mk("root", 1, 0)
	p := mk("p", 2, 100, root) // later than y, so taken first among height 2
	y := mk("y", 2, 50, p)     // corrupt: its parent p is as high as it
	x := mk("x", 3, 200, p)
	m := mk("m", 3, 300, p, y)

	if _, err := r.MergeBase(ctx, x, y); !errors.Is(err, chunk.ErrCorruption) {
		t.Errorf("MergeBase: %v, want corruption", err)
	}
	if _, err := r.MergeBases(ctx, x, y); !errors.Is(err, chunk.ErrCorruption) {
		t.Errorf("MergeBases: %v, want corruption", err)
	}
	var order []string
	err := r.Log(ctx, m, func(_ chunk.Hash, c *Commit) error {
		order = append(order, c.Message)
		return nil
	})
	if !errors.Is(err, chunk.ErrCorruption) {
		t.Errorf("Log: %v (order %v), want corruption", err, order)
	}
	if _, err := r.IsAncestor(ctx, root, m); !errors.Is(err, chunk.ErrCorruption) {
		t.Errorf("IsAncestor: %v, want corruption", err)
	}
}

// Decoding a commit with many parents takes time linear in their number,
// not quadratic (a corrupt chunk of a few megabytes must not stall a reader).
func TestReviewDecodeManyParentsIsFast(t *testing.T) {
	const n = 1 << 17
	refs := make([]chunk.Hash, n+1)
	refs[0] = fakeHash("root")
	for i := 1; i <= n; i++ {
		refs[i][0], refs[i][1], refs[i][2], refs[i][19] = byte(i>>16), byte(i>>8), byte(i), 1
	}
	e := encoder{}
	e.byte(commitVersion)
	e.uvarint(2)
	e.signature(sampleSig)
	e.signature(sampleSig)
	e.str("")
	data := chunk.Encode(chunk.KindCommit, refs, e.buf)
	start := time.Now()
	c, err := DecodeCommit(chunk.Of(data), data)
	check(t, err)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("decoding a commit of %d parents took %v", len(c.Parents), d)
	}
	// Repeats are still found.
	refs[n] = refs[1]
	data = chunk.Encode(chunk.KindCommit, refs, e.buf)
	if _, err := DecodeCommit(chunk.Of(data), data); !errors.Is(err, chunk.ErrCorruption) {
		t.Errorf("repeated parent among many: %v, want corruption", err)
	}
}

// A time whose milliseconds since the epoch do not fit the encoding's int64
// is refused, not silently wrapped into another time (year 300,000,000 was
// stored as year -284,554,050).
func TestReviewTimeOutOfRange(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	far := time.Date(300_000_000, 1, 1, 0, 0, 0, 0, time.UTC)
	farPast := time.Date(-300_000_000, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tm := range []time.Time{far, farPast} {
		_, err := r.Commit(ctx, "main", CommitOptions{AllowEmpty: true, CommitMeta: CommitMeta{Author: Signature{Time: tm}}})
		if !errors.Is(err, ErrInvalidValue) {
			t.Errorf("commit at %v: %v, want ErrInvalidValue", tm, err)
		}
		_, err = r.Commit(ctx, "main", CommitOptions{AllowEmpty: true, CommitMeta: CommitMeta{
			Author: Signature{Time: initTime}, Committer: Signature{Name: "c", Time: tm}}})
		if !errors.Is(err, ErrInvalidValue) {
			t.Errorf("commit with committer at %v: %v, want ErrInvalidValue", tm, err)
		}
		if _, err := r.CreateTag(ctx, "t"+tm.Format("2006"), r.head("main"), TagOptions{Tagger: Signature{Time: tm}}); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("tag at %v: %v, want ErrInvalidValue", tm, err)
		}
		if _, err := (&Tag{Commit: fakeHash("c"), Tagger: Signature{Time: tm}}).Encode(); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("Tag.Encode at %v: %v, want ErrInvalidValue", tm, err)
		}
		if _, err := (&Commit{Root: fakeHash("r"), Height: 1, Author: Signature{Time: tm}}).Encode(); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("Commit.Encode at %v: %v, want ErrInvalidValue", tm, err)
		}
	}
	// The extremes that fit still round-trip.
	for _, tm := range []time.Time{time.UnixMilli(1<<63 - 1).UTC(), time.UnixMilli(-1 << 63).UTC()} {
		c, err := (&Tag{Commit: fakeHash("c"), Tagger: Signature{Time: tm}}).Encode()
		check(t, err)
		tag, err := DecodeTag(c.Hash, c.Data)
		check(t, err)
		if !tag.Tagger.Time.Equal(tm) {
			t.Errorf("time %v decoded as %v", tm, tag.Tagger.Time)
		}
	}
}
