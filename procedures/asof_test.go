package procedures

import (
	"strings"
	"testing"
)

func TestAsOf(t *testing.T) {
	s := newTestServer(t)
	s.exec("", "CREATE DATABASE db")
	se := s.session(t, "db")
	ctx, q := se.ctx, se.q
	q("CREATE TABLE t (id INT PRIMARY KEY)")
	q("INSERT INTO t VALUES (1)")
	h1 := q("CALL dolt_commit('-Am', 'one', '--date', '2026-01-01 00:00:00')")
	q("INSERT INTO t VALUES (2)")
	q("ALTER TABLE t ADD COLUMN v INT")
	q("CREATE TABLE u (id INT PRIMARY KEY)")
	q("CALL dolt_commit('-Am', 'two', '--date', '2026-02-01 00:00:00')")
	q("INSERT INTO t VALUES (3, 3)")
	for _, c := range []struct{ query, want string }{
		{"SELECT id FROM t ORDER BY id", "1,2,3"},
		{"SELECT id FROM t AS OF 'HEAD' ORDER BY id", "1,2"},
		{"SELECT id FROM t AS OF 'HEAD~1' ORDER BY id", "1"},
		{"SELECT id FROM t AS OF '" + h1 + "' ORDER BY id", "1"},
		{"SELECT id FROM t AS OF 'main' ORDER BY id", "1,2"},
		{"SELECT id FROM t AS OF TIMESTAMP('2026-01-15 00:00:00') ORDER BY id", "1"},
		{"SELECT COUNT(*) FROM t AS OF '" + h1 + "' JOIN t AS cur ON cur.id = t.id", "1"},
	} {
		if got := q(c.query); got != c.want {
			t.Errorf("%s = %q, want %q", c.query, got, c.want)
		}
	}
	if got := q("SHOW TABLES AS OF 'HEAD~1'"); got != "t" {
		t.Errorf("SHOW TABLES AS OF HEAD~1 = %q", got)
	}
	if got := q("SHOW TABLES AS OF 'HEAD'"); got != "t,u" {
		t.Errorf("SHOW TABLES AS OF HEAD = %q", got)
	}
	if got := q("DESCRIBE t AS OF 'HEAD~1'"); strings.Contains(got, "v|") || !strings.HasPrefix(got, "id|int") {
		t.Errorf("DESCRIBE t AS OF HEAD~1 = %q", got)
	}
	if got := q("DESCRIBE t AS OF 'HEAD'"); !strings.Contains(got, "v|int") {
		t.Errorf("DESCRIBE t AS OF HEAD = %q", got)
	}
	_, err := s.e.Query(ctx, "SELECT * FROM t AS OF 'nope'")
	if err == nil {
		t.Error("AS OF an unknown revision succeeded")
	}
	_, err = s.e.Query(ctx, "SELECT * FROM t AS OF TIMESTAMP('2020-01-01 00:00:00')")
	if err == nil {
		t.Error("AS OF a time before every commit succeeded")
	}
}
