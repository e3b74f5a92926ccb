package integration_test

import (
	"fmt"
	"math/rand"
	"strconv"
	"sync"
	"testing"
	"time"
)

// The server collects garbage while clients write, and takes only garbage:
// after updates from several connections with collections every 100 ms, the
// log shows chunks deleted, and the rows, their total and the index are
// intact, also after a restart.
func TestServerCollectsGarbage(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, "--gc-interval", "100ms", "--log-format", "json")
	db := s.connect(t, "root", "", "")
	mustExec(t, db, "CREATE DATABASE g")
	mustExec(t, db, "CREATE TABLE g.t (id INT PRIMARY KEY, v INT NOT NULL, pad VARCHAR(500), KEY v_idx (v))")
	const rows = 500
	for i := 0; i < rows; i += 100 {
		q := "INSERT INTO g.t VALUES "
		for j := i; j < i+100; j++ {
			if j > i {
				q += ","
			}
			q += fmt.Sprintf("(%d, 0, REPEAT('p', 400))", j)
		}
		mustExec(t, db, q)
	}
	var wg sync.WaitGroup
	deadline := time.Now().Add(3 * time.Second)
	errs := make(chan error, 4)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(seed))
			for time.Now().Before(deadline) {
				// Moves one unit from one row to another: the total stays 0.
				a, b := rng.Intn(rows), rng.Intn(rows)
				tx, err := db.Begin()
				if err != nil {
					errs <- err
					return
				}
				_, err1 := tx.Exec("UPDATE g.t SET v = v - 1 WHERE id = ?", a)
				_, err2 := tx.Exec("UPDATE g.t SET v = v + 1 WHERE id = ?", b)
				if err1 != nil || err2 != nil {
					tx.Rollback()
					continue
				}
				tx.Commit() // a 1213 conflict rolls back both: the total holds
			}
		}(int64(w))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// One more interval, so a collection runs after the last write.
	time.Sleep(300 * time.Millisecond)
	check := func(s *server) {
		db := s.connect(t, "root", "", "g")
		defer db.Close()
		var n, sum, viaIndex int
		if err := db.QueryRow("SELECT COUNT(*), SUM(v) FROM t").Scan(&n, &sum); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow("SELECT COUNT(*) FROM t WHERE v >= -1000000").Scan(&viaIndex); err != nil {
			t.Fatal(err)
		}
		if n != rows || sum != 0 || viaIndex != rows {
			t.Errorf("after collections: %d rows (index: %d), total %d; want %d rows, total 0", n, viaIndex, sum, rows)
		}
	}
	check(s)
	s.stop(t)
	deleted := 0
	for _, l := range logLines(t, s) {
		if l["msg"] == "garbage collected" {
			if d, ok := l["deleted"].(float64); ok {
				deleted += int(d)
			}
		}
	}
	if deleted == 0 {
		t.Fatal("no garbage collected line with chunks deleted")
	}
	t.Logf("collections deleted %s chunks", strconv.Itoa(deleted))
	check(startServer(t, dir))
}
