package repo

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
)

// Init writes the empty root, the initial commit, branch main and its
// working set, and refuses a store that already has a branch.
func TestInit(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	branches, err := r.Branches(ctx)
	check(t, err)
	if len(branches) != 1 || branches[0].Name != "main" {
		t.Fatalf("branches %v, want [main]", branches)
	}
	c := r.commit(branches[0].Head)
	sig := Signature{Name: "Ada", Email: "ada@example.com", Time: initTime}
	if c.Root != emptyRootHash || len(c.Parents) != 0 || c.Height != 1 || c.Message != InitCommitMessage ||
		c.Author != sig || c.Committer != sig {
		t.Errorf("initial commit %+v", c)
	}
	ws, wsHash := r.ws("main")
	if ws.Working != emptyRootHash || ws.Staged != emptyRootHash || ws.Merge != nil || wsHash.IsZero() {
		t.Errorf("working set %+v (%s), want clean at the empty root", ws, wsHash)
	}
	r.checkReachable()

	if _, err := Init(ctx, r.store, InitOptions{}); !errors.Is(err, ErrAlreadyInitialized) {
		t.Errorf("second Init: %v, want ErrAlreadyInitialized", err)
	}

	before := time.Now().Add(-time.Second)
	r2, err := Init(ctx, chunk.NewMemoryStore(), InitOptions{DefaultBranch: "trunk"})
	check(t, err)
	head, err := r2.BranchHead(ctx, "trunk")
	check(t, err)
	if c, err := r2.ReadCommit(ctx, head); err != nil || c.Author.Time.Before(before) {
		t.Errorf("zero InitOptions.Time gave %v, %v; want now", c, err)
	}
	if _, err := Init(ctx, chunk.NewMemoryStore(), InitOptions{DefaultBranch: "a..b"}); !errors.Is(err, ErrInvalidName) {
		t.Errorf("Init with branch a..b: %v, want ErrInvalidName", err)
	}
}

// Two repositories initialized with the same options have the same history.
func TestInitDeterministic(t *testing.T) {
	if newRepo(t).head("main") != newRepo(t).head("main") {
		t.Error("same InitOptions gave different initial commits")
	}
}

func TestCommit(t *testing.T) {
	ctx := context.Background()
	author := Signature{Name: "Bob", Email: "bob@example.com", Time: time.Date(2025, 4, 1, 0, 0, 0, 999_999, time.UTC)}
	committer := Signature{Name: "Carol", Email: "carol@example.com"}
	tests := []struct {
		name        string
		prepare     func(r *testRepo) *WorkingSet // main's working set before the commit
		allowEmpty  bool
		wantErr     error
		wantParents int
	}{
		{name: "nothing staged", wantErr: ErrNothingToCommit},
		{name: "nothing staged, allowed", allowEmpty: true, wantParents: 1},
		{
			name: "staged change",
			prepare: func(r *testRepo) *WorkingSet {
				root := r.writeRoot(map[string]string{"t": "1"})
				return &WorkingSet{Working: root, Staged: root}
			},
			wantParents: 1,
		},
		{
			name: "working differs from staged",
			prepare: func(r *testRepo) *WorkingSet {
				return &WorkingSet{Working: r.writeRoot(map[string]string{"t": "2"}), Staged: r.writeRoot(map[string]string{"t": "1"})}
			},
			wantParents: 1,
		},
		{
			name: "unstaged change only",
			prepare: func(r *testRepo) *WorkingSet {
				return &WorkingSet{Working: r.writeRoot(map[string]string{"t": "2"}), Staged: emptyRootHash}
			},
			wantErr: ErrNothingToCommit,
		},
		{
			name: "merge in progress, nothing staged",
			prepare: func(r *testRepo) *WorkingSet {
				other := r.create("other", r.head("main"))
				return &WorkingSet{Working: emptyRootHash, Staged: emptyRootHash,
					Merge: &MergeState{Commit: other, PreMergeWorking: emptyRootHash, Source: "other"}}
			},
			wantParents: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRepo(t)
			ws, _ := r.ws("main")
			if tt.prepare != nil {
				ws = tt.prepare(r)
				r.setWS("main", ws)
			}
			oldHead := r.head("main")
			h, err := r.Commit(ctx, "main", CommitOptions{
				CommitMeta: CommitMeta{Message: "msg", Author: author, Committer: committer},
				AllowEmpty: tt.allowEmpty,
			})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("commit: %v, want %v", err, tt.wantErr)
				}
				if r.head("main") != oldHead {
					t.Errorf("failed commit moved the head")
				}
				return
			}
			check(t, err)
			if head := r.head("main"); head != h {
				t.Errorf("head %s, want the new commit %s", head, h)
			}
			c := r.commit(h)
			if len(c.Parents) != tt.wantParents || c.Parents[0] != oldHead {
				t.Errorf("parents %v, want %d starting with %s", c.Parents, tt.wantParents, oldHead)
			}
			if tt.wantParents == 2 && c.Parents[1] != ws.Merge.Commit {
				t.Errorf("second parent %s, want merged commit %s", c.Parents[1], ws.Merge.Commit)
			}
			if c.Root != ws.Staged {
				t.Errorf("commit root %s, want staged root %s", c.Root, ws.Staged)
			}
			if want := r.commit(oldHead).Height + 1; tt.wantParents == 1 && c.Height != want {
				t.Errorf("height %d, want %d", c.Height, want)
			}
			if c.Message != "msg" || c.Author != author.normalize() {
				t.Errorf("message %q author %+v", c.Message, c.Author)
			}
			if c.Committer.Name != "Carol" || !c.Committer.Time.Equal(author.normalize().Time) {
				t.Errorf("committer %+v: want Carol at the author's time", c.Committer)
			}
			after, _ := r.ws("main")
			if after.Working != ws.Working || after.Staged != ws.Staged || after.Merge != nil {
				t.Errorf("working set after commit %+v, want %+v without merge", after, ws)
			}
			r.checkReachable()
		})
	}
}

