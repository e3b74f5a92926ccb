package sqle

import (
	"strings"
	"sync/atomic"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/cairndb/cairn/storage/sqle/schema"
)

// tempTable is a session's temporary table. Its rows live in the database's
// store (a lease keeps them from garbage collection) but no root names them:
// they vanish with the session.
type tempTable struct {
	id      uint64
	name    string
	td      *tableData
	release func()
}

var tempIDs atomic.Uint64

func (s *Session) tempTable(db, name string) *tempTable {
	return s.temp[strings.ToLower(db)][strings.ToLower(name)]
}

func (s *Session) dropTempTable(db, name string) bool {
	m := s.temp[strings.ToLower(db)]
	tt, ok := m[strings.ToLower(name)]
	if !ok {
		return false
	}
	tt.release()
	delete(m, strings.ToLower(name))
	return true
}

// CreateTemporaryTable implements sql.TemporaryTableCreator.
func (db *Database) CreateTemporaryTable(ctx *sql.Context, name string, sch sql.PrimaryKeySchema, collation sql.CollationID) error {
	return db.createTemporaryTable(ctx, name, sch, collation, "")
}

func (db *Database) createTemporaryTable(ctx *sql.Context, name string, sch sql.PrimaryKeySchema, collation sql.CollationID, comment string) error {
	if err := checkTableName(name); err != nil {
		return err
	}
	s, err := sessionOf(ctx)
	if err != nil {
		return err
	}
	if s.tempTable(db.st.name, name) != nil {
		return sql.ErrTableAlreadyExists.New(name)
	}
	t, err := schema.FromSQL(name, sch, collation, comment)
	if err != nil {
		return err
	}
	if err := db.applyCreateNotes(ctx, t); err != nil {
		return err
	}
	release := db.st.lease()
	td, err := db.st.newTableData(ctx, t)
	if err != nil {
		release()
		return err
	}
	k := strings.ToLower(db.st.name)
	if s.temp[k] == nil {
		s.temp[k] = map[string]*tempTable{}
	}
	s.temp[k][strings.ToLower(name)] = &tempTable{id: tempIDs.Add(1), name: name, td: td, release: release}
	return nil
}

// SessionEnd releases the session's temporary tables (called by the server
// when a connection closes).
func (s *Session) SessionEnd() {
	for _, m := range s.temp {
		for k, tt := range m {
			tt.release()
			delete(m, k)
		}
	}
}

// CommandEnd implements sql.LifecycleAwareSession.
func (s *Session) CommandEnd() {}

var _ sql.LifecycleAwareSession = (*Session)(nil)

// Temporary tables are transactional, as InnoDB's are: the version of each
// one before the transaction first wrote it is kept, and ROLLBACK (or
// ROLLBACK TO SAVEPOINT) puts it back.

// noteTempWrite records tt's version before the transaction's first write.
func (s *Session) noteTempWrite(tt *tempTable) {
	if s.tempBefore == nil {
		s.tempBefore = map[*tempTable]*tableData{}
	}
	if _, ok := s.tempBefore[tt]; !ok {
		s.tempBefore[tt] = tt.td
	}
}

// tempVersions returns the current version of every temporary table (for a
// savepoint).
func (s *Session) tempVersions() map[*tempTable]*tableData {
	out := map[*tempTable]*tableData{}
	for _, m := range s.temp {
		for _, tt := range m {
			out[tt] = tt.td
		}
	}
	return out
}

// restoreTemps puts temporary tables back to versions; tables made after
// them are not touched.
func restoreTemps(versions map[*tempTable]*tableData) {
	for tt, td := range versions {
		tt.td = td
	}
}
