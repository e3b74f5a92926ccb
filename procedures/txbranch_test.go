package procedures

import "testing"

// Edits an explicit transaction keeps for COMMIT (storage/sqle's deferred
// edits) stay with the branch they were made on: a checkout in the middle
// of the transaction, and writes through a revision database, apply them
// where they belong.
func TestTransactionEditsAcrossBranches(t *testing.T) {
	s := newTestServer(t)
	s.exec("", "CREATE DATABASE db")
	s.exec("db", "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))", "INSERT INTO t VALUES (1, 'main')",
		"CALL dolt_commit('-Am', 'one row')", "CALL dolt_branch('feature')")
	se := s.session(t, "db")
	q := se.q
	q("BEGIN")
	q("INSERT INTO t VALUES (2, 'main')")
	q("UPDATE t SET v = 'main2' WHERE id = 2")
	q("INSERT INTO `db/feature`.t VALUES (3, 'feature')")
	q("UPDATE `db/feature`.t SET v = 'feature3' WHERE id = 3")
	if got := q("SELECT v FROM t WHERE id = 2"); got != "main2" {
		t.Fatalf("main's row 2 in the transaction: %q", got)
	}
	if got := q("SELECT COUNT(*) FROM t WHERE id = 3"); got != "0" {
		t.Fatalf("feature's row is on main: %q", got)
	}
	q("CALL dolt_checkout('feature')")
	q("INSERT INTO t VALUES (4, 'feature')")
	if got := q("SELECT id FROM t WHERE id IN (1, 2, 3, 4) ORDER BY id"); got != "1,3,4" {
		t.Fatalf("feature's rows after the checkout: %q", got)
	}
	q("COMMIT")
	other := s.session(t, "db")
	if got := other.q("SELECT id, v FROM `db/main`.t ORDER BY id"); got != "1|main,2|main2" {
		t.Fatalf("main after COMMIT: %q", got)
	}
	if got := other.q("SELECT id, v FROM `db/feature`.t ORDER BY id"); got != "1|main,3|feature3,4|feature" {
		t.Fatalf("feature after COMMIT: %q", got)
	}
}
