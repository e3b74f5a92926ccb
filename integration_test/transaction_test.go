package integration_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// An explicit transaction's statements keep their edits for COMMIT
// (docs/sql.md, "Deferred edits"). Over the wire, with prepared statements
// (the UPDATE and DELETE by key run from plan templates after their first
// execution) as sysbench's write transactions send them: each statement
// sees the earlier ones, a failing statement takes back only its own
// edits, ROLLBACK drops them all, other connections see nothing before
// COMMIT, and after it the rows and the index agree.
func TestTransactionStatementsOverTheWire(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := startServer(t, dir)
	root := s.connect(t, "root", "", "")
	mustExec(t, root, "CREATE DATABASE shop")
	mustExec(t, root, "CREATE TABLE shop.t (id INT PRIMARY KEY, k INT NOT NULL, c VARCHAR(20), KEY kk (k))")
	for i := 1; i <= 20; i++ {
		mustExec(t, root, "INSERT INTO shop.t VALUES (?, ?, ?)", i, i*10, fmt.Sprintf("c%d", i))
	}
	ctx := context.Background()
	conn, err := s.connect(t, "root", "", "shop").Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	prep := func(q string) *sql.Stmt { return mustPrepare(t, conn, q) }
	updK := prep("UPDATE t SET k = k + 1 WHERE id = ?")
	updC := prep("UPDATE t SET c = ? WHERE id = ?")
	del := prep("DELETE FROM t WHERE id = ?")
	ins := prep("INSERT INTO t (id, k, c) VALUES (?, ?, ?)")
	get := prep("SELECT k, c FROM t WHERE id = ?")
	exec := func(st *sql.Stmt, args ...any) {
		t.Helper()
		if _, err := st.ExecContext(ctx, args...); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	row := func(id int) string {
		t.Helper()
		var k int
		var c string
		if err := get.QueryRowContext(ctx, id).Scan(&k, &c); err == sql.ErrNoRows {
			return "none"
		} else if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%d|%s", k, c)
	}
	begin := func() {
		t.Helper()
		if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
			t.Fatal(err)
		}
	}
	end := func(q string) {
		t.Helper()
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	want := map[int]string{}
	for i := 1; i <= 20; i++ {
		want[i] = fmt.Sprintf("%d|c%d", i*10, i)
	}
	// Transactions of sysbench's write_only shape, twice per id so that
	// the templates are made and then used.
	for round := 0; round < 2; round++ {
		for id := 1; id <= 6; id++ {
			begin()
			exec(updK, id)
			exec(updC, fmt.Sprintf("x%d", round), id)
			if got, w := row(id), fmt.Sprintf("%d|x%d", (id*10)+round+1, round); got != w {
				t.Fatalf("round %d: row %d reads %s in its transaction, want %s", round, id, got, w)
			}
			exec(del, id+10)
			if got := row(id + 10); got != "none" {
				t.Fatalf("round %d: row %d deleted in its transaction reads %s", round, id+10, got)
			}
			exec(ins, id+10, 7, fmt.Sprintf("n%d", round))
			// Another connection sees none of it yet.
			if got := queryRows(t, root, "SELECT c FROM shop.t WHERE id = ?", id+10); round == 0 && fmt.Sprint(got) != fmt.Sprint([]string{fmt.Sprintf("c%d", id+10)}) {
				t.Fatalf("another connection reads row %d as %v before COMMIT", id+10, got)
			}
			// A duplicate key fails that statement alone.
			extra := 21 + 10*round + id
			if _, err := ins.ExecContext(ctx, extra, 1, "dup"); err != nil {
				t.Fatal(err)
			}
			if _, err := ins.ExecContext(ctx, id+10, 1, "dup"); err == nil || !strings.Contains(err.Error(), "1062") {
				t.Fatalf("a duplicate of a key inserted in the transaction: %v, want error 1062", err)
			}
			end("COMMIT")
			want[id] = fmt.Sprintf("%d|x%d", id*10+round+1, round)
			want[id+10] = fmt.Sprintf("7|n%d", round)
			want[extra] = "1|dup"
			if round == 1 {
				exec(del, 21+id) // round 0's, in autocommit mode
				delete(want, 21+id)
			}
		}
	}
	// ROLLBACK drops a transaction's edits.
	begin()
	exec(updK, 1)
	exec(del, 2)
	exec(ins, 40, 40, "gone")
	end("ROLLBACK")
	check := func() {
		t.Helper()
		var rows []string
		for id := 1; id <= 40; id++ {
			if w, ok := want[id]; ok {
				rows = append(rows, fmt.Sprintf("%d|%s", id, w))
			}
		}
		got := queryRows(t, root, "SELECT id, k, c FROM shop.t ORDER BY id")
		if strings.Join(got, ",") != strings.Join(rows, ",") {
			t.Fatalf("table:\n got  %v\n want %v", got, rows)
		}
		byIndex := queryRows(t, root, "SELECT id, k, c FROM shop.t FORCE INDEX (kk) WHERE k >= 0 ORDER BY id")
		if strings.Join(byIndex, ",") != strings.Join(rows, ",") {
			t.Fatalf("through the index:\n got  %v\n want %v", byIndex, rows)
		}
	}
	check()
	// And after a restart.
	s.stop(t)
	s = startServer(t, dir)
	root = s.connect(t, "root", "", "")
	check()
}
