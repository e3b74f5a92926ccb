package sqle

import (
	"context"
	"testing"
)

// Keyless tables keep duplicate rows, return rows in insertion order,
// delete one copy at a time, keep a row's place when it is updated, enforce
// their unique indexes, and survive a restart.
func TestKeylessTables(t *testing.T) {
	dir := t.TempDir()
	e := newTestEngine(t, dir)
	ctx := e.NewContext(context.Background(), "")
	for _, q := range []string{
		"CREATE DATABASE k", "USE k",
		"CREATE TABLE t (a VARCHAR(10), b INT, KEY b_idx (b))",
		"INSERT INTO t VALUES ('z', 1), ('y', 2), ('z', 1), ('x', 3)",
	} {
		query(t, e, ctx, q)
	}
	expectRows(t, e, ctx, "SELECT * FROM t", "z|1", "y|2", "z|1", "x|3")
	query(t, e, ctx, "DELETE FROM t WHERE a = 'z' LIMIT 1")
	expectRows(t, e, ctx, "SELECT * FROM t", "y|2", "z|1", "x|3")
	query(t, e, ctx, "UPDATE t SET b = 20 WHERE a = 'y'")
	expectRows(t, e, ctx, "SELECT * FROM t", "y|20", "z|1", "x|3")
	expectRows(t, e, ctx, "SELECT a FROM t WHERE b = 20", "y")
	query(t, e, ctx, "INSERT INTO t VALUES ('z', 1)")
	expectRows(t, e, ctx, "SELECT count(*) FROM t WHERE b = 1", "2")

	query(t, e, ctx, "CREATE TABLE u (v INT, w INT UNIQUE)")
	query(t, e, ctx, "INSERT INTO u VALUES (1, 1), (1, NULL), (1, NULL)")
	if _, err := e.Query(ctx, "INSERT INTO u VALUES (2, 2), (3, 1)"); err == nil {
		t.Fatal("duplicate in a unique index of a keyless table accepted")
	}
	expectRows(t, e, ctx, "SELECT count(*) FROM u", "3")
	if _, err := e.Query(ctx, "INSERT INTO u VALUES (1, 1)"); err == nil {
		t.Fatal("identical row with a unique value accepted")
	}
	e.Close()

	e2 := newTestEngine(t, dir)
	ctx2 := e2.NewContext(context.Background(), "k")
	query(t, e2, ctx2, "INSERT INTO t VALUES ('w', 4)")
	expectRows(t, e2, ctx2, "SELECT * FROM t", "y|20", "z|1", "x|3", "z|1", "w|4")
	query(t, e2, ctx2, "DELETE FROM t WHERE a = 'z'")
	expectRows(t, e2, ctx2, "SELECT * FROM t", "y|20", "x|3", "w|4")
	query(t, e2, ctx2, "ALTER TABLE t ADD COLUMN c INT DEFAULT 7")
	expectRows(t, e2, ctx2, "SELECT * FROM t", "y|20|7", "x|3|7", "w|4|7")
	expectRows(t, e2, ctx2, "SELECT a FROM t WHERE b = 3", "x")
}

// Temporary tables are transactional: ROLLBACK and ROLLBACK TO SAVEPOINT
// undo their rows, COMMIT keeps them.
func TestTemporaryTablesTransactional(t *testing.T) {
	e := newTestEngine(t, "")
	ctx := e.NewContext(context.Background(), "")
	for _, q := range []string{"CREATE DATABASE d", "USE d", "CREATE TEMPORARY TABLE tmp (i INT PRIMARY KEY)",
		"INSERT INTO tmp VALUES (1)", "BEGIN", "INSERT INTO tmp VALUES (2)", "ROLLBACK"} {
		query(t, e, ctx, q)
	}
	expectRows(t, e, ctx, "SELECT i FROM tmp ORDER BY i", "1")
	for _, q := range []string{"BEGIN", "INSERT INTO tmp VALUES (3)", "SAVEPOINT s", "INSERT INTO tmp VALUES (4)", "ROLLBACK TO SAVEPOINT s", "COMMIT"} {
		query(t, e, ctx, q)
	}
	expectRows(t, e, ctx, "SELECT i FROM tmp ORDER BY i", "1", "3")
	if tables := query(t, e, ctx, "SHOW TABLES"); len(tables) != 0 {
		t.Fatalf("temporary table listed: %q", tables)
	}
}
