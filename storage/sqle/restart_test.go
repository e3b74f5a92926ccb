package sqle

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// A schema using every persisted feature, with data, reads back identically
// after the engine is closed and opened again: SHOW CREATE TABLE, triggers,
// procedures, views, events and every row.
func TestRestartKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	setup := []string{
		"CREATE DATABASE shop",
		"USE shop",
		`CREATE TABLE customers (
			id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
			email VARCHAR(100) COLLATE utf8mb4_0900_ai_ci NOT NULL COMMENT 'login',
			name VARCHAR(50) DEFAULT 'anon',
			created DATETIME(6) DEFAULT CURRENT_TIMESTAMP(6),
			PRIMARY KEY (id),
			UNIQUE KEY email_uq (email)
		) COMMENT='people who buy'`,
		`CREATE TABLE orders (
			id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
			customer_id BIGINT UNSIGNED NOT NULL,
			amount DECIMAL(12,3) NOT NULL,
			status ENUM('new','paid','shipped') NOT NULL DEFAULT 'new',
			flags SET('gift','rush') DEFAULT NULL,
			bits BIT(5),
			tiny TINYINT, small SMALLINT UNSIGNED, medium MEDIUMINT, f FLOAT, d DOUBLE,
			day DATE, tm TIME, yr YEAR, ts TIMESTAMP NULL,
			note TEXT, data BLOB, bin VARBINARY(16), ch CHAR(3),
			doc JSON,
			pt POINT, geo GEOMETRY,
			total DECIMAL(14,3) AS (amount * 2) VIRTUAL,
			stored_total DECIMAL(14,3) AS (amount + 1) STORED,
			KEY by_customer (customer_id, status),
			KEY by_note (note(10)),
			CONSTRAINT fk_customer FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE,
			CONSTRAINT positive CHECK (amount >= 0)
		)`,
		"CREATE TABLE log_lines (line VARCHAR(200), at INT)",
		"INSERT INTO customers (email, name) VALUES ('ada@example.com', 'Ada'), ('bob@example.com', NULL)",
		`INSERT INTO orders (customer_id, amount, status, flags, bits, tiny, small, medium, f, d, day, tm, yr, ts, note, data, bin, ch, doc, pt, geo)
		 VALUES (1, 12.5, 'paid', 'gift,rush', b'10101', -5, 65000, -8000000, 1.5, 2.25, '2024-02-29', '12:34:56', 2024, '2024-01-02 03:04:05',
		         'a long note indeed', x'00ff10', x'cafe', 'abc', '{"b": [1, 2.5, "x"], "a": null}', POINT(1, 2), ST_GeomFromText('LINESTRING(0 0, 1 1)')),
		        (2, 0, 'new', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
		"INSERT INTO log_lines VALUES ('same', 1), ('same', 1), ('other', 2)",
		"CREATE VIEW paid_orders AS SELECT id, amount FROM orders WHERE status = 'paid'",
		"CREATE TRIGGER order_log AFTER INSERT ON orders FOR EACH ROW INSERT INTO log_lines VALUES (concat('order ', NEW.id), NEW.id)",
		"CREATE PROCEDURE count_orders(OUT n INT) BEGIN SELECT count(*) INTO n FROM orders; END",
		"CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM log_lines WHERE at < 0",
		"ALTER TABLE customers AUTO_INCREMENT = 100",
	}
	checks := []string{
		"SHOW CREATE TABLE customers",
		"SHOW CREATE TABLE orders",
		"SHOW CREATE TABLE log_lines",
		"SHOW CREATE VIEW paid_orders",
		"SHOW TRIGGERS",
		"SHOW CREATE TRIGGER order_log",
		"SHOW PROCEDURE STATUS WHERE Db = 'shop'",
		"SHOW CREATE PROCEDURE count_orders",
		"SHOW EVENTS",
		"SHOW INDEXES FROM customers",
		"SELECT * FROM customers ORDER BY id",
		"SELECT id, customer_id, amount, status, flags, bits, tiny, small, medium, f, d, day, tm, yr, ts, note, hex(data), hex(bin), ch, doc, ST_AsText(pt), ST_AsText(geo), total, stored_total FROM orders ORDER BY id",
		"SELECT * FROM log_lines ORDER BY line, at",
		"SELECT * FROM paid_orders",
		"SELECT id FROM customers WHERE email = 'ADA@example.com'",
		"SELECT id FROM orders WHERE note LIKE 'a long%'",
	}
	snapshot := func(e *Engine) string {
		ctx := e.NewContext(context.Background(), "shop")
		var b strings.Builder
		for _, q := range checks {
			fmt.Fprintf(&b, "%s\n%s\n", q, strings.Join(query(t, e, ctx, q), "\n"))
		}
		return b.String()
	}

	e, err := NewEngine(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx := e.NewContext(context.Background(), "")
	for _, q := range setup {
		query(t, e, ctx, q)
	}
	before := snapshot(e)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	e2 := newTestEngine(t, dir)
	after := snapshot(e2)
	if before != after {
		t.Fatalf("after restart:\n%s\nbefore:\n%s", after, before)
	}
	// Auto-increment continues where it was, and the trigger still fires.
	ctx2 := e2.NewContext(context.Background(), "shop")
	query(t, e2, ctx2, "INSERT INTO customers (email) VALUES ('cy@example.com')")
	expectRows(t, e2, ctx2, "SELECT id FROM customers WHERE email = 'cy@example.com'", "100")
	query(t, e2, ctx2, "INSERT INTO orders (customer_id, amount) VALUES (100, 1)")
	expectRows(t, e2, ctx2, "SELECT line FROM log_lines WHERE at = 3", "order 3")
	if _, err := e2.Query(ctx2, "INSERT INTO customers (email) VALUES ('ADA@EXAMPLE.COM')"); err == nil {
		t.Fatal("case-insensitive unique key accepted a duplicate")
	}
	t.Log(before)
}
