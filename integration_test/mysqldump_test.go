package integration_test

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// dumpFixture is loaded with the mariadb CLI into the server dumped: two
// databases with most column types, a keyless table, a foreign key, a
// check, a view, a trigger and a procedure, and AUTO_INCREMENT counters
// ahead of the rows (rows were deleted).
const dumpFixture = `
CREATE DATABASE shop;
USE shop;
CREATE TABLE customers (
  id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL, email VARCHAR(200) UNIQUE,
  created DATETIME DEFAULT '2024-01-02 03:04:05', balance DECIMAL(12,2) DEFAULT 0.00, notes TEXT,
  KEY idx_name (name));
CREATE TABLE orders (
  id BIGINT AUTO_INCREMENT PRIMARY KEY, customer_id INT NOT NULL, total DECIMAL(12,2),
  status ENUM('new','paid','shipped') DEFAULT 'new', tags SET('a','b','c') DEFAULT 'a,b', data JSON, pic BLOB,
  flag BIT(3), d DATE, t TIME, f FLOAT, dbl DOUBLE, ti TINYINT, us SMALLINT UNSIGNED, bu BIGINT UNSIGNED,
  y YEAR, vb VARBINARY(8), ch CHAR(3),
  CONSTRAINT fk_c FOREIGN KEY (customer_id) REFERENCES customers(id), CONSTRAINT total_ok CHECK (total >= 0));
CREATE TABLE nokey (a INT, b VARCHAR(10));
INSERT INTO customers (name, email, balance, notes) VALUES
  ('Ann', 'ann@x.org', 10.50, 'it''s "quoted"\nnew\\line'), ('Bob', NULL, 1000.00, NULL),
  ('Zoë', 'z@x.org', 0, 'unicode ✓ 😀'), ('Gone', NULL, 1, NULL);
DELETE FROM customers WHERE name = 'Gone';
INSERT INTO orders (customer_id, total, status, tags, data, pic, flag, d, t, f, dbl, ti, us, bu, y, vb, ch) VALUES
  (1, 9.99, 'paid', 'a,c', '{"k": [1, 2], "s": "x\\"y"}', x'00ff10275c', b'101', '2024-02-29', '12:34:56', 1.5, 2.25,
   -128, 65535, 18446744073709551615, 2024, x'00', 'abc'),
  (2, 0, 'new', '', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO nokey VALUES (1, 'x'), (1, 'x'), (NULL, NULL);
CREATE VIEW big_customers AS SELECT id, name FROM customers WHERE balance > 100;
CREATE TRIGGER trg_bi BEFORE INSERT ON orders FOR EACH ROW SET NEW.total = IFNULL(NEW.total, 0);
DELIMITER //
CREATE PROCEDURE add_customer(IN n VARCHAR(100)) BEGIN INSERT INTO customers (name) VALUES (n); END //
DELIMITER ;
CREATE DATABASE other;
CREATE TABLE other.t (id INT PRIMARY KEY, v VARCHAR(20));
INSERT INTO other.t VALUES (1, 'one'), (2, 'two');
`

// snapshot is what a reload must reproduce of a database: each table's
// SHOW CREATE TABLE and rows, each view, trigger and procedure.
func snapshot(t *testing.T, addr, db string, withData, withRoutines bool) string {
	t.Helper()
	q := func(sql string) string {
		return string(runClient(t, "mariadb", addr, nil, "-N", "-B", "--raw", db, "-e", sql))
	}
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(q("SHOW FULL TABLES")), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 2 {
			continue
		}
		name, kind := f[0], f[1]
		if kind == "VIEW" {
			fmt.Fprintf(&b, "view %s\n%s\n", name, q("SHOW CREATE VIEW `"+name+"`"))
			continue
		}
		fmt.Fprintf(&b, "table %s\n%s\n", name, q("SHOW CREATE TABLE `"+name+"`"))
		if withData {
			cols := strings.Fields(q("SELECT GROUP_CONCAT(column_name ORDER BY ordinal_position SEPARATOR ' ') FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = '" + name + "'"))
			for i, c := range cols {
				cols[i] = "`" + c + "`"
			}
			fmt.Fprintf(&b, "rows\n%s\n", q("SELECT * FROM `"+name+"` ORDER BY "+strings.Join(cols, ", ")))
			// Each secondary index is there (a dump disables keys while
			// it loads, then enables them) and finds the rows.
			idx := q("SELECT index_name, MIN(column_name) FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = '" + name + "' AND seq_in_index = 1 AND index_name <> 'PRIMARY' GROUP BY index_name ORDER BY 1")
			for _, line := range strings.Split(strings.TrimSpace(idx), "\n") {
				if f := strings.Split(line, "\t"); len(f) == 2 {
					fmt.Fprintf(&b, "index %s: %s", f[0], q("SELECT COUNT(*) FROM `"+name+"` FORCE INDEX (`"+f[0]+"`) WHERE `"+f[1]+"` IS NOT NULL"))
				}
			}
		}
	}
	fmt.Fprintf(&b, "triggers\n%s\n", q("SELECT trigger_name, event_manipulation, event_object_table, action_timing, action_statement FROM information_schema.triggers WHERE trigger_schema = DATABASE() ORDER BY 1"))
	if withRoutines {
		fmt.Fprintf(&b, "procedures\n%s\n", q("SELECT routine_name, routine_definition FROM information_schema.routines WHERE routine_schema = DATABASE() ORDER BY 1"))
	}
	return b.String()
}

