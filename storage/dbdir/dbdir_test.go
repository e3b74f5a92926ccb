package dbdir

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairndb/cairn/storage/chunk/diskstore"
	"github.com/cairndb/cairn/storage/repo"
)

var initOpts = repo.InitOptions{Name: "Ada", Email: "ada@localhost", Time: time.Unix(1700000000, 0)}

// mustInit makes dir a database.
func mustInit(t *testing.T, dir string) {
	t.Helper()
	if err := Init(context.Background(), dir, initOpts); err != nil {
		t.Fatal(err)
	}
}

// entries returns the names in dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestCheckName(t *testing.T) {
	for _, tc := range []struct{ name, reason string }{
		{"db", ""},
		{"my_db-2", ""},
		{"with space", ""},
		{"日本語", ""},
		{"a.b", ""},
		{strings.Repeat("x", 64), ""},
		{"", "empty"},
		{strings.Repeat("x", 65), "longer than 64 bytes"},
		{strings.Repeat("é", 33), "longer than 64 bytes"},
		{"bad\xff", "not valid UTF-8"},
		{"a\x00b", "contains a NUL byte"},
		{"a/b", `contains '/' or '\'`},
		{`a\b`, `contains '/' or '\'`},
		{"a..b", "contains '..'"},
		{"..", "contains '..'"},
		{".", "starts with '.'"},
		{".hidden", "starts with '.'"},
		{"   ", "only spaces"},
		{"db ", "ends with a space"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckName(tc.name)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("CheckName(%q) = %v", tc.name, err)
				}
				return
			}
			want := "invalid database name '" + tc.name + "': " + tc.reason
			if err == nil || err.Error() != want || !errors.Is(err, ErrInvalidName) {
				t.Fatalf("CheckName(%q) = %v, want %q matching ErrInvalidName", tc.name, err, want)
			}
		})
	}
}

