package integration_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Server-wide backups through the binary: a config with an encrypted
// schedule backs every database and the users up at start and on
// dolt_backup('sync-all'); dolt_backup_status shows it; `cairn backup
// restore-server` rebuilds the whole data directory on which a new server
// serves the same data to the same users, with their grants.
func TestServerBackups(t *testing.T) {
	top := t.TempDir()
	data := filepath.Join(top, "data")
	os.Mkdir(data, 0o755)
	key := filepath.Join(top, "backup.key")
	os.WriteFile(key, []byte("6b6579206f662074686520736572766572206261636b757073206f6e6c792121\n"), 0o600)
	template := "file://" + filepath.Join(top, "backups") + "/{database}"
	config := filepath.Join(top, "config.yaml")
	os.WriteFile(config, []byte(`
backups:
  - name: nightly
    url: `+template+`
    every: 1h
    keep_verified: true
    params:
      encryption_key_file: `+key+`
`), 0o600)
	s := startServer(t, data, "--config", config)
	root := s.connect(t, "root", "", "")
	mustExec(t, root, "CREATE DATABASE db1")
	mustExec(t, root, "CREATE DATABASE db2")
	mustExec(t, root, "CREATE TABLE db1.t (id INT PRIMARY KEY, v VARCHAR(20))")
	mustExec(t, root, "INSERT INTO db1.t VALUES (1, 'committed')")
	mustExec(t, root, "CREATE TABLE db2.u (id INT PRIMARY KEY)")
	mustExec(t, root, "INSERT INTO db2.u VALUES (7)")
	mustExec(t, root, "CREATE USER app@'%' IDENTIFIED BY 'app-password'")
	mustExec(t, root, "GRANT SELECT ON db1.* TO app@'%'")

	// The round the server ran at start (no database yet then) shows.
	deadline := time.Now().Add(30 * time.Second)
	for len(queryRows(t, root, "SELECT 1 FROM db1.dolt_backup_status WHERE `database` = '_server' AND last_success IS NOT NULL")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no scheduled round at start")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// A round now, with an uncommitted change: it is in the backup.
	db1 := s.connect(t, "root", "", "db1")
	mustExec(t, db1, "INSERT INTO t VALUES (2, 'uncommitted')")
	mustExec(t, db1, "CALL dolt_backup('sync-all')")
	got := queryRows(t, db1, "SELECT name, `database`, last_error, bytes > 0 FROM dolt_backup_status ORDER BY `database`")
	if strings.Join(got, " ") != "nightly|_server|NULL|1 nightly|db1|NULL|1 nightly|db2|NULL|1" {
		t.Fatalf("dolt_backup_status: %v", got)
	}
	if log, _ := os.ReadFile(s.log); !strings.Contains(string(log), "server backup nightly: round of 2 database(s) done") {
		t.Fatalf("no round in the log:\n%s", log)
	}
	s.stop(t)

	// No key: a clear refusal, nothing made.
	data2 := filepath.Join(top, "data2")
	code, _, errOut := cli(t, top, nil, "backup", "restore-server", template, data2)
	if code == 0 || !strings.Contains(errOut, "encrypted: give its key with --encryption-key-file") {
		t.Fatalf("restore-server without the key: exit %d, %s", code, errOut)
	}
	out := mustCLI(t, top, "backup", "restore-server", "--encryption-key-file", key, template, data2)
	if !strings.Contains(out, "Restored database db1") || !strings.Contains(out, "Restored database db2") || !strings.Contains(out, "Restored the users and grants") {
		t.Fatalf("restore-server: %s", out)
	}
	// Again: it refuses to overwrite without --force.
	if code, _, errOut := cli(t, top, nil, "backup", "restore-server", "--encryption-key-file", key, template, data2); code == 0 || !strings.Contains(errOut, "--force") {
		t.Fatalf("restore-server over a restored directory: exit %d, %s", code, errOut)
	}

	s2 := startServer(t, data2)
	app := s2.connect(t, "app", "app-password", "db1")
	if got := queryRows(t, app, "SELECT id, v FROM t ORDER BY id"); strings.Join(got, ",") != "1|committed,2|uncommitted" {
		t.Fatalf("restored db1 as app: %v", got)
	}
	if e := mysqlErrorOf(execDB(app, "INSERT INTO t VALUES (3, 'x')")); e.Number != 1142 {
		t.Fatalf("app's write on the restored server: %v, want 1142", e)
	}
	root2 := s2.connect(t, "root", "", "")
	if got := queryRows(t, root2, "SELECT id FROM db2.u"); strings.Join(got, ",") != "7" {
		t.Fatalf("restored db2: %v", got)
	}
}
