package repo

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/cairndb/cairn/storage/chunk"
)

func branchNames(t *testing.T, r *testRepo) []string {
	t.Helper()
	bs, err := r.Branches(context.Background())
	check(t, err)
	var out []string
	for _, b := range bs {
		if b.Head != r.head(b.Name) {
			t.Errorf("branch %s listed at %s, head %s", b.Name, b.Head, r.head(b.Name))
		}
		out = append(out, b.Name)
	}
	return out
}

func TestBranchOperations(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		op      func(r *testRepo, c0, c1 chunk.Hash) error
		wantErr error
		want    []string // branches after
	}{
		{"create", func(r *testRepo, c0, c1 chunk.Hash) error { return r.CreateBranch(ctx, "dev", c0) }, nil, []string{"dev", "feature", "main"}},
		{"create existing", func(r *testRepo, c0, c1 chunk.Hash) error { return r.CreateBranch(ctx, "feature", c0) }, ErrBranchExists, nil},
		{"create invalid name", func(r *testRepo, c0, c1 chunk.Hash) error { return r.CreateBranch(ctx, "a..b", c0) }, ErrInvalidName, nil},
		{"create at a root", func(r *testRepo, c0, c1 chunk.Hash) error { return r.CreateBranch(ctx, "x", emptyRootHash) }, ErrNotCommit, nil},
		{"create at a missing commit", func(r *testRepo, c0, c1 chunk.Hash) error { return r.CreateBranch(ctx, "x", fakeHash("x")) }, chunk.ErrNotFound, nil},
		{"delete", func(r *testRepo, c0, c1 chunk.Hash) error { return r.DeleteBranch(ctx, "feature") }, nil, []string{"main"}},
		{"delete missing", func(r *testRepo, c0, c1 chunk.Hash) error { return r.DeleteBranch(ctx, "nope") }, ErrBranchNotFound, nil},
		{"rename", func(r *testRepo, c0, c1 chunk.Hash) error { return r.RenameBranch(ctx, "feature", "topic/f") }, nil, []string{"main", "topic/f"}},
		{"rename to itself", func(r *testRepo, c0, c1 chunk.Hash) error { return r.RenameBranch(ctx, "feature", "feature") }, nil, nil},
		{"rename to existing", func(r *testRepo, c0, c1 chunk.Hash) error { return r.RenameBranch(ctx, "feature", "main") }, ErrBranchExists, nil},
		{"rename missing", func(r *testRepo, c0, c1 chunk.Hash) error { return r.RenameBranch(ctx, "nope", "x") }, ErrBranchNotFound, nil},
		{"rename to invalid", func(r *testRepo, c0, c1 chunk.Hash) error { return r.RenameBranch(ctx, "feature", "-x") }, ErrInvalidName, nil},
		{"copy", func(r *testRepo, c0, c1 chunk.Hash) error { return r.CopyBranch(ctx, "feature", "copy") }, nil, []string{"copy", "feature", "main"}},
		{"copy to existing", func(r *testRepo, c0, c1 chunk.Hash) error { return r.CopyBranch(ctx, "feature", "main") }, ErrBranchExists, nil},
		{"copy missing", func(r *testRepo, c0, c1 chunk.Hash) error { return r.CopyBranch(ctx, "nope", "x") }, ErrBranchNotFound, nil},
		{"copy to invalid", func(r *testRepo, c0, c1 chunk.Hash) error { return r.CopyBranch(ctx, "main", "x:y") }, ErrInvalidName, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRepo(t)
			c0 := r.head("main")
			check(t, r.CreateBranch(ctx, "feature", c0))
			c1 := r.commitContent("feature", "f", map[string]string{"t": "1"})
			before := branchNames(t, r)
			err := tt.op(r, c0, c1)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
			want := tt.want
			if want == nil {
				want = before
			}
			if got := branchNames(t, r); !reflect.DeepEqual(got, want) {
				t.Errorf("branches %v, want %v", got, want)
			}
			// Every branch has a working set, and no working set outlives its branch.
			refs, err := r.store.Refs(ctx)
			check(t, err)
			for name := range refs {
				if b, ok := cutPrefix(name, WorkingSetsPrefix); ok {
					if _, ok := refs[BranchRef(b)]; !ok {
						t.Errorf("working set of missing branch %q", b)
					}
				}
				if b, ok := cutPrefix(name, HeadsPrefix); ok {
					if _, ok := refs[WorkingSetRef(b)]; !ok {
						t.Errorf("branch %q without working set", b)
					}
				}
			}
			r.checkReachable()
		})
	}
}

