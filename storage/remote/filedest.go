package remote

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/cairndb/cairn/storage/dbdir"
)

// fileDest is a destination in a local directory (file://). An object is a
// file; a name's slashes are subdirectories. Immutable objects are written
// to a temporary file, synced and renamed into place, so they appear whole;
// versioned objects are swapped under an flock on a lock file in the
// directory, so processes on this host never both win a swap.
type fileDest struct {
	root string
}

// tmpPrefix starts the names of temporary files, which List skips.
const tmpPrefix = ".tmp-"

// swapLockFile serializes swaps of versioned objects between processes.
const swapLockFile = ".swap-lock"

// OpenFile returns the destination in directory dir (absolute). With create
// a missing directory is made; without, a missing one is an error.
func OpenFile(dir string, create bool) (Destination, error) {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist) && create:
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create backup directory: %w", err)
		}
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("backup destination %s does not exist", FileURL(dir))
	case err != nil:
		return nil, err
	case !st.IsDir():
		return nil, fmt.Errorf("backup destination %s is not a directory", FileURL(dir))
	}
	return &fileDest{root: dir}, nil
}

func (d *fileDest) URL() string { return FileURL(d.root) }

// path returns the file of object name, refusing names that would leave
// the directory (a destination's manifest is untrusted input).
func (d *fileDest) path(name string) (string, error) {
	if !validObjectName(name) {
		return "", fmt.Errorf("invalid object name %q", name)
	}
	return filepath.Join(d.root, filepath.FromSlash(name)), nil
}

// validObjectName accepts slash-separated names of plain components.
func validObjectName(name string) bool {
	if name == "" || len(name) > 512 {
		return false
	}
	for _, c := range strings.Split(name, "/") {
		if c == "" || c == "." || c == ".." || strings.HasPrefix(c, ".") || strings.ContainsAny(c, "\\\x00") {
			return false
		}
	}
	return true
}

func notExist(name string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", name, ErrNotExist)
	}
	return err
}

func (d *fileDest) Get(ctx context.Context, name string, off, n int64) ([]byte, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, notExist(name, err)
	}
	defer f.Close()
	if n < 0 {
		st, err := f.Stat()
		if err != nil {
			return nil, err
		}
		n = st.Size() - off
	}
	if off < 0 || n < 0 {
		return nil, fmt.Errorf("%s: range %d+%d out of bounds", name, off, n)
	}
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, off); err != nil {
		if err == io.EOF {
			return nil, fmt.Errorf("%s: range %d+%d past the end: %w", name, off, n, io.ErrUnexpectedEOF)
		}
		return nil, err
	}
	return buf, nil
}

func (d *fileDest) Put(ctx context.Context, name string, r io.Reader, size int64) error {
	st, err := d.stage(ctx, name, r, size)
	if err != nil {
		return err
	}
	if err := st.sync(); err != nil {
		st.discard()
		return err
	}
	if err := st.publish(); err != nil {
		st.discard()
		return err
	}
	return syncDir(filepath.Dir(st.path))
}

// staged is an object written to a temporary file beside its place, not
// yet synced nor named: Put is stage, sync, publish and a sync of the
// directory. A base's files are staged all, then synced all at once, then
// published, and their directory synced once.
type staged struct {
	f    *os.File
	path string // the object's file
}

// stage writes r to a temporary file beside name's place and has the
// kernel start writing it to disk. A local file given as r is copied by the
// kernel (copy_file_range), without passing through memory here.
func (d *fileDest) stage(ctx context.Context, name string, r io.Reader, size int64) (*staged, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, tmpPrefix+filepath.Base(p)+"-*")
	if err != nil {
		return nil, err
	}
	st := &staged{f: f, path: p}
	var written int64
	if src, ok := r.(*os.File); ok {
		if err = ctx.Err(); err == nil {
			written, err = f.ReadFrom(&io.LimitedReader{R: src, N: size + 1})
		}
	} else {
		written, err = io.Copy(f, contextReader{ctx, r})
	}
	if err == nil && written != size {
		err = fmt.Errorf("%s: wrote %d bytes, want %d", name, written, size)
	}
	if err != nil {
		st.discard()
		return nil, err
	}
	startWriteback(f)
	return st, nil
}

