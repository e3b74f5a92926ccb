package repo

import (
	"context"
	"errors"
	"testing"

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
