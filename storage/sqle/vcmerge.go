package sqle

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/repo"
	"github.com/cairndb/cairn/storage/tree"
)

// Merging branches (dolt_merge). Unlike the merge of a transaction into
// what committed meanwhile, a change both sides made identically is no
// conflict here: branches are merged as git merges files, row by row.

// MergeConflictError lists what both sides of a merge changed differently.
// This version of cairn refuses such a merge and changes nothing; it does
// not yet record conflicts for resolution.
type MergeConflictError struct{ Conflicts []string }

func (e *MergeConflictError) Error() string {
	return "merge conflicts: " + strings.Join(e.Conflicts, "; ") + "; nothing was merged (resolve them on one side and merge again)"
}

// ErrUncommittedChanges is the error of a merge into a branch whose working
// set differs from its head.
var ErrUncommittedChanges = errors.New("cannot merge with uncommitted changes")

// mergeBranchRoots merges into ours the changes from base to theirs, and
// returns the conflicts it found (the root is nil then).
func (st *dbState) mergeBranchRoots(ctx context.Context, base, ours, theirs *repo.RootValue) (*repo.RootValue, map[string][]tree.Conflict, []string, error) {
	var conflicts []string
	rowConflicts := map[string][]tree.Conflict{}
	out := ours
	if !bytes.Equal(theirs.Settings(), base.Settings()) {
		switch {
		case bytes.Equal(ours.Settings(), base.Settings()):
			out = out.WithSettings(theirs.Settings())
		case !bytes.Equal(ours.Settings(), theirs.Settings()):
			conflicts = append(conflicts, "database settings (collation) changed on both sides")
		}
	}
	for _, name := range union(union(base.TableNames(), ours.TableNames()), theirs.TableNames()) {
		b, _ := base.GetTable(name)
		o, _ := ours.GetTable(name)
		t, _ := theirs.GetTable(name)
		var err error
		switch {
		case t == b || o == t:
			// theirs did not change it, or both made the same change
		case o == b:
			out, err = putOrDelete(out, name, t)
		case b.IsZero():
			conflicts = append(conflicts, fmt.Sprintf("table %s was created on both sides, differently", name))
		case o.IsZero() || t.IsZero():
			conflicts = append(conflicts, fmt.Sprintf("table %s was dropped on one side and changed on the other", name))
		default:
			var h chunk.Hash
			var why []string
			var rc []tree.Conflict
			if h, rc, why, err = st.mergeBranchTable(ctx, name, b, o, t); err == nil {
				if len(why) > 0 {
					conflicts = append(conflicts, why...)
				} else {
					if len(rc) > 0 {
						rowConflicts[name] = rc
					}
					out, err = out.PutTable(name, h)
				}
			}
		}
		if err != nil {
			return nil, nil, nil, err
		}
	}
	colls := map[string]bool{}
	for _, r := range []*repo.RootValue{base, ours, theirs} {
		for _, c := range r.Collections() {
			colls[c.Name] = true
		}
	}
	for name := range colls {
		if name == conflictsCollection {
			continue
		}
		b, _ := base.Collection(name)
		o, _ := ours.Collection(name)
		t, _ := theirs.Collection(name)
		var err error
		switch {
		case t == b || o == t:
		case o == b:
			if t.IsZero() {
				out, _ = out.DeleteCollection(name)
			} else {
				out, err = out.PutCollection(name, t)
			}
		default:
			var h chunk.Hash
			h, err = st.mergeMaps(ctx, "the "+name, b, o, t)
			if sql.ErrLockDeadlock.Is(err) {
				conflicts = append(conflicts, "the "+name+" changed on both sides, differently")
				err = nil
			} else if err == nil {
				out, err = out.PutCollection(name, h)
			}
		}
		if err != nil {
			return nil, nil, nil, err
		}
	}
	if len(conflicts) > 0 {
		sort.Strings(conflicts)
		return nil, nil, conflicts, nil
	}
	return out, rowConflicts, nil, nil
}

