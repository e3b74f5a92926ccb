package procedures

import (
	"strings"
	"testing"
)

func TestMerge(t *testing.T) {
	s := newTestServer(t)
	s.exec("", "CREATE DATABASE db")
	se := s.session(t, "db")
	q, fails := se.q, se.failsWith
	q("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10), u INT, UNIQUE KEY (u), KEY (v))")
	q("INSERT INTO t VALUES (1, 'a', 1), (2, 'b', 2)")
	q("CALL dolt_commit('-Am', 'base')")
	q("CALL dolt_branch('feature')")
	fails("CALL dolt_merge()", "error: Please specify a branch to merge")
	if got := q("CALL dolt_merge('feature')"); got != "|0|0|Everything up-to-date" {
		t.Fatalf("merge of the same commit: %q", got)
	}
	// Fast-forward.
	q("CALL dolt_checkout('feature')")
	q("INSERT INTO t VALUES (3, 'c', 3)")
	fh := q("CALL dolt_commit('-am', 'feature adds 3')")
	q("CALL dolt_checkout('main')")
	if got := q("CALL dolt_merge('feature')"); got != fh+"|1|0|merge successful" {
		t.Fatalf("fast-forward merge: %q", got)
	}
	if got := q("SELECT id FROM t ORDER BY id"); got != "1,2,3" {
		t.Fatalf("after fast-forward: %q", got)
	}
	// A three-way merge of changes to different rows.
	q("UPDATE t SET v = 'A' WHERE id = 1")
	q("CALL dolt_commit('-am', 'main changes 1')")
	q("CALL dolt_checkout('feature')")
	q("UPDATE t SET v = 'B' WHERE id = 2")
	q("INSERT INTO t VALUES (4, 'd', 4)")
	q("CALL dolt_commit('-am', 'feature changes 2, adds 4')")
	q("CALL dolt_checkout('main')")
	got := q("CALL dolt_merge('feature')")
	parts := strings.Split(got, "|")
	if len(parts) != 4 || len(parts[0]) != 32 || parts[1] != "0" || parts[3] != "merge successful" {
		t.Fatalf("three-way merge: %q", got)
	}
	if got := q("SELECT id, v, u FROM t ORDER BY id"); got != "1|A|1,2|B|2,3|c|3,4|d|4" {
		t.Fatalf("after the merge: %q", got)
	}
	if got := q("SELECT id FROM t WHERE v = 'B'"); got != "2" {
		t.Fatalf("the merged index: %q", got)
	}
	if got := q("SELECT message FROM dolt_log LIMIT 1"); got != "Merge branch 'feature' into main" {
		t.Fatalf("merge commit message: %q", got)
	}
	if got := q("SELECT COUNT(*) FROM dolt_status"); got != "0" {
		t.Fatalf("status after merge: %q", got)
	}
	// Now feature is merged: deleting it needs no -D.
	q("CALL dolt_branch('-d', 'feature')")
	// Conflicts are refused and change nothing.
	q("CALL dolt_branch('other')")
	q("UPDATE t SET v = 'main' WHERE id = 3")
	q("CALL dolt_commit('-am', 'main edits 3')")
	q("CALL dolt_checkout('other')")
	q("UPDATE t SET v = 'other' WHERE id = 3")
	q("CALL dolt_commit('-am', 'other edits 3')")
	q("CALL dolt_checkout('main')")
	head := q("SELECT hashof('HEAD')")
	if got := q("CALL dolt_merge('other')"); got != "|0|1|conflicts found" {
		t.Fatalf("merge with a conflict: %q", got)
	}
	if got := q("SELECT hashof('HEAD')"); got != head {
		t.Fatal("a merge with conflicts moved the head")
	}
	if got := q("SELECT * FROM dolt_conflicts"); got != "t|1" {
		t.Fatalf("dolt_conflicts: %q", got)
	}
	other := q("SELECT hashof('other')")
	if got := q("SELECT from_root_ish, base_id, base_v, our_v, our_diff_type, their_v, their_diff_type FROM dolt_conflicts_t"); got != other+"|3|c|main|modified|other|modified" {
		t.Fatalf("dolt_conflicts_t: %q", got)
	}
	if got := q("SELECT table_name, staged, status FROM dolt_status WHERE status = 'conflict'"); got != "t|0|conflict" {
		t.Fatalf("dolt_status during the merge: %q", got)
	}
	fails("CALL dolt_commit('-am', 'too soon')", "cannot commit: unresolved merge conflicts in t")
	fails("CALL dolt_merge('other')", "merging is not possible because you have not committed an active merge")
	// --abort returns to before the merge.
	if got := q("CALL dolt_merge('--abort')"); got != "|0|0|merge aborted" {
		t.Fatalf("--abort: %q", got)
	}
	if got := q("SELECT COUNT(*) FROM dolt_conflicts"); got != "0" {
		t.Fatalf("conflicts after --abort: %q", got)
	}
	fails("CALL dolt_merge('--abort')", "fatal: There is no merge to abort")
	// Again, resolved by deleting the conflict (keeping ours) and
	// committing: a merge commit with both parents.
	q("CALL dolt_merge('other')")
	if got := q("SELECT id, v FROM t WHERE id = 3"); got != "3|main" {
		t.Fatalf("the conflicting row during the merge: %q", got)
	}
	if got := q("SELECT id FROM t WHERE v = 'other'"); got != "" {
		t.Fatalf("the index holds their version of a conflicting row: %q", got)
	}
	if got := q("SELECT id FROM t WHERE v = 'main'"); got != "3" {
		t.Fatalf("the index lacks our version of a conflicting row: %q", got)
	}
	q("DELETE FROM dolt_conflicts_t")
	if got := q("SELECT COUNT(*) FROM dolt_conflicts"); got != "0" {
		t.Fatalf("conflicts after resolving: %q", got)
	}
	mh := q("CALL dolt_commit('-am', 'merged other')")
	if got := q("SELECT COUNT(*) FROM dolt_log"); got == "" {
		t.Fatal("no log")
	}
	if got := q("SELECT hashof('HEAD^2')"); got != other {
		t.Fatalf("second parent of the merge commit %s: %q, want %q", mh, got, other)
	}
	// A unique value added on both sides.
	q("CALL dolt_checkout('-b', 'u1')")
	q("INSERT INTO t VALUES (5, 'x', 99)")
	q("CALL dolt_commit('-am', 'u1')")
	q("CALL dolt_checkout('main')")
	q("INSERT INTO t VALUES (6, 'y', 99)")
	q("CALL dolt_commit('-am', 'main u')")
	fails("CALL dolt_merge('u1')", "unique index")
	// Uncommitted changes block a merge; --no-ff makes a merge commit.
	q("CALL dolt_checkout('-b', 'ffb')")
	q("INSERT INTO t VALUES (7, 'z', 7)")
	q("CALL dolt_commit('-am', 'ffb')")
	q("CALL dolt_checkout('main')")
	q("INSERT INTO t VALUES (8, 'w', 8)")
	fails("CALL dolt_merge('ffb')", "cannot merge with uncommitted changes")
	q("CALL dolt_reset('--hard')")
	fails("CALL dolt_merge('--ff-only', 'u1')", "fatal: Not possible to fast-forward, aborting.")
	if got := q("CALL dolt_merge('--no-ff', '-m', 'no ff', 'ffb')"); !strings.HasSuffix(got, "|0|0|merge successful") {
		t.Fatalf("--no-ff: %q", got)
	}
	fails("CALL dolt_merge('--abort')", "fatal: There is no merge to abort")
}

