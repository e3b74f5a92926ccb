package procedures

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An encrypted backup and remote through the procedures: the key file is a
// param (relative paths are relative to the data directory), listed by its
// path only; restore and clone need the key, and refuse clearly without it
// or with another.
func TestEncryptedBackupProcedures(t *testing.T) {
	s := newTestServer(t)
	key := "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
	os.WriteFile(filepath.Join(s.dir, "backup.key"), []byte(key+"\n"), 0o600)
	other := filepath.Join(t.TempDir(), "other.key")
	os.WriteFile(other, []byte(strings.Repeat("ab", 32)), 0o600)
	dest := "file://" + filepath.Join(t.TempDir(), "b1")
	s.exec("", "CREATE DATABASE db1")
	s.exec("db1", "CREATE TABLE t (id INT PRIMARY KEY, secret VARCHAR(40))",
		"INSERT INTO t VALUES (1, 'attack at dawn')",
		"CALL dolt_backup('add', 'b1', '"+dest+"', '--encryption-key-file=backup.key')",
		"CALL dolt_backup('sync', 'b1')")
	got := s.rows("db1", "SELECT params FROM dolt_backups")
	if len(got) != 1 || !strings.Contains(got[0], filepath.Join(s.dir, "backup.key")) || strings.Contains(got[0], key) {
		t.Fatalf("dolt_backups.params: %v", got)
	}
	s.fails("", "CALL dolt_backup('restore', '"+dest+"', 'db2')",
		"file://"+strings.TrimPrefix(dest, "file://")+": the destination is encrypted: give its key with --encryption-key-file")
	_, err := s.e.Query(s.ctx(""), "CALL dolt_backup('restore', '"+dest+"', 'db2', '--encryption-key-file="+other+"')")
	if err == nil || !strings.Contains(err.Error(), "was encrypted with another key") {
		t.Fatalf("restore with another key: %v", err)
	}
	s.exec("", "CALL dolt_backup('restore', '"+dest+"', 'db2', '--encryption-key-file=backup.key')")
	if rows := s.rows("db2", "SELECT secret FROM t"); len(rows) != 1 || rows[0] != "attack at dawn" {
		t.Fatalf("restored: %v", rows)
	}

	rem := "file://" + filepath.Join(t.TempDir(), "r1")
	s.exec("db1", "CALL dolt_commit('-Am', 'one')",
		"CALL dolt_remote('add', 'origin', '"+rem+"', '--encryption-key-file=backup.key')",
		"CALL dolt_push('origin', 'main')")
	if _, err := s.e.Query(s.ctx(""), "CALL dolt_clone('"+rem+"', 'db3')"); err == nil || !strings.Contains(err.Error(), "encrypted") {
		t.Fatalf("clone without the key: %v", err)
	}
	s.exec("", "CALL dolt_clone('"+rem+"', 'db3', '--encryption-key-file=backup.key')")
	if rows := s.rows("db3", "SELECT secret FROM t"); len(rows) != 1 || rows[0] != "attack at dawn" {
		t.Fatalf("cloned: %v", rows)
	}
	s.exec("db3", "INSERT INTO t VALUES (2, 'retreat')", "CALL dolt_commit('-am', 'two')", "CALL dolt_push()")
	s.exec("db1", "CALL dolt_pull('origin')")
	if rows := s.rows("db1", "SELECT COUNT(*) FROM t"); rows[0] != "2" {
		t.Fatalf("pulled: %v", rows)
	}
}
