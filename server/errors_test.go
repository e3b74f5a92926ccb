package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/cairndb/cairn/storage/sqle"
)

// MapErrorIn gives MySQL's error for the engine's own error (as `cairn
// sql` gets it) and for what go-mysql-server's protocol handler made of it
// (sql.CastSQLError, as the server's connection wrapper gets it) alike.
func TestErrorCodesMapError(t *testing.T) {
	e, err := sqle.NewEngine(context.Background(), sqle.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := e.NewContext(context.Background(), "")
	for _, q := range []string{
		"CREATE DATABASE d",
		"USE d",
		"CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(5) NOT NULL, UNIQUE KEY name_uq (name))",
		"INSERT INTO t VALUES (1, 'apple')",
		"CREATE TABLE p (id INT PRIMARY KEY)",
		"INSERT INTO p VALUES (1)",
		"CREATE TABLE c (id INT PRIMARY KEY, pid INT, CONSTRAINT fk_p FOREIGN KEY (pid) REFERENCES p (id) ON UPDATE SET NULL)",
		"INSERT INTO c VALUES (1, 1)",
	} {
		if _, err := e.Query(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	ec := ErrorContext{DB: "d", Catalog: e.Provider, Ctx: func() *sql.Context { return e.NewContext(context.Background(), "") }}
	for _, c := range []struct {
		q     string
		code  int
		state string
		msg   string
	}{
		{"SELECT * FROM nosuch", 1146, "42S02", "Table 'd.nosuch' doesn't exist"},
		{"SELECT * FROM d.NoSuch", 1146, "42S02", "Table 'd.NoSuch' doesn't exist"},
		{"DROP TABLE nosuch", 1051, "42S02", "Unknown table 'd.nosuch'"},
		{"SELECT x FROM t", 1054, "42S22", "Unknown column 'x' in 'field list'"},
		{"SELECT id FROM t GROUP BY x", 1054, "42S22", "Unknown column 'x' in 'group statement'"},
		{"SELECT t.id FROM t JOIN p ON t.x = p.id", 1054, "42S22", "Unknown column 't.x' in 'on clause'"},
		{"DELETE FROM t WHERE x = 1", 1054, "42S22", "Unknown column 'x' in 'where clause'"},
		{"SELEC 1", 1064, "42000", "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near 'SELEC 1' at line 1"},
		{"SELECT * FROM `t` WHERE `id` `name`", 1064, "42000", "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near '`name`' at line 1"},
		{"CREATE TABLE t (id INT)", 1050, "42S01", "Table 't' already exists"},
		{"CREATE DATABASE d", 1007, "HY000", "Can't create database 'd'; database exists"},
		{"USE nodb", 1049, "42000", "Unknown database 'nodb'"},
		{"INSERT INTO t VALUES (2, 'apple')", 1062, "23000", "Duplicate entry 'apple' for key 't.name_uq'"},
		{"UPDATE t SET name = 'toolong'", 1406, "22001", "Data too long for column 'name' at row 1"},
		{"UPDATE t SET name = NULL", 1048, "23000", "Column 'name' cannot be null"},
		{"INSERT INTO c VALUES (2, 9)", 1452, "23000", "Cannot add or update a child row: a foreign key constraint fails (`d`.`c`, CONSTRAINT `fk_p` FOREIGN KEY (`pid`) REFERENCES `p` (`id`) ON UPDATE SET NULL)"},
		{"DELETE FROM p", 1451, "23000", "Cannot delete or update a parent row: a foreign key constraint fails (`d`.`c`, CONSTRAINT `fk_p` FOREIGN KEY (`pid`) REFERENCES `p` (`id`) ON UPDATE SET NULL)"},
		{"SET @@GLOBAL.nosuch = 1", 1193, "HY000", "Unknown system variable 'nosuch'"},
	} {
		_, err := e.Query(ctx, c.q)
		if err == nil {
			t.Errorf("%s: no error", c.q)
			continue
		}
		ec.Query = c.q
		for _, in := range []error{err, sql.CastSQLError(err)} {
			var se *mysql.SQLError
			if !errors.As(MapErrorIn(in, ec), &se) || se.Num != c.code || se.State != c.state || se.Message != c.msg {
				t.Errorf("%s: %T %v mapped to %v; want %d (%s) %q", c.q, in, in, se, c.code, c.state, c.msg)
			}
		}
	}

	// Without the statement: MySQL's code and SQLSTATE, the engine's
	// message where MySQL's names more than the error does.
	_, err = e.Query(ctx, "SELECT * FROM nosuch")
	var se *mysql.SQLError
	if !errors.As(MapError(err), &se) || se.Num != 1146 || se.State != "42S02" || se.Message != "table not found: nosuch" {
		t.Errorf("MapError without the statement: %v", se)
	}
	// An error it knows nothing about is returned as it is.
	other := errors.New("something else")
	if got := MapError(other); got != other {
		t.Errorf("MapError(%v) = %v", other, got)
	}
	if MapError(nil) != nil {
		t.Error("MapError(nil) is not nil")
	}
}

// MySQL quotes the text from the token the parser stopped at, and its
// line; nothing when the statement ended too early.
func TestErrorCodesNearText(t *testing.T) {
	for _, c := range []struct {
		q    string
		near string
		line int
	}{
		{"SELEC 1", "SELEC 1", 1},
		{"SELECT * FROM t WHERE", "", 1},
		{"  SELECT * FROM t WHERE ;  ", "", 1},
		{"SELECT *\nFROM t\nWHERE id = = 1", "= 1", 3},
		{"SELECT * FROM t WHERE id = 1 ORDER", "", 1},
		{"SELECT id FROM t WHERE id = 1 GROUP id", "id", 1},
		{"INSERT INTO t VALUES ('a' 'b' 3)", "3)", 1},
	} {
		err := sql.CastSQLError(sql.ErrSyntaxError.New(parseError(c.q)))
		var se *mysql.SQLError
		if !errors.As(MapErrorIn(err, ErrorContext{Query: c.q}), &se) {
			t.Fatalf("%q: %v", c.q, err)
		}
		want := "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near '" +
			c.near + "' at line " + string(rune('0'+c.line))
		if se.Message != want || se.Num != 1064 || se.State != "42000" {
			t.Errorf("%q: %d %s %q; want near %q at line %d", c.q, se.Num, se.State, se.Message, c.near, c.line)
		}
	}
}

// parseError is the parser's message for q, as the engine has it.
func parseError(q string) string {
	_, _, _, err := sql.NewMysqlParser().ParseWithOptions(context.Background(), q, ';', false, ast.ParserOptions{})
	if err == nil {
		return ""
	}
	return err.Error()
}

// Errors made of a kind alone, raw and as the protocol handler sends them.
func TestErrorCodesKinds(t *testing.T) {
	for _, c := range []struct {
		err   error
		code  int
		state string
		msg   string
	}{
		{sql.ErrLockDeadlock.New("row changed"), 1213, "40001", "Deadlock found when trying to get lock; try restarting transaction"},
		{sql.ErrReadOnlyTransaction.New(), 1792, "25006", "Cannot execute statement in a READ ONLY transaction."},
		{sql.ErrReadOnly.New(), 1290, "HY000", "The MySQL server is running with the --read-only option so it cannot execute this statement"},
		{sql.ErrDatabaseAccessDeniedForUser.New("'bob'@'%'", "secret"), 1044, "42000", "Access denied for user 'bob'@'%' to database 'secret'"},
		{sql.ErrNoDatabaseSelected.New(), 1046, "3D000", "No database selected"},
		{sql.ErrDatabaseNotFound.New("x"), 1049, "42000", "Unknown database 'x'"},
		{sql.WrappedInsertError{Cause: sql.ErrInsertIntoNonNullableProvidedNull.New("c")}, 1048, "23000", "Column 'c' cannot be null"},
	} {
		for _, in := range []error{c.err, sql.CastSQLError(c.err)} {
			var se *mysql.SQLError
			if !errors.As(MapError(in), &se) || se.Num != c.code || se.State != c.state || se.Message != c.msg {
				t.Errorf("%T %v mapped to %v; want %d (%s) %q", in, in, se, c.code, c.state, c.msg)
			}
		}
	}
}

// A failure of the file system reaches the client as ER_ERROR_ON_WRITE
// naming the file and the errno, whether the error still wraps the errno
// or the protocol handler flattened it to text; a store that refuses
// writes after it says so.
func TestErrorCodesFileErrors(t *testing.T) {
	full := fmt.Errorf("commit: %w", &os.PathError{Op: "write", Path: "/d/x/.cairn/store/000017.log", Err: syscall.ENOSPC})
	for _, c := range []struct {
		err  error
		want string
	}{
		{full, "Error writing file '/d/x/.cairn/store/000017.log' (errno: 28 - No space left on device)"},
		{mysql.NewSQLError(1105, "HY000", "%s", full.Error()), "Error writing file '/d/x/.cairn/store/000017.log' (errno: 28 - No space left on device)"},
		{errors.New("tree: write nodes: diskstore: the store refuses writes after a failed write or sync, until it is opened again (restart the server): sync /d/x/.cairn/store/000017.log: input/output error"),
			"Error writing file '/d/x/.cairn/store/000017.log' (errno: 5 - Input/output error); the database refuses writes until the server is restarted"},
		{errors.New("pebble: background: disk quota exceeded"), "Error writing file '?' (errno: 122 - Disk quota exceeded)"},
	} {
		var got *mysql.SQLError
		if !errors.As(MapError(c.err), &got) || got.Num != 3 || got.State != "HY000" || got.Message != c.want {
			t.Errorf("%v:\n got %v\nwant 3 (HY000) %s", c.err, got, c.want)
		}
	}
	if err := MapError(errors.New("table not found: nodes")); err.Error() != "table not found: nodes" {
		t.Errorf("an unrelated error became %v", err)
	}
}
