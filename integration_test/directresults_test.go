package integration_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dolthub/vitess/go/mysql"
)

// directSetup makes the same data on both servers of TestDirectResults:
// a column of most types, NULLs, more rows than one batch (128), and a
// row 300 whose j is not JSON, so a query can fail after two batches.
var directSetup = func() []string {
	stmts := []string{
		"CREATE DATABASE d",
		"USE d",
		`CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, u BIGINT UNSIGNED NOT NULL, dec_ DECIMAL(12,3),
		  f FLOAT, dbl DOUBLE, s VARCHAR(40) COLLATE utf8mb4_general_ci, c CHAR(5), tx TEXT, bl BLOB,
		  vb VARBINARY(8), d DATE, dt DATETIME(3), ts TIMESTAMP, tm TIME, y YEAR, bt BIT(8),
		  e ENUM('x','y','z'), st SET('a','b'), js JSON, j VARCHAR(40), KEY (u))`,
		"CREATE TABLE nothing (id INT PRIMARY KEY)",
	}
	var vals []string
	for i := 1; i <= 300; i++ {
		j := fmt.Sprintf(`'{"n": %d}'`, i)
		if i == 300 {
			j = "'not json'"
		}
		if i%7 == 0 {
			vals = append(vals, fmt.Sprintf("(%d, %d, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, %s)", i, i, j))
			continue
		}
		vals = append(vals, fmt.Sprintf("(%d, %d, %d.%03d, %d.25, %d.125e10, 'Zoë %d', 'c%d', REPEAT('t', %d), UNHEX('00ff%02x'), 'vb%d', "+
			"'2024-02-%02d', '2024-02-%02d 13:14:15.%03d', '2024-03-%02d 01:02:03', '%d:05:06', %d, b'%08b', '%s', '%s', '{\"k\": [%d, true, null]}', %s)",
			i, uint64(1)<<63+uint64(i), i, i, i, i, i, i, i%50, i%256, i, i%28+1, i%28+1, i, i%28+1, i%24, 1901+i%200, i%256,
			[]string{"x", "y", "z"}[i%3], []string{"", "a", "b", "a,b"}[i%4], i, j))
	}
	return append(stmts, "INSERT INTO t VALUES "+strings.Join(vals, ", "))
}()

// directQueries are text-protocol statements, single and multi, whose
// answers (column definitions, values, status flags, warnings, errors)
// must be byte for byte the same whether the server sends the rows of
// SELECTs itself or through go-mysql-server's handler.
var directQueries = []string{
	"SELECT * FROM t",
	"SELECT * FROM t ORDER BY id DESC LIMIT 200",
	"SELECT id, u + 1, dec_ * 2, f, dbl / 3, CONCAT(s, '!'), LENGTH(bl), HEX(vb), bt + 0, e, st, js->'$.k[0]' FROM t WHERE id BETWEEN 5 AND 140",
	"SELECT 1",
	"SELECT 1, 'a', NULL, 2.5, NOW() IS NOT NULL",
	"SELECT COUNT(*), SUM(dec_), MIN(d), MAX(dt), AVG(f), GROUP_CONCAT(c ORDER BY id SEPARATOR '') FROM t",
	"SELECT * FROM nothing",
	"SELECT * FROM t WHERE id = 12",
	"SELECT * FROM t WHERE id = 100000",
	"SELECT a.id, b.id FROM t a JOIN t b ON b.id = a.id + 1 WHERE a.id < 150",
	"SELECT id FROM t WHERE u IN (SELECT u FROM t WHERE id % 10 = 0)",
	"WITH x AS (SELECT id, s FROM t WHERE id < 20) SELECT * FROM x ORDER BY s",
	"SELECT @@version_comment, @@autocommit, DATABASE(), @@character_set_results",
	"SELECT id, JSON_EXTRACT(j, '$.n') FROM t",
	"SELECT nosuch FROM t",
	"SELECT * FROM nosuch",
	"SELECT 1/0, CAST('x' AS SIGNED)",
	"SELECT id INTO @v FROM t WHERE id = 3",
	"SELECT @v",
	"SELECT 1; SELECT * FROM t LIMIT 130; SELECT 2",
	"SELECT * FROM t LIMIT 129; INSERT INTO nothing VALUES (1); SELECT COUNT(*) FROM nothing; DELETE FROM nothing",
	"SELECT 1; SELECT nosuch; SELECT 3",
	"SELECT id, JSON_EXTRACT(j, '$.n') FROM t; SELECT 'never'",
	"BEGIN; SELECT COUNT(*) FROM t; SELECT * FROM t WHERE id < 3 FOR UPDATE; COMMIT",
	"SET autocommit = 0; SELECT id FROM t LIMIT 2; ROLLBACK; SET autocommit = 1",
	"SET NAMES latin1; SELECT s, c, bl FROM t WHERE id < 5; SET NAMES utf8mb4",
	"SET character_set_results = NULL; SELECT s FROM t WHERE id = 1; SET character_set_results = utf8mb4",
	"  SELECT id FROM t WHERE id = 1 ;  ",
	"/* comment */ SELECT id FROM t WHERE id = 2",
	"SELECT 1 UNION SELECT 2",
	"(SELECT id FROM t WHERE id < 3)",
	"SHOW TABLES",
	"",
}

