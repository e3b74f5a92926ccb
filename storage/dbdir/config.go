package dbdir

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// ConfigVersion is the version of config.json this cairn writes and reads.
const ConfigVersion = 1

// Config is a database's own settings, kept in DIR/.cairn/config.json. A
// change that older versions would misread raises Version; new optional
// fields do not.
type Config struct {
	// Version is ConfigVersion.
	Version int `json:"version"`
	// Backups are the database's backup destinations, sorted by name.
	Backups []Backup `json:"backups,omitempty"`
	// Head is the database's checked-out branch: the branch new sessions
	// and the CLI start on ("" means main). `cairn checkout` sets it.
	Head string `json:"head,omitempty"`
	// Remotes are the database's remotes, sorted by name.
	Remotes []Remote `json:"remotes,omitempty"`
	// Upstreams maps a branch to the remote branch it tracks (push and
	// pull without arguments).
	Upstreams map[string]Upstream `json:"upstreams,omitempty"`
}

// Remote is a named remote of a database.
type Remote struct {
	Name string `json:"name"`
	// URL is absolute (see remote.NormalizeURL).
	URL        string            `json:"url"`
	FetchSpecs []string          `json:"fetch_specs,omitempty"`
	Params     map[string]string `json:"params,omitempty"`
}

// Upstream is the remote branch a local branch tracks.
type Upstream struct {
	Remote string `json:"remote"`
	Branch string `json:"branch"`
}

// Remote returns the remote called name, if there is one.
func (c *Config) Remote(name string) (Remote, bool) {
	for _, r := range c.Remotes {
		if r.Name == name {
			return r, true
		}
	}
	return Remote{}, false
}

// Backup is a named backup destination of a database.
type Backup struct {
	Name string `json:"name"`
	// URL is absolute (see remote.NormalizeURL).
	URL string `json:"url"`
	// Params are settings of the destination (none for file://).
	Params map[string]string `json:"params,omitempty"`
}

// Backup returns the backup called name, if there is one.
func (c *Config) Backup(name string) (Backup, bool) {
	for _, b := range c.Backups {
		if b.Name == name {
			return b, true
		}
	}
	return Backup{}, false
}

// Stamp identifies one version of a database's config file: equal stamps
// mean the file was not written in between, since WriteConfig replaces the
// file by a rename (a new inode) and the write changes its time.
type Stamp struct {
	ok      bool
	absent  bool
	ino     uint64
	size    int64
	modTime int64
}

// Valid reports whether the stamp was taken: a stat that failed for a
// reason other than a missing file gives an invalid stamp, which equals
// no other.
func (s Stamp) Valid() bool { return s.ok }

// ConfigStamp stats the config file of the database in dir.
func ConfigStamp(dir string) Stamp {
	fi, err := os.Stat(configPath(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return Stamp{ok: true, absent: true}
	}
	if err != nil {
		return Stamp{}
	}
	s := Stamp{ok: true, size: fi.Size(), modTime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.ino = uint64(st.Ino)
	}
	return s
}

// ReadConfig reads the config of the database in dir. A database without a
// config file has the default config (a store restored by copying files may
// lack one); a config of a version this cairn does not know gives an error
// matching ErrUnknownConfigVersion.
func ReadConfig(dir string) (*Config, error) {
	path := configPath(dir)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Config{Version: ConfigVersion}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("dbdir: read config: %w", err)
	}
	var c Config
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("dbdir: read config %s: %w", path, err)
	}
	if c.Version != ConfigVersion {
		return nil, fmt.Errorf("dbdir: read config %s: %w %d", path, ErrUnknownConfigVersion, c.Version)
	}
	return &c, nil
}

// WriteConfig replaces the config of the database in dir, durably: when it
// returns nil the new config survives a crash, and a crash before that leaves
// the old one whole.
func WriteConfig(dir string, c *Config) error {
	if c.Version != ConfigVersion {
		return fmt.Errorf("dbdir: write config: %w %d", ErrUnknownConfigVersion, c.Version)
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("dbdir: write config: %w", err)
	}
	if err := WriteFileDurably(configPath(dir), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("dbdir: write config: %w", err)
	}
	return nil
}

// WriteFileDurably writes data to a temporary file beside path, syncs it,
// renames it to path and syncs the directory: after a crash path holds the
// old content or the new, whole. The file gets permissions perm.
func WriteFileDurably(path string, data []byte, perm os.FileMode) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}
