package sqle

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/repo"
)

// Staging, commits, resets and tags of the database's branch. Each first
// commits the session's SQL transaction (the caller does that), then
// changes the branch's working set or head in one compare-and-swap under
// the database's publish lock.

// Stage is what to copy from the working root to the staged root.
type Stage int

const (
	// StageNamed stages the named tables only.
	StageNamed Stage = iota
	// StageAll stages everything: new, changed and deleted tables and
	// schema objects (dolt_add('.'), -A).
	StageAll
	// StageTracked stages changed and deleted tables, not new ones
	// (dolt_commit -a).
	StageTracked
)

// Schema objects appear in dolt_status and may be staged under the names
// of Dolt's tables for them.
const (
	schemasTableName    = "dolt_schemas"    // views, triggers, events
	proceduresTableName = "dolt_procedures" // stored procedures
)

func collectionTable(coll string) string {
	if coll == repo.CollectionProcedures {
		return proceduresTableName
	}
	return schemasTableName
}

// roots reads the head, staged and working roots of the branch, and the
// working set and its hash.
type branchRoots struct {
	head                   chunk.Hash // the head commit
	headRoot, staged, work *repo.RootValue
	ws                     *repo.WorkingSet
	wsHash                 chunk.Hash
}

func (v *VC) readRoots(ctx context.Context) (*branchRoots, error) {
	r := v.st.repo
	b := v.Branch()
	if b == "" {
		return nil, ErrReadOnlyRevision
	}
	head, err := r.BranchHead(ctx, b)
	if err != nil {
		return nil, err
	}
	c, err := r.ReadCommit(ctx, head)
	if err != nil {
		return nil, err
	}
	ws, wsHash, err := r.WorkingSet(ctx, b)
	if err != nil {
		return nil, err
	}
	out := &branchRoots{head: head, ws: ws, wsHash: wsHash}
	if out.headRoot, err = r.ReadRoot(ctx, c.Root); err != nil {
		return nil, err
	}
	if out.staged, err = r.ReadRoot(ctx, ws.Staged); err != nil {
		return nil, err
	}
	if out.work, err = r.ReadRoot(ctx, ws.Working); err != nil {
		return nil, err
	}
	return out, nil
}

// stageRoot returns staged with what mode (and names) takes from work.
func stageRoot(staged, work, head *repo.RootValue, mode Stage, names []string) (*repo.RootValue, error) {
	if mode == StageAll {
		return withoutConflicts(work), nil
	}
	out := staged
	var err error
	take := func(name string) error {
		h, ok := work.GetTable(name)
		if !ok {
			out, _ = out.DeleteTable(name)
			return nil
		}
		out, err = out.PutTable(name, h)
		return err
	}
	takeColls := func(procedures bool) error {
		for _, coll := range []string{repo.CollectionViews, repo.CollectionTriggers, repo.CollectionEvents, repo.CollectionProcedures} {
			if (coll == repo.CollectionProcedures) != procedures {
				continue
			}
			h, ok := work.Collection(coll)
			if !ok {
				out, _ = out.DeleteCollection(coll)
				continue
			}
			if out, err = out.PutCollection(coll, h); err != nil {
				return err
			}
		}
		return nil
	}
	if mode == StageTracked {
		for _, n := range union(staged.TableNames(), work.TableNames()) {
			_, inHead := head.GetTable(n)
			_, inStaged := staged.GetTable(n)
			if inHead || inStaged {
				if err := take(n); err != nil {
					return nil, err
				}
			}
		}
		if err := takeColls(false); err != nil {
			return nil, err
		}
		if err := takeColls(true); err != nil {
			return nil, err
		}
		return out.WithSettings(work.Settings()), nil
	}
	var missing []string
	for _, n := range names {
		switch {
		case strings.EqualFold(n, schemasTableName):
			err = takeColls(false)
		case strings.EqualFold(n, proceduresTableName):
			err = takeColls(true)
		default:
			name, ok := findTable(work, n)
			if !ok {
				if name, ok = findTable(staged, n); !ok {
					missing = append(missing, n)
					continue
				}
			}
			err = take(name)
		}
		if err != nil {
			return nil, err
		}
	}
	if len(missing) > 0 {
		return nil, branchErrorf("error: the tables %s do not exist", strings.Join(missing, ", "))
	}
	return out, nil
}