// answer is everything a client is told in reply to one COM_QUERY packet,
// printed. An error in the middle of a result closes the connection (the
// protocol layer cannot send it after rows): c is then connected again.
func answer(t *testing.T, s *server, c **mysql.Conn, query string) string {
	t.Helper()
	var b strings.Builder
	res, status, err := (*c).ExecuteFetchMulti(context.Background(), query, 100000, true)
	for {
		if err != nil {
			fmt.Fprintf(&b, "error: %v\n", err)
			break
		}
		fmt.Fprintf(&b, "status %#x affected %d insert id %d info %q\n", status, res.RowsAffected, res.InsertID, res.Info)
		for _, f := range res.Fields {
			fmt.Fprintf(&b, "field %v\n", f)
		}
		for _, row := range res.Rows {
			for _, v := range row {
				if v.IsNull() {
					b.WriteString("NULL\t")
				} else {
					fmt.Fprintf(&b, "%v %q\t", v.Type(), v.Raw())
				}
			}
			b.WriteString("\n")
		}
		if status&mysql.ServerMoreResultsExists == 0 {
			break
		}
		var warnings uint16
		res, status, warnings, err = (*c).ReadQueryResult(context.Background(), 100000, true)
		fmt.Fprintf(&b, "warnings %d\n", warnings)
	}
	w, err := (*c).ExecuteFetch("SHOW WARNINGS", 100, false)
	if err != nil {
		fmt.Fprintf(&b, "connection closed\n")
		*c = connectRaw(t, s, "d")
		return b.String()
	}
	fmt.Fprintf(&b, "warnings %v\n", w.Rows)
	return b.String()
}

func connectRaw(t *testing.T, s *server, db string) *mysql.Conn {
	t.Helper()
	host, port, _ := net.SplitHostPort(s.addr)
	p, _ := strconv.Atoi(port)
	c, err := mysql.Connect(context.Background(), &mysql.ConnParams{Host: host, Port: p, Uname: "root", DbName: db})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// startBoth starts two servers with directSetup's data: one sending the
// rows of SELECTs itself, one through go-mysql-server's handler.
func startBoth(t *testing.T) (direct, handler *server) {
	cfg := filepath.Join(t.TempDir(), "handler.yaml")
	if err := os.WriteFile(cfg, []byte("behavior:\n  direct_results: false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	direct = startServer(t, t.TempDir())
	handler = startServer(t, t.TempDir(), "--config", cfg)
	for _, s := range []*server{direct, handler} {
		c := connectRaw(t, s, "")
		for _, q := range directSetup {
			if _, err := c.ExecuteFetch(q, 0, false); err != nil {
				t.Fatalf("%.60s: %.300v", q, err)
			}
		}
	}
	return direct, handler
}

// TestDirectResults compares the server's own sending of SELECT results
// (results.go) with go-mysql-server's handler, on two servers with the
// same data, over the wire.
func TestDirectResults(t *testing.T) {
	direct, handler := startBoth(t)
	dc, hc := connectRaw(t, direct, "d"), connectRaw(t, handler, "d")
	for _, q := range directQueries {
		want := answer(t, handler, &hc, q)
		got := answer(t, direct, &dc, q)
		if got != want {
			gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
			for i := 0; i < len(gl) && i < len(wl); i++ {
				if gl[i] != wl[i] {
					t.Errorf("%q: line %d differs:\ndirect:  %.300s\nhandler: %.300s", q, i, gl[i], wl[i])
					break
				}
			}
			if len(gl) != len(wl) {
				t.Errorf("%q: %d lines sent directly, %d by the handler", q, len(gl), len(wl))
			}
		}
		if testing.Verbose() {
			t.Logf("%q:\n%.2000s", q, got)
		}
	}
}

// KILL QUERY stops a SELECT whose rows the server is sending itself, and
// the connection goes on.
func TestDirectResultsKillQuery(t *testing.T) {
	s := startServer(t, t.TempDir())
	c := connectRaw(t, s, "")
	for _, q := range directSetup {
		if _, err := c.ExecuteFetch(q, 0, false); err != nil {
			t.Fatalf("%.60s: %.300v", q, err)
		}
	}
	id := c.ID()
	killer := connectRaw(t, s, "")
	for _, q := range []string{
		"SELECT SLEEP(30)",
		// Rows are sent while the statement is killed.
		"SELECT a.id, SLEEP(0.01) FROM t a, t b",
	} {
		done := make(chan error, 1)
		start := time.Now()
		go func() {
			_, err := c.ExecuteFetch(q, 1<<30, false)
			done <- err
		}()
		time.Sleep(300 * time.Millisecond)
		if _, err := killer.ExecuteFetch(fmt.Sprintf("KILL QUERY %d", id), 0, false); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if q == "SELECT SLEEP(30)" {
				// MySQL's SLEEP returns 1 when interrupted; the
				// engine's fails.
				if err != nil {
					t.Logf("%s: %v", q, err)
				}
			} else if sqlErr, ok := err.(*mysql.SQLError); !ok || sqlErr.Num != mysql.ERQueryInterrupted {
				t.Errorf("%s: killed: %v, want error %d", q, err, mysql.ERQueryInterrupted)
			}
			t.Logf("%s: stopped %v after it started", q, time.Since(start).Round(time.Millisecond))
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: still running 10 s after KILL QUERY", q)
		}
		r, err := c.ExecuteFetch("SELECT COUNT(*) FROM d.t", 1, false)
		if err != nil || r.Rows[0][0].ToString() != "300" {
			t.Fatalf("the connection after KILL QUERY: %v, %v", r, err)
		}
	}
}
