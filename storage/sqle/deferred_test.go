package sqle

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
)

// interleave runs stmt in session a (autocommit) with other committed by
// session b between a's statement and its COMMIT, and returns a's error.
// It checks that a's edits were deferred to the COMMIT.
func interleave(t *testing.T, e *Engine, a, b *sql.Context, stmt, other string) error {
	t.Helper()
	var once sync.Once
	sa, err := sessionOf(a)
	if err != nil {
		t.Fatal(err)
	}
	deferred := false
	testHookCommit = func(s *Session) {
		if s != sa {
			return
		}
		once.Do(func() {
			deferred = len(s.deferred) > 0
			if other != "" {
				query(t, e, b, other)
			}
		})
	}
	defer func() { testHookCommit = nil }()
	_, err = e.Query(a, stmt)
	if !deferred {
		t.Errorf("%s: its edits were not deferred to its COMMIT", stmt)
	}
	return err
}

// An autocommit statement's edits wait for its COMMIT, which applies them
// to whatever committed meanwhile: rows another transaction did not touch
// merge, a row it changed, a unique value it also added, a schema change
// or a drop of the table are conflicts (ER_LOCK_DEADLOCK) and apply nothing.
func TestDeferredStatementEdits(t *testing.T) {
	e := newTestEngine(t, t.TempDir())
	ctx := e.NewContext(context.Background(), "")
	query(t, e, ctx, "CREATE DATABASE d")
	setup := func(t *testing.T) {
		query(t, e, ctx, "DROP TABLE IF EXISTS d.t")
		query(t, e, ctx, "CREATE TABLE d.t (id INT PRIMARY KEY, v INT, u INT, UNIQUE KEY uu (u), KEY kv (v))")
		query(t, e, ctx, "INSERT INTO d.t VALUES (1, 10, 1), (2, 20, 2), (3, 30, 3)")
	}
	a, b := e.NewContext(context.Background(), "d"), e.NewContext(context.Background(), "d")
	cases := []struct {
		name, stmt, other string
		conflict          bool
		want              []string // id|v|u after both, in id order
	}{
		{"no other commit", "UPDATE t SET v = v + 1 WHERE id = 1", "",
			false, []string{"1|11|1", "2|20|2", "3|30|3"}},
		{"another row", "UPDATE t SET v = v + 1 WHERE id = 1", "UPDATE t SET v = v + 5 WHERE id = 2",
			false, []string{"1|11|1", "2|25|2", "3|30|3"}},
		{"another table", "UPDATE t SET v = v + 1 WHERE id = 1", "CREATE TABLE o (x INT)",
			false, []string{"1|11|1", "2|20|2", "3|30|3"}},
		{"inserts", "INSERT INTO t VALUES (4, 40, 4)", "INSERT INTO t VALUES (5, 50, 5)",
			false, []string{"1|10|1", "2|20|2", "3|30|3", "4|40|4", "5|50|5"}},
		{"delete and update of another row", "DELETE FROM t WHERE id = 3", "UPDATE t SET u = 9 WHERE id = 1",
			false, []string{"1|10|9", "2|20|2"}},
		{"the same row", "UPDATE t SET v = v + 1 WHERE id = 1", "UPDATE t SET v = v + 5 WHERE id = 1",
			true, []string{"1|15|1", "2|20|2", "3|30|3"}},
		{"the same change", "UPDATE t SET v = 99 WHERE id = 1", "UPDATE t SET v = 99 WHERE id = 1",
			true, []string{"1|99|1", "2|20|2", "3|30|3"}},
		{"delete of a row updated", "DELETE FROM t WHERE id = 2", "UPDATE t SET v = 0 WHERE id = 2",
			true, []string{"1|10|1", "2|0|2", "3|30|3"}},
		{"the same new key", "INSERT INTO t VALUES (4, 40, 4)", "INSERT INTO t VALUES (4, 41, 5)",
			true, []string{"1|10|1", "2|20|2", "3|30|3", "4|41|5"}},
		{"the same unique value", "INSERT INTO t VALUES (4, 40, 7)", "INSERT INTO t VALUES (5, 50, 7)",
			true, []string{"1|10|1", "2|20|2", "3|30|3", "5|50|7"}},
		{"a unique value freed and taken", "UPDATE t SET u = 8 WHERE id = 1", "UPDATE t SET u = 8 WHERE id = 2",
			true, []string{"1|10|1", "2|20|8", "3|30|3"}},
		{"schema change", "UPDATE t SET v = v + 1 WHERE id = 1", "ALTER TABLE t ADD COLUMN w INT",
			true, nil},
		{"drop", "UPDATE t SET v = v + 1 WHERE id = 1", "DROP TABLE t",
			true, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			setup(t)
			query(t, e, ctx, "DROP TABLE IF EXISTS d.o")
			err := interleave(t, e, a, b, tc.stmt, tc.other)
			if tc.conflict != isDeadlock(err) || !tc.conflict && err != nil {
				t.Fatalf("%s with %s committed meanwhile: %v, want conflict %v", tc.stmt, tc.other, err, tc.conflict)
			}
			if tc.want != nil {
				expectRows(t, e, ctx, "SELECT id, v, u FROM d.t ORDER BY id", tc.want...)
				// The indexes agree with the rows.
				expectRows(t, e, ctx, "SELECT id, v, u FROM d.t FORCE INDEX (kv) WHERE v >= -1000 ORDER BY id", tc.want...)
				expectRows(t, e, ctx, "SELECT id, v, u FROM d.t FORCE INDEX (uu) WHERE u >= -1000 ORDER BY id", tc.want...)
			}
			// The session goes on in autocommit mode.
			query(t, e, a, "SELECT 1")
		})
	}
}