func cutPrefix(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):], true
	}
	return "", false
}

// A new or copied branch starts clean at its start commit; a renamed one
// keeps its working set.
func TestBranchWorkingSets(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	c1 := r.commitContent("main", "c1", map[string]string{"t": "1"})
	dirty := &WorkingSet{Working: r.writeRoot(map[string]string{"t": "2"}), Staged: r.commit(c1).Root}
	r.setWS("main", dirty)

	check(t, r.CreateBranch(ctx, "new", c1))
	check(t, r.CopyBranch(ctx, "main", "copy"))
	for _, b := range []string{"new", "copy"} {
		ws, _ := r.ws(b)
		if r.head(b) != c1 || ws.Working != r.commit(c1).Root || ws.Staged != ws.Working {
			t.Errorf("branch %s: head %s, working set %+v; want clean at %s", b, r.head(b), ws, c1)
		}
	}
	_, wsHash := r.ws("main")
	check(t, r.RenameBranch(ctx, "main", "trunk"))
	if ws, h := r.ws("trunk"); h != wsHash || *ws != *dirty || r.head("trunk") != c1 {
		t.Errorf("renamed branch: working set %+v, head %s", ws, r.head("trunk"))
	}
	if _, err := r.BranchHead(ctx, "main"); !errors.Is(err, ErrBranchNotFound) {
		t.Errorf("old name after rename: %v", err)
	}
}

func TestRemoteBranches(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	c0 := r.head("main")
	check(t, r.store.UpdateRefs(ctx,
		chunk.RefUpdate{Name: RemoteRef("origin", "main"), New: c0},
		chunk.RefUpdate{Name: RemoteRef("origin", "feature/x"), New: c0},
		chunk.RefUpdate{Name: RemoteRef("backup", "main"), New: c0}))
	got, err := r.RemoteBranches(ctx)
	check(t, err)
	want := []RemoteBranch{{"backup", "main", c0}, {"origin", "feature/x", c0}, {"origin", "main", c0}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("remote branches %v, want %v", got, want)
	}
	if bs := branchNames(t, r); !reflect.DeepEqual(bs, []string{"main"}) {
		t.Errorf("branches %v: remote-tracking branches are not branches", bs)
	}
}

func TestTags(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	c0 := r.head("main")
	c1 := r.commitContent("main", "c1", map[string]string{"t": "1"})
	h1, err := r.CreateTag(ctx, "v1", c1, TagOptions{Tagger: sampleSig, Message: "one"})
	check(t, err)
	_, err = r.CreateTag(ctx, "v0", c0, TagOptions{})
	check(t, err)

	tags, err := r.Tags(ctx)
	check(t, err)
	if len(tags) != 2 || tags[0].Name != "v0" || tags[1].Name != "v1" {
		t.Fatalf("tags %+v, want v0, v1", tags)
	}
	if tg := tags[1]; tg.Hash != h1 || tg.Commit != c1 || tg.Message != "one" || tg.Tagger != sampleSig.normalize() {
		t.Errorf("tag v1 %+v", tg)
	}
	if tags[0].Tagger.Time.IsZero() {
		t.Error("zero tagger time not replaced by now")
	}
	tests := []struct {
		name    string
		op      func() error
		wantErr error
	}{
		{"create existing", func() error { _, err := r.CreateTag(ctx, "v1", c0, TagOptions{}); return err }, ErrTagExists},
		{"create invalid", func() error { _, err := r.CreateTag(ctx, "v 1", c0, TagOptions{}); return err }, ErrInvalidName},
		{"create on a root", func() error { _, err := r.CreateTag(ctx, "r", emptyRootHash, TagOptions{}); return err }, ErrNotCommit},
		{"create on missing commit", func() error { _, err := r.CreateTag(ctx, "m", fakeHash("m"), TagOptions{}); return err }, chunk.ErrNotFound},
		{"delete missing", func() error { return r.DeleteTag(ctx, "nope") }, ErrTagNotFound},
		{"delete", func() error { return r.DeleteTag(ctx, "v0") }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.op(); !errors.Is(err, tt.wantErr) {
				t.Errorf("got %v, want %v", err, tt.wantErr)
			}
		})
	}
	tags, err = r.Tags(ctx)
	check(t, err)
	if len(tags) != 1 || tags[0].Name != "v1" {
		t.Errorf("tags after delete %+v", tags)
	}
	r.checkReachable()
}
