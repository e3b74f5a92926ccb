package sqle

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/cairndb/cairn/storage/tree"
)

// A statement's changes to a table collect in a tableWriter shared by every
// editor of that table in the session (an INSERT … ON DUPLICATE KEY UPDATE
// uses an inserter and an updater; foreign-key checks read through another
// editor), and reach the table's tree maps in one batch when the statement
// completes. StatementBegin remembers the table's version; DiscardChanges
// returns to it, so a failing statement changes nothing.

// rowEdit is a pending change of one row-map entry: a new value, or a
// deletion.
type rowEdit struct {
	val []byte
	del bool
}

type tableWriter struct {
	t     *Table
	start *tableData // the version at statement begin
	base  *tableData // the version pending edits apply to

	rows map[string]rowEdit
	idx  []map[string]bool // per index: key → added (true) or deleted (false)
	// uniq maps, per unique index, the index-column prefix of each pending
	// addition to the primary key it belongs to.
	uniq []map[string]string
	// delta is the rows the pending edits add to the table (negative:
	// remove).
	delta int64

	undo *undoLog // while an update runs
	// stmt logs the running statement's edits while the writer also holds
	// edits of earlier statements deferred to COMMIT (deferred.go): a
	// failing statement takes back its own only.
	stmt *undoLog
}

// writerKey identifies a table in a session's writer registry.
type writerKey struct {
	db, table string
	temp      bool
}

// writer returns the session's writer for t, making one if the table has
// none open.
func (t *Table) writer(ctx *sql.Context) (*tableWriter, error) {
	s, err := sessionOf(ctx)
	if err != nil {
		return nil, err
	}
	k := t.writerKey()
	if w, ok := s.writers[k]; ok {
		return w, nil
	}
	if err := t.db.checkWritable(ctx); err != nil && t.temp == nil {
		return nil, err
	}
	if s.writers == nil {
		s.writers = map[writerKey]*tableWriter{}
	}
	if w := deferredWriterOf(ctx, t); w != nil {
		// The statement goes on from the edits earlier statements left.
		w.stmt = w.newStmtLog()
		s.writers[k] = w
		return w, nil
	}
	// No edits of this table wait: its trees are its version.
	td, err := t.schemaData(ctx)
	if err != nil {
		return nil, err
	}
	w := &tableWriter{t: t, start: td}
	w.reset(td)
	s.writers[k] = w
	return w, nil
}

func (t *Table) dropWriter(ctx *sql.Context) {
	if s, err := sessionOf(ctx); err == nil {
		delete(s.writers, t.writerKey())
	}
}

func (t *Table) writerKey() writerKey {
	return writerKey{strings.ToLower(t.db.Name()), strings.ToLower(t.name), t.temp != nil}
}

// reset drops pending edits; td becomes the base.
func (w *tableWriter) reset(td *tableData) {
	w.base = td
	w.rows = map[string]rowEdit{}
	w.delta = 0
	// A keyless table's content map takes one more slot, after the
	// indexes, so its edits are undone and flushed like theirs.
	n := len(td.lay.indexes)
	if td.lay.keyless {
		n++
	}
	w.idx = make([]map[string]bool, n)
	w.uniq = make([]map[string]string, n)
	for i := range w.idx {
		w.idx[i] = map[string]bool{}
		if i < len(td.lay.indexes) && td.lay.indexes[i].def.Unique {
			w.uniq[i] = map[string]string{}
		}
	}
}

func (w *tableWriter) pending() bool {
	if len(w.rows) > 0 {
		return true
	}
	for _, m := range w.idx {
		if len(m) > 0 {
			return true
		}
	}
	return false
}

// flush applies the pending edits to the table's maps and makes the result
// the table's version in the session. If a statement running on the writer
// went on from edits of earlier statements, the table with those alone
// stays what a failure of the statement returns to.
func (w *tableWriter) flush(ctx *sql.Context) error {
	if err := w.flushEarlier(ctx); err != nil || w.stmt == nil {
		return err // without a running statement, that was everything
	}
	w.stmt = nil
	return w.apply(ctx)
}

