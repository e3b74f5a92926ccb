package sqle

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/cairndb/cairn/storage/sqle/schema"
	"github.com/cairndb/cairn/storage/tree"
)

// Schema changes. A change that keeps the row encoding (names, comments,
// defaults, checks, foreign keys, dropping an index) swaps the schema and
// keeps the maps (retable). A change of columns or of the primary key
// rewrites every row into a new table through the engine's rewrite path
// (ShouldRewriteTable is always true), which computes defaults and generated
// values and checks nullability.

// rewriteFlushRows bounds the rows a rewrite keeps pending in memory.
const rewriteFlushRows = 50_000

// alterSchema applies fn to a copy of the table's schema and stores the
// result with the same rows.
func (t *Table) alterSchema(ctx *sql.Context, fn func(*schema.Table) error) error {
	if err := t.db.checkWritable(ctx); err != nil && t.temp == nil {
		return err
	}
	td, err := t.data(ctx)
	if err != nil {
		return err
	}
	sch := td.lay.sch.Clone()
	if err := fn(sch); err != nil {
		return err
	}
	nt, err := t.retableChecked(ctx, td, sch)
	if err != nil {
		return err
	}
	return t.setData(ctx, nt)
}

// retableChecked is retable of td to sch, which must be valid, in a
// database that takes writes (temporary tables always do).
func (t *Table) retableChecked(ctx *sql.Context, td *tableData, sch *schema.Table) (*tableData, error) {
	if err := t.db.checkWritable(ctx); err != nil && t.temp == nil {
		return nil, err
	}
	if err := sch.Validate(); err != nil {
		return nil, err
	}
	return retable(ctx, t.db.st, td, sch)
}

// ShouldRewriteTable implements sql.RewritableTable: always.
func (t *Table) ShouldRewriteTable(*sql.Context, sql.PrimaryKeySchema, sql.PrimaryKeySchema, *sql.Column, *sql.Column) bool {
	return true
}

// RewriteInserter implements sql.RewritableTable: the engine sends every
// row, converted to newSchema, to the returned inserter, whose Close makes
// the new table current.
func (t *Table) RewriteInserter(ctx *sql.Context, oldSchema, newSchema sql.PrimaryKeySchema, oldColumn, newColumn *sql.Column, idxCols []sql.IndexColumn) (sql.RowInserter, error) {
	td, err := t.data(ctx)
	if err != nil {
		return nil, err
	}
	if err := notesFor(ctx, t.name).refusal(); err != nil {
		return nil, err
	}
	if len(oldSchema.PkOrdinals) > 0 && len(newSchema.PkOrdinals) == 0 {
		if err := sql.ValidatePrimaryKeyDrop(ctx, t, oldSchema); err != nil {
			return nil, err
		}
	}
	if err := checkPKPrefixes(newSchema.Schema, idxCols); err != nil {
		return nil, err
	}
	if err := t.db.ValidateSchema(newSchema.Schema); err != nil {
		return nil, err
	}
	sch, err := rewrittenSchema(td.lay.sch, newSchema, oldColumn, newColumn, idxCols, notesFor(ctx, t.name))
	if err != nil {
		return nil, err
	}
	return t.newRewriter(ctx, td, sch)
}

