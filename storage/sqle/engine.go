package sqle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	gms "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/rowexec"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
)

// Engine is a go-mysql-server engine over a Provider: what `cairn sql` and
// the server run queries with.
type Engine struct {
	Provider *Provider
	SQL      *gms.Engine
	// localRoot: sessions from NewContext are root@localhost, a superuser
	// (UseLocalRoot).
	localRoot bool
}

// UseLocalRoot turns users and grants on with one superuser,
// root@localhost, kept in memory, and makes NewContext's sessions that
// user: what `cairn sql` and `cairn dump` run as, on files the operating
// system already lets them open. With users off, the engine hides views
// and routines in information_schema and SHOW … STATUS. Not for the
// server, whose users come from its data directory.
func (e *Engine) UseLocalRoot() {
	e.SQL.Analyzer.Catalog.MySQLDb.AddRootAccount()
	e.localRoot = true
}

// NewEngine opens the databases of opts.Dir and an engine over them.
func NewEngine(ctx context.Context, opts Options) (*Engine, error) {
	p, err := NewProvider(ctx, opts)
	if err != nil {
		return nil, err
	}
	installFunctions()
	installDDLParser()
	a := addCompatRules(analyzer.NewBuilder(p)).Build()
	a.ExecBuilder = rowexec.NewOverrideBuilder(keysExec{})
	e := gms.New(a, &gms.Config{})
	return &Engine{Provider: p, SQL: e}, nil
}

// floatBits is 32 for FLOAT, 64 for DOUBLE, else 0.
func floatBits(t querypb.Type) int {
	switch t {
	case querypb.Type_FLOAT32:
		return 32
	case querypb.Type_FLOAT64:
		return 64
	}
	return 0
}

// Close closes the engine and its databases.
func (e *Engine) Close() error {
	err := e.SQL.Close()
	if errors.Is(err, context.Canceled) {
		err = nil // background threads report their stop that way
	}
	return errors.Join(err, e.Provider.Close())
}

// NewContext returns a context with a new session, its current database
// set to db (may be empty).
func (e *Engine) NewContext(ctx context.Context, db string) *sql.Context {
	base := sql.NewBaseSession()
	if e.localRoot {
		base = sql.NewBaseSessionWithClientServer("localhost", sql.Client{User: "root", Address: "localhost"}, 1)
	}
	s := e.Provider.NewSession(base)
	sctx := sql.NewContext(ctx, sql.WithSession(s))
	if db != "" {
		sctx.SetCurrentDatabase(db)
	}
	return sctx
}

// ResultColumn is a column of a Result.
type ResultColumn struct {
	Name string
	// Numeric is true for columns of numeric types (printed unquoted in
	// JSON and right-aligned in tables).
	Numeric bool
}

// Result is the outcome of one statement, its values as MySQL's text
// protocol would send them (nil for NULL).
type Result struct {
	Columns []ResultColumn
	Rows    [][]*string
	// OK is true for statements that return no rows, only a count.
	OK           bool
	RowsAffected uint64
}

// Query runs one statement in ctx's session and returns its result, every
// row in memory.
func (e *Engine) Query(ctx *sql.Context, query string) (*Result, error) {
	var rows [][]*string
	res, err := e.QueryEach(ctx, query, nil, func(row []*string) error {
		rows = append(rows, row)
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.Rows = rows
	return res, nil
}

// QueryEach runs one statement in ctx's session and, for a statement that
// returns rows, calls start (if not nil) with the columns, then fn with each
// row as it comes, so a result of any size streams. The returned Result has
// the columns and, for statements without rows, the count, but no Rows.
func (e *Engine) QueryEach(ctx *sql.Context, query string, start func([]ResultColumn) error, fn func(row []*string) error) (res *Result, err error) {
	// A panic in the engine or its parser is this statement's error.
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("internal error in this statement: %v", r)
		}
	}()
	if s, ok := ctx.Session.(*Session); ok {
		s.objectDB = "" // as the server's CommandBegin does
	}
	sch, iter, _, err := e.SQL.Query(ctx, query)
	if err != nil {
		return nil, err
	}
	res = &Result{}
	if types.IsOkResultSchema(sch) {
		res.OK = true
		for {
			row, err := iter.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				iter.Close(ctx)
				return nil, err
			}
			if ok, isOK := row[0].(types.OkResult); isOK {
				res.RowsAffected += ok.RowsAffected
			}
		}
		return res, iter.Close(ctx)
	}
	for _, c := range sch {
		res.Columns = append(res.Columns, ResultColumn{Name: c.Name, Numeric: types.IsNumber(c.Type) || sqltypes.IsIntegral(c.Type.Type())})
	}
	if start != nil {
		if err := start(res.Columns); err != nil {
			iter.Close(ctx)
			return nil, err
		}
	}
	for {
		row, err := iter.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			iter.Close(ctx)
			return nil, err
		}
		out := make([]*string, len(sch))
		for i, c := range sch {
			if i >= len(row) || row[i] == nil {
				continue
			}
			v, err := c.Type.SQL(ctx, nil, row[i])
			if err != nil {
				iter.Close(ctx)
				return nil, err
			}
			if v.IsNull() {
				continue
			}
			s := v.ToString()
			if bits := floatBits(v.Type()); bits != 0 {
				if f, err := strconv.ParseFloat(s, bits); err == nil {
					s = FormatFloat(f, bits)
				}
			}
			out[i] = &s
		}
		if err := fn(out); err != nil {
			iter.Close(ctx)
			return nil, err
		}
	}
	if err := iter.Close(ctx); err != nil {
		return nil, err
	}
	return res, nil
}
