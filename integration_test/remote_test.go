package integration_test

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// scalar runs a query returning one value.
func scalar(t *testing.T, db *sql.DB, q string, args ...any) string {
	t.Helper()
	var s sql.NullString
	if err := db.QueryRow(q, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return s.String
}

// Two servers on two data directories share a remote: push from A, clone
// on B, commit on both, a refused non-fast-forward, pull with a merge, a
// force push, a deleted remote branch.
func TestRemotesAcrossTwoServers(t *testing.T) {
	remoteURL := "file://" + filepath.Join(t.TempDir(), "remote")
	a := startServer(t, t.TempDir())
	b := startServer(t, t.TempDir())
	mustExec(t, a.connect(t, "root", "", ""), "CREATE DATABASE shop")
	da := a.connect(t, "root", "", "shop")
	mustExec(t, da, "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20))")
	mustExec(t, da, "INSERT INTO items VALUES (1, 'apple'), (2, 'pear')")
	mustExec(t, da, "CALL dolt_commit('-Am', 'first')")
	mustExec(t, da, "CALL dolt_remote('add', 'origin', ?)", remoteURL)
	var status int
	var msg string
	if err := da.QueryRow("CALL dolt_push('-u', 'origin', 'main')").Scan(&status, &msg); err != nil || !strings.Contains(msg, "[new branch]") {
		t.Fatalf("push from A: %q %v", msg, err)
	}
	// Clone on B.
	rb := b.connect(t, "root", "", "")
	mustExec(t, rb, "CALL dolt_clone(?, 'shop')", remoteURL)
	db := b.connect(t, "root", "", "shop")
	if n := scalar(t, db, "SELECT COUNT(*) FROM items"); n != "2" {
		t.Fatalf("rows on B after the clone: %s", n)
	}
	// Both commit; B pushes first, A is refused, pulls (a merge), pushes.
	mustExec(t, db, "UPDATE items SET name = 'PEAR' WHERE id = 2")
	mustExec(t, db, "CALL dolt_commit('-am', 'B edits pear')")
	mustExec(t, db, "CALL dolt_push()")
	mustExec(t, da, "INSERT INTO items VALUES (3, 'plum')")
	mustExec(t, da, "CALL dolt_commit('-am', 'A adds plum')")
	_, err := da.Exec("CALL dolt_push()")
	if a := sqlAnswerOf(err); a.Number != 1105 || !strings.Contains(a.Msg, "! [rejected]            main -> main (non-fast-forward)") || !strings.Contains(a.Msg, "hint: Updates were rejected") {
		t.Fatalf("non-fast-forward push: %v", a)
	}
	var ff, conflicts int
	if err := da.QueryRow("CALL dolt_pull()").Scan(&ff, &conflicts, &msg); err != nil || ff != 0 || conflicts != 0 {
		t.Fatalf("pull with a merge: %d %d %q %v", ff, conflicts, msg, err)
	}
	mustExec(t, da, "CALL dolt_push()")
	if err := db.QueryRow("CALL dolt_pull()").Scan(&ff, &conflicts, &msg); err != nil || ff != 1 {
		t.Fatalf("fast-forward pull on B: %d %q %v", ff, msg, err)
	}
	if got := strings.Join(queryRows(t, db, "SELECT id, name FROM items ORDER BY id"), ","); got != "1|apple,2|PEAR,3|plum" {
		t.Fatalf("B after pulling the merge: %s", got)
	}
	// A force push from B after rewriting; a deleted remote branch.
	mustExec(t, db, "CALL dolt_reset('--hard', 'HEAD~2')")
	mustExec(t, db, "CALL dolt_commit('--allow-empty', '-m', 'rewritten')")
	if _, err := db.Exec("CALL dolt_push()"); err == nil {
		t.Fatal("a push of rewritten history went through without --force")
	}
	mustExec(t, db, "CALL dolt_push('--force')")
	mustExec(t, da, "CALL dolt_branch('temp')")
	mustExec(t, da, "CALL dolt_push('origin', 'temp')")
	mustExec(t, da, "CALL dolt_push('origin', ':temp')")
	mustExec(t, db, "CALL dolt_fetch('--prune')")
	if got := strings.Join(queryRows(t, db, "SELECT name FROM dolt_remote_branches"), ","); got != "remotes/origin/main" {
		t.Fatalf("B's remote branches: %s", got)
	}
	// Errors and privileges.
	_, err = da.Exec("CALL dolt_push('nowhere', 'main')")
	if a := sqlAnswerOf(err); a.Msg != "fatal: remote 'nowhere' not found." {
		t.Fatalf("unknown remote: %v", a)
	}
	root := a.connect(t, "root", "", "")
	mustExec(t, root, "CREATE USER 'dev'@'%' IDENTIFIED BY 'pw'")
	mustExec(t, root, "GRANT ALL ON shop.* TO 'dev'@'%'")
	dev := a.connect(t, "dev", "pw", "shop")
	_, err = dev.Exec("CALL dolt_push()")
	if a := sqlAnswerOf(err); a.Number != 1370 {
		t.Fatalf("push without the grant: %v", a)
	}
}

// Concurrent pushes from two servers to one remote: in each round exactly
// one history wins, and no commit of the winner is lost.
func TestConcurrentPushesFromTwoServers(t *testing.T) {
	remoteURL := "file://" + filepath.Join(t.TempDir(), "remote")
	a := startServer(t, t.TempDir())
	mustExec(t, a.connect(t, "root", "", ""), "CREATE DATABASE shop")
	da := a.connect(t, "root", "", "shop")
	mustExec(t, da, "CREATE TABLE log (id INT PRIMARY KEY, who VARCHAR(5))")
	mustExec(t, da, "CALL dolt_commit('-Am', 'start')")
	mustExec(t, da, "CALL dolt_remote('add', 'origin', ?)", remoteURL)
	mustExec(t, da, "CALL dolt_push('-u', 'origin', 'main')")
	b := startServer(t, t.TempDir())
	mustExec(t, b.connect(t, "root", "", ""), "CALL dolt_clone(?, 'shop')", remoteURL)
	db := b.connect(t, "root", "", "shop")
	for round := range 5 {
		// Both start from the remote's head.
		for _, c := range []*sql.DB{da, db} {
			mustExec(t, c, "CALL dolt_fetch()")
			mustExec(t, c, "CALL dolt_reset('--hard', 'origin/main')")
		}
		for i, c := range []*sql.DB{da, db} {
			mustExec(t, c, "INSERT INTO log VALUES (?, ?)", round*10+i, fmt.Sprint("s", i))
			mustExec(t, c, "CALL dolt_commit('-am', ?)", fmt.Sprintf("round %d from %d", round, i))
		}
		heads := []string{scalar(t, da, "SELECT hashof('HEAD')"), scalar(t, db, "SELECT hashof('HEAD')")}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, c := range []*sql.DB{da, db} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = c.Exec("CALL dolt_push()")
			}()
		}
		wg.Wait()
		won := -1
		for i, err := range errs {
			if err == nil {
				if won >= 0 {
					t.Fatalf("round %d: both pushes won", round)
				}
				won = i
			} else if !strings.Contains(err.Error(), "non-fast-forward") {
				t.Fatalf("round %d: push %d: %v", round, i, err)
			}
		}
		if won < 0 {
			t.Fatalf("round %d: no push won", round)
		}
		// The remote holds the winner's commit.
		mustExec(t, da, "CALL dolt_fetch()")
		if got := scalar(t, da, "SELECT hashof('origin/main')"); got != heads[won] {
			t.Fatalf("round %d: remote at %s, the winner pushed %s", round, got, heads[won])
		}
	}
}

