package enginetest

import (
	"fmt"
	"time"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/cairndb/cairn/storage/repo"
	"github.com/cairndb/cairn/storage/sqle"
)

// The versioned suites (TestVersionedQueries, TestVersionedQueriesPrepared)
// build a table's history through the harness, then query it AS OF the
// labels they gave: cairn records each version as a commit of the whole
// database, tagged with its label.

// NewDatabases implements enginetest.VersionedDBHarness: the databases are
// made in the harness's current provider, which the next NewEngine keeps.
func (h *Harness) NewDatabases(names ...string) []sql.Database {
	p := h.getProvider()
	h.mu.Lock()
	h.retain = true
	h.mu.Unlock()
	ctx := h.NewContext()
	dbs := make([]sql.Database, 0, len(names))
	for _, name := range names {
		if err := p.CreateDatabase(ctx, name); err != nil {
			panic(fmt.Sprintf("create database %s: %v", name, err))
		}
		db, err := p.Database(ctx, name)
		if err != nil {
			panic(fmt.Sprintf("open database %s: %v", name, err))
		}
		dbs = append(dbs, db)
	}
	return dbs
}

// NewTableAsOf implements enginetest.VersionedDBHarness: it creates the
// table in the working set unless it exists, and returns it. The version
// is recorded by SnapshotTable.
func (h *Harness) NewTableAsOf(db sql.VersionedDatabase, name string, sch sql.PrimaryKeySchema, asOf any) sql.Table {
	ctx := h.NewContext()
	err := db.(sql.TableCreator).CreateTable(ctx, name, sch, sql.Collation_Default, "")
	if err != nil && !sql.ErrTableAlreadyExists.Is(err) {
		panic(fmt.Sprintf("create table %s: %v", name, err))
	}
	t, ok, err := db.GetTableInsensitive(ctx, name)
	if err != nil || !ok {
		panic(fmt.Sprintf("get table %s: %v", name, err))
	}
	return t
}

// SnapshotTable implements enginetest.VersionedDBHarness: it commits the
// session's transaction and the whole working set (even if nothing
// changed), and tags the commit with asOf, a revision label or, for a
// time, its date; a time is also the commit's date, for AS OF a time.
func (h *Harness) SnapshotTable(db sql.VersionedDatabase, name string, asOf any) error {
	ctx := h.NewContext()
	sig := repo.Signature{Name: "enginetest", Email: "enginetest@cairn"}
	var tag string
	switch v := asOf.(type) {
	case string:
		tag = v
	case time.Time:
		tag = v.Format("2006-01-02")
		sig.Time = v
	default:
		return fmt.Errorf("snapshot %s: AS OF label %v (%T) is neither a string nor a time", name, asOf, asOf)
	}
	vc, err := h.getProvider().OpenVC(ctx, db.Name())
	if err != nil {
		return err
	}
	if err := vc.CommitTransaction(ctx); err != nil {
		return err
	}
	msg := fmt.Sprintf("%s as of %s", name, tag)
	if _, err := vc.Commit(ctx, sqle.CommitOptions{Message: msg, Author: sig, AllowEmpty: true, Stage: sqle.StageAll}); err != nil {
		return fmt.Errorf("snapshot %s: %w", name, err)
	}
	if err := vc.CreateTag(ctx, tag, "", msg, sig); err != nil {
		return fmt.Errorf("snapshot %s: %w", name, err)
	}
	return nil
}
