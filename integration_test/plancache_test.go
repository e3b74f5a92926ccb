package integration_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
)

// Prepared statements run from the connection's plan cache give what a
// fresh plan gives, across a schema change, a dropped table and a revoked
// grant between two executions of one prepared statement.
func TestPreparedPlanCache(t *testing.T) {
	s := startServer(t, filepath.Join(t.TempDir(), "data"))
	root := s.connect(t, "root", "", "")
	mustExec(t, root, "CREATE DATABASE shop")
	mustExec(t, root, "CREATE TABLE shop.t (id INT PRIMARY KEY, k INT, c VARCHAR(20), KEY (k))")
	for i := 1; i <= 100; i++ {
		mustExec(t, root, "INSERT INTO shop.t VALUES (?, ?, ?)", i, i%10, fmt.Sprintf("c%d", i))
	}
	mustExec(t, root, "CREATE USER reader IDENTIFIED BY 'pw'")
	mustExec(t, root, "GRANT SELECT ON shop.* TO reader")

	ctx := context.Background()
	conn, err := s.connect(t, "reader", "pw", "shop").Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	point, err := conn.PrepareContext(ctx, "SELECT c FROM t WHERE id = ?")
	if err != nil {
		t.Fatal(err)
	}
	// Surrounding spaces and a semicolon, as sysbench's statements have.
	ranges, err := conn.PrepareContext(ctx, "\n    SELECT COUNT(*), SUM(k) FROM t WHERE id BETWEEN ? AND ? OR id BETWEEN ? AND ?;  ")
	if err != nil {
		t.Fatal(err)
	}
	// More rows than the server sends in one batch, every column (which
	// ALTER TABLE changes), and expressions over the columns.
	all, err := conn.PrepareContext(ctx, "SELECT * FROM t WHERE id BETWEEN ? AND ?")
	if err != nil {
		t.Fatal(err)
	}
	expr, err := conn.PrepareContext(ctx, "SELECT id * 2, CONCAT(c, '!'), k + 1 FROM t WHERE id = ?")
	if err != nil {
		t.Fatal(err)
	}
	columns := []string{"id", "k", "c"}
	checkAll := func(when string) {
		t.Helper()
		for _, r := range [][2]int{{1, 100}, {3, 3}, {50, 40}, {1, 100}, {2, 99}, {1, 100}} {
			rows, err := all.QueryContext(ctx, r[0], r[1])
			if err != nil {
				t.Fatalf("%s: all %v: %v", when, r, err)
			}
			cols, err := rows.Columns()
			if err != nil || fmt.Sprint(cols) != fmt.Sprint(columns) {
				t.Fatalf("%s: all %v: columns %v, %v; want %v", when, r, cols, err, columns)
			}
			vals := make([]any, len(cols))
			for i := range vals {
				vals[i] = new(*string)
			}
			n := 0
			for rows.Next() {
				if err := rows.Scan(vals...); err != nil {
					t.Fatal(err)
				}
				id := r[0] + n
				got := map[string]string{}
				for i, c := range cols {
					if v := *vals[i].(**string); v != nil {
						got[c] = *v
					}
				}
				if got["id"] != fmt.Sprint(id) || got["k"] != fmt.Sprint(id%10) || got["c"] != fmt.Sprintf("c%d", id) || got["z"] != "" {
					t.Fatalf("%s: all %v: row %d is %v", when, r, n, got)
				}
				n++
			}
			if err := rows.Err(); err != nil {
				t.Fatalf("%s: all %v: %v", when, r, err)
			}
			rows.Close()
			if want := max(0, r[1]-r[0]+1); n != want {
				t.Fatalf("%s: all %v: %d rows, want %d", when, r, n, want)
			}
		}
		for id := 1; id <= 100; id += 7 {
			var twice, c string
			var k1 int
			if err := expr.QueryRowContext(ctx, id).Scan(&twice, &c, &k1); err != nil {
				t.Fatalf("%s: expr %d: %v", when, id, err)
			}
			if twice != fmt.Sprint(id*2) || c != fmt.Sprintf("c%d!", id) || k1 != id%10+1 {
				t.Fatalf("%s: expr %d: %s %s %d", when, id, twice, c, k1)
			}
		}
	}
	check := func(when string) {
		t.Helper()
		checkAll(when)
		for id := -2; id <= 103; id++ {
			var c string
			err := point.QueryRowContext(ctx, id).Scan(&c)
			want := fmt.Sprintf("c%d", id)
			if id < 1 || id > 100 {
				if err == nil {
					t.Fatalf("%s: id %d: got %q, want no row", when, id, c)
				}
				continue
			}
			if err != nil || c != want {
				t.Fatalf("%s: id %d: %q, %v", when, id, c, err)
			}
		}
		for _, a := range [][4]int{{1, 10, 20, 30}, {20, 30, 1, 10}, {5, 50, 40, 60}, {50, 5, 7, 7}, {90, 120, -5, 2}} {
			var n int
			var sum *int
			if err := ranges.QueryRowContext(ctx, a[0], a[1], a[2], a[3]).Scan(&n, &sum); err != nil {
				t.Fatalf("%s: ranges %v: %v", when, a, err)
			}
			wantN, wantSum := 0, 0
			for id := 1; id <= 100; id++ {
				if id >= a[0] && id <= a[1] || id >= a[2] && id <= a[3] {
					wantN++
					wantSum += id % 10
				}
			}
			if n != wantN || (sum == nil) != (wantN == 0) || sum != nil && *sum != wantSum {
				t.Fatalf("%s: ranges %v: %d rows summing to %v, want %d and %d", when, a, n, sum, wantN, wantSum)
			}
		}
	}
	check("first executions")
	mustExec(t, root, "UPDATE shop.t SET c = CONCAT('c', id)") // no change, a new root
	mustExec(t, root, "ALTER TABLE shop.t ADD COLUMN z INT FIRST")
	columns = []string{"z", "id", "k", "c"}
	check("after ALTER TABLE")

	mustExec(t, root, "REVOKE SELECT ON shop.* FROM reader")
	var c string
	err = point.QueryRowContext(ctx, 1).Scan(&c)
	wantError(t, "a prepared select after REVOKE", err, mysqlError{1142, "42000", "SELECT command denied to user 'reader'@'localhost' for table 't'"})
	mustExec(t, root, "GRANT SELECT ON shop.* TO reader")
	check("after GRANT")

	mustExec(t, root, "DROP TABLE shop.t")
	err = point.QueryRowContext(ctx, 1).Scan(&c)
	wantError(t, "a prepared select of a dropped table", err, mysqlError{1146, "42S02", "Table 'shop.t' doesn't exist"})
}

