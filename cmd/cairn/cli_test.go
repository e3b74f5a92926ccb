package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairndb/cairn/storage/chunk/diskstore"
	"github.com/cairndb/cairn/storage/dbdir"
	"github.com/cairndb/cairn/storage/repo"
)

// cairn runs the command line args in this process and returns its exit code,
// stdout and stderr.
func cairn(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// chdirNew makes the directory name in a temporary directory and makes it
// the current directory for the rest of the test.
func chdirNew(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	return dir
}

// Wrong calls exit 1 with "error: …" and a usage hint on stderr; help goes to
// stdout and exits 0.
func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		out  string // in stdout
		err  string // in stderr
	}{
		{nil, 1, "", "error: no command given\nusage: cairn COMMAND [ARGS]\n"},
		{[]string{"nosuch"}, 1, "", "error: unknown command \"nosuch\" for \"cairn\""},
		{[]string{"--bogus"}, 1, "", "error: unknown flag: --bogus\nusage: cairn COMMAND"},
		{[]string{"init", "x"}, 1, "", "error: cairn init takes no arguments, got \"x\"\nusage: cairn init [--name NAME] [--email EMAIL]\n  e.g. cairn init --name"},
		{[]string{"init", "--nme", "x"}, 1, "", "error: unknown flag: --nme\nusage: cairn init"},
		{[]string{"demo", "--rows", "x"}, 1, "", "error: invalid argument \"x\" for \"--rows\""},
		{[]string{"demo", "--rows", "-1"}, 1, "", "error: --rows must be at least 1, not -1\nusage: cairn demo"},
		{[]string{"version", "extra"}, 1, "", "usage: cairn version\n"},
		{[]string{"sql-server", "--cache-size", "1Q"}, 1, "", "error: --cache-size: \"1Q\" is not a size such as 256M or 1G\nusage: cairn sql-server"},
		{[]string{"--help"}, 0, "Available Commands:", ""},
		{[]string{"help", "init"}, 0, "Usage:\n  cairn init [--name NAME] [--email EMAIL]\n", ""},
		{[]string{"init", "-h"}, 0, "CAIRN_USER_NAME", ""},
		{[]string{"--version"}, 0, "cairn version " + Version + "\n", ""},
		{[]string{"version"}, 0, "cairn version " + Version + "\n", ""},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errOut := cairn(t, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.err) {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errOut)
			}
			if tc.code == 0 && errOut != "" {
				t.Fatalf("stderr: %s", errOut)
			}
			if tc.code != 0 && out != "" {
				t.Fatalf("stdout: %s", out)
			}
		})
	}
}

// cairn init makes the current directory a database with an initial commit
// on main signed by the flags' author, and refuses to do it twice.
func TestInit(t *testing.T) {
	dir := chdirNew(t, "shop")
	code, out, errOut := cairn(t, "init", "--name", "Ada Lovelace", "--email", "ada@example.com")
	if code != 0 || errOut != "" || !strings.Contains(out, "'shop'") {
		t.Fatalf("init: exit %d\n%s%s", code, out, errOut)
	}
	assertAuthor(t, dir, "Ada Lovelace", "ada@example.com")

	code, out, errOut = cairn(t, "init")
	if code != 1 || out != "" || errOut != "error: this directory is already a cairn database\n" {
		t.Fatalf("second init: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

// Without flags, the author comes from the environment, and without that
// from the system user.
func TestInitAuthorDefaults(t *testing.T) {
	dir := chdirNew(t, "env")
	t.Setenv(envUserName, "Grace")
	t.Setenv(envUserEmail, "grace@navy.mil")
	if code, out, errOut := cairn(t, "init", "--email", "g@h.org"); code != 0 {
		t.Fatalf("init: exit %d\n%s%s", code, out, errOut)
	}
	assertAuthor(t, dir, "Grace", "g@h.org")

	for _, tc := range []struct {
		name, email string
		env         map[string]string
		wantName    string
		wantEmail   string
	}{
		{"", "", nil, "sys", "sys@localhost"},
		{"Ann", "", nil, "Ann", "sys@localhost"},
		{"", "", map[string]string{envUserName: "Env"}, "Env", "sys@localhost"},
		{"", "", map[string]string{envUserEmail: "e@x"}, "sys", "e@x"},
		{"Flag", "f@x", map[string]string{envUserName: "Env", envUserEmail: "e@x"}, "Flag", "f@x"},
	} {
		n, e := author(tc.name, tc.email, func(k string) string { return tc.env[k] }, func() string { return "sys" })
		if n != tc.wantName || e != tc.wantEmail {
			t.Errorf("author(%q, %q, %v) = %q, %q; want %q, %q", tc.name, tc.email, tc.env, n, e, tc.wantName, tc.wantEmail)
		}
	}
	if osUserName() == "" {
		t.Error("osUserName is empty")
	}
}

// A directory whose name cannot be a database's is refused, and left as it
// was.
func TestInitBadName(t *testing.T) {
	dir := chdirNew(t, "trailing ")
	code, out, errOut := cairn(t, "init")
	if code != 1 || out != "" || errOut != "error: invalid database name 'trailing ': ends with a space\n" {
		t.Fatalf("init: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("init left %v", entries)
	}
}

// assertAuthor checks that the database in dir has main's initial commit by
// the given author.
func assertAuthor(t *testing.T, dir, name, email string) {
	t.Helper()
	ctx := context.Background()
	db, err := dbdir.Open(ctx, dir, diskstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h, err := db.Repo.BranchHead(ctx, repo.DefaultBranch)
	if err != nil {
		t.Fatal(err)
	}
	c, err := db.Repo.ReadCommit(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	if c.Message != repo.InitCommitMessage || c.Author.Name != name || c.Author.Email != email {
		t.Fatalf("initial commit %+v, want author %s <%s>", c, name, email)
	}
}
