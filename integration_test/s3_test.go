package integration_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairndb/cairn/storage/remote/remotetest"
)

// Backups and remotes on an S3-compatible server (versitygw), through the
// binary: CALL dolt_backup to s3:// with an endpoint and encryption, the
// CLI's verify and restore with the same flags, push and clone; the
// credentials come from the environment and appear nowhere.
func TestS3ThroughTheServer(t *testing.T) {
	endpoint := remotetest.S3Endpoint(t)
	top := t.TempDir()
	key := filepath.Join(top, "k")
	os.WriteFile(key, []byte(strings.Repeat("5a", 32)), 0o600)
	s := startServer(t, filepath.Join(top, "data"))
	root := s.connect(t, "root", "", "")
	mustExec(t, root, "CREATE DATABASE shop")
	db := s.connect(t, "root", "", "shop")
	mustExec(t, db, "CREATE TABLE orders (id INT PRIMARY KEY, item VARCHAR(20))")
	mustExec(t, db, "INSERT INTO orders VALUES (1, 'tea'), (2, 'coffee')")
	mustExec(t, db, "CALL dolt_commit('-Am', 'orders')")
	mustExec(t, db, "INSERT INTO orders VALUES (3, 'uncommitted cocoa')")
	url := "s3://" + remotetest.Bucket + "/it-" + strings.ReplaceAll(t.Name(), "/", "-")
	mustExec(t, db, "CALL dolt_backup('add', 'offsite', '"+url+"/backup', '--endpoint="+endpoint+"', '--encryption-key-file="+key+"')")
	mustExec(t, db, "CALL dolt_backup('sync', 'offsite')")
	if got := scalar(t, db, "SELECT params FROM dolt_backups"); strings.Contains(got, remotetest.Secret) || !strings.Contains(got, endpoint) {
		t.Fatalf("dolt_backups.params: %s", got)
	}

	out := mustCLI(t, top, "backup", "verify", url+"/backup", "--endpoint", endpoint, "--encryption-key-file", key)
	if !strings.Contains(out, ": OK") {
		t.Fatalf("verify: %s", out)
	}
	if code, _, errOut := cli(t, top, nil, "backup", "verify", url+"/backup", "--endpoint", endpoint); code == 0 || !strings.Contains(errOut, "encrypted") {
		t.Fatalf("verify without the key: exit %d, %s", code, errOut)
	}
	// Restore on "another host": a directory no server holds.
	other := filepath.Join(top, "other")
	os.Mkdir(other, 0o755)
	mustCLI(t, other, "backup", "restore", url+"/backup", "shop", "--endpoint", endpoint, "--encryption-key-file", key)
	out = mustCLI(t, filepath.Join(other, "shop"), "sql", "-r", "csv", "-q", "SELECT item FROM orders ORDER BY id")
	if out != "item\ntea\ncoffee\nuncommitted cocoa\n" {
		t.Fatalf("restored: %q", out)
	}

	mustExec(t, db, "CALL dolt_remote('add', 'origin', '"+url+"/remote', '--endpoint="+endpoint+"')")
	mustExec(t, db, "CALL dolt_push('origin', 'main')")
	mustExec(t, root, "CALL dolt_clone('"+url+"/remote', 'shop2', '--endpoint="+endpoint+"')")
	if got := scalar(t, root, "SELECT COUNT(*) FROM shop2.orders"); got != "2" {
		t.Fatalf("cloned rows: %s", got)
	}
	if log, _ := os.ReadFile(s.log); strings.Contains(string(log), remotetest.Secret) {
		t.Fatal("the secret is in the server log")
	}
}
