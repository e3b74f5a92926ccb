package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// buildCairn builds the binary once per test run.
func buildCairn(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cairn")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// The demo creates a database, commits rows, and on a second run commits a
// change on top, as the README promises; bad calls exit non-zero with a hint.
func TestDemoThroughTheBinary(t *testing.T) {
	bin := buildCairn(t)
	dir := t.TempDir()
	run := func(args ...string) (string, error) {
		out, err := exec.Command(bin, args...).CombinedOutput()
		return string(out), err
	}
	out, err := run("demo", "--data-dir", dir, "--rows", "5000")
	if err != nil {
		t.Fatalf("first demo: %v\n%s", err, out)
	}
	if !strings.Contains(out, "create demo_rows with 5000 rows") || !strings.Contains(out, "Initialize data repository") {
		t.Fatalf("first demo output:\n%s", out)
	}
	out, err = run("demo", "--data-dir", dir)
	if err != nil {
		t.Fatalf("second demo: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`change \d+ of 5000 rows`).MatchString(out) || strings.Count(out, "\ncommit ") < 2 {
		t.Fatalf("second demo output:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "demo", ".cairn", "store")); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"nosuch"}, {"demo", "stray"}, {"demo", "--rows", "0"}, {}} {
		out, err := run(args...)
		if err == nil {
			t.Errorf("cairn %v succeeded:\n%s", args, out)
		}
		if !strings.HasPrefix(out, "error: ") || !strings.Contains(out, "usage: cairn") {
			t.Errorf("cairn %v gave no hint:\n%s", args, out)
		}
	}
	out, err = run("version")
	if err != nil || out != "cairn version "+Version+"\n" {
		t.Fatalf("cairn version: %v\n%s", err, out)
	}
}
