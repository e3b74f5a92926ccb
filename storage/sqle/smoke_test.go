package sqle

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
)

// newTestEngine returns an engine over a fresh data directory (or memory).
func newTestEngine(t *testing.T, dir string) *Engine {
	t.Helper()
	opts := Options{Dir: dir, InMemory: dir == ""}
	e, err := NewEngine(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// query runs q and returns its rows as "a|b|c" strings (NULL as "NULL").
func query(t *testing.T, e *Engine, ctx *sql.Context, q string) []string {
	t.Helper()
	res, err := e.Query(ctx, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	var out []string
	for _, r := range res.Rows {
		var parts []string
		for _, v := range r {
			if v == nil {
				parts = append(parts, "NULL")
			} else {
				parts = append(parts, *v)
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return out
}

func expectRows(t *testing.T, e *Engine, ctx *sql.Context, q string, want ...string) {
	t.Helper()
	got := query(t, e, ctx, q)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s:\n got  %q\n want %q", q, got, want)
	}
}

func TestSmoke(t *testing.T) {
	for _, dir := range []string{"", t.TempDir()} {
		e := newTestEngine(t, dir)
		ctx := e.NewContext(context.Background(), "")
		query(t, e, ctx, "CREATE DATABASE db1")
		query(t, e, ctx, "USE db1")
		query(t, e, ctx, "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20), k INT, KEY k_idx (k))")
		query(t, e, ctx, "INSERT INTO t VALUES (1, 'one', 10), (2, 'two', 20), (3, NULL, 30)")
		expectRows(t, e, ctx, "SELECT * FROM t ORDER BY id", "1|one|10", "2|two|20", "3|NULL|30")
		expectRows(t, e, ctx, "SELECT id FROM t WHERE k = 20", "2")
		expectRows(t, e, ctx, "SELECT id FROM t WHERE k > 10 ORDER BY k DESC", "3", "2")
		query(t, e, ctx, "UPDATE t SET k = 5 WHERE id = 3")
		expectRows(t, e, ctx, "SELECT id FROM t WHERE k < 15 ORDER BY k", "3", "1")
		query(t, e, ctx, "DELETE FROM t WHERE id = 1")
		expectRows(t, e, ctx, "SELECT count(*) FROM t", "2")
		if _, err := e.Query(ctx, "INSERT INTO t VALUES (2, 'dup', 1)"); err == nil {
			t.Fatal("duplicate key accepted")
		}
	}
}

// CREATE DATABASE refuses names that are not plain directory names, with a
// message saying why, and DROP DATABASE removes the directory.
func TestDatabaseNames(t *testing.T) {
	dir := t.TempDir()
	e := newTestEngine(t, dir)
	ctx := e.NewContext(context.Background(), "")
	for _, name := range []string{"`a/b`", "`..`", "`.hidden`", "`a\\\\b`"} {
		_, err := e.Query(ctx, "CREATE DATABASE "+name)
		if err == nil || !strings.Contains(err.Error(), "invalid database name") {
			t.Errorf("CREATE DATABASE %s: %v", name, err)
		}
	}
	query(t, e, ctx, "CREATE DATABASE good")
	if _, err := os.Stat(filepath.Join(dir, "good", ".cairn", "store")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Query(ctx, "CREATE DATABASE GOOD"); err == nil {
		t.Fatal("CREATE DATABASE of an existing name (other case) succeeded")
	}
	query(t, e, ctx, "DROP DATABASE good")
	if _, err := os.Stat(filepath.Join(dir, "good")); !os.IsNotExist(err) {
		t.Fatalf("dropped database's directory: %v", err)
	}
}