func TestCommitDefaults(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	if _, err := r.Commit(ctx, "nope", CommitOptions{AllowEmpty: true}); !errors.Is(err, ErrBranchNotFound) {
		t.Errorf("commit to missing branch: %v", err)
	}
	// A zero committer means the author.
	h, err := r.Commit(ctx, "main", CommitOptions{AllowEmpty: true, CommitMeta: CommitMeta{Author: sampleSig}})
	check(t, err)
	if c := r.commit(h); c.Committer != sampleSig.normalize() {
		t.Errorf("committer %+v, want the author", c.Committer)
	}
	// A zero author time means now.
	before := time.Now().Add(-time.Second)
	h, err = r.Commit(ctx, "main", CommitOptions{AllowEmpty: true})
	check(t, err)
	if c := r.commit(h); c.Author.Time.Before(before) || c.Committer.Time != c.Author.Time {
		t.Errorf("zero times gave author %v, committer %v", c.Author.Time, c.Committer.Time)
	}
}

// Concurrent commits on one branch either win or lose the compare-and-swap;
// losers that retry get in, and no commit is lost.
func TestConcurrentCommits(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	const writers, each = 4, 10
	var wg sync.WaitGroup
	var mu sync.Mutex
	conflicts := 0
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				opts := CommitOptions{AllowEmpty: true, CommitMeta: CommitMeta{
					Message: "w", Author: Signature{Name: string(rune('a' + w)), Time: initTime.Add(time.Duration(i) * time.Second)}}}
				for {
					_, err := r.Commit(ctx, "main", opts)
					if err == nil {
						break
					}
					if !errors.Is(err, chunk.ErrRefConflict) {
						t.Error(err)
						return
					}
					mu.Lock()
					conflicts++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	n := 0
	check(t, r.Log(ctx, r.head("main"), func(chunk.Hash, *Commit) error { n++; return nil }))
	if n != writers*each+1 {
		t.Errorf("log has %d commits, want %d", n, writers*each+1)
	}
	t.Logf("%d lost races retried", conflicts)
	r.checkReachable()
}

// Commits keep what they write from garbage collections running meanwhile
// (between a put and the ref update naming it), and collections keep
// everything reachable.
func TestCommitWithConcurrentGC(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	done := make(chan struct{})
	gcErr := make(chan error, 1)
	go func() {
		for {
			select {
			case <-done:
				gcErr <- nil
				return
			default:
			}
			if _, err := chunk.GC(ctx, r.store); err != nil {
				gcErr <- err
				return
			}
		}
	}()
	for i := range 200 {
		r.commitContent("main", "c", map[string]string{"t": string(rune('a' + i))})
		// Commit alone, without a lease of the caller's.
		_, err := r.Commit(ctx, "main", CommitOptions{AllowEmpty: true, CommitMeta: CommitMeta{Message: "empty"}})
		check(t, err)
	}
	close(done)
	check(t, <-gcErr)
	r.checkReachable()
}

func TestWorkingSet(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	ws, old := r.ws("main")
	root := r.writeRoot(map[string]string{"t": "x"})
	next := &WorkingSet{Working: root, Staged: ws.Staged}
	h, err := r.UpdateWorkingSet(ctx, "main", old, next)
	check(t, err)
	if got, gotHash := r.ws("main"); gotHash != h || *got != *next {
		t.Errorf("read back %+v %s, want %+v %s", got, gotHash, next, h)
	}

	tests := []struct {
		name    string
		branch  string
		old     chunk.Hash
		ws      *WorkingSet
		wantErr error
	}{
		{"stale old hash", "main", old, next, chunk.ErrRefConflict},
		{"missing branch", "nope", h, next, ErrBranchNotFound},
		{"missing root", "main", h, &WorkingSet{Working: fakeHash("absent"), Staged: root}, chunk.ErrNotFound},
		{"invalid", "main", h, &WorkingSet{Working: root}, ErrInvalidValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := r.UpdateWorkingSet(ctx, tt.branch, tt.old, tt.ws); !errors.Is(err, tt.wantErr) {
				t.Errorf("update: %v, want %v", err, tt.wantErr)
			}
			if _, cur := r.ws("main"); cur != h {
				t.Errorf("failed update changed the working set")
			}
		})
	}
	if _, _, err := r.WorkingSet(ctx, "nope"); !errors.Is(err, ErrBranchNotFound) {
		t.Errorf("working set of missing branch: %v", err)
	}

	// A branch without a working set (as after a fetch) reads as its head's
	// root, and the zero hash as old creates one.
	check(t, r.store.UpdateRefs(ctx, chunk.RefUpdate{Name: BranchRef("fetched"), New: r.head("main")}))
	ws, old = r.ws("fetched")
	if !old.IsZero() || ws.Working != emptyRootHash || ws.Staged != emptyRootHash {
		t.Errorf("working set of a branch without one: %+v %s", ws, old)
	}
	if _, err := r.UpdateWorkingSet(ctx, "fetched", chunk.Hash{}, next); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.ws("fetched"); *got != *next {
		t.Errorf("created working set %+v", got)
	}
	r.checkReachable()
}