// mergeBranchTable merges the rows and indexes of a table both branches
// changed, keeping our version of each row both changed differently (those
// are returned as conflicts), or says why it cannot merge the table.
func (st *dbState) mergeBranchTable(ctx context.Context, name string, b, o, t chunk.Hash) (chunk.Hash, []tree.Conflict, []string, error) {
	base, err := st.readTable(ctx, b)
	if err != nil {
		return chunk.Hash{}, nil, nil, err
	}
	ours, err := st.readTable(ctx, o)
	if err != nil {
		return chunk.Hash{}, nil, nil, err
	}
	theirs, err := st.readTable(ctx, t)
	if err != nil {
		return chunk.Hash{}, nil, nil, err
	}
	if !bytes.Equal(ours.lay.schEnc, theirs.lay.schEnc) {
		// One side changed the schema: replay the other side's row
		// changes onto it. Both changing it differently is a conflict.
		var td *tableData
		var why string
		switch {
		case bytes.Equal(base.lay.schEnc, theirs.lay.schEnc):
			td, why, err = st.mergeAcrossSchemaChange(ctx, name, base, ours, theirs)
		case bytes.Equal(base.lay.schEnc, ours.lay.schEnc):
			td, why, err = st.mergeAcrossSchemaChange(ctx, name, base, theirs, ours)
		default:
			why = fmt.Sprintf("table %s: its schema changed on both sides, differently", name)
		}
		if err != nil || why != "" {
			if why != "" {
				return chunk.Hash{}, nil, []string{why}, nil
			}
			return chunk.Hash{}, nil, nil, err
		}
		if td, err = st.writeTable(ctx, td); err != nil {
			return chunk.Hash{}, nil, nil, err
		}
		return td.hash, nil, nil, nil
	}
	merged := *ours
	merged.hash = chunk.Hash{}
	rows, conflicts, err := tree.Merge(ctx, base.rows, ours.rows, theirs.rows, nil)
	if err != nil {
		return chunk.Hash{}, nil, nil, err
	}
	merged.rows = rows
	var why string
	if bytes.Equal(base.lay.schEnc, ours.lay.schEnc) {
		why, err = mergeBranchIndexes(ctx, name, base, ours, theirs, &merged, conflicts)
	} else {
		// Both sides changed the schema the same way: the base's indexes
		// may not be these (an index both added, or both enabled again
		// after DISABLE KEYS). They are built from the merged rows, which
		// keep ours at each conflict.
		why, err = st.rebuildIndexes(ctx, name, &merged)
	}
	if err != nil {
		return chunk.Hash{}, nil, nil, err
	}
	if why != "" {
		return chunk.Hash{}, nil, []string{why}, nil
	}
	if base.lay.keyless {
		if merged.content, _, err = tree.Merge(ctx, base.content, ours.content, theirs.content, nil); err != nil {
			return chunk.Hash{}, nil, nil, err
		}
	}
	merged.autoInc = max(ours.autoInc, theirs.autoInc)
	td, err := st.writeTable(ctx, &merged)
	if err != nil {
		return chunk.Hash{}, nil, nil, err
	}
	return td.hash, conflicts, nil, nil
}

// mergeBranchIndexes sets the indexes of merged, whose rows are the merge of
// base, ours and theirs (all of one schema) keeping ours at each of
// conflicts, to the merge of theirs, or says why it cannot.
func mergeBranchIndexes(ctx context.Context, name string, base, ours, theirs, merged *tableData, conflicts []tree.Conflict) (string, error) {
	merged.indexes = make([]tree.Map, len(ours.indexes))
	for i := range ours.indexes {
		m, ic, err := tree.Merge(ctx, base.indexes[i], ours.indexes[i], theirs.indexes[i], nil)
		if err != nil {
			return "", err
		}
		if len(ic) > 0 && len(conflicts) == 0 {
			return fmt.Sprintf("table %s: index %s changed on both sides, differently", name, base.lay.indexes[i].def.Name), nil
		}
		if il := &base.lay.indexes[i]; il.def.Unique {
			if err := checkUniqueAfterMerge(ctx, il, base.indexes[i], theirs.indexes[i], m); err != nil {
				if sql.ErrLockDeadlock.Is(err) {
					return fmt.Sprintf("table %s: unique index %s would hold a value twice", name, il.def.Name), nil
				}
				return "", err
			}
		}
		merged.indexes[i] = m
	}
	if len(conflicts) > 0 {
		// Rows keep ours at each conflict; so must the indexes.
		ok, err := fixIndexesForConflicts(ctx, merged, conflicts)
		if err != nil {
			return "", err
		}
		if !ok {
			return fmt.Sprintf("table %s: %d row(s) changed on both sides, differently (not recordable: an index covers generated columns)", name, len(conflicts)), nil
		}
	}
	return "", nil
}

