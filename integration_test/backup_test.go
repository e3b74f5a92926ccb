package integration_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// cli runs the cairn binary in dir with extra environment and returns its
// exit code, stdout and stderr.
func cli(t *testing.T, dir string, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(cairnBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errOut.String()
}

// mustCLI runs the cairn binary and fails the test unless it succeeds.
func mustCLI(t *testing.T, dir string, args ...string) string {
	t.Helper()
	code, out, errOut := cli(t, dir, nil, args...)
	if code != 0 {
		t.Fatalf("cairn %s (in %s): exit %d\n%s%s", strings.Join(args, " "), dir, code, out, errOut)
	}
	return out
}

func queryRows(t *testing.T, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var cells []string
		for _, v := range vals {
			if v.Valid {
				cells = append(cells, v.String)
			} else {
				cells = append(cells, "NULL")
			}
		}
		out = append(out, strings.Join(cells, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// The seed example (DESIGN.md's source page), with dolt replaced by cairn,
// with no server and with a server holding the data directory: the CLI
// sends its work to the server, the relative URLs mean the same place, and
// the restored database is served at once.
func TestBackupSeedExample(t *testing.T) {
	for _, withServer := range []bool{false, true} {
		t.Run(fmt.Sprint("server=", withServer), func(t *testing.T) {
			top := t.TempDir()
			repo1 := filepath.Join(top, "repo1")
			os.Mkdir(repo1, 0o755)
			mustCLI(t, repo1, "init", "--name", "Ada", "--email", "ada@example.com")
			mustCLI(t, repo1, "sql", "-q", "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10)); INSERT INTO t VALUES (1, 'one'), (2, 'two')")
			var s *server
			if withServer {
				s = startServer(t, top)
			}
			mustCLI(t, repo1, "backup", "add", "backup1", "file://../backups/backup1")
			mustCLI(t, repo1, "backup", "sync", "backup1")
			if _, err := os.Stat(filepath.Join(top, "backups", "backup1", "manifest.json")); err != nil {
				t.Fatalf("the backup is not at ../backups/backup1: %v", err)
			}
			out := mustCLI(t, repo1, "backup", "-v")
			if want := "backup1 file://" + filepath.Join(top, "backups", "backup1") + " {}\n"; out != want {
				t.Fatalf("backup -v = %q, want %q", out, want)
			}
			mustCLI(t, top, "backup", "restore", "file://./backups/backup1", "repo2")
			// cairn branch -a and cairn status arrive with #6: the same facts
			// through SQL.
			if withServer {
				db := s.connect(t, "root", "", "repo2")
				if got := queryRows(t, db, "SELECT * FROM t ORDER BY id"); strings.Join(got, ",") != "1|one,2|two" {
					t.Fatalf("restored rows, served at once: %v", got)
				}
				return
			}
			out = mustCLI(t, filepath.Join(top, "repo2"), "sql", "-r", "csv", "-q", "SELECT * FROM t ORDER BY id")
			if out != "id,v\n1,one\n2,two\n" {
				t.Fatalf("restored rows: %q", out)
			}
			out = mustCLI(t, filepath.Join(top, "repo2"), "backup", "verify", "file://../backups/backup1")
			if !strings.Contains(out, ": OK") {
				t.Fatalf("verify: %q", out)
			}
		})
	}
}

// CALL dolt_backup('sync') from go-sql-driver while 4 writers insert and
// commit and a reader runs a checksum query: the restored database is the
// source as of one instant (each writer's committed transactions up to
// some point, whole), and every secondary index agrees with its table.
func TestBackupOnlineConsistency(t *testing.T) {
	top := t.TempDir()
	s := startServer(t, top)
	root := s.connect(t, "root", "", "")
	mustExec(t, root, "CREATE DATABASE src")
	db := s.connect(t, "root", "", "src")
	mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY, writer INT NOT NULL, seq INT NOT NULL, pad VARCHAR(100), KEY by_writer (writer, seq))")
	// Some bulk first, so the sync takes a while.
	for i := range 20 {
		var sb strings.Builder
		sb.WriteString("INSERT INTO t VALUES ")
		for j := range 1000 {
			if j > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "(%d, 0, %d, '%s')", 1_000_000+i*1000+j, i*1000+j, strings.Repeat("p", 90))
		}
		mustExec(t, db, sb.String())
	}
	backupDir := filepath.Join(top, "backups", "b1")
	mustExec(t, db, "CALL dolt_backup('add', 'b1', ?)", "file://"+backupDir)

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	committed := make([][]int, 5) // per writer: the seqs of its acknowledged transactions
	var mu sync.Mutex
	for w := 1; w <= 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn := s.connect(t, "root", "", "src")
			for seq := 0; ctx.Err() == nil; seq++ {
				tx, err := conn.Begin()
				if err != nil {
					t.Error(err)
					return
				}
				// Three rows per transaction: all or none.
				for k := range 3 {
					id := w*100_000 + seq*3 + k
					if _, err := tx.Exec("INSERT INTO t VALUES (?, ?, ?, 'x')", id, w, seq); err != nil {
						t.Error(err)
						tx.Rollback()
						return
					}
				}
				if err := tx.Commit(); err != nil {
					if strings.Contains(err.Error(), "1213") {
						seq-- // retry the same sequence number
						continue
					}
					t.Error(err)
					return
				}
				mu.Lock()
				committed[w] = append(committed[w], seq)
				mu.Unlock()
			}
		}()
	}
	var checksums atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		conn := s.connect(t, "root", "", "src")
		for ctx.Err() == nil {
			var n, sum sql.NullInt64
			if err := conn.QueryRow("SELECT COUNT(*), SUM(id) FROM t").Scan(&n, &sum); err != nil {
				t.Error(err)
				return
			}
			checksums.Add(1)
		}
	}()
	time.Sleep(300 * time.Millisecond)
	for range 3 {
		if _, err := db.Exec("CALL dolt_backup('sync', 'b1')"); err != nil {
			t.Fatalf("sync under load: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	wg.Wait()
	if checksums.Load() == 0 {
		t.Fatal("the reader never completed a query")
	}
	mustExec(t, root, "CALL dolt_backup('restore', ?, 'copy')", "file://"+backupDir)
	cp := s.connect(t, "root", "", "copy")
	if got := queryRows(t, cp, "SELECT COUNT(*) FROM t WHERE writer = 0"); got[0] != "20000" {
		t.Fatalf("bulk rows in the copy: %v", got)
	}
	for w := 1; w <= 4; w++ {
		seqs := queryRows(t, cp, "SELECT seq, COUNT(*) FROM t WHERE writer = ? GROUP BY seq ORDER BY seq", w)
		if len(seqs) > len(committed[w])+1 {
			t.Fatalf("writer %d: the copy has %d transactions, only %d were committed", w, len(seqs), len(committed[w]))
		}
		for i, row := range seqs {
			// A prefix of the writer's transactions, each whole.
			if want := fmt.Sprintf("%d|3", i); row != want {
				t.Fatalf("writer %d: transaction %d in the copy is %q, want %q (a prefix of whole transactions)", w, i, row, want)
			}
		}
		t.Logf("writer %d: %d of %d transactions in the last backup", w, len(seqs), len(committed[w]))
	}
	// The index agrees with the table.
	byIndex := queryRows(t, cp, "SELECT id FROM t FORCE INDEX (by_writer) WHERE writer >= 0 ORDER BY id")
	byTable := queryRows(t, cp, "SELECT id FROM t IGNORE INDEX (by_writer) ORDER BY id")
	if strings.Join(byIndex, ",") != strings.Join(byTable, ",") {
		t.Fatalf("index and table disagree in the copy: %d vs %d rows", len(byIndex), len(byTable))
	}
	out := mustCLI(t, top, "backup", "verify", "file://"+backupDir)
	if !strings.Contains(out, ": OK") {
		t.Fatal(out)
	}
}

// SIGKILL of the server at random moments during large syncs: the
// previous backup still verifies and restores, and the next sync, after a
// restart, completes (the dead server's lock does not block it).
func TestBackupSurvivesSIGKILL(t *testing.T) {
	top := t.TempDir()
	s := startServer(t, top)
	db := s.connect(t, "root", "", "")
	mustExec(t, db, "CREATE DATABASE src")
	mustExec(t, db, "CREATE TABLE src.t (id INT PRIMARY KEY, v VARCHAR(200))")
	db = s.connect(t, "root", "", "src")
	backupDir := filepath.Join(top, "backups", "b1")
	next := 0
	grow := func(db *sql.DB, rows int) {
		for done := 0; done < rows; done += 2000 {
			var sb strings.Builder
			sb.WriteString("INSERT INTO src.t VALUES ")
			for j := range 2000 {
				if j > 0 {
					sb.WriteByte(',')
				}
				fmt.Fprintf(&sb, "(%d, '%d-%s')", next, rand.Int64(), strings.Repeat("v", 150))
				next++
			}
			mustExec(t, db, sb.String())
		}
	}
	grow(db, 20000)
	mustExec(t, db, "CALL dolt_backup('add', 'b1', ?)", "file://"+backupDir)
	mustExec(t, db, "CALL dolt_backup('sync', 'b1')")
	// The first sync copied the database's files; the next ones send the
	// new rows' chunks (the second also walks the first's refs once). The
	// kills fall within the time one of them takes.
	grow(db, 10000)
	start := time.Now()
	mustExec(t, db, "CALL dolt_backup('sync', 'b1')")
	full := time.Since(start)
	t.Logf("a sync after adding 10000 rows to %d takes %v", next-10000, full)
	kills, completed := 0, 0
	for round := range 10 {
		grow(db, 10000)
		var before int
		db.QueryRow("SELECT COUNT(*) FROM src.t").Scan(&before)
		errc := make(chan error, 1)
		go func() { _, err := db.Exec("CALL dolt_backup('sync', 'b1')"); errc <- err }()
		time.Sleep(time.Duration(rand.Int64N(int64(full) + 1)))
		s.cmd.Process.Kill()
		s.cmd.Wait()
		if err := <-errc; err == nil {
			completed++
		} else {
			kills++
		}
		// The backup verifies and restores: to the state before or after
		// this round's sync.
		out := mustCLI(t, top, "backup", "verify", "file://"+backupDir)
		if !strings.Contains(out, ": OK") {
			t.Fatalf("round %d: %s", round, out)
		}
		name := fmt.Sprintf("r%d", round)
		mustCLI(t, top, "backup", "restore", "file://"+backupDir, name)
		s = startServer(t, top)
		db = s.connect(t, "root", "", "src")
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM " + name + ".t").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != before && n != before-10000 {
			t.Fatalf("round %d: the restored backup has %d rows; the source had %d before this round's sync, %d after", round, n, before-10000, before)
		}
		mustExec(t, db, "DROP DATABASE "+name)
		// The next sync completes, over the dead server's lock.
		mustExec(t, db, "CALL dolt_backup('sync', 'b1')")
	}
	t.Logf("%d syncs killed midway, %d completed before the kill", kills, completed)
	if kills == 0 {
		t.Error("no sync was killed midway")
	}
	mustCLI(t, top, "backup", "verify", "file://"+backupDir)
}

// A flipped byte in a pack, or in a file of the base the first sync
// copied: verify and restore fail, naming the object or chunk, and the
// restore leaves nothing behind.
func TestBackupCorruption(t *testing.T) {
	top := t.TempDir()
	repo := filepath.Join(top, "db1")
	os.Mkdir(repo, 0o755)
	mustCLI(t, repo, "init")
	mustCLI(t, repo, "sql", "-q", "CREATE TABLE t (id INT PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, REPEAT('a', 5000)), (2, 'b')")
	mustCLI(t, repo, "backup", "add", "b1", "file://../b1")
	mustCLI(t, repo, "backup", "sync", "b1")
	mustCLI(t, repo, "sql", "-q", "INSERT INTO t VALUES (3, REPEAT('c', 5000))")
	mustCLI(t, repo, "backup", "sync", "b1")
	out := mustCLI(t, repo, "backup", "verify", "b1")
	if !strings.Contains(out, "a base of") || !strings.Contains(out, "1 packs") {
		t.Fatalf("verify of a base and a pack: %s", out)
	}
	packs, _ := filepath.Glob(filepath.Join(top, "b1", "packs", "*.pack"))
	files, _ := filepath.Glob(filepath.Join(top, "b1", "base", "*", "files", "*.sst"))
	if len(packs) != 1 || len(files) == 0 {
		t.Fatalf("%d packs, %d tables in the base", len(packs), len(files))
	}
	for _, c := range []struct{ object, problem string }{
		{packs[0], "checksum mismatch"},
		{files[0], "CRC-32C"},
	} {
		good, _ := os.ReadFile(c.object)
		b := append([]byte(nil), good...)
		b[20] ^= 0x01
		os.WriteFile(c.object, b, 0o644)
		code, out, errOut := cli(t, repo, nil, "backup", "verify", "b1")
		if code == 0 || !strings.Contains(errOut, "failed verification") || !strings.Contains(errOut, filepath.Base(c.object)) || !strings.Contains(errOut, c.problem) {
			t.Fatalf("verify of a damaged backup: exit %d\n%s%s", code, out, errOut)
		}
		code, out, errOut = cli(t, top, nil, "backup", "restore", "file://./b1", "db2")
		if code == 0 || !strings.Contains(errOut, "backup is corrupt") {
			t.Fatalf("restore of a damaged backup: exit %d\n%s%s", code, out, errOut)
		}
		entries, _ := os.ReadDir(top)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		sort.Strings(names)
		if strings.Join(names, ",") != "b1,db1" {
			t.Fatalf("a failed restore left %v", names)
		}
		os.WriteFile(c.object, good, 0o644)
	}
	mustCLI(t, top, "backup", "restore", "file://./b1", "db2")
	out = mustCLI(t, filepath.Join(top, "db2"), "sql", "-q", "SELECT COUNT(*) FROM t")
	if !strings.Contains(out, "3") {
		t.Fatalf("restored: %s", out)
	}
}

// Two servers on two data directories sync to one destination at once:
// one waits or fails with a clear error, and the backup stays valid.
func TestBackupConcurrentSyncs(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "shared")
	var servers []*sql.DB
	for i := range 2 {
		s := startServer(t, t.TempDir())
		db := s.connect(t, "root", "", "")
		mustExec(t, db, "CREATE DATABASE d")
		mustExec(t, db, "CREATE TABLE d.t (id INT PRIMARY KEY, v TEXT)")
		for j := range 20 {
			mustExec(t, db, fmt.Sprintf("INSERT INTO d.t SELECT %d + seq, REPEAT('x', 200) FROM (WITH RECURSIVE s(seq) AS (SELECT 0 UNION ALL SELECT seq + 1 FROM s WHERE seq < 999) SELECT seq FROM s) q", i*1_000_000+j*1000))
		}
		servers = append(servers, s.connect(t, "root", "", "d"))
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, db := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = db.Exec("CALL dolt_backup('sync-url', ?)", "file://"+dest)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case strings.Contains(err.Error(), "is locked by a sync of database 'd' on host"):
			t.Logf("the other sync: %v", err)
		default:
			t.Fatalf("concurrent sync: %v", err)
		}
	}
	if ok == 0 {
		t.Fatal("neither sync succeeded")
	}
	code, out, errOut := cli(t, t.TempDir(), nil, "backup", "verify", "file://"+dest)
	if code != 0 {
		t.Fatalf("verify after concurrent syncs: %s%s", out, errOut)
	}
}

