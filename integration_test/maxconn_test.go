package integration_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// dialOnce opens one connection with go-sql-driver directly, without
// database/sql's retries, and returns what the server answered.
func dialOnce(t *testing.T, s *server, user, password string) (driver.Conn, sqlAnswer) {
	t.Helper()
	cfg, err := mysql.ParseDSN(fmt.Sprintf("%s:%s@tcp(%s)/?timeout=10s", user, password, s.addr))
	if err != nil {
		t.Fatal(err)
	}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := connector.Connect(ctx)
	return c, sqlAnswerOf(err)
}

// holdConn opens a connection that stays open until closed.
func holdConn(t *testing.T, s *server, user, password string) (*sql.Conn, func()) {
	t.Helper()
	db := s.connect(t, user, password, "")
	c, err := db.Conn(context.Background())
	if err == nil {
		err = c.PingContext(context.Background())
	}
	if err != nil {
		t.Fatalf("connection as %s: %v", user, err)
	}
	return c, func() { c.Close(); db.Close() }
}

// With --max-connections 2, two clients get in and a third is refused with
// MySQL's 1040 "Too many connections"; once one of the two leaves, a new
// client gets in. MySQL keeps one more connection for a user with SUPER
// (or CONNECTION_ADMIN): there root gets in as the third.
func TestMaxConnections(t *testing.T) {
	dir := t.TempDir()
	setup := startServer(t, dir)
	root := setup.connect(t, "root", "", "")
	mustExec(t, root, "CREATE USER 'app'@'%' IDENTIFIED BY 'app-pw'")
	mustExec(t, root, "GRANT SELECT ON *.* TO 'app'@'%'")
	root.Close()
	setup.stop(t)

	s := startServer(t, dir, "--max-connections", "2")
	first, closeFirst := holdConn(t, s, "app", "app-pw")
	second, closeSecond := holdConn(t, s, "app", "app-pw")
	defer closeSecond()

	var maxConns int
	if err := first.QueryRowContext(context.Background(), "SELECT @@max_connections").Scan(&maxConns); err != nil {
		t.Fatal(err)
	}
	if maxConns != 2 {
		t.Errorf("@@max_connections with --max-connections 2: %d", maxConns)
	}

	third, got := dialOnce(t, s, "app", "app-pw")
	if third != nil {
		third.Close()
		t.Fatal("a third connection was accepted with --max-connections 2")
	}
	mustAnswer(t, "third connection", got, sqlAnswer{1040, "Too many connections"})
	super, got := dialOnce(t, s, "root", "")
	if super != nil {
		super.Close()
	}
	// The limit is applied before the login, when the user is not known
	// yet: no extra connection for a superuser.
	knownDiff(t, "a superuser's connection past the limit", got, success, sqlAnswer{1040, "Too many connections"})

	// The connections that got in still work.
	for i, c := range []*sql.Conn{first, second} {
		var one int
		if err := c.QueryRowContext(context.Background(), "SELECT 1").Scan(&one); err != nil || one != 1 {
			t.Fatalf("held connection %d after the refusals: %d, %v", i+1, one, err)
		}
	}

	// One leaves: the next client gets in (once the server has seen the
	// close).
	closeFirst()
	var next driver.Conn
	deadline := time.Now().Add(10 * time.Second)
	for {
		next, got = dialOnce(t, s, "app", "app-pw")
		if next != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no new connection 10 s after one of the two closed: %v", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
	defer next.Close()
	if err := next.(driver.Pinger).Ping(context.Background()); err != nil {
		t.Fatalf("the new connection: %v", err)
	}

	// Two are open again: the limit holds.
	again, got := dialOnce(t, s, "app", "app-pw")
	if again != nil {
		again.Close()
		t.Fatal("a third connection was accepted after the limit was reached again")
	}
	mustAnswer(t, "third connection, again", got, sqlAnswer{1040, "Too many connections"})
}
