package dbdir

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/cairndb/cairn/storage/chunk/diskstore"
	"github.com/cairndb/cairn/storage/repo"
)

// Names of the files and directories in a database directory.
const (
	// CairnDir is the directory in a database directory that holds cairn's
	// files.
	CairnDir = ".cairn"
	// StoreDir is the chunk store's directory, in CairnDir.
	StoreDir = "store"
	// ConfigFile is the database's config, in CairnDir.
	ConfigFile = "config.json"
)

func cairnPath(dir string) string  { return filepath.Join(dir, CairnDir) }
func storePath(dir string) string  { return filepath.Join(dir, CairnDir, StoreDir) }
func configPath(dir string) string { return filepath.Join(dir, CairnDir, ConfigFile) }

// IsDatabase reports whether dir is a database: whether DIR/.cairn/store is a
// directory.
func IsDatabase(dir string) bool {
	fi, err := os.Stat(storePath(dir))
	return err == nil && fi.IsDir()
}

// Init makes dir a database, creating dir if it is missing: a store holding
// the initial commit on the default branch (see repo.Init, which opts
// configures) and the default config. A dir that is a database already gives
// an error matching repo.ErrAlreadyInitialized. Init returns only once the
// database is durable; on failure it removes what it made, and a crash
// midway leaves dir no database (see the package documentation).
func Init(ctx context.Context, dir string, opts repo.InitOptions) (err error) {
	if IsDatabase(dir) {
		return fmt.Errorf("dbdir: init %s: %w", dir, repo.ErrAlreadyInitialized)
	}
	var undo []func()
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
			err = fmt.Errorf("dbdir: init %s: %w", dir, err)
		}
	}()
	created, err := mkdirs(cairnPath(dir))
	undo = append(undo, func() {
		for i := len(created) - 1; i >= 0; i-- {
			os.Remove(created[i])
		}
	})
	if err != nil {
		return err
	}

	// The store is made under a temporary name, and renamed into place
	// last: until then dir is no database.
	tmp, err := os.MkdirTemp(cairnPath(dir), StoreDir+".init-*")
	if err != nil {
		return err
	}
	undo = append(undo, func() { os.RemoveAll(tmp) })
	// MkdirTemp makes the directory private; diskstore makes its own 0755.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := initStore(ctx, tmp, opts); err != nil {
		return err
	}

	_, statErr := os.Lstat(configPath(dir))
	if err := WriteConfig(dir, &Config{Version: ConfigVersion}); err != nil {
		return err
	}
	removeConfig := func() {
		if errors.Is(statErr, fs.ErrNotExist) {
			os.Remove(configPath(dir))
		}
	}
	undo = append(undo, func() { removeConfig() })

	if err := os.Rename(tmp, storePath(dir)); err != nil {
		if IsDatabase(dir) {
			// Another Init won the race; the config is its as much as ours.
			removeConfig = func() {}
			return repo.ErrAlreadyInitialized
		}
		return err
	}
	return syncDir(cairnPath(dir))
}

// initStore makes a store in dir and initializes the repository in it.
func initStore(ctx context.Context, dir string, opts repo.InitOptions) error {
	store, err := diskstore.Open(dir, diskstore.Options{})
	if err != nil {
		return err
	}
	_, err = repo.Init(ctx, store, opts)
	if cerr := store.Close(); err == nil {
		err = cerr
	}
	return err
}

// mkdirs creates dir and its missing parents, syncing the directory each is
// created in, and returns those it created, outermost first.
func mkdirs(dir string) (created []string, err error) {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		_, err := os.Stat(d)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	for i := len(missing) - 1; i >= 0; i-- {
		d := missing[i]
		if err := os.Mkdir(d, 0o755); err != nil {
			if errors.Is(err, fs.ErrExist) {
				continue // made meanwhile by someone else: not ours to remove
			}
			return created, err
		}
		created = append(created, d)
		if err := syncDir(filepath.Dir(d)); err != nil {
			return created, err
		}
	}
	return created, nil
}

// DB is an open database.
type DB struct {
	// Dir is the database's directory, as passed to Open.
	Dir string
	// Store is the database's chunk store.
	Store *diskstore.Store
	// Repo is the commit graph in Store.
	Repo *repo.Repo
	// Config is the database's config as read by Open.
	Config *Config
}

// Open opens the database in dir. A dir that is no database gives an error
// matching ErrNotDatabase; a database open in another process, one matching
// diskstore.ErrLocked. The caller closes the DB.
func Open(ctx context.Context, dir string, opts diskstore.Options) (*DB, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("dbdir: open %s: %w", dir, err)
	}
	if !IsDatabase(dir) {
		return nil, fmt.Errorf("dbdir: open %s: %w", dir, ErrNotDatabase)
	}
	cfg, err := ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	store, err := diskstore.Open(storePath(dir), opts)
	if err != nil {
		return nil, fmt.Errorf("dbdir: open %s: %w", dir, err)
	}
	return &DB{Dir: dir, Store: store, Repo: repo.Open(store), Config: cfg}, nil
}

// Close closes the database's store. Closing twice is harmless.
func (db *DB) Close() error { return db.Store.Close() }

// List returns the names of the subdirectories of dataDir that are
// databases, sorted. Subdirectories whose names CheckName refuses, such as
// hidden ones, are left out, and so is dataDir itself: IsDatabase(dataDir)
// says whether it is a database too. Symbolic links to databases count.
func List(dataDir string) ([]string, error) {
	entries, err := os.ReadDir(dataDir)
	if err != nil {
		return nil, fmt.Errorf("dbdir: list %s: %w", dataDir, err)
	}
	var names []string
	for _, e := range entries {
		if CheckName(e.Name()) != nil || !(e.IsDir() || e.Type()&fs.ModeSymlink != 0) {
			continue
		}
		if IsDatabase(filepath.Join(dataDir, e.Name())) {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// Remove deletes the database in dir and everything else in dir. It first
// renames dir to a hidden name beside it and syncs the parent directory, so
// the database vanishes at once and whole, even if a crash interrupts the
// deletion of its files. A dir that is no database gives an error matching
// ErrNotDatabase. Nobody may have the database open.
func Remove(dir string) error {
	if !IsDatabase(dir) {
		return fmt.Errorf("dbdir: remove %s: %w", dir, ErrNotDatabase)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("dbdir: remove %s: %w", dir, err)
	}
	parent := filepath.Dir(abs)
	tmp := filepath.Join(parent, "."+filepath.Base(abs)+".removing-"+rand.Text())
	if err := os.Rename(abs, tmp); err != nil {
		return fmt.Errorf("dbdir: remove %s: %w", dir, err)
	}
	if err := syncDir(parent); err != nil {
		return fmt.Errorf("dbdir: remove %s: %w", dir, err)
	}
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("dbdir: remove %s: database removed, but its files remain in %s: %w", dir, tmp, err)
	}
	return nil
}

// syncDir makes the entries of directory dir durable. Windows cannot open a
// directory to sync it; there, renames are as durable as the file system
// makes them by itself.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
