package integration_test

import (
	"context"
	"strings"
	"testing"
)

// A multi-statement packet stops at its first error, as in MySQL, and the
// connection stays in step: the next query gets its own answer.
func TestMultiStatementStopsAtError(t *testing.T) {
	s := startServer(t, t.TempDir())
	db := s.connect(t, "root", "", "")
	mustExec(t, db, "CREATE DATABASE d")
	mustExec(t, db, "CREATE TABLE d.t (id INT PRIMARY KEY)")
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "INSERT INTO d.t VALUES (1); SELECT nosuch FROM d.t; INSERT INTO d.t VALUES (2)"); err == nil {
		t.Fatal("multi-statement with a failing statement succeeded")
	}
	var n, max int
	if err := conn.QueryRowContext(context.Background(), "SELECT COUNT(*), MAX(id) FROM d.t").Scan(&n, &max); err != nil {
		t.Fatalf("next query on the connection: %v", err)
	}
	if n != 1 || max != 1 {
		t.Errorf("after the failed packet: %d rows, max id %d; want only the row before the error", n, max)
	}
}

// BIT and numeric columns are binary (character set 63) in result
// metadata, as in MySQL, so drivers don't decode them as text.
func TestBitColumnsAreBinary(t *testing.T) {
	requireTool(t, "mariadb")
	s := startServer(t, t.TempDir())
	runClient(t, "mariadb", s.addr, []byte("CREATE DATABASE d; CREATE TABLE d.t (b BIT(8)); INSERT INTO d.t VALUES (b'11111111');"))
	out := string(runClient(t, "mariadb", s.addr, nil, "-t", "--column-type-info", "-e", "SELECT b, 1, NOW(), 'text' AS s FROM d.t"))
	fields := strings.Split(out, "Field ")
	if len(fields) != 5 {
		t.Fatalf("column info:\n%s", out)
	}
	for i, f := range fields[1:4] {
		if !strings.Contains(f, "binary (63)") {
			t.Errorf("column %d is not binary:\n%s", i+1, f)
		}
	}
	if strings.Contains(fields[4], "binary (63)") {
		t.Errorf("a string column is binary:\n%s", fields[4])
	}
}

// SET GLOBAL needs SUPER (MySQL's 1227); a session variable does not.
func TestSetGlobalNeedsSuper(t *testing.T) {
	s := startServer(t, t.TempDir())
	root := s.connect(t, "root", "", "")
	mustExec(t, root, "CREATE USER 'bob'@'%' IDENTIFIED BY 'pw'")
	mustExec(t, root, "GRANT SELECT ON *.* TO 'bob'@'%'")
	bob := s.connect(t, "bob", "pw", "")
	for _, q := range []string{"SET GLOBAL autocommit = 0", "SET @@global.max_connections = 5", "SET PERSIST read_only = 1"} {
		_, err := bob.Exec(q)
		if a := sqlAnswerOf(err); a.Number != 1227 {
			t.Errorf("bob: %s: %v, want error 1227", q, a)
		}
	}
	mustExec(t, bob, "SET autocommit = 0")
	mustExec(t, bob, "SET SESSION sql_mode = ''")
	mustExec(t, root, "SET GLOBAL max_connections = 500")
	mustExec(t, root, "SET GLOBAL max_connections = 151")
}

// A statement that panics inside the engine's parser (an empty string literal right after SELECT did, in
// vitess) is an error for that statement; the connection and the server go
// on.
func TestPanicIsAnError(t *testing.T) {
	s := startServer(t, t.TempDir())
	db := s.connect(t, "root", "", "")
	db.SetMaxOpenConns(1)
	_, err := db.Exec("SELECT''")
	if a := sqlAnswerOf(err); a.Number != 1105 || !strings.Contains(a.Msg, "internal error in this statement") {
		t.Fatalf("SELECT'' = %v", a)
	}
	var n int
	if err := db.QueryRow("SELECT 1 + 1").Scan(&n); err != nil || n != 2 {
		t.Fatalf("the connection after the panic: %d, %v", n, err)
	}
}
