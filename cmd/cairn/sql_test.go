package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// cairn init and cairn sql, through the binary: a database made by init
// takes a script on stdin (with DELIMITER), keeps its data across runs,
// prints tables, CSV and JSON, and a failing statement exits non-zero
// with the error and its line.
func TestSQLThroughTheBinary(t *testing.T) {
	bin := buildCairn(t)
	dir := filepath.Join(t.TempDir(), "shop")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(stdin string, args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run("", "init"); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	script := `CREATE TABLE items (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(20) NOT NULL, price DECIMAL(8,2));
CREATE TABLE log (msg VARCHAR(40));
DELIMITER ;;
CREATE TRIGGER items_log AFTER INSERT ON items FOR EACH ROW BEGIN INSERT INTO log VALUES (concat('added ', NEW.name)); END;;
DELIMITER ;
INSERT INTO items (name, price) VALUES ('apple', 1.25), ('pear', NULL);
`
	if out, err := run(script, "sql"); err != nil {
		t.Fatalf("script: %v\n%s", err, out)
	}
	out, err := run("", "sql", "-q", "SELECT * FROM items ORDER BY id")
	want := "+----+-------+-------+\n| id | name  | price |\n+----+-------+-------+\n|  1 | apple |  1.25 |\n|  2 | pear  |  NULL |\n+----+-------+-------+\n"
	if err != nil || out != want {
		t.Fatalf("tabular: %v\n%s\nwant\n%s", err, out, want)
	}
	out, err = run("", "sql", "-r", "csv", "-q", "SELECT msg FROM log ORDER BY msg")
	if err != nil || out != "msg\nadded apple\nadded pear\n" {
		t.Fatalf("csv: %v\n%s", err, out)
	}
	out, err = run("", "sql", "-r", "json", "-q", "SELECT id, price FROM items WHERE id = 1")
	if err != nil || !strings.Contains(out, `{"id":1,"price":1.25}`) {
		t.Fatalf("json: %v\n%s", err, out)
	}
	out, err = run("SELECT 1;\nINSERT INTO items VALUES (1, 'dup', 0);\n", "sql")
	if err == nil || !strings.Contains(out, "error: line 2: ERROR 1062 (23000): Duplicate entry '1' for key 'items.PRIMARY'") {
		t.Fatalf("duplicate key: %v\n%s", err, out)
	}
	out, err = run("", "sql", "-r", "xml", "-q", "SELECT 1")
	if err == nil || !strings.Contains(out, "unknown result format") {
		t.Fatalf("bad format: %v\n%s", err, out)
	}
}

// A table of 1,000,000 sysbench rows is scanned without being loaded into
// memory: the scanning process stays below 500 MiB of resident memory.
// Long: run with CAIRN_LONG=1.
func TestScanMillionRowsRSS(t *testing.T) {
	if os.Getenv("CAIRN_LONG") == "" {
		t.Skip("long test: set CAIRN_LONG=1")
	}
	const rows = 1_000_000
	bin := buildCairn(t)
	dir := filepath.Join(t.TempDir(), "sbtest")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(t.TempDir(), "load.sql")
	f, err := os.Create(script)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "CREATE TABLE sbtest1 (id INT NOT NULL, k INT NOT NULL DEFAULT 0, c CHAR(120) NOT NULL DEFAULT '', pad CHAR(60) NOT NULL DEFAULT '', PRIMARY KEY (id), KEY k_1 (k));")
	for i := 1; i <= rows; i += 1000 {
		fmt.Fprint(w, "INSERT INTO sbtest1 VALUES ")
		for j := i; j < i+1000; j++ {
			if j > i {
				w.WriteByte(',')
			}
			fmt.Fprintf(w, "(%d,%d,'%0119d','%059d')", j, (j*7919)%rows, j*31, j)
		}
		fmt.Fprintln(w, ";")
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	sql := func(stdin string, args ...string) (string, int64) {
		cmd := exec.Command(bin, append([]string{"sql"}, args...)...)
		cmd.Dir = dir
		if stdin != "" {
			in, err := os.Open(stdin)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			cmd.Stdin = in
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("cairn sql %v: %v\n%s", args, err, out)
		}
		return string(out), cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss / 1024
	}
	initCmd := exec.Command(bin, "init")
	initCmd.Dir = dir
	if out, err := initCmd.CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	_, loadMiB := sql(script)
	out, scanMiB := sql("", "-r", "csv", "-q", "SELECT count(*), sum(k), max(c), max(pad) FROM sbtest1")
	if !strings.Contains(out, fmt.Sprint(rows)) {
		t.Fatalf("scan: %s", out)
	}
	// Every row out as CSV streams too.
	dump := exec.Command(bin, "sql", "-r", "csv", "-q", "SELECT * FROM sbtest1")
	dump.Dir = dir
	dump.Stdout = io.Discard
	var stderr strings.Builder
	dump.Stderr = &stderr
	if err := dump.Run(); err != nil {
		t.Fatalf("csv of every row: %v\n%s", err, stderr.String())
	}
	dumpMiB := dump.ProcessState.SysUsage().(*syscall.Rusage).Maxrss / 1024
	t.Logf("load peak RSS %d MiB, scan peak RSS %d MiB, CSV of every row peak RSS %d MiB", loadMiB, scanMiB, dumpMiB)
	if scanMiB >= 500 || dumpMiB >= 500 {
		t.Fatalf("scanning 1M rows took %d MiB of RSS (%d MiB printing them)", scanMiB, dumpMiB)
	}
}
