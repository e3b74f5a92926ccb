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
		server.endpoint, server.cmd, server.err = start(bin)
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

func start(bin string) (string, *exec.Cmd, error) {
	dir, err := os.MkdirTemp("", "cairn-versitygw-")
	if err != nil {
		return "", nil, err
	}
	if err := os.Mkdir(filepath.Join(dir, Bucket), 0o755); err != nil {
		return "", nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "--access", Key, "--secret", Secret, "--port", addr, "posix", dir)
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
