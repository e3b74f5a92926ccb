package integration_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// Prepared statements run from the connection's plan cache give what a
// fresh plan gives, across a schema change, a dropped table and a revoked
// grant between two executions of one prepared statement.
func TestPreparedPlanCache(t *testing.T) {
	s := startServer(t, filepath.Join(t.TempDir(), "data"))
	root := s.connect(t, "root", "", "")
	mustExec(t, root, "CREATE DATABASE shop")
	mustExec(t, root, "CREATE TABLE shop.t (id INT PRIMARY KEY, k INT, c VARCHAR(20), KEY (k))")
	for i := 1; i <= 100; i++ {
		mustExec(t, root, "INSERT INTO shop.t VALUES (?, ?, ?)", i, i%10, fmt.Sprintf("c%d", i))
	}
	mustExec(t, root, "CREATE USER reader IDENTIFIED BY 'pw'")
	mustExec(t, root, "GRANT SELECT ON shop.* TO reader")

	ctx := context.Background()
	conn, err := s.connect(t, "reader", "pw", "shop").Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	point, err := conn.PrepareContext(ctx, "SELECT c FROM t WHERE id = ?")
	if err != nil {
		t.Fatal(err)
	}
	// Surrounding spaces and a semicolon, as sysbench's statements have.
	ranges, err := conn.PrepareContext(ctx, "\n    SELECT COUNT(*), SUM(k) FROM t WHERE id BETWEEN ? AND ? OR id BETWEEN ? AND ?;  ")
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		for id := -2; id <= 103; id++ {
			var c string
			err := point.QueryRowContext(ctx, id).Scan(&c)
			want := fmt.Sprintf("c%d", id)
			if id < 1 || id > 100 {
				if err == nil {
					t.Fatalf("%s: id %d: got %q, want no row", when, id, c)
				}
				continue
			}
			if err != nil || c != want {
				t.Fatalf("%s: id %d: %q, %v", when, id, c, err)
			}
		}
		for _, a := range [][4]int{{1, 10, 20, 30}, {20, 30, 1, 10}, {5, 50, 40, 60}, {50, 5, 7, 7}, {90, 120, -5, 2}} {
			var n int
			var sum *int
			if err := ranges.QueryRowContext(ctx, a[0], a[1], a[2], a[3]).Scan(&n, &sum); err != nil {
				t.Fatalf("%s: ranges %v: %v", when, a, err)
			}
			wantN, wantSum := 0, 0
			for id := 1; id <= 100; id++ {
				if id >= a[0] && id <= a[1] || id >= a[2] && id <= a[3] {
					wantN++
					wantSum += id % 10
				}
			}
			if n != wantN || (sum == nil) != (wantN == 0) || sum != nil && *sum != wantSum {
				t.Fatalf("%s: ranges %v: %d rows summing to %v, want %d and %d", when, a, n, sum, wantN, wantSum)
			}
		}
	}
	check("first executions")
	mustExec(t, root, "UPDATE shop.t SET c = CONCAT('c', id)") // no change, a new root
	mustExec(t, root, "ALTER TABLE shop.t ADD COLUMN z INT FIRST")
	check("after ALTER TABLE")

	mustExec(t, root, "REVOKE SELECT ON shop.* FROM reader")
	var c string
	err = point.QueryRowContext(ctx, 1).Scan(&c)
	wantError(t, "a prepared select after REVOKE", err, mysqlError{1142, "42000", "SELECT command denied to user 'reader'@'localhost' for table 't'"})
	mustExec(t, root, "GRANT SELECT ON shop.* TO reader")
	check("after GRANT")

	mustExec(t, root, "DROP TABLE shop.t")
	err = point.QueryRowContext(ctx, 1).Scan(&c)
	wantError(t, "a prepared select of a dropped table", err, mysqlError{1146, "42S02", "Table 'shop.t' doesn't exist"})
}
