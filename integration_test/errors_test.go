package integration_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// mysqlError is an error as a client sees it: number, SQLSTATE, message.
type mysqlError struct {
	Number uint16
	State  string
	Msg    string
}

func (e mysqlError) String() string {
	if e == (mysqlError{}) {
		return "success"
	}
	return fmt.Sprintf("error %d (%s) %q", e.Number, e.State, e.Msg)
}

func mysqlErrorOf(err error) mysqlError {
	if err == nil {
		return mysqlError{}
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return mysqlError{me.Number, string(me.SQLState[:]), me.Message}
	}
	return mysqlError{0, "", err.Error()}
}

func wantError(t *testing.T, what string, err error, want mysqlError) {
	t.Helper()
	if got := mysqlErrorOf(err); got != want {
		t.Errorf("%s:\n got %v\nwant %v", what, got, want)
	}
}

const syntaxPrefix = "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near "

// Common statement errors carry MySQL 8's number, SQLSTATE and message
// (the engine sent most as 1105 HY000 with its own text), through the
// text protocol, prepared statements and multi-statement packets.
func TestErrorCodes(t *testing.T) {
	s := startServer(t, t.TempDir())
	mustExec(t, s.connect(t, "root", "", ""), "CREATE DATABASE shop")
	db := s.connect(t, "root", "", "shop")
	for _, q := range []string{
		"CREATE DATABASE other",
		"CREATE TABLE shop.fruit (id INT PRIMARY KEY, name VARCHAR(5) NOT NULL, UNIQUE KEY name_uq (name))",
		"INSERT INTO shop.fruit VALUES (1, 'apple')",
		"CREATE TABLE shop.pair (a INT, b INT, PRIMARY KEY (a, b))",
		"INSERT INTO shop.pair VALUES (1, 2)",
		"CREATE TABLE shop.parent (id INT PRIMARY KEY)",
		"INSERT INTO shop.parent VALUES (1)",
		"CREATE TABLE shop.child (id INT PRIMARY KEY, pid INT, CONSTRAINT child_fk FOREIGN KEY (pid) REFERENCES parent (id))",
		"INSERT INTO shop.child VALUES (1, 1)",
		"CREATE TABLE shop.child2 (id INT PRIMARY KEY, pid INT, CONSTRAINT child2_fk FOREIGN KEY (pid) REFERENCES parent (id) ON DELETE CASCADE)",
		"CREATE TABLE shop.pos (v INT, CHECK (v > 0))",
	} {
		mustExec(t, db, q)
	}
	conn := ownConn(t, db)
	ctx := context.Background()

	for _, c := range []struct {
		q    string
		want mysqlError
	}{
		// Names.
		{"SELECT * FROM nosuch", mysqlError{1146, "42S02", "Table 'shop.nosuch' doesn't exist"}},
		{"SELECT * FROM other.nosuch", mysqlError{1146, "42S02", "Table 'other.nosuch' doesn't exist"}},
		{"SELECT nosuch FROM fruit", mysqlError{1054, "42S22", "Unknown column 'nosuch' in 'field list'"}},
		{"SELECT id FROM fruit WHERE nosuch = 1", mysqlError{1054, "42S22", "Unknown column 'nosuch' in 'where clause'"}},
		{"SELECT id FROM fruit ORDER BY nosuch", mysqlError{1054, "42S22", "Unknown column 'nosuch' in 'order clause'"}},
		{"SELECT fruit.nosuch FROM fruit", mysqlError{1054, "42S22", "Unknown column 'fruit.nosuch' in 'field list'"}},
		{"INSERT INTO fruit (id, nosuch) VALUES (1, 2)", mysqlError{1054, "42S22", "Unknown column 'nosuch' in 'field list'"}},
		{"UPDATE fruit SET nosuch = 1", mysqlError{1054, "42S22", "Unknown column 'nosuch' in 'field list'"}},
		{"SELECT id FROM fruit, parent", mysqlError{1052, "23000", "Column 'id' in field list is ambiguous"}},
		{"SELECT * FROM fruit a JOIN parent a", mysqlError{1066, "42000", "Not unique table/alias: 'a'"}},
		{"SELECT nosuchfn(1)", mysqlError{1305, "42000", "FUNCTION shop.nosuchfn does not exist"}},
		{"CALL nosuchproc()", mysqlError{1305, "42000", "PROCEDURE shop.nosuchproc does not exist"}},
		{"SELECT @@nosuchvar", mysqlError{1193, "HY000", "Unknown system variable 'nosuchvar'"}},
		{"USE nosuchdb", mysqlError{1049, "42000", "Unknown database 'nosuchdb'"}},

		// Syntax.
		{"SELEC 1", mysqlError{1064, "42000", syntaxPrefix + "'SELEC 1' at line 1"}},
		{"SELECT * FROM fruit WHERE", mysqlError{1064, "42000", syntaxPrefix + "'' at line 1"}},
		{"SELECT *\nFROM fruit\nWHERE id = = 1", mysqlError{1064, "42000", syntaxPrefix + "'= 1' at line 3"}},

		// DDL.
		{"CREATE TABLE fruit (id INT)", mysqlError{1050, "42S01", "Table 'fruit' already exists"}},
		{"CREATE DATABASE shop", mysqlError{1007, "HY000", "Can't create database 'shop'; database exists"}},
		{"DROP DATABASE nosuchdb", mysqlError{1008, "HY000", "Can't drop database 'nosuchdb'; database doesn't exist"}},
		{"DROP TABLE nosuch", mysqlError{1051, "42S02", "Unknown table 'shop.nosuch'"}},
		{"ALTER TABLE fruit DROP COLUMN nosuch", mysqlError{1091, "42000", "Can't DROP 'nosuch'; check that column/key exists"}},
		{"ALTER TABLE fruit ADD COLUMN name INT", mysqlError{1060, "42S21", "Duplicate column name 'name'"}},
		{"CREATE INDEX name_uq ON fruit (id)", mysqlError{1061, "42000", "Duplicate key name 'name_uq'"}},

		// Data.
		{"INSERT INTO fruit VALUES (2, 'apple')", mysqlError{1062, "23000", "Duplicate entry 'apple' for key 'fruit.name_uq'"}},
		{"INSERT INTO fruit VALUES (1, 'pear')", mysqlError{1062, "23000", "Duplicate entry '1' for key 'fruit.PRIMARY'"}},
		{"INSERT INTO pair VALUES (1, 2)", mysqlError{1062, "23000", "Duplicate entry '1-2' for key 'pair.PRIMARY'"}},
		{"UPDATE fruit SET id = 1 WHERE id = 1", mysqlError{}},
		{"INSERT INTO fruit VALUES (3, 'pear'), (4, 'toolong')", mysqlError{1406, "22001", "Data too long for column 'name' at row 2"}},
		{"INSERT INTO fruit VALUES (5, NULL)", mysqlError{1048, "23000", "Column 'name' cannot be null"}},
		{"INSERT INTO fruit VALUES (6)", mysqlError{1136, "21S01", "Column count doesn't match value count at row 1"}},
		{"INSERT INTO child VALUES (2, 9)", mysqlError{1452, "23000", "Cannot add or update a child row: a foreign key constraint fails (`shop`.`child`, CONSTRAINT `child_fk` FOREIGN KEY (`pid`) REFERENCES `parent` (`id`))"}},
		{"INSERT INTO child2 VALUES (1, 9)", mysqlError{1452, "23000", "Cannot add or update a child row: a foreign key constraint fails (`shop`.`child2`, CONSTRAINT `child2_fk` FOREIGN KEY (`pid`) REFERENCES `parent` (`id`) ON DELETE CASCADE)"}},
		{"DELETE FROM parent", mysqlError{1451, "23000", "Cannot delete or update a parent row: a foreign key constraint fails (`shop`.`child`, CONSTRAINT `child_fk` FOREIGN KEY (`pid`) REFERENCES `parent` (`id`))"}},
		{"INSERT INTO pos VALUES (-1)", mysqlError{3819, "HY000", "Check constraint 'pos_chk_1' is violated."}},
		{"SELECT (SELECT id FROM parent UNION SELECT 2)", mysqlError{1242, "21000", "Subquery returns more than 1 row"}},
	} {
		wantError(t, c.q, execErr(conn, c.q), c.want)
	}

	// Prepared statements: the error of the prepare and of the execute.
	// The protocol layer parses a statement to prepare before the server
	// sees it, and answers a syntax error itself.
	_, err := conn.PrepareContext(ctx, "SELEC ?")
	knownDiff(t, "prepare SELEC ?", mysqlErrorOf(err),
		mysqlError{1064, "42000", syntaxPrefix + "'SELEC ?' at line 1"},
		mysqlError{1105, "HY000", "unknown error: Code: INVALID_ARGUMENT\nsyntax error at position 6 near 'SELEC'\n"})
	_, err = conn.PrepareContext(ctx, "SELECT nosuch FROM fruit WHERE id = ?")
	wantError(t, "prepare with an unknown column", err, mysqlError{1054, "42S22", "Unknown column 'nosuch' in 'field list'"})
	_, err = conn.ExecContext(ctx, "INSERT INTO fruit VALUES (?, ?)", 1, "pear")
	wantError(t, "prepared INSERT of a duplicate key", err, mysqlError{1062, "23000", "Duplicate entry '1' for key 'fruit.PRIMARY'"})
	_, err = conn.ExecContext(ctx, "INSERT INTO fruit VALUES (?, ?)", 7, "toolong")
	wantError(t, "prepared INSERT of a long value", err, mysqlError{1406, "22001", "Data too long for column 'name' at row 1"})

	// A multi-statement packet: the failing statement's error.
	_, err = conn.ExecContext(ctx, "INSERT INTO parent VALUES (2); SELECT * FROM nosuch2")
	wantError(t, "multi-statement", err, mysqlError{1146, "42S02", "Table 'shop.nosuch2' doesn't exist"})

	// Connecting to a database that does not exist.
	wantError(t, "connect with database nosuchdb", s.connect(t, "root", "", "nosuchdb").Ping(),
		mysqlError{1049, "42000", "Unknown database 'nosuchdb'"})
}

