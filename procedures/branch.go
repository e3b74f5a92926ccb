package procedures

import (
	"errors"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/cairndb/cairn/storage/remote"
	"github.com/cairndb/cairn/storage/sqle"
)

// VersionControl registers the version-control procedures (dolt_branch,
// dolt_checkout, …) with a provider.
type VersionControl struct {
	Prov *sqle.Provider
	// Progress, if not nil, receives progress reports of pushes, fetches
	// and clones (the CLI's progress line).
	Progress remote.ProgressFunc
}

var (
	statusSchema          = sql.Schema{{Name: "status", Type: types.Int64, Nullable: false}}
	statusMessageSchema   = sql.Schema{{Name: "status", Type: types.Int64, Nullable: false}, {Name: "message", Type: types.LongText, Nullable: true}}
	errEmptyDatabase      = errors.New("Empty database name.")
	errReadOnlyNewBranch  = errors.New("unable to create new branch in a read-only database")
	errBranchInvalidUsage = errors.New("error: invalid usage")
)

// Register registers the procedures.
func (vc *VersionControl) Register() {
	for _, p := range []sql.ExternalStoredProcedureDetails{
		{Name: "dolt_branch", Schema: statusSchema, Function: vc.branch},
		{Name: "dolt_checkout", Schema: statusMessageSchema, Function: vc.checkout},
	} {
		vc.Prov.RegisterProcedure(p)
	}
	vc.registerCommits()
	vc.registerRemotes()
}

// open returns the version-control face of the current database.
func (vc *VersionControl) open(ctx *sql.Context) (*sqle.VC, error) {
	db := ctx.GetCurrentDatabase()
	if db == "" {
		return nil, errEmptyDatabase
	}
	return vc.Prov.OpenVC(ctx, db)
}

func statusRow() (sql.RowIter, error) { return sql.RowsToRowIter(sql.Row{int64(0)}), nil }

var branchArgs = newArgSpec("c,copy", "m,move", "d,delete", "D", "f,force", "r,remote", "t,track", "a,all", "v,verbose")

// branch is dolt_branch: create (name [start]), copy (-c from to), rename
// (-m from to), delete (-d/-D names…); -f forces.
func (vc *VersionControl) branch(ctx *sql.Context, args ...string) (sql.RowIter, error) {
	a, err := branchArgs.parse(args)
	if err != nil {
		return nil, err
	}
	v, err := vc.open(ctx)
	if err != nil {
		return nil, err
	}
	force := a.has("force")
	switch {
	case a.has("copy"):
		if len(a.pos) != 2 {
			return nil, errBranchInvalidUsage
		}
		err = v.CopyBranch(ctx, a.pos[0], a.pos[1], force)
	case a.has("move"):
		if len(a.pos) != 2 {
			return nil, errBranchInvalidUsage
		}
		err = v.RenameBranch(ctx, a.pos[0], a.pos[1], force)
	case a.has("delete") || a.has("D"):
		if len(a.pos) == 0 {
			return nil, errBranchInvalidUsage
		}
		for _, name := range a.pos {
			if err = v.DeleteBranch(ctx, name, force || a.has("D")); err != nil {
				break
			}
		}
	default:
		switch len(a.pos) {
		case 1:
			err = v.CreateBranch(ctx, a.pos[0], "", force)
		case 2:
			err = v.CreateBranch(ctx, a.pos[0], a.pos[1], force)
		default:
			return nil, errBranchInvalidUsage
		}
	}
	if err != nil {
		return nil, err
	}
	// As in Dolt, dolt_branch commits the SQL transaction.
	if err := v.CommitTransaction(ctx); err != nil {
		return nil, err
	}
	return statusRow()
}

var checkoutArgs = newArgSpec("b=", "B=", "t,track")

// checkout is dolt_checkout: switch the session's branch (branch), create
// and switch (-b new [start]), or restore tables from HEAD (table…).
func (vc *VersionControl) checkout(ctx *sql.Context, args ...string) (sql.RowIter, error) {
	a, err := checkoutArgs.parse(args)
	if err != nil {
		return nil, err
	}
	v, err := vc.open(ctx)
	if err != nil {
		return nil, err
	}
	row := func(msg string) (sql.RowIter, error) {
		return sql.RowsToRowIter(sql.Row{int64(0), msg}), nil
	}
	if a.has("b") || a.has("B") {
		if a.has("b") && a.has("B") {
			return nil, errors.New("Improper usage. Cannot use both -b and -B.")
		}
		if v.ReadOnly() {
			return nil, errReadOnlyNewBranch
		}
		name, force := a.value("b"), false
		if a.has("B") {
			name, force = a.value("B"), true
		}
		start := ""
		switch len(a.pos) {
		case 0:
		case 1:
			start = a.pos[0]
		default:
			return nil, errors.New("Improper usage. Too many arguments provided.")
		}
		if err := v.CommitTransaction(ctx); err != nil {
			return nil, err
		}
		if err := v.CreateBranch(ctx, name, start, force); err != nil {
			return nil, err
		}
		if _, _, err := v.Checkout(ctx, name); err != nil {
			return nil, err
		}
		return row("Switched to branch '" + name + "'")
	}
	switch len(a.pos) {
	case 0:
		return nil, errors.New("Improper usage.")
	case 1:
		if a.pos[0] == "" {
			return nil, errors.New("error: cannot checkout empty string")
		}
		name, already, err := v.Checkout(ctx, a.pos[0])
		var be *sqle.BranchError
		if errors.As(err, &be) && strings.HasPrefix(err.Error(), "error: could not find") {
			// Not a branch: a table?
			if terr := v.RestoreTables(ctx, a.pos); terr == nil {
				return row("")
			}
			return nil, err
		}
		if err != nil {
			return nil, err
		}
		if already {
			return row("Already on branch '" + name + "'")
		}
		return row("Switched to branch '" + name + "'")
	default:
		if err := v.RestoreTables(ctx, a.pos); err != nil {
			return nil, err
		}
		return row("")
	}
}