// SIGKILL of the server during a push leaves the remote as it was (or with
// the whole push); the next push completes.
func TestPushSurvivesSIGKILL(t *testing.T) {
	top := t.TempDir()
	remoteURL := "file://" + filepath.Join(t.TempDir(), "remote")
	s := startServer(t, top)
	mustExec(t, s.connect(t, "root", "", ""), "CREATE DATABASE shop")
	db := s.connect(t, "root", "", "shop")
	mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(200))")
	mustExec(t, db, "CALL dolt_commit('-Am', 'empty')")
	mustExec(t, db, "CALL dolt_remote('add', 'origin', ?)", remoteURL)
	mustExec(t, db, "CALL dolt_push('-u', 'origin', 'main')")
	next := 0
	for round := range 5 {
		var sb strings.Builder
		sb.WriteString("INSERT INTO t VALUES ")
		for j := range 20000 {
			if j > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "(%d, '%d-%s')", next, rand.Int64(), strings.Repeat("x", 150))
			next++
		}
		mustExec(t, db, sb.String())
		mustExec(t, db, "CALL dolt_commit('-am', ?)", fmt.Sprint("round ", round))
		before := scalar(t, db, "SELECT hashof('origin/main')")
		after := scalar(t, db, "SELECT hashof('HEAD')")
		go db.Exec("CALL dolt_push()")
		time.Sleep(time.Duration(rand.IntN(40)) * time.Millisecond)
		s.cmd.Process.Kill()
		s.cmd.Wait()
		// The remote is whole, at the old head or the new one.
		out := mustCLI(t, top, "backup", "verify", remoteURL)
		if !strings.Contains(out, ": OK") {
			t.Fatalf("round %d: %s", round, out)
		}
		s = startServer(t, top)
		db = s.connect(t, "root", "", "shop")
		mustExec(t, db, "CALL dolt_fetch()")
		switch got := scalar(t, db, "SELECT hashof('origin/main')"); got {
		case before:
			t.Logf("round %d: killed before the push landed; the remote kept its head", round)
		case after:
			t.Logf("round %d: the push landed before the kill", round)
		default:
			t.Fatalf("round %d: remote at %s, neither the old head %s nor the new %s", round, got, before, after)
		}
		mustExec(t, db, "CALL dolt_push()")
	}
}
