package dbdir

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/cairndb/cairn/storage/chunk/diskstore"
)

// ErrExists is returned by Install for a target that exists when it may
// not be replaced.
var ErrExists = errors.New("database directory exists")

// Prepare builds a database to be installed at dir with Install: in a new
// hidden directory beside dir, which it returns, it has place, if not nil,
// write files into the store's directory (which does not exist yet), opens
// the store there (a new, empty one if place wrote nothing), has fill fill
// it (fill returns nil only when the store holds a whole database), closes
// it and writes the default config, durably. On
// failure it removes what it made. A crash midway leaves the hidden
// directory, which List ignores. Discard removes a prepared directory that
// is not installed.
func Prepare(ctx context.Context, dir string, place func(ctx context.Context, storeDir string) error, fill func(ctx context.Context, s *diskstore.Store) error) (tmp string, err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	parent := filepath.Dir(abs)
	if _, err := mkdirs(parent); err != nil {
		return "", err
	}
	tmp, err = os.MkdirTemp(parent, "."+filepath.Base(abs)+".building-")
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
			tmp = ""
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return tmp, err
	}
	if err := os.Mkdir(cairnPath(tmp), 0o755); err != nil {
		return tmp, err
	}
	if place != nil {
		if err := place(ctx, storePath(tmp)); err != nil {
			return tmp, err
		}
	}
	// Written once and closed: no journal, every chunk straight to Pebble.
	store, err := diskstore.Open(storePath(tmp), diskstore.Options{CheckpointSize: -1})
	if err != nil {
		return tmp, err
	}
	err = fill(ctx, store)
	if cerr := store.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return tmp, err
	}
	if err := WriteConfig(tmp, &Config{Version: ConfigVersion}); err != nil {
		return tmp, err
	}
	return tmp, syncDir(tmp)
}

// Discard removes a directory Prepare made.
func Discard(tmp string) error { return os.RemoveAll(tmp) }

// Install moves the database Prepare built in tmp to dir. If dir exists,
// it fails with ErrExists unless replace is set; then the old directory is
// exchanged for the new in one atomic rename where the file system allows
// it (Linux's RENAME_EXCHANGE), so that at every instant dir is the old
// database or the new one, and the old one is removed. Nobody may have the
// old database open.
func Install(tmp, dir string, replace bool) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	parent := filepath.Dir(abs)
	if _, err := os.Lstat(abs); errors.Is(err, fs.ErrNotExist) {
		if err := os.Rename(tmp, abs); err != nil {
			return err
		}
		return syncDir(parent)
	} else if err != nil {
		return err
	}
	if !replace {
		return fmt.Errorf("dbdir: %s: %w", abs, ErrExists)
	}
	if err := unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, abs, unix.RENAME_EXCHANGE); err != nil {
		if !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOSYS) && !errors.Is(err, unix.EOPNOTSUPP) {
			return fmt.Errorf("dbdir: replace %s: %w", abs, err)
		}
		// No exchange on this file system: move the old one aside first.
		// A crash between the two renames leaves it under the hidden name.
		old := filepath.Join(parent, "."+filepath.Base(abs)+".replaced-"+rand.Text())
		if err := os.Rename(abs, old); err != nil {
			return err
		}
		if err := os.Rename(tmp, abs); err != nil {
			os.Rename(old, abs)
			return err
		}
		tmp = old
	}
	if err := syncDir(parent); err != nil {
		return err
	}
	// tmp now holds the old database.
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("dbdir: replaced %s, but the old files remain in %s: %w", abs, tmp, err)
	}
	return nil
}
