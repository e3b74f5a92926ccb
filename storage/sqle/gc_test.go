package sqle

import (
	"context"
	"math/rand"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cairndb/cairn/storage/chunk"
)

// Garbage collection while transactions run takes only garbage: after
// concurrent transfers with collections in a loop, the total is conserved,
// the index agrees with the rows, every chunk reachable from the refs is
// there, and the same holds after the databases are opened again.
func TestConcurrentTransfersWithGC(t *testing.T) {
	const (
		accounts  = 20
		workers   = 4
		transfers = 60 // per worker
		initial   = 1000
	)
	dir := t.TempDir()
	e := newTestEngine(t, dir)
	ctx := e.NewContext(context.Background(), "")
	query(t, e, ctx, "CREATE DATABASE bank")
	query(t, e, ctx, "USE bank")
	query(t, e, ctx, "CREATE TABLE acct (id INT PRIMARY KEY, balance BIGINT NOT NULL, note TEXT, KEY bal (balance))")
	for i := 0; i < accounts; i++ {
		query(t, e, ctx, "INSERT INTO acct VALUES ("+strconv.Itoa(i)+", "+strconv.Itoa(initial)+", REPEAT('x', 3000))")
	}

	var done atomic.Bool
	var runs, deleted int
	gcErr := make(chan error, 1)
	go func() {
		defer close(gcErr)
		for !done.Load() {
			stats, err := e.Provider.CollectGarbage(context.Background())
			if err != nil {
				gcErr <- err
				return
			}
			runs++
			deleted += stats["bank"].Deleted
		}
	}()
	var wg sync.WaitGroup
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
				err := transfer(e, c, a, b, rng.Intn(50)+1)
				if isDeadlock(err) {
					continue
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
	done.Store(true)
	if err := <-gcErr; err != nil {
		t.Fatalf("gc: %v", err)
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if runs == 0 || deleted == 0 {
		t.Fatalf("%d collections deleted %d chunks: the test collected nothing", runs, deleted)
	}
	t.Logf("%d collections deleted %d chunks", runs, deleted)
	check := func(e *Engine) {
		c := e.NewContext(context.Background(), "bank")
		expectRows(t, e, c, "SELECT sum(balance), count(*) FROM acct", strconv.Itoa(accounts*initial)+"|"+strconv.Itoa(accounts))
		expectRows(t, e, c, "SELECT count(*) FROM acct WHERE balance >= -1000000", strconv.Itoa(accounts))
		expectRows(t, e, c, "SELECT sum(length(note)) FROM acct", strconv.Itoa(accounts*3000))
		st, _ := e.Provider.state("bank")
		refs, err := st.store.Refs(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var roots []chunk.Hash
		for _, h := range refs {
			roots = append(roots, h)
		}
		if err := chunk.Walk(context.Background(), st.store, roots, nil, func(chunk.Hash, []byte) error { return nil }); err != nil {
			t.Fatalf("a chunk reachable from the refs is gone: %v", err)
		}
	}
	check(e)
	e.Close()
	check(newTestEngine(t, dir))
}

// The periodic collection passes over a database nothing has written since
// it last collected it, and collects it again after a write.
func TestCollectGarbageSkipsUnwritten(t *testing.T) {
	e := newTestEngine(t, t.TempDir())
	ctx := e.NewContext(context.Background(), "")
	query(t, e, ctx, "CREATE DATABASE quiet")
	query(t, e, ctx, "USE quiet")
	query(t, e, ctx, "CREATE TABLE t (id INT PRIMARY KEY, v INT)")
	query(t, e, ctx, "INSERT INTO t VALUES (1, 1), (2, 2)")
	collected := func() bool {
		t.Helper()
		stats, err := e.Provider.CollectGarbage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		_, ok := stats["quiet"]
		return ok
	}
	if !collected() {
		t.Fatal("the first collection passed over the database")
	}
	query(t, e, ctx, "SELECT * FROM t")
	if collected() {
		t.Fatal("a database only read since its last collection was collected again")
	}
	query(t, e, ctx, "UPDATE t SET v = 3 WHERE id = 1")
	if !collected() {
		t.Fatal("a database written since its last collection was passed over")
	}
	if collected() {
		t.Fatal("collected twice without a write between")
	}
}