func union(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range append(append([]string(nil), a...), b...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// Add stages tables (dolt_add).
func (v *VC) Add(ctx *sql.Context, mode Stage, names []string) error {
	return v.st.refsOp(func() error { return v.stageLocked(ctx, mode, names) })
}

// stageLocked stages under the publish lock.
func (v *VC) stageLocked(ctx *sql.Context, mode Stage, names []string) error {
	br, err := v.readRoots(ctx)
	if err != nil {
		return err
	}
	staged, err := stageRoot(br.staged, br.work, br.headRoot, mode, names)
	if err != nil {
		return err
	}
	h, err := v.st.repo.WriteRoot(ctx, staged)
	if err != nil {
		return err
	}
	if h == br.ws.Staged {
		return nil
	}
	_, err = v.st.repo.UpdateWorkingSet(ctx, v.Branch(), br.wsHash, &repo.WorkingSet{Working: br.ws.Working, Staged: h, Merge: br.ws.Merge})
	return err
}

// CommitOptions configures Commit.
type CommitOptions struct {
	Message    string
	Author     repo.Signature
	AllowEmpty bool
	// Stage, if not StageNamed, stages before committing (-a, -A).
	Stage Stage
}

// ErrNothingToCommit is Dolt's error for a commit of nothing.
var ErrNothingToCommit = errors.New("nothing to commit")

// Commit records the staged root as a commit on the branch.
func (v *VC) Commit(ctx *sql.Context, o CommitOptions) (chunk.Hash, error) {
	var h chunk.Hash
	err := v.st.refsOp(func() error {
		br, err := v.readRoots(ctx)
		if err != nil {
			return err
		}
		if _, order, err := v.st.conflictCounts(ctx, br.work); err != nil {
			return err
		} else if len(order) > 0 {
			return errUnresolvedConflicts(order)
		}
		if o.Stage != StageNamed {
			if err := v.stageLocked(ctx, o.Stage, nil); err != nil {
				return err
			}
		}
		h, err = v.st.repo.Commit(ctx, v.Branch(), repo.CommitOptions{
			CommitMeta: repo.CommitMeta{Message: o.Message, Author: o.Author}, AllowEmpty: o.AllowEmpty})
		if errors.Is(err, repo.ErrNothingToCommit) {
			return ErrNothingToCommit
		}
		return err
	})
	return h, err
}

// ResetHard sets the working and staged roots to those of rev (the head if
// rev is ""), moving the head there too, and clears a merge in progress.
func (v *VC) ResetHard(ctx *sql.Context, rev string) error {
	return v.st.refsOp(func() error {
		br, err := v.readRoots(ctx)
		if err != nil {
			return err
		}
		target := br.head
		if rev != "" {
			if target, err = v.st.repo.Resolve(ctx, rev, v.Branch()); err != nil {
				return fmt.Errorf("%s is not a valid commit: %w", rev, err)
			}
		}
		c, err := v.st.repo.ReadCommit(ctx, target)
		if err != nil {
			return err
		}
		return v.st.repo.UpdateBranch(ctx, repo.BranchUpdate{Branch: v.Branch(), OldHead: br.head, NewHead: target,
			WorkingSet: &repo.WorkingSet{Working: c.Root, Staged: c.Root}, OldWorkingSet: br.wsHash})
	})
}

// ResetSoft moves the head to rev, keeping the staged and working roots;
// with rev "" it unstages everything (staged := head), as dolt_reset()
// does.
func (v *VC) ResetSoft(ctx *sql.Context, rev string) error {
	return v.st.refsOp(func() error {
		br, err := v.readRoots(ctx)
		if err != nil {
			return err
		}
		if rev == "" {
			return v.unstageLocked(ctx, br, nil)
		}
		target, err := v.st.repo.Resolve(ctx, rev, v.Branch())
		if err != nil {
			return fmt.Errorf("%s is not a valid commit: %w", rev, err)
		}
		return v.st.repo.UpdateBranch(ctx, repo.BranchUpdate{Branch: v.Branch(), OldHead: br.head, NewHead: target})
	})
}

// Unstage sets the staged version of tables (every table if none is
// named) back to the head's.
func (v *VC) Unstage(ctx *sql.Context, names []string) error {
	return v.st.refsOp(func() error {
		br, err := v.readRoots(ctx)
		if err != nil {
			return err
		}
		return v.unstageLocked(ctx, br, names)
	})
}

func (v *VC) unstageLocked(ctx *sql.Context, br *branchRoots, names []string) error {
	var staged *repo.RootValue
	if len(names) == 0 {
		staged = br.headRoot
	} else {
		var err error
		if staged, err = stageRoot(br.staged, br.headRoot, br.headRoot, StageNamed, names); err != nil {
			return err
		}
	}
	h, err := v.st.repo.WriteRoot(ctx, staged)
	if err != nil {
		return err
	}
	_, err = v.st.repo.UpdateWorkingSet(ctx, v.Branch(), br.wsHash, &repo.WorkingSet{Working: br.ws.Working, Staged: h, Merge: br.ws.Merge})
	return err
}

// IsTableAnywhere reports whether name is a table in the head, staged or
// working root of the branch (dolt_reset tells tables from revisions so).
func (v *VC) IsTableAnywhere(ctx *sql.Context, name string) (bool, error) {
	br, err := v.readRoots(ctx)
	if err != nil {
		return false, err
	}
	for _, r := range []*repo.RootValue{br.headRoot, br.staged, br.work} {
		if _, ok := findTable(r, name); ok {
			return true, nil
		}
	}
	return strings.EqualFold(name, schemasTableName) || strings.EqualFold(name, proceduresTableName), nil
}

// CreateTag tags the commit rev names (the head if "").
func (v *VC) CreateTag(ctx *sql.Context, name, rev, message string, tagger repo.Signature) error {
	if rev == "" {
		rev = "HEAD"
	}
	target, err := v.st.repo.Resolve(ctx, rev, v.Branch())
	if err != nil {
		return fmt.Errorf("%s is not a valid commit: %w", rev, err)
	}
	_, err = v.st.repo.CreateTag(ctx, name, target, repo.TagOptions{Tagger: tagger, Message: message})
	switch {
	case errors.Is(err, repo.ErrTagExists):
		return branchErrorf("tag '%s' already exists", name)
	case errors.Is(err, repo.ErrInvalidName):
		return branchErrorf("'%s' is not a valid user tag name", name)
	}
	return err
}

// DeleteTag deletes tag name.
func (v *VC) DeleteTag(ctx *sql.Context, name string) error {
	err := v.st.repo.DeleteTag(ctx, name)
	if errors.Is(err, repo.ErrTagNotFound) {
		return branchErrorf("tag not found")
	}
	return err
}
