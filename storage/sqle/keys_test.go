package sqle

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
)

// indexOf returns the entry count and hash of index name of table, and
// whether the schema has it disabled.
func indexOf(t *testing.T, e *Engine, ctx *sql.Context, table, name string) (uint64, string, bool) {
	t.Helper()
	db, err := e.Provider.Database(ctx, ctx.GetCurrentDatabase())
	if err != nil {
		t.Fatal(err)
	}
	td, ok, err := db.(*Database).tableData(ctx, table)
	if err != nil || !ok {
		t.Fatalf("table %s: %v, %v", table, ok, err)
	}
	m, il, ok := td.indexMap(name)
	if !ok {
		t.Fatalf("table %s has no index %s", table, name)
	}
	return m.Count(), m.Hash().String(), il.def.Disabled
}

// ALTER TABLE … DISABLE KEYS stops keeping the non-unique indexes (not the
// unique ones, nor one a foreign key may use), queries give the same rows
// without them, and ENABLE KEYS builds them: to the very index that
// keeping it all along gives.
func TestDisableEnableKeys(t *testing.T) {
	dir := t.TempDir()
	e := newTestEngine(t, dir)
	ctx := e.NewContext(context.Background(), "")
	query(t, e, ctx, "CREATE DATABASE db")
	query(t, e, ctx, "USE db")
	query(t, e, ctx, "CREATE TABLE p (id INT PRIMARY KEY)")
	query(t, e, ctx, "INSERT INTO p VALUES (1), (2), (3)")
	for _, name := range []string{"t", "ref"} {
		query(t, e, ctx, "CREATE TABLE "+name+` (id INT PRIMARY KEY, k INT, c VARCHAR(20), u INT, pid INT,
			KEY k_1 (k), KEY kc (k, c), UNIQUE KEY uu (u), KEY by_p (pid, k),
			CONSTRAINT `+name+`_fk FOREIGN KEY (pid) REFERENCES p (id))`)
	}
	query(t, e, ctx, "ALTER TABLE t DISABLE KEYS")
	for _, ix := range []string{"k_1", "kc"} {
		if n, _, disabled := indexOf(t, e, ctx, "t", ix); !disabled || n != 0 {
			t.Fatalf("index %s after DISABLE KEYS: disabled %v, %d entries", ix, disabled, n)
		}
	}
	for _, ix := range []string{"uu", "by_p"} {
		if _, _, disabled := indexOf(t, e, ctx, "t", ix); disabled {
			t.Fatalf("index %s was disabled", ix)
		}
	}
	// The same writes to both tables.
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 40 {
		var stmt string
		switch i % 4 {
		case 0, 1:
			var vals []string
			for j := range 50 {
				id := i*50 + j
				vals = append(vals, fmt.Sprintf("(%d, %d, 'c%d', %d, %d)", id, rng.IntN(100), rng.IntN(7), id, 1+rng.IntN(3)))
			}
			stmt = "INSERT INTO %s VALUES " + strings.Join(vals, ",")
		case 2:
			stmt = fmt.Sprintf("UPDATE %%s SET k = k + 1, c = 'x' WHERE MOD(id, 7) = %d", rng.IntN(7))
		case 3:
			stmt = fmt.Sprintf("DELETE FROM %%s WHERE k = %d", rng.IntN(100))
		}
		query(t, e, ctx, fmt.Sprintf(stmt, "t"))
		query(t, e, ctx, fmt.Sprintf(stmt, "ref"))
	}
	if n, _, _ := indexOf(t, e, ctx, "t", "k_1"); n != 0 {
		t.Fatalf("a disabled index took %d entries", n)
	}
	// Unique indexes are still enforced.
	if _, err := e.Query(ctx, "INSERT INTO t VALUES (100000, 1, 'c', 0, 1)"); err == nil || !strings.Contains(err.Error(), "duplicate unique key") {
		t.Fatalf("a duplicate in a unique index while keys are disabled: %v", err)
	}
	for _, where := range []string{"k = 5", "k BETWEEN 10 AND 20", "k > 90 AND c = 'x'", "pid = 2 AND k < 10"} {
		expectRows(t, e, ctx, "SELECT COUNT(*), SUM(id) FROM t WHERE "+where, query(t, e, ctx, "SELECT COUNT(*), SUM(id) FROM ref WHERE "+where)...)
	}
	// The engine is not shown a disabled index: plans never read it, even
	// when told to (FORCE INDEX of an index it does not know is ignored).
	expectRows(t, e, ctx, "SELECT COUNT(*), SUM(id) FROM t FORCE INDEX (k_1) WHERE k = 5", query(t, e, ctx, "SELECT COUNT(*), SUM(id) FROM ref WHERE k = 5")...)
	expectRows(t, e, ctx, "SELECT id FROM t WHERE k < 3 ORDER BY k, id LIMIT 5", query(t, e, ctx, "SELECT id FROM ref WHERE k < 3 ORDER BY k, id LIMIT 5")...)
	expectRows(t, e, ctx, "SELECT COUNT(*) FROM t a JOIN t b ON a.k = b.k WHERE a.id < 100", query(t, e, ctx, "SELECT COUNT(*) FROM ref a JOIN ref b ON a.k = b.k WHERE a.id < 100")...)
	// SHOW CREATE TABLE still has it, so a dump recreates it.
	if got := query(t, e, ctx, "SHOW CREATE TABLE t"); !strings.Contains(got[0], "KEY `k_1` (`k`)") {
		t.Fatalf("SHOW CREATE TABLE while disabled: %s", got[0])
	}
	query(t, e, ctx, "ALTER TABLE t DISABLE KEYS") // again: nothing to do

	// The state is stored: it holds after a restart.
	e.Close()
	e = newTestEngine(t, dir)
	ctx = e.NewContext(context.Background(), "")
	query(t, e, ctx, "USE db")
	if _, _, disabled := indexOf(t, e, ctx, "t", "k_1"); !disabled {
		t.Fatal("k_1 is enabled after a restart")
	}
	query(t, e, ctx, "ALTER TABLE t ENABLE KEYS")
	for _, ix := range []string{"k_1", "kc", "uu", "by_p"} {
		n, h, disabled := indexOf(t, e, ctx, "t", ix)
		wn, wh, _ := indexOf(t, e, ctx, "ref", ix)
		if disabled || n != wn || h != wh {
			t.Fatalf("index %s after ENABLE KEYS: disabled %v, %d entries %s; kept all along: %d entries %s", ix, disabled, n, h, wn, wh)
		}
	}
	expectRows(t, e, ctx, "SELECT COUNT(*) FROM t FORCE INDEX (k_1) WHERE k >= 0", query(t, e, ctx, "SELECT COUNT(*) FROM ref")...)
	query(t, e, ctx, "ALTER TABLE t ENABLE KEYS") // again: nothing to do
}

