package sqle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/chunk/diskstore"
	"github.com/cairndb/cairn/storage/dbdir"
	"github.com/cairndb/cairn/storage/repo"
)

// What the backup procedure and CLI need of the provider: a database's
// store, its config (where backups are listed), and the installation of a
// restored database.

// DatabaseStore returns the chunk store of database name and its lease
// registry (nil if the store is not collectable). Whoever copies from the
// store leases what it reads (see chunk.Leases.AcquireRefs).
func (p *Provider) DatabaseStore(name string) (chunk.Store, *chunk.Leases, error) {
	st, ok := p.state(name)
	if !ok {
		return nil, nil, sql.ErrDatabaseNotFound.New(name)
	}
	return st.store, st.leases, nil
}

// DatabaseDir returns the directory of database name ("" in memory).
func (p *Provider) DatabaseDir(name string) (string, error) {
	st, ok := p.state(name)
	if !ok {
		return "", sql.ErrDatabaseNotFound.New(name)
	}
	return st.dir, nil
}

// DatabaseConfig returns a copy of the config of database name.
func (p *Provider) DatabaseConfig(name string) (*dbdir.Config, error) {
	st, ok := p.state(name)
	if !ok {
		return nil, sql.ErrDatabaseNotFound.New(name)
	}
	st.cfgMu.Lock()
	defer st.cfgMu.Unlock()
	return st.readConfig()
}

// UpdateDatabaseConfig applies fn to the config of database name and saves
// it, durably, if fn returns nil. Updates of one database are serialized.
func (p *Provider) UpdateDatabaseConfig(name string, fn func(*dbdir.Config) error) error {
	st, ok := p.state(name)
	if !ok {
		return sql.ErrDatabaseNotFound.New(name)
	}
	st.cfgMu.Lock()
	defer st.cfgMu.Unlock()
	c, err := st.readConfig()
	if err != nil {
		return err
	}
	if err := fn(c); err != nil {
		return err
	}
	if st.dir == "" {
		st.memConfig = c
		return nil
	}
	return dbdir.WriteConfig(st.dir, c)
}

// readConfig returns a copy of st's config; st.cfgMu is held.
func (st *dbState) readConfig() (*dbdir.Config, error) {
	if st.dir == "" {
		if st.memConfig == nil {
			return &dbdir.Config{Version: dbdir.ConfigVersion}, nil
		}
		b, _ := json.Marshal(st.memConfig)
		var c dbdir.Config
		json.Unmarshal(b, &c)
		return &c, nil
	}
	return dbdir.ReadConfig(st.dir)
}

// ErrRestoreExists is the error of a restore onto an existing database
// without --force; its text is Dolt's.
type ErrRestoreExists struct{ Name string }

func (e *ErrRestoreExists) Error() string {
	return fmt.Sprintf("database '%s' already exists, use '--force' to overwrite", e.Name)
}

// CheckRestoreTarget checks that a restore may make database name: a valid
// database name, and (unless force) no database or file of that name.
func (p *Provider) CheckRestoreTarget(name string, force bool) error {
	if err := dbdir.CheckName(name); err != nil {
		return err
	}
	st, exists := p.state(name)
	if exists && st.dir != "" && st.dir == p.opts.Dir {
		return fmt.Errorf("cannot restore over database %s: it is the data directory itself", st.name)
	}
	if !exists && !p.opts.InMemory {
		exists = pathExists(filepath.Join(p.opts.Dir, name))
	}
	if exists && !force {
		return &ErrRestoreExists{Name: name}
	}
	return nil
}