// Whatever reads or writes a table whose edits wait for COMMIT sees them
// first: a trigger's later firings, a procedure's next statement, a
// keyless table's deletes.
func TestDeferredEditsAreSeen(t *testing.T) {
	e := newTestEngine(t, t.TempDir())
	ctx := e.NewContext(context.Background(), "")
	query(t, e, ctx, "CREATE DATABASE d")
	query(t, e, ctx, "USE d")
	query(t, e, ctx, "CREATE TABLE src (id INT PRIMARY KEY)")
	query(t, e, ctx, "CREATE TABLE cnt (id INT PRIMARY KEY, n INT)")
	query(t, e, ctx, "INSERT INTO cnt VALUES (1, 0)")
	query(t, e, ctx, "CREATE TRIGGER tr AFTER INSERT ON src FOR EACH ROW UPDATE cnt SET n = n + 1 WHERE id = 1")
	query(t, e, ctx, "INSERT INTO src VALUES (1), (2), (3)")
	expectRows(t, e, ctx, "SELECT n FROM cnt", "3")

	query(t, e, ctx, "CREATE TABLE kv (k INT PRIMARY KEY, v INT)")
	query(t, e, ctx, "CREATE PROCEDURE p() BEGIN INSERT INTO kv VALUES (1, 1); UPDATE kv SET v = v + 1 WHERE k = 1; INSERT INTO kv SELECT 2, v FROM kv WHERE k = 1; END")
	query(t, e, ctx, "CALL p()")
	expectRows(t, e, ctx, "SELECT k, v FROM kv ORDER BY k", "1|2", "2|2")

	query(t, e, ctx, "CREATE TABLE bag (x INT)")
	query(t, e, ctx, "INSERT INTO bag VALUES (1), (1), (2)")
	query(t, e, ctx, "DELETE FROM bag WHERE x = 1 LIMIT 1")
	expectRows(t, e, ctx, "SELECT x FROM bag ORDER BY x", "1", "2")
}

