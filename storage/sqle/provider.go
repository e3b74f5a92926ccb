package sqle

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/chunk/diskstore"
	"github.com/cairndb/cairn/storage/dbdir"
	"github.com/cairndb/cairn/storage/repo"
	"github.com/cairndb/cairn/storage/tree"
)

// DefaultCacheBytes is the default size of the node cache shared by every
// database of a Provider: decoded nodes, on the Go heap, where the garbage
// collector's headroom doubles what they take.
const DefaultCacheBytes = 64 << 20

// DefaultBlockCacheBytes is the default size of the block cache shared by
// every database's store: chunks as stored, outside the Go heap. It is
// sized for the one-shot commands (cairn sql, dump, backups); the server
// passes its own (server.DefaultCacheSize, --cache-size).
const DefaultBlockCacheBytes = 64 << 20

// Options configures a Provider. The zero value serves the databases under
// the current directory.
type Options struct {
	// Dir is the data directory: every subdirectory that is a cairn database
	// (see storage/dbdir) is a database. If Dir is itself a database, it is
	// served too, under its directory's name. Empty means ".".
	Dir string
	// InMemory keeps every database in memory (chunk.MemoryStore) and never
	// touches the file system: for tests.
	InMemory bool
	// CacheBytes bounds the decoded-node cache shared by all databases;
	// 0 means DefaultCacheBytes.
	CacheBytes int
	// BlockCacheBytes bounds the block cache shared by all databases'
	// stores (diskstore.Cache), unless Store.Cache names one; 0 means
	// DefaultBlockCacheBytes.
	BlockCacheBytes int64
	// Author signs the initial commit of databases made by CREATE DATABASE.
	// Empty means "cairn" and "cairn@localhost".
	AuthorName, AuthorEmail string
	// Store configures the databases' chunk stores (zero: the defaults, and
	// the block cache of BlockCacheBytes).
	Store diskstore.Options
}

// Provider is cairn's sql.DatabaseProvider: the databases of one data
// directory. It is safe for concurrent use.
type Provider struct {
	opts  Options
	cache *tree.NodeCache
	// blocks is the block cache the Provider made for its stores, or nil.
	blocks *diskstore.Cache

	mu  sync.RWMutex
	dbs map[string]*dbState // by lower-case name

	procs *sql.ExternalStoredProcedureRegistry

	// backupStatus, if set, gives the rows of dolt_backup_status.
	backupStatus atomic.Pointer[func() []BackupStatus]
}

var (
	_ sql.DatabaseProvider                = (*Provider)(nil)
	_ sql.MutableDatabaseProvider         = (*Provider)(nil)
	_ sql.CollatedDatabaseProvider        = (*Provider)(nil)
	_ sql.ExternalStoredProcedureProvider = (*Provider)(nil)
)

// NewProvider opens every database of opts.Dir. Databases stay open until
// Close.
func NewProvider(ctx context.Context, opts Options) (*Provider, error) {
	if opts.Dir == "" {
		opts.Dir = "."
	}
	if opts.CacheBytes == 0 {
		opts.CacheBytes = DefaultCacheBytes
	}
	if opts.AuthorName == "" {
		opts.AuthorName = "cairn"
	}
	if opts.AuthorEmail == "" {
		opts.AuthorEmail = "cairn@localhost"
	}
	p := &Provider{opts: opts, cache: tree.NewNodeCache(opts.CacheBytes), dbs: map[string]*dbState{}}
	reg := sql.NewExternalStoredProcedureRegistry()
	p.procs = &reg
	if opts.InMemory {
		return p, nil
	}
	abs, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	p.opts.Dir = abs
	var dirs []string
	if dbdir.IsDatabase(abs) {
		dirs = append(dirs, abs)
	}
	names, err := dbdir.List(abs)
	if err != nil {
		return nil, fmt.Errorf("list databases in %s: %w", abs, err)
	}
	for _, n := range names {
		dirs = append(dirs, filepath.Join(abs, n))
	}
	if p.opts.Store.Cache == nil {
		if p.opts.BlockCacheBytes <= 0 {
			p.opts.BlockCacheBytes = DefaultBlockCacheBytes
		}
		p.blocks = diskstore.NewCache(p.opts.BlockCacheBytes)
		p.opts.Store.Cache = p.blocks
	}
	for _, dir := range dirs {
		name := filepath.Base(dir)
		if _, dup := p.dbs[strings.ToLower(name)]; dup {
			p.Close()
			return nil, fmt.Errorf("two databases named %q (case-insensitively) in %s", name, abs)
		}
		st, err := p.openDir(ctx, name, dir)
		if err != nil {
			p.Close()
			return nil, fmt.Errorf("open database %s: %w", name, err)
		}
		p.dbs[strings.ToLower(name)] = st
	}
	return p, nil
}

func (p *Provider) openDir(ctx context.Context, name, dir string) (*dbState, error) {
	db, err := dbdir.Open(ctx, dir, p.opts.Store)
	if err != nil {
		return nil, err
	}
	return newDBState(name, dir, db.Store, db.Close, p.cache), nil
}

