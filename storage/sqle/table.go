package sqle

import (
	"strings"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/cairndb/cairn/storage/sqle/codec"
	"github.com/cairndb/cairn/storage/tree"
)

// Table is a handle on a table of the session's view of a database. Like
// Database it holds no data: every call reads the table's current version
// in the calling session's transaction, so a handle obtained before a DDL
// statement sees the new schema after it (the engine relies on that).
type Table struct {
	db   *Database
	name string     // the stored name
	temp *tempTable // non-nil for a temporary table

	// projection, if not nil, is the schema positions of the columns rows
	// carry, in order (sql.ProjectedTable).
	projection []int
	projNames  []string

	// cur is the version of the table this handle last saw.
	cur *tableData
	// schema is the engine's schema of schemaOf, built once.
	schema   sql.Schema
	schemaOf *tableData
}

var (
	_ sql.Table                    = (*Table)(nil)
	_ sql.Databaseable             = (*Table)(nil)
	_ sql.CommentedTable           = (*Table)(nil)
	_ sql.ProjectedTable           = (*Table)(nil)
	_ sql.PrimaryKeyTable          = (*Table)(nil)
	_ sql.TemporaryTable           = (*Table)(nil)
	_ sql.StatisticsTable          = (*Table)(nil)
	_ sql.IndexAddressableTable    = (*Table)(nil)
	_ sql.InsertableTable          = (*Table)(nil)
	_ sql.UpdatableTable           = (*Table)(nil)
	_ sql.DeletableTable           = (*Table)(nil)
	_ sql.ReplaceableTable         = (*Table)(nil)
	_ sql.TruncateableTable        = (*Table)(nil)
	_ sql.AutoIncrementTable       = (*Table)(nil)
	_ sql.ForeignKeyTable          = (*Table)(nil)
	_ sql.CheckAlterableTable      = (*Table)(nil)
	_ sql.IndexAlterableTable      = (*Table)(nil)
	_ sql.IndexBuildingTable       = (*Table)(nil)
	_ sql.AlterableTable           = (*Table)(nil)
	_ sql.RewritableTable          = (*Table)(nil)
	_ sql.PrimaryKeyAlterableTable = (*Table)(nil)
	_ sql.CollationAlterableTable  = (*Table)(nil)
)

func newTable(db *Database, name string, temp *tempTable, td *tableData) *Table {
	return &Table{db: db, name: name, temp: temp, cur: td}
}

// data returns the table's current version in the session's view.
func (t *Table) data(ctx *sql.Context) (*tableData, error) {
	return t.version(ctx, t.db.tableData)
}

// schemaData is data without applying the session's deferred edits: for
// the table's schema, or for a reader that looks them up itself.
func (t *Table) schemaData(ctx *sql.Context) (*tableData, error) {
	return t.version(ctx, t.db.schemaData)
}

func (t *Table) version(ctx *sql.Context, get func(*sql.Context, string) (*tableData, bool, error)) (*tableData, error) {
	if t.temp != nil {
		return t.temp.td, nil
	}
	td, ok, err := get(ctx, t.name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, sql.ErrTableNotFound.New(t.name)
	}
	t.cur = td
	return td, nil
}

// setData makes td the table's current version in the session's view.
func (t *Table) setData(ctx *sql.Context, td *tableData) error {
	if t.temp != nil {
		if s, err := sessionOf(ctx); err == nil {
			s.noteTempWrite(t.temp)
		}
		t.temp.td = td
		return nil
	}
	td, err := t.db.putTableData(ctx, t.name, td)
	if err == nil {
		t.cur = td
	}
	return err
}

// Name implements sql.Table.
func (t *Table) Name() string { return t.name }

// String implements sql.Table.
func (t *Table) String() string { return t.name }

// Database implements sql.Databaseable.
func (t *Table) Database() string { return t.db.Name() }

// Schema implements sql.Table: the current schema, projected if the table
// is. It never fails; a table dropped meanwhile has an empty schema.
func (t *Table) Schema() sql.Schema {
	sch := t.fullSchema()
	if t.projection == nil || sch == nil {
		return sch
	}
	out := make(sql.Schema, 0, len(t.projection))
	for _, i := range t.projection {
		if i < len(sch) {
			out = append(out, sch[i])
		}
	}
	return out
}

// fullSchema is the schema without projection. It needs a context but
// sql.Table.Schema has none; the handle keeps the last version it saw.
func (t *Table) fullSchema() sql.Schema {
	td := t.lastSeen()
	if td == nil {
		return nil
	}
	// Schema is asked for many times per query: build it once per version
	// of the table this handle sees. Like the memory engine, repeated calls
	// return the same columns.
	if t.schemaOf != td {
		t.schema, t.schemaOf = td.lay.sqlSchema(t.db.Name()), td
	}
	return t.schema
}

