package sqle

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
	"github.com/dolthub/vitess/go/vt/sqlparser"
)

// insertArg is one value of an INSERT: an integer or a string.
type insertArg struct {
	i     int64
	s     string
	isStr bool
}

func (a insertArg) literal() string {
	if a.isStr {
		return "'" + a.s + "'"
	}
	return fmt.Sprint(a.i)
}

func insertBindings(args []insertArg) map[string]*querypb.BindVariable {
	b := map[string]*querypb.BindVariable{}
	for i, a := range args {
		name := fmt.Sprintf("v%d", i+1)
		if a.isStr {
			b[name] = &querypb.BindVariable{Type: querypb.Type_VARCHAR, Value: []byte(a.s)}
		} else {
			b[name] = &querypb.BindVariable{Type: querypb.Type_INT64, Value: []byte(fmt.Sprint(a.i))}
		}
	}
	return b
}

// newArgsTemplate prepares q, plans it for args and makes its template.
func newArgsTemplate(t *testing.T, e *Engine, ctx *sql.Context, q string, args []insertArg) *PlanTemplate {
	t.Helper()
	stmt, err := sqlparser.Parse(q)
	if err != nil {
		t.Fatal(err)
	}
	if !TemplateStatement(stmt) {
		return nil
	}
	exprs := map[string]sqlparser.Expr{}
	for i, a := range args {
		name := fmt.Sprintf("v%d", i+1)
		if a.isStr {
			exprs[name] = sqlparser.NewStrVal([]byte(a.s))
		} else {
			exprs[name] = sqlparser.NewIntVal([]byte(fmt.Sprint(a.i)))
		}
	}
	node, err := e.SQL.BoundQueryPlan(ctx, q, stmt, exprs)
	if err != nil {
		t.Fatal(err)
	}
	return e.NewPlanTemplate(ctx, node, insertBindings(args))
}

// argsExec runs a write template with args; ok is false if Bind
// declined. err is the statement's error.
func argsExec(t *testing.T, e *Engine, ctx *sql.Context, tp *PlanTemplate, args []insertArg) (affected uint64, ok bool, err error) {
	t.Helper()
	node, err := tp.Bind(ctx, insertBindings(args))
	if err != nil {
		return 0, false, nil
	}
	_, iter, _, err := e.SQL.PrepQueryPlanForExecution(ctx, "", node, nil)
	if err != nil {
		return 0, true, err
	}
	rows, err := sql.RowIterToRows(ctx, iter)
	if err != nil {
		return 0, true, err
	}
	if len(rows) != 1 {
		t.Fatalf("%d result rows", len(rows))
	}
	return rows[0][0].(types.OkResult).RowsAffected, true, nil
}

// execLiterals runs q, a format with %s for the table, on table ref with
// args as literals in place of its parameters: the normal way.
func execLiterals(e *Engine, ctx *sql.Context, q string, args []insertArg) (uint64, error) {
	lit := fmt.Sprintf(q, "ref")
	for _, a := range args {
		lit = strings.Replace(lit, "?", a.literal(), 1)
	}
	res, err := e.Query(ctx, lit)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected, nil
}

