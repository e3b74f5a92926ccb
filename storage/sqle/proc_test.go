package sqle

import (
	"context"
	"testing"
)

// Writes made by a stored procedure, called directly or from a trigger,
// belong to the calling statement's transaction and are kept.
func TestProcedureWritesKept(t *testing.T) {
	e := newTestEngine(t, t.TempDir())
	ctx := e.NewContext(context.Background(), "")
	for _, q := range []string{
		"CREATE DATABASE p", "USE p",
		"create table t (i int primary key)", "create table t2 (i int primary key)",
		"create procedure proc(in i int) begin insert into t2 values (i); end",
		"create trigger trig before insert on t for each row begin call proc(new.i+10); end",
		"insert into t values (1),(2),(3)",
	} {
		query(t, e, ctx, q)
	}
	expectRows(t, e, ctx, "select * from t order by i", "1", "2", "3")
	expectRows(t, e, ctx, "select * from t2 order by i", "11", "12", "13")
	query(t, e, ctx, "set autocommit = 0")
	query(t, e, ctx, "call proc(5)")
	query(t, e, ctx, "commit")
	ctx2 := e.NewContext(context.Background(), "p")
	expectRows(t, e, ctx2, "select * from t2 where i = 5", "5")
}

// A statement that fails changes nothing, including what its triggers
// wrote, in autocommit mode and inside a transaction.
func TestFailedStatementUndoesTriggers(t *testing.T) {
	e := newTestEngine(t, "")
	ctx := e.NewContext(context.Background(), "")
	for _, q := range []string{"CREATE DATABASE d", "USE d", "CREATE TABLE t (i INT PRIMARY KEY)", "CREATE TABLE audit (i INT)",
		"CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW INSERT INTO audit VALUES (NEW.i)"} {
		query(t, e, ctx, q)
	}
	if _, err := e.Query(ctx, "INSERT INTO t VALUES (1), (1)"); err == nil {
		t.Fatal("duplicate accepted")
	}
	query(t, e, ctx, "BEGIN")
	query(t, e, ctx, "INSERT INTO t VALUES (3)")
	if _, err := e.Query(ctx, "INSERT INTO t VALUES (2), (2)"); err == nil {
		t.Fatal("duplicate accepted")
	}
	query(t, e, ctx, "COMMIT")
	expectRows(t, e, ctx, "SELECT * FROM t", "3")
	expectRows(t, e, ctx, "SELECT * FROM audit", "3")
}