// rewrittenSchema derives the schema of a rewritten table: columns and
// primary key from newSchema; indexes, checks, foreign keys, comment and
// collation carried over, following a renamed column and dropping a
// dropped one. Declared types come from the statement's notes (nil if
// none) for the columns it defines, and are carried over for the others
// whose type stays.
func rewrittenSchema(old *schema.Table, newSchema sql.PrimaryKeySchema, oldCol, newCol *sql.Column, idxCols []sql.IndexColumn, notes *tableNotes) (*schema.Table, error) {
	sch := old.Clone()
	sch.Columns = sch.Columns[:0]
	for _, c := range newSchema.Schema {
		col, err := schema.ColumnFromSQL(c)
		if err != nil {
			return nil, err
		}
		if r, ok := notes.column(c.Name); ok && (newCol == nil || strings.EqualFold(c.Name, newCol.Name)) {
			declare(&col, r)
		} else {
			prev := c.Name
			if oldCol != nil && newCol != nil && strings.EqualFold(c.Name, newCol.Name) {
				prev = oldCol.Name
			}
			if i := old.ColumnIndex(prev); i >= 0 {
				carryDeclared(&col, &old.Columns[i])
			}
		}
		sch.Columns = append(sch.Columns, col)
	}
	pkChanged := len(newSchema.PkOrdinals) != len(old.PKOrdinals)
	for i, o := range newSchema.PkOrdinals {
		if !pkChanged && !strings.EqualFold(newSchema.Schema[o].Name, old.Columns[old.PKOrdinals[i]].Name) {
			pkChanged = true
		}
	}
	sch.PKOrdinals = append([]int(nil), newSchema.PkOrdinals...)
	for _, o := range sch.PKOrdinals {
		sch.Columns[o].Nullable = false // primary-key columns are NOT NULL
	}
	switch {
	case idxCols != nil && len(sch.PKOrdinals) > 0 && pkChanged:
		sch.PKPrefixLengths = prefixLengthsOf(idxCols)
	case len(sch.PKOrdinals) == 0:
		sch.PKPrefixLengths = nil
	}
	if pkChanged {
		sch.PKDescending = nil
		if notes != nil && len(notes.pk) == len(sch.PKOrdinals) {
			sch.PKDescending = append([]bool(nil), notes.pk...)
		}
	}
	renamed := oldCol != nil && newCol != nil && !strings.EqualFold(oldCol.Name, newCol.Name)
	dropped := oldCol != nil && newCol == nil
	indexes := sch.Indexes[:0]
	for _, idx := range sch.Indexes {
		var cols []string
		var prefixes []uint16
		var desc []bool
		for j, c := range idx.Columns {
			switch {
			case dropped && strings.EqualFold(c, oldCol.Name):
				continue
			case renamed && strings.EqualFold(c, oldCol.Name):
				c = newCol.Name
			}
			cols = append(cols, c)
			if j < len(idx.PrefixLengths) {
				prefixes = append(prefixes, idx.PrefixLengths[j])
			}
			if j < len(idx.Descending) {
				desc = append(desc, idx.Descending[j])
			}
		}
		if len(cols) == 0 {
			continue
		}
		idx.Columns = cols
		if idx.PrefixLengths != nil {
			idx.PrefixLengths = prefixes
		}
		if idx.Descending != nil {
			idx.Descending = desc
		}
		indexes = append(indexes, idx)
	}
	sch.Indexes = indexes
	if renamed {
		for i := range sch.ForeignKeys {
			for j, c := range sch.ForeignKeys[i].Columns {
				if strings.EqualFold(c, oldCol.Name) {
					sch.ForeignKeys[i].Columns[j] = newCol.Name
				}
			}
		}
	}
	if err := sch.Validate(); err != nil {
		return nil, err
	}
	return sch, nil
}

// checkPKPrefixes refuses prefix lengths on primary-key text columns, as
// go-mysql-server's engines do.
func checkPKPrefixes(sch sql.Schema, cols []sql.IndexColumn) error {
	for _, c := range cols {
		i := sch.IndexOfColName(c.Name)
		if i < 0 {
			return sql.ErrColumnNotFound.New(c.Name)
		}
		if sch[i].PrimaryKey && c.Length > 0 && types.IsText(sch[i].Type) {
			return sql.ErrUnsupportedIndexPrefix.New(sch[i].Name)
		}
	}
	return nil
}

// rewriter fills a new version of a table, then makes it current on Close.
type rewriter struct {
	t         *Table
	orig      *tableData
	w         *tableWriter
	n         int
	discarded bool
}

var _ sql.RowInserter = (*rewriter)(nil)

