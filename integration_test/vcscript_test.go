package integration_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
)

// vcStep is one statement of a version-control script run over the wire:
// its rows joined with "|" and ",", or its error (MySQL number and text).
type vcStep struct {
	query   string
	want    string // rows, "" for none (checked unless any is set)
	any     bool   // the rows are not checked
	errNum  uint16
	errText string // the error message must contain it
}

// The version-control procedures, system tables and their errors through
// go-sql-driver, as applications meet them: results, messages and MySQL
// error numbers (1105 with Dolt's texts).
func TestVersionControlOverTheWire(t *testing.T) {
	top := t.TempDir()
	s := startServer(t, top)
	root := s.connect(t, "root", "", "")
	mustExec(t, root, "CREATE DATABASE vc")
	pool := s.connect(t, "root", "", "vc")
	conn, err := pool.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	script := []vcStep{
		{query: "SELECT active_branch()", want: "main"},
		{query: "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))"},
		{query: "INSERT INTO t VALUES (1, 'a')"},
		{query: "SELECT table_name, staged, status FROM dolt_status", want: "t|0|new table"},
		{query: "CALL dolt_commit('-m', 'x')", errNum: 1105, errText: "nothing to commit"},
		{query: "CALL dolt_add('nope')", errNum: 1105, errText: "error: the tables nope do not exist"},
		{query: "CALL dolt_add('.')", want: "0"},
		{query: "CALL dolt_commit('-m', 'first')", any: true},
		{query: "SELECT message FROM dolt_log LIMIT 1", want: "first"},
		{query: "CALL dolt_branch('feature')", want: "0"},
		{query: "CALL dolt_branch('feature')", errNum: 1105, errText: "fatal: A branch named 'feature' already exists."},
		{query: "CALL dolt_checkout('feature')", want: "0|Switched to branch 'feature'"},
		{query: "UPDATE t SET v = 'f' WHERE id = 1"},
		{query: "CALL dolt_commit('-am', 'feature')", any: true},
		{query: "CALL dolt_checkout('main')", want: "0|Switched to branch 'main'"},
		{query: "UPDATE t SET v = 'm' WHERE id = 1"},
		{query: "CALL dolt_commit('-am', 'main')", any: true},
		{query: "CALL dolt_merge('feature')", want: "|0|1|conflicts found"},
		{query: "SELECT `table`, num_conflicts FROM dolt_conflicts", want: "t|1"},
		{query: "SELECT our_v, their_v FROM dolt_conflicts_t", want: "m|f"},
		{query: "CALL dolt_commit('-am', 'too soon')", errNum: 1105, errText: "unresolved merge conflicts"},
		{query: "UPDATE t SET v = 'f' WHERE id = 1"},
		{query: "DELETE FROM dolt_conflicts_t"},
		{query: "CALL dolt_commit('-am', 'merged')", any: true},
		{query: "SELECT v FROM t", want: "f"},
		{query: "SELECT COUNT(*) FROM dolt_log", want: "5"},
		{query: "CALL dolt_tag('v1', '-m', 'one')", want: "0"},
		{query: "SELECT v FROM `vc/v1`.t", want: "f"},
		{query: "INSERT INTO `vc/v1`.t VALUES (9, 'x')", errNum: 1105, errText: "is read-only"},
		{query: "SELECT v FROM t AS OF 'HEAD~1'", want: "m"},
		{query: "CALL dolt_reset('--hard', 'HEAD~1')", want: "0"},
		{query: "SELECT v FROM t", want: "m"},
		{query: "CALL dolt_checkout('nope')", errNum: 1105, errText: "error: could not find nope"},
		{query: "CALL dolt_branch('-d', 'main')", errNum: 1105, errText: "Cannot delete checked out branch 'main'"},
		{query: "CREATE TABLE dolt_x (id INT PRIMARY KEY)", errNum: 1105, errText: "Table names beginning with `dolt_` are reserved"},
		{query: "SELECT hashof('nope')", errNum: 1105, errText: "invalid ref spec"},
		{query: "SELECT COUNT(*) FROM dolt_diff_t WHERE to_commit = hashof('HEAD')", want: "1"},
		{query: "SELECT COUNT(*) > 0 FROM dolt_history_t", want: "1"},
		{query: "SELECT name FROM dolt_branches ORDER BY name", want: "feature,main"},
	}
	script = append(script,
		vcStep{query: "USE `vc/feature`"},
		vcStep{query: "SELECT DATABASE(), active_branch()", want: "vc/feature|feature"},
	)
	for _, st := range script {
		got, err := runStep(conn, st.query)
		switch {
		case st.errNum != 0 || st.errText != "":
			a := sqlAnswerOf(err)
			if err == nil || a.Number != st.errNum || !strings.Contains(a.Msg, st.errText) {
				t.Fatalf("%s = %q, %v; want error %d with %q", st.query, got, a, st.errNum, st.errText)
			}
		case err != nil:
			t.Fatalf("%s: %v", st.query, err)
		case !st.any && got != st.want:
			t.Fatalf("%s = %q, want %q", st.query, got, st.want)
		}
	}
}

// A client may connect straight to a branch: database vc/feature.
func TestConnectToBranch(t *testing.T) {
	s := startServer(t, t.TempDir())
	root := s.connect(t, "root", "", "")
	mustExec(t, root, "CREATE DATABASE vc")
	mustExec(t, s.connect(t, "root", "", "vc"), "CALL dolt_branch('feature')")
	db := s.connect(t, "root", "", "vc%2Ffeature") // the driver unescapes the database name
	var name, branch string
	if err := db.QueryRow("SELECT DATABASE(), active_branch()").Scan(&name, &branch); err != nil || name != "vc/feature" || branch != "feature" {
		t.Fatalf("connected to vc/feature: %q %q %v", name, branch, err)
	}
	mustExec(t, db, "CREATE TABLE only_on_feature (id INT PRIMARY KEY)")
	main := s.connect(t, "root", "", "vc")
	var n int
	if err := main.QueryRow("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'vc' AND table_name = 'only_on_feature'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("a table made on feature shows on main: %d, %v", n, err)
	}
}

func runStep(conn *sql.Conn, q string) (string, error) {
	rows, err := conn.QueryContext(context.Background(), q)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		var cells []string
		for _, v := range vals {
			if v.Valid {
				cells = append(cells, v.String)
			} else {
				cells = append(cells, "NULL")
			}
		}
		out = append(out, strings.Join(cells, "|"))
	}
	return strings.Join(out, ","), rows.Err()
}
