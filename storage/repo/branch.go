package repo

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/cairndb/cairn/storage/chunk"
)

// Branch is a branch and its head commit.
type Branch struct {
	Name string
	Head chunk.Hash
}

// RemoteBranch is a remote-tracking branch: branch Name of remote Remote as
// last fetched, and its head commit.
type RemoteBranch struct {
	Remote, Name string
	Head         chunk.Hash
}

// Branches returns every branch, in ascending order of name.
func (r *Repo) Branches(ctx context.Context) ([]Branch, error) {
	refs, err := r.store.Refs(ctx)
	if err != nil {
		return nil, fmt.Errorf("repo: list branches: %w", err)
	}
	var out []Branch
	for name, h := range refs {
		if b, ok := strings.CutPrefix(name, HeadsPrefix); ok {
			out = append(out, Branch{Name: b, Head: h})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// RemoteBranches returns every remote-tracking branch, in ascending order of
// remote then name.
func (r *Repo) RemoteBranches(ctx context.Context) ([]RemoteBranch, error) {
	refs, err := r.store.Refs(ctx)
	if err != nil {
		return nil, fmt.Errorf("repo: list remote branches: %w", err)
	}
	var out []RemoteBranch
	for name, h := range refs {
		rest, ok := strings.CutPrefix(name, RemotesPrefix)
		if !ok {
			continue
		}
		if remote, branch, ok := strings.Cut(rest, "/"); ok {
			out = append(out, RemoteBranch{Remote: remote, Name: branch, Head: h})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Remote != out[j].Remote {
			return out[i].Remote < out[j].Remote
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// BranchHead returns the head commit of branch; a missing branch gives
// ErrBranchNotFound.
func (r *Repo) BranchHead(ctx context.Context, branch string) (chunk.Hash, error) {
	h, ok, err := chunk.GetRef(ctx, r.store, BranchRef(branch))
	if err != nil {
		return chunk.Hash{}, fmt.Errorf("repo: read branch %q: %w", branch, err)
	}
	if !ok {
		return chunk.Hash{}, fmt.Errorf("repo: branch %q: %w", branch, ErrBranchNotFound)
	}
	return h, nil
}

// CreateBranch creates branch name at commit start, with a clean working set
// (working and staged roots are start's root). A taken name gives
// ErrBranchExists, an invalid one ErrInvalidName, a start that is not a
// commit ErrNotCommit.
func (r *Repo) CreateBranch(ctx context.Context, name string, start chunk.Hash) error {
	if err := CheckBranchName(name); err != nil {
		return err
	}
	refs, release, err := r.leasedRefs(ctx)
	if err != nil {
		return fmt.Errorf("repo: create branch %q: %w", name, err)
	}
	defer release()
	return r.createBranch(ctx, refs, name, start)
}

// createBranch creates branch name at start given refs, the current refs.
func (r *Repo) createBranch(ctx context.Context, refs map[string]chunk.Hash, name string, start chunk.Hash) error {
	if _, ok := refs[BranchRef(name)]; ok {
		return fmt.Errorf("repo: create branch %q: %w", name, ErrBranchExists)
	}
	defer r.lease(start)()
	c, err := r.userCommit(ctx, start)
	if err != nil {
		return fmt.Errorf("repo: create branch %q: %w", name, err)
	}
	ws, err := r.putWorkingSet(ctx, &WorkingSet{Working: c.Root, Staged: c.Root})
	if err != nil {
		return fmt.Errorf("repo: create branch %q: %w", name, err)
	}
	// A working set left without its branch (which this package never does)
	// is overwritten: Old is whatever the ref holds.
	err = r.store.UpdateRefs(ctx,
		chunk.RefUpdate{Name: BranchRef(name), New: start},
		chunk.RefUpdate{Name: WorkingSetRef(name), Old: refs[WorkingSetRef(name)], New: ws})
	if err != nil {
		return fmt.Errorf("repo: create branch %q: %w", name, err)
	}
	return nil
}

// CopyBranch creates branch to at the head of branch from. Like Dolt's
// `branch -c`, the new branch starts clean: uncommitted changes of from are
// not copied.
func (r *Repo) CopyBranch(ctx context.Context, from, to string) error {
	if err := CheckBranchName(to); err != nil {
		return err
	}
	// The source's head is leased with the refs: it cannot be collected
	// between this reading and the new branch naming it, even if the source
	// moves meanwhile.
	refs, release, err := r.leasedRefs(ctx)
	if err != nil {
		return fmt.Errorf("repo: copy branch %q: %w", from, err)
	}
	defer release()
	head, ok := refs[BranchRef(from)]
	if !ok {
		return fmt.Errorf("repo: copy branch %q: %w", from, ErrBranchNotFound)
	}
	return r.createBranch(ctx, refs, to, head)
}

// RenameBranch renames branch from to to, with its working set, in one
// atomic step. A taken name gives ErrBranchExists.
func (r *Repo) RenameBranch(ctx context.Context, from, to string) error {
	if err := CheckBranchName(to); err != nil {
		return err
	}
	refs, err := r.store.Refs(ctx)
	if err != nil {
		return fmt.Errorf("repo: rename branch %q: %w", from, err)
	}
	head, ok := refs[BranchRef(from)]
	if !ok {
		return fmt.Errorf("repo: rename branch %q: %w", from, ErrBranchNotFound)
	}
	if from == to {
		return nil
	}
	if _, ok := refs[BranchRef(to)]; ok {
		return fmt.Errorf("repo: rename branch %q to %q: %w", from, to, ErrBranchExists)
	}
	// The old working set ref is checked even when absent (Old zero): one
	// created meanwhile would otherwise be left without its branch.
	ws := refs[WorkingSetRef(from)]
	updates := []chunk.RefUpdate{
		{Name: BranchRef(from), Old: head},
		{Name: WorkingSetRef(from), Old: ws},
		{Name: BranchRef(to), New: head},
		{Name: WorkingSetRef(to), Old: refs[WorkingSetRef(to)], New: ws},
	}
	if err := r.store.UpdateRefs(ctx, updates...); err != nil {
		return fmt.Errorf("repo: rename branch %q to %q: %w", from, to, err)
	}
	return nil
}

// DeleteBranch deletes branch name and its working set in one atomic step.
// Whether the branch may be deleted (is it merged? is it checked out?) is
// the caller's decision.
func (r *Repo) DeleteBranch(ctx context.Context, name string) error {
	refs, err := r.store.Refs(ctx)
	if err != nil {
		return fmt.Errorf("repo: delete branch %q: %w", name, err)
	}
	head, ok := refs[BranchRef(name)]
	if !ok {
		return fmt.Errorf("repo: delete branch %q: %w", name, ErrBranchNotFound)
	}
	// The working set ref is checked even when absent (Old zero): one
	// created meanwhile would otherwise outlive the branch.
	updates := []chunk.RefUpdate{
		{Name: BranchRef(name), Old: head},
		{Name: WorkingSetRef(name), Old: refs[WorkingSetRef(name)]},
	}
	if err := r.store.UpdateRefs(ctx, updates...); err != nil {
		return fmt.Errorf("repo: delete branch %q: %w", name, err)
	}
	return nil
}
