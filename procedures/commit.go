package procedures

import (
	"errors"
	"regexp"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/cairndb/cairn/storage/repo"
	"github.com/cairndb/cairn/storage/sqle"
)

var hashSchema = sql.Schema{{Name: "hash", Type: types.LongText, Nullable: false}}

func (vc *VersionControl) registerCommits() {
	for _, p := range []sql.ExternalStoredProcedureDetails{
		{Name: "dolt_add", Schema: statusSchema, Function: vc.add},
		{Name: "dolt_commit", Schema: hashSchema, Function: vc.commit},
		{Name: "dolt_reset", Schema: statusSchema, Function: vc.reset},
		{Name: "dolt_tag", Schema: statusSchema, Function: vc.tag},
		{Name: "dolt_merge", Schema: mergeSchema, Function: vc.merge},
		{Name: "dolt_gc", Schema: statusSchema, Function: vc.gc, AdminOnly: true},
	} {
		vc.Prov.RegisterProcedure(p)
	}
}

// openWritable opens the current database and refuses a read-only
// revision.
func (vc *VersionControl) openWritable(ctx *sql.Context, what string) (*sqle.VC, error) {
	v, err := vc.open(ctx)
	if err != nil {
		return nil, err
	}
	if v.ReadOnly() {
		if what != "" {
			return nil, errors.New(what)
		}
		return nil, sqle.ErrReadOnlyRevision
	}
	return v, nil
}

var addArgs = newArgSpec("A,all", "f,force")

// add is dolt_add: '.' or -A stages everything, names stage those tables.
func (vc *VersionControl) add(ctx *sql.Context, args ...string) (sql.RowIter, error) {
	a, err := addArgs.parse(args)
	if err != nil {
		return nil, err
	}
	v, err := vc.openWritable(ctx, "")
	if err != nil {
		return nil, err
	}
	mode := sqle.StageNamed
	if a.has("all") || len(a.pos) == 1 && a.pos[0] == "." {
		mode = sqle.StageAll
	} else if len(a.pos) == 0 {
		return nil, errors.New("Nothing specified, nothing added. Maybe you wanted to say 'dolt add .'?")
	}
	if err := v.CommitTransaction(ctx); err != nil {
		return nil, err
	}
	if err := v.Add(ctx, mode, a.pos); err != nil {
		return nil, err
	}
	return statusRow()
}

var commitArgs = newArgSpec("m,message=", "a,all", "A,ALL", "allow-empty", "skip-empty", "date=", "author=", "f,force")

// commit is dolt_commit: it commits the SQL transaction, stages with -a
// or -A, and records the staged root as a commit; the result is its hash.
func (vc *VersionControl) commit(ctx *sql.Context, args ...string) (sql.RowIter, error) {
	a, err := commitArgs.parse(args)
	if err != nil {
		return nil, err
	}
	if len(a.pos) > 0 {
		return nil, errors.New("error: dolt_commit takes no positional arguments, got '" + a.pos[0] + "'")
	}
	if !a.has("message") {
		return nil, errors.New("Must provide commit message.")
	}
	if a.has("allow-empty") && a.has("skip-empty") {
		return nil, errors.New("error: cannot use both --allow-empty and --skip-empty")
	}
	v, err := vc.openWritable(ctx, "")
	if err != nil {
		return nil, err
	}
	author, err := authorOf(ctx, a)
	if err != nil {
		return nil, err
	}
	o := sqle.CommitOptions{Message: a.value("message"), Author: author, AllowEmpty: a.has("allow-empty")}
	switch {
	case a.has("ALL"):
		o.Stage = sqle.StageAll
	case a.has("all"):
		o.Stage = sqle.StageTracked
	}
	if err := v.CommitTransaction(ctx); err != nil {
		return nil, err
	}
	h, err := v.Commit(ctx, o)
	if errors.Is(err, sqle.ErrNothingToCommit) && a.has("skip-empty") {
		return sql.RowsToRowIter(), nil
	}
	if err != nil {
		return nil, err
	}
	return sql.RowsToRowIter(sql.Row{h.String()}), nil
}

var personRE = regexp.MustCompile(`^\s*(.*?)\s*<([^<>]*)>\s*$`)

// authorOf returns the commit's author: --author and --date, else the SQL
// user (email USER@HOST) and now.
func authorOf(ctx *sql.Context, a parsedArgs) (repo.Signature, error) {
	var sig repo.Signature
	if a.has("author") {
		m := personRE.FindStringSubmatch(a.value("author"))
		if m == nil || m[1] == "" {
			return sig, errors.New("Author not formatted correctly. Use 'Name <author@example.com>' format")
		}
		sig.Name, sig.Email = m[1], m[2]
	} else {
		c := ctx.Client()
		sig.Name = c.User
		if sig.Name == "" {
			sig.Name = "root"
		}
		host := c.Address
		if host == "" {
			host = "localhost"
		}
		sig.Email = sig.Name + "@" + host
	}
	if a.has("date") {
		t, err := parseDate(a.value("date"))
		if err != nil {
			return sig, err
		}
		sig.Time = t
	}
	return sig, nil
}