// sync makes the staged file durable.
func (st *staged) sync() error { return st.f.Sync() }

// publish gives the staged file its name.
func (st *staged) publish() error {
	if err := st.f.Close(); err != nil {
		return err
	}
	if err := os.Rename(st.f.Name(), st.path); err != nil {
		return err
	}
	st.f = nil
	return nil
}

// discard removes a staged file not published.
func (st *staged) discard() {
	if st.f != nil {
		st.f.Close()
		os.Remove(st.f.Name())
		st.f = nil
	}
}

// pruneTemps removes the temporary files under prefix older than cutoff,
// left by a Put or a stage that did not finish (a process killed), and then
// the directories under prefix they leave empty (localObjects). It returns
// how many files it removed.
func (d *fileDest) pruneTemps(prefix string, cutoff time.Time) (int, error) {
	root := filepath.Join(d.root, filepath.FromSlash(prefix))
	n := 0
	var dirs []string
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if e.IsDir() {
			if path != root {
				dirs = append(dirs, path)
			}
			return nil
		}
		if !strings.HasPrefix(e.Name(), tmpPrefix) {
			return nil
		}
		info, err := e.Info()
		if err != nil || info.ModTime().After(cutoff) {
			return nil
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		n++
		return nil
	})
	// Deepest first; a directory that is not empty stays.
	for i := len(dirs) - 1; i >= 0; i-- {
		os.Remove(dirs[i])
	}
	return n, err
}

// objectFile opens an object's file, for a restore to copy (localObjects).
func (d *fileDest) objectFile(name string) (*os.File, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, notExist(name, err)
	}
	return f, nil
}

func (d *fileDest) Stat(ctx context.Context, name string) (ObjectInfo, error) {
	p, err := d.path(name)
	if err != nil {
		return ObjectInfo{}, err
	}
	st, err := os.Stat(p)
	if err != nil {
		return ObjectInfo{}, notExist(name, err)
	}
	return ObjectInfo{Name: name, Size: st.Size(), Modified: st.ModTime()}, nil
}

func (d *fileDest) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	var out []ObjectInfo
	err := filepath.WalkDir(d.root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if p == d.root {
				return err
			}
			return nil // vanished meanwhile
		}
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			return nil
		}
		rel, err := filepath.Rel(d.root, p)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		if !strings.HasPrefix(name, prefix) {
			return nil
		}
		info, err := e.Info()
		if err != nil {
			return nil
		}
		out = append(out, ObjectInfo{Name: name, Size: info.Size(), Modified: info.ModTime()})
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

func (d *fileDest) Delete(ctx context.Context, name string) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// version is the version of a versioned object's content.
func version(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16])
}

func (d *fileDest) Load(ctx context.Context, name string) ([]byte, string, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, "", err
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, "", notExist(name, err)
	}
	return data, version(data), nil
}

// swapLocked runs fn holding the destination's swap lock.
func (d *fileDest) swapLocked(fn func() error) error {
	f, err := os.OpenFile(filepath.Join(d.root, swapLockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return fn()
}

// current returns the version of the object at p, "" if there is none.
func currentVersion(p string) (string, error) {
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return version(data), nil
}

func (d *fileDest) Swap(ctx context.Context, name string, data []byte, ifVersion string) (string, error) {
	p, err := d.path(name)
	if err != nil {
		return "", err
	}
	err = d.swapLocked(func() error {
		cur, err := currentVersion(p)
		if err != nil {
			return err
		}
		if cur != ifVersion {
			return fmt.Errorf("%s: %w", name, ErrVersionMismatch)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return dbdir.WriteFileDurably(p, data, 0o644)
	})
	if err != nil {
		return "", err
	}
	return version(data), nil
}

func (d *fileDest) Remove(ctx context.Context, name, ifVersion string) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	return d.swapLocked(func() error {
		cur, err := currentVersion(p)
		if err != nil {
			return err
		}
		if cur == "" {
			return fmt.Errorf("%s: %w", name, ErrNotExist)
		}
		if cur != ifVersion {
			return fmt.Errorf("%s: %w", name, ErrVersionMismatch)
		}
		if err := os.Remove(p); err != nil {
			return err
		}
		return syncDir(filepath.Dir(p))
	})
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// contextReader stops reading when its context ends.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