func TestMergeAcrossSchemaChange(t *testing.T) {
	s := newTestServer(t)
	s.exec("", "CREATE DATABASE db")
	se := s.session(t, "db")
	ctx, q := se.ctx, se.q
	q("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10), KEY (v))")
	q("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')")
	q("CALL dolt_commit('-Am', 'base')")
	q("CALL dolt_branch('rows')")
	// main adds a column (with a default) and an index on it.
	q("ALTER TABLE t ADD COLUMN n INT NOT NULL DEFAULT 7")
	q("CREATE INDEX by_n ON t (n)")
	q("UPDATE t SET n = 1 WHERE id = 1")
	q("CALL dolt_commit('-am', 'add n')")
	// rows changes rows under the old schema.
	q("CALL dolt_checkout('rows')")
	q("UPDATE t SET v = 'B' WHERE id = 2")
	q("DELETE FROM t WHERE id = 3")
	q("INSERT INTO t VALUES (4, 'd')")
	q("CALL dolt_commit('-am', 'row changes')")
	q("CALL dolt_checkout('main')")
	if got := q("CALL dolt_merge('rows')"); !strings.HasSuffix(got, "|0|0|merge successful") {
		t.Fatalf("merge across a schema change: %q", got)
	}
	if got := q("SELECT id, v, n FROM t ORDER BY id"); got != "1|a|1,2|B|7,4|d|7" {
		t.Fatalf("merged rows: %q", got)
	}
	if got := q("SELECT id FROM t WHERE n = 7 ORDER BY id"); got != "2,4" {
		t.Fatalf("the new index after the merge: %q", got)
	}
	if got := q("SELECT id FROM t WHERE v = 'B'"); got != "2" {
		t.Fatalf("the old index after the merge: %q", got)
	}
	// The other way round: the branch with the schema change merged into
	// the one with row changes.
	q("CALL dolt_checkout('-b', 'rows2', 'HEAD~2')")
	q("INSERT INTO t VALUES (5, 'e')")
	q("CALL dolt_commit('-am', 'rows2')")
	if got := q("CALL dolt_merge('main')"); !strings.HasSuffix(got, "|0|0|merge successful") {
		t.Fatalf("merge of the schema change into rows2: %q", got)
	}
	if got := q("SELECT id, v, n FROM t ORDER BY id"); got != "1|a|1,2|B|7,4|d|7,5|e|7" {
		t.Fatalf("rows2 after the merge: %q", got)
	}
	// A row changed on both sides across a schema change is refused.
	q("CALL dolt_checkout('-b', 'x', 'main~2')")
	q("UPDATE t SET v = 'X' WHERE id = 1")
	q("CALL dolt_commit('-am', 'x')")
	q("CALL dolt_checkout('main')")
	_, err := s.e.Query(ctx, "CALL dolt_merge('x')")
	if err == nil || !strings.Contains(err.Error(), "a row was changed on both sides, across a schema change") {
		t.Fatalf("merge of a row changed on both sides across a schema change: %v", err)
	}
}
