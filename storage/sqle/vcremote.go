package sqle

import (
	"context"
	"strings"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/repo"
)

// What remotes (push, fetch, pull, clone) need of a database.

// Store returns the database's chunk store and its lease registry (nil if
// not collectable).
func (v *VC) Store() (chunk.Store, *chunk.Leases) { return v.st.store, v.st.leases }

// Lease keeps roots, and every chunk put from now on, from garbage
// collection until the returned function is called: a fetch takes one
// before its first chunk and releases it once refs name what it fetched.
func (v *VC) Lease(roots ...chunk.Hash) func() { return v.st.lease(roots...) }

// SetRemoteRefs sets the remote-tracking branches of remote to heads (by
// branch name); with prune, the remote's other tracking branches go. Every
// chunk the heads name must be in the store.
func (v *VC) SetRemoteRefs(ctx context.Context, remote string, heads map[string]chunk.Hash, prune bool) error {
	return v.st.refsOp(func() error {
		refs, err := v.st.store.Refs(ctx)
		if err != nil {
			return err
		}
		var updates []chunk.RefUpdate
		for b, h := range heads {
			name := repo.RemoteRef(remote, b)
			if refs[name] != h {
				updates = append(updates, chunk.RefUpdate{Name: name, Old: refs[name], New: h})
			}
		}
		if prune {
			prefix := repo.RemotesPrefix + remote + "/"
			for name, h := range refs {
				if b, ok := strings.CutPrefix(name, prefix); ok {
					if _, keep := heads[b]; !keep {
						updates = append(updates, chunk.RefUpdate{Name: name, Old: h})
					}
				}
			}
		}
		if len(updates) == 0 {
			return nil
		}
		return v.st.store.UpdateRefs(ctx, updates...)
	})
}

// RemoteHead returns the remote-tracking branch REMOTE/BRANCH's head.
func (v *VC) RemoteHead(ctx context.Context, remote, branch string) (chunk.Hash, bool, error) {
	return chunk.GetRef(ctx, v.st.store, repo.RemoteRef(remote, branch))
}

// IsAncestor reports whether commit a is an ancestor of (or is) commit b;
// false if a is not in the store.
func (v *VC) IsAncestor(ctx context.Context, a, b chunk.Hash) (bool, error) {
	if a == b {
		return true, nil
	}
	if ok, err := v.st.store.Has(ctx, a); err != nil || !ok {
		return false, err
	}
	return v.st.repo.IsAncestor(ctx, a, b)
}

// BranchHeads returns every branch and its head.
func (v *VC) BranchHeads(ctx context.Context) (map[string]chunk.Hash, error) {
	bs, err := v.st.repo.Branches(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]chunk.Hash{}
	for _, b := range bs {
		out[b.Name] = b.Head
	}
	return out, nil
}

// Dir returns the database's directory ("" in memory).
func (v *VC) Dir() string { return v.st.dir }
