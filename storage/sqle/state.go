package sqle

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/dbdir"
	"github.com/cairndb/cairn/storage/repo"
	"github.com/cairndb/cairn/storage/tree"
)

// dbState is one open database, shared by every session: its store, and the
// few things that must be global rather than per transaction (the publish
// lock of working sets, auto-increment counters).
type dbState struct {
	name    string
	dir     string // "" in memory
	store   chunk.Store
	repo    *repo.Repo
	ns      *tree.NodeStore
	leases  *chunk.Leases // nil if the store is not collectable
	closeFn func() error
	dropped atomic.Bool
	gcMu    sync.Mutex // serializes the database's garbage collections
	// gcWrites is the store's write count (Writes) when the last periodic
	// collection began, valid if gcWritesSet; guarded by gcMu.
	gcWrites    uint64
	gcWritesSet bool

	// publish serializes the publication of working sets by this process,
	// so that concurrent commits merge one after another instead of
	// retrying against each other.
	publish sync.Mutex
	// combineQueue holds the transactions waiting to be published
	// together by the publish lock's next holder (combine.go).
	combineMu    sync.Mutex
	combineQueue []*combineReq

	tables tableCache

	// curMu guards cur and curRelease: each branch's working set as this
	// process last published or read it, and the lease that keeps it.
	curMu      sync.RWMutex
	cur        map[string]*wsState
	curRelease map[string]func()
	// curSeq is the publication number of each branch's cur; pending
	// is the working set of each branch's last queued publication, not
	// yet durable (see publish). pubSeq numbers publications.
	curSeq  map[string]uint64
	pending map[string]*pendingWS
	pubSeq  uint64

	// cfgMu serializes reads and updates of the database's config;
	// memConfig is the config of a database in memory.
	cfgMu     sync.Mutex
	memConfig *dbdir.Config

	// immutable caches decoded commits and roots (revision.go).
	immutable immutableCache

	// headMu guards the cached default branch (see defaultBranch) and
	// the stamp of the config file it was read from.
	headMu    sync.Mutex
	headName  string
	headStamp dbdir.Stamp

	autoMu  sync.Mutex
	autoInc map[string]uint64 // next value by lower-case table name
	rowIDs  map[string]uint64 // next keyless row id by lower-case table name
}

func newDBState(name, dir string, store chunk.Store, closeFn func() error, cache *tree.NodeCache) *dbState {
	st := &dbState{
		name:    name,
		dir:     dir,
		store:   store,
		repo:    repo.Open(store),
		ns:      tree.NewNodeStore(store, cache),
		closeFn: closeFn,
		autoInc: map[string]uint64{},
		rowIDs:  map[string]uint64{},
		cur:     map[string]*wsState{},

		curRelease: map[string]func(){},
		curSeq:     map[string]uint64{},
		pending:    map[string]*pendingWS{},
	}
	if c, ok := store.(chunk.Collectable); ok {
		st.leases = c.Leases()
	}
	st.tables.init(1024)
	return st
}

func (st *dbState) close() error {
	if st.closeFn == nil {
		return nil
	}
	st.curMu.Lock()
	for b, release := range st.curRelease {
		release()
		delete(st.curRelease, b)
		delete(st.cur, b)
	}
	st.curMu.Unlock()
	err := st.closeFn()
	st.closeFn = nil
	return err
}

// lease keeps hashes (and every chunk put from now on) in the store until it
// is released; a no-op on stores without garbage collection.
func (st *dbState) lease(roots ...chunk.Hash) func() {
	if st.leases == nil {
		return func() {}
	}
	l := st.leases.Acquire(roots...)
	return l.Release
}

// emptyMap returns the empty prolly map, put in the store again on every
// call. It is not leased for the life of the database: a lease keeps every
// chunk put after it began, so a lease held that long would keep garbage
// collection from ever deleting anything. Putting the node again stamps it
// with the current generation, so a collection running meanwhile keeps it
// for the transaction that uses it (whose own lease began earlier).
func (st *dbState) emptyMap(ctx context.Context) (tree.Map, error) {
	return tree.NewEmptyMap(ctx, st.ns)
}

// nextAutoIncrement allocates an auto-increment value for table, whose
// stored counter is stored. Counters are global and not transactional, as in
// InnoDB: a value handed out is never handed out again by this process, even
// if the transaction that took it rolls back.
func (st *dbState) nextAutoIncrement(table string, stored uint64, given uint64) uint64 {
	st.autoMu.Lock()
	defer st.autoMu.Unlock()
	k := strings.ToLower(table)
	cur := st.autoInc[k]
	if cur < stored {
		cur = stored
	}
	if cur == 0 {
		cur = 1
	}
	if given == 0 {
		st.autoInc[k] = cur + 1
		return cur
	}
	if given >= cur {
		st.autoInc[k] = given + 1
	} else {
		st.autoInc[k] = cur
	}
	return given
}

// peekAutoIncrement returns the value the next allocation would give.
func (st *dbState) peekAutoIncrement(table string, stored uint64) uint64 {
	st.autoMu.Lock()
	defer st.autoMu.Unlock()
	cur := st.autoInc[strings.ToLower(table)]
	if cur < stored {
		cur = stored
	}
	if cur == 0 {
		cur = 1
	}
	return cur
}

