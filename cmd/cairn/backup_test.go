package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairndb/cairn/storage/remote"
)

func TestBackupCLI(t *testing.T) {
	db := chdirNew(t, "db1")
	top := filepath.Dir(db)
	mustRun := func(args ...string) string {
		t.Helper()
		code, out, errOut := cairn(t, args...)
		if code != 0 {
			t.Fatalf("cairn %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	fails := func(want string, args ...string) {
		t.Helper()
		code, out, errOut := cairn(t, args...)
		if code != 1 || !strings.Contains(errOut, want) {
			t.Fatalf("cairn %s: exit %d\n%s%s\nwant an error with %q", strings.Join(args, " "), code, out, errOut, want)
		}
	}
	fails("not a cairn database", "backup")
	mustRun("init", "--name", "a", "--email", "a@b")
	mustRun("sql", "-q", "CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t VALUES (1), (2), (3)")
	if out := mustRun("backup"); out != "" {
		t.Fatalf("no backups: %q", out)
	}
	mustRun("backup", "add", "b1", "file://../b1")
	mustRun("backup", "add", "b2", "file://"+filepath.Join(top, "b2"))
	if out := mustRun("backup"); out != "b1\nb2\n" {
		t.Fatalf("backup = %q", out)
	}
	if out := mustRun("backup", "-v"); out != "b1 file://"+filepath.Join(top, "b1")+" {}\nb2 file://"+filepath.Join(top, "b2")+" {}\n" {
		t.Fatalf("backup -v = %q", out)
	}
	fails("backup 'b1' already exists", "backup", "add", "b1", "file:///elsewhere")
	fails("backup name 'a.b' is invalid", "backup", "add", "a.b", "file:///x")
	fails("unknown url scheme: 'ftp'", "backup", "add", "b3", "ftp://x")
	fails("unknown backup command \"frob\"", "backup", "frob")
	fails("accepts 1 arg(s), received 0", "backup", "sync")
	mustRun("backup", "rm", "b2")
	fails("backup 'b2' not found", "backup", "remove", "b2")

	out := mustRun("backup", "sync", "b1")
	// A first sync copies the database's files.
	if !strings.HasPrefix(out, "Uploaded ") || !strings.Contains(out, " files of the database to file://"+filepath.Join(top, "b1")+" in ") {
		t.Fatalf("sync: %q", out)
	}
	if out := mustRun("backup", "sync", "b1"); !strings.Contains(out, "is up to date") {
		t.Fatalf("second sync: %q", out)
	}
	fails("--prune-with-grace-period must be at least 10m0s", "backup", "sync", "b1", "--prune-with-grace-period", "1m")
	mustRun("backup", "sync", "b1", "--prune-with-grace-period", "1h")
	if out := mustRun("backup", "verify", "b1"); !strings.Contains(out, ": OK") || !strings.Contains(out, "backup of database db1") {
		t.Fatalf("verify: %q", out)
	}
	fails("backup 'nope' not found", "backup", "verify", "nope")
	mustRun("backup", "sync-url", "file://../b3")

	// Restore from anywhere: it makes ./DBNAME.
	t.Chdir(top)
	out = mustRun("backup", "restore", "file://./b3", "db2")
	if !strings.HasPrefix(out, "Restored database db2 from file://"+filepath.Join(top, "b3")) {
		t.Fatalf("restore: %q", out)
	}
	fails("database 'db2' already exists, use '--force' to overwrite", "backup", "restore", "file://./b3", "db2")
	mustRun("backup", "restore", "--force", "file://./b1", "db2")
	t.Chdir(filepath.Join(top, "db2"))
	if out := mustRun("sql", "-r", "csv", "-q", "SELECT COUNT(*) AS n FROM t"); out != "n\n3\n" {
		t.Fatalf("restored table: %q", out)
	}
	if out := mustRun("backup"); out != "" {
		t.Fatalf("a restored database has backups: %q", out)
	}
	fails("holds no backup", "backup", "verify", "file://"+t.TempDir())
}

func TestProgressLine(t *testing.T) {
	var b bytes.Buffer
	p := &progressLine{w: &b, tty: true}
	p.report(remote.Progress{Phase: "scanning", Chunks: 10, Bytes: 2000, Elapsed: time.Second})
	p.report(remote.Progress{Phase: "uploading", Chunks: 5, TotalChunks: 10, Bytes: 1000, TotalBytes: 3000, Elapsed: time.Second})
	p.report(remote.Progress{Phase: "uploading", Chunks: 10, TotalChunks: 10, Bytes: 3000, TotalBytes: 3000, Elapsed: 2 * time.Second})
	want := "\r\033[Kscanning: 10 chunks, 2.0 kB, 2.0 kB/s" +
		"\r\033[Kuploading: 5/10 chunks, 1.0 kB/3.0 kB, 1.0 kB/s, ETA 2s" +
		"\r\033[Kuploading: 10/10 chunks, 3.0 kB/3.0 kB, 1.5 kB/s\r\033[K"
	if b.String() != want {
		t.Fatalf("progress:\n%q\nwant\n%q", b.String(), want)
	}
	// Not a terminal: nothing.
	var q bytes.Buffer
	newProgressLine(&q).report(remote.Progress{Phase: "scanning", Chunks: 1})
	f, _ := os.CreateTemp(t.TempDir(), "out")
	newProgressLine(f).report(remote.Progress{Phase: "scanning", Chunks: 1})
	if st, _ := f.Stat(); q.Len() != 0 || st.Size() != 0 {
		t.Fatal("progress written to something not a terminal")
	}
}