func TestUpdateBranch(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	c0 := r.head("main")
	c1 := r.commitContent("main", "c1", map[string]string{"t": "1"})
	ws, wsHash := r.ws("main")
	tests := []struct {
		name    string
		u       BranchUpdate
		wantErr error
	}{
		{"stale head", BranchUpdate{Branch: "main", OldHead: c0, NewHead: c0}, chunk.ErrRefConflict},
		{"stale working set", BranchUpdate{Branch: "main", OldHead: c1, NewHead: c0, WorkingSet: ws, OldWorkingSet: fakeHash("x")}, chunk.ErrRefConflict},
		{"new head not a commit", BranchUpdate{Branch: "main", OldHead: c1, NewHead: emptyRootHash}, ErrNotCommit},
		{"new head missing", BranchUpdate{Branch: "main", OldHead: c1, NewHead: fakeHash("x")}, chunk.ErrNotFound},
		{"missing branch", BranchUpdate{Branch: "nope", OldHead: c1, NewHead: c0}, chunk.ErrRefConflict},
		{"zero old head", BranchUpdate{Branch: "main", NewHead: c0}, ErrInvalidValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := r.UpdateBranch(ctx, tt.u); !errors.Is(err, tt.wantErr) {
				t.Errorf("update: %v, want %v", err, tt.wantErr)
			}
			if r.head("main") != c1 {
				t.Error("failed update moved the head")
			}
		})
	}
	// A hard reset: head and working set together.
	check(t, r.UpdateBranch(ctx, BranchUpdate{Branch: "main", OldHead: c1, NewHead: c0,
		WorkingSet: &WorkingSet{Working: emptyRootHash, Staged: emptyRootHash}, OldWorkingSet: wsHash}))
	ws, _ = r.ws("main")
	if r.head("main") != c0 || ws.Working != emptyRootHash {
		t.Error("reset did not move head and working set")
	}
	// Without a working set, only the head moves.
	check(t, r.UpdateBranch(ctx, BranchUpdate{Branch: "main", OldHead: c0, NewHead: c1}))
	if got, _ := r.ws("main"); *got != *ws {
		t.Error("head-only update changed the working set")
	}
}

func TestCreateCommit(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	c0 := r.head("main")
	a := r.create("a", c0)
	b := r.create("b", a)
	m := r.create("m", c0, b)
	if c := r.commit(m); c.Height != 4 || len(c.Parents) != 2 || c.Parents[0] != c0 || c.Parents[1] != b {
		t.Errorf("merge commit %+v, want height 4 and parents c0, b", c)
	}
	if c := r.commit(r.create("new history")); c.Height != 1 || c.Parents != nil {
		t.Errorf("commit without parents %+v", c)
	}
	tests := []struct {
		name    string
		root    chunk.Hash
		parents []chunk.Hash
		wantErr error
	}{
		{"zero root", chunk.Hash{}, nil, ErrInvalidValue},
		{"missing root", fakeHash("x"), nil, chunk.ErrNotFound},
		{"parent not a commit", emptyRootHash, []chunk.Hash{emptyRootHash}, ErrNotCommit},
		{"missing parent", emptyRootHash, []chunk.Hash{fakeHash("x")}, chunk.ErrNotFound},
		{"zero parent", emptyRootHash, []chunk.Hash{{}}, ErrNotCommit},
		{"repeated parent", emptyRootHash, []chunk.Hash{a, a}, ErrInvalidValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := r.CreateCommit(ctx, tt.root, tt.parents, CommitMeta{}); !errors.Is(err, tt.wantErr) {
				t.Errorf("create: %v, want %v", err, tt.wantErr)
			}
		})
	}
}
