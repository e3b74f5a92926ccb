package sqle

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
	"github.com/dolthub/vitess/go/vt/sqlparser"
)

// templateRows runs q with bindings through a plan template made at the
// first bindings, and returns its rows as strings; ok is false if Bind
// declined.
func templateRows(t *testing.T, e *Engine, ctx *sql.Context, tp *PlanTemplate, args []int64) ([]string, bool) {
	t.Helper()
	node, err := tp.Bind(ctx, intBindings(args))
	if err != nil {
		return nil, false
	}
	iter, err := e.SQL.Analyzer.ExecBuilder.Build(ctx, node, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := sql.RowIterToRows(ctx, iter)
	if err != nil {
		t.Fatal(err)
	}
	sch := node.Schema()
	var out []string
	for _, r := range rows {
		var parts []string
		for i, v := range r {
			if v == nil {
				parts = append(parts, "NULL")
				continue
			}
			sv, err := sch[i].Type.SQL(ctx, nil, v)
			if err != nil {
				t.Fatal(err)
			}
			parts = append(parts, sv.ToString())
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return out, true
}

func intBindings(args []int64) map[string]*querypb.BindVariable {
	return insertBindings(intArgs(args))
}

// intArgs are integer arguments as insertArgs.
func intArgs(args []int64) []insertArg {
	out := make([]insertArg, len(args))
	for i, a := range args {
		out[i] = insertArg{i: a}
	}
	return out
}

// newTemplate prepares q, plans it for args and makes its template.
func newTemplate(t *testing.T, e *Engine, ctx *sql.Context, q string, args []int64) *PlanTemplate {
	t.Helper()
	return newArgsTemplate(t, e, ctx, q, intArgs(args))
}

func TestPlanTemplate(t *testing.T) {
	e := newTestEngine(t, "")
	ctx := e.NewContext(context.Background(), "")
	query(t, e, ctx, "CREATE DATABASE sb")
	query(t, e, ctx, "USE sb")
	query(t, e, ctx, "CREATE TABLE sbtest1 (id INTEGER NOT NULL AUTO_INCREMENT, k INTEGER DEFAULT '0' NOT NULL, c CHAR(120) DEFAULT '' NOT NULL, PRIMARY KEY (id), KEY k_1 (k))")
	var vals []string
	for i := 1; i <= 200; i++ {
		vals = append(vals, fmt.Sprintf("(%d, %d, 'c%d')", i, (i*37)%50, i))
	}
	query(t, e, ctx, "INSERT INTO sbtest1 VALUES "+strings.Join(vals, ","))
	rng := rand.New(rand.NewPCG(1, 2))
	for _, q := range []string{
		"SELECT c FROM sbtest1 WHERE id=?",
		"SELECT c FROM sbtest1 WHERE id BETWEEN ? AND ?",
		"SELECT SUM(k) FROM sbtest1 WHERE id BETWEEN ? AND ?",
		"SELECT c FROM sbtest1 WHERE id BETWEEN ? AND ? ORDER BY c",
		"SELECT DISTINCT c FROM sbtest1 WHERE id BETWEEN ? AND ? ORDER BY c",
		"SELECT count(k) FROM sbtest1 WHERE k BETWEEN ? AND ? OR k BETWEEN ? AND ?",
		"SELECT id, k FROM sbtest1 WHERE k = ?",
	} {
		n := strings.Count(q, "?")
		first := []int64{3, 9, 20, 25}[:n]
		tp := newTemplate(t, e, ctx, q, first)
		if tp == nil {
			t.Fatalf("%s: no template", q)
		}
		hits := 0
		for range 300 {
			args := make([]int64, n)
			for i := range args {
				args[i] = rng.Int64N(260) - 30
				if i%2 == 1 && rng.IntN(10) > 0 {
					args[i] = args[i-1] + rng.Int64N(8) // mostly a valid range
				}
			}
			got, ok := templateRows(t, e, ctx, tp, args)
			if !ok {
				continue
			}
			hits++
			lit := q
			for _, a := range args {
				lit = strings.Replace(lit, "?", fmt.Sprint(a), 1)
			}
			want := query(t, e, ctx, lit)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%s with %v:\n template %q\n normal   %q", q, args, got, want)
			}
		}
		if hits < 50 {
			t.Fatalf("%s: the template applied to %d executions of 300", q, hits)
		}
		t.Logf("%s: %d of 300 from the template", q, hits)
	}
}

// Overlapping ranges are joined, as the analyzer joins them: every row is
// counted and returned once, and the template serves those executions too.
func TestPlanTemplateOverlappingRanges(t *testing.T) {
	e := newTestEngine(t, "")
	ctx := e.NewContext(context.Background(), "")
	query(t, e, ctx, "CREATE DATABASE sb")
	query(t, e, ctx, "USE sb")
	query(t, e, ctx, "CREATE TABLE sbtest1 (id INTEGER NOT NULL PRIMARY KEY, k INTEGER NOT NULL, KEY k_1 (k))")
	var vals []string
	for i := 1; i <= 300; i++ {
		vals = append(vals, fmt.Sprintf("(%d, %d)", i, (i*7)%60))
	}
	query(t, e, ctx, "INSERT INTO sbtest1 VALUES "+strings.Join(vals, ","))
	rng := rand.New(rand.NewPCG(3, 4))
	for _, q := range []string{
		"SELECT count(k) FROM sbtest1 WHERE k BETWEEN ? AND ? OR k BETWEEN ? AND ? OR k BETWEEN ? AND ? OR k BETWEEN ? AND ?",
		"SELECT id FROM sbtest1 WHERE id BETWEEN ? AND ? OR id BETWEEN ? AND ? OR id BETWEEN ? AND ? ORDER BY id",
	} {
		tp := newTemplate(t, e, ctx, q, []int64{1, 2, 10, 12, 20, 22, 30, 31}[:strings.Count(q, "?")])
		if tp == nil {
			t.Fatalf("%s: no template", q)
		}
		overlapping := 0
		for range 300 {
			n := strings.Count(q, "?")
			args := make([]int64, n)
			for i := 0; i < n; i += 2 {
				args[i] = 20 + rng.Int64N(15) // starts in a narrow window: most executions overlap
				args[i+1] = args[i] + rng.Int64N(6)
			}
			got, ok := templateRows(t, e, ctx, tp, args)
			if !ok {
				t.Fatalf("%s with %v: the template declined", q, args)
			}
			lit := q
			for _, a := range args {
				lit = strings.Replace(lit, "?", fmt.Sprint(a), 1)
			}
			if want := query(t, e, ctx, lit); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%s with %v:\n template %q\n normal   %q", q, args, got, want)
			}
			for i := 2; i < n; i += 2 {
				for j := 0; j < i; j += 2 {
					if args[i] <= args[j+1] && args[j] <= args[i+1] {
						overlapping++
						i, j = n, n
					}
				}
			}
		}
		if overlapping < 150 {
			t.Fatalf("%s: only %d executions of 300 had overlapping ranges", q, overlapping)
		}
	}
}

// Statements of other shapes get no template, values the ranges cannot
// take are declined, and a schema change makes a template stale.
func TestPlanTemplateRefuses(t *testing.T) {
	for _, q := range []string{
		"SELECT c FROM t WHERE id = ? + 1",
		"SELECT c FROM t WHERE ABS(id) = ?",
		"SELECT ? FROM t WHERE id = ?",
		"SELECT c FROM t WHERE id = ? LIMIT ?",
		"SELECT c FROM t WHERE id = 5 AND k = ?",
		"SELECT c FROM t WHERE id > ?",
		"SELECT c FROM t WHERE id IN (?, ?)",
		"SELECT c FROM t, u WHERE t.id = ?",
		"SELECT c FROM t WHERE id = ? FOR UPDATE",
		"SELECT c FROM (SELECT * FROM t) s WHERE id = ?",
		"UPDATE t SET k = 1 WHERE id = ? LIMIT ?",
		"UPDATE IGNORE t SET k = 1 WHERE id = ?",
		"UPDATE t, u SET t.k = 1 WHERE t.id = ?",
		"UPDATE t SET k = 1",
		"DELETE FROM t WHERE id = ? LIMIT ?",
		"DELETE t FROM t JOIN u ON t.id = u.id WHERE t.id = ?",
		"DELETE FROM t",
		"INSERT INTO t VALUES (?, ? + 1)",
		"INSERT INTO t VALUES (?, 1)",
		"INSERT INTO t VALUES (?, ?), (?, ?)",
		"INSERT INTO t SELECT ?, ?",
		"INSERT IGNORE INTO t VALUES (?, ?)",
		"INSERT INTO t VALUES (?, ?) ON DUPLICATE KEY UPDATE k = ?",
		"REPLACE INTO t VALUES (?, ?)",
		"INSERT INTO t VALUES (?, ?) AS new",
	} {
		stmt, err := sqlparser.Parse(q)
		if err != nil {
			t.Fatal(err)
		}
		if TemplateStatement(stmt) {
			t.Errorf("%s: accepted", q)
		}
	}

	e := newTestEngine(t, "")
	ctx := e.NewContext(context.Background(), "")
	query(t, e, ctx, "CREATE DATABASE sb")
	query(t, e, ctx, "USE sb")
	query(t, e, ctx, "CREATE TABLE t (id INT PRIMARY KEY, c TEXT, s VARCHAR(10), KEY (s))")
	query(t, e, ctx, "INSERT INTO t VALUES (1, 'one', 'a'), (2, 'two', 'b')")
	if tp := newTemplate(t, e, ctx, "SELECT c FROM t WHERE s = ?", []int64{1}); tp != nil {
		t.Fatal("a template for an integer compared with a string column")
	}
	if tp := newTemplate(t, e, ctx, "SELECT c FROM t WHERE id = ? AND c = ?", []int64{1, 2}); tp != nil {
		t.Fatal("a template for a plan with a filter left")
	}
	tp := newTemplate(t, e, ctx, "SELECT c FROM t WHERE id = ?", []int64{1})
	if tp == nil {
		t.Fatal("no template for a point select")
	}
	if rows, ok := templateRows(t, e, ctx, tp, []int64{2}); !ok || fmt.Sprint(rows) != "[two]" {
		t.Fatalf("template with id 2: %q, %v", rows, ok)
	}
	for _, v := range []int64{1 << 40, -(1 << 40)} {
		if _, err := tp.Bind(ctx, intBindings([]int64{v})); err == nil || IsStale(err) {
			t.Fatalf("id %d, out of INT's range: %v", v, err)
		}
	}
	query(t, e, ctx, "ALTER TABLE t ADD COLUMN z INT")
	if _, err := tp.Bind(ctx, intBindings([]int64{1})); !IsStale(err) {
		t.Fatalf("after ALTER TABLE: %v", err)
	}
}

// templateExec runs the template's plan for args as the server does
// (PrepQueryPlanForExecution: the transaction, its commit), and returns the
// rows affected; ok is false if Bind declined.
func templateExec(t *testing.T, e *Engine, ctx *sql.Context, tp *PlanTemplate, args []int64) (uint64, bool) {
	t.Helper()
	n, ok, err := argsExec(t, e, ctx, tp, intArgs(args))
	if err != nil {
		t.Fatal(err)
	}
	return n, ok
}

// twinTables makes database sb with two tables of the given columns, t for
// the statements under test and ref for the same statements with literals,
// each holding rows rows (id, k, c) = (i, i % 10, 'ci').
func twinTables(t *testing.T, columns string, rows int) (*Engine, *sql.Context) {
	t.Helper()
	e := newTestEngine(t, "")
	ctx := e.NewContext(context.Background(), "")
	query(t, e, ctx, "CREATE DATABASE sb")
	query(t, e, ctx, "USE sb")
	for _, name := range []string{"t", "ref"} {
		query(t, e, ctx, "CREATE TABLE "+name+" ("+columns+")")
		if rows == 0 {
			continue
		}
		var vals []string
		for i := 1; i <= rows; i++ {
			vals = append(vals, fmt.Sprintf("(%d, %d, 'c%d')", i, i%10, i))
		}
		query(t, e, ctx, "INSERT INTO "+name+" VALUES "+strings.Join(vals, ","))
	}
	return e, ctx
}

// UPDATE and DELETE by key are templated: run from the template, they leave
// a table as the same statements run the normal way leave a copy of it. A
// trigger, a foreign key naming the table or a READ ONLY transaction keep
// the template from applying.
func TestPlanTemplateWrites(t *testing.T) {
	e, ctx := twinTables(t, "id INT PRIMARY KEY, k INT NOT NULL, c VARCHAR(20), KEY k_1 (k), CHECK (k < 1000)", 100)
	rng := rand.New(rand.NewPCG(5, 6))
	for _, q := range []string{
		"UPDATE %s SET k = k + 1 WHERE id = ?",
		"UPDATE %s SET c = CONCAT(c, 'x'), k = k * 2 WHERE id = ?",
		"DELETE FROM %s WHERE id = ?",
	} {
		n := strings.Count(q, "?")
		tp := newTemplate(t, e, ctx, fmt.Sprintf(q, "t"), []int64{3}[:n])
		if tp == nil {
			t.Fatalf("%s: no template", q)
		}
		hits := 0
		for range 60 {
			args := make([]int64, n)
			for i := range args {
				args[i] = rng.Int64N(120)
			}
			got, ok := templateExec(t, e, ctx, tp, args)
			if !ok {
				continue
			}
			hits++
			lit := fmt.Sprintf(q, "ref")
			for _, a := range args {
				lit = strings.Replace(lit, "?", fmt.Sprint(a), 1)
			}
			res, err := e.Query(ctx, lit)
			if err != nil {
				t.Fatal(err)
			}
			if want := res.RowsAffected; got != want {
				t.Fatalf("%s with %v: %d rows affected from the template, %d the normal way", q, args, got, want)
			}
		}
		if hits < 30 {
			t.Fatalf("%s: the template applied to %d executions of 60", q, hits)
		}
		expectRows(t, e, ctx, "SELECT COUNT(*), SUM(k), SUM(LENGTH(c)) FROM t", query(t, e, ctx, "SELECT COUNT(*), SUM(k), SUM(LENGTH(c)) FROM ref")...)
	}
	// A CHECK still holds: the template's plan carries it.
	query(t, e, ctx, "UPDATE t SET k = 998 WHERE id = 50")
	tp := newTemplate(t, e, ctx, "UPDATE t SET k = k + 1 WHERE id = ?", []int64{1})
	if _, err := tp.Bind(ctx, intBindings([]int64{50})); err != nil {
		t.Fatal(err)
	}
	if _, ok := templateExec(t, e, ctx, tp, []int64{50}); !ok {
		t.Fatal("declined")
	}
	node, _ := tp.Bind(ctx, intBindings([]int64{50}))
	if _, iter, _, err := e.SQL.PrepQueryPlanForExecution(ctx, "", node, nil); err == nil {
		if _, err = sql.RowIterToRows(ctx, iter); err == nil {
			t.Fatal("k = 1000 passed the CHECK (k < 1000)")
		}
	}

	// What the plan lacks makes the template stale.
	query(t, e, ctx, "START TRANSACTION READ ONLY")
	if _, err := tp.Bind(ctx, intBindings([]int64{1})); err == nil || IsStale(err) {
		t.Fatalf("in a READ ONLY transaction: %v", err)
	}
	query(t, e, ctx, "COMMIT")
	query(t, e, ctx, "CREATE TABLE audit (n INT)")
	query(t, e, ctx, "CREATE TRIGGER tr AFTER UPDATE ON ref FOR EACH ROW INSERT INTO audit VALUES (1)")
	if _, err := tp.Bind(ctx, intBindings([]int64{1})); !IsStale(err) {
		t.Fatalf("after CREATE TRIGGER: %v", err)
	}
	query(t, e, ctx, "DROP TRIGGER tr")
	if _, err := tp.Bind(ctx, intBindings([]int64{1})); err != nil {
		t.Fatalf("after DROP TRIGGER: %v", err)
	}
	query(t, e, ctx, "CREATE TABLE child (id INT PRIMARY KEY, tid INT, FOREIGN KEY (tid) REFERENCES t (id))")
	if _, err := tp.Bind(ctx, intBindings([]int64{1})); !IsStale(err) {
		t.Fatalf("after a foreign key to the table: %v", err)
	}
	if tp := newTemplate(t, e, ctx, "DELETE FROM t WHERE id = ?", []int64{1}); tp != nil {
		t.Fatal("a template for a DELETE from a table a foreign key names")
	}
}
