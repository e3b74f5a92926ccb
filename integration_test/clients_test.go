package integration_test

import (
	"bytes"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// requireTool returns the path of an external program the test needs
// (mariadb, mariadb-dump, mariadbd, node). Missing, it fails the test
// when CI=true (CI installs them: .ci/run) and skips it otherwise.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/bin"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed (CI=true): .ci/run must install it", name)
	}
	t.Skipf("%s is not installed (apt-get install mariadb-client mariadb-server nodejs)", name)
	return ""
}

// clientArgs are the mariadb/mariadb-dump connection options for addr
// ("host:port"), as root without a password.
func clientArgs(addr string) []string {
	host, port, _ := net.SplitHostPort(addr)
	return []string{"--no-defaults", "-h", host, "-P", port, "--protocol=TCP", "-uroot", "--skip-ssl"}
}

// runClient runs the mariadb CLI (or mariadb-dump) against addr with args
// and stdin, and returns its standard output; a non-zero exit fails t.
func runClient(t *testing.T, tool, addr string, stdin []byte, args ...string) []byte {
	t.Helper()
	out, err := tryClient(t, tool, addr, stdin, args...)
	if err != nil {
		t.Fatalf("%s %s: %v", tool, strings.Join(args, " "), err)
	}
	return out
}

// tryClient is runClient returning the error (with stderr) instead.
func tryClient(t *testing.T, tool, addr string, stdin []byte, args ...string) ([]byte, error) {
	t.Helper()
	bin := requireTool(t, tool)
	cmd := exec.Command(bin, append(clientArgs(addr), args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%v: %s", err, stderr.String())
	}
	return out, nil
}

// startMariaDB starts a private MariaDB server (Debian's mariadb-server)
// on a free loopback port with its own data directory, root without a
// password, and returns its address. It stops with the test.
func startMariaDB(t *testing.T) string {
	t.Helper()
	installDB := requireTool(t, "mariadb-install-db")
	mariadbd := requireTool(t, "mariadbd")
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	install := exec.Command(installDB, "--no-defaults", "--datadir="+data, "--user=root",
		"--auth-root-authentication-method=normal", "--skip-test-db")
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	port := freePort(t)
	cmd := exec.Command(mariadbd, "--no-defaults", "--datadir="+data, "--user=root",
		"--bind-address=127.0.0.1", "--port="+strconv.Itoa(port), "--socket="+filepath.Join(dir, "sock"),
		"--pid-file="+filepath.Join(dir, "pid"), "--skip-log-bin", "--innodb-buffer-pool-size=64M",
		"--log-error="+filepath.Join(dir, "error.log"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM) // mariadbd's clean shutdown
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(60 * time.Second)
	for {
		db, err := sql.Open("mysql", "root@tcp("+addr+")/")
		if err == nil {
			err = db.Ping()
			db.Close()
		}
		if err == nil {
			return addr
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("mariadbd did not start: %v\n%s", err, log)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// freePort returns a loopback TCP port nobody listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestMariaDBHelper checks the helpers themselves: a private MariaDB
// server starts and the mariadb CLI reaches it and cairn.
func TestMariaDBHelper(t *testing.T) {
	addr := startMariaDB(t)
	out := runClient(t, "mariadb", addr, nil, "-N", "-e", "SELECT 1+1")
	if strings.TrimSpace(string(out)) != "2" {
		t.Fatalf("mariadb: SELECT 1+1 gave %q", out)
	}
	s := startServer(t, t.TempDir())
	out = runClient(t, "mariadb", s.addr, nil, "-N", "-e", "SELECT 1+1")
	if strings.TrimSpace(string(out)) != "2" {
		t.Fatalf("cairn: SELECT 1+1 gave %q", out)
	}
}
