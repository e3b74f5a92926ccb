package sqle

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/repo"
)

// Session is a connection's state: go-mysql-server's base session plus the
// open transaction's view of each database and the connection's temporary
// tables. A session is used by one query at a time.
type Session struct {
	*sql.BaseSession
	prov *Provider
	// temp holds temporary tables by lower-case database then table name.
	temp map[string]map[string]*tempTable
	// writers holds the pending edits of the running statement by table.
	writers map[writerKey]*tableWriter
	// deferred holds the edits of completed statements that wait for
	// COMMIT (deferred.go); a later statement writing the same table goes
	// on in the same writer.
	deferred []deferredWrite

	// The open transaction's view of each database it has touched (by
	// lower-case name), and its savepoints. They belong to the session,
	// not to the Transaction value: go-mysql-server swaps transaction
	// values around a CALL (it runs the procedure in a fresh one and then
	// puts the caller's back), and the procedure's writes must stay.
	dbs        map[string]*txDB
	savepoints []savepoint
	// tempBefore holds the version of each temporary table before the
	// transaction first wrote it.
	tempBefore map[*tempTable]*tableData

	// objectDB is the database of the stored object (view, trigger,
	// routine, event) the engine read last in this statement. With no
	// current database, GetCurrentDatabase answers it, so that the names
	// in the object's statement resolve in the object's own database.
	objectDB string

	// ddl is what the table DDL statement parsed last declared that the
	// engine drops (see ddlparse.go); the table methods the statement
	// calls apply it.
	ddl ddlNotes

	// heads holds the branch the session has checked out in each database
	// (by lower-case name), when it is not the default branch.
	heads map[string]string
}

var (
	_ sql.Session            = (*Session)(nil)
	_ sql.TransactionSession = (*Session)(nil)
)

// NewSession returns a session of prov over base.
func (p *Provider) NewSession(base *sql.BaseSession) *Session {
	return &Session{BaseSession: base, prov: p, temp: map[string]map[string]*tempTable{}}
}

// SessionBuilder returns the function go-mysql-server's server calls for
// each new connection (server.SessionBuilder).
func (p *Provider) SessionBuilder() func(ctx context.Context, conn *mysql.Conn, addr string) (sql.Session, error) {
	return func(ctx context.Context, conn *mysql.Conn, addr string) (sql.Session, error) {
		var host, user string
		if u, ok := conn.UserData.(sql.MysqlConnectionUser); ok {
			host, user = u.Host, u.User
		}
		client := sql.Client{Address: host, User: user, Capabilities: conn.Capabilities}
		return p.NewSession(sql.NewBaseSessionWithClientServer(addr, client, conn.ConnectionID)), nil
	}
}

func sessionOf(ctx *sql.Context) (*Session, error) {
	s, ok := ctx.Session.(*Session)
	if !ok {
		return nil, fmt.Errorf("cairn: session of type %T is not a cairn session", ctx.Session)
	}
	return s, nil
}

// Transaction is an SQL transaction as the engine holds it. Its state (for
// each database touched, the working root read at the first access and the
// root made since) is kept by the Session.
type Transaction struct {
	readOnly bool
}

var _ sql.Transaction = (*Transaction)(nil)

// String implements sql.Transaction.
func (t *Transaction) String() string { return "cairn transaction" }

// IsReadOnly implements sql.Transaction.
func (t *Transaction) IsReadOnly() bool { return t.readOnly }

type savepoint struct {
	name  string
	roots map[string]*repo.RootValue
	temps map[*tempTable]*tableData
}

// txDB is a transaction's view of one database on one branch.
type txDB struct {
	st      *dbState
	branch  string
	base    *wsState        // the working set when the transaction first read the database
	root    *repo.RootValue // the transaction's working root
	release func()          // ends the lease that keeps base and new chunks
	// deferred holds, during COMMIT, statement edits that apply to the
	// root the publication builds on (deferred.go).
	deferred []*tableWriter
}

// StartTransaction implements sql.TransactionSession. Databases are read
// lazily: a transaction's snapshot of a database is the working root at its
// first access to it.
func (s *Session) StartTransaction(ctx *sql.Context, tc sql.TransactionCharacteristic) (sql.Transaction, error) {
	if len(s.dbs) > 0 && !ctx.GetIgnoreAutoCommit() && s.autocommit(ctx) {
		// Left by a transaction the engine dropped without ending it (a
		// statement that failed to plan): in autocommit mode every
		// statement reads fresh data. (A CALL in autocommit mode commits
		// each of its statements, so nothing of it is pending here.)
		s.endTransaction()
	}
	return &Transaction{readOnly: tc == sql.ReadOnly}, nil
}

