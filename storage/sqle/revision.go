package sqle

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/repo"
)

// Revision databases. A database name may carry a revision after a slash,
// as in Dolt: `db/feature` is database db on branch feature (writable),
// `db/v1`, `db/<commit hash>` and `db/main~2` are db as of a tag or commit
// (read-only). Plain `db` is db on the session's checked-out branch, which
// dolt_checkout changes (the database's default branch until then).

// RevisionDelimiter separates a database's name from a revision.
const RevisionDelimiter = "/"

// revision is what a revision database is pinned to: a branch, or a commit.
type revision struct {
	spec   string     // as the user wrote it, after the delimiter
	branch string     // the branch, for a branch revision
	commit chunk.Hash // the commit, for a read-only revision
	root   chunk.Hash // the commit's root, for a read-only revision
}

// splitRevision splits a database name at the first delimiter.
func splitRevision(name string) (base, rev string, ok bool) {
	return strings.Cut(name, RevisionDelimiter)
}

// resolveRevision resolves spec, the revision part of a database name, in
// st: a branch (matched in any case), else a tag or commit with optional
// ancestry suffixes. Nothing found gives ok false.
func resolveRevision(ctx context.Context, st *dbState, spec string) (*revision, bool, error) {
	if spec == "" {
		return nil, false, nil
	}
	branches, err := st.repo.Branches(ctx)
	if err != nil {
		return nil, false, err
	}
	for _, b := range branches {
		if b.Name == spec {
			return &revision{spec: spec, branch: b.Name}, true, nil
		}
	}
	for _, b := range branches {
		if strings.EqualFold(b.Name, spec) {
			return &revision{spec: spec, branch: b.Name}, true, nil
		}
	}
	h, err := st.repo.Resolve(ctx, spec, "")
	if errors.Is(err, repo.ErrRevisionNotFound) || errors.Is(err, repo.ErrBadRevision) || errors.Is(err, repo.ErrAmbiguousRevision) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	c, err := st.repo.ReadCommit(ctx, h)
	if err != nil {
		return nil, false, err
	}
	return &revision{spec: spec, commit: h, root: c.Root}, true, nil
}

// databaseOf returns the database called name, a plain or revision name.
func (p *Provider) databaseOf(ctx *sql.Context, name string) (*Database, error) {
	base, spec, hasRev := splitRevision(name)
	st, ok := p.state(base)
	if !ok {
		return nil, sql.ErrDatabaseNotFound.New(name)
	}
	if !hasRev {
		return &Database{st: st, prov: p}, nil
	}
	rev, ok, err := resolveRevision(ctx, st, spec)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, sql.ErrDatabaseNotFound.New(name)
	}
	return &Database{st: st, prov: p, rev: rev}, nil
}

// AliasedName implements sql.AliasedDatabase: privileges and
// information_schema see a revision database as its base database.
func (db *Database) AliasedName() string { return db.st.name }

// IsReadOnly implements sql.ReadOnlyDatabase: a database as of a tag or
// commit is read-only, and the engine refuses writes to it with
// "Database db/<hash> is read-only.".
func (db *Database) IsReadOnly() bool { return db.rev != nil && db.rev.branch == "" }

// Revision returns the revision part of a revision database's name, or "".
func (db *Database) Revision() string {
	if db.rev == nil {
		return ""
	}
	return db.rev.spec
}

// branchOf returns the branch the session works on in database st when it
// names it without a revision: the one dolt_checkout chose, else the
// default branch.
func (s *Session) branchOf(st *dbState) string {
	k := strings.ToLower(st.name)
	if b, ok := s.heads[k]; ok {
		return b
	}
	// The first use pins it: a later change of the database's default does
	// not move a session that is working.
	b := st.defaultBranch()
	if s.heads == nil {
		s.heads = map[string]string{}
	}
	s.heads[k] = b
	return b
}

// SetBranch makes branch the session's branch of database db (dolt_checkout).
// Edits waiting for COMMIT (deferred.go) are applied first, to the branch
// they were made on: they are applied later through the database's name,
// which would then name the other branch.
func (s *Session) SetBranch(ctx *sql.Context, db, branch string) error {
	if err := s.flushDeferred(ctx); err != nil {
		return err
	}
	if s.heads == nil {
		s.heads = map[string]string{}
	}
	s.heads[strings.ToLower(db)] = branch
	return nil
}

