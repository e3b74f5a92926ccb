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
	t, err := schema.FromSQL(name, sch, collation, "")
	if err != nil {
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