var autoIncrement = regexp.MustCompile(` AUTO_INCREMENT=\d+`)

// TestMariaDBDump dumps with mariadb-dump under each option set the issue
// names, loads the dump with the mariadb CLI into a fresh server, and
// checks that every table, row, view, trigger, procedure and
// AUTO_INCREMENT counter came back; then dumps the copy and loads that
// again.
func TestMariaDBDump(t *testing.T) {
	requireTool(t, "mariadb")
	requireTool(t, "mariadb-dump")
	src := startServer(t, t.TempDir())
	runClient(t, "mariadb", src.addr, []byte(dumpFixture))
	if shop := snapshot(t, src.addr, "shop", true, true); !strings.Contains(shop, "AUTO_INCREMENT=5") {
		t.Fatalf("fixture: customers should be at AUTO_INCREMENT=5:\n%s", shop)
	}

	for _, c := range []struct {
		name string
		args []string
		dbs  []string // the databases the dump holds
		// single: the dump has no CREATE DATABASE (one database named
		// on the command line); it loads into dbs[0].
		single, noData bool
	}{
		{name: "default", args: []string{"shop"}, dbs: []string{"shop"}, single: true},
		{name: "routines", args: []string{"--routines", "--events", "--triggers", "shop"}, dbs: []string{"shop"}, single: true},
		{name: "single-transaction", args: []string{"--single-transaction", "shop"}, dbs: []string{"shop"}, single: true},
		{name: "databases", args: []string{"--routines", "--databases", "shop", "other"}, dbs: []string{"shop", "other"}},
		{name: "add-drop-database", args: []string{"--add-drop-database", "--databases", "shop"}, dbs: []string{"shop"}},
		{name: "no-data", args: []string{"--no-data", "shop"}, dbs: []string{"shop"}, single: true, noData: true},
		{name: "hex-blob", args: []string{"--hex-blob", "shop"}, dbs: []string{"shop"}, single: true},
		{name: "skip-extended-insert", args: []string{"--skip-extended-insert", "shop"}, dbs: []string{"shop"}, single: true},
		{name: "complete-insert", args: []string{"--complete-insert", "shop"}, dbs: []string{"shop"}, single: true},
		{name: "lock-tables", args: []string{"--lock-tables", "--databases", "shop", "other"}, dbs: []string{"shop", "other"}},
		// The mysql database's tables come as structure only, and loading
		// them leaves the server's users alone (server/mysqldb.go).
		{name: "all-databases", args: []string{"--all-databases", "--routines"}, dbs: []string{"shop", "other"}},
	} {
		// Routines are in a dump only with --routines.
		routines := strings.Contains(strings.Join(c.args, " "), "--routines")
		t.Run(c.name, func(t *testing.T) {
			dump := runClient(t, "mariadb-dump", src.addr, nil, c.args...)
			if !bytes.HasPrefix(dump, []byte("/*M!999999\\- enable the sandbox mode */")) {
				t.Errorf("dump does not start with the sandbox line: %.60q", dump)
			}
			// Load, dump the copy, load that: both copies must match.
			input := dump
			for round := 1; round <= 2; round++ {
				dst := startServer(t, t.TempDir())
				loadArgs := []string{}
				if c.single {
					runClient(t, "mariadb", dst.addr, nil, "-e", "CREATE DATABASE "+c.dbs[0])
					loadArgs = append(loadArgs, c.dbs[0])
				}
				runClient(t, "mariadb", dst.addr, input, loadArgs...)
				for _, db := range c.dbs {
					got := snapshot(t, dst.addr, db, !c.noData, routines)
					w := snapshot(t, src.addr, db, !c.noData, routines)
					if c.noData {
						// AUTO_INCREMENT is part of the structure dump
						// only as far as the server keeps it; without
						// rows, compare without it.
						got, w = autoIncrement.ReplaceAllString(got, ""), autoIncrement.ReplaceAllString(w, "")
					}
					if got != w {
						t.Fatalf("round %d: %s differs after reload:\n--- got\n%s\n--- want\n%s", round, db, got, w)
					}
				}
				input = runClient(t, "mariadb-dump", dst.addr, nil, c.args...)
				if !c.noData {
					// The counters came back: the next row gets id 5.
					out := runClient(t, "mariadb", dst.addr, nil, "-N", "shop", "-e", "INSERT INTO customers (name) VALUES ('next'); SELECT MAX(id) FROM customers")
					if strings.TrimSpace(string(out)) != "5" {
						t.Errorf("round %d: next AUTO_INCREMENT id is %q, want 5", round, out)
					}
				}
				dst.stop(t)
			}
		})
	}
}
