package procedures

import (
	"strings"
	"testing"
)

func TestHistoryAndDiffTables(t *testing.T) {
	s := newTestServer(t)
	s.exec("", "CREATE DATABASE db")
	se := s.session(t, "db")
	ctx, q := se.ctx, se.q
	q("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))")
	q("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
	h1 := q("CALL dolt_commit('-Am', 'one')")
	q("UPDATE t SET v = 'B' WHERE id = 2")
	q("DELETE FROM t WHERE id = 1")
	q("INSERT INTO t VALUES (3, 'c')")
	h2 := q("CALL dolt_commit('-am', 'two')")
	q("INSERT INTO t VALUES (4, 'd')")
	q("ALTER TABLE t ADD COLUMN w INT")
	q("UPDATE t SET w = 7 WHERE id = 4")

	if got := q("SELECT id, v, w, commit_hash FROM dolt_history_t ORDER BY commit_hash = '" + h1 + "', id"); got != "2|B|NULL|"+h2+",3|c|NULL|"+h2+",1|a|NULL|"+h1+",2|b|NULL|"+h1 {
		t.Fatalf("dolt_history_t = %q", got)
	}
	h0 := q("SELECT commit_hash FROM dolt_log WHERE commit_order = 1")
	got := q("SELECT to_id, to_v, to_w, to_commit, from_id, from_v, from_commit, diff_type FROM dolt_diff_t ORDER BY to_commit = 'WORKING' DESC, to_commit = '" + h2 + "' DESC, COALESCE(to_id, from_id)")
	want := strings.Join([]string{
		"4|d|7|WORKING|NULL|NULL|" + h2 + "|added",
		"NULL|NULL|NULL|" + h2 + "|1|a|" + h1 + "|removed",
		"2|B|NULL|" + h2 + "|2|b|" + h1 + "|modified",
		"3|c|NULL|" + h2 + "|NULL|NULL|" + h1 + "|added",
		"1|a|NULL|" + h1 + "|NULL|NULL|" + h0 + "|added",
		"2|b|NULL|" + h1 + "|NULL|NULL|" + h0 + "|added",
	}, ",")
	if got != want {
		t.Fatalf("dolt_diff_t =\n%s\nwant\n%s", strings.ReplaceAll(got, ",", "\n"), strings.ReplaceAll(want, ",", "\n"))
	}
	if got := q("SELECT COUNT(*) FROM dolt_diff_t WHERE to_commit = '" + h2 + "'"); got != "3" {
		t.Fatalf("changes in commit two: %q", got)
	}
	_, err := s.e.Query(ctx, "SELECT * FROM dolt_history_nope")
	if err == nil || !strings.Contains(err.Error(), "dolt_history_nope") {
		t.Fatalf("history of a missing table: %v", err)
	}
}

func TestDiffTableFunction(t *testing.T) {
	s := newTestServer(t)
	s.exec("", "CREATE DATABASE db")
	se := s.session(t, "db")
	ctx, q := se.ctx, se.q
	q("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))")
	q("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
	h1 := q("CALL dolt_commit('-Am', 'one')")
	q("UPDATE t SET v = 'B' WHERE id = 2")
	q("INSERT INTO t VALUES (3, 'c')")
	h2 := q("CALL dolt_commit('-am', 'two')")
	q("DELETE FROM t WHERE id = 1")
	for _, c := range []struct{ query, want string }{
		{"SELECT COALESCE(to_id, from_id), to_v, from_v, diff_type FROM dolt_diff('" + h1 + "', '" + h2 + "', 't') ORDER BY 1", "2|B|b|modified,3|c|NULL|added"},
		{"SELECT COALESCE(to_id, from_id), diff_type, to_commit FROM dolt_diff('HEAD', 'WORKING', 't')", "1|removed|WORKING"},
		{"SELECT COUNT(*) FROM dolt_diff('HEAD~1', 'WORKING', 't')", "3"},
		{"SELECT COUNT(*) FROM dolt_diff('HEAD', 'STAGED', 't')", "0"},
		{"SELECT d.diff_type FROM dolt_diff('" + h2 + "', '" + h1 + "', 't') AS d WHERE d.from_id = 3", "removed"},
	} {
		if got := q(c.query); got != c.want {
			t.Errorf("%s = %q, want %q", c.query, got, c.want)
		}
	}
	for query, msg := range map[string]string{
		"SELECT * FROM dolt_diff('HEAD', 'WORKING')":         "expects 3 arguments",
		"SELECT * FROM dolt_diff('HEAD', 'WORKING', 'nope')": "table not found: nope",
		"SELECT * FROM dolt_diff('nope', 'WORKING', 't')":    "invalid revision 'nope'",
	} {
		if _, err := s.e.Query(ctx, query); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s = %v, want an error with %q", query, err, msg)
		}
	}
}