// CommandBegin implements sql.LifecycleAwareSession; the server calls it
// before each command of a connection. The server leaves the transaction of
// an autocommit statement that failed while sending rows open (it never
// closes the iterator); such a transaction is rolled back here, so the next
// statement reads fresh data. (Not in ValidateSession: the engine calls
// that for statements run inside a statement too, stored procedures.)
func (s *Session) CommandBegin() error {
	s.objectDB = ""
	s.ddl = nil
	// Edits of a statement the server abandoned without closing it never
	// reach a table; those of earlier statements it went on from still
	// wait for COMMIT.
	for _, w := range s.writers {
		if w.stmt != nil {
			w.rollback(w.stmt)
			w.stmt = nil
		}
	}
	s.writers = nil
	tx, ok := s.GetTransaction().(*Transaction)
	if !ok || tx == nil {
		s.deferred = nil
		return nil
	}
	if s.GetIgnoreAutoCommit() {
		return nil
	}
	// A context on this session: sql.NewEmptyContext would build a whole
	// new session, system variables included, at every command.
	if s.autocommit(sql.NewContext(context.Background(), sql.WithSession(s))) {
		s.endTransaction()
		s.SetTransaction(nil)
	}
	return nil
}

// GetCurrentDatabase implements sql.Session: the current database, or
// while there is none, the database of the stored object the engine is
// reading (see objectDB). go-mysql-server v0.20.0 parses a view's, a
// trigger's or a routine's statement in the session's current database,
// so `SELECT * FROM shop.v`, `CALL shop.p()`, an INSERT into a table with
// a trigger or `SHOW TRIGGERS FROM shop` otherwise fail with "no database
// selected" when no database is selected, where MySQL resolves the
// object's names in its own database.
func (s *Session) GetCurrentDatabase() string {
	if db := s.BaseSession.GetCurrentDatabase(); db != "" || s.objectDB == "" {
		return db
	}
	return s.objectDB
}

// StatementBegin forgets, at the start of a statement, the stored object's
// database GetCurrentDatabase answers with none selected (objectDB). The
// server's CommandBegin and Engine.QueryEach call it; so must any other
// caller that runs statements on a session of this package.
func StatementBegin(s sql.Session) {
	if s, ok := s.(*Session); ok {
		s.objectDB = ""
	}
}

// readingObjectOf notes that the engine is reading a stored object of db
// (see objectDB).
func readingObjectOf(ctx *sql.Context, db string) {
	if s, ok := ctx.Session.(*Session); ok && s.BaseSession.GetCurrentDatabase() == "" {
		s.objectDB = db
	}
}

func (s *Session) autocommit(ctx *sql.Context) bool {
	v, err := s.GetSessionVariable(ctx, "autocommit")
	if err != nil {
		return true
	}
	on, _ := sql.ConvertToBool(ctx, v)
	return on
}

// txOf returns the session's transaction, starting one if there is none
// (as the engine does before each query).
func (s *Session) txOf(ctx *sql.Context) (*Transaction, error) {
	if tx, ok := ctx.GetTransaction().(*Transaction); ok && tx != nil {
		return tx, nil
	}
	t, err := s.StartTransaction(ctx, sql.ReadWrite)
	if err != nil {
		return nil, err
	}
	ctx.SetTransaction(t)
	return t.(*Transaction), nil
}

// dbTx returns the transaction's view of database db (on its branch, or as
// of its commit), reading its working set on first access.
func (s *Session) dbTx(ctx *sql.Context, db *Database) (*txDB, error) {
	if len(s.deferred) > 0 {
		if err := s.flushDeferred(ctx); err != nil {
			return nil, err
		}
	}
	return s.dbView(ctx, db)
}

