package sqle

import (
	"context"
	"strings"
	"testing"
)

// SUM and AVG of exact numbers give MySQL's DECIMAL results, exactly.
func TestExactAggregates(t *testing.T) {
	e := newTestEngine(t, "")
	ctx := e.NewContext(context.Background(), "")
	for _, q := range []string{
		"CREATE DATABASE d", "USE d",
		"CREATE TABLE t (id INT PRIMARY KEY, qty INT, price DECIMAL(12,2), big BIGINT UNSIGNED, f DOUBLE, g INT)",
		"INSERT INTO t VALUES (1, 1000000, 1000.25, 18446744073709551615, 0.5, 1), (2, 350900, 10.25, 18446744073709551615, 0.25, 1), (3, NULL, NULL, NULL, NULL, 2)",
	} {
		query(t, e, ctx, q)
	}
	for q, want := range map[string]string{
		"SELECT SUM(qty), AVG(qty) FROM t":                      "1350900|675450.0000",
		"SELECT SUM(price), AVG(price) FROM t":                  "1010.50|505.250000",
		"SELECT SUM(big) FROM t":                                "36893488147419103230",
		"SELECT SUM(f), AVG(f) FROM t":                          "0.75|0.375",
		"SELECT SUM(qty) + 1, SUM(qty) / 3 FROM t":              "1350901|450300.0000",
		"SELECT SUM(DISTINCT g) FROM t":                         "3",
		"SELECT SUM(qty) FROM t WHERE id > 10":                  "NULL",
		"SELECT AVG(price) FROM t WHERE id = 3":                 "NULL",
		"SELECT (SELECT SUM(price) FROM t) FROM t WHERE id = 1": "1010.50",
	} {
		expectRows(t, e, ctx, q, want)
	}
	expectRows(t, e, ctx, "SELECT g, SUM(price) FROM t GROUP BY g HAVING SUM(price) > 5 ORDER BY SUM(price)", "1|1010.50")
}

// SHOW CREATE TABLE prints ENUM, SET and DECIMAL defaults as MySQL does.
func TestShowCreateTableDefaults(t *testing.T) {
	e := newTestEngine(t, "")
	ctx := e.NewContext(context.Background(), "")
	query(t, e, ctx, "CREATE DATABASE d")
	query(t, e, ctx, "USE d")
	query(t, e, ctx, "CREATE TABLE t (id INT PRIMARY KEY, e ENUM('x','y') DEFAULT 'y', s SET('a','b') NOT NULL DEFAULT 'a,b', d DECIMAL(10,3) DEFAULT 1.5, n DECIMAL(5,2) DEFAULT NULL)")
	got := query(t, e, ctx, "SHOW CREATE TABLE t")[0]
	for _, want := range []string{"`e` enum('x','y') DEFAULT 'y'", "`s` set('a','b') NOT NULL DEFAULT 'a,b'", "`d` decimal(10,3) DEFAULT '1.500'", "`n` decimal(5,2) DEFAULT NULL"} {
		if !strings.Contains(got, want) {
			t.Errorf("SHOW CREATE TABLE lacks %q:\n%s", want, got)
		}
	}
	// The printed defaults mean the same when loaded again.
	query(t, e, ctx, "DROP TABLE t")
	query(t, e, ctx, strings.SplitN(got, "|", 2)[1])
	query(t, e, ctx, "INSERT INTO t (id) VALUES (1)")
	expectRows(t, e, ctx, "SELECT e, s, d, n FROM t", "y|a,b|1.500|NULL")
}

