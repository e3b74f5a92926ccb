package sqle

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/repo"
)

// VC is the version-control face of one database in one session: what the
// dolt_* procedures and system tables use. Every change of a branch or
// working set goes through it (or through a transaction's commit), under
// the database's publish lock, so the working sets this process caches stay
// those in the store.
type VC struct {
	s  *Session
	db *Database
	st *dbState
}

// ErrReadOnlyRevision is returned for a change asked of a database as of a
// tag or commit.
var ErrReadOnlyRevision = errors.New("this operation is not supported while in a detached head state")

// OpenVC returns the version-control face of database name (plain or
// revision) for the session of ctx.
func (p *Provider) OpenVC(ctx *sql.Context, name string) (*VC, error) {
	s, err := sessionOf(ctx)
	if err != nil {
		return nil, err
	}
	db, err := p.databaseOf(ctx, name)
	if err != nil {
		return nil, err
	}
	return &VC{s: s, db: db, st: db.st}, nil
}

// Name is the database's name, without revision.
func (v *VC) Name() string { return v.st.name }

// Repo is the database's commit graph.
func (v *VC) Repo() *repo.Repo { return v.st.repo }

// Branch is the branch the database works on: the revision's, or the
// session's checked-out branch; "" for a database as of a tag or commit.
func (v *VC) Branch() string {
	if v.db.rev != nil {
		return v.db.rev.branch
	}
	return v.s.branchOf(v.st)
}

// ReadOnly reports whether the database is as of a tag or commit.
func (v *VC) ReadOnly() bool { return v.db.IsReadOnly() }

// Head returns the head commit of the database's branch, or the commit of
// a read-only revision.
func (v *VC) Head(ctx context.Context) (chunk.Hash, error) {
	if v.db.rev != nil && v.db.rev.branch == "" {
		return v.db.rev.commit, nil
	}
	return v.st.repo.BranchHead(ctx, v.Branch())
}

// CommitTransaction commits the session's SQL transaction, as COMMIT does,
// and starts none: procedures that change branches commit first, as Dolt's
// do.
func (v *VC) CommitTransaction(ctx *sql.Context) error {
	tx := ctx.GetTransaction()
	if tx == nil {
		return nil
	}
	if err := v.s.CommitTransaction(ctx, tx); err != nil {
		return err
	}
	ctx.SetTransaction(nil)
	ctx.SetIgnoreAutoCommit(false)
	return nil
}

// refsOp runs fn, which changes refs of the database, under its publish
// lock once every queued publication is durable, and then forgets the
// cached working sets of branches (read again at their next use).
func (st *dbState) refsOp(fn func() error) error {
	st.publish.Lock()
	defer st.publish.Unlock()
	for {
		st.curMu.RLock()
		n := len(st.pending)
		st.curMu.RUnlock()
		if n == 0 {
			break
		}
		// A publication queued before we took the lock is being synced
		// by its committer, outside the lock: a moment.
		time.Sleep(100 * time.Microsecond)
	}
	err := fn()
	st.curMu.Lock()
	for b, release := range st.curRelease {
		release()
		delete(st.curRelease, b)
		delete(st.cur, b)
	}
	st.curMu.Unlock()
	return err
}

// Branch errors, with Dolt's texts.
type BranchError struct{ msg string }

func (e *BranchError) Error() string { return e.msg }

func branchErrorf(format string, args ...any) error {
	return &BranchError{msg: fmt.Sprintf(format, args...)}
}

// CreateBranch creates branch name at start (a revision; "" means the
// head of the database's branch). With force an existing branch is moved
// there (its uncommitted changes are lost, as in git branch -f).
func (v *VC) CreateBranch(ctx *sql.Context, name, start string, force bool) error {
	if name == "" {
		return branchErrorf("error: cannot branch empty string")
	}
	if err := repo.CheckBranchName(name); err != nil {
		return branchErrorf("fatal: '%s' is an invalid branch name.", name)
	}
	r := v.st.repo
	var at chunk.Hash
	var err error
	if start == "" {
		at, err = v.Head(ctx)
	} else {
		at, err = r.Resolve(ctx, start, v.Branch())
	}
	if err != nil {
		if start == "" {
			return err
		}
		return branchErrorf("fatal: '%s' is not a commit and a branch '%s' cannot be created from it", start, name)
	}
	return v.st.refsOp(func() error {
		if force && name != v.Branch() {
			if err := deleteIfExists(ctx, r, name); err != nil {
				return err
			}
		}
		err := r.CreateBranch(ctx, name, at)
		if errors.Is(err, repo.ErrBranchExists) {
			return branchErrorf("fatal: A branch named '%s' already exists.", name)
		}
		return err
	})
}

// deleteIfExists deletes branch name, if there is one (force over an
// existing branch).
func deleteIfExists(ctx *sql.Context, r *repo.Repo, name string) error {
	if err := r.DeleteBranch(ctx, name); err != nil && !errors.Is(err, repo.ErrBranchNotFound) {
		return err
	}
	return nil
}