func (t *Table) newRewriter(ctx *sql.Context, orig *tableData, sch *schema.Table) (*rewriter, error) {
	empty, err := t.db.st.newTableData(ctx, sch)
	if err != nil {
		return nil, err
	}
	empty.autoInc = orig.autoInc
	if empty.lay.autoIncCol < 0 {
		empty.autoInc = 0
	}
	nt := t.unprojected()
	w := &tableWriter{t: nt, start: empty}
	w.reset(empty)
	return &rewriter{t: nt, orig: orig, w: w}, nil
}

func (r *rewriter) StatementBegin(*sql.Context) {}

func (r *rewriter) DiscardChanges(ctx *sql.Context, _ error) error {
	r.discarded = true
	return r.t.setData(ctx, r.orig)
}

func (r *rewriter) StatementComplete(*sql.Context) error { return nil }

func (r *rewriter) Insert(ctx *sql.Context, row sql.Row) error {
	if err := r.w.insert(ctx, row); err != nil {
		return err
	}
	if r.n++; r.n%rewriteFlushRows == 0 {
		return r.w.flush(ctx)
	}
	return nil
}

func (r *rewriter) Close(ctx *sql.Context) error {
	if r.discarded {
		return nil
	}
	if !r.w.pending() {
		// An empty table still gets the new schema.
		return r.t.setData(ctx, r.w.base)
	}
	return r.w.flush(ctx)
}

// rebuild rewrites the table into schema sch, converting each row with
// conv (for the direct AlterableTable methods, which the engine calls when
// it does not rewrite itself).
func (t *Table) rebuild(ctx *sql.Context, sch *schema.Table, conv func(sql.Row) (sql.Row, error)) error {
	if err := t.db.checkWritable(ctx); err != nil && t.temp == nil {
		return err
	}
	td, err := t.data(ctx)
	if err != nil {
		return err
	}
	if err := sch.Validate(); err != nil {
		return err
	}
	r, err := t.newRewriter(ctx, td, sch)
	if err != nil {
		return err
	}
	it, err := td.rows.Iter(ctx, tree.Range{})
	if err != nil {
		return err
	}
	for {
		_, v, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err == nil {
			var row, nr sql.Row
			if row, err = td.decodeRow(v, nil); err == nil {
				if nr, err = conv(row); err == nil {
					err = r.Insert(ctx, nr)
				}
			}
		}
		if err != nil {
			_ = r.DiscardChanges(ctx, err)
			return err
		}
	}
	return r.Close(ctx)
}

// columnPosition returns where a column goes among n columns, of which
// indexOf finds one by name: at order, else at current (or the end if
// current is -1).
func columnPosition(n int, indexOf func(string) int, order *sql.ColumnOrder, current int) int {
	switch {
	case order == nil:
		if current >= 0 {
			return current
		}
		return n
	case order.First:
		return 0
	default:
		i := indexOf(order.AfterColumn)
		if i < 0 {
			return n
		}
		return i + 1
	}
}

// AddColumn implements sql.AlterableTable: the column is added with NULL
// values (the engine then fills in defaults).
func (t *Table) AddColumn(ctx *sql.Context, column *sql.Column, order *sql.ColumnOrder) error {
	td, err := t.data(ctx)
	if err != nil {
		return err
	}
	if err := notesFor(ctx, t.name).refusal(); err != nil {
		return err
	}
	col, err := schema.ColumnFromSQL(column)
	if err != nil {
		return err
	}
	if r, ok := notesFor(ctx, t.name).column(col.Name); ok {
		declare(&col, r)
	}
	sch := td.lay.sch.Clone()
	if sch.ColumnIndex(col.Name) >= 0 {
		return sql.ErrColumnExists.New(col.Name)
	}
	pos := columnPosition(len(sch.Columns), sch.ColumnIndex, order, -1)
	insertColumn(sch, pos, col, column.PrimaryKey)
	return t.rebuild(ctx, sch, func(r sql.Row) (sql.Row, error) {
		out := make(sql.Row, 0, len(r)+1)
		out = append(out, r[:pos]...)
		out = append(out, nil)
		return append(out, r[pos:]...), nil
	})
}

