package integration_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// nodeDir holds the Node end-to-end script and its locked dependencies.
const nodeDir = "node"

// installNodeModules runs npm ci in nodeDir unless its node_modules
// already has mysql2 (package-lock.json pins every version).
func installNodeModules(t *testing.T) {
	t.Helper()
	npm := requireTool(t, "npm")
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "mysql2", "package.json")); err == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = nodeDir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in integration_test/%s: %v\n%s", nodeDir, err, out)
	}
}

// Node's mysql2 driver against cairn: node/e2e.js connects, creates a
// database, runs plain and prepared statements with parameters of every
// kind, transactions, a multi-statement query, errors with their codes and
// a pool of concurrent connections, checking each result. It prints a
// "KNOWN DIFFERENCE" line for each answer it knows to differ from MySQL's.
func TestNodeMySQL2(t *testing.T) {
	node := requireTool(t, "node")
	installNodeModules(t)
	s := startServer(t, t.TempDir())
	host, port, err := net.SplitHostPort(s.addr)
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "e2e.js")
	cmd.Dir = nodeDir
	cmd.Env = append(os.Environ(), "CAIRN_HOST="+host, "CAIRN_PORT="+port, "CAIRN_USER=root", "CAIRN_PASSWORD=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if err != nil {
		t.Fatalf("node e2e.js: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "e2e.js: all steps passed") {
		t.Fatalf("node e2e.js exited 0 without finishing:\n%s", out.String())
	}
	t.Logf("node e2e.js:\n%s", out.String())
}
