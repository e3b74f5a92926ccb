package procedures

import (
	"context"
	"strings"
	"testing"
)

func TestCommitLogStatusResetTag(t *testing.T) {
	s := newTestServer(t)
	s.exec("", "CREATE DATABASE db")
	se := s.session(t, "db")
	q, fails := se.q, se.fails
	if got := q("SELECT message, commit_order FROM dolt_log"); got != "Initialize data repository|1" {
		t.Fatalf("dolt_log of a new database: %q", got)
	}
	q("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))")
	q("INSERT INTO t VALUES (1, 'a')")
	if got := q("SELECT table_name, staged, status FROM dolt_status"); got != "t|0|new table" {
		t.Fatalf("status of a new table: %q", got)
	}
	fails("CALL dolt_commit('-m', 'nothing staged')", "nothing to commit")
	fails("CALL dolt_commit()", "Must provide commit message.")
	fails("CALL dolt_add()", "Nothing specified, nothing added. Maybe you wanted to say 'dolt add .'?")
	fails("CALL dolt_add('nope')", "error: the tables nope do not exist")
	q("CALL dolt_add('t')")
	if got := q("SELECT table_name, staged, status FROM dolt_status"); got != "t|1|new table" {
		t.Fatalf("status after add: %q", got)
	}
	h1 := q("CALL dolt_commit('-m', 'first', '--author', 'Ada <ada@example.com>', '--date', '2026-01-02 03:04:05')")
	if len(h1) != 32 {
		t.Fatalf("commit hash %q", h1)
	}
	if got := q("SELECT commit_hash, committer, email, date, message, commit_order FROM dolt_log LIMIT 1"); got != h1+"|Ada|ada@example.com|2026-01-02 03:04:05|first|2" {
		t.Fatalf("dolt_log after commit: %q", got)
	}
	if got := q("SELECT COUNT(*) FROM dolt_status"); got != "0" {
		t.Fatalf("status after commit: %q", got)
	}
	if got := q("SELECT hashof('HEAD'), hashof('main')"); got != h1+"|"+h1 {
		t.Fatalf("hashof: %q", got)
	}
	// -a stages changed tables, not new ones; -A all.
	q("INSERT INTO t VALUES (2, 'b')")
	q("CREATE TABLE u (id INT PRIMARY KEY)")
	h2 := q("CALL dolt_commit('-am', 'second')")
	if got := q("SELECT table_name, staged, status FROM dolt_status"); got != "u|0|new table" {
		t.Fatalf("status after commit -a: %q", got)
	}
	q("CREATE VIEW vw AS SELECT id FROM t")
	if got := q("SELECT table_name, staged, status FROM dolt_status ORDER BY table_name"); got != "dolt_schemas|0|modified,u|0|new table" {
		t.Fatalf("status with a view: %q", got)
	}
	h3 := q("CALL dolt_commit('-Am', 'third')")
	if got := q("SELECT message FROM dolt_log"); got != "third,second,first,Initialize data repository" {
		t.Fatalf("log: %q", got)
	}
	fails("CALL dolt_commit('-m', 'again')", "nothing to commit")
	if got := q("CALL dolt_commit('-m', 'empty', '--allow-empty')"); len(got) != 32 {
		t.Fatalf("--allow-empty: %q", got)
	}
	// Tags.
	q("CALL dolt_tag('v1', '" + h2 + "', '-m', 'release one')")
	if got := q("SELECT tag_name, tag_hash, message FROM dolt_tags"); got != "v1|"+h2+"|release one" {
		t.Fatalf("dolt_tags: %q", got)
	}
	fails("CALL dolt_tag('v1')", "tag 'v1' already exists")
	fails("CALL dolt_tag()", "error: invalid argument, use 'dolt_tags' system table to list tags")
	if got := q("SELECT id FROM `db/v1`.t ORDER BY id"); got != "1,2" {
		t.Fatalf("t as of tag v1: %q", got)
	}
	if got := q("SELECT COUNT(*) FROM `db/main~2`.t"); got != "2" {
		t.Fatalf("t as of main~2: %q", got)
	}
	// Restoring a previous point: reset --hard to the first commit.
	q("INSERT INTO t VALUES (3, 'c')")
	q("CALL dolt_reset('--hard', '" + h1 + "')")
	if got := q("SELECT id FROM t ORDER BY id"); got != "1" {
		t.Fatalf("t after reset --hard to the first commit: %q", got)
	}
	if got := q("SELECT COUNT(*) FROM dolt_log"); got != "2" {
		t.Fatalf("log after reset --hard: %q", got)
	}
	fails("SELECT * FROM vw", "table not found: vw")
	// --soft moves the head and keeps the data; unstaging.
	q("CALL dolt_reset('--hard', '" + h3 + "')")
	q("CALL dolt_reset('--soft', 'HEAD~1')")
	if got := q("SELECT table_name, staged FROM dolt_status ORDER BY table_name"); got != "dolt_schemas|1,u|1" {
		t.Fatalf("status after reset --soft: %q", got)
	}
	q("CALL dolt_reset('u')")
	if got := q("SELECT table_name, staged FROM dolt_status ORDER BY table_name"); got != "dolt_schemas|1,u|0" {
		t.Fatalf("status after unstaging u: %q", got)
	}
	q("CALL dolt_reset()")
	if got := q("SELECT table_name, staged FROM dolt_status ORDER BY table_name"); got != "dolt_schemas|0,u|0" {
		t.Fatalf("status after dolt_reset(): %q", got)
	}
	fails("CALL dolt_reset('--hard', '--soft')", "error: --hard and --soft are mutually exclusive options.")
	// A branch that is not merged is not deleted without -D.
	q("CALL dolt_commit('-Am', 'back')")
	q("CALL dolt_checkout('-b', 'side')")
	q("INSERT INTO t VALUES (10, 'side')")
	q("CALL dolt_commit('-am', 'on side')")
	q("CALL dolt_checkout('main')")
	fails("CALL dolt_branch('-d', 'side')", "branch 'side' is not fully merged")
	q("CALL dolt_branch('-D', 'side')")
	// Read-only revisions refuse changes.
	q("USE `db/" + h1 + "`")
	fails("CALL dolt_commit('-m', 'x', '--allow-empty')", "this operation is not supported while in a detached head state")
	fails("CALL dolt_reset('--hard')", "unable to reset HEAD in read-only databases")
	if got := q("SELECT active_branch()"); got != "NULL" {
		t.Fatalf("active_branch() on a commit revision: %q", got)
	}
}

