package integration_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Crash consistency of the server (issue 9): clients run transfers between
// accounts, each with a ledger row, and record the transactions whose
// COMMIT was acknowledged; the server is SIGKILLed at a random moment and
// restarted. Then: every acknowledged transaction is there; every ledger row
// there is whole (each account's balance is its opening balance plus its
// ledger entries, so no transfer is half-applied); money is conserved; every
// secondary index agrees with its table; and everything the refs reach is in
// the store (a full backup of it verifies). CAIRN_LONG=1 runs 100 rounds,
// otherwise 10; CAIRN_CRASH_SEED replays one.
func TestCrashConsistency(t *testing.T) {
	rounds := 10
	if os.Getenv("CAIRN_LONG") != "" {
		rounds = 100
	}
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("CAIRN_CRASH_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("seed %d (CAIRN_CRASH_SEED=%d replays it), %d rounds", seed, seed, rounds)
	rng := rand.New(rand.NewPCG(seed, 1))

	const accounts, opening = 20, 1000
	top := t.TempDir()
	s := startServer(t, top)
	mustExec(t, s.connect(t, "root", "", ""), "CREATE DATABASE bank")
	db := s.connect(t, "root", "", "bank")
	mustExec(t, db, "CREATE TABLE accounts (id INT PRIMARY KEY, balance INT NOT NULL, KEY by_balance (balance))")
	mustExec(t, db, "CREATE TABLE ledger (id BIGINT PRIMARY KEY, src INT NOT NULL, dst INT NOT NULL, amount INT NOT NULL, KEY by_src (src), KEY by_dst (dst))")
	for i := range accounts {
		mustExec(t, db, "INSERT INTO accounts VALUES (?, ?)", i, opening)
	}
	acked := map[int64]bool{}
	var ackMu sync.Mutex
	ack := func(id int64) {
		ackMu.Lock()
		acked[id] = true
		ackMu.Unlock()
	}
	for round := range rounds {
		ctx, stop := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		startTransfers(ctx, t, s, &wg, rng, round, 4, accounts, 50, ack)
		time.Sleep(time.Duration(100+rng.IntN(400)) * time.Millisecond)
		s.cmd.Process.Kill()
		s.cmd.Wait()
		stop()
		wg.Wait()
		s = startServer(t, top)
		db = s.connect(t, "root", "", "bank")
		checkBank(t, db, round, accounts, opening, acked)
	}
	// Everything the refs reach is in the store.
	dest := "file://" + filepath.Join(t.TempDir(), "check")
	mustExec(t, db, "CALL dolt_backup('sync-url', ?)", dest)
	if out := mustCLI(t, top, "backup", "verify", dest); !strings.Contains(out, ": OK") {
		t.Fatal(out)
	}
	t.Logf("%d acknowledged transfers over %d kills", len(acked), rounds)
}

// startTransfers starts clients that loop, until ctx ends or the server
// is gone, on transfers of 1 to maxAmount between random accounts, each
// with an id unique to its round, client and sequence, and calls ack with
// the id of each whose COMMIT was acknowledged. wg counts the clients.
func startTransfers(ctx context.Context, t *testing.T, s *server, wg *sync.WaitGroup, rng *rand.Rand, round, clients, accounts, maxAmount int, ack func(id int64)) {
	for c := range clients {
		wg.Add(1)
		crng := rand.New(rand.NewPCG(rng.Uint64(), uint64(c)))
		go func() {
			defer wg.Done()
			conn := s.connect(t, "root", "", "bank")
			for seq := 0; ctx.Err() == nil; seq++ {
				id := int64(round)*1_000_000 + int64(c)*100_000 + int64(seq)
				a, b := crng.IntN(accounts), crng.IntN(accounts)
				if a == b {
					continue
				}
				if err := transfer(conn, id, a, b, 1+crng.IntN(maxAmount)); err != nil {
					if strings.Contains(err.Error(), "1213") {
						continue // a conflict: not acknowledged, retried with a new id
					}
					return // the server is gone
				}
				ack(id)
			}
		}()
	}
}

func transfer(conn *sql.DB, id int64, a, b, amount int) error {
	tx, err := conn.Begin()
	if err != nil {
		return err
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{"UPDATE accounts SET balance = balance - ? WHERE id = ?", []any{amount, a}},
		{"UPDATE accounts SET balance = balance + ? WHERE id = ?", []any{amount, b}},
		{"INSERT INTO ledger VALUES (?, ?, ?, ?)", []any{id, a, b, amount}},
	} {
		if _, err := tx.Exec(q.sql, q.args...); err != nil {
			tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

func checkBank(t *testing.T, db *sql.DB, round, accounts, opening int, acked map[int64]bool) {
	t.Helper()
	ledger := map[int64]bool{}
	net := make([]int, accounts)
	rows, err := db.Query("SELECT id, src, dst, amount FROM ledger")
	if err != nil {
		t.Fatalf("round %d: %v", round, err)
	}
	for rows.Next() {
		var id int64
		var src, dst, amount int
		if err := rows.Scan(&id, &src, &dst, &amount); err != nil {
			t.Fatal(err)
		}
		ledger[id] = true
		net[src] -= amount
		net[dst] += amount
	}
	rows.Close()
	for id := range acked {
		if !ledger[id] {
			t.Fatalf("round %d: acknowledged transfer %d is lost", round, id)
		}
	}
	total := 0
	for i := range accounts {
		var bal int
		if err := db.QueryRow("SELECT balance FROM accounts WHERE id = ?", i).Scan(&bal); err != nil {
			t.Fatal(err)
		}
		if bal != opening+net[i] {
			t.Fatalf("round %d: account %d holds %d, its ledger says %d: a transfer is half-applied", round, i, bal, opening+net[i])
		}
		total += bal
	}
	if total != accounts*opening {
		t.Fatalf("round %d: %d in all accounts, want %d", round, total, accounts*opening)
	}
	for _, c := range []struct{ index, table, cond string }{
		{"by_balance", "accounts", "balance > -1000000"},
		{"by_src", "ledger", "src >= 0"},
		{"by_dst", "ledger", "dst >= 0"},
	} {
		byIndex := queryRows(t, db, fmt.Sprintf("SELECT id FROM %s FORCE INDEX (%s) WHERE %s ORDER BY id", c.table, c.index, c.cond))
		byTable := queryRows(t, db, fmt.Sprintf("SELECT id FROM %s IGNORE INDEX (%s) ORDER BY id", c.table, c.index))
		if strings.Join(byIndex, ",") != strings.Join(byTable, ",") {
			t.Fatalf("round %d: index %s disagrees with table %s (%d vs %d rows)", round, c.index, c.table, len(byIndex), len(byTable))
		}
	}
}

// Crashes during maintenance (issue 9): besides the transfers, one client
// loops on garbage collection, DDL on another table, branch merges and a
// restore --force of another database, and the server is killed in the
// middle of whichever runs. After each restart the bank invariants hold,
// and every database's store is whole (a full backup of it verifies), the
// restored one included. CAIRN_LONG=1 runs 50 rounds, otherwise 5.
func TestCrashDuringMaintenance(t *testing.T) {
	rounds := 5
	if os.Getenv("CAIRN_LONG") != "" {
		rounds = 50
	}
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("CAIRN_CRASH_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("seed %d, %d rounds", seed, rounds)
	rng := rand.New(rand.NewPCG(seed, 2))
	const accounts, opening = 10, 1000
	top := t.TempDir()
	backupURL := "file://" + filepath.Join(t.TempDir(), "maint-backup")
	s := startServer(t, top)
	root := s.connect(t, "root", "", "")
	mustExec(t, root, "CREATE DATABASE bank")
	mustExec(t, root, "CREATE DATABASE side")
	db := s.connect(t, "root", "", "bank")
	mustExec(t, db, "CREATE TABLE accounts (id INT PRIMARY KEY, balance INT NOT NULL, KEY by_balance (balance))")
	mustExec(t, db, "CREATE TABLE ledger (id BIGINT PRIMARY KEY, src INT NOT NULL, dst INT NOT NULL, amount INT NOT NULL, KEY by_src (src), KEY by_dst (dst))")
	for i := range accounts {
		mustExec(t, db, "INSERT INTO accounts VALUES (?, ?)", i, opening)
	}
	mustExec(t, db, "CALL dolt_commit('-Am', 'opening')")
	side := s.connect(t, "root", "", "side")
	mustExec(t, side, "CREATE TABLE notes (id INT PRIMARY KEY, body VARCHAR(100))")
	mustExec(t, side, "CALL dolt_backup('sync-url', ?)", backupURL)
	acked := map[int64]bool{}
	var ackMu sync.Mutex
	ack := func(id int64) {
		ackMu.Lock()
		acked[id] = true
		ackMu.Unlock()
	}
	steps := map[string]int{}
	for round := range rounds {
		ctx, stop := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		startTransfers(ctx, t, s, &wg, rng, round, 3, accounts, 20, ack)
		wg.Add(1)
		mrng := rand.New(rand.NewPCG(rng.Uint64(), 99))
		go func() {
			defer wg.Done()
			pool := s.connect(t, "root", "", "side")
			m, err := pool.Conn(ctx) // one session: dolt_checkout is per session
			if err != nil {
				return
			}
			defer m.Close()
			names := []string{"gc", "ddl", "commit", "merge", "restore"}
			for i := 0; ctx.Err() == nil; i++ {
				var err error
				step := mrng.IntN(5)
				switch step {
				case 0:
					_, err = m.ExecContext(ctx, "CALL dolt_gc()")
				case 1:
					if _, err = m.ExecContext(ctx, "CREATE INDEX by_body ON notes (body)"); err == nil {
						_, err = m.ExecContext(ctx, "DROP INDEX by_body ON notes")
					}
				case 2:
					_, err = m.ExecContext(ctx, "INSERT INTO notes VALUES (?, 'note')", round*10_000+i)
					if err == nil {
						_, err = m.ExecContext(ctx, "CALL dolt_commit('-am', 'note')")
					}
				case 3:
					b := fmt.Sprintf("b%d_%d", round, i)
					m.ExecContext(ctx, "CALL dolt_commit('-Am', 'before the merge', '--allow-empty')")
					if _, err = m.ExecContext(ctx, "CALL dolt_checkout('-b', ?)", b); err == nil {
						m.ExecContext(ctx, "INSERT INTO notes VALUES (?, 'branch')", 1_000_000+round*10_000+i)
						m.ExecContext(ctx, "CALL dolt_commit('-am', 'on branch')")
						m.ExecContext(ctx, "CALL dolt_checkout('main')")
						_, err = m.ExecContext(ctx, "CALL dolt_merge(?)", b)
					}
				case 4:
					_, err = m.ExecContext(ctx, "CALL dolt_backup('restore', ?, 'restored', '--force')", backupURL)
				}
				if err != nil && !strings.Contains(err.Error(), "1213") && !strings.Contains(err.Error(), "nothing to commit") {
					return // the server is gone, or the maintenance step failed: the checks below judge
				}
				ackMu.Lock()
				steps[names[step]]++
				ackMu.Unlock()
			}
		}()
		time.Sleep(time.Duration(150+rng.IntN(400)) * time.Millisecond)
		s.cmd.Process.Kill()
		s.cmd.Wait()
		stop()
		wg.Wait()
		s = startServer(t, top)
		db = s.connect(t, "root", "", "bank")
		checkBank(t, db, round, accounts, opening, acked)
		for _, name := range []string{"bank", "side", "restored"} {
			conn := s.connect(t, "root", "", "")
			var n int
			if err := conn.QueryRow("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?", name).Scan(&n); err != nil || n == 0 {
				continue // restored may not exist yet
			}
			dest := "file://" + filepath.Join(t.TempDir(), fmt.Sprintf("check-%s-%d", name, round))
			mustExec(t, s.connect(t, "root", "", name), "CALL dolt_backup('sync-url', ?)", dest)
			if out := mustCLI(t, top, "backup", "verify", dest); !strings.Contains(out, ": OK") {
				t.Fatalf("round %d: database %s: %s", round, name, out)
			}
		}
	}
	t.Logf("%d acknowledged transfers over %d kills during maintenance; maintenance steps completed: %v", len(acked), rounds, steps)
}
