package integration_test

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// A statement whose client goes away is cancelled within about two
// seconds, not left running to its end: the server watches statements that
// run past a second (server/watch.go).
func TestGoneClientCancelsStatement(t *testing.T) {
	s := startServer(t, filepath.Join(t.TempDir(), "data"))
	var mu sync.Mutex
	var conns []net.Conn
	mysql.RegisterDialContext("watchtest", func(ctx context.Context, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		if err == nil {
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
		return c, err
	})
	db, err := sql.Open("mysql", fmt.Sprintf("root:@watchtest(%s)/", s.addr))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	errc := make(chan error, 1)
	go func() {
		_, err := db.Exec("SELECT SLEEP(60)")
		errc <- err
	}()
	root := s.connect(t, "root", "", "")
	running := func() int {
		var n int
		if err := root.QueryRow("SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE 'SELECT SLEEP(60)%'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	deadline := time.Now().Add(10 * time.Second)
	for running() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the SLEEP never showed in the process list")
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	for _, c := range conns {
		c.Close()
	}
	mu.Unlock()
	<-errc
	gone := time.Now()
	for running() > 0 {
		if time.Since(gone) > 10*time.Second {
			t.Fatal("the statement of a gone client still runs 10 s later")
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("cancelled %v after the client went", time.Since(gone).Round(10*time.Millisecond))
}