// insertColumn puts col at pos, shifting primary-key ordinals.
func insertColumn(sch *schema.Table, pos int, col schema.Column, pk bool) {
	sch.Columns = append(sch.Columns, schema.Column{})
	copy(sch.Columns[pos+1:], sch.Columns[pos:])
	sch.Columns[pos] = col
	for i, o := range sch.PKOrdinals {
		if o >= pos {
			sch.PKOrdinals[i] = o + 1
		}
	}
	if pk {
		sch.PKOrdinals = append(sch.PKOrdinals, pos)
	}
}

// DropColumn implements sql.AlterableTable.
func (t *Table) DropColumn(ctx *sql.Context, name string) error {
	td, err := t.data(ctx)
	if err != nil {
		return err
	}
	pos := td.lay.sch.ColumnIndex(name)
	if pos < 0 {
		return sql.ErrTableColumnNotFound.New(t.name, name)
	}
	dropped := td.lay.sch.SQLSchema(t.db.Name())[pos]
	pks := sql.PrimaryKeySchema{Schema: append(td.lay.sqlSchema(t.db.Name())[:pos:pos], td.lay.sqlSchema(t.db.Name())[pos+1:]...)}
	for _, o := range td.lay.sch.PKOrdinals {
		switch {
		case o < pos:
			pks.PkOrdinals = append(pks.PkOrdinals, o)
		case o > pos:
			pks.PkOrdinals = append(pks.PkOrdinals, o-1)
		}
	}
	sch, err := rewrittenSchema(td.lay.sch, pks, dropped, nil, nil, notesFor(ctx, t.name))
	if err != nil {
		return err
	}
	return t.rebuild(ctx, sch, func(r sql.Row) (sql.Row, error) {
		out := make(sql.Row, 0, len(r)-1)
		out = append(out, r[:pos]...)
		return append(out, r[pos+1:]...), nil
	})
}

// ModifyColumn implements sql.AlterableTable: rename, retype, move, or
// change the default or comment of a column.
func (t *Table) ModifyColumn(ctx *sql.Context, name string, column *sql.Column, order *sql.ColumnOrder) error {
	td, err := t.data(ctx)
	if err != nil {
		return err
	}
	if err := notesFor(ctx, t.name).refusal(); err != nil {
		return err
	}
	old := td.lay.sch
	pos := old.ColumnIndex(name)
	if pos < 0 {
		return sql.ErrTableColumnNotFound.New(t.name, name)
	}
	col, err := schema.ColumnFromSQL(column)
	if err != nil {
		return err
	}
	if other := old.ColumnIndex(col.Name); other >= 0 && other != pos {
		return sql.ErrColumnExists.New(col.Name)
	}
	oldSQL := old.SQLSchema(t.db.Name())
	newSQL := oldSQL.Copy()
	nc := column.Copy()
	nc.PrimaryKey = oldSQL[pos].PrimaryKey
	newSQL[pos] = nc
	newPos := pos
	if order != nil {
		without := append(newSQL[:pos:pos], newSQL[pos+1:]...)
		newPos = columnPosition(len(without), without.IndexOfColName, order, pos)
		newSQL = append(without[:newPos:newPos], append(sql.Schema{nc}, without[newPos:]...)...)
	}
	perm := make([]int, len(newSQL)) // new position → old position
	for i, c := range newSQL {
		if c == nc {
			perm[i] = pos
		} else {
			perm[i] = oldSQL.IndexOfColName(c.Name)
		}
	}
	pks := sql.PrimaryKeySchema{Schema: newSQL}
	for _, o := range old.PKOrdinals {
		for i, p := range perm {
			if p == o {
				pks.PkOrdinals = append(pks.PkOrdinals, i)
			}
		}
	}
	sch, err := rewrittenSchema(old, pks, oldSQL[pos], nc, nil, notesFor(ctx, t.name))
	if err != nil {
		return err
	}
	sameStorage := newPos == pos && old.Columns[pos].Type.Equals(col.Type) &&
		old.Columns[pos].Virtual == col.Virtual && old.Columns[pos].Nullable == col.Nullable &&
		old.Columns[pos].Declared == sch.Columns[newPos].Declared
	if sameStorage {
		nt, err := retable(ctx, t.db.st, td, sch)
		if err != nil {
			return err
		}
		return t.setData(ctx, nt)
	}
	return t.rebuild(ctx, sch, func(r sql.Row) (sql.Row, error) {
		out := make(sql.Row, len(perm))
		for i, p := range perm {
			out[i] = r[p]
		}
		if v := out[newPos]; v != nil {
			cv, _, err := column.Type.Convert(ctx, v)
			if err != nil {
				return nil, err
			}
			out[newPos] = cv
		} else if !column.Nullable {
			return nil, sql.ErrInsertIntoNonNullableProvidedNull.New(column.Name)
		}
		return out, nil
	})
}