// Privilege errors carry MySQL's SQLSTATE too (privileges_test.go checks
// the statements and messages in more detail).
func TestErrorCodesPrivileges(t *testing.T) {
	s := startServer(t, t.TempDir())
	root := s.connect(t, "root", "", "")
	for _, q := range []string{
		"CREATE DATABASE shop",
		"CREATE DATABASE secret",
		"CREATE TABLE shop.t (id INT PRIMARY KEY)",
		"CREATE USER 'bob'@'%' IDENTIFIED BY 'bob-pw'",
		"GRANT SELECT ON shop.* TO 'bob'@'%'",
	} {
		mustExec(t, root, q)
	}
	bob := ownConn(t, s.connect(t, "bob", "bob-pw", "shop"))
	for _, c := range []struct {
		q    string
		want mysqlError
	}{
		{"INSERT INTO t VALUES (1)", mysqlError{1142, "42000", "INSERT command denied to user 'bob'@'localhost' for table 't'"}},
		{"SELECT * FROM secret.s", mysqlError{1142, "42000", "SELECT command denied to user 'bob'@'localhost' for table 's'"}},
		{"USE secret", mysqlError{1044, "42000", "Access denied for user 'bob'@'%' to database 'secret'"}},
		{"CREATE USER 'eve'@'%'", mysqlError{1227, "42000", "Access denied; you need (at least one of) the CREATE USER privilege(s) for this operation"}},
		{"SELECT * FROM nosuch", mysqlError{1146, "42S02", "Table 'shop.nosuch' doesn't exist"}},
	} {
		wantError(t, "bob: "+c.q, execErr(bob, c.q), c.want)
	}
	wantError(t, "bob: connect with database secret", s.connect(t, "bob", "bob-pw", "secret").Ping(),
		mysqlError{1044, "42000", "Access denied for user 'bob'@'%' to database 'secret'"})
	wantError(t, "wrong password", s.connect(t, "bob", "wrong", "").Ping(),
		mysqlError{1045, "28000", "Access denied for user 'bob'@'localhost' (using password: YES)"})
	wantError(t, "unknown user", s.connect(t, "nobody", "pw", "").Ping(),
		mysqlError{1045, "28000", "Access denied for user 'nobody'@'localhost' (using password: YES)"})
}

func execErr(c *sql.Conn, q string) error {
	_, err := c.ExecContext(context.Background(), q)
	return err
}
