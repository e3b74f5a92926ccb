package sqle

import (
	"github.com/dolthub/go-mysql-server/sql"
)

// tableEditor is the sql.TableEditor of a table: every editor the engine
// asks for (inserter, updater, deleter, replacer, foreign-key editor) is
// one, working through the session's shared tableWriter of the table.
type tableEditor struct {
	t *Table
}

var (
	_ sql.TableEditor         = (*tableEditor)(nil)
	_ sql.ForeignKeyEditor    = (*tableEditor)(nil)
	_ sql.AutoIncrementSetter = (*tableEditor)(nil)
)

// Inserter implements sql.InsertableTable.
func (t *Table) Inserter(*sql.Context) sql.RowInserter { return &tableEditor{t: t.unprojected()} }

// Updater implements sql.UpdatableTable.
func (t *Table) Updater(*sql.Context) sql.RowUpdater { return &tableEditor{t: t.unprojected()} }

// Deleter implements sql.DeletableTable.
func (t *Table) Deleter(*sql.Context) sql.RowDeleter { return &tableEditor{t: t.unprojected()} }

// Replacer implements sql.ReplaceableTable.
func (t *Table) Replacer(*sql.Context) sql.RowReplacer { return &tableEditor{t: t.unprojected()} }

// GetForeignKeyEditor implements sql.ForeignKeyTable.
func (t *Table) GetForeignKeyEditor(*sql.Context) sql.ForeignKeyEditor {
	return &tableEditor{t: t.unprojected()}
}

func (t *Table) unprojected() *Table {
	nt := *t
	nt.projection, nt.projNames = nil, nil
	return &nt
}

// StatementBegin implements sql.EditOpenerCloser: the table's version now
// is what DiscardChanges returns to.
func (e *tableEditor) StatementBegin(ctx *sql.Context) {
	w, err := e.t.writer(ctx)
	if err != nil {
		return // the first edit reports it
	}
	if !w.pending() {
		// No edits of this table wait (the writer would hold them): its
		// trees are its version.
		if td, err := e.t.schemaData(ctx); err == nil {
			w.start = td
			w.reset(td)
		}
	}
}

// DiscardChanges implements sql.EditOpenerCloser: the table returns to its
// version at StatementBegin.
func (e *tableEditor) DiscardChanges(ctx *sql.Context, errorEncountered error) error {
	w, err := e.t.writer(ctx)
	if err != nil {
		return err
	}
	defer e.t.dropWriter(ctx)
	if w.stmt != nil {
		w.rollback(w.stmt)
		w.stmt = nil
		if s, err := sessionOf(ctx); err == nil && s.isDeferred(w) {
			return nil // the earlier statements' edits still wait for COMMIT
		}
	}
	if err := e.t.setData(ctx, w.start); err != nil {
		return err
	}
	w.reset(w.start)
	return nil
}

// StatementComplete implements sql.EditOpenerCloser: the statement's edits
// reach the table, or, when its COMMIT follows, are kept for it
// (deferred.go).
func (e *tableEditor) StatementComplete(ctx *sql.Context) error {
	w, err := e.t.writer(ctx)
	if err != nil {
		return err
	}
	defer e.t.dropWriter(ctx)
	w.stmt = nil
	if deferred, err := deferToCommit(ctx, w); deferred || err != nil {
		return err
	}
	return w.flush(ctx)
}

// Insert implements sql.RowInserter.
func (e *tableEditor) Insert(ctx *sql.Context, row sql.Row) error {
	w, err := e.t.writer(ctx)
	if err != nil {
		return err
	}
	return w.insert(ctx, row)
}

// Update implements sql.RowUpdater.
func (e *tableEditor) Update(ctx *sql.Context, old, new sql.Row) error {
	w, err := e.t.writer(ctx)
	if err != nil {
		return err
	}
	return w.update(ctx, old, new)
}

// Delete implements sql.RowDeleter.
func (e *tableEditor) Delete(ctx *sql.Context, row sql.Row) error {
	w, err := e.t.writer(ctx)
	if err != nil {
		return err
	}
	return w.delete(ctx, row)
}

// Close implements sql.Closer. Paths that never begin or complete a
// statement (column defaults, index builds) rely on it to apply edits.
func (e *tableEditor) Close(ctx *sql.Context) error {
	s, err := sessionOf(ctx)
	if err != nil {
		return err
	}
	w, ok := s.writers[e.t.writerKey()]
	if !ok {
		return nil
	}
	defer e.t.dropWriter(ctx)
	return w.flush(ctx)
}

// IndexedAccess implements sql.IndexAddressable for foreign-key checks,
// which must see this statement's edits: they are applied first.
func (e *tableEditor) IndexedAccess(ctx *sql.Context, lookup sql.IndexLookup) sql.IndexedTable {
	if s, err := sessionOf(ctx); err == nil {
		// Only a writer the statement opened has edits to apply; none is
		// opened here (it would outlive the statement).
		if w, ok := s.writers[e.t.writerKey()]; ok {
			if err := w.flush(ctx); err != nil {
				return nil
			}
		}
	}
	return e.t.IndexedAccess(ctx, lookup)
}

// GetIndexes implements sql.IndexAddressable.
func (e *tableEditor) GetIndexes(ctx *sql.Context) ([]sql.Index, error) {
	return e.t.GetIndexes(ctx)
}

// PreciseMatch implements sql.IndexAddressable.
func (e *tableEditor) PreciseMatch() bool { return e.t.PreciseMatch() }

// SetAutoIncrementValue implements sql.AutoIncrementSetter.
func (e *tableEditor) SetAutoIncrementValue(ctx *sql.Context, v uint64) error {
	return e.t.setAutoIncrement(ctx, v)
}

// AcquireAutoIncrementLock implements sql.AutoIncrementSetter. Counters are
// already atomic (see dbState.nextAutoIncrement).
func (e *tableEditor) AcquireAutoIncrementLock(*sql.Context) (func(), error) {
	return func() {}, nil
}