// ActiveBranch returns the branch a database name (plain or revision)
// works on in this session, or "" for a read-only revision.
func (s *Session) ActiveBranch(ctx *sql.Context, name string) (string, error) {
	db, err := s.prov.databaseOf(ctx, name)
	if err != nil {
		return "", err
	}
	switch {
	case db.rev == nil:
		return s.branchOf(db.st), nil
	default:
		return db.rev.branch, nil
	}
}

var (
	_ sql.AliasedDatabase  = (*Database)(nil)
	_ sql.ReadOnlyDatabase = (*Database)(nil)
)

// asOf returns the database as of asOf, the value of an AS OF clause: a
// revision string (a branch, tag, commit hash, HEAD~2, …, resolved from the
// database's branch) or a time (the newest commit of the branch made at
// or before it).
func (db *Database) asOf(ctx *sql.Context, asOf any) (*Database, error) {
	s, err := sessionOf(ctx)
	if err != nil {
		return nil, err
	}
	branch := s.branchOf(db.st)
	var head chunk.Hash
	if db.rev != nil {
		branch = db.rev.branch
		head = db.rev.commit
	}
	r := db.st.repo
	if head.IsZero() {
		if head, err = r.BranchHead(ctx, branch); err != nil {
			return nil, err
		}
	}
	var h chunk.Hash
	switch v := asOf.(type) {
	case string:
		if full, perr := chunk.Parse(v); perr == nil {
			h = full // a commit's full hash names it for ever
			if _, err := db.st.commit(ctx, h); err != nil {
				return nil, fmt.Errorf("invalid AS OF revision '%s': %w", v, err)
			}
		} else if h, err = r.Resolve(ctx, v, branch); err != nil {
			return nil, fmt.Errorf("invalid AS OF revision '%s': %w", v, err)
		}
	case time.Time:
		err = r.Log(ctx, head, func(ch chunk.Hash, c *repo.Commit) error {
			if !c.Committer.Time.After(v) {
				h = ch
				return repo.ErrStop
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if h.IsZero() {
			return nil, fmt.Errorf("no commit of %s at or before %s", db.Name(), v.Format(time.RFC3339))
		}
	default:
		return nil, fmt.Errorf("AS OF takes a revision or a time, not %T", asOf)
	}
	c, err := db.st.commit(ctx, h)
	if err != nil {
		return nil, err
	}
	return &Database{st: db.st, prov: db.prov, rev: &revision{spec: h.String(), commit: h, root: c.Root}}, nil
}

// GetTableInsensitiveAsOf implements sql.VersionedDatabase.
func (db *Database) GetTableInsensitiveAsOf(ctx *sql.Context, name string, asOf any) (sql.Table, bool, error) {
	at, err := db.asOf(ctx, asOf)
	if err != nil {
		return nil, false, err
	}
	return at.GetTableInsensitive(ctx, name)
}

// GetTableNamesAsOf implements sql.VersionedDatabase.
func (db *Database) GetTableNamesAsOf(ctx *sql.Context, asOf any) ([]string, error) {
	at, err := db.asOf(ctx, asOf)
	if err != nil {
		return nil, err
	}
	return at.GetTableNames(ctx)
}

var _ sql.VersionedDatabase = (*Database)(nil)

// immutableCache keeps decoded commits and root values by hash: they never
// change, and AS OF and revision databases read them on every statement.
type immutableCache struct {
	commits hashCache[*repo.Commit]
	roots   hashCache[*repo.RootValue]
}

// hashCache maps hashes to values decoded from their chunks, up to
// immutableCacheMax of them (then it starts over).
type hashCache[V any] struct {
	mu sync.Mutex
	m  map[chunk.Hash]V
}

const immutableCacheMax = 1024

// get returns the value of h, loading it on a miss.
func (c *hashCache[V]) get(h chunk.Hash, load func() (V, error)) (V, error) {
	c.mu.Lock()
	got, ok := c.m[h]
	c.mu.Unlock()
	if ok {
		return got, nil
	}
	got, err := load()
	if err != nil {
		return got, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= immutableCacheMax {
		c.m = map[chunk.Hash]V{}
	}
	c.m[h] = got
	c.mu.Unlock()
	return got, nil
}

func (st *dbState) commit(ctx context.Context, h chunk.Hash) (*repo.Commit, error) {
	return st.immutable.commits.get(h, func() (*repo.Commit, error) { return st.repo.ReadCommit(ctx, h) })
}

func (st *dbState) rootValue(ctx context.Context, h chunk.Hash) (*repo.RootValue, error) {
	return st.immutable.roots.get(h, func() (*repo.RootValue, error) { return st.repo.ReadRoot(ctx, h) })
}