func TestGC(t *testing.T) {
	s := newTestServer(t)
	s.exec("", "CREATE DATABASE db")
	s.exec("db", "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(100))")
	for i := range 50 {
		s.exec("db", "REPLACE INTO t VALUES (1, 'version "+strings.Repeat("x", i)+"')")
	}
	// Fifty versions of a row left garbage: a collection deletes it.
	stats, err := s.e.Provider.CollectDatabaseGarbage(context.Background(), "db", -1)
	if err != nil || stats.Deleted == 0 {
		t.Fatalf("collection after 50 writes: %+v, %v", stats, err)
	}
	for i := range 50 {
		s.exec("db", "REPLACE INTO t VALUES (1, 'again "+strings.Repeat("y", i)+"')")
	}
	if got := s.rows("db", "CALL dolt_gc()"); len(got) != 1 || got[0] != "0" {
		t.Fatalf("dolt_gc: %v", got)
	}
	// dolt_gc left nothing for the next collection.
	if stats, err = s.e.Provider.CollectDatabaseGarbage(context.Background(), "db", -1); err != nil || stats.Deleted != 0 {
		t.Fatalf("a collection after dolt_gc deleted %+v, %v: dolt_gc missed them", stats, err)
	}
	if got := s.rows("db", "SELECT v FROM t"); len(got) != 1 || !strings.HasPrefix(got[0], "again ") {
		t.Fatalf("the row after gc: %v", got)
	}
	s.fails("", "CALL dolt_gc()", "Empty database name.")
}
