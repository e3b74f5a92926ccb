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

// ErrExists is returned by Build for a target that exists when it may not
// be replaced.
var ErrExists = errors.New("database directory exists")

// Build makes the database at dir from fill, which fills an empty store
// (no refs) and returns nil only when the store holds a whole database.
// The database is built in a hidden directory beside dir and appears at dir
// only when complete and durable: a failure or crash midway leaves dir as it
// was (a crash may leave the hidden directory behind, which List ignores).
// If dir exists, Build fails with ErrExists unless replace is set; then the
// old directory is exchanged for the new in one atomic rename where the
// file system allows it (Linux's RENAME_EXCHANGE), and removed. Nobody may
// have the old database open.
func Build(ctx context.Context, dir string, replace bool, fill func(ctx context.Context, s *diskstore.Store) error) (err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	_, statErr := os.Lstat(abs)
	exists := statErr == nil
	if exists && !replace {
		return fmt.Errorf("dbdir: %s: %w", abs, ErrExists)
	}
	if statErr != nil && !errors.Is(statErr, fs.ErrNotExist) {
		return statErr
	}
	parent := filepath.Dir(abs)
	if _, err := mkdirs(parent); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(abs)+".building-")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := os.Mkdir(cairnPath(tmp), 0o755); err != nil {
		return err
	}
	store, err := diskstore.Open(storePath(tmp), diskstore.Options{})
	if err != nil {
		return err
	}
	err = fill(ctx, store)
	if cerr := store.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := WriteConfig(tmp, &Config{Version: ConfigVersion}); err != nil {
		return err
	}
	if err := syncDir(tmp); err != nil {
		return err
	}
	if !exists {
		if err := os.Rename(tmp, abs); err != nil {
			return err
		}
		return syncDir(parent)
	}
	// Swap the new directory in. An exchange is atomic: at every instant
	// dir is the old database or the new one.
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
