package integration_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Restoring a previous point on a running server: CALL dolt_reset('--hard',
// hash) brings the committed data back while other connections keep
// reading and writing; a branch made at an old commit shows the old data
// beside the current.
func TestRestorePreviousPointOnRunningServer(t *testing.T) {
	top := t.TempDir()
	s := startServer(t, top)
	root := s.connect(t, "root", "", "")
	mustExec(t, root, "CREATE DATABASE shop")
	db := s.connect(t, "root", "", "shop")
	mustExec(t, db, "CREATE TABLE orders (id INT PRIMARY KEY, total INT)")
	mustExec(t, db, "CREATE TABLE log (id INT AUTO_INCREMENT PRIMARY KEY, at VARCHAR(80))")
	mustExec(t, db, "INSERT INTO orders VALUES (1, 10), (2, 20)")
	var good string
	if err := db.QueryRow("CALL dolt_commit('-Am', 'good state')").Scan(&good); err != nil {
		t.Fatal(err)
	}
	// A bad change, committed.
	mustExec(t, db, "DELETE FROM orders")
	mustExec(t, db, "CALL dolt_commit('-am', 'oops')")

	// Other connections keep working meanwhile.
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var reads, writes atomic.Int64
	var errs []string
	var mu sync.Mutex
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := s.connect(t, "root", "", "shop")
			for ctx.Err() == nil {
				var n int
				err := c.QueryRow("SELECT COUNT(*) FROM orders").Scan(&n)
				if err == nil {
					reads.Add(1)
					if i == 0 {
						if _, err = c.Exec("INSERT INTO log (at) VALUES (?)", time.Now().String()); err == nil {
							writes.Add(1)
						} else if strings.Contains(err.Error(), "1213") {
							err = nil // a write that raced the reset: retried
						}
					}
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err.Error())
					mu.Unlock()
					return
				}
			}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	mustExec(t, db, "CALL dolt_reset('--hard', ?)", good)
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM orders").Scan(&n); err != nil || n != 2 {
		t.Fatalf("orders after reset --hard to the good commit: %d, %v", n, err)
	}
	// The other way: a branch at the old commit, read beside main.
	mustExec(t, db, "CALL dolt_branch('before_oops', ?)", good)
	var old int
	if err := db.QueryRow("SELECT SUM(total) FROM `shop/before_oops`.orders").Scan(&old); err != nil || old != 30 {
		t.Fatalf("orders on a branch at the good commit: %d, %v", old, err)
	}
	time.Sleep(200 * time.Millisecond)
	stop()
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("other connections failed during the restore: %v", errs)
	}
	if reads.Load() == 0 || writes.Load() == 0 {
		t.Fatalf("other connections made no progress: %d reads, %d writes", reads.Load(), writes.Load())
	}
	t.Logf("other connections: %d reads, %d writes during the restore", reads.Load(), writes.Load())
}

// The version-control CLI sends its work to the server that holds the
// database: a commit made from the shell shows in the server's dolt_log,
// and cairn checkout sets the branch new sessions start on.
func TestVersionControlCLIThroughServer(t *testing.T) {
	top := t.TempDir()
	s := startServer(t, top)
	root := s.connect(t, "root", "", "")
	mustExec(t, root, "CREATE DATABASE shop")
	dir := filepath.Join(top, "shop")
	db := s.connect(t, "root", "", "shop")
	mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY)")
	mustExec(t, db, "INSERT INTO t VALUES (1)")
	out := mustCLI(t, dir, "status")
	if !strings.Contains(out, "new table:        t") {
		t.Fatalf("status through the server: %q", out)
	}
	mustCLI(t, dir, "commit", "-Am", "from the shell")
	var msg, committer string
	if err := db.QueryRow("SELECT message, committer FROM dolt_log LIMIT 1").Scan(&msg, &committer); err != nil || msg != "from the shell" || committer != "root" {
		t.Fatalf("dolt_log after a CLI commit: %q by %q, %v", msg, committer, err)
	}
	mustCLI(t, dir, "checkout", "-b", "dev")
	if out := mustCLI(t, dir, "branch"); out != "* dev\n  main\n" {
		t.Fatalf("branch through the server: %q", out)
	}
	fresh := s.connect(t, "root", "", "shop")
	fresh.SetMaxIdleConns(0)
	var b string
	if err := fresh.QueryRow("SELECT active_branch()").Scan(&b); err != nil || b != "dev" {
		t.Fatalf("a new session's branch after cairn checkout -b dev: %q, %v", b, err)
	}
	code, out, errOut := cli(t, dir, nil, "branch", "-d", "dev")
	if code == 0 || !strings.Contains(errOut, "Cannot delete checked out branch 'dev'") {
		t.Fatalf("deleting the checked-out branch: %d %s%s", code, out, errOut)
	}
}