// CreatePrimaryKey implements sql.PrimaryKeyAlterableTable.
func (t *Table) CreatePrimaryKey(ctx *sql.Context, columns []sql.IndexColumn) error {
	td, err := t.data(ctx)
	if err != nil {
		return err
	}
	if !td.lay.keyless {
		return sql.ErrMultiplePrimaryKeysDefined.New()
	}
	sch := td.lay.sch.Clone()
	for _, c := range columns {
		i := sch.ColumnIndex(c.Name)
		if i < 0 {
			return sql.ErrKeyColumnDoesNotExist.New(c.Name)
		}
		sch.PKOrdinals = append(sch.PKOrdinals, i)
		sch.Columns[i].Nullable = false
	}
	sch.PKPrefixLengths = prefixLengthsOf(columns)
	if tn := notesFor(ctx, t.name); tn != nil && len(tn.pk) == len(sch.PKOrdinals) {
		sch.PKDescending = append([]bool(nil), tn.pk...)
	}
	return t.rebuild(ctx, sch, func(r sql.Row) (sql.Row, error) {
		for _, o := range sch.PKOrdinals {
			if r[o] == nil {
				return nil, sql.ErrInsertIntoNonNullableProvidedNull.New(sch.Columns[o].Name)
			}
		}
		return r, nil
	})
}

// DropPrimaryKey implements sql.PrimaryKeyAlterableTable.
func (t *Table) DropPrimaryKey(ctx *sql.Context) error {
	td, err := t.data(ctx)
	if err != nil {
		return err
	}
	if td.lay.keyless {
		return sql.ErrCantDropFieldOrKey.New("PRIMARY")
	}
	if err := sql.ValidatePrimaryKeyDrop(ctx, t, t.PrimaryKeySchema()); err != nil {
		return err
	}
	sch := td.lay.sch.Clone()
	sch.PKOrdinals, sch.PKPrefixLengths, sch.PKDescending = nil, nil, nil
	return t.rebuild(ctx, sch, func(r sql.Row) (sql.Row, error) { return r, nil })
}

// Index changes.