// A disabled index stays empty through schema changes, and a prepared
// statement planned on the index does not read it once it is disabled.
func TestDisabledKeysAcrossSchemaChanges(t *testing.T) {
	e := newTestEngine(t, t.TempDir())
	ctx := e.NewContext(context.Background(), "")
	query(t, e, ctx, "CREATE DATABASE db")
	query(t, e, ctx, "USE db")
	query(t, e, ctx, "CREATE TABLE t (id INT PRIMARY KEY, k INT, v INT, KEY k_1 (k))")
	query(t, e, ctx, "INSERT INTO t VALUES (1, 10, 1), (2, 20, 2), (3, 10, 3)")
	query(t, e, ctx, "ALTER TABLE t DISABLE KEYS")
	query(t, e, ctx, "INSERT INTO t VALUES (4, 10, 4)")
	query(t, e, ctx, "ALTER TABLE t ADD COLUMN w INT DEFAULT 7")       // rewrites every row
	query(t, e, ctx, "ALTER TABLE t MODIFY COLUMN v BIGINT")           // and again
	query(t, e, ctx, "ALTER TABLE t ADD INDEX kv (k, v), COMMENT 'x'") // a new index is kept
	// The engine checks index names against the indexes it is shown.
	for _, q := range []string{"ALTER TABLE t RENAME INDEX k_1 TO k_one", "DROP INDEX k_1 ON t"} {
		if _, err := e.Query(ctx, q); !sql.ErrCantDropFieldOrKey.Is(err) {
			t.Fatalf("%s while disabled: %v", q, err)
		}
	}
	if _, err := e.Query(ctx, "ALTER TABLE t ADD INDEX k_1 (v)"); err == nil || !strings.Contains(err.Error(), "k_1") {
		t.Fatalf("an index named as a disabled one: %v", err)
	}
	// CREATE TABLE … LIKE copies it, enabled (the new table is empty).
	query(t, e, ctx, "CREATE TABLE t2 LIKE t")
	if got := query(t, e, ctx, "SHOW CREATE TABLE t2"); !strings.Contains(got[0], "KEY `k_1` (`k`)") {
		t.Fatalf("CREATE TABLE LIKE: %s", got[0])
	}
	query(t, e, ctx, "INSERT INTO t2 SELECT * FROM t")
	expectRows(t, e, ctx, "SELECT id FROM t2 FORCE INDEX (k_1) WHERE k = 10 ORDER BY id", "1", "3", "4")
	if n, _, disabled := indexOf(t, e, ctx, "t", "k_1"); !disabled || n != 0 {
		t.Fatalf("after schema changes: disabled %v, %d entries", disabled, n)
	}
	if n, _, disabled := indexOf(t, e, ctx, "t", "kv"); disabled || n != 4 {
		t.Fatalf("index added while keys were disabled: disabled %v, %d entries", disabled, n)
	}
	expectRows(t, e, ctx, "SELECT id, w FROM t WHERE k = 10 ORDER BY id", "1|7", "3|7", "4|7")
	query(t, e, ctx, "ALTER TABLE t ENABLE KEYS")
	if n, _, disabled := indexOf(t, e, ctx, "t", "k_1"); disabled || n != 4 {
		t.Fatalf("after ENABLE KEYS: disabled %v, %d entries", disabled, n)
	}
	expectRows(t, e, ctx, "SELECT id FROM t FORCE INDEX (k_1) WHERE k = 10 ORDER BY id", "1", "3", "4")
	query(t, e, ctx, "ALTER TABLE t DISABLE KEYS")
	query(t, e, ctx, "ALTER TABLE t DROP COLUMN k") // drops the disabled index with its column
	query(t, e, ctx, "ALTER TABLE t ENABLE KEYS")
	expectRows(t, e, ctx, "SELECT COUNT(*) FROM t FORCE INDEX (kv) WHERE v > 0", "4")
}