// rebuildIndexes builds every index of td that is not disabled from its
// rows, or says why it cannot: an index over generated columns, which only
// the engine computes, or a unique index the rows would break.
func (st *dbState) rebuildIndexes(ctx context.Context, name string, td *tableData) (string, error) {
	for _, il := range td.lay.indexes {
		if il.def.Disabled {
			continue
		}
		if indexOnVirtual(td.lay.sch, *il.def) {
			return fmt.Sprintf("table %s: index %s covers generated columns, and the schema changed on both sides", name, il.def.Name), nil
		}
		out, err := fillIndex(ctx, st, td, il.def.Name, nil)
		if sql.ErrUniqueKeyViolation.Is(err) {
			return fmt.Sprintf("table %s: unique index %s would hold a value twice", name, il.def.Name), nil
		}
		if err != nil {
			return "", err
		}
		*td = *out
	}
	return "", nil
}

// MergeOptions configures Merge.
type MergeOptions struct {
	NoFF    bool
	FFOnly  bool   // refuse anything but a fast-forward
	Message string // "" for "Merge branch 'X' into B"
	Author  repo.Signature
}

// MergeResult is what a merge did.
type MergeResult struct {
	Hash        chunk.Hash // the new head ("" when nothing changed)
	FastForward bool
	Conflicts   int    // rows in conflict, recorded; the merge is then in progress
	Message     string // "merge successful", "Everything up-to-date", "conflicts found"
}

// ErrMergeInProgress refuses a merge while another is unfinished.
var ErrMergeInProgress = errors.New("merging is not possible because you have not committed an active merge")