// Close closes every database. The Provider must not be used afterwards.
func (p *Provider) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for k, st := range p.dbs {
		errs = append(errs, st.close())
		delete(p.dbs, k)
	}
	if p.blocks != nil {
		p.blocks.Close()
		p.blocks = nil
	}
	return errors.Join(errs...)
}

// Dir returns the data directory (absolute), or "" in memory.
func (p *Provider) Dir() string {
	if p.opts.InMemory {
		return ""
	}
	return p.opts.Dir
}

func (p *Provider) state(name string) (*dbState, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	st, ok := p.dbs[strings.ToLower(name)]
	return st, ok
}

// Database implements sql.DatabaseProvider. name may carry a revision
// (db/branch, db/<commit>: see revision.go).
func (p *Provider) Database(ctx *sql.Context, name string) (sql.Database, error) {
	db, err := p.databaseOf(ctx, name)
	if err != nil {
		return nil, err // not a typed nil: callers look at the database first
	}
	return db, nil
}

// HasDatabase implements sql.DatabaseProvider.
func (p *Provider) HasDatabase(ctx *sql.Context, name string) bool {
	_, err := p.databaseOf(ctx, name)
	return err == nil
}

// DatabaseNames returns the names of every database, in order.
func (p *Provider) DatabaseNames() []string {
	p.mu.RLock()
	out := make([]string, 0, len(p.dbs))
	for _, st := range p.dbs {
		out = append(out, st.name)
	}
	p.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i]) < strings.ToLower(out[j]) })
	return out
}

// AllDatabases implements sql.DatabaseProvider, in order of name.
func (p *Provider) AllDatabases(ctx *sql.Context) []sql.Database {
	p.mu.RLock()
	all := make([]sql.Database, 0, len(p.dbs))
	for _, st := range p.dbs {
		all = append(all, &Database{st: st, prov: p})
	}
	p.mu.RUnlock()
	sort.Slice(all, func(i, j int) bool {
		return strings.ToLower(all[i].Name()) < strings.ToLower(all[j].Name())
	})
	return all
}

// CreateDatabase implements sql.MutableDatabaseProvider.
func (p *Provider) CreateDatabase(ctx *sql.Context, name string) error {
	return p.CreateCollatedDatabase(ctx, name, sql.Collation_Default)
}

// CreateCollatedDatabase implements sql.CollatedDatabaseProvider: it makes a
// database with branch main and an initial commit, whose default collation
// is collation.
func (p *Provider) CreateCollatedDatabase(ctx *sql.Context, name string, collation sql.CollationID) error {
	if err := dbdir.CheckName(name); err != nil {
		return err // "invalid database name 'NAME': why"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.dbs[strings.ToLower(name)]; ok {
		return sql.ErrDatabaseExists.New(name)
	}
	opts := repo.InitOptions{Name: p.opts.AuthorName, Email: p.opts.AuthorEmail}
	var st *dbState
	if p.opts.InMemory {
		store := chunk.NewMemoryStore()
		if _, err := repo.Init(ctx, store, opts); err != nil {
			return err
		}
		st = newDBState(name, "", store, store.Close, p.cache)
	} else {
		dir := filepath.Join(p.opts.Dir, name)
		if _, err := os.Lstat(dir); err == nil {
			return sql.ErrDatabaseExists.New(name)
		}
		if err := dbdir.Init(ctx, dir, opts); err != nil {
			return fmt.Errorf("create database %s: %w", name, err)
		}
		var err error
		if st, err = p.openDir(ctx, name, dir); err != nil {
			return fmt.Errorf("create database %s: %w", name, err)
		}
	}
	if collation != sql.Collation_Default {
		if err := st.setCollation(ctx, collation); err != nil {
			st.close()
			return err
		}
	}
	p.dbs[strings.ToLower(name)] = st
	return nil
}

// DropDatabase implements sql.MutableDatabaseProvider: it closes the
// database and removes its directory.
func (p *Provider) DropDatabase(ctx *sql.Context, name string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	st, ok := p.dbs[strings.ToLower(name)]
	if !ok {
		return sql.ErrDatabaseNotFound.New(name)
	}
	if st.dir != "" && st.dir == p.opts.Dir {
		return fmt.Errorf("cannot drop database %s: it is the data directory itself", st.name)
	}
	delete(p.dbs, strings.ToLower(name))
	st.dropped.Store(true)
	if err := st.close(); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	if st.dir != "" {
		if err := dbdir.Remove(st.dir); err != nil {
			return fmt.Errorf("drop database %s: %w", name, err)
		}
	}
	return nil
}

// RegisterProcedure makes an external stored procedure (a Go function)
// callable with CALL in every database. Names are lower-cased: the engine
// looks them up that way.
func (p *Provider) RegisterProcedure(d sql.ExternalStoredProcedureDetails) {
	d.Name = strings.ToLower(d.Name)
	p.procs.Register(d)
}