// CreateIndex implements sql.IndexAlterableTable. The index is filled from
// the stored rows (an index over a virtual column is filled by BuildIndex,
// which the engine calls with the computed values).
func (t *Table) CreateIndex(ctx *sql.Context, def sql.IndexDef) error {
	if def.Constraint == sql.IndexConstraint_Fulltext || def.Constraint == sql.IndexConstraint_Spatial || def.Constraint == sql.IndexConstraint_Vector {
		return sql.ErrUnsupportedFeature.New("FULLTEXT, SPATIAL and VECTOR indexes")
	}
	if err := notesFor(ctx, t.name).refusal(); err != nil {
		return err
	}
	if def.Constraint == sql.IndexConstraint_Primary {
		return t.CreatePrimaryKey(ctx, def.Columns)
	}
	td, err := t.data(ctx)
	if err != nil {
		return err
	}
	if def.Name == "" {
		def.Name = generatedIndexName(td.lay.sch, def.Columns)
	}
	if _, ok := td.lay.sch.IndexByName(def.Name); ok || strings.EqualFold(def.Name, primaryIndexName) {
		return sql.ErrDuplicateKey.New(def.Name)
	}
	idx := schema.Index{Name: def.Name, Unique: def.Constraint == sql.IndexConstraint_Unique, Comment: def.Comment}
	for _, c := range def.Columns {
		if td.lay.sch.ColumnIndex(c.Name) < 0 {
			return sql.ErrKeyColumnDoesNotExist.New(c.Name)
		}
		idx.Columns = append(idx.Columns, c.Name)
	}
	idx.PrefixLengths = prefixLengthsOf(def.Columns)
	idx.Descending = t.indexOrder(ctx, def.Name, idx.Columns)
	sch := td.lay.sch.Clone()
	sch.Indexes = append(sch.Indexes, idx)
	sort.Slice(sch.Indexes, func(i, j int) bool { return sch.Indexes[i].Name < sch.Indexes[j].Name })
	if err := sch.Validate(); err != nil {
		return err
	}
	nt, err := retable(ctx, t.db.st, td, sch)
	if err != nil {
		return err
	}
	if !indexOnVirtual(sch, idx) {
		if nt, err = fillIndex(ctx, t.db.st, nt, def.Name, nil); err != nil {
			return err
		}
	}
	return t.setData(ctx, nt)
}

func indexOnVirtual(sch *schema.Table, idx schema.Index) bool {
	for _, c := range idx.Columns {
		if i := sch.ColumnIndex(c); i >= 0 && sch.Columns[i].Virtual {
			return true
		}
	}
	return false
}

// generatedIndexName names an unnamed index after its first column, as
// MySQL does (c, c_2, c_3, …).
func generatedIndexName(sch *schema.Table, cols []sql.IndexColumn) string {
	base := "index"
	if len(cols) > 0 {
		base = cols[0].Name
	}
	name := base
	for n := 2; ; n++ {
		if _, ok := sch.IndexByName(name); !ok && !strings.EqualFold(name, primaryIndexName) {
			return name
		}
		name = fmt.Sprintf("%s_%d", base, n)
	}
}

// fillIndex builds index name of td from rows (from the stored rows when
// rows is nil), refusing duplicates in a unique index. It holds every key
// in memory at once, not the rows.
func fillIndex(ctx context.Context, st *dbState, td *tableData, name string, rows [][]any) (*tableData, error) {
	_, il, ok := td.indexMap(name)
	if !ok {
		return nil, sql.ErrIndexNotFound.New(name)
	}
	w := &tableWriter{base: td}
	pos := indexPosition(td, name)
	type entry struct {
		key     []byte
		n       int // the index columns' part of key; the row key follows
		hasNull bool
		ord     int // the row's place in the scan
	}
	var entries []entry
	// The stored rows give their keys; rows from the engine (BuildIndex)
	// come in the order of a full scan, so the i-th is the i-th row key.
	it, err := td.rows.Iter(ctx, tree.Range{})
	if err != nil {
		return nil, err
	}
	for i := 0; ; i++ {
		k, v, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		var row sql.Row
		if rows != nil {
			if i >= len(rows) {
				return nil, fmt.Errorf("cairn: index build got %d rows for a table of more", len(rows))
			}
			row = rows[i]
		} else if row, err = td.decodeRow(v, nil); err != nil {
			return nil, err
		}
		ik, n, hasNull, err := w.indexKey(pos, row, k)
		if err != nil {
			return nil, err
		}
		entries = append(entries, entry{ik, n, hasNull, i})
	}
	sort.Slice(entries, func(i, j int) bool { return bytes.Compare(entries[i].key, entries[j].key) < 0 })
	b := tree.NewBuilder(st.ns)
	for i, e := range entries {
		if il.def.Unique && i > 0 && !e.hasNull {
			if prev := entries[i-1]; !prev.hasNull && bytes.Equal(prev.key[:prev.n], e.key[:e.n]) {
				return nil, duplicateInIndex(ctx, td, il, rows, prev.key[prev.n:], prev.ord, e.key[e.n:], e.ord)
			}
		}
		if err := b.Add(ctx, e.key, nil); err != nil {
			return nil, err
		}
	}
	m, err := b.Finish(ctx)
	if err != nil {
		return nil, err
	}
	out := *td
	out.hash = [20]byte{}
	out.indexes = append([]tree.Map(nil), td.indexes...)
	out.indexes[pos] = m
	return &out, nil
}