// Init makes a database whose main branch holds the initial commit, with the
// default config, and nothing else in its .cairn directory; Open opens it.
func TestInitOpen(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "a", "db")
	if IsDatabase(dir) {
		t.Fatal("IsDatabase before Init")
	}
	mustInit(t, dir)
	if !IsDatabase(dir) {
		t.Fatal("not a database after Init")
	}
	if got := entries(t, filepath.Join(dir, CairnDir)); !slices.Equal(got, []string{ConfigFile, StoreDir}) {
		t.Fatalf(".cairn holds %v", got)
	}
	data, err := os.ReadFile(filepath.Join(dir, CairnDir, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(strings.Fields(string(data)), ""); got != `{"version":1}` {
		t.Fatalf("config.json = %s", data)
	}

	db, err := Open(ctx, dir, diskstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if db.Dir != dir || db.Config.Version != ConfigVersion {
		t.Fatalf("DB = %+v", db)
	}
	head, err := db.Repo.BranchHead(ctx, repo.DefaultBranch)
	if err != nil {
		t.Fatal(err)
	}
	c, err := db.Repo.ReadCommit(ctx, head)
	if err != nil {
		t.Fatal(err)
	}
	if c.Message != repo.InitCommitMessage || c.Author.Name != "Ada" || c.Author.Email != "ada@localhost" || !c.Author.Time.Equal(initOpts.Time) {
		t.Fatalf("initial commit = %+v", c)
	}
	if _, err := Open(ctx, dir, diskstore.Options{}); !errors.Is(err, diskstore.ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// Init refuses a database, and leaves it as it was.
func TestInitTwice(t *testing.T) {
	dir := t.TempDir()
	mustInit(t, dir)
	before := entries(t, filepath.Join(dir, CairnDir))
	err := Init(context.Background(), dir, initOpts)
	if !errors.Is(err, repo.ErrAlreadyInitialized) {
		t.Fatalf("second Init: %v", err)
	}
	if after := entries(t, filepath.Join(dir, CairnDir)); !slices.Equal(before, after) {
		t.Fatalf(".cairn held %v, now %v", before, after)
	}
}

// A failed Init removes what it made and nothing else: the directories it
// created, and its store and config, but not what was there before.
func TestInitFailureLeavesNothing(t *testing.T) {
	bad := repo.InitOptions{DefaultBranch: "no..good"}
	t.Run("new directory", func(t *testing.T) {
		parent := t.TempDir()
		dir := filepath.Join(parent, "x", "db")
		if err := Init(context.Background(), dir, bad); !errors.Is(err, repo.ErrInvalidName) {
			t.Fatalf("Init: %v", err)
		}
		if got := entries(t, parent); len(got) != 0 {
			t.Fatalf("left behind %v", got)
		}
	})
	t.Run("existing .cairn", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, CairnDir), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, CairnDir, "users.json"), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := Init(context.Background(), dir, bad); err == nil {
			t.Fatal("Init succeeded")
		}
		if got := entries(t, filepath.Join(dir, CairnDir)); !slices.Equal(got, []string{"users.json"}) {
			t.Fatalf(".cairn holds %v", got)
		}
		if IsDatabase(dir) {
			t.Fatal("a database after a failed Init")
		}
	})
}

// Of two Inits racing on one directory, one makes the database and the other
// reports it made already; the database is whole.
func TestInitRace(t *testing.T) {
	dir := t.TempDir()
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() { errs[i] = Init(context.Background(), dir, initOpts) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, repo.ErrAlreadyInitialized):
			t.Fatalf("Init: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d Inits succeeded: %v", ok, errs)
	}
	if got := entries(t, filepath.Join(dir, CairnDir)); !slices.Equal(got, []string{ConfigFile, StoreDir}) {
		t.Fatalf(".cairn holds %v", got)
	}
	db, err := Open(context.Background(), dir, diskstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Repo.BranchHead(context.Background(), repo.DefaultBranch); err != nil {
		t.Fatal(err)
	}
}

func TestOpenNotDatabase(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(context.Background(), dir, diskstore.Options{}); !errors.Is(err, ErrNotDatabase) {
		t.Fatalf("Open: %v", err)
	}
	if got := entries(t, dir); len(got) != 0 {
		t.Fatalf("Open made %v", got)
	}
}

// A missing config reads as the default; an unknown version is refused, by
// ReadConfig and so by Open.
func TestConfig(t *testing.T) {
	dir := t.TempDir()
	mustInit(t, dir)
	path := filepath.Join(dir, CairnDir, ConfigFile)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	c, err := ReadConfig(dir)
	if err != nil || c.Version != ConfigVersion {
		t.Fatalf("ReadConfig without a file = %+v, %v", c, err)
	}
	if err := WriteConfig(dir, c); err != nil {
		t.Fatal(err)
	}
	if got := entries(t, filepath.Join(dir, CairnDir)); !slices.Equal(got, []string{ConfigFile, StoreDir}) {
		t.Fatalf("WriteConfig left %v", got)
	}
	if err := os.WriteFile(path, []byte(`{"version":2}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), dir, diskstore.Options{}); !errors.Is(err, ErrUnknownConfigVersion) {
		t.Fatalf("Open with config version 2: %v", err)
	}
	if err := os.WriteFile(path, []byte(`{"version":`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadConfig(dir); err == nil {
		t.Fatal("ReadConfig of broken JSON succeeded")
	}
	if err := WriteConfig(dir, &Config{Version: 7}); !errors.Is(err, ErrUnknownConfigVersion) {
		t.Fatalf("WriteConfig version 7: %v", err)
	}
}

// A config stamp changes with every write, even two writes of the same
// size in quick succession, and stays put otherwise.
func TestConfigStamp(t *testing.T) {
	dir := t.TempDir()
	mustInit(t, dir)
	path := filepath.Join(dir, CairnDir, ConfigFile)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	absent := ConfigStamp(dir)
	if !absent.Valid() || absent != ConfigStamp(dir) {
		t.Fatalf("stamp of a missing config: %+v", absent)
	}
	seen := []Stamp{absent}
	for _, head := range []string{"dev", "abc", "xyz"} {
		if err := WriteConfig(dir, &Config{Version: ConfigVersion, Head: head}); err != nil {
			t.Fatal(err)
		}
		s := ConfigStamp(dir)
		if !s.Valid() || s != ConfigStamp(dir) {
			t.Fatalf("stamp after writing head %q: %+v, then %+v", head, s, ConfigStamp(dir))
		}
		if slices.Contains(seen, s) {
			t.Fatalf("stamp after writing head %q equals an earlier one: %+v", head, s)
		}
		seen = append(seen, s)
	}
}

// List names the databases among the subdirectories, sorted, and nothing
// else: not plain directories or files, not hidden or leftover directories,
// not the data directory itself.
func TestList(t *testing.T) {
	data := t.TempDir()
	mustInit(t, data)
	for _, name := range []string{"zeta", "alpha", ".hidden", "mid dle"} {
		mustInit(t, filepath.Join(data, name))
	}
	if err := os.Mkdir(filepath.Join(data, "plain"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	elsewhere := filepath.Join(t.TempDir(), "real")
	mustInit(t, elsewhere)
	if err := os.Symlink(elsewhere, filepath.Join(data, "linked")); err != nil {
		t.Fatal(err)
	}
	got, err := List(data)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"alpha", "linked", "mid dle", "zeta"}; !slices.Equal(got, want) {
		t.Fatalf("List = %q, want %q", got, want)
	}
	if _, err := List(filepath.Join(data, "missing")); err == nil {
		t.Fatal("List of a missing directory succeeded")
	}
}

// Remove deletes a database without a trace, and refuses a directory that is
// not one.
func TestRemove(t *testing.T) {
	data := t.TempDir()
	dir := filepath.Join(data, "db")
	mustInit(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Remove(dir); err != nil {
		t.Fatal(err)
	}
	if got := entries(t, data); len(got) != 0 {
		t.Fatalf("left behind %v", got)
	}

	plain := filepath.Join(data, "plain")
	if err := os.Mkdir(plain, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Remove(plain); !errors.Is(err, ErrNotDatabase) {
		t.Fatalf("Remove of a plain directory: %v", err)
	}
	if got := entries(t, data); !slices.Equal(got, []string{"plain"}) {
		t.Fatalf("data holds %v", got)
	}
}
