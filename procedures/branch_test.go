package procedures

import (
	"testing"
)

func TestBranchAndCheckout(t *testing.T) {
	s := newTestServer(t)
	s.exec("", "CREATE DATABASE db")
	s.exec("db", "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))", "INSERT INTO t VALUES (1, 'main')")
	se := s.session(t, "db")
	q, fails := se.q, se.fails
	if got := q("SELECT active_branch()"); got != "main" {
		t.Fatalf("active_branch() = %q", got)
	}
	if got := q("CALL dolt_branch('feature')"); got != "0" {
		t.Fatalf("dolt_branch = %q", got)
	}
	if got := q("SELECT name FROM dolt_branches ORDER BY name"); got != "main,feature" && got != "feature,main" {
		t.Fatalf("dolt_branches = %q", got)
	}
	if got := q("CALL dolt_checkout('feature')"); got != "0|Switched to branch 'feature'" {
		t.Fatalf("checkout = %q", got)
	}
	if got := q("CALL dolt_checkout('feature')"); got != "0|Already on branch 'feature'" {
		t.Fatalf("checkout again = %q", got)
	}
	if got := q("SELECT active_branch()"); got != "feature" {
		t.Fatalf("active_branch() after checkout = %q", got)
	}
	// The branch starts from main's head: the uncommitted row of main is
	// not on it.
	fails("SELECT COUNT(*) FROM t", "table not found: t")
	q("CALL dolt_checkout('main')")
	if got := q("SELECT v FROM t"); got != "main" {
		t.Fatalf("main's rows: %q", got)
	}
	fails("CALL dolt_branch('feature')", "fatal: A branch named 'feature' already exists.")
	fails("CALL dolt_branch('a..b')", "fatal: 'a..b' is an invalid branch name.")
	fails("CALL dolt_branch('x', 'nosuchrev')", "fatal: 'nosuchrev' is not a commit and a branch 'x' cannot be created from it")
	fails("CALL dolt_branch('-d', 'main')", "Cannot delete checked out branch 'main'")
	fails("CALL dolt_branch('-d', 'nope')", "branch not found")
	fails("CALL dolt_checkout('nope')", "error: could not find nope")
	fails("CALL dolt_checkout('-b', 'feature')", "fatal: A branch named 'feature' already exists.")
	fails("CALL dolt_branch('--bogus')", "error: unknown option `bogus'")
	fails("CREATE TABLE dolt_mine (id INT PRIMARY KEY)", "Invalid table name dolt_mine. Table names beginning with `dolt_` are reserved for internal use")
	q("CALL dolt_branch('-c', 'feature', 'copy')")
	q("CALL dolt_branch('-m', 'copy', 'moved')")
	if got := q("SELECT name FROM dolt_branches ORDER BY name"); got != "feature,main,moved" {
		t.Fatalf("after copy and move: %q", got)
	}
	q("CALL dolt_branch('-d', 'moved')")
	// -b creates and switches.
	if got := q("CALL dolt_checkout('-b', 'other')"); got != "0|Switched to branch 'other'" {
		t.Fatalf("checkout -b = %q", got)
	}
	q("CALL dolt_checkout('main')")
	// Revision databases.
	if got := q("SELECT active_branch()"); got != "main" {
		t.Fatalf("active_branch() = %q", got)
	}
	q("CREATE TABLE `db/feature`.t (id INT PRIMARY KEY, v VARCHAR(10))")
	q("INSERT INTO `db/feature`.t VALUES (2, 'feature')")
	if got := q("SELECT id, v FROM `db/feature`.t ORDER BY id"); got != "2|feature" {
		t.Fatalf("db/feature.t = %q", got)
	}
	if got := q("SELECT id FROM t ORDER BY id"); got != "1" {
		t.Fatalf("main's t after writing feature's: %q", got)
	}
	q("USE `db/feature`")
	if got := q("SELECT DATABASE(), active_branch()"); got != "db/feature|feature" {
		t.Fatalf("after USE db/feature: %q", got)
	}
	q("CALL dolt_checkout('main')")
	if got := q("SELECT DATABASE(), active_branch()"); got != "db|main" {
		t.Fatalf("after checkout from db/feature: %q", got)
	}
	// A commit revision is read-only.
	h := q("SELECT hashof('main')")
	if len(h) != 32 {
		t.Fatalf("hashof('main') = %q", h)
	}
	fails("SELECT hashof('nope')", "invalid ref spec")
	if got := q("SELECT COUNT(*) FROM `db/" + h + "`.dolt_branches"); got == "" {
		t.Fatal("no branches through a commit revision")
	}
	fails("CREATE TABLE `db/"+h+"`.x (id INT PRIMARY KEY)", "Database db/"+h+" is read-only.")
	fails("SELECT * FROM `db/nosuch`.t", "database not found: db/nosuch")
	// Restoring a table from HEAD: main's head has no table t (it was
	// never committed), so the table goes.
	q("CALL dolt_checkout('t')")
	if got := q("SHOW TABLES"); got != "" {
		t.Fatalf("tables after checkout of t: %q", got)
	}
}