// Autocommit increments of shared counters from many sessions lose none:
// each either commits or fails with ER_LOCK_DEADLOCK and is retried.
func TestConcurrentAutocommitIncrements(t *testing.T) {
	const (
		counters  = 5
		workers   = 8
		perWorker = 40
	)
	e := newTestEngine(t, t.TempDir())
	ctx := e.NewContext(context.Background(), "")
	query(t, e, ctx, "CREATE DATABASE d")
	query(t, e, ctx, "USE d")
	query(t, e, ctx, "CREATE TABLE c (id INT PRIMARY KEY, n INT NOT NULL, KEY kn (n))")
	query(t, e, ctx, "CREATE TABLE ins (id INT PRIMARY KEY AUTO_INCREMENT, w INT, UNIQUE KEY uw (w))")
	for i := 0; i < counters; i++ {
		query(t, e, ctx, fmt.Sprintf("INSERT INTO c VALUES (%d, 0)", i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := e.NewContext(context.Background(), "d")
			for n := 0; n < perWorker; {
				stmt := fmt.Sprintf("UPDATE c SET n = n + 1 WHERE id = %d", (w+n)%counters)
				if n%2 == 1 {
					stmt = fmt.Sprintf("INSERT INTO ins (w) VALUES (%d)", w*1000+n)
				}
				_, err := e.Query(c, stmt)
				if isDeadlock(err) {
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				n++
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := strconv.Itoa(workers * perWorker / 2)
	expectRows(t, e, ctx, "SELECT sum(n) FROM c", want)
	expectRows(t, e, ctx, "SELECT count(*) FROM c WHERE n >= 0", strconv.Itoa(counters))
	expectRows(t, e, ctx, "SELECT count(*), count(distinct id) FROM ins", want+"|"+want)
	expectRows(t, e, ctx, "SELECT count(*) FROM ins WHERE w >= 0", want)
}

// deferredCount returns how many tables' edits in ctx's session wait for
// COMMIT.
func deferredCount(t *testing.T, ctx *sql.Context) int {
	t.Helper()
	s, err := sessionOf(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return len(s.deferred)
}

// In an explicit transaction, statements that write a table and read it
// only by its whole primary key (sysbench's write transactions) keep their
// edits for COMMIT, and see them: an UPDATE of a row inserted earlier, a
// SELECT by key, a DELETE of an updated row. Anything else reading the
// table applies them first.
func TestDeferredEditsInTransaction(t *testing.T) {
	e := newTestEngine(t, t.TempDir())
	ctx := e.NewContext(context.Background(), "")
	query(t, e, ctx, "CREATE DATABASE d")
	a := e.NewContext(context.Background(), "d")
	query(t, e, a, "CREATE TABLE t (id INT PRIMARY KEY, k INT NOT NULL, c VARCHAR(20), KEY kk (k))")
	query(t, e, a, "INSERT INTO t VALUES (1, 10, 'a'), (2, 20, 'b'), (3, 30, 'c')")

	query(t, e, a, "BEGIN")
	steps := []struct{ stmt, check string }{
		{"UPDATE t SET k = k + 1 WHERE id = 1", "SELECT id, k, c FROM t WHERE id = 1"},
		{"UPDATE t SET c = 'B' WHERE id = 2", "SELECT id, k, c FROM t WHERE id = 2"},
		{"DELETE FROM t WHERE id = 3", "SELECT id, k, c FROM t WHERE id IN (3, 1)"},
		{"INSERT INTO t VALUES (3, 33, 'C')", "SELECT id, k, c FROM t WHERE id = 3"},
		{"INSERT INTO t VALUES (4, 40, 'd')", "SELECT id, k, c FROM t WHERE id IN (4, 3, 2, 1) ORDER BY id"},
		{"UPDATE t SET k = 44 WHERE id = 4", "SELECT id, k, c FROM t WHERE id = 4"},
	}
	want := map[string][]string{
		steps[0].check: {"1|11|a"},
		steps[1].check: {"2|20|B"},
		steps[2].check: {"1|11|a"},
		steps[3].check: {"3|33|C"},
		steps[4].check: {"1|11|a", "2|20|B", "3|33|C", "4|40|d"},
		steps[5].check: {"4|44|d"},
	}
	for _, st := range steps {
		query(t, e, a, st.stmt)
		if n := deferredCount(t, a); n != 1 {
			t.Fatalf("after %s: %d tables' edits wait, want 1", st.stmt, n)
		}
		expectRows(t, e, a, st.check, want[st.check]...)
		if n := deferredCount(t, a); n != 1 {
			t.Fatalf("%s applied the waiting edits", st.check)
		}
	}
	// A duplicate key among the waiting edits is found; the failing
	// statement changes nothing, the earlier ones still wait.
	if _, err := e.Query(a, "INSERT INTO t VALUES (5, 50, 'e'), (4, 1, 'x')"); err == nil {
		t.Fatal("a duplicate of a key inserted earlier in the transaction was accepted")
	}
	if n := deferredCount(t, a); n != 1 {
		t.Fatalf("after a failed statement %d tables' edits wait, want 1", n)
	}
	expectRows(t, e, a, "SELECT id FROM t WHERE id IN (4, 5)", "4")
	// Other sessions see none of it before COMMIT.
	expectRows(t, e, ctx, "SELECT id, k, c FROM d.t ORDER BY id", "1|10|a", "2|20|b", "3|30|c")
	// A read by the secondary index applies the edits, and sees them.
	expectRows(t, e, a, "SELECT id, k FROM t WHERE k > 20 ORDER BY k", "3|33", "4|44")
	if n := deferredCount(t, a); n != 0 {
		t.Fatalf("a range read left %d tables' edits waiting", n)
	}
	query(t, e, a, "UPDATE t SET c = 'A' WHERE id = 1")
	query(t, e, a, "COMMIT")
	final := []string{"1|11|A", "2|20|B", "3|33|C", "4|44|d"}
	expectRows(t, e, ctx, "SELECT id, k, c FROM d.t ORDER BY id", final...)
	expectRows(t, e, ctx, "SELECT id, k, c FROM d.t FORCE INDEX (kk) WHERE k >= 0 ORDER BY id", final...)

	// ROLLBACK drops waiting edits; a savepoint applies them first, and
	// rolling back to it drops only what came after.
	query(t, e, a, "BEGIN")
	query(t, e, a, "DELETE FROM t WHERE id = 1")
	query(t, e, a, "ROLLBACK")
	expectRows(t, e, a, "SELECT count(*) FROM t", "4")
	query(t, e, a, "BEGIN")
	query(t, e, a, "INSERT INTO t VALUES (5, 50, 'e')")
	query(t, e, a, "SAVEPOINT s")
	query(t, e, a, "INSERT INTO t VALUES (6, 60, 'f')")
	query(t, e, a, "UPDATE t SET k = 55 WHERE id = 5")
	query(t, e, a, "ROLLBACK TO SAVEPOINT s")
	query(t, e, a, "COMMIT")
	expectRows(t, e, ctx, "SELECT id, k FROM d.t WHERE id >= 5 ORDER BY id", "5|50")
	expectRows(t, e, ctx, "SELECT id, k FROM d.t FORCE INDEX (kk) WHERE k >= 50", "5|50")
}

// Waiting edits of a transaction merge at COMMIT with what other sessions
// committed meanwhile, row by row: another row merges, the same row is a
// conflict and applies nothing of the transaction.
func TestDeferredTransactionMerge(t *testing.T) {
	e := newTestEngine(t, t.TempDir())
	ctx := e.NewContext(context.Background(), "")
	query(t, e, ctx, "CREATE DATABASE d")
	a, b := e.NewContext(context.Background(), "d"), e.NewContext(context.Background(), "d")
	setup := func() {
		query(t, e, ctx, "DROP TABLE IF EXISTS d.t")
		query(t, e, ctx, "CREATE TABLE d.t (id INT PRIMARY KEY, k INT NOT NULL, u INT, KEY kk (k), UNIQUE KEY uu (u))")
		query(t, e, ctx, "INSERT INTO d.t VALUES (1, 10, 1), (2, 20, 2), (3, 30, 3)")
	}
	cases := []struct {
		name     string
		other    string
		conflict bool
		want     []string
	}{
		{"other rows", "UPDATE t SET k = 0 WHERE id = 3", false, []string{"1|11|1", "2|20|NULL", "3|0|3", "4|40|7"}},
		{"a row both wrote", "UPDATE t SET k = 0 WHERE id = 1", true, []string{"1|0|1", "2|20|2", "3|30|3"}},
		{"the same new key", "INSERT INTO t VALUES (4, 1, 4)", true, []string{"1|10|1", "2|20|2", "3|30|3", "4|1|4"}},
		{"the same unique value", "INSERT INTO t VALUES (5, 1, 7)", true, []string{"1|10|1", "2|20|2", "3|30|3", "5|1|7"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			setup()
			query(t, e, a, "BEGIN")
			query(t, e, a, "UPDATE t SET k = k + 1 WHERE id = 1")
			query(t, e, a, "UPDATE t SET u = NULL WHERE id = 2")
			query(t, e, a, "INSERT INTO t VALUES (4, 40, 7)")
			if n := deferredCount(t, a); n != 1 {
				t.Fatalf("%d tables' edits wait, want 1", n)
			}
			query(t, e, b, tc.other)
			_, err := e.Query(a, "COMMIT")
			if tc.conflict != isDeadlock(err) || !tc.conflict && err != nil {
				t.Fatalf("COMMIT after %s committed meanwhile: %v, want conflict %v", tc.other, err, tc.conflict)
			}
			if tc.want != nil {
				expectRows(t, e, ctx, "SELECT id, k, u FROM d.t ORDER BY id", tc.want...)
				expectRows(t, e, ctx, "SELECT id, k, u FROM d.t FORCE INDEX (kk) WHERE k >= 0 ORDER BY id", tc.want...)
			}
			query(t, e, a, "SELECT 1")
		})
	}
}

// A statement that goes on from waiting edits and has them applied in its
// middle (a foreign key of the table to itself reads it through its
// editor) keeps its own edits, and a failure of it keeps the earlier ones.
func TestDeferredEditsAppliedMidStatement(t *testing.T) {
	e := newTestEngine(t, t.TempDir())
	a := e.NewContext(context.Background(), "")
	query(t, e, a, "CREATE DATABASE d")
	query(t, e, a, "USE d")
	query(t, e, a, "CREATE TABLE n (id INT PRIMARY KEY, parent INT, FOREIGN KEY (parent) REFERENCES n (id))")
	query(t, e, a, "BEGIN")
	query(t, e, a, "INSERT INTO n VALUES (1, NULL)")
	query(t, e, a, "INSERT INTO n VALUES (2, 1), (3, 2)")
	if _, err := e.Query(a, "INSERT INTO n VALUES (4, 3), (5, 99)"); err == nil {
		t.Fatal("a row naming a missing parent was accepted")
	}
	expectRows(t, e, a, "SELECT id, parent FROM n ORDER BY id", "1|NULL", "2|1", "3|2")
	query(t, e, a, "COMMIT")
	expectRows(t, e, a, "SELECT id, parent FROM n ORDER BY id", "1|NULL", "2|1", "3|2")
}

// tableVersion returns table name of database db as ctx's session sees it.
func tableVersion(t *testing.T, e *Engine, ctx *sql.Context, db, name string) *tableData {
	t.Helper()
	d, err := e.Provider.Database(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	tbl, ok, err := d.GetTableInsensitive(ctx, name)
	if err != nil || !ok {
		t.Fatalf("table %s.%s: %v", db, name, err)
	}
	td, err := tbl.(*Table).data(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return td
}

// An UPDATE of columns no index holds leaves the indexes' trees as they
// were, and one that changes an indexed column changes that index only.
func TestUpdateKeepsUnchangedIndexes(t *testing.T) {
	e := newTestEngine(t, t.TempDir())
	ctx := e.NewContext(context.Background(), "")
	query(t, e, ctx, "CREATE DATABASE d")
	query(t, e, ctx, "CREATE TABLE d.t (id INT PRIMARY KEY, k INT, u INT, c TEXT, KEY kk (k), UNIQUE KEY uu (u))")
	query(t, e, ctx, "INSERT INTO d.t VALUES (1, 10, 1, 'a'), (2, 20, 2, 'b')")
	before := tableVersion(t, e, ctx, "d", "t")
	for _, q := range []string{
		"UPDATE d.t SET c = 'x' WHERE id = 1",
		"BEGIN", "INSERT INTO d.t VALUES (3, 30, 3, 'c')", "UPDATE d.t SET c = 'y' WHERE id = 3", "DELETE FROM d.t WHERE id = 3", "COMMIT",
		"BEGIN", "UPDATE d.t SET c = 'z' WHERE id = 2", "UPDATE d.t SET c = 'w' WHERE id = 2", "ROLLBACK",
	} {
		query(t, e, ctx, q)
	}
	after := tableVersion(t, e, ctx, "d", "t")
	if after.rows.Hash() == before.rows.Hash() {
		t.Fatal("the rows did not change")
	}
	for i := range before.indexes {
		if after.indexes[i].Hash() != before.indexes[i].Hash() {
			t.Errorf("index %d changed though no indexed column did", i)
		}
	}
	query(t, e, ctx, "UPDATE d.t SET k = 11 WHERE id = 1")
	k := tableVersion(t, e, ctx, "d", "t")
	if k.indexes[0].Hash() == after.indexes[0].Hash() || k.indexes[1].Hash() != after.indexes[1].Hash() {
		t.Error("an UPDATE of k did not change kk alone")
	}
	expectRows(t, e, ctx, "SELECT id, k, u, c FROM d.t FORCE INDEX (kk) WHERE k > 0 ORDER BY id", "1|11|1|x", "2|20|2|b")
	expectRows(t, e, ctx, "SELECT id, k, u, c FROM d.t FORCE INDEX (uu) WHERE u > 0 ORDER BY id", "1|11|1|x", "2|20|2|b")
}

// An indexed value changed and changed back, in one transaction or in
// one statement's rows, keeps its index entry.
func TestUpdateIndexedValueBack(t *testing.T) {
	e := newTestEngine(t, t.TempDir())
	ctx := e.NewContext(context.Background(), "")
	query(t, e, ctx, "CREATE DATABASE d")
	query(t, e, ctx, "CREATE TABLE d.t (id INT PRIMARY KEY, k INT, KEY kk (k))")
	query(t, e, ctx, "INSERT INTO d.t VALUES (1, 10), (2, 20)")
	for _, q := range []string{
		"BEGIN", "UPDATE d.t SET k = 11 WHERE id = 1", "UPDATE d.t SET k = 10 WHERE id = 1", "COMMIT",
		"UPDATE d.t SET k = 20 + 10 - k WHERE id IN (1, 2)",
		"UPDATE d.t SET k = 20 + 10 - k WHERE id IN (1, 2)",
	} {
		query(t, e, ctx, q)
	}
	expectRows(t, e, ctx, "SELECT id, k FROM d.t FORCE INDEX (kk) WHERE k > 0 ORDER BY id", "1|10", "2|20")
	expectRows(t, e, ctx, "SELECT id, k FROM d.t WHERE k = 10", "1|10")
}
