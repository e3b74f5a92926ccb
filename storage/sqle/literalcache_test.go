package sqle

import (
	"context"
	"fmt"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
)

// The parsed form of a column default that is a literal is kept and
// shared; anything else is parsed each time. The defaults still come out
// right, from many sessions at once.
func TestLiteralSelectsCached(t *testing.T) {
	installDDLParser()
	p := sql.GlobalParser
	for _, tc := range []struct {
		query  string
		cached bool
	}{
		{"SELECT '0'", true},
		{"SELECT 12.5", true},
		{"SELECT NULL", true},
		{"SELECT TRUE", true},
		{"SELECT x'4142'", true},
		{"SELECT NOW()", false},
		{"SELECT -1", true},
		{"SELECT 1 + 1", false},
		{"SELECT '1' FROM t", false},
		{"SELECT '1', '2'", false},
		{"SELECT '1' WHERE 1 = 0", false},
	} {
		a, err := p.ParseSimple(tc.query)
		if err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		b, err := p.ParseSimple(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		if got := a == b; got != tc.cached {
			t.Errorf("%s: parsed once and shared %v, want %v", tc.query, got, tc.cached)
		}
	}

	e := newTestEngine(t, "")
	ctx := e.NewContext(context.Background(), "")
	query(t, e, ctx, "CREATE DATABASE d")
	query(t, e, ctx, "CREATE TABLE d.t (id INT PRIMARY KEY, k INT NOT NULL DEFAULT '7', c CHAR(5) NOT NULL DEFAULT 'ab', f DOUBLE DEFAULT 1.5, n INT DEFAULT NULL, b BINARY(2) DEFAULT x'4142')")
	done := make(chan error, 4)
	for w := range 4 {
		go func() {
			c := e.NewContext(context.Background(), "d")
			for i := range 50 {
				if _, err := e.Query(c, fmt.Sprintf("INSERT INTO t (id) VALUES (%d)", w*100+i)); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	expectRows(t, e, ctx, "SELECT count(*), min(k), max(k), min(c), max(c), min(f), max(f), count(n), min(hex(b)) FROM d.t", "200|7|7|ab|ab|1.5|1.5|0|4142")
}