// duplicateInIndex is the error for two rows (by row key and place in the
// scan) that a unique index would hold under one key.
func duplicateInIndex(ctx context.Context, td *tableData, il *indexLayout, rows [][]any, key1 []byte, ord1 int, key2 []byte, ord2 int) error {
	get := func(key []byte, ord int) (sql.Row, error) {
		if rows != nil {
			return rows[ord], nil
		}
		v, ok, err := td.rows.Get(ctx, key)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("cairn: index build: row %x vanished", key)
		}
		return td.decodeRow(v, nil)
	}
	first, err := get(key1, ord1)
	if err != nil {
		return err
	}
	second, err := get(key2, ord2)
	if err != nil {
		return err
	}
	return sql.NewUniqueKeyErr(formatKey(second, il.cols), false, first)
}

func indexPosition(td *tableData, name string) int {
	for i := range td.lay.indexes {
		if strings.EqualFold(td.lay.indexes[i].def.Name, name) {
			return i
		}
	}
	return -1
}

// ShouldBuildIndex implements sql.IndexBuildingTable: only indexes over
// virtual columns need the engine's rows (CreateIndex fills the others).
func (t *Table) ShouldBuildIndex(ctx *sql.Context, def sql.IndexDef) (bool, error) {
	td, err := t.data(ctx)
	if err != nil {
		return false, err
	}
	i, ok := td.lay.sch.IndexByName(def.Name)
	if !ok {
		return false, nil
	}
	return indexOnVirtual(td.lay.sch, td.lay.sch.Indexes[i]), nil
}

// BuildIndex implements sql.IndexBuildingTable: the returned inserter
// receives every row (virtual columns computed) and, on Close, replaces the
// index with one built from them.
func (t *Table) BuildIndex(ctx *sql.Context, def sql.IndexDef) (sql.RowInserter, error) {
	return &indexBuilder{t: t.unprojected(), name: def.Name}, nil
}

type indexBuilder struct {
	t    *Table
	name string
	rows [][]any
}

func (b *indexBuilder) StatementBegin(*sql.Context)              {}
func (b *indexBuilder) DiscardChanges(*sql.Context, error) error { b.rows = nil; return nil }
func (b *indexBuilder) StatementComplete(*sql.Context) error     { return nil }
func (b *indexBuilder) Insert(_ *sql.Context, row sql.Row) error {
	b.rows = append(b.rows, row.Copy())
	return nil
}
func (b *indexBuilder) Close(ctx *sql.Context) error {
	if b.rows == nil {
		b.rows = [][]any{}
	}
	td, err := b.t.data(ctx)
	if err != nil {
		return err
	}
	nt, err := fillIndex(ctx, b.t.db.st, td, b.name, b.rows)
	if err != nil {
		return err
	}
	return b.t.setData(ctx, nt)
}

// DropIndex implements sql.IndexAlterableTable.
func (t *Table) DropIndex(ctx *sql.Context, name string) error {
	if strings.EqualFold(name, primaryIndexName) {
		return t.DropPrimaryKey(ctx)
	}
	return t.alterSchema(ctx, func(sch *schema.Table) error {
		i, ok := sch.IndexByName(name)
		if !ok {
			return sql.ErrCantDropFieldOrKey.New(name)
		}
		sch.Indexes = append(sch.Indexes[:i], sch.Indexes[i+1:]...)
		return nil
	})
}