// dolt_backup needs SUPER or an explicit EXECUTE grant on it.
func TestBackupPrivileges(t *testing.T) {
	top := t.TempDir()
	s := startServer(t, top)
	root := s.connect(t, "root", "", "")
	mustExec(t, root, "CREATE DATABASE d")
	mustExec(t, root, "CREATE USER 'app'@'%' IDENTIFIED BY 'pw'")
	mustExec(t, root, "GRANT ALL ON d.* TO 'app'@'%'")
	app := s.connect(t, "app", "pw", "d")
	dest := "file://" + filepath.Join(top, "b")
	_, err := app.Exec("CALL dolt_backup('sync-url', ?)", dest)
	if a := sqlAnswerOf(err); a.Number != 1370 || !strings.Contains(a.Msg, "dolt_backup") {
		t.Fatalf("sync without the grant: %v", a)
	}
	mustExec(t, root, "GRANT EXECUTE ON PROCEDURE d.dolt_backup TO 'app'@'%'")
	if _, err := app.Exec("CALL dolt_backup('sync-url', ?)", dest); err != nil {
		t.Fatalf("sync with the grant: %v", err)
	}
	// Errors reach the client as MySQL errors with Dolt's texts.
	_, err = app.Exec("CALL dolt_backup('sync', 'nope')")
	if a := sqlAnswerOf(err); a.Number != 1105 || a.Msg != "backup 'nope' not found" {
		t.Fatalf("unknown backup: %v", a)
	}
	// The CLI through the server uses CAIRN_USER/CAIRN_PASSWORD.
	repo := filepath.Join(top, "d")
	code, out, errOut := cli(t, repo, []string{"CAIRN_USER=app", "CAIRN_PASSWORD=wrong"}, "backup", "sync-url", dest)
	if code == 0 || !strings.Contains(errOut, "1045") && !strings.Contains(errOut, "Access denied") {
		t.Fatalf("CLI with a wrong password: exit %d %s%s", code, out, errOut)
	}
	code, out, errOut = cli(t, repo, []string{"CAIRN_USER=app", "CAIRN_PASSWORD=pw"}, "backup", "sync-url", dest)
	if code != 0 || !strings.Contains(out, "through the cairn server") {
		t.Fatalf("CLI through the server: exit %d %s%s", code, out, errOut)
	}
}
