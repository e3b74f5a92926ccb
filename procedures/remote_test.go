package procedures

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestRemotesPushCloneFetchPull(t *testing.T) {
	s := newTestServer(t)
	s.exec("", "CREATE DATABASE db1")
	remoteURL := "file://" + filepath.Join(t.TempDir(), "remote")
	c1, c2 := s.ctx("db1"), s.ctx("")
	q := func(ctx any, query string) string {
		t.Helper()
		c := c1
		if ctx == 2 {
			c = c2
		}
		res, err := s.e.Query(c, query)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		var rows []string
		for _, r := range res.Rows {
			var cells []string
			for _, v := range r {
				if v == nil {
					cells = append(cells, "NULL")
				} else {
					cells = append(cells, *v)
				}
			}
			rows = append(rows, strings.Join(cells, "|"))
		}
		return strings.Join(rows, ",")
	}
	fails := func(ctx any, query, msg string) {
		t.Helper()
		c := c1
		if ctx == 2 {
			c = c2
		}
		_, err := s.e.Query(c, query)
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s = %v, want an error with %q", query, err, msg)
		}
	}
	q(1, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))")
	q(1, "INSERT INTO t VALUES (1, 'a'), (2, 'b')")
	q(1, "CALL dolt_commit('-Am', 'first')")
	fails(1, "CALL dolt_push()", "fatal: The current branch main has no upstream branch.")
	fails(1, "CALL dolt_push('origin', 'main')", "fatal: remote 'origin' not found.")
	q(1, "CALL dolt_remote('add', 'origin', '"+remoteURL+"')")
	fails(1, "CALL dolt_remote('add', 'origin', 'file:///elsewhere')", "remote 'origin' already exists.")
	fails(1, "CALL dolt_backup('add', 'b', '"+remoteURL+"')", "address conflict with a remote: 'origin' -> "+remoteURL)
	if got := q(1, "SELECT name, url, fetch_specs FROM dolt_remotes"); got != `origin|`+remoteURL+`|["refs/heads/*:refs/remotes/origin/*"]` {
		t.Fatalf("dolt_remotes: %q", got)
	}
	if got := q(1, "CALL dolt_push('--set-upstream', 'origin', 'main')"); got != "0|To "+remoteURL+"\n * [new branch]          main -> main" {
		t.Fatalf("first push: %q", got)
	}
	if got := q(1, "CALL dolt_push()"); got != "0|Everything up-to-date" {
		t.Fatalf("push with nothing new: %q", got)
	}
	if got := q(1, "SELECT name FROM dolt_remote_branches"); got != "remotes/origin/main" {
		t.Fatalf("remote branches after push: %q", got)
	}

	// Clone into db2: origin configured, main tracking origin/main.
	q(2, "CALL dolt_clone('"+remoteURL+"', 'db2')")
	q(2, "USE db2")
	if got := q(2, "SELECT id, v FROM t ORDER BY id"); got != "1|a,2|b" {
		t.Fatalf("cloned rows: %q", got)
	}
	if got := q(2, "SELECT name FROM dolt_remotes"); got != "origin" {
		t.Fatalf("clone's remotes: %q", got)
	}
	fails(2, "CALL dolt_clone('"+remoteURL+"', 'db2')", "database 'db2' already exists")
	// db2 commits and pushes (its upstream was set by the clone).
	q(2, "UPDATE t SET v = 'B' WHERE id = 2")
	q(2, "CALL dolt_commit('-am', 'from db2')")
	if got := q(2, "CALL dolt_push()"); !strings.HasPrefix(got, "0|To "+remoteURL+"\n   ") || !strings.HasSuffix(got, "  main -> main") {
		t.Fatalf("fast-forward push from db2: %q", got)
	}
	// db1 commits something else: its push is rejected, a pull merges.
	q(1, "INSERT INTO t VALUES (3, 'c')")
	q(1, "CALL dolt_commit('-am', 'from db1')")
	fails(1, "CALL dolt_push()", " ! [rejected]            main -> main (non-fast-forward)\nerror: failed to push some refs to '"+remoteURL+"'\nhint: Updates were rejected")
	q(1, "INSERT INTO t VALUES (4, 'dirty')")
	fails(1, "CALL dolt_pull()", "cannot merge with uncommitted changes")
	q(1, "CALL dolt_reset('--hard')")
	if got := q(1, "CALL dolt_pull()"); got != "0|0|merge successful" {
		t.Fatalf("pull with a merge: %q", got)
	}
	if got := q(1, "SELECT id, v FROM t ORDER BY id"); got != "1|a,2|B,3|c" {
		t.Fatalf("db1 after the pull: %q", got)
	}
	if got := q(1, "CALL dolt_push()"); !strings.HasSuffix(got, "  main -> main") {
		t.Fatalf("push after the pull: %q", got)
	}
	// db2 fetches and fast-forwards.
	q(2, "CALL dolt_fetch()")
	if got := q(2, "CALL dolt_pull('origin')"); got != "1|0|merge successful" {
		t.Fatalf("fast-forward pull: %q", got)
	}
	if got := q(2, "SELECT COUNT(*) FROM t"); got != "3" {
		t.Fatalf("db2 after pull: %q", got)
	}
	// A rewritten history needs --force.
	q(2, "CALL dolt_reset('--hard', 'HEAD~1')")
	q(2, "INSERT INTO t VALUES (9, 'rewrite')")
	q(2, "CALL dolt_commit('-am', 'rewrite')")
	fails(2, "CALL dolt_push()", "(non-fast-forward)")
	if got := q(2, "CALL dolt_push('--force')"); !strings.Contains(got, "(forced update)") {
		t.Fatalf("forced push: %q", got)
	}
	// Branches: push one, delete it at the remote.
	q(1, "CALL dolt_branch('feature')")
	if got := q(1, "CALL dolt_push('origin', 'feature')"); !strings.Contains(got, " * [new branch]          feature -> feature") {
		t.Fatalf("push of a branch: %q", got)
	}
	if got := q(1, "CALL dolt_push('origin', ':feature')"); !strings.Contains(got, " - [deleted]") {
		t.Fatalf("delete of a remote branch: %q", got)
	}
	fails(1, "CALL dolt_push('origin', ':feature')", "remote ref does not exist")
	q(2, "CALL dolt_fetch('--prune')")
	if got := q(2, "SELECT name FROM dolt_remote_branches"); got != "remotes/origin/main" {
		t.Fatalf("remote branches after fetch --prune: %q", got)
	}
	// Removing the remote removes its tracking branches.
	q(1, "CALL dolt_remote('remove', 'origin')")
	if got := q(1, "SELECT COUNT(*) FROM dolt_remote_branches"); got != "0" {
		t.Fatalf("remote branches after remove: %q", got)
	}
	fails(1, "CALL dolt_remote('rm', 'origin')", "unknown remote: 'origin'")

	// A backup directory can be cloned too.
	backupURL := "file://" + filepath.Join(t.TempDir(), "backup")
	q(1, "CALL dolt_backup('sync-url', '"+backupURL+"')")
	q(2, "CALL dolt_clone('"+backupURL+"', 'db3')")
	q(2, "USE db3")
	if got := q(2, "SELECT id FROM t ORDER BY id"); got != "1,2,3" {
		t.Fatalf("clone of a backup: %q", got)
	}
	// Its origin is the backup, to which a push is refused.
	fails(2, "CALL dolt_push('origin', 'main')", "holds a backup, not a remote")
}
