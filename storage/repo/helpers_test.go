package repo

import (
	"context"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
)

var initTime = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// testingT is what the helpers need of a *testing.T or a *rapid.T.
type testingT interface {
	Helper()
	Fatal(args ...any)
	Errorf(format string, args ...any)
}

// testRepo is a Repo whose helpers fail the test on error.
type testRepo struct {
	*Repo
	t     testingT
	store *chunk.MemoryStore
}

// newRepo returns a repository initialized in a new memory store.
func newRepo(t testingT) *testRepo {
	t.Helper()
	s := chunk.NewMemoryStore()
	r, err := Init(context.Background(), s, InitOptions{Name: "Ada", Email: "ada@example.com", Time: initTime})
	check(t, err)
	return &testRepo{Repo: r, t: t, store: s}
}

// check fails the test on err.
func check(t testingT, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var emptyRootHash = EmptyRoot().Encode().Hash

func (r *testRepo) head(branch string) chunk.Hash {
	r.t.Helper()
	h, err := r.BranchHead(context.Background(), branch)
	check(r.t, err)
	return h
}

func (r *testRepo) commit(h chunk.Hash) *Commit {
	r.t.Helper()
	c, err := r.ReadCommit(context.Background(), h)
	check(r.t, err)
	return c
}

func (r *testRepo) ws(branch string) (*WorkingSet, chunk.Hash) {
	r.t.Helper()
	ws, h, err := r.WorkingSet(context.Background(), branch)
	check(r.t, err)
	return ws, h
}

func (r *testRepo) setWS(branch string, ws *WorkingSet) chunk.Hash {
	r.t.Helper()
	_, old := r.ws(branch)
	h, err := r.UpdateWorkingSet(context.Background(), branch, old, ws)
	check(r.t, err)
	return h
}

// writeRoot writes a root value holding a table for each name, whose rows are
// an opaque chunk holding content[name], and returns its hash.
func (r *testRepo) writeRoot(content map[string]string) chunk.Hash {
	r.t.Helper()
	ctx := context.Background()
	root := EmptyRoot()
	for name, rows := range content {
		rc := chunk.New(chunk.Encode(chunk.KindOpaque, nil, []byte(rows)))
		check(r.t, r.store.Put(ctx, rc))
		th, err := r.WriteTable(ctx, &TableRecord{Rows: rc.Hash})
		check(r.t, err)
		root, err = root.PutTable(name, th)
		check(r.t, err)
	}
	h, err := r.WriteRoot(ctx, root)
	check(r.t, err)
	return h
}

// commitContent stages a root with content on branch and commits it.
func (r *testRepo) commitContent(branch, msg string, content map[string]string) chunk.Hash {
	r.t.Helper()
	// The root is put before any ref names it: hold a lease until one does.
	defer r.store.Leases().Acquire().Release()
	root := r.writeRoot(content)
	ws, _ := r.ws(branch)
	r.setWS(branch, &WorkingSet{Working: root, Staged: root, Merge: ws.Merge})
	h, err := r.Commit(context.Background(), branch, CommitOptions{
		CommitMeta: CommitMeta{Message: msg, Author: Signature{Name: "Ada", Email: "ada@example.com", Time: initTime}},
		AllowEmpty: true,
	})
	check(r.t, err)
	return h
}

// create writes a commit with parents and a unique message, moving no ref.
func (r *testRepo) create(msg string, parents ...chunk.Hash) chunk.Hash {
	r.t.Helper()
	h, err := r.CreateCommit(context.Background(), emptyRootHash, parents, CommitMeta{Message: msg, Author: Signature{Time: initTime}})
	check(r.t, err)
	return h
}

// checkReachable checks that every chunk reachable from every ref is in the
// store (put before reference).
func (r *testRepo) checkReachable() {
	r.t.Helper()
	ctx := context.Background()
	refs, err := r.store.Refs(ctx)
	check(r.t, err)
	var roots []chunk.Hash
	for _, h := range refs {
		roots = append(roots, h)
	}
	if err := chunk.Walk(ctx, r.store, roots, nil, func(chunk.Hash, []byte) error { return nil }); err != nil {
		r.t.Errorf("walk from refs: %v", err)
	}
}