// flushEarlier applies the edits of earlier statements the writer holds
// (deferred.go): those of a statement running on it stay pending, as its
// reads do not see them, and the table as flushed is what a failure of the
// statement returns to.
func (w *tableWriter) flushEarlier(ctx *sql.Context) error {
	if s, err := sessionOf(ctx); err == nil {
		s.undefer(w)
	}
	if w.stmt == nil {
		return w.apply(ctx)
	}
	redo := w.stmtEdits()
	w.rollback(w.stmt)
	w.stmt = nil
	err := w.apply(ctx) // on failure nothing was applied
	if err == nil {
		w.start = w.base
	}
	w.stmt = w.newStmtLog()
	redo.replay(w)
	return err
}

// apply applies every pending edit to the table's maps and makes the result
// the table's version in the session.
func (w *tableWriter) apply(ctx *sql.Context) error {
	td := w.base
	if !w.pending() && td.autoInc == w.autoIncToStore(td) {
		return nil
	}
	// The edits are key by key, so they apply to whatever version the
	// session now has. It differs from the base only when a statement run
	// in the middle of this one (a procedure a trigger calls) committed
	// and the session's view moved on: the edits must not bring back the
	// table as it was before that.
	if cur, err := w.t.data(ctx); err != nil {
		return err
	} else if cur != td && (cur.hash != td.hash || cur.hash.IsZero()) && bytes.Equal(cur.lay.schEnc, td.lay.schEnc) {
		if !w.pending() {
			w.reset(cur)
			return nil
		}
		td = cur
	}
	out, err := w.applyTo(ctx, td)
	if err != nil {
		return err
	}
	if err := w.t.setData(ctx, out); err != nil {
		return err
	}
	nd, err := w.t.data(ctx)
	if err != nil {
		return err
	}
	w.reset(nd)
	return nil
}

// applyTo returns td with the pending edits applied, not yet written. td
// has the schema of the version the edits were made on.
func (w *tableWriter) applyTo(ctx *sql.Context, td *tableData) (*tableData, error) {
	return applyWriters(ctx, td, []*tableWriter{w})
}

// applyWriters returns td with the pending edits of every writer in ws
// applied, in one edit of each tree; no two of them may edit one key (the
// order they apply in would matter). td has the schema of the version the
// edits were made on, and ws are writers of that table.
func applyWriters(ctx *sql.Context, td *tableData, ws []*tableWriter) (*tableData, error) {
	out := *td
	out.hash = [20]byte{}
	n := 0
	for _, w := range ws {
		n += len(w.rows)
	}
	list := make([]tree.Edit, 0, n)
	for _, w := range ws {
		for k, e := range w.rows {
			list = append(list, tree.Edit{Key: []byte(k), Value: e.val, Delete: e.del})
		}
	}
	var err error
	if out.rows, err = editSorted(ctx, td.rows, list); err != nil {
		return nil, err
	}
	out.indexes = make([]tree.Map, len(td.indexes))
	for i := range ws[0].idx {
		list = list[:0]
		for _, w := range ws {
			for k, add := range w.idx[i] {
				list = append(list, tree.Edit{Key: []byte(k), Delete: !add})
			}
		}
		if i == len(td.indexes) {
			if out.content, err = editSorted(ctx, td.content, list); err != nil {
				return nil, err
			}
			continue
		}
		if out.indexes[i], err = editSorted(ctx, td.indexes[i], list); err != nil {
			return nil, err
		}
	}
	out.autoInc = ws[0].autoIncToStore(td)
	return &out, nil
}

// editSorted applies edits, sorted here by key, to m.
func editSorted(ctx *sql.Context, m tree.Map, edits []tree.Edit) (tree.Map, error) {
	if len(edits) == 0 {
		return m, nil
	}
	sort.Slice(edits, func(i, j int) bool { return bytes.Compare(edits[i].Key, edits[j].Key) < 0 })
	return m.Edit(ctx, edits)
}

