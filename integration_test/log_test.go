package integration_test

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// logLines returns the server's JSON log lines so far.
func logLines(t *testing.T, s *server) []map[string]any {
	t.Helper()
	f, err := os.Open(s.log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", sc.Text())
		}
		lines = append(lines, m)
	}
	return lines
}

func findLog(lines []map[string]any, msg string, match func(map[string]any) bool) map[string]any {
	for _, l := range lines {
		if l["msg"] == msg && (match == nil || match(l)) {
			return l
		}
	}
	return nil
}

func TestServerLogging(t *testing.T) {
	s := startServer(t, t.TempDir(), "--log-format", "json", "-l", "debug", "--slow-query", "150ms")
	db := s.connect(t, "root", "", "")
	mustExec(t, db, "CREATE DATABASE shop")
	mustExec(t, db, "CREATE USER 'bob'@'%' IDENTIFIED BY 'hunter2-secret'")
	mustExec(t, db, "ALTER USER 'bob'@'%' IDENTIFIED BY 'other-secret'")
	mustExec(t, db, "SELECT SLEEP(0.2)")
	if _, err := db.Exec("SELECT * FROM shop.nosuch"); err == nil {
		t.Fatal("query of a missing table succeeded")
	}
	db.Close()
	// A wrong password is logged, without the password.
	bad := s.connect(t, "bob", "wrong-password", "")
	if err := bad.Ping(); err == nil {
		t.Fatal("wrong password accepted")
	}
	bad.Close()
	s.stop(t)

	raw, err := os.ReadFile(s.log)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"hunter2-secret", "other-secret", "wrong-password"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the log shows the password %q", secret)
		}
	}
	lines := logLines(t, s)
	if findLog(lines, "connection opened", func(l map[string]any) bool { return l["user"] == "root" && l["conn"] != nil }) == nil {
		t.Error("no connection opened line for root")
	}
	if findLog(lines, "connection closed", func(l map[string]any) bool { return l["user"] == "root" && l["duration"] != nil }) == nil {
		t.Error("no connection closed line for root")
	}
	if findLog(lines, "slow statement", func(l map[string]any) bool {
		return strings.Contains(l["query"].(string), "SLEEP(0.2)") && l["duration"] != nil
	}) == nil {
		t.Error("no slow statement line for DO SLEEP(0.2)")
	}
	if findLog(lines, "statement failed", func(l map[string]any) bool { return l["code"] == float64(1146) }) == nil {
		t.Error("no statement failed line with code 1146")
	}
	if l := findLog(lines, "statement", func(l map[string]any) bool { return strings.Contains(l["query"].(string), "CREATE USER") }); l == nil {
		t.Error("no debug line for CREATE USER")
	} else if !strings.Contains(l["query"].(string), "<redacted>") {
		t.Errorf("CREATE USER logged as %q", l["query"])
	}
	if findLog(lines, "connection refused", nil) == nil {
		t.Error("no connection refused line for the wrong password")
	}
}

// At the info level, statement text is not logged, even for slow ones.
func TestServerLogInfoHidesQueries(t *testing.T) {
	s := startServer(t, t.TempDir(), "--log-format", "json", "--slow-query", "100ms")
	db := s.connect(t, "root", "", "")
	mustExec(t, db, "SELECT SLEEP(0.15), 'marker-text'")
	db.Close()
	s.stop(t)
	raw, _ := os.ReadFile(s.log)
	if strings.Contains(string(raw), "marker-text") {
		t.Error("statement text logged at info level")
	}
	if findLog(logLines(t, s), "slow statement", func(l map[string]any) bool { return l["statement"] == "SELECT" }) == nil {
		t.Error("no slow statement line")
	}
}

// SIGTERM lets a running statement finish and answer, then the server
// exits 0; a connection idle meanwhile is closed.
func TestServerGracefulShutdown(t *testing.T) {
	s := startServer(t, t.TempDir())
	db := s.connect(t, "root", "", "")
	idle := s.connect(t, "root", "", "")
	if err := idle.Ping(); err != nil {
		t.Fatal(err)
	}
	res := make(chan error, 1)
	go func() {
		var v int
		res <- db.QueryRow("SELECT SLEEP(1)").Scan(&v)
	}()
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	s.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-res; err != nil {
		t.Errorf("statement running at SIGTERM: %v", err)
	}
	if err := s.cmd.Wait(); err != nil {
		t.Errorf("server exit: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("shutdown took %v", d)
	}
}

// A second signal ends the server at once, even with a statement running.
func TestServerSecondSignal(t *testing.T) {
	s := startServer(t, t.TempDir())
	db := s.connect(t, "root", "", "")
	go db.Exec("SELECT SLEEP(60)")
	time.Sleep(300 * time.Millisecond)
	s.cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	s.cmd.Process.Signal(syscall.SIGTERM)
	err := s.cmd.Wait()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("second signal: exit took %v", d)
	}
	if err == nil {
		t.Error("exit status 0 after a second signal")
	}
}
