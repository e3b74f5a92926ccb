package main

import (
	"strings"
	"testing"
)

func TestVersionControlCLI(t *testing.T) {
	chdirNew(t, "shop")
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
	fails("not a cairn database", "status")
	run("init")
	if out := run("status"); out != "On branch main\nnothing to commit, working tree clean\n" {
		t.Fatalf("status of a new database: %q", out)
	}
	run("sql", "-q", "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10)); INSERT INTO t VALUES (1, 'a')")
	if out := run("status"); !strings.Contains(out, "Untracked tables:") || !strings.Contains(out, "\tnew table:        t\n") {
		t.Fatalf("status with a new table: %q", out)
	}
	fails("nothing to commit", "commit", "-m", "nothing staged")
	run("add", ".")
	if out := run("status"); !strings.Contains(out, "Changes to be committed:") {
		t.Fatalf("status after add: %q", out)
	}
	out := run("commit", "-m", "first")
	if !strings.HasPrefix(out, "commit ") || !strings.Contains(out, "(HEAD -> main)") || !strings.Contains(out, "Author: Ada <ada@example.com>") || !strings.Contains(out, "\tfirst\n") {
		t.Fatalf("commit: %q", out)
	}
	if out := run("log", "--oneline"); len(strings.Split(strings.TrimSpace(out), "\n")) != 2 || !strings.Contains(out, "(HEAD -> main) first") {
		t.Fatalf("log --oneline: %q", out)
	}
	run("branch", "feature")
	if out := run("branch"); out != "  feature\n* main\n" {
		t.Fatalf("branch: %q", out)
	}
	if out := run("checkout", "feature"); out != "Switched to branch 'feature'\n" {
		t.Fatalf("checkout: %q", out)
	}
	if out := run("branch"); out != "* feature\n  main\n" {
		t.Fatalf("branch after checkout: %q", out)
	}
	run("sql", "-q", "UPDATE t SET v = 'A' WHERE id = 1; INSERT INTO t VALUES (2, 'b')")
	if out := run("diff"); !strings.Contains(out, "diff --cairn a/t b/t") || !strings.Contains(out, "| < | 1  | a |") || !strings.Contains(out, "| > | 1  | A |") || !strings.Contains(out, "| + | 2  | b |") {
		t.Fatalf("diff: %q", out)
	}
	run("commit", "-am", "feature work")
	if out := run("diff", "main", "feature", "t"); !strings.Contains(out, "| < | 1  | a |") || !strings.Contains(out, "| + | 2  | b |") {
		t.Fatalf("diff main feature t: %q", out)
	}
	if out := run("diff", "HEAD~1"); !strings.Contains(out, "| > | 1  | A |") {
		t.Fatalf("diff HEAD~1: %q", out)
	}
	if out := run("diff"); out != "" {
		t.Fatalf("diff of a clean working set: %q", out)
	}
	fails("Cannot delete checked out branch 'feature'", "branch", "-d", "feature")
	run("checkout", "main")
	if out := run("sql", "-r", "csv", "-q", "SELECT v FROM t ORDER BY id"); out != "v\na\n" {
		t.Fatalf("main's rows: %q", out)
	}
	if out := run("merge", "feature"); !strings.HasPrefix(out, "Fast-forward to ") {
		t.Fatalf("merge: %q", out)
	}
	run("tag", "v1", "-m", "one")
	if out := run("tag"); out != "v1\n" {
		t.Fatalf("tag: %q", out)
	}
	run("reset", "--hard", "HEAD~1")
	if out := run("sql", "-r", "csv", "-q", "SELECT v FROM t ORDER BY id"); out != "v\na\n" {
		t.Fatalf("after reset --hard HEAD~1: %q", out)
	}
	run("checkout", "-b", "again", "v1")
	if out := run("sql", "-r", "csv", "-q", "SELECT v FROM t ORDER BY id"); out != "v\nA\nb\n" {
		t.Fatalf("on a branch made at tag v1: %q", out)
	}
	fails("error: could not find nope", "checkout", "nope")
	run("gc")
	if out := run("sql", "-r", "csv", "-q", "SELECT COUNT(*) AS n FROM dolt_log"); out == "n\n0\n" {
		t.Fatalf("log after gc: %q", out)
	}
}
