package procedures

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/remote"
	"github.com/cairndb/cairn/storage/repo"
	"github.com/cairndb/cairn/storage/sqle"
)

type testServer struct {
	t   *testing.T
	dir string
	e   *sqle.Engine
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	dir := t.TempDir()
	e, err := sqle.NewEngine(context.Background(), sqle.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	(&Backups{Prov: e.Provider}).Register()
	(&VersionControl{Prov: e.Provider}).Register()
	return &testServer{t: t, dir: dir, e: e}
}

func (s *testServer) ctx(db string) *sql.Context { return s.e.NewContext(context.Background(), db) }

// exec runs statements in database db, failing the test on an error.
func (s *testServer) exec(db string, queries ...string) {
	s.t.Helper()
	ctx := s.ctx(db)
	for _, q := range queries {
		if _, err := s.e.Query(ctx, q); err != nil {
			s.t.Fatalf("%s: %v", q, err)
		}
	}
}

// rows runs a query and returns its rows, each joined with "|".
func (s *testServer) rows(db, q string) []string {
	s.t.Helper()
	res, err := s.e.Query(s.ctx(db), q)
	if err != nil {
		s.t.Fatalf("%s: %v", q, err)
	}
	return joinRows(res)
}

// joinRows returns a result's rows, each joined with "|" (NULL for null).
func joinRows(res *sqle.Result) []string {
	var out []string
	for _, r := range res.Rows {
		var cells []string
		for _, c := range r {
			if c == nil {
				cells = append(cells, "NULL")
			} else {
				cells = append(cells, *c)
			}
		}
		out = append(out, strings.Join(cells, "|"))
	}
	return out
}

// session is one SQL session on the test server, kept across statements
// as a client's connection keeps it (a checkout sticks).
type session struct {
	t   *testing.T
	s   *testServer
	ctx *sql.Context
}

func (s *testServer) session(t *testing.T, db string) *session {
	return &session{t: t, s: s, ctx: s.ctx(db)}
}

// q runs a statement and returns its rows joined with "," (cells with "|").
func (se *session) q(query string) string {
	se.t.Helper()
	res, err := se.s.e.Query(se.ctx, query)
	if err != nil {
		se.t.Fatalf("%s: %v", query, err)
	}
	return strings.Join(joinRows(res), ",")
}

// fails checks that a statement fails with exactly msg.
func (se *session) fails(query, msg string) {
	se.t.Helper()
	_, err := se.s.e.Query(se.ctx, query)
	if err == nil || err.Error() != msg {
		se.t.Errorf("%s = %v, want error %q", query, err, msg)
	}
}

// failsWith checks that a statement fails with an error holding msg.
func (se *session) failsWith(query, msg string) {
	se.t.Helper()
	_, err := se.s.e.Query(se.ctx, query)
	if err == nil || !strings.Contains(err.Error(), msg) {
		se.t.Errorf("%s = %v, want an error with %q", query, err, msg)
	}
}

// fails runs q in db and checks it fails with exactly msg.
func (s *testServer) fails(db, q, msg string) {
	s.t.Helper()
	_, err := s.e.Query(s.ctx(db), q)
	if err == nil || err.Error() != msg {
		s.t.Errorf("%s = %v, want error %q", q, err, msg)
	}
}

func TestBackupProcedureErrors(t *testing.T) {
	s := newTestServer(t)
	s.exec("", "CREATE DATABASE db1")
	for _, c := range []struct{ db, q, msg string }{
		{"db1", "CALL dolt_backup()", "use 'dolt_backups' table to list backups"},
		{"db1", "CALL dolt_backup('frobnicate')", "unrecognized dolt_backup parameter 'frobnicate'"},
		{"", "CALL dolt_backup('sync', 'b1')", "empty database name"},
		{"", "CALL dolt_backup('add', 'b1', 'file:///tmp/x')", "empty database name"},
		{"db1", "CALL dolt_backup('sync', 'nope')", "backup 'nope' not found"},
		{"db1", "CALL dolt_backup('remove', 'nope')", "backup 'nope' not found"},
		{"db1", "CALL dolt_backup('rm', 'nope')", "backup 'nope' not found"},
		{"db1", "CALL dolt_backup('add', 'b.1', 'file:///tmp/x')", "backup name 'b.1' is invalid"},
		{"db1", "CALL dolt_backup('add', 'b 1', 'file:///tmp/x')", "backup name 'b 1' is invalid"},
		{"db1", "CALL dolt_backup('add', '', 'file:///tmp/x')", "backup name '' is invalid"},
		{"db1", "CALL dolt_backup('add', 'b1', '')", "backup URL '' is invalid"},
		{"db1", "CALL dolt_backup('add', 'b1', 'ftp://host/x')", "unknown url scheme: 'ftp'"},
		{"db1", "CALL dolt_backup('sync-url', 'gopher://x')", "unknown url scheme: 'gopher'"},
		{"db1", "CALL dolt_backup('add', 'b1')", "usage: dolt_backup('add', 'name', 'url')"},
		{"db1", "CALL dolt_backup('sync')", "usage: dolt_backup('sync', 'name')"},
		{"db1", "CALL dolt_backup('sync', 'a', 'b')", "usage: dolt_backup('sync', 'name')"},
		{"db1", "CALL dolt_backup('sync-url')", "usage: dolt_backup('sync-url', 'url')"},
		{"db1", "CALL dolt_backup('remove')", "usage: dolt_backup('remove', 'name')"},
		{"db1", "CALL dolt_backup('restore', 'file:///x')", "usage: dolt_backup('restore', 'url', 'name')"},
		{"db1", "CALL dolt_backup('restore', 'file:///nonexistent/x', 'db1')", "database 'db1' already exists, use '--force' to overwrite"},
		{"db1", "CALL dolt_backup('restore', 'file:///nonexistent/x', 'bad/name')", "invalid database name 'bad/name': contains '/' or '\\'"},
		{"db1", "CALL dolt_backup('sync', 'b1', '--prune-with-grace-period', '1m')", "error: --prune-with-grace-period '1m' is invalid: give a duration of at least 10m0s, such as 1h"},
		{"db1", "CALL dolt_backup('sync', 'b1', '--bogus')", "error: unknown option 'bogus'"},
	} {
		s.fails(c.db, c.q, c.msg)
	}
	// A restore from a place that holds no backup says so, and makes nothing.
	empty := t.TempDir()
	s.fails("", "CALL dolt_backup('restore', 'file://"+empty+"', 'db9')", "file://"+empty+" holds no backup: it has no manifest.json")
	s.fails("", "CALL dolt_backup('restore', 'file:///nonexistent/x', 'db9')", "backup destination file:///nonexistent/x does not exist")
	if _, err := os.Stat(filepath.Join(s.dir, "db9")); err == nil {
		t.Fatal("a failed restore left a database directory")
	}
	if got := s.rows("", "SHOW DATABASES LIKE 'db9'"); len(got) != 0 {
		t.Fatalf("a failed restore left a database: %v", got)
	}
}

func TestBackupAddListRemove(t *testing.T) {
	s := newTestServer(t)
	s.exec("", "CREATE DATABASE db1")
	if got := s.rows("db1", "CALL dolt_backup('add', 'b1', 'file://../backups/b1')"); len(got) != 1 || got[0] != "0" {
		t.Fatalf("add = %v, want one row 0", got)
	}
	// Relative to the data directory; the directory is made.
	want := remote.FileURL(filepath.Join(filepath.Dir(s.dir), "backups", "b1"))
	if st, err := os.Stat(filepath.Join(filepath.Dir(s.dir), "backups", "b1")); err != nil || !st.IsDir() {
		t.Fatalf("add did not make the directory: %v", err)
	}
	s.exec("db1", "CALL dolt_backup('add', 'b2', 'file:///tmp/"+filepath.Base(s.dir)+"-b2')")
	got := s.rows("db1", "SELECT name, url, params FROM dolt_backups ORDER BY name")
	if len(got) != 2 || got[0] != "b1|"+want+"|{}" || !strings.HasPrefix(got[1], "b2|file:///tmp/") {
		t.Fatalf("dolt_backups = %v", got)
	}
	s.fails("db1", "CALL dolt_backup('add', 'b1', 'file:///elsewhere')", "backup 'b1' already exists")
	s.fails("db1", "CALL dolt_backup('add', 'b3', '"+want+"')", "address conflict with a remote: 'b1' -> "+want)
	s.exec("db1", "CALL dolt_backup('rm', 'b2')")
	if got := s.rows("db1", "SELECT name FROM dolt_backups"); len(got) != 1 || got[0] != "b1" {
		t.Fatalf("after rm: %v", got)
	}
	s.fails("db1", "INSERT INTO dolt_backups VALUES ('x', 'y', '{}')", "table doesn't support INSERT INTO")
	// Backups survive a restart (they are in the database's config).
	s.e.Close()
	e, err := sqle.NewEngine(context.Background(), sqle.Options{Dir: s.dir})
	if err != nil {
		t.Fatal(err)
	}
	s.e = e
	t.Cleanup(func() { e.Close() })
	if got := s.rows("db1", "SELECT name, url FROM dolt_backups"); len(got) != 1 || got[0] != "b1|"+want {
		t.Fatalf("after a restart: %v", got)
	}
}

// refsOf returns the refs of database db's store.
func refsOf(t *testing.T, s *testServer, db string) map[string]chunk.Hash {
	t.Helper()
	store, _, err := s.e.Provider.DatabaseStore(db)
	if err != nil {
		t.Fatal(err)
	}
	refs, err := store.Refs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return refs
}

func TestBackupSyncRestore(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	s.exec("", "CREATE DATABASE db1")
	store, _, _ := s.e.Provider.DatabaseStore("db1")
	r := repo.Open(store)
	working := func() chunk.Hash {
		ws, _, err := r.WorkingSet(ctx, "main")
		if err != nil {
			t.Fatal(err)
		}
		return ws.Working
	}
	s.exec("db1", "CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20), KEY (v))",
		"INSERT INTO t (v) VALUES ('a'), ('b'), ('c')")
	w3 := working()
	s.exec("db1", "INSERT INTO t (v) VALUES ('d'), ('e')")
	w5 := working()
	s.exec("db1", "INSERT INTO t (v) VALUES ('f')", "CREATE VIEW v AS SELECT COUNT(*) AS n FROM t")
	w6 := working()
	// Commit three rows; stage five; six in the working set. A branch
	// with its own uncommitted and staged changes, and a tag.
	_, old, _ := r.WorkingSet(ctx, "main")
	if _, err := r.UpdateWorkingSet(ctx, "main", old, &repo.WorkingSet{Working: w6, Staged: w3}); err != nil {
		t.Fatal(err)
	}
	head, err := r.Commit(ctx, "main", repo.CommitOptions{CommitMeta: repo.CommitMeta{Author: repo.Signature{Name: "t", Email: "t@x"}, Message: "three rows"}})
	if err != nil {
		t.Fatal(err)
	}
	_, old, _ = r.WorkingSet(ctx, "main")
	if _, err := r.UpdateWorkingSet(ctx, "main", old, &repo.WorkingSet{Working: w6, Staged: w5}); err != nil {
		t.Fatal(err)
	}
	if err := r.CreateBranch(ctx, "feature", head); err != nil {
		t.Fatal(err)
	}
	_, old, _ = r.WorkingSet(ctx, "feature")
	if _, err := r.UpdateWorkingSet(ctx, "feature", old, &repo.WorkingSet{Working: w5, Staged: w3}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.CreateTag(ctx, "v1", head, repo.TagOptions{Tagger: repo.Signature{Name: "t", Email: "t@x"}}); err != nil {
		t.Fatal(err)
	}

	backupDir := filepath.Join(t.TempDir(), "b1")
	s.exec("db1", "CALL dolt_backup('add', 'b1', 'file://"+backupDir+"')", "CALL dolt_backup('sync', 'b1')")
	want := refsOf(t, s, "db1")
	if len(want) < 5 {
		t.Fatalf("refs %v", want)
	}
	// Restore needs no current database.
	s.exec("", "CALL dolt_backup('restore', 'file://"+backupDir+"', 'db2')")
	got := refsOf(t, s, "db2")
	if len(got) != len(want) {
		t.Fatalf("restored refs %v, want %v", got, want)
	}
	for name, h := range want {
		if got[name] != h {
			t.Fatalf("restored ref %s = %s, want %s", name, got[name], h)
		}
	}
	if rows := s.rows("db2", "SELECT id, v FROM t ORDER BY id"); strings.Join(rows, ",") != "1|a,2|b,3|c,4|d,5|e,6|f" {
		t.Fatalf("restored rows %v", rows)
	}
	if rows := s.rows("db2", "SELECT n FROM v"); rows[0] != "6" {
		t.Fatalf("restored view: %v", rows)
	}
	if rows := s.rows("db2", "SELECT id FROM t WHERE v = 'e'"); rows[0] != "5" {
		t.Fatalf("restored index: %v", rows)
	}
	// No backups configured in the restored database.
	if rows := s.rows("db2", "SELECT * FROM dolt_backups"); len(rows) != 0 {
		t.Fatalf("restored database has backups: %v", rows)
	}
	// AUTO_INCREMENT goes on from the restored counter.
	s.exec("db2", "INSERT INTO t (v) VALUES ('g')")
	if rows := s.rows("db2", "SELECT MAX(id) FROM t"); rows[0] != "7" {
		t.Fatalf("auto-increment after restore: %v", rows)
	}

	// Restoring over db2 needs --force; with it, db2 becomes the backup
	// again (its change is gone), once the new copy is complete.
	s.fails("", "CALL dolt_backup('restore', 'file://"+backupDir+"', 'db2')", "database 'db2' already exists, use '--force' to overwrite")
	s.exec("", "CALL dolt_backup('restore', '--force', 'file://"+backupDir+"', 'db2')")
	if rows := s.rows("db2", "SELECT COUNT(*) FROM t"); rows[0] != "6" {
		t.Fatalf("after restore --force: %v", rows)
	}
	// A damaged backup: the restore fails and db2 stays as it was. (The
	// first sync copied the database's files: damage the largest.)
	files, _ := filepath.Glob(filepath.Join(backupDir, "base", "*", "files", "*"))
	if len(files) == 0 {
		t.Fatal("the first sync wrote no base")
	}
	largest, size := "", int64(-1)
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && fi.Size() > size {
			largest, size = f, fi.Size()
		}
	}
	b, _ := os.ReadFile(largest)
	b[len(b)/2] ^= 0x55
	os.WriteFile(largest, b, 0o644)
	s.exec("db2", "INSERT INTO t (v) VALUES ('kept')")
	_, err = s.e.Query(s.ctx(""), "CALL dolt_backup('restore', 'file://"+backupDir+"', 'db2', '--force')")
	if err == nil || !strings.Contains(err.Error(), "backup is corrupt") {
		t.Fatalf("restore of a damaged backup = %v", err)
	}
	if rows := s.rows("db2", "SELECT COUNT(*) FROM t"); rows[0] != "7" {
		t.Fatalf("db2 after a failed restore --force: %v", rows)
	}
	entries, _ := os.ReadDir(s.dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") && e.Name() != ".cairn" {
			t.Errorf("a failed restore left %s", e.Name())
		}
	}
}