// autoIncToStore is the counter to record in the table: the next value the
// global counter would give.
func (w *tableWriter) autoIncToStore(td *tableData) uint64 {
	if td.lay.autoIncCol < 0 {
		return 0
	}
	return w.t.db.st.peekAutoIncrement(w.t.name, td.autoInc)
}

// rowKey returns the row-map key of row (full schema) and its encoded
// stored columns. A keyless table's rows have no key of their own (see
// rowIDLen): key is nil.
func (w *tableWriter) rowKey(row sql.Row) (key, val []byte, err error) {
	lay := w.base.lay
	stored := make([]any, len(lay.stored))
	for i, pos := range lay.stored {
		stored[i] = row[pos]
	}
	if val, err = lay.rowEnc.Encode(nil, stored); err != nil {
		return nil, nil, err
	}
	if lay.keyless {
		return nil, val, nil
	}
	pk := make([]any, len(lay.pk))
	for i, pos := range lay.pk {
		pk[i] = row[pos]
	}
	if key, err = lay.pkEnc.Encode(nil, pk); err != nil {
		return nil, nil, err
	}
	if len(key) > tree.MaxKeySize {
		return nil, nil, sql.ErrKeyTooLong.New()
	}
	return key, val, nil
}

// indexKey returns the key of row in index i, and the length of its
// index-column prefix.
func (w *tableWriter) indexKey(i int, row sql.Row, rowKey []byte) ([]byte, int, bool, error) {
	il := &w.base.lay.indexes[i]
	vals := make([]any, len(il.cols))
	hasNull := false
	for j, pos := range il.cols {
		vals[j] = row[pos]
		hasNull = hasNull || row[pos] == nil
	}
	key, err := il.enc.Encode(nil, vals)
	if err != nil {
		return nil, 0, false, err
	}
	n := len(key)
	key = append(key, rowKey...)
	if len(key) > tree.MaxKeySize {
		return nil, 0, false, sql.ErrKeyTooLong.New()
	}
	return key, n, hasNull, nil
}

// current returns the value of row-map key k including pending edits.
func (w *tableWriter) current(ctx *sql.Context, k []byte) ([]byte, bool, error) {
	if e, ok := w.rows[string(k)]; ok {
		if e.del {
			return nil, false, nil
		}
		return e.val, true, nil
	}
	return w.base.rows.Get(ctx, k)
}

// existingRow decodes a row-map value into a full row.
func (w *tableWriter) existingRow(v []byte) (sql.Row, error) {
	row, err := w.base.decodeRow(v, nil)
	return row, err
}

func formatKey(row sql.Row, cols []int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, c := range cols {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%v", row[c])
	}
	b.WriteByte(']')
	return b.String()
}

// insert adds row, refusing duplicate keys; on error nothing changed.
func (w *tableWriter) insert(ctx *sql.Context, row sql.Row) error {
	return w.insertAt(ctx, row, nil)
}