// dbView is dbTx without applying the session's deferred edits: the
// tables as their trees hold them. Only readers of schemas, and readers
// that look the deferred edits up themselves, use it (deferred.go).
func (s *Session) dbView(ctx *sql.Context, db *Database) (*txDB, error) {
	st := db.st
	if st.dropped.Load() {
		return nil, sql.ErrDatabaseNotFound.New(st.name)
	}
	if _, err := s.txOf(ctx); err != nil {
		return nil, err
	}
	branch := s.branchOf(st)
	if db.rev != nil {
		branch = db.rev.branch
	}
	// One view per database and branch, or database and commit.
	k := strings.ToLower(st.name) + "\x00" + branch
	if branch == "" {
		k += "@" + db.rev.commit.String()
	}
	if d, ok := s.dbs[k]; ok && d.st == st {
		return d, nil
	}
	var d *txDB
	if branch == "" {
		root, err := st.rootValue(ctx, db.rev.root)
		if err != nil {
			return nil, err
		}
		cur := &wsState{ws: &repo.WorkingSet{Working: db.rev.root, Staged: db.rev.root}, root: root}
		d = &txDB{st: st, base: cur, root: root, release: st.lease(db.rev.root)}
	} else {
		cur, release, err := st.snapshot(ctx, branch)
		if err != nil {
			return nil, err
		}
		d = &txDB{st: st, branch: branch, base: cur, root: cur.root, release: release}
	}
	if s.dbs == nil {
		s.dbs = map[string]*txDB{}
	}
	s.dbs[k] = d
	return d, nil
}

// CommitTransaction implements sql.TransactionSession: it publishes the
// working root of every database the transaction changed, merging with
// commits made since it began. Two transactions that changed the same row
// (or the same schema object) differently cannot both commit: the later one
// fails with ER_LOCK_DEADLOCK and nothing of it is applied. When it returns
// nil, the changes are durable.
func (s *Session) CommitTransaction(ctx *sql.Context, t sql.Transaction) error {
	// A statement may still have edits pending (a CALL inside a trigger
	// commits in the middle of the statement that fired it): they stay in
	// the session's writers and reach the next transaction.
	defer s.endTransaction()
	if testHookCommit != nil {
		testHookCommit(s)
	}
	err := s.settleDeferred(ctx)
	if err == nil {
		var changed []*txDB
		for _, d := range s.dbs {
			if d.root != d.base.root || len(d.deferred) > 0 {
				changed = append(changed, d)
			}
		}
		err = publish(ctx, changed)
	}
	if err != nil {
		// As in MySQL, a failed COMMIT ends the transaction: it is
		// rolled back and the session is in autocommit mode again.
		ctx.SetIgnoreAutoCommit(false)
		ctx.SetTransaction(nil)
		s.writers = nil
	}
	return err
}

// publish makes the transaction's roots the working roots of their
// databases. Every database is merged and written first, under all their
// publish locks (taken in order of name), and only if all merge cleanly are
// the working sets swapped: a conflict in one database changes none. (The
// swaps themselves are one per database; a crash or an I/O error between
// two of them keeps the first.)
func publish(ctx *sql.Context, changed []*txDB) error {
	sort.Slice(changed, func(i, j int) bool {
		if changed[i].st.name != changed[j].st.name {
			return changed[i].st.name < changed[j].st.name
		}
		return changed[i].branch < changed[j].branch
	})
	if len(changed) == 1 && combinable(changed[0]) {
		p, err := changed[0].st.combine(ctx, changed[0])
		if p != nil {
			err = p.finish(ctx)
		}
		return err
	}
	ps, err := preparePublications(ctx, changed)
	// Outside the locks: the syncs of publications queued by concurrent
	// commits are shared (group commit).
	for _, p := range ps {
		if ferr := p.finish(ctx); ferr != nil && err == nil {
			err = ferr
		}
	}
	return err
}