// parseDate reads --date: RFC 3339, or a date and time without zone (UTC).
func parseDate(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04:05.999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("error: invalid date '" + s + "': give YYYY-MM-DD, YYYY-MM-DD HH:MM:SS or RFC 3339")
}

var resetArgs = newArgSpec("hard", "soft")

// reset is dolt_reset: --hard [rev], --soft [rev], tables (unstage), or
// nothing (unstage everything).
func (vc *VersionControl) reset(ctx *sql.Context, args ...string) (sql.RowIter, error) {
	a, err := resetArgs.parse(args)
	if err != nil {
		return nil, err
	}
	if a.has("hard") && a.has("soft") {
		return nil, errors.New("error: --hard and --soft are mutually exclusive options.")
	}
	v, err := vc.openWritable(ctx, "unable to reset HEAD in read-only databases")
	if err != nil {
		return nil, err
	}
	rev := ""
	if a.has("hard") || a.has("soft") {
		switch len(a.pos) {
		case 0:
		case 1:
			rev = a.pos[0]
		default:
			if a.has("hard") {
				return nil, errors.New("--hard supports at most one additional param")
			}
			return nil, errors.New("--soft supports at most one additional param")
		}
	}
	if err := v.CommitTransaction(ctx); err != nil {
		return nil, err
	}
	switch {
	case a.has("hard"):
		err = v.ResetHard(ctx, rev)
	case a.has("soft"):
		err = v.ResetSoft(ctx, rev)
	case len(a.pos) == 0 || len(a.pos) == 1 && a.pos[0] == ".":
		err = v.Unstage(ctx, nil)
	default:
		// Tables are unstaged; a single argument that is no table is a
		// revision to reset softly to.
		isTable, terr := v.IsTableAnywhere(ctx, a.pos[0])
		if terr != nil {
			return nil, terr
		}
		if len(a.pos) == 1 && !isTable {
			err = v.ResetSoft(ctx, a.pos[0])
		} else {
			err = v.Unstage(ctx, a.pos)
		}
	}
	if err != nil {
		return nil, err
	}
	return statusRow()
}

var tagArgs = newArgSpec("m,message=", "d,delete", "author=", "v,verbose")

// tag is dolt_tag: (name [, rev]) with -m, or -d names.
func (vc *VersionControl) tag(ctx *sql.Context, args ...string) (sql.RowIter, error) {
	a, err := tagArgs.parse(args)
	if err != nil {
		return nil, err
	}
	if len(a.pos) == 0 || a.has("verbose") {
		return nil, errors.New("error: invalid argument, use 'dolt_tags' system table to list tags")
	}
	v, err := vc.open(ctx)
	if err != nil {
		return nil, err
	}
	if a.has("delete") {
		if a.has("message") {
			return nil, errors.New("delete and tag message options are incompatible")
		}
		for _, name := range a.pos {
			if err := v.DeleteTag(ctx, name); err != nil {
				return nil, err
			}
		}
		return statusRow()
	}
	if len(a.pos) > 2 {
		return nil, errors.New("create tag takes at most two args")
	}
	rev := ""
	if len(a.pos) == 2 {
		rev = a.pos[1]
	}
	tagger, err := authorOf(ctx, a)
	if err != nil {
		return nil, err
	}
	if err := v.CommitTransaction(ctx); err != nil {
		return nil, err
	}
	if err := v.CreateTag(ctx, a.pos[0], rev, a.value("message"), tagger); err != nil {
		return nil, err
	}
	return statusRow()
}

// gc is dolt_gc(): a garbage collection of the current database now (the
// server also collects on its own, every gc_interval).
func (vc *VersionControl) gc(ctx *sql.Context, args ...string) (sql.RowIter, error) {
	db := ctx.GetCurrentDatabase()
	if db == "" {
		return nil, errEmptyDatabase
	}
	if len(args) > 0 && args[0] != "--shallow" && args[0] != "-s" {
		return nil, unknownOption(args[0])
	}
	v, err := vc.Prov.OpenVC(ctx, db)
	if err != nil {
		return nil, err
	}
	if err := v.CommitTransaction(ctx); err != nil {
		return nil, err
	}
	if _, err := vc.Prov.CollectDatabaseGarbage(ctx, v.Name(), -1); err != nil {
		return nil, err
	}
	return statusRow()
}
