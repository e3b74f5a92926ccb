package sqle

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"strconv"
	"sync"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
)

// Concurrent transfers between the rows of one table conserve the total:
// transactions that touch different rows both commit (merged), the same
// row changed by two transactions makes the later COMMIT fail with
// ER_LOCK_DEADLOCK and apply nothing, and a retry then succeeds.
func TestConcurrentTransfers(t *testing.T) {
	const (
		accounts  = 20
		workers   = 8
		transfers = 40 // per worker
		initial   = 1000
	)
	e := newTestEngine(t, t.TempDir())
	ctx := e.NewContext(context.Background(), "")
	query(t, e, ctx, "CREATE DATABASE bank")
	query(t, e, ctx, "USE bank")
	query(t, e, ctx, "CREATE TABLE acct (id INT PRIMARY KEY, balance BIGINT NOT NULL, KEY bal (balance))")
	for i := 0; i < accounts; i++ {
		query(t, e, ctx, fmt.Sprintf("INSERT INTO acct VALUES (%d, %d)", i, initial))
	}

	var wg sync.WaitGroup
	var mu sync.Mutex
	deadlocks := 0
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		seed := int64(w + 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewSource(seed))
			c := e.NewContext(context.Background(), "bank")
			for n := 0; n < transfers; {
				a, b := rng.Intn(accounts), rng.Intn(accounts)
				if a == b {
					continue
				}
				amount := rng.Intn(50) + 1
				err := transfer(e, c, a, b, amount)
				if isDeadlock(err) {
					mu.Lock()
					deadlocks++
					mu.Unlock()
					continue // retry another transfer
				}
				if err != nil {
					errs <- err
					return
				}
				n++
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	expectRows(t, e, ctx, "SELECT sum(balance) FROM acct", strconv.Itoa(accounts*initial))
	// The index agrees with the rows.
	expectRows(t, e, ctx, "SELECT count(*) FROM acct WHERE balance >= -1000000", strconv.Itoa(accounts))
	t.Logf("%d transfers, %d deadlocks retried", workers*transfers, deadlocks)
}

func transfer(e *Engine, c *sql.Context, a, b, amount int) error {
	stmts := []string{
		"START TRANSACTION",
		fmt.Sprintf("SELECT balance FROM acct WHERE id = %d", a),
		fmt.Sprintf("UPDATE acct SET balance = balance - %d WHERE id = %d", amount, a),
		fmt.Sprintf("UPDATE acct SET balance = balance + %d WHERE id = %d", amount, b),
		"COMMIT",
	}
	for _, s := range stmts {
		if _, err := e.Query(c, s); err != nil {
			e.Query(c, "ROLLBACK")
			return err
		}
	}
	return nil
}

func isDeadlock(err error) bool {
	return err != nil && sql.ErrLockDeadlock.Is(errors.Unwrap(err)) || err != nil && sql.ErrLockDeadlock.Is(err)
}

// Two transactions that make the very same change to a row cannot both
// commit: each computed it from the value before the other's (a lost
// update otherwise).
func TestSameChangeConflicts(t *testing.T) {
	e := newTestEngine(t, "")
	ctx := e.NewContext(context.Background(), "")
	query(t, e, ctx, "CREATE DATABASE b")
	query(t, e, ctx, "USE b")
	query(t, e, ctx, "CREATE TABLE acct (id INT PRIMARY KEY, bal INT)")
	query(t, e, ctx, "INSERT INTO acct VALUES (1, 100)")
	a, b := e.NewContext(context.Background(), "b"), e.NewContext(context.Background(), "b")
	for _, c := range []*sql.Context{a, b} {
		query(t, e, c, "BEGIN")
		query(t, e, c, "UPDATE acct SET bal = bal - 10 WHERE id = 1")
	}
	query(t, e, a, "COMMIT")
	if _, err := e.Query(b, "COMMIT"); !isDeadlock(err) {
		t.Fatalf("second COMMIT: %v, want ER_LOCK_DEADLOCK", err)
	}
	// The session is out of the failed transaction: autocommit again.
	query(t, e, b, "INSERT INTO acct VALUES (2, 5)")
	expectRows(t, e, ctx, "SELECT bal FROM acct ORDER BY id", "90", "5")
}