// Merge merges the commit rev names into the database's branch: nothing if
// it is already merged, a fast-forward if the branch is its ancestor
// (unless NoFF), else a merge commit of the two. The branch's working set
// must be clean.
func (v *VC) Merge(ctx *sql.Context, rev string, o MergeOptions) (MergeResult, error) {
	var res MergeResult
	if v.ReadOnly() {
		return res, ErrReadOnlyRevision
	}
	r := v.st.repo
	err := v.st.refsOp(func() error {
		br, err := v.readRoots(ctx)
		if err != nil {
			return err
		}
		headCommit, err := r.ReadCommit(ctx, br.head)
		if err != nil {
			return err
		}
		if br.ws.Merge != nil {
			return ErrMergeInProgress
		}
		if br.ws.Working != headCommit.Root || br.ws.Staged != headCommit.Root {
			return ErrUncommittedChanges
		}
		theirs, err := r.Resolve(ctx, rev, v.Branch())
		if err != nil {
			return branchErrorf("merge: %s: branch not found", rev)
		}
		if theirs == br.head {
			res.Message = "Everything up-to-date"
			return nil
		}
		if merged, err := r.IsAncestor(ctx, theirs, br.head); err != nil {
			return err
		} else if merged {
			res.Message = "Everything up-to-date"
			return nil
		}
		ff, err := r.IsAncestor(ctx, br.head, theirs)
		if err != nil {
			return err
		}
		tc, err := r.ReadCommit(ctx, theirs)
		if err != nil {
			return err
		}
		if ff && !o.NoFF {
			err := r.UpdateBranch(ctx, repo.BranchUpdate{Branch: v.Branch(), OldHead: br.head, NewHead: theirs,
				WorkingSet: &repo.WorkingSet{Working: tc.Root, Staged: tc.Root}, OldWorkingSet: br.wsHash})
			res = MergeResult{Hash: theirs, FastForward: true, Message: "merge successful"}
			return err
		}
		if o.FFOnly {
			return branchErrorf("fatal: Not possible to fast-forward, aborting.")
		}
		baseHash, err := r.MergeBase(ctx, br.head, theirs)
		if err != nil {
			return err
		}
		baseRoot, _, err := v.st.rootOfCommit(ctx, baseHash)
		if err != nil {
			return err
		}
		theirRoot, err := r.ReadRoot(ctx, tc.Root)
		if err != nil {
			return err
		}
		root, rowConflicts, conflicts, err := v.st.mergeBranchRoots(ctx, baseRoot, br.headRoot, theirRoot)
		if err != nil {
			return err
		}
		if len(conflicts) > 0 {
			return &MergeConflictError{Conflicts: conflicts}
		}
		if len(rowConflicts) > 0 {
			// Record them and leave the merge in progress: the head
			// stays, the working root is the merge with ours at each
			// conflict, the staged root the head's.
			n := 0
			var edits []tree.Edit
			for table, cs := range rowConflicts {
				for _, c := range cs {
					edits = append(edits, tree.Edit{Key: conflictKey(table, c.Key), Value: encodeConflict(c.Base, c.Left, c.Right)})
					n++
				}
			}
			empty, err := v.st.emptyMap(ctx)
			if err != nil {
				return err
			}
			m, err := empty.Edit(ctx, edits)
			if err != nil {
				return err
			}
			if root, err = root.PutCollection(conflictsCollection, m.Hash()); err != nil {
				return err
			}
			working, err := r.WriteRoot(ctx, root)
			if err != nil {
				return err
			}
			_, err = r.UpdateWorkingSet(ctx, v.Branch(), br.wsHash, &repo.WorkingSet{Working: working, Staged: headCommit.Root,
				Merge: &repo.MergeState{Commit: theirs, PreMergeWorking: headCommit.Root, Source: rev}})
			res = MergeResult{Conflicts: n, Message: "conflicts found"}
			return err
		}
		rootHash, err := r.WriteRoot(ctx, root)
		if err != nil {
			return err
		}
		msg := o.Message
		if msg == "" {
			msg = fmt.Sprintf("Merge branch '%s' into %s", rev, v.Branch())
		}
		h, err := r.CreateCommit(ctx, rootHash, []chunk.Hash{br.head, theirs}, repo.CommitMeta{Message: msg, Author: o.Author})
		if err != nil {
			return err
		}
		res = MergeResult{Hash: h, Message: "merge successful"}
		return r.UpdateBranch(ctx, repo.BranchUpdate{Branch: v.Branch(), OldHead: br.head, NewHead: h,
			WorkingSet: &repo.WorkingSet{Working: rootHash, Staged: rootHash}, OldWorkingSet: br.wsHash})
	})
	return res, err
}

// ErrNoMergeToAbort is Dolt's error for --abort with no merge in progress.
var ErrNoMergeToAbort = errors.New("fatal: There is no merge to abort")

// AbortMerge ends the merge in progress, returning the working root to
// what it was before the merge (the staged root to the head's).
func (v *VC) AbortMerge(ctx *sql.Context) error {
	if v.ReadOnly() {
		return ErrReadOnlyRevision
	}
	return v.st.refsOp(func() error {
		br, err := v.readRoots(ctx)
		if err != nil {
			return err
		}
		if br.ws.Merge == nil {
			return ErrNoMergeToAbort
		}
		c, err := v.st.repo.ReadCommit(ctx, br.head)
		if err != nil {
			return err
		}
		_, err = v.st.repo.UpdateWorkingSet(ctx, v.Branch(), br.wsHash, &repo.WorkingSet{Working: br.ws.Merge.PreMergeWorking, Staged: c.Root})
		return err
	})
}