// ExternalStoredProcedure implements sql.ExternalStoredProcedureProvider.
func (p *Provider) ExternalStoredProcedure(ctx *sql.Context, name string, numOfParams int) (*sql.ExternalStoredProcedureDetails, error) {
	return p.procs.LookupByNameAndParamCount(name, numOfParams)
}

// ExternalStoredProcedures implements sql.ExternalStoredProcedureProvider.
func (p *Provider) ExternalStoredProcedures(ctx *sql.Context, name string) ([]sql.ExternalStoredProcedureDetails, error) {
	return p.procs.LookupByName(name)
}

// CollectDatabaseGarbage collects the garbage of database name now
// (dolt_gc, and the server when a store has grown), then compacts the store
// for up to compactFor (0: not at all; negative: until it is done), so that
// the space of what was deleted goes back to the file system now rather
// than when Pebble's own compactions reach it. Under a heavy write load a
// whole compaction can take tens of seconds, while garbage piles up behind
// it: the server's collections bound it, and what was left undone waits
// for the next. A collection deletes only chunks written before the
// oldest live lease began, and the database's own leases on its published
// working sets date from their publication; so it collects, renews those
// leases, and collects again, which reclaims everything no ref or open
// transaction reaches.
func (p *Provider) CollectDatabaseGarbage(ctx context.Context, name string, compactFor time.Duration) (chunk.GCStats, error) {
	st, ok := p.state(name)
	if !ok {
		return chunk.GCStats{}, sql.ErrDatabaseNotFound.New(name)
	}
	st.gcMu.Lock()
	defer st.gcMu.Unlock()
	first, err := st.collect(ctx)
	if err != nil {
		return first, err
	}
	st.renewLeases()
	second, err := st.collect(ctx)
	second.Deleted += first.Deleted
	if err == nil && compactFor != 0 {
		cctx := ctx
		if compactFor > 0 {
			var cancel context.CancelFunc
			cctx, cancel = context.WithTimeout(ctx, compactFor)
			defer cancel()
		}
		if err = st.compact(cctx); err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			err = nil
		}
	}
	return second, err
}

// collect runs chunk.GC on the database's store. The caller holds gcMu.
func (st *dbState) collect(ctx context.Context) (chunk.GCStats, error) {
	c, ok := st.store.(chunk.Collectable)
	if !ok || st.dropped.Load() {
		return chunk.GCStats{}, nil
	}
	return chunk.GC(ctx, c)
}

// compact compacts the store, if it can: deleted chunks free their space
// when Pebble compacts their tombstones.
func (st *dbState) compact(ctx context.Context) error {
	if cs, ok := st.store.(interface{ Compact(context.Context) error }); ok && !st.dropped.Load() {
		return cs.Compact(ctx)
	}
	return nil
}

// DiskUsage returns the bytes each database's store takes on disk (stores
// that cannot tell are left out).
func (p *Provider) DiskUsage() map[string]uint64 {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := map[string]uint64{}
	for _, st := range p.dbs {
		if u, ok := st.store.(interface{ DiskUsage() uint64 }); ok && !st.dropped.Load() {
			out[st.name] = u.DiskUsage()
		}
	}
	return out
}

// CollectGarbage runs the store's garbage collection (chunk.GC) on every
// open database, one after another, while they are in use: what
// transactions and the published working sets reference is leased and
// kept. It returns what each collection did, by database name; a database
// dropped meanwhile is skipped, and so is one whose store has not been
// written since this function last collected it: a collection marks every
// node the refs reach, and repeating it over a database only read (or idle)
// found nothing new to delete but took CPU and the caches from its readers.
// (Garbage a lease protected then waits for the next write.)
func (p *Provider) CollectGarbage(ctx context.Context) (map[string]chunk.GCStats, error) {
	p.mu.RLock()
	states := make([]*dbState, 0, len(p.dbs))
	for _, st := range p.dbs {
		states = append(states, st)
	}
	p.mu.RUnlock()
	out := map[string]chunk.GCStats{}
	var errs []error
	for _, st := range states {
		if _, ok := st.store.(chunk.Collectable); !ok || st.dropped.Load() {
			continue
		}
		st.gcMu.Lock()
		w, counted := st.store.(interface{ Writes() uint64 })
		var before uint64
		if counted {
			before = w.Writes()
			if st.gcWritesSet && before == st.gcWrites {
				st.gcMu.Unlock()
				continue
			}
		}
		stats, err := st.collect(ctx)
		if err == nil && stats.Deleted > stats.Reachable {
			err = st.compact(ctx)
		}
		if err == nil && counted {
			st.gcWrites, st.gcWritesSet = before, true
		}
		st.gcMu.Unlock()
		if err != nil {
			if st.dropped.Load() {
				continue
			}
			errs = append(errs, fmt.Errorf("database %s: %w", st.name, err))
			continue
		}
		out[st.name] = stats
	}
	return out, errors.Join(errs...)
}