// Collation implements sql.Table.
func (t *Table) Collation() sql.CollationID {
	if td := t.lastSeen(); td != nil {
		return td.lay.sch.Collation
	}
	return sql.Collation_Default
}

// Comment implements sql.CommentedTable.
func (t *Table) Comment() string {
	if td := t.lastSeen(); td != nil {
		return td.lay.sch.Comment
	}
	return ""
}

// IsTemporary implements sql.TemporaryTable.
func (t *Table) IsTemporary() bool { return t.temp != nil }

// PrimaryKeySchema implements sql.PrimaryKeyTable.
func (t *Table) PrimaryKeySchema() sql.PrimaryKeySchema {
	td := t.lastSeen()
	if td == nil {
		return sql.PrimaryKeySchema{}
	}
	return sql.NewPrimaryKeySchema(t.fullSchema(), td.lay.pk...)
}

// WithProjections implements sql.ProjectedTable.
func (t *Table) WithProjections(colNames []string) sql.Table {
	sch := t.fullSchema()
	nt := *t
	// go-mysql-server v0.20.0 evaluates the generated-column expressions
	// of a table with virtual columns against its full schema even when it
	// has pruned the table's columns (its memory engine fails the same
	// way), so such tables are never projected.
	if colNames == nil || hasVirtual(sch) {
		nt.projection, nt.projNames = nil, nil
		return &nt
	}
	nt.projection = make([]int, 0, len(colNames))
	nt.projNames = colNames
	for _, n := range colNames {
		for i, c := range sch {
			if strings.EqualFold(c.Name, n) {
				nt.projection = append(nt.projection, i)
				break
			}
		}
	}
	return &nt
}

func hasVirtual(sch sql.Schema) bool {
	for _, c := range sch {
		if c.Virtual {
			return true
		}
	}
	return false
}

// Projections implements sql.ProjectedTable.
func (t *Table) Projections() []string { return t.projNames }

// DataLength implements sql.StatisticsTable: an estimate of the bytes the
// rows take (without edits waiting for COMMIT).
func (t *Table) DataLength(ctx *sql.Context) (uint64, error) {
	td, err := t.schemaData(ctx)
	if err != nil {
		return 0, err
	}
	var perRow uint64
	for _, c := range td.lay.sch.Columns {
		perRow += uint64(estimateColumnBytes(c.Type))
	}
	return perRow * td.rows.Count(), nil
}

func estimateColumnBytes(typ sql.Type) int {
	if st, ok := typ.(sql.StringType); ok {
		n := st.MaxByteLength()
		if n > 256 {
			n = 256
		}
		return int(n)
	}
	return 8
}

// RowCount implements sql.StatisticsTable: exact for tables with a primary
// key.
func (t *Table) RowCount(ctx *sql.Context) (uint64, bool, error) {
	// The rows of the table's trees and of its edits waiting for COMMIT
	// (the analyzer asks at every statement: applying them here would
	// apply them at every statement).
	td, err := t.schemaData(ctx)
	if err != nil {
		return 0, false, err
	}
	n := int64(td.rows.Count())
	if w := deferredWriterOf(ctx, t); w != nil {
		if w.stmt != nil {
			n += w.stmt.delta // not the running statement's own rows
		} else {
			n += w.delta
		}
	}
	return uint64(n), true, nil
}

// Partitions implements sql.Table: a table is one partition, which holds
// the table's version now (a cursor OPENed now reads it, whatever is
// written before its first FETCH).
func (t *Table) Partitions(ctx *sql.Context) (sql.PartitionIter, error) {
	td, err := t.data(ctx)
	if err != nil {
		return nil, err
	}
	return sql.PartitionsToPartitionIter(&partition{td: td}), nil
}

// PartitionRows implements sql.Table: every row, in primary-key order.
func (t *Table) PartitionRows(ctx *sql.Context, p sql.Partition) (sql.RowIter, error) {
	if ip, ok := p.(*indexPartition); ok {
		return t.lookupRows(ctx, ip.lookup)
	}
	td, err := t.data(ctx)
	if err != nil {
		return nil, err
	}
	if pp, ok := p.(*partition); ok && pp.td != nil {
		td = pp.td
	}
	it, err := td.rows.Iter(ctx, tree.Range{})
	if err != nil {
		return nil, err
	}
	return newRowIter(td, t.projection, it), nil
}

type partition struct {
	td *tableData
}

func (*partition) Key() []byte { return []byte("all") }

// lastSeen returns the version of the table this handle last read or
// wrote. Schema, Collation and Comment have no context argument; they rely
// on it, and every method with a context refreshes it.
func (t *Table) lastSeen() *tableData {
	if t.temp != nil {
		return t.temp.td
	}
	return t.cur
}