// Views, triggers and routines resolve their names in their own database
// when the session has none selected.
func TestObjectsWithoutCurrentDatabase(t *testing.T) {
	e := newTestEngine(t, "")
	ctx := e.NewContext(context.Background(), "")
	for _, q := range []string{
		"CREATE DATABASE shop", "USE shop",
		"CREATE TABLE t (id INT PRIMARY KEY AUTO_INCREMENT, v INT)",
		"CREATE TABLE audit (n INT)",
		"CREATE VIEW big AS SELECT id FROM t WHERE v > 1",
		"CREATE TRIGGER t_ai AFTER INSERT ON t FOR EACH ROW INSERT INTO audit VALUES (NEW.v)",
		"CREATE PROCEDURE add_t(x INT) BEGIN INSERT INTO t (v) VALUES (x); END",
	} {
		query(t, e, ctx, q)
	}
	ctx = e.NewContext(context.Background(), "") // no current database
	query(t, e, ctx, "INSERT INTO shop.t (v) VALUES (5)")
	query(t, e, ctx, "CALL shop.add_t(7)")
	expectRows(t, e, ctx, "SELECT COUNT(*) FROM shop.big", "2")
	expectRows(t, e, ctx, "SELECT SUM(n) FROM shop.audit", "12")
	expectRows(t, e, ctx, "SHOW CREATE VIEW shop.big", "big|CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `big` AS SELECT id FROM t WHERE v > 1|utf8mb4|utf8mb4_0900_bin")
	if rows := query(t, e, ctx, "SHOW TRIGGERS FROM shop"); len(rows) != 1 {
		t.Errorf("SHOW TRIGGERS FROM shop: %q", rows)
	}
	// Still no current database.
	expectRows(t, e, ctx, "SELECT DATABASE()", "NULL")
	if _, err := e.Query(ctx, "SELECT * FROM t"); err == nil || !strings.Contains(err.Error(), "no database selected") {
		t.Errorf("unqualified table without a database: %v", err)
	}
}

// Reading a view inside a transaction does not commit it.
func TestViewInTransaction(t *testing.T) {
	e := newTestEngine(t, "")
	ctx := e.NewContext(context.Background(), "")
	for _, q := range []string{
		"CREATE DATABASE d", "USE d",
		"CREATE TABLE t (id INT PRIMARY KEY)", "CREATE VIEW v AS SELECT id FROM t",
		"START TRANSACTION", "INSERT INTO t VALUES (1)", "SAVEPOINT sp",
		"SELECT * FROM v", "SHOW CREATE TABLE v", "SHOW FIELDS FROM v",
		"ROLLBACK TO SAVEPOINT sp", "ROLLBACK",
	} {
		query(t, e, ctx, q)
	}
	expectRows(t, e, ctx, "SELECT COUNT(*) FROM t", "0")
	// DDL still commits implicitly.
	query(t, e, ctx, "START TRANSACTION")
	query(t, e, ctx, "INSERT INTO t VALUES (2)")
	query(t, e, ctx, "CREATE TABLE t2 (a INT)")
	query(t, e, ctx, "ROLLBACK")
	expectRows(t, e, ctx, "SELECT id FROM t", "2")
}

// Functions go-mysql-server lacks.
func TestAddedFunctions(t *testing.T) {
	e := newTestEngine(t, "")
	ctx := e.NewContext(context.Background(), "")
	for q, want := range map[string]string{
		"SELECT TRUNCATE(1000.25, 1), TRUNCATE(1999, -2), TRUNCATE(-1.5, 0), TRUNCATE(1.999, 2), TRUNCATE(NULL, 1)": "1000.2|1900|-1|1.99|NULL",
		"SELECT OCT(8), OCT(0), OCT(-1), OCT(NULL)":                                                                 "10|0|1777777777777777777777|NULL",
		"SELECT SEC_TO_TIME(3661), SEC_TO_TIME(-10), SEC_TO_TIME(99999999), SEC_TO_TIME(NULL)":                      "01:01:01|-00:00:10|838:59:59|NULL",
	} {
		expectRows(t, e, ctx, q, want)
	}
}

// With UseLocalRoot (cairn sql, cairn dump), information_schema shows
// views and routines.
func TestLocalRootSeesObjects(t *testing.T) {
	e := newTestEngine(t, "")
	e.UseLocalRoot()
	ctx := e.NewContext(context.Background(), "")
	for _, q := range []string{
		"CREATE DATABASE shop", "USE shop", "CREATE TABLE t (id INT PRIMARY KEY)",
		"CREATE VIEW v AS SELECT id FROM t", "CREATE PROCEDURE p() SELECT 1",
	} {
		query(t, e, ctx, q)
	}
	expectRows(t, e, ctx, "SELECT table_name FROM information_schema.views WHERE table_schema = 'shop'", "v")
	expectRows(t, e, ctx, "SELECT routine_name FROM information_schema.routines WHERE routine_schema = 'shop'", "p")
	expectRows(t, e, ctx, "SELECT CURRENT_USER()", "root@localhost")
}
