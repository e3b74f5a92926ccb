package sqle

import (
	"context"
	"strings"
	"testing"
)

// knownPanic reports panics found before, in code that is not ours: they
// are reported to the client as errors, and left for upstream.
func knownPanic(msg string) bool {
	// vitess's trimQuotes slices a lone quote character: SELECT''.
	return strings.Contains(msg, "slice bounds out of range [1:0]")
}

// FuzzSQL runs arbitrary statements through the whole engine on a small
// database: each must give a result or an error; a panic escaping a query
// fails the test (the server would lose the connection, or worse).
func FuzzSQL(f *testing.F) {
	for _, s := range []string{
		"SELECT * FROM t WHERE id = 1",
		"INSERT INTO t VALUES (3, 'c', 3.5)",
		"UPDATE t SET v = CONCAT(v, 'x') WHERE id > 0",
		"DELETE FROM t WHERE v LIKE 'a%'",
		"SELECT v, COUNT(*) FROM t GROUP BY v HAVING COUNT(*) > 0 ORDER BY 1 DESC LIMIT 2",
		"ALTER TABLE t ADD COLUMN w INT DEFAULT 7",
		"CREATE INDEX iv ON t (v)",
		"SELECT * FROM t AS OF 'HEAD'",
		"CALL dolt_commit('-Am', 'x')",
		"SELECT * FROM dolt_diff_t",
		"SELECT * FROM dolt_diff('HEAD', 'WORKING', 't')",
		"SELECT hashof('main~1')",
		"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT * FROM r",
		"SELECT CAST(d AS DECIMAL(5,2)) / 0, TRUNCATE(d, -1), ROUND(d, 40) FROM t",
		"SELECT JSON_EXTRACT('{\"a\": [1, 2]}', '$.a[1]')",
	} {
		f.Add(s)
	}
	e, err := NewEngine(context.Background(), Options{InMemory: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { e.Close() })
	setup := e.NewContext(context.Background(), "")
	for _, q := range []string{"CREATE DATABASE fz", "USE fz", "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20), d DOUBLE)", "INSERT INTO t VALUES (1, 'a', 1.5), (2, 'b', NULL)"} {
		if _, err := e.Query(setup, q); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, q string) {
		if len(q) > 2000 {
			return
		}
		ctx := e.NewContext(context.Background(), "fz")
		_, err := e.Query(ctx, q) // QueryEach turns a panic into an error
		if err != nil && strings.Contains(err.Error(), "internal error in this statement") && !knownPanic(err.Error()) {
			t.Fatalf("%q panicked: %v", q, err)
		}
	})
}
