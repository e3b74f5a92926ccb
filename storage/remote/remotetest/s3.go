// Package remotetest starts what tests of destinations need: an
// S3-compatible server (versitygw) on a free loopback port, once per test
// binary.
package remotetest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Credentials and bucket of the test server.
const (
	Key    = "cairnkey"
	Secret = "cairnsecret123"
	Bucket = "cairn-test"
)

var server struct {
	once     sync.Once
	endpoint string
	err      error
	cmd      *exec.Cmd
}

func find() (string, error) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	if gopath, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(gopath)), "bin", "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("versitygw is not installed (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)")
}

// S3Endpoint returns the endpoint (http://127.0.0.1:PORT) of a running
// versitygw serving bucket Bucket, starting it on first use, and sets the
// standard AWS environment variables to its credentials for the test.
// Without versitygw the test fails under CI=true and is skipped otherwise.
func S3Endpoint(t testing.TB) string {
	t.Helper()
	server.once.Do(func() {
		bin, err := find()
		if err != nil {
			server.err = err
			return
		}
		var dir string
		dir, server.err = newDir()
		if server.err == nil {
			server.endpoint, server.cmd, server.err = start(bin, dir, "127.0.0.1:0")
		}
	})
	if server.err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("s3 tests: %v", server.err)
		}
		t.Skipf("s3 tests: %v", server.err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", Key)
	t.Setenv("AWS_SECRET_ACCESS_KEY", Secret)
	t.Setenv("AWS_REGION", "us-east-1")
	return server.endpoint
}

// Stop stops the server, if one was started (from TestMain).
func Stop() {
	if server.cmd != nil {
		server.cmd.Process.Kill()
		server.cmd.Wait()
	}
}

// Server is a versitygw of one test's own, which it may kill and start
// again on the same directory and port.
type Server struct {
	Endpoint string
	bin, dir string
	addr     string
	cmd      *exec.Cmd
}

// Private starts a versitygw for t alone (see S3Endpoint), stopped when t
// ends.
func Private(t testing.TB) *Server {
	t.Helper()
	S3Endpoint(t) // credentials, and the skip or failure without versitygw
	bin, err := find()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := newDir()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{bin: bin, dir: dir}
	s.Endpoint, s.cmd, err = start(bin, dir, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = strings.TrimPrefix(s.Endpoint, "http://")
	t.Cleanup(func() {
		s.Kill()
		os.RemoveAll(dir)
	})
	return s
}

// Kill kills the server (SIGKILL) and waits for it to exit.
func (s *Server) Kill() {
	if s.cmd != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		s.cmd = nil
	}
}

// Start starts the killed server again, on its directory and port.
func (s *Server) Start(t testing.TB) {
	t.Helper()
	var err error
	if _, s.cmd, err = start(s.bin, s.dir, s.addr); err != nil {
		t.Fatal(err)
	}
}

// newDir makes a server directory holding bucket Bucket.
func newDir() (string, error) {
	dir, err := os.MkdirTemp("", "cairn-versitygw-")
	if err != nil {
		return "", err
	}
	return dir, os.Mkdir(filepath.Join(dir, Bucket), 0o755)
}

// start runs versitygw on dir, listening on addr (a port of 0 picks a free
// one), and waits until it accepts connections.
func start(bin, dir, addr string) (string, *exec.Cmd, error) {
	if strings.HasSuffix(addr, ":0") {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return "", nil, err
		}
		addr = l.Addr().String()
		l.Close()
	}
	cmd := exec.Command(bin, "--access", Key, "--secret", Secret, "--port", addr, "--quiet", "posix", dir)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	for range 100 {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "http://" + addr, cmd, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	cmd.Process.Kill()
	return "", nil, fmt.Errorf("versitygw did not listen on %s", addr)
}