// insertAt inserts row; a keyless table's row takes row id key if it is
// not nil (an update keeps the row's place), else a new one.
func (w *tableWriter) insertAt(ctx *sql.Context, row sql.Row, key []byte) error {
	lay := w.base.lay
	row, err := lay.refineRow(row)
	if err != nil {
		return err
	}
	k, val, err := w.rowKey(row)
	if err != nil {
		return err
	}
	if !lay.keyless {
		key = k
		if cur, ok, err := w.current(ctx, key); err != nil {
			return err
		} else if ok {
			existing, err := w.existingRow(cur)
			if err != nil {
				return err
			}
			return sql.NewUniqueKeyErr(formatKey(row, lay.pk), true, existing)
		}
	} else if key == nil {
		id, err := w.t.db.st.nextRowID(ctx, w.t.counterName(), w.base.rows)
		if err != nil {
			return err
		}
		key = binary.BigEndian.AppendUint64(nil, id)
	}
	// Unique secondary indexes.
	keys := make([][]byte, len(lay.indexes))
	prefixes := make([]struct {
		n       int
		hasNull bool
	}, len(lay.indexes))
	for i := range lay.indexes {
		if lay.indexes[i].def.Disabled {
			continue // DISABLE KEYS: not kept (keys[i] stays nil)
		}
		ik, n, hasNull, err := w.indexKey(i, row, key)
		if err != nil {
			return err
		}
		keys[i] = ik
		prefixes[i].n, prefixes[i].hasNull = n, hasNull
		if !lay.indexes[i].def.Unique || hasNull {
			continue
		}
		if other, found, err := w.uniqueHolder(ctx, i, ik[:n]); err != nil {
			return err
		} else if found {
			v, ok, err := w.current(ctx, other)
			if err != nil {
				return err
			}
			var existing sql.Row
			if ok {
				if existing, err = w.existingRow(v); err != nil {
					return err
				}
			}
			return sql.NewUniqueKeyErr(formatKey(row, lay.indexes[i].cols), false, existing)
		}
	}
	w.setRow(string(key), rowEdit{val: val})
	w.delta++
	if lay.keyless {
		w.setIdx(len(lay.indexes), string(contentKey(val, key)), true)
	}
	for i, ik := range keys {
		if ik == nil {
			continue
		}
		w.setIdx(i, string(ik), true)
		if w.uniq[i] != nil && !prefixes[i].hasNull {
			w.setUniq(i, string(ik[:prefixes[i].n]), string(key))
		}
	}
	w.noteAutoIncrement(row)
	return nil
}

// contentKey is the key of a keyless row in the table's content map.
func contentKey(val, rowID []byte) []byte {
	sum := sha256.Sum256(val)
	return append(sum[:contentHashLen:contentHashLen], rowID...)
}

// findKeyless returns the row id of a row of a keyless table whose stored
// encoding is val, counting pending edits, or nil.
func (w *tableWriter) findKeyless(ctx *sql.Context, val []byte) ([]byte, error) {
	ci := len(w.base.lay.indexes)
	prefix := contentKey(val, nil)
	it, err := w.base.content.Iter(ctx, tree.Range{Prefix: prefix})
	if err != nil {
		return nil, err
	}
	for {
		ck, _, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if added, ok := w.idx[ci][string(ck)]; ok && !added {
			continue // deleted in this statement
		}
		return append([]byte(nil), ck[contentHashLen:]...), nil
	}
	// A row this statement inserted.
	for ck, added := range w.idx[ci] {
		if added && strings.HasPrefix(ck, string(prefix)) {
			return []byte(ck[contentHashLen:]), nil
		}
	}
	return nil, nil
}

// noteAutoIncrement advances the table's counter past an inserted value.
func (w *tableWriter) noteAutoIncrement(row sql.Row) {
	ai := w.base.lay.autoIncCol
	if ai < 0 || row[ai] == nil {
		return
	}
	v, ok := toUint64(row[ai])
	if !ok || v == 0 {
		return
	}
	w.t.db.st.nextAutoIncrement(w.t.name, w.base.autoInc, v)
}

