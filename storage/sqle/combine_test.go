package sqle

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
)

// commitTogether commits the open transactions txs at once: it holds the
// database's publish lock until every COMMIT has queued, in the order
// given, so that the lock's next holder publishes them as one group. It
// returns each COMMIT's error.
func commitTogether(t *testing.T, e *Engine, st *dbState, txs []*sql.Context) []error {
	t.Helper()
	queued := func() int {
		st.combineMu.Lock()
		defer st.combineMu.Unlock()
		return len(st.combineQueue)
	}
	errs := make([]error, len(txs))
	done := make(chan int, len(txs))
	st.publish.Lock()
	for i, ctx := range txs {
		go func() {
			_, errs[i] = e.Query(ctx, "COMMIT")
			done <- i
		}()
		for deadline := time.Now().Add(10 * time.Second); queued() < i+1; {
			if time.Now().After(deadline) {
				st.publish.Unlock()
				t.Fatalf("COMMIT %d did not queue to be published with others", i)
			}
			time.Sleep(time.Millisecond)
		}
	}
	st.publish.Unlock()
	for range txs {
		<-done
	}
	return errs
}

// Concurrent COMMITs whose changes are all deferred row edits are published
// as one working set, with one edit of each tree, when no two of them edit
// one key; otherwise one by one. Either way each gets the result it would
// get alone: rows another transaction changed, the same new key and the
// same unique value are conflicts for the later one only.
func TestCombinedCommits(t *testing.T) {
	dir := t.TempDir()
	e := newTestEngine(t, dir)
	ctx := e.NewContext(context.Background(), "")
	query(t, e, ctx, "CREATE DATABASE d")
	st, ok := e.Provider.state("d")
	if !ok {
		t.Fatal("no state for d")
	}
	setup := func() {
		query(t, e, ctx, "DROP TABLE IF EXISTS d.t")
		query(t, e, ctx, "DROP TABLE IF EXISTS d.o")
		query(t, e, ctx, "CREATE TABLE d.t (id INT PRIMARY KEY, k INT NOT NULL, u INT, KEY kk (k), UNIQUE KEY uu (u))")
		query(t, e, ctx, "CREATE TABLE d.o (id INT PRIMARY KEY, v INT)")
		for i := 1; i <= 8; i++ {
			query(t, e, ctx, fmt.Sprintf("INSERT INTO d.t VALUES (%d, %d, %d)", i, i*10, i))
		}
		query(t, e, ctx, "INSERT INTO d.o VALUES (1, 1)")
	}
	cases := []struct {
		name  string
		mover string     // committed after the transactions ran, before their COMMITs
		txs   [][]string // each transaction's statements
		fail  []bool     // which COMMITs conflict
		// groups is how many working sets the COMMITs published.
		groups int
		want   []string
	}{{
		name:  "disjoint",
		mover: "INSERT INTO d.o VALUES (2, 2)",
		txs: [][]string{
			{"INSERT INTO t VALUES (9, 90, 9)"},
			{"UPDATE t SET k = 0 WHERE id = 2"},
			{"DELETE FROM t WHERE id = 3", "UPDATE o SET v = 3 WHERE id = 1"},
			{"INSERT INTO t VALUES (10, 5, NULL)", "UPDATE t SET u = 40 WHERE id = 4"},
		},
		fail:   []bool{false, false, false, false},
		groups: 1,
		want:   []string{"1|10|1", "2|0|2", "4|40|40", "5|50|5", "6|60|6", "7|70|7", "8|80|8", "9|90|9", "10|5|NULL"},
	}, {
		name:  "a row two wrote",
		mover: "UPDATE d.o SET v = 2",
		txs: [][]string{
			{"UPDATE t SET k = 1 WHERE id = 2"},
			{"UPDATE t SET k = 2 WHERE id = 2"},
			{"UPDATE t SET k = 3 WHERE id = 3"},
		},
		fail:   []bool{false, true, false},
		groups: 2,
		want:   []string{"1|10|1", "2|1|2", "3|3|3", "4|40|4", "5|50|5", "6|60|6", "7|70|7", "8|80|8"},
	}, {
		name:  "the same unique value",
		mover: "UPDATE d.o SET v = 2",
		txs: [][]string{
			{"INSERT INTO t VALUES (9, 90, 99)"},
			{"INSERT INTO t VALUES (10, 100, 99)"},
		},
		fail:   []bool{false, true},
		groups: 1,
		want:   []string{"1|10|1", "2|20|2", "3|30|3", "4|40|4", "5|50|5", "6|60|6", "7|70|7", "8|80|8", "9|90|99"},
	}, {
		name:  "a row the mover changed",
		mover: "UPDATE d.t SET k = 11 WHERE id = 1",
		txs: [][]string{
			{"UPDATE t SET k = 12 WHERE id = 1"},
			{"UPDATE t SET k = 22 WHERE id = 2"},
		},
		fail:   []bool{true, false},
		groups: 1,
		want:   []string{"1|11|1", "2|22|2", "3|30|3", "4|40|4", "5|50|5", "6|60|6", "7|70|7", "8|80|8"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			setup()
			var txs []*sql.Context
			for _, stmts := range tc.txs {
				c := e.NewContext(context.Background(), "d")
				query(t, e, c, "BEGIN")
				for _, s := range stmts {
					query(t, e, c, s)
				}
				txs = append(txs, c)
			}
			query(t, e, ctx, tc.mover)
			before := st.pubSeq
			errs := commitTogether(t, e, st, txs)
			for i, err := range errs {
				if tc.fail[i] != isDeadlock(err) || !tc.fail[i] && err != nil {
					t.Errorf("COMMIT %d: %v, want conflict %v", i, err, tc.fail[i])
				}
			}
			if n := st.pubSeq - before; n != uint64(tc.groups) {
				t.Errorf("the COMMITs published %d working sets, want %d", n, tc.groups)
			}
			expectRows(t, e, ctx, "SELECT id, k, u FROM d.t ORDER BY id", tc.want...)
			expectRows(t, e, ctx, "SELECT id, k, u FROM d.t FORCE INDEX (kk) WHERE k >= 0 ORDER BY id", tc.want...)
			expectRows(t, e, ctx, "SELECT count(*) FROM d.t", fmt.Sprint(len(tc.want)))
			for _, c := range txs {
				query(t, e, c, "SELECT 1") // the sessions go on
			}
		})
	}

	// What the last group published is what a restart reads.
	e.Close()
	e2 := newTestEngine(t, dir)
	expectRows(t, e2, e2.NewContext(context.Background(), ""), "SELECT id, k, u FROM d.t ORDER BY id",
		"1|11|1", "2|22|2", "3|30|3", "4|40|4", "5|50|5", "6|60|6", "7|70|7", "8|80|8")
}
