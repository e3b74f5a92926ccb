package integration_test

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// cdumpSchema is the database cairn dump is tested on, written with
// cairn sql in a database directory made by cairn init: every integer
// width signed and unsigned, DECIMAL, FLOAT, DOUBLE, strings with quotes,
// backslashes, line breaks, NUL and unicode, bytes with NUL and 0xff, BIT,
// ENUM, SET, dates and times, JSON, POINT, a keyless table, a foreign key
// (the child sorts before its parent), a check, indexes, generated
// columns, AUTO_INCREMENT counters ahead of the rows, views (one over the
// other), triggers, a procedure and an event.
const cdumpSchema = `
SET SQL_MODE = 'NO_AUTO_VALUE_ON_ZERO,STRICT_TRANS_TABLES';
CREATE TABLE ints (
  id INT AUTO_INCREMENT PRIMARY KEY,
  i8 TINYINT, u8 TINYINT UNSIGNED, i16 SMALLINT, u16 SMALLINT UNSIGNED,
  i24 MEDIUMINT, u24 MEDIUMINT UNSIGNED, i32 INT, u32 INT UNSIGNED,
  i64 BIGINT, u64 BIGINT UNSIGNED, bo BOOL,
  d1 DECIMAL(10,2), d2 DECIMAL(65,30), f FLOAT, db DOUBLE
);
INSERT INTO ints VALUES
  (0, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0, 0,
   -99999999.99, -0.000000000000000000000000000001, -3.40282e38, -1.7976931348623157e308),
  (7, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615, 1,
   99999999.99, 12345678901234567890123456789012345.123456789012345678901234567890, 3.14159, 2.2250738585072014e-308),
  (8, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0.1, 0.1);
SET SQL_MODE = DEFAULT;

CREATE TABLE strs (
  id INT PRIMARY KEY, c CHAR(10), vc VARCHAR(100), tx TEXT, mt MEDIUMTEXT,
  ci VARCHAR(20) COLLATE utf8mb4_0900_ai_ci, l1 VARCHAR(10) CHARACTER SET latin1,
  UNIQUE KEY vc_u (vc), KEY ci_idx (ci)
);
INSERT INTO strs VALUES
  (1, 'abc', 'it''s "quoted"', 'back\\slash \\n not a line break', 'line1\nline2\r\n\ttab', 'Straße', 'café'),
  (2, '', '', '', '', '', ''),
  (3, NULL, NULL, NULL, NULL, NULL, NULL),
  (4, 'ü', 'nul\0byte', 'ctrl-z \Z end', '日本語 🎉', 'ÉCOLE', 'x'),
  (5, 'sp', 'trailing  ', '%_ wild', REPEAT('long ', 300), 'a', NULL);

CREATE TABLE bins (
  id INT PRIMARY KEY, b BINARY(4), vb VARBINARY(10), bl BLOB, lb LONGBLOB,
  bt1 BIT(1), bt BIT(64), g POINT
);
INSERT INTO bins VALUES
  (1, 0x00ff0a27, 0x00, 0x5c27220d0a00, 0xdeadbeef, b'1', 0xffffffffffffffff, ST_GeomFromText('POINT(1.5 -2)')),
  (2, 'ab', '', '', NULL, b'0', b'101', NULL),
  (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

CREATE TABLE misc (
  id INT PRIMARY KEY, e ENUM('new','old','two words') NOT NULL DEFAULT 'new', s SET('a','b','c') DEFAULT 'a,b',
  j JSON, d DATE, dt DATETIME, dt6 DATETIME(6), ts TIMESTAMP NULL, tm TIME, tm6 TIME(6), y YEAR
);
INSERT INTO misc VALUES
  (1, 'two words', 'a,c', '{"k": "v\\"q", "n": [1, 2.5, null, true]}', '2024-02-29', '2024-02-29 23:59:59',
   '2024-02-29 23:59:59.123456', '2038-01-19 03:14:07', '-838:59:59', '12:34:56.5', 2155),
  (2, 'new', '', '[]', '1000-01-01', '1000-01-01 00:00:00', '9999-12-31 23:59:59.999999',
   '1970-01-01 00:00:01', '838:59:59', '00:00:00', 1901);
INSERT INTO misc (id) VALUES (3);

CREATE TABLE keyless (a INT, b VARCHAR(10));
INSERT INTO keyless VALUES (1, 'x'), (1, 'x'), (2, NULL), (NULL, NULL);

CREATE TABLE gen (id INT PRIMARY KEY, a INT, v INT AS (a * 2), s INT AS (a + 1) STORED);
INSERT INTO gen (id, a) VALUES (1, 1), (2, NULL), (3, -5);

CREATE TABLE parent (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20) NOT NULL);
CREATE TABLE child (
  id INT PRIMARY KEY, pid INT, qty INT NOT NULL DEFAULT 1,
  CONSTRAINT fk_parent FOREIGN KEY (pid) REFERENCES parent (id) ON DELETE CASCADE,
  CONSTRAINT qty_pos CHECK (qty > 0), KEY qty_idx (qty)
);
CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, msg VARCHAR(100));
CREATE TRIGGER child_bi BEFORE INSERT ON child FOR EACH ROW SET NEW.qty = NEW.qty * 10;
DELIMITER ;;
CREATE TRIGGER parent_ai AFTER INSERT ON parent FOR EACH ROW BEGIN INSERT INTO audit (msg) VALUES (CONCAT('added ', NEW.name)); END;;
CREATE PROCEDURE add_parent(IN n VARCHAR(20)) BEGIN INSERT INTO parent (name) VALUES (n); SELECT COUNT(*) FROM parent; END;;
DELIMITER ;
INSERT INTO parent (name) VALUES ('one'), ('two'), ('three');
DELETE FROM parent WHERE id = 3;
INSERT INTO child VALUES (1, 1, 5), (2, 2, 7), (3, NULL, 1);
CREATE VIEW v_parent AS SELECT id, name FROM parent WHERE id > 1;
CREATE VIEW a_view AS SELECT name FROM v_parent;
CREATE EVENT cleanup ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM audit;
`

