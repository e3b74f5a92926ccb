package sqle

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/cairndb/cairn/storage/repo"
	"github.com/cairndb/cairn/storage/tree"
)

// Deferred statement edits (docs/sql.md, "Deferred edits"): a statement's
// edits would reach the table's trees once when it completes, on the
// transaction's snapshot, and again at COMMIT whenever another transaction
// committed meanwhile (the merge diffs the table against the snapshot and
// applies the difference to the new root). A statement whose edits were
// made on the table as the transaction first read it keeps them in its
// writer instead: the next statement writing the table goes on in the same
// writer, and COMMIT applies them all once, to the root it publishes on,
// checking them as the merge would.
//
// Nothing may read the table's trees meanwhile without them. Every access
// to a database in the session goes through Session.dbTx, which applies
// the deferred edits first (a range read, a scan, a trigger's second firing
// reading the table its first one wrote, DDL, version control), and so do
// savepoints. Only readers that cannot be changed by row edits use
// Session.dbView and skip that: those of schemas, writers (their own
// lookups see their pending edits), and point lookups by the whole primary
// key, which look the deferred rows up (lookupRows). Only edits made on the
// table as the transaction first read it are deferred, so that the
// transaction's own earlier writes never need merging with them.

// testHookCommit, if set, runs at the start of every COMMIT: tests commit
// other transactions there.
var testHookCommit func(*Session)

// deferredWrite is a statement's edits to one table, deferred to COMMIT.
type deferredWrite struct {
	k writerKey
	d *txDB
	w *tableWriter
}

// deferToCommit keeps w's edits for COMMIT instead of applying them now, if
// they were made on the table as the transaction first read it. It reports
// whether it did.
func deferToCommit(ctx *sql.Context, w *tableWriter) (bool, error) {
	t := w.t
	if t.temp != nil || !w.pending() {
		return false, nil
	}
	s, d, err := t.db.view(ctx)
	if err != nil || d.branch == "" {
		return false, err
	}
	if s.isDeferred(w) {
		return true, nil // still on the version they were deferred on
	}
	cur, err := t.schemaData(ctx)
	if err != nil {
		return false, err
	}
	base := w.base
	if base.hash.IsZero() || cur != base && cur.hash != base.hash {
		return false, nil
	}
	if h, ok := d.base.root.GetTable(t.name); !ok || h != base.hash {
		return false, nil
	}
	s.deferred = append(s.deferred, deferredWrite{k: t.writerKey(), d: d, w: w})
	return true, nil
}

// deferredWriter returns the writer whose edits of table k in the
// transaction's view d (a database on a branch) wait for COMMIT, or nil.
// The view, not k's database name, says which database and branch: `db`
// after a checkout of feature and `db/feature` are one.
func (s *Session) deferredWriter(k writerKey, d *txDB) *tableWriter {
	for _, dw := range s.deferred {
		if dw.d == d && dw.k.table == k.table && dw.k.temp == k.temp {
			return dw.w
		}
	}
	return nil
}

// isDeferred reports whether w's edits wait for COMMIT.
func (s *Session) isDeferred(w *tableWriter) bool {
	for _, dw := range s.deferred {
		if dw.w == w {
			return true
		}
	}
	return false
}

// deferredWriterOf returns the writer whose edits of t wait for COMMIT, or
// nil.
func deferredWriterOf(ctx *sql.Context, t *Table) *tableWriter {
	if t.temp != nil {
		return nil
	}
	if s, err := sessionOf(ctx); err != nil || len(s.deferred) == 0 {
		return nil // the common case, without looking the view up
	}
	s, d, err := t.db.view(ctx)
	if err != nil {
		return nil
	}
	return s.deferredWriter(t.writerKey(), d)
}

// undefer takes w off the deferred writers, before its edits are applied.
func (s *Session) undefer(w *tableWriter) {
	for i, dw := range s.deferred {
		if dw.w == w {
			s.deferred = append(s.deferred[:i], s.deferred[i+1:]...)
			return
		}
	}
}

// flushDeferred applies the deferred edits to the session's view now.
func (s *Session) flushDeferred(ctx *sql.Context) error {
	ds := s.deferred
	s.deferred = nil
	for i, dw := range ds {
		if err := dw.w.flushEarlier(ctx); err != nil {
			s.deferred = append(s.deferred, ds[i:]...) // still pending
			return err
		}
	}
	return nil
}

