package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRemoteCLI(t *testing.T) {
	a := chdirNew(t, "a")
	top := filepath.Dir(a)
	t.Setenv("CAIRN_USER_NAME", "Ada")
	t.Setenv("CAIRN_USER_EMAIL", "ada@example.com")
	run := func(args ...string) string {
		t.Helper()
		code, out, errOut := cairn(t, args...)
		if code != 0 {
			t.Fatalf("cairn %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	fails := func(want string, args ...string) {
		t.Helper()
		code, out, errOut := cairn(t, args...)
		if code == 0 || !strings.Contains(errOut, want) {
			t.Fatalf("cairn %s: exit %d\n%s%s\nwant an error with %q", strings.Join(args, " "), code, out, errOut, want)
		}
	}
	run("init")
	run("sql", "-q", "CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t VALUES (1)")
	run("commit", "-Am", "first")
	fails("fatal: The current branch main has no upstream branch.", "push")
	run("remote", "add", "origin", "file://../remote")
	if out := run("remote", "-v"); out != "origin file://"+filepath.Join(top, "remote")+"\n" {
		t.Fatalf("remote -v: %q", out)
	}
	if out := run("push", "-u", "origin", "main"); !strings.Contains(out, " * [new branch]          main -> main") {
		t.Fatalf("push: %q", out)
	}
	t.Chdir(top)
	if out := run("clone", "file://./remote", "b"); !strings.HasPrefix(out, "Cloned ") {
		t.Fatalf("clone: %q", out)
	}
	fails("database 'b' already exists", "clone", "file://./remote", "b")
	t.Chdir(filepath.Join(top, "b"))
	if out := run("branch", "-a"); out != "* main\n  remotes/origin/main\n" {
		t.Fatalf("branch -a in the clone: %q", out)
	}
	run("sql", "-q", "INSERT INTO t VALUES (2)")
	run("commit", "-am", "second")
	run("push")
	t.Chdir(a)
	if out := run("pull"); !strings.Contains(out, "Fast-forward") {
		t.Fatalf("pull: %q", out)
	}
	if out := run("sql", "-r", "csv", "-q", "SELECT COUNT(*) AS n FROM t"); out != "n\n2\n" {
		t.Fatalf("after pull: %q", out)
	}
	run("remote", "rm", "origin")
	if out := run("remote"); out != "" {
		t.Fatalf("remote after rm: %q", out)
	}
	if _, err := os.Stat(filepath.Join(top, "remote", "manifest.json")); err != nil {
		t.Fatal("the remote's files went with the remote")
	}
}