// cdumpRows runs q on db and returns its rows as text, NULL as "NULL"
// (no value of the tests is that text).
func cdumpRows(t *testing.T, db *sql.DB, q string) [][]string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for rows.Next() {
		raw := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range raw {
			ptrs[i] = &raw[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, v := range raw {
			row[i] = "NULL"
			if v != nil {
				row[i] = string(v)
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

// cdumpColumn is what information_schema says of a column.
type cdumpColumn struct{ name, dataType string }

func cdumpColumns(t *testing.T, db *sql.DB, table string) []cdumpColumn {
	t.Helper()
	var cols []cdumpColumn
	for _, r := range cdumpRows(t, db, "SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME = '"+table+"' ORDER BY ORDINAL_POSITION") {
		cols = append(cols, cdumpColumn{r[0], strings.ToLower(r[1])})
	}
	if len(cols) == 0 {
		t.Fatalf("table %s has no columns", table)
	}
	return cols
}

// cdumpTableNames returns the base tables and the views of db, in order.
func cdumpTableNames(t *testing.T, db *sql.DB) (tables, views []string) {
	for _, r := range cdumpRows(t, db, "SHOW FULL TABLES") {
		if r[1] == "VIEW" {
			views = append(views, r[0])
		} else {
			tables = append(tables, r[0])
		}
	}
	slices.Sort(tables)
	slices.Sort(views)
	return tables, views
}

// cdumpOne returns column col of the single row of q.
func cdumpOne(t *testing.T, db *sql.DB, q string, col int) string {
	t.Helper()
	rows := cdumpRows(t, db, q)
	if len(rows) != 1 {
		t.Fatalf("%s: %d rows", q, len(rows))
	}
	return rows[0][col]
}

// cdumpMake makes the test database with cairn init and cairn sql and
// returns its directory.
func cdumpMake(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "shop")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cdumpCairn(t, dir, "", "init", "--name", "t", "--email", "t@example.com")
	cdumpCairn(t, dir, cdumpSchema, "sql")
	return dir
}

// cdumpCairn runs the cairn binary in dir and returns its output; a
// failure fails t.
func cdumpCairn(t *testing.T, dir, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(cairnBin, args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cairn %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// A dump loaded with the mariadb CLI into a new cairn server gives the same
// tables (SHOW CREATE TABLE, AUTO_INCREMENT included, and every row),
// views, triggers, procedures and events; new rows continue the
// AUTO_INCREMENT counters, and the triggers and procedure work.
func TestDumpReloadIntoCairn(t *testing.T) {
	requireTool(t, "mariadb")
	dir := cdumpMake(t)
	cdumpCairn(t, dir, "", "dump")
	dump, err := os.ReadFile(filepath.Join(dir, "cairndump.sql"))
	if err != nil {
		t.Fatal(err)
	}

	src := startServer(t, dir)
	dst := startServer(t, t.TempDir())
	runClient(t, "mariadb", dst.addr, dump)
	a := src.connect(t, "root", "", "shop")
	b := dst.connect(t, "root", "", "shop")

	tables, views := cdumpTableNames(t, a)
	tablesB, viewsB := cdumpTableNames(t, b)
	if !slices.Equal(tables, tablesB) || !slices.Equal(views, viewsB) {
		t.Fatalf("tables %v and views %v, reloaded %v and %v", tables, views, tablesB, viewsB)
	}
	if len(tables) != 9 || len(views) != 2 {
		t.Fatalf("fixture: tables %v, views %v", tables, views)
	}
	for _, table := range tables {
		create := fmt.Sprintf("SHOW CREATE TABLE `%s`", table)
		if x, y := cdumpOne(t, a, create, 1), cdumpOne(t, b, create, 1); x != y {
			t.Errorf("%s:\n%s\nreloaded:\n%s", create, x, y)
		}
		cols := cdumpColumns(t, a, table)
		var order []string
		for i := range cols {
			order = append(order, strconv.Itoa(i+1))
		}
		q := fmt.Sprintf("SELECT %s FROM `%s` ORDER BY %s", cdumpSelect(cols), table, strings.Join(order, ", "))
		if x, y := cdumpRows(t, a, q), cdumpRows(t, b, q); !slices.EqualFunc(x, y, slices.Equal) {
			t.Errorf("%s:\n%q\nreloaded:\n%q", q, x, y)
		}
	}
	for _, view := range views {
		for _, q := range []string{"SHOW CREATE VIEW `" + view + "`", "SELECT * FROM `" + view + "` ORDER BY 1"} {
			if x, y := cdumpRows(t, a, q), cdumpRows(t, b, q); !slices.EqualFunc(x, y, slices.Equal) {
				t.Errorf("%s:\n%q\nreloaded:\n%q", q, x, y)
			}
		}
	}
	trig := func(db *sql.DB) [][]string {
		var out [][]string
		for _, r := range cdumpRows(t, db, "SHOW TRIGGERS") {
			out = append(out, r[:5]) // Trigger, Event, Table, Statement, Timing
		}
		slices.SortFunc(out, func(x, y []string) int { return strings.Compare(x[0], y[0]) })
		return out
	}
	if x, y := trig(a), trig(b); len(x) != 2 || !slices.EqualFunc(x, y, slices.Equal) {
		t.Errorf("triggers:\n%q\nreloaded:\n%q", x, y)
	}
	for _, name := range []string{"child_bi", "parent_ai"} {
		q := "SHOW CREATE TRIGGER " + name
		if x, y := cdumpOne(t, a, q, 2), cdumpOne(t, b, q, 2); x != y {
			t.Errorf("%s:\n%s\nreloaded:\n%s", q, x, y)
		}
	}
	procs := "SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'shop' ORDER BY 1"
	if x, y := cdumpRows(t, a, procs), cdumpRows(t, b, procs); len(x) != 1 || !slices.EqualFunc(x, y, slices.Equal) {
		t.Errorf("procedures %q, reloaded %q", x, y)
	}
	q := "SHOW CREATE PROCEDURE add_parent"
	if x, y := cdumpOne(t, a, q, 2), cdumpOne(t, b, q, 2); x != y {
		t.Errorf("%s:\n%s\nreloaded:\n%s", q, x, y)
	}
	events := func(db *sql.DB) []string {
		var names []string
		for _, r := range cdumpRows(t, db, "SHOW EVENTS") {
			names = append(names, r[1]+" "+r[4]+" "+r[5]+" "+r[6]+" "+r[9]) // Name, Type, Execute At, Interval Value, Status
		}
		return names
	}
	if x, y := events(a), events(b); len(x) != 1 || !slices.Equal(x, y) {
		t.Errorf("events %q, reloaded %q", x, y)
	}

	// The counters go on where they were: parent's 3 was used and deleted.
	mustExec(t, b, "INSERT INTO parent (name) VALUES ('four')")
	if id := cdumpOne(t, b, "SELECT id FROM parent WHERE name = 'four'", 0); id != "4" {
		t.Errorf("new parent row got id %s, want 4", id)
	}
	mustExec(t, b, "CALL add_parent('five')")
	mustExec(t, b, "INSERT INTO child (id, pid, qty) VALUES (4, 5, 2)")
	if got := cdumpRows(t, b, "SELECT msg FROM audit ORDER BY id"); len(got) != 5 || got[4][0] != "added five" {
		t.Errorf("audit after inserts: %q", got)
	}
	if qty := cdumpOne(t, b, "SELECT qty FROM child WHERE id = 4", 0); qty != "20" {
		t.Errorf("child trigger: qty %s, want 20", qty)
	}
}

// A dump with --compat mariadb loads into a real MariaDB server, and every
// table holds the same values there.
func TestDumpLoadIntoMariaDB(t *testing.T) {
	requireTool(t, "mariadb")
	dir := cdumpMake(t)
	cdumpCairn(t, dir, "", "dump", "--compat", "mariadb", "--file-name", "maria.sql")
	dump, err := os.ReadFile(filepath.Join(dir, "maria.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(dump), "0900") || strings.Contains(string(dump), "/*!8") {
		t.Fatalf("the dump still has MySQL 8 collations or comments:\n%s", dump)
	}
	maddr := startMariaDB(t)
	if out, err := tryClient(t, "mariadb", maddr, dump); err != nil {
		t.Fatalf("loading into MariaDB: %v\n%s", err, out)
	}

	src := startServer(t, dir)
	a := src.connect(t, "root", "", "shop")
	// TIMESTAMP values are read back in UTC, as the dump wrote them.
	m, err := sql.Open("mysql", "root@tcp("+maddr+")/shop?time_zone=%27%2B00%3A00%27")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })

	tables, views := cdumpTableNames(t, a)
	tablesM, viewsM := cdumpTableNames(t, m)
	if !slices.Equal(tables, tablesM) || !slices.Equal(views, viewsM) {
		t.Fatalf("tables %v and views %v, in MariaDB %v and %v", tables, views, tablesM, viewsM)
	}
	for _, table := range append(tables, views...) {
		cols := cdumpColumns(t, a, table)
		q := fmt.Sprintf("SELECT %s FROM `%s`", cdumpSelect(cols), table)
		x, y := cdumpNormalize(cols, cdumpRows(t, a, q)), cdumpNormalize(cols, cdumpRows(t, m, q))
		if !slices.EqualFunc(x, y, slices.Equal) {
			t.Errorf("%s:\ncairn   %q\nMariaDB %q", q, x, y)
		}
	}
	if got := cdumpRows(t, m, "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = 'shop' ORDER BY 1"); len(got) != 2 {
		t.Errorf("MariaDB triggers: %q", got)
	}
	if got := cdumpRows(t, m, "SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'shop'"); len(got) != 1 {
		t.Errorf("MariaDB procedures: %q", got)
	}
	if got := cdumpRows(t, m, "SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = 'shop'"); len(got) != 1 {
		t.Errorf("MariaDB events: %q", got)
	}
	mustExec(t, m, "INSERT INTO parent (name) VALUES ('four')")
	if id := cdumpOne(t, m, "SELECT id FROM parent WHERE name = 'four'", 0); id != "4" {
		t.Errorf("new parent row in MariaDB got id %s, want 4", id)
	}
}

// cdumpSelect returns the select list that reads cols as text both
// servers print alike: integers cast to text (go-sql-driver/mysql at the
// version in go.mod parses an INT column's text as a signed 32-bit number
// and fails on INT UNSIGNED values above 2147483647), BIT as its unsigned
// number, bytes as HEX().
func cdumpSelect(cols []cdumpColumn) string {
	var exprs []string
	for _, c := range cols {
		e := "`" + c.name + "`"
		switch c.dataType {
		case "tinyint", "smallint", "mediumint", "int", "bigint":
			e = "CAST(" + e + " AS CHAR)"
		case "bit":
			e = "CAST(CAST(" + e + " AS UNSIGNED) AS CHAR)"
		case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "point", "geometry":
			e = "HEX(" + e + ")"
		}
		exprs = append(exprs, e)
	}
	return strings.Join(exprs, ", ")
}

// cdumpNormalize returns rows with the differences in how cairn and MariaDB
// print the same value taken out: floating-point numbers as the float32 or
// float64 they are, fractions of seconds without trailing zeros. The rows
// are sorted: collations may order them differently.
func cdumpNormalize(cols []cdumpColumn, rows [][]string) [][]string {
	out := make([][]string, len(rows))
	for r, row := range rows {
		out[r] = slices.Clone(row)
		for i, v := range row {
			if v == "NULL" {
				continue
			}
			switch cols[i].dataType {
			case "float":
				if f, err := strconv.ParseFloat(v, 32); err == nil {
					out[r][i] = strconv.FormatFloat(f, 'g', -1, 32)
				}
			case "double":
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					out[r][i] = strconv.FormatFloat(f, 'g', -1, 64)
				}
			case "time", "datetime", "timestamp":
				if strings.Contains(v, ".") {
					out[r][i] = strings.TrimRight(strings.TrimRight(v, "0"), ".")
				}
			}
		}
	}
	slices.SortFunc(out, func(x, y []string) int { return slices.Compare(x, y) })
	return out
}