// uniqueHolder returns the primary key of the row holding index-column
// prefix p in unique index i, counting pending edits.
func (w *tableWriter) uniqueHolder(ctx *sql.Context, i int, p []byte) ([]byte, bool, error) {
	if pk, ok := w.uniq[i][string(p)]; ok {
		return []byte(pk), true, nil
	}
	it, err := w.base.indexes[i].Iter(ctx, tree.Range{Prefix: p})
	if err != nil {
		return nil, false, err
	}
	for {
		k, _, err := it.Next(ctx)
		if err == io.EOF {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		if added, ok := w.idx[i][string(k)]; ok && !added {
			continue // deleted in this statement
		}
		return append([]byte(nil), k[len(p):]...), true, nil
	}
}

// delete removes one instance of row; a missing row is an error.
func (w *tableWriter) delete(ctx *sql.Context, row sql.Row) error {
	_, err := w.deleteRow(ctx, row)
	return err
}

// deleteRow deletes one row equal to row and returns its key.
func (w *tableWriter) deleteRow(ctx *sql.Context, row sql.Row) ([]byte, error) {
	lay := w.base.lay
	key, val, err := w.rowKey(row)
	if err != nil {
		return nil, err
	}
	if lay.keyless {
		if key, err = w.findKeyless(ctx, val); err != nil {
			return nil, err
		}
		if key == nil {
			return nil, sql.ErrDeleteRowNotFound.New()
		}
		w.setIdx(len(lay.indexes), string(contentKey(val, key)), false)
	} else {
		cur, ok, err := w.current(ctx, key)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, sql.ErrDeleteRowNotFound.New()
		}
		// Index entries come from the stored row: the row given may differ
		// in columns the key does not cover (or in case, under a
		// case-insensitive key).
		stored, err := w.existingRow(cur)
		if err != nil {
			return nil, err
		}
		for i, si := range lay.storedIndex {
			if si < 0 && i < len(row) {
				stored[i] = row[i] // virtual: as the engine computed it
			}
		}
		row = stored
	}
	w.setRow(string(key), rowEdit{del: true})
	w.delta--
	for i := range lay.indexes {
		if lay.indexes[i].def.Disabled {
			continue
		}
		ik, n, hasNull, err := w.indexKey(i, row, key)
		if err != nil {
			return nil, err
		}
		w.setIdx(i, string(ik), false)
		if w.uniq[i] != nil && !hasNull {
			if pk, ok := w.uniq[i][string(ik[:n])]; ok && pk == string(key) {
				w.setUniq(i, string(ik[:n]), "")
			}
		}
	}
	return key, nil
}

// update replaces old by new; if it fails, neither changed.
func (w *tableWriter) update(ctx *sql.Context, old, new sql.Row) error {
	w.undo = &undoLog{delta: w.delta}
	defer func() { w.undo = nil }()
	key, err := w.deleteRow(ctx, old)
	if err != nil {
		w.rollback(w.undo)
		return err
	}
	if !w.base.lay.keyless {
		key = nil // the new row's own key
	}
	if err := w.insertAt(ctx, new, key); err != nil {
		w.rollback(w.undo)
		return err
	}
	w.keepUnchangedIndexEntries()
	return nil
}

// keepUnchangedIndexEntries undoes, after an update, the deletion and
// re-addition of an index entry whose key the update did not change (an
// UPDATE of columns no index holds): the entry stays as it was, and
// applying the edits does not rewrite the index's nodes for nothing. The
// logs need no entry: taking them back restores the state before the
// first change they record.
func (w *tableWriter) keepUnchangedIndexEntries() {
	// An update logs each index entry it changes at most twice, deleted
	// then added: a handful of entries, searched without a map.
	log := w.undo.idx
	for a, e := range log {
		readded := false
		for _, l := range log[a+1:] {
			readded = readded || l.i == e.i && l.key == e.key
		}
		if !readded || !w.idx[e.i][e.key] {
			continue // not deleted and added again by the update
		}
		if e.had {
			w.idx[e.i][e.key] = e.old
		} else {
			delete(w.idx[e.i], e.key)
		}
	}
}

// undoLog records the previous pending state of every entry a row
// operation or a statement changes, so the operation can be taken back.
type undoLog struct {
	rows []undoEntry[rowEdit]
	idx  []undoIdx[bool]
	uniq []undoIdx[string]
	// first indexes, in a statement's log, the first entry of each row
	// key: its state before the statement (heldRow).
	first map[string]int
	delta int64 // the writer's delta when the log began
}

func (w *tableWriter) newStmtLog() *undoLog {
	return &undoLog{first: map[string]int{}, delta: w.delta}
}

type undoEntry[T any] struct {
	key string
	old T
	had bool
}

type undoIdx[T any] struct {
	i int
	undoEntry[T]
}

// logs returns the logs an edit is recorded in: the row operation's and
// the statement's.
func (w *tableWriter) logs() [2]*undoLog { return [2]*undoLog{w.undo, w.stmt} }

