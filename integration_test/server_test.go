// Package integration_test drives the cairn binary the way users do: a
// real server process on a free port, real MySQL clients over TCP.
package integration_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/cairndb/cairn/storage/remote/remotetest"
)

var cairnBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cairn-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cairnBin = filepath.Join(dir, "cairn")
	if out, err := exec.Command("go", "build", "-o", cairnBin, "../cmd/cairn").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	remotetest.Stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a running cairn sql-server.
type server struct {
	cmd  *exec.Cmd
	addr string
	log  string // the file receiving the server's stderr (its log)
}

// startServer starts cairn sql-server on dataDir, on a free port, and waits
// until it accepts connections.
func startServer(t *testing.T, dataDir string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(cairnBin, append([]string{"sql-server", "--data-dir", dataDir, "-P", "0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logFile, err := os.CreateTemp(t.TempDir(), "server-*.log")
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, log: logFile.Name()}
	t.Cleanup(func() {
		s.stop(t)
		if t.Failed() {
			data, _ := os.ReadFile(s.log)
			t.Logf("server log:\n%s", data)
		}
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	select {
	case line, ok := <-lines:
		if !ok || !strings.Contains(line, "listening on ") {
			t.Fatalf("server did not start: %q", line)
		}
		s.addr = strings.Fields(strings.SplitN(line, "listening on ", 2)[1])[0]
	case <-time.After(60 * time.Second):
		t.Fatal("server did not start in 60 s")
	}
	go func() {
		for range lines {
		}
	}()
	return s
}

// stop ends the server with SIGTERM and waits for it.
func (s *server) stop(t *testing.T) {
	if s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("server exit: %v", err)
		}
	case <-time.After(60 * time.Second):
		s.cmd.Process.Kill()
		t.Error("server did not stop in 60 s")
	}
}

func (s *server) connect(t *testing.T, user, password, db string) *sql.DB {
	t.Helper()
	opts := "?multiStatements=true"
	if strings.HasPrefix(db, "?") { // "?tls=…": no database, these options
		db, opts = "", db+"&multiStatements=true"
	}
	conn, err := sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s)/%s%s", user, password, s.addr, db, opts))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// mustPrepare prepares q on conn, a server-side prepared statement.
func mustPrepare(t *testing.T, conn *sql.Conn, q string) *sql.Stmt {
	t.Helper()
	st, err := conn.PrepareContext(context.Background(), q)
	if err != nil {
		t.Fatalf("prepare %s: %v", q, err)
	}
	return st
}

// A server started on a data directory serves it to go-sql-driver/mysql:
// DDL, prepared statements, transactions; users and data survive a
// restart; a wrong password is refused; a second server on the same
// directory is refused.
func TestServerWithGoDriver(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	root := s.connect(t, "root", "", "")
	mustExec(t, root, "CREATE DATABASE shop")
	mustExec(t, root, "CREATE TABLE shop.items (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(20) NOT NULL)")
	mustExec(t, root, "CREATE USER 'app'@'%' IDENTIFIED BY 's3cret'")
	mustExec(t, root, "GRANT ALL ON shop.* TO 'app'@'%'")

	app := s.connect(t, "app", "s3cret", "shop")
	tx, err := app.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"apple", "pear"} {
		if _, err := tx.Exec("INSERT INTO items (name) VALUES (?)", n); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var name string
	if err := app.QueryRow("SELECT name FROM items WHERE id = ?", 2).Scan(&name); err != nil || name != "pear" {
		t.Fatalf("prepared select: %q, %v", name, err)
	}

	second := exec.Command(cairnBin, "sql-server", "--data-dir", dir, "-P", "0")
	if out, err := second.CombinedOutput(); err == nil || !strings.Contains(string(out), "another cairn server holds this data directory") {
		t.Fatalf("second server on the same directory: %v\n%s", err, out)
	}

	s.stop(t)
	s2 := startServer(t, dir)
	app2 := s2.connect(t, "app", "s3cret", "shop")
	var n int
	if err := app2.QueryRow("SELECT count(*) FROM items").Scan(&n); err != nil || n != 2 {
		t.Fatalf("after restart: %d rows, %v", n, err)
	}
	missing := s2.connect(t, "root", "", "nosuchdb")
	if err := missing.Ping(); err == nil || !strings.Contains(err.Error(), "1049") {
		t.Fatalf("unknown database: %v, want error 1049", err)
	}
	bad := s2.connect(t, "app", "wrong", "shop")
	if err := bad.Ping(); err == nil || !strings.Contains(err.Error(), "1045") {
		t.Fatalf("wrong password: %v, want error 1045", err)
	}
}

// Data acknowledged before a SIGKILL is there after a restart, and the
// dead server's lock file does not keep the next one from starting.
func TestServerSurvivesSIGKILL(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	root := s.connect(t, "root", "", "")
	mustExec(t, root, "CREATE DATABASE d")
	mustExec(t, root, "CREATE TABLE d.t (id INT PRIMARY KEY, v VARCHAR(10))")
	for i := 0; i < 50; i++ {
		mustExec(t, root, "INSERT INTO d.t VALUES (?, ?)", i, fmt.Sprint("v", i))
	}
	mustExec(t, root, "CREATE USER 'u'@'%' IDENTIFIED BY 'pw'")
	s.cmd.Process.Kill()
	s.cmd.Wait()

	s2 := startServer(t, dir)
	u := s2.connect(t, "u", "pw", "")
	if err := u.Ping(); err != nil {
		t.Fatalf("user after SIGKILL: %v", err)
	}
	root2 := s2.connect(t, "root", "", "d")
	var n int
	if err := root2.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil || n != 50 {
		t.Fatalf("after SIGKILL: %d rows, %v", n, err)
	}
}

// A configuration file sets the data directory and read-only mode; a flag
// overrides the file; a bad key stops the start with an error naming it.
func TestServerConfigAndReadOnly(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	root := s.connect(t, "root", "", "")
	mustExec(t, root, "CREATE DATABASE d")
	mustExec(t, root, "CREATE TABLE d.t (id INT PRIMARY KEY)")
	s.stop(t)

	cfgPath := filepath.Join(t.TempDir(), "cairn.yaml")
	os.WriteFile(cfgPath, []byte("data_dir: "+dir+"\nbehavior:\n  read_only: true\nlistener:\n  port: 3\n"), 0o600)
	ro := startServer(t, "ignored-overridden-below", "--config", cfgPath, "--data-dir", dir)
	db := ro.connect(t, "root", "", "d")
	var n int
	if err := db.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO t VALUES (1)"); err == nil {
		t.Fatal("read-only server accepted an INSERT")
	}
	ro.stop(t)

	os.WriteFile(cfgPath, []byte("listener:\n  prot: 1\n"), 0o600)
	out, err := exec.Command(cairnBin, "sql-server", "--config", cfgPath, "--data-dir", dir, "-P", "0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "prot") {
		t.Fatalf("bad config key: %v\n%s", err, out)
	}
}

// With --socket the server also listens on a unix socket, and a stale
// socket file left by a killed server does not block the next start.
func TestServerUnixSocket(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(t.TempDir(), "cairn.sock")
	s := startServer(t, dir, "--socket", sock)
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s2 := startServer(t, dir, "--socket", sock)
	_ = s2
	db, err := sql.Open("mysql", "root@unix("+sock+")/")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var one int
	if err := db.QueryRow("SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("over the unix socket: %d, %v", one, err)
	}
}

// writeSelfSignedCert writes a certificate and key for 127.0.0.1 to dir.
func writeSelfSignedCert(t *testing.T, dir string) (certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "cairn test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return certPath, keyPath
}

// With a certificate and require_secure_transport, TLS connections work
// and plain ones are refused.
func TestServerTLS(t *testing.T) {
	dir := t.TempDir()
	certPath, keyPath := writeSelfSignedCert(t, t.TempDir())
	cfgPath := filepath.Join(t.TempDir(), "cairn.yaml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf("listener:\n  tls_cert: %s\n  tls_key: %s\n  require_secure_transport: true\n", certPath, keyPath)), 0o600)
	s := startServer(t, dir, "--config", cfgPath)
	secure := s.connect(t, "root", "", "?tls=skip-verify")
	var one string
	if err := secure.QueryRow("SELECT 1").Scan(&one); err != nil {
		t.Fatalf("TLS connection: %v", err)
	}
	plain := s.connect(t, "root", "", "")
	if err := plain.Ping(); err == nil {
		t.Fatal("plain connection accepted with require_secure_transport")
	}
}

// behavior.autocommit: false makes sessions start with autocommit off:
// what a connection does not COMMIT is gone when it closes.
func TestServerAutocommitOff(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(t.TempDir(), "cairn.yaml")
	os.WriteFile(cfgPath, []byte("behavior:\n  autocommit: false\n"), 0o600)
	s := startServer(t, dir, "--config", cfgPath)
	root := s.connect(t, "root", "", "")
	root.SetMaxOpenConns(1)
	mustExec(t, root, "CREATE DATABASE d")
	mustExec(t, root, "CREATE TABLE d.t (id INT PRIMARY KEY)")
	mustExec(t, root, "INSERT INTO d.t VALUES (1)")
	mustExec(t, root, "COMMIT")
	mustExec(t, root, "INSERT INTO d.t VALUES (2)")
	root.Close()
	other := s.connect(t, "root", "", "d")
	var n int
	if err := other.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil || n != 1 {
		t.Fatalf("after an uncommitted insert: %d rows, %v (want 1)", n, err)
	}
}
