package procedures

import (
	"errors"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/cairndb/cairn/storage/sqle"
)

var mergeSchema = sql.Schema{
	{Name: "hash", Type: types.LongText, Nullable: true},
	{Name: "fast_forward", Type: types.Int64, Nullable: false},
	{Name: "conflicts", Type: types.Int64, Nullable: false},
	{Name: "message", Type: types.LongText, Nullable: true},
}

var mergeArgs = newArgSpec("no-ff", "m,message=", "abort", "squash", "no-commit", "commit", "author=", "ff-only")

// merge is dolt_merge(branch [, --no-ff] [, -m msg]) and --abort.
func (vc *VersionControl) merge(ctx *sql.Context, args ...string) (sql.RowIter, error) {
	a, err := mergeArgs.parse(args)
	if err != nil {
		return nil, err
	}
	if a.has("abort") {
		v, err := vc.open(ctx)
		if err != nil {
			return nil, err
		}
		if err := v.CommitTransaction(ctx); err != nil {
			return nil, err
		}
		if err := v.AbortMerge(ctx); err != nil {
			return nil, err
		}
		return sql.RowsToRowIter(sql.Row{"", int64(0), int64(0), "merge aborted"}), nil
	}
	if a.has("squash") || a.has("no-commit") {
		return nil, errors.New("error: --squash and --no-commit are not supported by cairn yet")
	}
	switch len(a.pos) {
	case 0:
		return nil, errors.New("error: Please specify a branch to merge")
	case 1:
	default:
		return nil, errors.New("Error: Dolt does not support merging from multiple commits. You probably meant to checkout one and then merge from the other.")
	}
	v, err := vc.open(ctx)
	if err != nil {
		return nil, err
	}
	if v.ReadOnly() {
		return nil, sqle.ErrReadOnlyRevision
	}
	author, err := authorOf(ctx, a)
	if err != nil {
		return nil, err
	}
	if err := v.CommitTransaction(ctx); err != nil {
		return nil, err
	}
	res, err := v.Merge(ctx, a.pos[0], sqle.MergeOptions{NoFF: a.has("no-ff"), FFOnly: a.has("ff-only"), Message: a.value("message"), Author: author})
	if err != nil {
		return nil, err
	}
	hash := ""
	if !res.Hash.IsZero() {
		hash = res.Hash.String()
	}
	ff := int64(0)
	if res.FastForward {
		ff = 1
	}
	conflicts := int64(0)
	if res.Conflicts > 0 {
		conflicts = 1
	}
	return sql.RowsToRowIter(sql.Row{hash, ff, conflicts, res.Message}), nil
}
