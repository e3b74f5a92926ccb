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