func (w *tableWriter) setRow(k string, e rowEdit) {
	old, had := w.rows[k]
	for _, u := range w.logs() {
		if u == nil {
			continue
		}
		if _, seen := u.first[k]; !seen && u.first != nil {
			u.first[k] = len(u.rows)
		}
		u.rows = append(u.rows, undoEntry[rowEdit]{k, old, had})
	}
	w.rows[k] = e
}

func (w *tableWriter) setIdx(i int, k string, added bool) {
	old, had := w.idx[i][k]
	for _, u := range w.logs() {
		if u != nil {
			u.idx = append(u.idx, undoIdx[bool]{i, undoEntry[bool]{k, old, had}})
		}
	}
	w.idx[i][k] = added
}

// setUniq sets (pk != "") or deletes (pk == "") a pending unique prefix.
func (w *tableWriter) setUniq(i int, p, pk string) {
	old, had := w.uniq[i][p]
	for _, u := range w.logs() {
		if u != nil {
			u.uniq = append(u.uniq, undoIdx[string]{i, undoEntry[string]{p, old, had}})
		}
	}
	if pk == "" {
		delete(w.uniq[i], p)
	} else {
		w.uniq[i][p] = pk
	}
}

// rollback takes back the edits u recorded.
func (w *tableWriter) rollback(u *undoLog) {
	w.delta = u.delta
	for j := len(u.rows) - 1; j >= 0; j-- {
		if e := u.rows[j]; e.had {
			w.rows[e.key] = e.old
		} else {
			delete(w.rows, e.key)
		}
	}
	for j := len(u.idx) - 1; j >= 0; j-- {
		if e := u.idx[j]; e.had {
			w.idx[e.i][e.key] = e.old
		} else {
			delete(w.idx[e.i], e.key)
		}
	}
	for j := len(u.uniq) - 1; j >= 0; j-- {
		if e := u.uniq[j]; e.had {
			w.uniq[e.i][e.key] = e.old
		} else {
			delete(w.uniq[e.i], e.key)
		}
	}
}

// heldRow returns the pending edit of row key k as it was before the
// running statement (whose reads see the table as it began), or false.
func (w *tableWriter) heldRow(k string) (rowEdit, bool) {
	if w.stmt != nil {
		if j, ok := w.stmt.first[k]; ok {
			e := w.stmt.rows[j]
			return e.old, e.had
		}
	}
	e, ok := w.rows[k]
	return e, ok
}

// stmtEdits is the pending state of the entries a statement's log names.
type stmtEdits struct {
	delta int64
	rows  map[string]rowEdit
	idx   []map[string]bool
	uniq  []map[string]string
}

// stmtEdits returns the present state of every entry the running
// statement changed, for replay once the earlier edits are applied.
func (w *tableWriter) stmtEdits() stmtEdits {
	u := w.stmt
	out := stmtEdits{delta: w.delta - u.delta, rows: map[string]rowEdit{}, idx: make([]map[string]bool, len(w.idx)), uniq: make([]map[string]string, len(w.uniq))}
	for _, e := range u.rows {
		if v, ok := w.rows[e.key]; ok {
			out.rows[e.key] = v
		}
	}
	for _, e := range u.idx {
		if v, ok := w.idx[e.i][e.key]; ok {
			if out.idx[e.i] == nil {
				out.idx[e.i] = map[string]bool{}
			}
			out.idx[e.i][e.key] = v
		}
	}
	for _, e := range u.uniq {
		if v, ok := w.uniq[e.i][e.key]; ok {
			if out.uniq[e.i] == nil {
				out.uniq[e.i] = map[string]string{}
			}
			out.uniq[e.i][e.key] = v
		}
	}
	return out
}

// replay sets the entries of e on a writer without pending edits.
func (e stmtEdits) replay(w *tableWriter) {
	w.delta += e.delta
	for k, v := range e.rows {
		w.setRow(k, v)
	}
	for i, m := range e.idx {
		for k, v := range m {
			w.setIdx(i, k, v)
		}
	}
	for i, m := range e.uniq {
		for k, v := range m {
			w.setUniq(i, k, v)
		}
	}
}