// preparePublications merges, writes and queues the publication of every
// changed database under their publish locks, taken in name order, and
// returns what was queued.
func preparePublications(ctx *sql.Context, changed []*txDB) ([]*prepared, error) {
	for i, d := range changed {
		if i > 0 && changed[i-1].st == d.st {
			continue // another branch of the same database: locked
		}
		d.st.publish.Lock()
		defer d.st.publish.Unlock()
	}
	var ps []*prepared
	for _, d := range changed {
		p, err := d.prepare(ctx)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	for i, p := range ps {
		if err := p.queue(ctx); err != nil {
			return ps[:i], err
		}
	}
	return ps, nil
}

// Rollback implements sql.TransactionSession.
func (s *Session) Rollback(ctx *sql.Context, t sql.Transaction) error {
	restoreTemps(s.tempBefore)
	s.endTransaction()
	s.writers = nil
	return nil
}

func (s *Session) endTransaction() {
	s.deferred = nil
	for k, d := range s.dbs {
		if d.release != nil {
			d.release()
		}
		delete(s.dbs, k)
	}
	s.savepoints = nil
	s.tempBefore = nil
}

// CreateSavepoint implements sql.TransactionSession; a savepoint of the same
// name is replaced.
func (s *Session) CreateSavepoint(ctx *sql.Context, t sql.Transaction, name string) error {
	if err := s.flushDeferred(ctx); err != nil {
		return err
	}
	s.dropSavepoint(name)
	sp := savepoint{name: name, roots: map[string]*repo.RootValue{}, temps: s.tempVersions()}
	for k, d := range s.dbs {
		sp.roots[k] = d.root
	}
	s.savepoints = append(s.savepoints, sp)
	return nil
}

func (s *Session) findSavepoint(name string) int {
	for i := len(s.savepoints) - 1; i >= 0; i-- {
		if strings.EqualFold(s.savepoints[i].name, name) {
			return i
		}
	}
	return -1
}

func (s *Session) dropSavepoint(name string) bool {
	i := s.findSavepoint(name)
	if i < 0 {
		return false
	}
	s.savepoints = append(s.savepoints[:i], s.savepoints[i+1:]...)
	return true
}

// RollbackToSavepoint implements sql.TransactionSession: every database
// returns to its root at the savepoint; later savepoints are dropped, the
// savepoint itself stays.
func (s *Session) RollbackToSavepoint(ctx *sql.Context, t sql.Transaction, name string) error {
	i := s.findSavepoint(name)
	if i < 0 {
		return sql.ErrSavepointDoesNotExist.New(name)
	}
	if err := s.flushDeferred(ctx); err != nil {
		return err
	}
	sp := s.savepoints[i]
	restoreTemps(sp.temps)
	for k, d := range s.dbs {
		if r, ok := sp.roots[k]; ok {
			d.root = r
		} else {
			// First read after the savepoint: nothing changed before it.
			d.root = d.base.root
		}
	}
	s.savepoints = s.savepoints[:i+1]
	return nil
}

// triggerSavepoint is the savepoint go-mysql-server takes around each
// statement with triggers. A procedure called from a trigger may commit
// (autocommit), which ends every savepoint: releasing it then is no error.
const triggerSavepoint = "__go_mysql_server_trigger_savepoint__"

// ReleaseSavepoint implements sql.TransactionSession.
func (s *Session) ReleaseSavepoint(ctx *sql.Context, t sql.Transaction, name string) error {
	if !s.dropSavepoint(name) && name != triggerSavepoint {
		return sql.ErrSavepointDoesNotExist.New(name)
	}
	return nil
}

// errConflict reports a transaction that cannot be merged with what
// committed since it began.
func errConflict(what string) error {
	return sql.ErrLockDeadlock.New(what)
}

var errNoWorkingSet = errors.New("no working set")

// wsState is a branch's working set as last published, decoded.
type wsState struct {
	hash chunk.Hash // of the working set chunk (zero if none is stored)
	ws   *repo.WorkingSet
	root *repo.RootValue // ws.Working, decoded
}

// current returns the branch's working set as this process last saw it,
// loading it the first time.
func (st *dbState) current(ctx context.Context, branch string) (*wsState, error) {
	st.curMu.RLock()
	cur := st.cur[branch]
	st.curMu.RUnlock()
	if cur != nil {
		return cur, nil
	}
	return st.reload(ctx, branch)
}

// reload reads the branch's working set from the store.
func (st *dbState) reload(ctx context.Context, branch string) (*wsState, error) {
	ws, h, err := st.repo.WorkingSet(ctx, branch)
	if err != nil {
		return nil, err
	}
	root, err := st.repo.ReadRoot(ctx, ws.Working)
	if err != nil {
		return nil, err
	}
	cur := &wsState{hash: h, ws: ws, root: root}
	st.curMu.Lock()
	st.setCurLocked(branch, cur)
	st.curMu.Unlock()
	return cur, nil
}

// setCurLocked records cur as the branch's working set and moves the
// database's own lease to it, so the published root is always leased while
// it is the cached one. Callers hold curMu.
func (st *dbState) setCurLocked(branch string, cur *wsState) {
	if old := st.curRelease[branch]; old != nil {
		defer old()
	}
	st.cur[branch] = cur
	st.curRelease[branch] = st.lease(cur.ws.Working, cur.ws.Staged)
}

// snapshot returns the branch's current working set with a lease on it: the
// start of a transaction.
func (st *dbState) snapshot(ctx context.Context, branch string) (*wsState, func(), error) {
	for {
		st.curMu.RLock()
		cur := st.cur[branch]
		var release func()
		if cur != nil {
			release = st.lease(cur.ws.Working)
		}
		st.curMu.RUnlock()
		if cur != nil {
			return cur, release, nil
		}
		if _, err := st.reload(ctx, branch); err != nil {
			return nil, nil, err
		}
	}
}

// pendingWS is a working set whose publication is queued but not yet
// durable.
type pendingWS struct {
	ws  *wsState
	seq uint64
}

// head returns what the next publication of branch builds on: the last
// queued one if it is not yet durable, else the current working set. The
// caller holds st.publish.
func (st *dbState) head(ctx context.Context, branch string) (*wsState, error) {
	st.curMu.RLock()
	p := st.pending[branch]
	st.curMu.RUnlock()
	if p != nil {
		return p.ws, nil
	}
	return st.current(ctx, branch)
}

// prepared is a database's new working set, merged and written, ready to
// be swapped in.
type prepared struct {
	d    *txDB
	cur  *wsState // what it builds on
	root *repo.RootValue
	ws   *repo.WorkingSet // nil: nothing to publish

	next *wsState     // the published working set, once queued
	seq  uint64       // its publication number
	wait func() error // waits for the swap to be durable
}

// prepare merges the transaction's root of d with what was published (or
// queued for publication) since it began and writes the result; the caller
// holds d.st.publish.
func (d *txDB) prepare(ctx *sql.Context) (*prepared, error) {
	st := d.st
	cur, err := st.head(ctx, d.branch)
	if err != nil {
		return nil, err
	}
	next := d.root
	if cur.ws.Working != d.base.ws.Working {
		if next, err = st.mergeRoots(ctx, d.base.root, d.root, cur.root); err != nil {
			return nil, err
		}
	}
	if len(d.deferred) > 0 {
		if next, err = st.applyDeferred(ctx, next, d.deferred); err != nil {
			return nil, err
		}
	}
	h, err := st.repo.WriteRoot(ctx, next)
	if err != nil {
		return nil, err
	}
	p := &prepared{d: d, cur: cur, root: next}
	if h != cur.ws.Working {
		p.ws = &repo.WorkingSet{Working: h, Staged: cur.ws.Staged, Merge: cur.ws.Merge}
	}
	return p, nil
}

// queue queues the swap of the prepared working set and makes it the head
// later publications build on; the caller holds d.st.publish, and must call
// finish.
func (p *prepared) queue(ctx *sql.Context) error {
	if p.ws == nil {
		return nil
	}
	st := p.d.st
	wsHash, wait, err := st.repo.UpdateWorkingSetQueued(ctx, p.d.branch, p.cur.hash, p.ws)
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	p.wait = wait
	p.next = &wsState{hash: wsHash, ws: p.ws, root: p.root}
	st.curMu.Lock()
	st.pubSeq++
	p.seq = st.pubSeq
	st.pending[p.d.branch] = &pendingWS{ws: p.next, seq: p.seq}
	st.curMu.Unlock()
	return nil
}

// finish waits until the queued swap is durable and makes it the current
// working set (unless a later publication already is). If the swap failed,
// every publication queued on top of it fails too: what was queued is
// forgotten and the working set read again from the store.
func (p *prepared) finish(ctx *sql.Context) error {
	if p.wait == nil {
		return nil
	}
	st := p.d.st
	err := p.wait()
	st.curMu.Lock()
	if err == nil {
		if p.seq > st.curSeq[p.d.branch] {
			st.setCurLocked(p.d.branch, p.next)
			st.curSeq[p.d.branch] = p.seq
		}
		if q := st.pending[p.d.branch]; q != nil && q.seq <= p.seq {
			delete(st.pending, p.d.branch)
		}
		st.curMu.Unlock()
		return nil
	}
	delete(st.pending, p.d.branch)
	st.curMu.Unlock()
	if _, rerr := st.reload(ctx, p.d.branch); rerr != nil {
		return rerr
	}
	if errors.Is(err, chunk.ErrRefConflict) {
		// Only this process writes the store (it holds its lock), and
		// only under the publish lock: the cache was wrong, or a
		// publication this one built on failed. The transaction fails
		// and may be retried.
		return errConflict("the working set changed under the commit")
	}
	return fmt.Errorf("commit: %w", err)
}
