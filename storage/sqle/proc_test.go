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