// setAutoIncrement sets the counter of table (ALTER TABLE … AUTO_INCREMENT,
// TRUNCATE): exactly v, even if lower than before.
func (st *dbState) setAutoIncrement(table string, v uint64) {
	st.autoMu.Lock()
	defer st.autoMu.Unlock()
	st.autoInc[strings.ToLower(table)] = v
}

func (st *dbState) forgetAutoIncrement(table string) {
	st.autoMu.Lock()
	defer st.autoMu.Unlock()
	delete(st.autoInc, strings.ToLower(table))
	delete(st.rowIDs, strings.ToLower(table))
}

// nextRowID allocates a row id of keyless table table, whose row map is
// rows: one above any this process gave out or rows holds. Like
// auto-increment values, ids are global, so concurrent transactions never
// take the same one.
func (st *dbState) nextRowID(ctx context.Context, table string, rows tree.Map) (uint64, error) {
	st.autoMu.Lock()
	defer st.autoMu.Unlock()
	k := strings.ToLower(table)
	next, ok := st.rowIDs[k]
	if !ok {
		next = 1
		it, err := rows.Iter(ctx, tree.Range{Reverse: true})
		if err != nil {
			return 0, err
		}
		key, _, err := it.Next(ctx)
		if err == nil && len(key) == rowIDLen {
			next = binary.BigEndian.Uint64(key) + 1
		} else if err != nil && err != io.EOF {
			return 0, err
		}
	}
	st.rowIDs[k] = next + 1
	return next, nil
}

// dbSettings are a database's settings kept in its root value, so they
// version with it.
type dbSettings struct {
	Version   int    `json:"v"`
	Collation string `json:"collation,omitempty"`
}

func decodeSettings(b []byte) (dbSettings, error) {
	var s dbSettings
	if len(b) == 0 {
		return s, nil
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("%w: database settings: %v", chunk.ErrCorruption, err)
	}
	if s.Version != 1 {
		return s, fmt.Errorf("database settings of version %d: this cairn reads version 1", s.Version)
	}
	return s, nil
}

func encodeSettings(s dbSettings) []byte {
	s.Version = 1
	b, _ := json.Marshal(s)
	return b
}

// setCollation records collation as the database default, in a commit-less
// update of the working set of the default branch (used right after CREATE
// DATABASE, before any session can see the database).
func (st *dbState) setCollation(ctx context.Context, collation sql.CollationID) error {
	ws, wsHash, err := st.repo.WorkingSet(ctx, repo.DefaultBranch)
	if err != nil {
		return err
	}
	root, err := st.repo.ReadRoot(ctx, ws.Working)
	if err != nil {
		return err
	}
	s, err := decodeSettings(root.Settings())
	if err != nil {
		return err
	}
	s.Collation = collation.Name()
	release := st.lease(ws.Working)
	defer release()
	h, err := st.repo.WriteRoot(ctx, root.WithSettings(encodeSettings(s)))
	if err != nil {
		return err
	}
	_, err = st.repo.UpdateWorkingSet(ctx, repo.DefaultBranch, wsHash, &repo.WorkingSet{Working: h, Staged: ws.Staged})
	return err
}

// defaultBranch returns the branch new sessions start on: the database's
// checked-out branch (config "head", which `cairn checkout` sets, maybe
// from another process), else main. It reads the config file again only
// when the file has changed (see dbdir.ConfigStamp): a stat per new
// session, and a checkout from the shell shows in the next session.
func (st *dbState) defaultBranch() string {
	st.headMu.Lock()
	defer st.headMu.Unlock()
	var stamp dbdir.Stamp
	if st.dir != "" {
		stamp = dbdir.ConfigStamp(st.dir)
		if st.headName != "" && stamp.Valid() && stamp == st.headStamp {
			return st.headName
		}
	} else if st.headName != "" {
		return st.headName
	}
	st.headStamp = stamp
	st.headName = repo.DefaultBranch
	st.cfgMu.Lock()
	c, err := st.readConfig()
	st.cfgMu.Unlock()
	if err == nil && c.Head != "" {
		st.headName = c.Head
	}
	return st.headName
}

// SetDefaultBranch makes branch the checked-out branch of database name
// (config "head"): the one new sessions and the CLI start on.
func (p *Provider) SetDefaultBranch(ctx context.Context, name, branch string) error {
	st, ok := p.state(name)
	if !ok {
		return sql.ErrDatabaseNotFound.New(name)
	}
	if _, err := st.repo.BranchHead(ctx, branch); err != nil {
		return err
	}
	err := p.UpdateDatabaseConfig(name, func(c *dbdir.Config) error {
		c.Head = branch
		if branch == repo.DefaultBranch {
			c.Head = ""
		}
		return nil
	})
	st.headMu.Lock()
	st.headName = ""
	st.headMu.Unlock()
	return err
}

// renewLeases takes the leases on the cached working sets again, at the
// store's current generation (see CollectDatabaseGarbage).
func (st *dbState) renewLeases() {
	st.curMu.Lock()
	defer st.curMu.Unlock()
	for b, cur := range st.cur {
		st.setCurLocked(b, cur)
	}
}