// settleDeferred prepares the deferred edits for COMMIT: those of a
// database whose working root has not moved since the transaction read it
// are applied to the transaction's root, the others are left to
// txDB.prepare, which applies them to the root it builds on.
func (s *Session) settleDeferred(ctx *sql.Context) error {
	ds := s.deferred
	s.deferred = nil
	for _, dw := range ds {
		head, err := dw.d.st.head(ctx, dw.d.branch)
		if err != nil {
			return err
		}
		// A statement still running on the writer (a procedure a trigger
		// calls commits in the middle of it) keeps its own edits pending;
		// the earlier ones are applied with the transaction's root.
		if dw.w.stmt != nil || head.ws.Working == dw.d.base.ws.Working {
			if err := dw.w.flushEarlier(ctx); err != nil {
				return err
			}
			continue
		}
		dw.d.deferred = append(dw.d.deferred, dw.w)
	}
	return nil
}

// applyDeferred applies the deferred edits ws to root, in which other
// transactions may have changed the tables since ws's edits were made. As
// in mergeTable, a row another transaction changed, a schema change or a
// duplicate in a unique index is a conflict.
func (st *dbState) applyDeferred(ctx *sql.Context, root *repo.RootValue, ws []*tableWriter) (*repo.RootValue, error) {
	var err error
	for _, w := range ws {
		if root, err = st.applyTable(ctx, root, w.t.name, []*tableWriter{w}); err != nil {
			return nil, err
		}
	}
	return root, nil
}

// applyTable applies the edits of ws, writers of table name that edit no
// key in common (combine.go), to root, checking each as its own
// publication must: the table still exists with the schema its edits were
// made on, no row it edits changed since it read the table, and no unique
// index entry it adds is there twice once all are applied.
func (st *dbState) applyTable(ctx *sql.Context, root *repo.RootValue, name string, ws []*tableWriter) (*repo.RootValue, error) {
	h, ok := root.GetTable(name)
	if !ok {
		return nil, errConflict(fmt.Sprintf("table %s was dropped concurrently", name))
	}
	theirs, err := st.readTable(ctx, h)
	if err != nil {
		return nil, err
	}
	for _, w := range ws {
		if !bytes.Equal(theirs.lay.schEnc, w.base.lay.schEnc) {
			return nil, errConflict(fmt.Sprintf("table %s: its schema changed while another transaction wrote it", name))
		}
		if h != w.base.hash {
			if err := w.checkRowsUnchanged(ctx, theirs); err != nil {
				return nil, err
			}
		}
	}
	out, err := applyWriters(ctx, theirs, ws)
	if err != nil {
		return nil, err
	}
	for _, w := range ws {
		// A writer alone on the table it read adds what that table
		// allowed; with others, their additions are new to it.
		if h != w.base.hash || len(ws) > 1 {
			if err := w.checkUnique(ctx, out); err != nil {
				return nil, err
			}
		}
	}
	td, err := st.writeTable(ctx, out)
	if err != nil {
		return nil, err
	}
	return root.PutTable(name, td.hash)
}

// checkRowsUnchanged fails with a conflict if theirs holds any row w edits
// other than as w's base did: another transaction changed it.
func (w *tableWriter) checkRowsUnchanged(ctx context.Context, theirs *tableData) error {
	for k := range w.rows {
		key := []byte(k)
		bv, bok, err := w.base.rows.Get(ctx, key)
		if err != nil {
			return err
		}
		tv, tok, err := theirs.rows.Get(ctx, key)
		if err != nil {
			return err
		}
		if bok != tok || bok && !bytes.Equal(bv, tv) {
			return errConflict(fmt.Sprintf("table %s: a row was changed by another transaction", w.t.name))
		}
	}
	return nil
}

// checkUnique fails with a conflict if a unique index of out holds two rows
// with the (non-NULL) values of an entry w added: another transaction added
// the same values.
func (w *tableWriter) checkUnique(ctx context.Context, out *tableData) error {
	for i := range out.lay.indexes {
		il := &out.lay.indexes[i]
		if !il.def.Unique {
			continue
		}
		for k, added := range w.idx[i] {
			if !added {
				continue
			}
			if err := uniqueOnce(ctx, il, out.indexes[i], []byte(k)); err != nil {
				return err
			}
		}
	}
	return nil
}

// uniqueOnce fails with a conflict if unique index m (laid out as il) holds
// more than one entry with the indexed values of key, unless one of them is
// NULL.
func uniqueOnce(ctx context.Context, il *indexLayout, m tree.Map, key []byte) error {
	segs, err := il.enc.Split(key, len(il.cols))
	if err != nil {
		return err
	}
	n := 0
	for _, s := range segs {
		if isNullSegment(s) {
			return nil
		}
		n += len(s)
	}
	it, err := m.Iter(ctx, tree.Range{Prefix: key[:n]})
	if err != nil {
		return err
	}
	for count := 0; ; {
		if _, _, err := it.Next(ctx); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		if count++; count > 1 {
			return errConflict(fmt.Sprintf("unique index %s: another transaction added the same value", il.def.Name))
		}
	}
}
