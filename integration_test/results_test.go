package integration_test

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// peakRSS returns process pid's peak resident memory (VmHWM) in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

// A large result streams through the server in bounded memory: a
// 300 MB SELECT over the text protocol, read by the Go driver and by the
// mariadb client, raises the server's peak memory by far less than the
// result's size. go-mysql-server v0.20.0 alone kept every row's text in one
// buffer until the statement ended (server.releaseSpooledRows).
func TestLargeResultMemory(t *testing.T) {
	s := startServer(t, t.TempDir())
	root := s.connect(t, "root", "", "")
	mustExec(t, root, "CREATE DATABASE big")
	db := s.connect(t, "root", "", "big")
	mustExec(t, db, "CREATE TABLE t (n INT PRIMARY KEY)")
	var vals []string
	for i := range 550 {
		vals = append(vals, fmt.Sprintf("(%d)", i))
	}
	mustExec(t, db, "INSERT INTO t VALUES "+strings.Join(vals, ","))
	const query = "SELECT a.n, b.n, REPEAT('x', 1000) FROM t a, t b ORDER BY a.n, b.n"
	const rows, resultBytes = 550 * 550, 550 * 550 * 1000

	pid := s.cmd.Process.Pid
	measure := func(name string, read func()) {
		t.Helper()
		if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
			t.Fatalf("reset the peak memory: %v", err)
		}
		before := peakRSS(t, pid)
		read()
		grew := peakRSS(t, pid) - before
		t.Logf("%s: %d rows of about %d MB, peak memory grew by %d MB", name, rows, resultBytes>>20, grew>>20)
		if grew > resultBytes/3 {
			t.Errorf("%s: the server's peak memory grew by %d MB for a %d MB result", name, grew>>20, resultBytes>>20)
		}
	}

	measure("Go driver", func() {
		r, err := db.Query(query)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		n := 0
		var a, b int
		var x string
		for r.Next() {
			if err := r.Scan(&a, &b, &x); err != nil {
				t.Fatal(err)
			}
			if a != n/550 || b != n%550 || len(x) != 1000 {
				t.Fatalf("row %d: %d, %d, %d bytes", n, a, b, len(x))
			}
			n++
		}
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
		if n != rows {
			t.Fatalf("%d rows, want %d", n, rows)
		}
	})

	// The mariadb client checks the status flags after the result set:
	// a second statement in the same packet must come through whole.
	measure("mariadb client", func() {
		out := runClient(t, "mariadb", s.addr, nil, "-N", "big", "-e", query+"; SELECT 'after', @@autocommit")
		lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
		if len(lines) != rows+1 {
			t.Fatalf("%d lines, want %d", len(lines), rows+1)
		}
		if last := string(lines[rows]); last != "after\t1" {
			t.Fatalf("last line %q, want \"after\\t1\"", last)
		}
		if first := string(lines[0]); first != "0\t0\t"+strings.Repeat("x", 1000) {
			t.Fatalf("first line %.40q…", first)
		}
	})
}
