package repo

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cairndb/cairn/storage/chunk"
)

func TestResolve(t *testing.T) {
	ctx := context.Background()
	r, g := graph(t)
	check(t, r.UpdateBranch(ctx, BranchUpdate{Branch: "main", OldHead: r.head("main"), NewHead: g["a3"]}))
	check(t, r.CreateBranch(ctx, "feature", g["b2"]))
	check(t, r.CreateBranch(ctx, "abcd", g["base"])) // a name that is also a hash prefix
	_, err := r.CreateTag(ctx, "v1", g["a2"], TagOptions{})
	check(t, err)
	check(t, r.store.UpdateRefs(ctx, chunk.RefUpdate{Name: RemoteRef("origin", "main"), New: g["a1"]}))
	b1 := g["b1"].String()

	tests := []struct {
		rev, head string
		want      string // a name in g, or empty when wantErr
		wantErr   error
	}{
		{rev: "main", want: "a3"},
		{rev: "feature", want: "b2"},
		{rev: "HEAD", head: "main", want: "a3"},
		{rev: "head", head: "feature", want: "b2"},
		{rev: "HEAD~", head: "main", want: "m"},
		{rev: "HEAD~1", head: "main", want: "m"},
		{rev: "HEAD~2", head: "main", want: "a2"},
		{rev: "HEAD~4", head: "main", want: "base"},
		{rev: "main^", want: "m"},
		{rev: "main^1", want: "m"},
		{rev: "main^^2", want: "b2"},
		{rev: "main~1^2~1", want: "b1"},
		{rev: "main^^2^", want: "b1"},
		{rev: "main~~", want: "a2"},
		{rev: "main^0", want: "a3"},
		{rev: "main~0", want: "a3"},
		{rev: "v1", want: "a2"},
		{rev: "v1~1", want: "a1"},
		{rev: "refs/tags/v1", want: "a2"},
		{rev: "refs/heads/feature", want: "b2"},
		{rev: "origin/main", want: "a1"},
		{rev: "refs/remotes/origin/main", want: "a1"},
		{rev: "abcd", want: "base"},
		{rev: b1, want: "b1"},
		{rev: b1[:4], want: "b1"},
		{rev: b1[:10] + "~", want: "base"},
		{rev: g["other"].String(), want: "other"}, // a full hash needs no ref
		{rev: g["other"].String()[:8], wantErr: ErrRevisionNotFound},
		{rev: "HEAD~5", head: "main", wantErr: ErrRevisionNotFound},
		{rev: "main^3", wantErr: ErrRevisionNotFound},
		{rev: "base^", wantErr: ErrRevisionNotFound},
		{rev: "HEAD", wantErr: ErrRevisionNotFound},
		{rev: "HEAD", head: "gone", wantErr: ErrBranchNotFound},
		{rev: "nope", wantErr: ErrRevisionNotFound},
		{rev: "nope~1", wantErr: ErrRevisionNotFound},
		{rev: "refs/heads/nope", wantErr: ErrRevisionNotFound},
		{rev: "abc", wantErr: ErrRevisionNotFound},
		{rev: strings.Repeat("0", chunk.HashStringLen), wantErr: ErrRevisionNotFound},
		{rev: emptyRootHash.String(), wantErr: ErrNotCommit},
		{rev: "refs/workingsets/heads/main", wantErr: ErrNotCommit},
		{rev: "", wantErr: ErrBadRevision},
		{rev: "~1", wantErr: ErrBadRevision},
		{rev: "^", wantErr: ErrBadRevision},
		{rev: "main~x", wantErr: ErrBadRevision},
		{rev: "main~1^a", wantErr: ErrBadRevision},
		{rev: "main~99999999999999999999", wantErr: ErrBadRevision},
	}
	names := map[chunk.Hash]string{}
	for n, h := range g {
		names[h] = n
	}
	for _, tt := range tests {
		t.Run(tt.rev+"@"+tt.head, func(t *testing.T) {
			got, err := r.Resolve(ctx, tt.rev, tt.head)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Resolve = %s, %v; want %v", names[got], err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.rev) {
					t.Errorf("error %q does not quote the revision", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if names[got] != tt.want {
				t.Errorf("Resolve = %s (%s), want %s", names[got], got, tt.want)
			}
		})
	}
}

// A prefix of several reachable commits' hashes is refused, naming them.
func TestResolveAmbiguousPrefix(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	seen := map[string]chunk.Hash{}
	tip := r.head("main")
	var prefix string
	for i := 0; prefix == "" && i < 100000; i++ {
		tip = r.at("c", i, tip)
		p := tip.String()[:minPrefixLen]
		if _, ok := seen[p]; ok {
			prefix = p
		}
		seen[p] = tip
	}
	if prefix == "" {
		t.Fatal("no two commits share a prefix")
	}
	check(t, r.UpdateBranch(ctx, BranchUpdate{Branch: "main", OldHead: r.head("main"), NewHead: tip}))
	_, err := r.Resolve(ctx, prefix, "")
	if !errors.Is(err, ErrAmbiguousRevision) {
		t.Fatalf("Resolve(%q) = %v, want ErrAmbiguousRevision", prefix, err)
	}
	if !strings.Contains(err.Error(), seen[prefix].String()) || !strings.Contains(err.Error(), tip.String()) {
		t.Errorf("error %q does not name the candidates", err)
	}
	if got, err := r.Resolve(ctx, tip.String()[:20], ""); err != nil || got != tip {
		t.Errorf("a longer prefix: %s, %v", got, err)
	}
}