// CopyBranch creates branch to at the head of branch from.
func (v *VC) CopyBranch(ctx *sql.Context, from, to string, force bool) error {
	if err := repo.CheckBranchName(to); err != nil {
		return branchErrorf("fatal: '%s' is not a valid branch name.", to)
	}
	r := v.st.repo
	return v.st.refsOp(func() error {
		if _, err := r.BranchHead(ctx, from); errors.Is(err, repo.ErrBranchNotFound) {
			return branchErrorf("fatal: A branch named '%s' not found", from)
		} else if err != nil {
			return err
		}
		if force {
			if err := deleteIfExists(ctx, r, to); err != nil {
				return err
			}
		}
		err := r.CopyBranch(ctx, from, to)
		if errors.Is(err, repo.ErrBranchExists) {
			return branchErrorf("fatal: A branch named '%s' already exists.", to)
		}
		return err
	})
}

// RenameBranch renames branch from to to; a session on from follows it.
func (v *VC) RenameBranch(ctx *sql.Context, from, to string, force bool) error {
	if err := repo.CheckBranchName(to); err != nil {
		return branchErrorf("fatal: '%s' is an invalid branch name.", to)
	}
	r := v.st.repo
	err := v.st.refsOp(func() error {
		if force && from != to {
			if err := deleteIfExists(ctx, r, to); err != nil {
				return err
			}
		}
		err := r.RenameBranch(ctx, from, to)
		switch {
		case errors.Is(err, repo.ErrBranchNotFound):
			return branchErrorf("branch not found")
		case errors.Is(err, repo.ErrBranchExists):
			return branchErrorf("fatal: A branch named '%s' already exists.", to)
		}
		return err
	})
	if err == nil && v.s.branchOf(v.st) == from {
		err = v.s.SetBranch(ctx, v.st.name, to)
	}
	if err == nil && v.st.defaultBranch() == from {
		err = v.s.prov.SetDefaultBranch(ctx, v.st.name, to)
	}
	return err
}

// DeleteBranch deletes branch name. The session's checked-out branch is
// never deleted; without force, neither is a branch whose head is not
// merged into the session's branch.
func (v *VC) DeleteBranch(ctx *sql.Context, name string, force bool) error {
	if name == v.Branch() || name == v.s.branchOf(v.st) || name == v.st.defaultBranch() {
		return branchErrorf("Cannot delete checked out branch '%s'", name)
	}
	r := v.st.repo
	return v.st.refsOp(func() error {
		head, err := r.BranchHead(ctx, name)
		if errors.Is(err, repo.ErrBranchNotFound) {
			return branchErrorf("branch not found")
		}
		if err != nil {
			return err
		}
		if !force {
			if cur := v.Branch(); cur != "" {
				into, err := r.BranchHead(ctx, cur)
				if err != nil {
					return err
				}
				merged, err := r.IsAncestor(ctx, head, into)
				if err != nil {
					return err
				}
				if !merged {
					return branchErrorf("branch '%s' is not fully merged", name)
				}
			}
		}
		return r.DeleteBranch(ctx, name)
	})
}

// Checkout makes branch the session's branch of the database and the
// database (without revision) the current one. It returns the branch's
// name as stored (branch matches in any case) and whether the session was
// on it already.
func (v *VC) Checkout(ctx *sql.Context, branch string) (string, bool, error) {
	if branch == "" {
		return "", false, branchErrorf("error: cannot checkout empty string")
	}
	branches, err := v.st.repo.Branches(ctx)
	if err != nil {
		return "", false, err
	}
	found := ""
	for _, b := range branches {
		if b.Name == branch || found == "" && strings.EqualFold(b.Name, branch) {
			found = b.Name
		}
	}
	if found == "" {
		if h, err := v.st.repo.Resolve(ctx, branch, ""); err == nil {
			return "", false, branchErrorf("dolt does not support a detached head state. To create a branch at this commit instead, run:\n\tCALL DOLT_CHECKOUT('%s', '-b', <new_branch_name>)", h)
		}
		return "", false, branchErrorf("error: could not find %s", branch)
	}
	already := v.s.branchOf(v.st) == found && v.db.rev == nil
	if err := v.s.SetBranch(ctx, v.st.name, found); err != nil {
		return "", false, err
	}
	ctx.SetCurrentDatabase(v.st.name)
	return found, already, nil
}

// RestoreTables sets tables of the session's working root back to their
// state at the head of its branch: changed tables as committed, tables the
// head lacks dropped. Names match in any case; a name that is a table
// neither in the working root nor at the head gives an error naming it.
func (v *VC) RestoreTables(ctx *sql.Context, names []string) error {
	if v.ReadOnly() {
		return ErrReadOnlyRevision
	}
	_, d, err := v.db.tx(ctx)
	if err != nil {
		return err
	}
	head, err := v.Head(ctx)
	if err != nil {
		return err
	}
	c, err := v.st.repo.ReadCommit(ctx, head)
	if err != nil {
		return err
	}
	headRoot, err := v.st.repo.ReadRoot(ctx, c.Root)
	if err != nil {
		return err
	}
	root := d.root
	var missing []string
	for _, n := range names {
		work, inWork := findTable(root, n)
		committed, inHead := findTable(headRoot, n)
		switch {
		case inHead:
			h, _ := headRoot.GetTable(committed)
			if inWork && work != committed {
				root, _ = root.DeleteTable(work)
			}
			if root, err = root.PutTable(committed, h); err != nil {
				return err
			}
		case inWork:
			root, _ = root.DeleteTable(work)
		default:
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return branchErrorf("error: given tables do not exist: %s", strings.Join(missing, ", "))
	}
	d.root = root
	return nil
}