// Prepared UPDATE and DELETE by key run from the plan cache too, and what
// their cached plans lack between two executions is not skipped: a revoked
// grant, a trigger, a foreign key naming the table.
func TestPreparedWritePlanCache(t *testing.T) {
	s := startServer(t, filepath.Join(t.TempDir(), "data"))
	root := s.connect(t, "root", "", "")
	mustExec(t, root, "CREATE DATABASE shop")
	mustExec(t, root, "CREATE TABLE shop.t (id INT PRIMARY KEY, k INT NOT NULL, KEY (k))")
	for i := 1; i <= 50; i++ {
		mustExec(t, root, "INSERT INTO shop.t VALUES (?, ?)", i, i%10)
	}
	mustExec(t, root, "CREATE USER writer IDENTIFIED BY 'pw'")
	mustExec(t, root, "GRANT SELECT, UPDATE, DELETE ON shop.* TO writer")

	ctx := context.Background()
	conn, err := s.connect(t, "writer", "pw", "shop").Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	upd, err := conn.PrepareContext(ctx, "UPDATE t SET k = k + 1 WHERE id = ?")
	if err != nil {
		t.Fatal(err)
	}
	del, err := conn.PrepareContext(ctx, "DELETE FROM t WHERE id = ?")
	if err != nil {
		t.Fatal(err)
	}
	status := func(name string) int {
		var n string
		var v int
		if err := conn.QueryRowContext(ctx, "SHOW SESSION STATUS LIKE '"+name+"'").Scan(&n, &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	updates := status("Com_update")
	for round := range 3 {
		for id := 1; id <= 60; id++ {
			res, err := upd.ExecContext(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := res.RowsAffected(); n != map[bool]int64{true: 1, false: 0}[id <= 50] {
				t.Fatalf("round %d: UPDATE of id %d affected %d rows", round, id, n)
			}
		}
	}
	if got := status("Com_update") - updates; got != 180 {
		t.Fatalf("Com_update counted %d of 180 UPDATEs", got)
	}
	var sum int
	if err := root.QueryRow("SELECT SUM(k) FROM shop.t").Scan(&sum); err != nil || sum != 225+150 {
		t.Fatalf("SUM(k) after 3 rounds of k = k + 1: %d, %v; want 375", sum, err)
	}

	mustExec(t, root, "REVOKE UPDATE ON shop.* FROM writer")
	_, err = upd.ExecContext(ctx, 1)
	wantError(t, "a prepared update after REVOKE", err, mysqlError{1142, "42000", "UPDATE command denied to user 'writer'@'localhost' for table 't'"})
	mustExec(t, root, "GRANT UPDATE ON shop.* TO writer")

	mustExec(t, root, "CREATE TABLE shop.audit (id INT)")
	mustExec(t, root, "CREATE TRIGGER shop.tr AFTER UPDATE ON shop.t FOR EACH ROW INSERT INTO shop.audit VALUES (NEW.id)")
	mustExec(t, root, "GRANT INSERT ON shop.audit TO writer")
	if _, err := upd.ExecContext(ctx, 7); err != nil {
		t.Fatal(err)
	}
	var audited int
	if err := root.QueryRow("SELECT COUNT(*) FROM shop.audit WHERE id = 7").Scan(&audited); err != nil || audited != 1 {
		t.Fatalf("the trigger made after the plan ran %d times, %v", audited, err)
	}

	if _, err := del.ExecContext(ctx, 2); err != nil { // cached
		t.Fatal(err)
	}
	mustExec(t, root, "CREATE TABLE shop.child (id INT PRIMARY KEY, tid INT, FOREIGN KEY (tid) REFERENCES shop.t (id))")
	mustExec(t, root, "INSERT INTO shop.child VALUES (1, 3)")
	_, err = del.ExecContext(ctx, 3)
	wantError(t, "a prepared delete of a row a foreign key names", err, mysqlError{1451, "23000",
		"Cannot delete or update a parent row: a foreign key constraint fails (`shop`.`child`, CONSTRAINT `child_ibfk_1` FOREIGN KEY (`tid`) REFERENCES `t` (`id`))"})
}

// Text INSERTs of one row of plain literals run from INSERT templates
// (server/textinsert.go). Run side by side with the same statements behind
// a comment, which the handler runs the normal way, they give the same
// rows, errors, LAST_INSERT_ID and Com_insert, and a revoked grant or a
// changed sql_mode between two executions is not skipped.
func TestTextInsertPlanCache(t *testing.T) {
	s := startServer(t, filepath.Join(t.TempDir(), "data"))
	root := s.connect(t, "root", "", "")
	mustExec(t, root, "CREATE DATABASE shop")
	for _, name := range []string{"t", "ref"} {
		mustExec(t, root, "CREATE TABLE shop."+name+" (id INT NOT NULL AUTO_INCREMENT, k INT NOT NULL, c CHAR(8) NOT NULL DEFAULT 'd', "+
			"PRIMARY KEY (id), KEY (k), CHECK (k < 1000))")
	}
	mustExec(t, root, "CREATE USER app IDENTIFIED BY 'pw'")
	mustExec(t, root, "GRANT SELECT, INSERT ON shop.* TO app")

	ctx := context.Background()
	conn, err := s.connect(t, "app", "pw", "shop").Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	status := func(name string) int {
		var n string
		var v int
		if err := conn.QueryRowContext(ctx, "SHOW SESSION STATUS LIKE '"+name+"'").Scan(&n, &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	type outcome struct {
		affected, id int64
		err          mysqlError
		lastID       int64 // LAST_INSERT_ID() after it
	}
	run := func(q string) outcome {
		var o outcome
		res, err := conn.ExecContext(ctx, q)
		if err != nil {
			o.err = mysqlErrorOf(err)
			o.err.Msg = strings.NewReplacer("ref_chk", "t_chk", "'ref.", "'t.").Replace(o.err.Msg)
		} else {
			o.affected, _ = res.RowsAffected()
			o.id, _ = res.LastInsertId()
		}
		if err := conn.QueryRowContext(ctx, "SELECT LAST_INSERT_ID()").Scan(&o.lastID); err != nil {
			t.Fatal(err)
		}
		return o
	}
	rng := rand.New(rand.NewPCG(3, 4))
	inserts := status("Com_insert")
	const n = 300
	for i := range n {
		var q string
		switch i % 3 {
		case 0:
			// id 0: the next auto-increment value; sometimes k fails the
			// CHECK or c is too long for CHAR(8) (strict mode).
			q = fmt.Sprintf("INSERT INTO %%s (id, k, c) VALUES (0, %d, '%s')", rng.IntN(1100), strings.Repeat("x", rng.IntN(10)))
		case 1:
			// An explicit id, sometimes one already there.
			q = fmt.Sprintf("INSERT INTO %%s (id, k) VALUES (%d, %d)", 1000+rng.IntN(60), rng.IntN(900))
		default:
			q = fmt.Sprintf("INSERT INTO %%s (k) VALUES (%d)", rng.IntN(900))
		}
		got, want := run(fmt.Sprintf(q, "t")), run("/* the normal way */ "+fmt.Sprintf(q, "ref"))
		if got != want {
			t.Fatalf("%s: %+v from the template, %+v the normal way", q, got, want)
		}
	}
	if got := status("Com_insert") - inserts; got != 2*n {
		t.Fatalf("Com_insert counted %d of %d INSERTs", got, 2*n)
	}
	want := queryRows(t, root, "SELECT * FROM shop.ref ORDER BY id")
	if got := queryRows(t, root, "SELECT * FROM shop.t ORDER BY id"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("rows differ:\n t   %v\n ref %v", got, want)
	}
	if got := queryRows(t, root, "SELECT k, id FROM shop.t FORCE INDEX (k) ORDER BY k, id"); fmt.Sprint(got) !=
		fmt.Sprint(queryRows(t, root, "SELECT k, id FROM shop.ref FORCE INDEX (k) ORDER BY k, id")) {
		t.Fatal("the index on k differs")
	}

	if _, err := conn.ExecContext(ctx, "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')"); err != nil {
		t.Fatal(err)
	}
	if got := run("INSERT INTO t (id, k, c) VALUES (0, 1, 'zero')"); got.affected != 1 || got.id != 0 || got.err != (mysqlError{}) {
		t.Fatalf("id 0 under NO_AUTO_VALUE_ON_ZERO: %+v", got)
	}
	var c string
	if err := root.QueryRow("SELECT c FROM shop.t WHERE id = 0").Scan(&c); err != nil || c != "zero" {
		t.Fatalf("the row of id 0: %q, %v", c, err)
	}
	mustExec(t, root, "REVOKE INSERT ON shop.* FROM app")
	_, err = conn.ExecContext(ctx, "INSERT INTO t (id, k, c) VALUES (0, 2, 'x')")
	wantError(t, "a text insert after REVOKE", err, mysqlError{1142, "42000", "INSERT command denied to user 'app'@'localhost' for table 't'"})
}

// Prepared BEGIN and COMMIT (sysbench prepares them) run from the plan
// cache and keep their meaning: what a transaction wrote shows to another
// connection at its COMMIT, not before; a READ ONLY transaction refuses
// writes; ROLLBACK after a cached BEGIN undoes.
func TestPreparedTransactionPlanCache(t *testing.T) {
	s := startServer(t, filepath.Join(t.TempDir(), "data"))
	root := s.connect(t, "root", "", "")
	mustExec(t, root, "CREATE DATABASE shop")
	mustExec(t, root, "CREATE TABLE shop.t (id INT PRIMARY KEY)")
	ctx := context.Background()
	conn, err := s.connect(t, "root", "", "shop").Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	prepare := func(q string) *sql.Stmt { return mustPrepare(t, conn, q) }
	begin, readOnly, commit, insert := prepare("BEGIN"), prepare("START TRANSACTION READ ONLY"), prepare("COMMIT"), prepare("INSERT INTO t VALUES (?)")
	exec := func(st *sql.Stmt, args ...any) error {
		_, err := st.ExecContext(ctx, args...)
		return err
	}
	count := func() int {
		var n int
		if err := root.QueryRow("SELECT COUNT(*) FROM shop.t").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for round := range 5 {
		if err := exec(begin); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if err := exec(insert, round*10+i); err != nil {
				t.Fatal(err)
			}
		}
		if n := count(); n != round*3 {
			t.Fatalf("round %d: %d rows seen before COMMIT, want %d", round, n, round*3)
		}
		if err := exec(commit); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != round*3+3 {
			t.Fatalf("round %d: %d rows seen after COMMIT, want %d", round, n, round*3+3)
		}
	}
	if err := exec(begin); err != nil {
		t.Fatal(err)
	}
	if err := exec(insert, 99); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 15 {
		t.Fatalf("%d rows after ROLLBACK, want 15", n)
	}
	for range 2 {
		if err := exec(readOnly); err != nil {
			t.Fatal(err)
		}
		wantError(t, "an insert in a READ ONLY transaction", exec(insert, 100),
			mysqlError{1792, "25006", "Cannot execute statement in a READ ONLY transaction."})
		if err := exec(commit); err != nil {
			t.Fatal(err)
		}
	}
	// A COMMIT with no transaction open is fine, cached or not.
	for range 2 {
		if err := exec(commit); err != nil {
			t.Fatal(err)
		}
	}
}