// An INSERT of one row of parameters is templated: run from the template,
// it leaves a table as the same statements with literals leave a copy of
// it, with the same errors and LAST_INSERT_ID, auto-increment included.
func TestPlanTemplateInsert(t *testing.T) {
	e, ctx := twinTables(t, "id INTEGER NOT NULL AUTO_INCREMENT, k INTEGER DEFAULT '0' NOT NULL, "+
		"c CHAR(12) DEFAULT '' NOT NULL, pad CHAR(6) DEFAULT 'p' NOT NULL, PRIMARY KEY (id), KEY k_1 (k), CHECK (k < 1000)", 0)
	rng := rand.New(rand.NewPCG(7, 8))
	for _, q := range []string{
		"INSERT INTO %s (id, k, c, pad) VALUES (?, ?, ?, ?)",
		"INSERT INTO %s (k, c) VALUES (?, ?)",
		"INSERT INTO %s VALUES (?, ?, ?, ?)",
		"INSERT INTO %s (c, id) VALUES (?, ?)",
	} {
		cols := strings.Count(q, "?")
		gen := func() []insertArg {
			var args []insertArg
			for i := range cols {
				isStr := strings.Contains(q, "(c, id)") && i == 0 || !strings.Contains(q, "(c, id)") &&
					(strings.Contains(q, "(k, c)") && i == 1 || !strings.Contains(q, "(k, c)") && i >= 2)
				if isStr {
					// Sometimes too long for the column: an error in strict mode.
					args = append(args, insertArg{s: strings.Repeat("x", rng.IntN(14)), isStr: true})
					continue
				}
				v := rng.Int64N(300)
				switch rng.IntN(6) {
				case 0:
					v = 0 // an auto-increment id when it is the id
				case 1:
					v = 1000 + v // fails the CHECK when it is k
				case 2:
					v = 70000 + v // a SMALLINT or INT literal
				}
				args = append(args, insertArg{i: v})
			}
			return args
		}
		tp := newArgsTemplate(t, e, ctx, fmt.Sprintf(q, "t"), gen())
		if tp == nil {
			t.Fatalf("%s: no template", q)
		}
		hits := 0
		for range 200 {
			args := gen()
			got, ok, gotErr := argsExec(t, e, ctx, tp, args)
			if !ok {
				continue
			}
			hits++
			gotID := query(t, e, ctx, "SELECT LAST_INSERT_ID()")
			want, wantErr := execLiterals(e, ctx, q, args)
			// The check constraints are named after their tables.
			if strings.ReplaceAll(fmt.Sprint(gotErr), `"t_chk`, `"ref_chk`) != fmt.Sprint(wantErr) || got != want {
				t.Fatalf("%s with %v: template %d rows, %v; normal %d rows, %v", q, args, got, gotErr, want, wantErr)
			}
			if wantID := query(t, e, ctx, "SELECT LAST_INSERT_ID()"); fmt.Sprint(gotID) != fmt.Sprint(wantID) {
				t.Fatalf("%s with %v: LAST_INSERT_ID %v from the template, %v the normal way", q, args, gotID, wantID)
			}
		}
		if hits < 150 {
			t.Fatalf("%s: the template applied to %d executions of 200", q, hits)
		}
		expectRows(t, e, ctx, "SELECT * FROM t ORDER BY id", query(t, e, ctx, "SELECT * FROM ref ORDER BY id")...)
		expectRows(t, e, ctx, "SELECT k, id FROM t ORDER BY k, id", query(t, e, ctx, "SELECT k, id FROM ref ORDER BY k, id")...)
	}

	// Statements the template does not take.
	one := []insertArg{{i: 1}}
	for _, q := range []string{
		"INSERT IGNORE INTO t (k) VALUES (?)",
		"REPLACE INTO t (k) VALUES (?)",
		"INSERT INTO t (k) VALUES (?) ON DUPLICATE KEY UPDATE k = 1",
		"INSERT INTO t (k, c) VALUES (?, 'x')",
		"INSERT INTO t (k) VALUES (?), (?)",
		"INSERT INTO t (k) SELECT ?",
	} {
		if tp := newArgsTemplate(t, e, ctx, q, one[:min(1, strings.Count(q, "?"))]); tp != nil {
			t.Errorf("%s: a template", q)
		}
	}

	// What the plan was made under makes the template stale when it changes.
	tp := newArgsTemplate(t, e, ctx, "INSERT INTO t (id, k) VALUES (?, ?)", []insertArg{{i: 0}, {i: 5}})
	if tp == nil {
		t.Fatal("no template")
	}
	query(t, e, ctx, "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')")
	if _, err := tp.Bind(ctx, insertBindings([]insertArg{{i: 0}, {i: 5}})); !IsStale(err) {
		t.Fatalf("after a change of sql_mode: %v", err)
	}
	query(t, e, ctx, "SET SESSION sql_mode = DEFAULT")
	query(t, e, ctx, "START TRANSACTION READ ONLY")
	if _, err := tp.Bind(ctx, insertBindings([]insertArg{{i: 0}, {i: 5}})); err == nil || IsStale(err) {
		t.Fatalf("in a READ ONLY transaction: %v", err)
	}
	query(t, e, ctx, "COMMIT")
	if _, err := tp.Bind(ctx, insertBindings([]insertArg{{i: 0}, {s: "5", isStr: true}})); err == nil || IsStale(err) {
		t.Fatalf("a binding of another type: %v", err)
	}
	query(t, e, ctx, "CREATE TABLE audit (n INT)")
	query(t, e, ctx, "CREATE TRIGGER tr AFTER INSERT ON ref FOR EACH ROW INSERT INTO audit VALUES (1)")
	if _, err := tp.Bind(ctx, insertBindings([]insertArg{{i: 0}, {i: 5}})); !IsStale(err) {
		t.Fatalf("after CREATE TRIGGER: %v", err)
	}
	query(t, e, ctx, "DROP TRIGGER tr")
	query(t, e, ctx, "ALTER TABLE t ADD COLUMN extra INT")
	if _, err := tp.Bind(ctx, insertBindings([]insertArg{{i: 0}, {i: 5}})); !IsStale(err) {
		t.Fatalf("after ALTER TABLE: %v", err)
	}
}

