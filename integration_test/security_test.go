package integration_test

import (
	"crypto/rand"
	"database/sql"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Security (issue 9): who gets in, what they may do, where names and URLs
// may lead, and what hostile connections can do to the others.
func TestSecurity(t *testing.T) {
	top := t.TempDir()
	s := startServer(t, top)
	root := s.connect(t, "root", "", "")
	mustExec(t, root, "CREATE DATABASE shop")
	mustExec(t, root, "CREATE TABLE shop.t (id INT PRIMARY KEY)")
	mustExec(t, root, "CREATE USER 'reader'@'%' IDENTIFIED BY 'r3ad'")
	mustExec(t, root, "GRANT SELECT ON shop.* TO 'reader'@'%'")

	// Authentication.
	for _, c := range []struct{ user, password string }{{"reader", "wrong"}, {"reader", ""}, {"nobody", "x"}} {
		err := s.connect(t, c.user, c.password, "shop").Ping()
		if a := sqlAnswerOf(err); a.Number != 1045 {
			t.Errorf("login %s/%q: %v, want 1045", c.user, c.password, a)
		}
	}
	reader := s.connect(t, "reader", "r3ad", "shop")
	if err := reader.Ping(); err != nil {
		t.Fatal(err)
	}
	// A SELECT-only user reads, and can neither write nor run the
	// procedures that copy or change the database's place.
	if _, err := reader.Exec("SELECT * FROM t"); err != nil {
		t.Fatal(err)
	}
	if a := sqlAnswerOf(execDB(reader, "INSERT INTO t VALUES (1)")); a.Number != 1142 {
		t.Errorf("INSERT by a SELECT-only user: %v, want 1142", a)
	}
	dest := "file://" + filepath.Join(t.TempDir(), "b")
	for _, q := range []string{
		"CALL dolt_backup('sync-url', '" + dest + "')",
		"CALL dolt_backup('restore', '" + dest + "', 'copy')",
		"CALL dolt_remote('add', 'origin', '" + dest + "')",
		"CALL dolt_push('origin', 'main')",
		"CALL dolt_clone('" + dest + "', 'copy')",
		"CALL dolt_gc()",
	} {
		if a := sqlAnswerOf(execDB(reader, q)); a.Number != 1370 {
			t.Errorf("%s by a SELECT-only user: %v, want 1370", q, a)
		}
	}

	// Names and paths cannot leave the data directory.
	for _, q := range []string{
		"CREATE DATABASE `../evil`",
		"CREATE DATABASE `/tmp/evil`",
		"CALL dolt_backup('restore', '" + dest + "', '../evil')",
		"CALL dolt_clone('" + dest + "', '../evil')",
	} {
		if err := execDB(root, q); err == nil {
			t.Errorf("%s succeeded", q)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(top), "evil")); err == nil {
		t.Fatal("a database was made outside the data directory")
	}
	shopDB := s.connect(t, "root", "", "shop")
	if err := execDB(shopDB, "CALL dolt_backup('add', '../b', '"+dest+"')"); err == nil || !strings.Contains(err.Error(), "backup name '../b' is invalid") {
		t.Errorf("a backup named ../b: %v", err)
	}
	// A restore --force over a symbolic link replaces the link, never what
	// it points to.
	mustExec(t, shopDB, "CALL dolt_backup('sync-url', ?)", dest)
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "precious"), []byte("keep me"), 0o644)
	if err := os.Symlink(outside, filepath.Join(top, "linked")); err != nil {
		t.Fatal(err)
	}
	if err := execDB(root, "CALL dolt_backup('restore', '"+dest+"', 'linked')"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("restore over a symbolic link without --force: %v", err)
	}
	mustExec(t, root, "CALL dolt_backup('restore', ?, 'linked', '--force')", dest)
	if b, err := os.ReadFile(filepath.Join(outside, "precious")); err != nil || string(b) != "keep me" {
		t.Fatalf("the symbolic link's target was touched: %q, %v", b, err)
	}
	if fi, err := os.Lstat(filepath.Join(top, "linked")); err != nil || fi.Mode()&os.ModeSymlink != 0 || !fi.IsDir() {
		t.Fatalf("linked after the restore: %v, %v", fi, err)
	}

	// Hostile connections: garbage bytes, and idle half-open ones, leave
	// the server serving others.
	host := s.addr
	for range 5 {
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		junk := make([]byte, 4096)
		rand.Read(junk)
		c.Write(junk)
		c.Close()
	}
	var idle []net.Conn
	for range 50 {
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	time.Sleep(100 * time.Millisecond)
	fresh := s.connect(t, "reader", "r3ad", "shop")
	var n int
	if err := fresh.QueryRow("SELECT COUNT(*) FROM t").Scan(&n); err != nil {
		t.Fatalf("a client beside garbage and idle connections: %v", err)
	}
	// A huge statement is refused or answered, and the server goes on.
	huge := "SELECT '" + strings.Repeat("x", 8<<20) + "'"
	_ = execDB(root, huge)
	if err := fresh.QueryRow("SELECT COUNT(*) FROM t").Scan(&n); err != nil {
		t.Fatalf("a client after a huge statement: %v", err)
	}

	// Grants survive a restart; no password reaches the log.
	s.stop(t)
	log, _ := os.ReadFile(s.log)
	if strings.Contains(string(log), "r3ad") {
		t.Fatal("a password is in the server log")
	}
	s2 := startServer(t, top)
	r2 := s2.connect(t, "reader", "r3ad", "shop")
	if a := sqlAnswerOf(execDB(r2, "INSERT INTO t VALUES (2)")); a.Number != 1142 {
		t.Errorf("after a restart, INSERT by the SELECT-only user: %v, want 1142", a)
	}
	if _, err := r2.Exec("SELECT * FROM t"); err != nil {
		t.Fatalf("after a restart, SELECT by the reader: %v", err)
	}
}

func execDB(db *sql.DB, q string) error {
	_, err := db.Exec(q)
	return err
}