// rowDecoder decodes the rows of one scan, carving them from shared
// allocations: row slices from a slab of values, strings and byte slices
// and the strings' headers from an arena (codec.Arena). A scan thus
// allocates a few times per hundred rows instead of a few times per row.
// Rows never share elements (each is capacity-limited), so a row the
// engine keeps or extends changes no other.
type rowDecoder struct {
	slab    []any
	arena   codec.Arena
	started bool // a row was decoded

	// For a projection (the scan's, which never changes), once planned:
	// the stored columns it reads, where each goes in the row, and their
	// values (not nil).
	cols, outPos []int
	vals         []any
}

const rowSlabRows = 128

func (d *rowDecoder) decode(td *tableData, v []byte, proj []int) (sql.Row, error) {
	lay := td.lay
	n := len(lay.sch.Columns)
	if proj == nil && len(lay.stored) != n {
		return td.decodeRow(v, nil)
	}
	if proj != nil {
		n = len(proj)
	}
	if len(d.slab) < n {
		// The first row gets a slab and an arena of its own size: a point
		// read decodes one row, and 32 KiB for it would cost more than
		// the read. Later rows share slabs of rowSlabRows and arena chunks.
		if d.started {
			d.slab = make([]any, n*rowSlabRows)
		} else {
			d.slab = make([]any, n)
			d.arena.Reserve(len(v), n)
			d.started = true
		}
	}
	row := sql.Row(d.slab[:n:n])
	d.slab = d.slab[n:]
	var err error
	if proj == nil {
		err = lay.rowEnc.DecodeArena(v, row, &d.arena)
		return row, err
	}
	if d.vals == nil {
		d.cols, d.outPos = lay.projection(proj)
		d.vals = make([]any, len(d.cols))
	}
	if err = lay.rowEnc.DecodeColumnsArena(v, d.cols, d.vals, &d.arena); err != nil {
		return nil, err
	}
	// Virtual columns stay nil: a slab is fresh memory.
	for i, p := range d.outPos {
		row[p] = d.vals[i]
	}
	return row, nil
}

// rowIter reads rows from a row-map iterator.
type rowIter struct {
	count int
	dec   rowDecoder
	td    *tableData
	proj  []int // schema positions to return, nil for all
	it    *tree.Iter
}

func newRowIter(td *tableData, proj []int, it *tree.Iter) *rowIter {
	return &rowIter{td: td, proj: fullProjection(td, proj), it: it}
}

// fullProjection returns nil if proj asks for every column in order (a
// whole-row decode is cheaper), else proj.
func fullProjection(td *tableData, proj []int) []int {
	if len(proj) != len(td.lay.sch.Columns) {
		return proj
	}
	for i, p := range proj {
		if p != i {
			return proj
		}
	}
	return nil
}

func (r *rowIter) Next(ctx *sql.Context) (sql.Row, error) {
	// A cancelled query (KILL, a closed connection) stops within a few
	// hundred rows; checking on every row costs a lock each time.
	if r.count++; r.count%256 == 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	_, v, err := r.it.Next(ctx)
	if err != nil {
		return nil, err
	}
	return r.dec.decode(r.td, v, r.proj)
}

func (r *rowIter) Close(*sql.Context) error { return nil }

// projection returns the stored columns a projection reads and, for each,
// its place in the projected row; virtual columns are not read.
func (lay *layout) projection(proj []int) (cols, outPos []int) {
	cols = make([]int, 0, len(proj))
	outPos = make([]int, 0, len(proj))
	for i, pos := range proj {
		if si := lay.storedIndex[pos]; si >= 0 {
			cols = append(cols, si)
			outPos = append(outPos, i)
		}
	}
	return cols, outPos
}

// decodeRow decodes a row-map value into a row of the full schema (or of
// proj), with nil at virtual columns.
func (td *tableData) decodeRow(v []byte, proj []int) (sql.Row, error) {
	lay := td.lay
	if proj == nil {
		row := make(sql.Row, len(lay.sch.Columns))
		if len(lay.stored) == len(row) {
			if err := lay.rowEnc.Decode(v, row); err != nil {
				return nil, err
			}
			return row, nil
		}
		stored := make([]any, len(lay.stored))
		if err := lay.rowEnc.Decode(v, stored); err != nil {
			return nil, err
		}
		for i, pos := range lay.stored {
			row[pos] = stored[i]
		}
		return row, nil
	}
	cols, outPos := lay.projection(proj)
	row := make(sql.Row, len(proj))
	vals := make([]any, len(cols))
	if err := lay.rowEnc.DecodeColumns(v, cols, vals); err != nil {
		return nil, err
	}
	for i, p := range outPos {
		row[p] = vals[i]
	}
	return row, nil
}