// An UPDATE whose SETs take parameters as their whole values is
// templated: run from the template, it leaves a table as the same
// statements with literals leave a copy of it, errors included.
func TestPlanTemplateUpdateSet(t *testing.T) {
	e, ctx := twinTables(t, "id INT PRIMARY KEY, k INT NOT NULL, c CHAR(10) NOT NULL DEFAULT '', KEY k_1 (k)", 100)
	rng := rand.New(rand.NewPCG(9, 10))
	str := func() insertArg { return insertArg{s: strings.Repeat("y", rng.IntN(12)), isStr: true} }
	id := func() insertArg { return insertArg{i: rng.Int64N(110)} }
	for _, tc := range []struct {
		q    string
		args func() []insertArg
	}{
		{"UPDATE %s SET c = ? WHERE id = ?", func() []insertArg { return []insertArg{str(), id()} }},
		{"UPDATE %s SET k = ?, c = ? WHERE id = ?", func() []insertArg { return []insertArg{{i: rng.Int64N(50)}, str(), id()} }},
		{"UPDATE %s SET c = ?, k = k + 1 WHERE id = ?", func() []insertArg { return []insertArg{str(), id()} }},
	} {
		tp := newArgsTemplate(t, e, ctx, fmt.Sprintf(tc.q, "t"), tc.args())
		if tp == nil {
			t.Fatalf("%s: no template", tc.q)
		}
		hits := 0
		for range 150 {
			args := tc.args()
			got, ok, gotErr := argsExec(t, e, ctx, tp, args)
			if !ok {
				continue
			}
			hits++
			want, wantErr := execLiterals(e, ctx, tc.q, args)
			if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || got != want {
				t.Fatalf("%s with %v: template %d rows, %v; normal %d rows, %v", tc.q, args, got, gotErr, want, wantErr)
			}
		}
		if hits < 100 {
			t.Fatalf("%s: the template applied to %d executions of 150", tc.q, hits)
		}
		expectRows(t, e, ctx, "SELECT * FROM t ORDER BY id", query(t, e, ctx, "SELECT * FROM ref ORDER BY id")...)
		expectRows(t, e, ctx, "SELECT k, id FROM t ORDER BY k, id", query(t, e, ctx, "SELECT k, id FROM ref ORDER BY k, id")...)
	}
	for _, q := range []string{
		"UPDATE t SET c = CONCAT(?, 'x') WHERE id = ?",
		"UPDATE t SET k = ? + 1 WHERE id = ?",
	} {
		stmt, err := sqlparser.Parse(q)
		if err != nil {
			t.Fatal(err)
		}
		if TemplateStatement(stmt) {
			t.Errorf("%s: accepted", q)
		}
	}
	// A SET's literal that two bindings would make is ambiguous: no template.
	if tp := newArgsTemplate(t, e, ctx, "UPDATE t SET c = ?, k = 5 WHERE id = ?", []insertArg{{s: "a", isStr: true}, {i: 5}}); tp != nil {
		t.Error("a template whose constant SET equals a binding")
	}
}