// RenameIndex implements sql.IndexAlterableTable.
func (t *Table) RenameIndex(ctx *sql.Context, from, to string) error {
	td, err := t.data(ctx)
	if err != nil {
		return err
	}
	i, ok := td.lay.sch.IndexByName(from)
	if !ok {
		return sql.ErrIndexNotFound.New(from)
	}
	if _, dup := td.lay.sch.IndexByName(to); dup && !strings.EqualFold(from, to) {
		return sql.ErrDuplicateKey.New(to)
	}
	m, _, _ := td.indexMap(from)
	sch := td.lay.sch.Clone()
	sch.Indexes[i].Name = to
	sort.Slice(sch.Indexes, func(a, b int) bool { return sch.Indexes[a].Name < sch.Indexes[b].Name })
	nt, err := retable(ctx, t.db.st, td, sch)
	if err != nil {
		return err
	}
	nt.indexes[indexPosition(nt, to)] = m
	return t.setData(ctx, nt)
}

// Checks.

// GetChecks implements sql.CheckTable.
func (t *Table) GetChecks(ctx *sql.Context) ([]sql.CheckDefinition, error) {
	td, err := t.schemaData(ctx)
	if err != nil {
		return nil, err
	}
	return append([]sql.CheckDefinition(nil), td.lay.sch.Checks...), nil
}

// CreateCheck implements sql.CheckAlterableTable.
func (t *Table) CreateCheck(ctx *sql.Context, check *sql.CheckDefinition) error {
	return t.alterSchema(ctx, func(sch *schema.Table) error {
		c := *check
		if c.Name == "" {
			c.Name = generatedCheckName(sch)
		}
		for _, o := range sch.Checks {
			if strings.EqualFold(o.Name, c.Name) {
				return sql.ErrForeignKeyDuplicateName.New(c.Name)
			}
		}
		sch.Checks = append(sch.Checks, c)
		return nil
	})
}

// generatedCheckName names an unnamed check TABLE_chk_N, as MySQL does.
func generatedCheckName(sch *schema.Table) string {
	for n := 1; ; n++ {
		name := fmt.Sprintf("%s_chk_%d", sch.Name, n)
		taken := false
		for _, c := range sch.Checks {
			taken = taken || strings.EqualFold(c.Name, name)
		}
		if !taken {
			return name
		}
	}
}

// DropCheck implements sql.CheckAlterableTable.
func (t *Table) DropCheck(ctx *sql.Context, name string) error {
	return t.alterSchema(ctx, func(sch *schema.Table) error {
		for i, c := range sch.Checks {
			if strings.EqualFold(c.Name, name) {
				sch.Checks = append(sch.Checks[:i], sch.Checks[i+1:]...)
				return nil
			}
		}
		return sql.ErrUnknownConstraint.New(name)
	})
}

// Comments and collations.

// ModifyDefaultCollation implements sql.CollationAlterableTable: only the
// default for new columns changes.
func (t *Table) ModifyDefaultCollation(ctx *sql.Context, collation sql.CollationID) error {
	return t.alterSchema(ctx, func(sch *schema.Table) error {
		sch.Collation = collation
		return nil
	})
}

// ModifyStoredCollation implements sql.CollationAlterableTable (CONVERT TO
// CHARACTER SET): every string column takes the collation, and keys are
// rebuilt under it.
func (t *Table) ModifyStoredCollation(ctx *sql.Context, collation sql.CollationID) error {
	td, err := t.data(ctx)
	if err != nil {
		return err
	}
	sch := td.lay.sch.Clone()
	sch.Collation = collation
	var changed []int
	for i, c := range sch.Columns {
		if tc, ok := c.Type.(sql.TypeWithCollation); ok && types.IsText(c.Type) {
			nt, err := tc.WithNewCollation(collation)
			if err != nil {
				return err
			}
			sch.Columns[i].Type = nt
			changed = append(changed, i)
		}
	}
	return t.rebuild(ctx, sch, func(r sql.Row) (sql.Row, error) {
		for _, i := range changed {
			if r[i] == nil {
				continue
			}
			v, _, err := sch.Columns[i].Type.Convert(ctx, r[i])
			if err != nil {
				return nil, err
			}
			r[i] = v
		}
		return r, nil
	})
}