// RestoreDatabase makes database name from what fill puts in a store
// (fill returns nil only when the store holds a whole database): an empty
// one, or on disk, if place is not nil, the one opened in the directory
// place fills first (see dbdir.Prepare). On
// disk the database is built beside the data directory's entry for name and
// moved into place only when complete; with force an existing database is
// closed and replaced then, atomically. The database is served at once. A
// failure leaves no database behind and the old one, if any, untouched.
func (p *Provider) RestoreDatabase(ctx context.Context, name string, force bool, place func(ctx context.Context, storeDir string) error, fill func(context.Context, chunk.Store) error) error {
	if err := p.CheckRestoreTarget(name, force); err != nil {
		return err
	}
	if p.opts.InMemory {
		store := chunk.NewMemoryStore()
		if err := fill(ctx, store); err != nil {
			return err
		}
		if err := checkRestored(ctx, store); err != nil {
			return err
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		key := strings.ToLower(name)
		if old, ok := p.dbs[key]; ok {
			if !force {
				return &ErrRestoreExists{Name: name}
			}
			old.dropped.Store(true)
			old.close()
		}
		p.dbs[key] = newDBState(name, "", store, store.Close, p.cache)
		return nil
	}
	dir := filepath.Join(p.opts.Dir, name)
	tmp, err := dbdir.Prepare(ctx, dir, place, func(ctx context.Context, s *diskstore.Store) error {
		if err := fill(ctx, s); err != nil {
			return err
		}
		return checkRestored(ctx, s)
	})
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	key := strings.ToLower(name)
	old, hadOld := p.dbs[key]
	if hadOld || pathExists(dir) {
		if !force {
			dbdir.Discard(tmp)
			return &ErrRestoreExists{Name: name}
		}
	}
	if hadOld {
		// Like DROP DATABASE: sessions using it get errors from now on.
		old.dropped.Store(true)
		delete(p.dbs, key)
		if err := old.close(); err != nil {
			dbdir.Discard(tmp)
			return fmt.Errorf("close database %s to replace it: %w", name, err)
		}
	}
	if err := dbdir.Install(tmp, dir, force); err != nil {
		dbdir.Discard(tmp)
		if hadOld {
			if st, oerr := p.openDir(ctx, old.name, old.dir); oerr == nil {
				p.dbs[key] = st
			}
		}
		if errors.Is(err, dbdir.ErrExists) {
			return &ErrRestoreExists{Name: name}
		}
		return err
	}
	st, err := p.openDir(ctx, name, dir)
	if err != nil {
		return fmt.Errorf("open restored database %s: %w", name, err)
	}
	p.dbs[key] = st
	return nil
}

// checkRestored checks that a restored or cloned store is a database: it
// has a branch whose working set reads (main, if there is one).
func checkRestored(ctx context.Context, s chunk.Store) error {
	r := repo.Open(s)
	bs, err := r.Branches(ctx)
	if err != nil {
		return err
	}
	if len(bs) == 0 {
		return fmt.Errorf("the source holds no database: it has no branch")
	}
	b := bs[0].Name
	for _, x := range bs {
		if x.Name == repo.DefaultBranch {
			b = x.Name
		}
	}
	if _, _, err := r.WorkingSet(ctx, b); err != nil {
		return fmt.Errorf("the source holds no database (its branch %s: %w)", b, err)
	}
	return nil
}

// backupsTable is the read-only system table dolt_backups(name, url,
// params): the database's backups, as Dolt lists them.
func backupsTable(db *Database) *systemTable {
	return &systemTable{
		name: "dolt_backups",
		db:   db.st.name,
		sch: sql.Schema{
			{Name: "name", Type: types.LongText, PrimaryKey: true, Source: "dolt_backups"},
			{Name: "url", Type: types.LongText, Source: "dolt_backups"},
			{Name: "params", Type: types.JSON, Source: "dolt_backups"},
		},
		rows: func(ctx *sql.Context) ([]sql.Row, error) {
			c, err := db.prov.DatabaseConfig(db.st.name)
			if err != nil {
				return nil, err
			}
			rows := make([]sql.Row, 0, len(c.Backups))
			for _, b := range c.Backups {
				rows = append(rows, sql.Row{b.Name, b.URL, paramsJSON(b.Params)})
			}
			return rows, nil
		},
	}
}

// paramsJSON is a destination's params as a JSON object (dolt_backups,
// dolt_remotes).
func paramsJSON(params map[string]string) types.JSONDocument {
	out := make(map[string]any, len(params))
	for k, v := range params {
		out[k] = v
	}
	return types.JSONDocument{Val: out}
}

// BackupStatus is the state of one database's backup of a server-wide
// schedule: a row of dolt_backup_status.
type BackupStatus struct {
	Name        string        `json:"name"`
	Database    string        `json:"database"`
	URL         string        `json:"url"`
	LastStart   time.Time     `json:"last_start"`
	LastSuccess time.Time     `json:"last_success"`
	Duration    time.Duration `json:"duration"`
	Bytes       int64         `json:"bytes"`
	LastError   string        `json:"last_error"`
}

// SetBackupStatus makes fn the source of dolt_backup_status's rows (the
// server's schedules); without it the table is empty.
func (p *Provider) SetBackupStatus(fn func() []BackupStatus) { p.backupStatus.Store(&fn) }

// backupStatusTable is the read-only system table dolt_backup_status: the
// server-wide backups' state, per schedule and database, the same in every
// database.
func backupStatusTable(db *Database) *systemTable {
	src := "dolt_backup_status"
	return &systemTable{
		name: src,
		db:   db.st.name,
		sch: sql.Schema{
			{Name: "name", Type: types.LongText, PrimaryKey: true, Source: src},
			{Name: "database", Type: types.LongText, PrimaryKey: true, Source: src},
			{Name: "url", Type: types.LongText, Source: src},
			{Name: "last_start", Type: types.DatetimeMaxPrecision, Nullable: true, Source: src},
			{Name: "last_success", Type: types.DatetimeMaxPrecision, Nullable: true, Source: src},
			{Name: "duration", Type: types.Float64, Nullable: true, Source: src},
			{Name: "bytes", Type: types.Int64, Nullable: true, Source: src},
			{Name: "last_error", Type: types.LongText, Nullable: true, Source: src},
		},
		rows: func(ctx *sql.Context) ([]sql.Row, error) {
			fn := db.prov.backupStatus.Load()
			if fn == nil {
				return nil, nil
			}
			var rows []sql.Row
			for _, s := range (*fn)() {
				rows = append(rows, sql.Row{s.Name, s.Database, s.URL, timeOrNil(s.LastStart), timeOrNil(s.LastSuccess),
					s.Duration.Seconds(), s.Bytes, stringOrNil(s.LastError)})
			}
			return rows, nil
		},
	}
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

func stringOrNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func pathExists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}
