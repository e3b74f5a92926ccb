package sqle

import (
	"fmt"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/cairndb/cairn/storage/repo"
)

// DOLT_DIFF(from_revision, to_revision, table): the row differences of a
// table between any two revisions, in dolt_diff_T's columns. A revision is
// a branch, tag, commit hash, HEAD~N, or WORKING / STAGED for the session's
// working and staged roots of the current branch.

// TableFunction implements sql.TableFunctionProvider.
func (p *Provider) TableFunction(_ *sql.Context, name string) (sql.TableFunction, bool) {
	if strings.EqualFold(name, "dolt_diff") {
		return &diffFunc{prov: p}, true
	}
	return nil, false
}

// WithTableFunctions implements sql.TableFunctionProvider; cairn's table
// functions are fixed.
func (p *Provider) WithTableFunctions(...sql.TableFunction) (sql.TableFunctionProvider, error) {
	return p, nil
}

var _ sql.TableFunctionProvider = (*Provider)(nil)

type diffFunc struct {
	prov  *Provider
	db    sql.Database
	args  []sql.Expression
	table string
	sch   sql.Schema
}

var (
	_ sql.TableFunction = (*diffFunc)(nil)
	_ sql.ExecSourceRel = (*diffFunc)(nil)
)

func (f *diffFunc) Name() string { return "dolt_diff" }
func (f *diffFunc) String() string {
	var args []string
	for _, a := range f.args {
		args = append(args, a.String())
	}
	return "DOLT_DIFF(" + strings.Join(args, ", ") + ")"
}
func (f *diffFunc) Resolved() bool {
	for _, a := range f.args {
		if !a.Resolved() {
			return false
		}
	}
	return true
}
func (f *diffFunc) Schema() sql.Schema            { return f.sch }
func (f *diffFunc) Children() []sql.Node          { return nil }
func (f *diffFunc) IsReadOnly() bool              { return true }
func (f *diffFunc) Expressions() []sql.Expression { return f.args }
func (f *diffFunc) Database() sql.Database        { return f.db }

func (f *diffFunc) WithChildren(children ...sql.Node) (sql.Node, error) {
	if len(children) != 0 {
		return nil, sql.ErrInvalidChildrenNumber.New(f, len(children), 0)
	}
	return f, nil
}

func (f *diffFunc) WithExpressions(e ...sql.Expression) (sql.Node, error) {
	if len(e) != len(f.args) {
		return nil, sql.ErrInvalidChildrenNumber.New(f, len(e), len(f.args))
	}
	out := *f
	out.args = e
	return &out, nil
}

func (f *diffFunc) WithDatabase(db sql.Database) (sql.Node, error) {
	out := *f
	out.db = db
	return &out, nil
}

// NewInstance implements sql.TableFunction: the table name must be a
// constant, for the schema is the table's (as the session sees it now).
func (f *diffFunc) NewInstance(ctx *sql.Context, db sql.Database, args []sql.Expression) (sql.Node, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("function 'dolt_diff' expects 3 arguments (from_revision, to_revision, table), got %d", len(args))
	}
	name, err := evalString(ctx, args[2])
	if err != nil {
		return nil, fmt.Errorf("dolt_diff: the table name must be a constant string: %w", err)
	}
	cdb, err := f.cairnDB(ctx, db)
	if err != nil {
		return nil, err
	}
	cur, ok, err := cdb.tableData(ctx, mustFind(ctx, cdb, name))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, sql.ErrTableNotFound.New(name)
	}
	return &diffFunc{prov: f.prov, db: db, args: args, table: name, sch: diffSchema(cur, "dolt_diff")}, nil
}

// cairnDB returns the cairn database of db (the current database).
func (f *diffFunc) cairnDB(ctx *sql.Context, db sql.Database) (*Database, error) {
	if db == nil || db.Name() == "" {
		return nil, sql.ErrNoDatabaseSelected.New()
	}
	return f.prov.databaseOf(ctx, db.Name())
}

func evalString(ctx *sql.Context, e sql.Expression) (string, error) {
	v, err := e.Eval(ctx, nil)
	if err != nil {
		return "", err
	}
	s, _, err := types.LongText.Convert(ctx, v)
	if err != nil || s == nil {
		return "", fmt.Errorf("%s is not a string", e)
	}
	return s.(string), nil
}

// RowIter implements sql.ExecSourceRel.
func (f *diffFunc) RowIter(ctx *sql.Context, _ sql.Row) (sql.RowIter, error) {
	db, err := f.cairnDB(ctx, f.db)
	if err != nil {
		return nil, err
	}
	cur, ok, err := db.tableData(ctx, mustFind(ctx, db, f.table))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, sql.ErrTableNotFound.New(f.table)
	}
	var sides [2]diffSide
	for i := range sides {
		rev, err := evalString(ctx, f.args[i])
		if err != nil {
			return nil, err
		}
		if sides[i], err = f.side(ctx, db, rev); err != nil {
			return nil, err
		}
	}
	var rows []sql.Row
	if err := diffRows(ctx, db.st, newProjector(cur), sides[0], sides[1], &rows); err != nil {
		return nil, err
	}
	return sql.RowsToRowIter(rows...), nil
}

// side reads the table at revision rev.
func (f *diffFunc) side(ctx *sql.Context, db *Database, rev string) (diffSide, error) {
	vc, err := db.prov.OpenVC(ctx, db.Name())
	if err != nil {
		return diffSide{}, err
	}
	var root *repo.RootValue
	out := diffSide{commit: rev}
	switch strings.ToUpper(rev) {
	case "WORKING":
		if root, err = db.root(ctx); err != nil {
			return out, err
		}
		out.commit = "WORKING"
	case "STAGED":
		br, err := vc.readRoots(ctx)
		if err != nil {
			return out, err
		}
		root, out.commit = br.staged, "STAGED"
	default:
		h, err := db.st.repo.Resolve(ctx, rev, vc.Branch())
		if err != nil {
			return out, fmt.Errorf("dolt_diff: invalid revision '%s': %w", rev, err)
		}
		c, err := db.st.commit(ctx, h)
		if err != nil {
			return out, err
		}
		if root, err = db.st.rootValue(ctx, c.Root); err != nil {
			return out, err
		}
		out.commit, out.date = h.String(), c.Committer.Time.UTC()
	}
	if out.td, err = db.st.tableAt(ctx, root, f.table); err != nil {
		return out, err
	}
	return out, nil
}
