package sqle

import (
	"bytes"
	"fmt"
	"io"
	"sort"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/sqle/codec"
	"github.com/cairndb/cairn/storage/tree"
)

// primaryIndexName is the name go-mysql-server expects for the primary key
// when it is offered as an index.
const primaryIndexName = "PRIMARY"

// Index is a primary key or secondary index of a table, as the engine sees
// it. Lookups go through Table.IndexedAccess.
type Index struct {
	db, table string
	name      string
	exprs     []string // "table.column", in key order
	types     []sql.Type
	prefixes  []uint16
	// The primary-key columns a secondary index holds implicitly and does
	// not name (sql.ExtendedIndex), and for each column of the extended
	// list the segment of the physical key that holds it.
	extExprs    []string
	extTypes    []sql.Type
	phys        []int
	keyPrefixes []uint16 // prefix length of each physical key segment
	primary     bool
	unique      bool
	comment     string
}

var (
	_ sql.Index         = (*Index)(nil)
	_ sql.OrderedIndex  = (*Index)(nil)
	_ sql.ExtendedIndex = (*Index)(nil)
)

// ExtendedExpressions implements sql.ExtendedIndex: the index columns,
// then the primary-key columns it does not name, which every secondary
// key ends with.
func (i *Index) ExtendedExpressions() []string {
	return append(i.Expressions(), i.extExprs...)
}

// ExtendedColumnExpressionTypes implements sql.ExtendedIndex.
func (i *Index) ExtendedColumnExpressionTypes() []sql.ColumnExpressionType {
	out := i.ColumnExpressionTypes()
	for j := range i.extExprs {
		out = append(out, sql.ColumnExpressionType{Expression: i.extExprs[j], Type: i.extTypes[j]})
	}
	return out
}

// ID implements sql.Index.
func (i *Index) ID() string { return i.name }

// Database implements sql.Index.
func (i *Index) Database() string { return i.db }

// Table implements sql.Index.
func (i *Index) Table() string { return i.table }

// Expressions implements sql.Index.
func (i *Index) Expressions() []string { return append([]string(nil), i.exprs...) }

// IsUnique implements sql.Index.
func (i *Index) IsUnique() bool { return i.unique }

// IsSpatial implements sql.Index.
func (i *Index) IsSpatial() bool { return false }

// IsFullText implements sql.Index.
func (i *Index) IsFullText() bool { return false }

// IsVector implements sql.Index.
func (i *Index) IsVector() bool { return false }

// Comment implements sql.Index.
func (i *Index) Comment() string { return i.comment }

// IndexType implements sql.Index.
func (i *Index) IndexType() string { return "BTREE" }

// IsGenerated implements sql.Index.
func (i *Index) IsGenerated() bool { return false }

// ColumnExpressionTypes implements sql.Index.
func (i *Index) ColumnExpressionTypes() []sql.ColumnExpressionType {
	out := make([]sql.ColumnExpressionType, len(i.exprs))
	for j := range i.exprs {
		out[j] = sql.ColumnExpressionType{Expression: i.exprs[j], Type: i.types[j]}
	}
	return out
}

// CanSupport implements sql.Index: any ranges over the index columns.
func (i *Index) CanSupport(*sql.Context, ...sql.Range) bool { return true }

// CanSupportOrderBy implements sql.Index (vector ordering only).
func (i *Index) CanSupportOrderBy(sql.Expression) bool { return false }

// PrefixLengths implements sql.Index.
func (i *Index) PrefixLengths() []uint16 {
	for _, p := range i.prefixes {
		if p > 0 {
			return append([]uint16(nil), i.prefixes...)
		}
	}
	return nil
}

// Order implements sql.OrderedIndex: rows come in key order, unless a
// column is indexed by a prefix only.
func (i *Index) Order() sql.IndexOrder {
	if i.PrefixLengths() != nil {
		return sql.IndexOrderNone
	}
	return sql.IndexOrderAsc
}

// Reversible implements sql.OrderedIndex.
func (i *Index) Reversible() bool { return i.Order() != sql.IndexOrderNone }

// indexesOf returns the primary key (if any) then the secondary indexes
// but the disabled ones (keys.go): the engine plans with what this returns,
// and does not check CanSupport before every use of an index.
// Expressions keep the case of the table and column names: the engine
// matches them case-sensitively against its columns.
func indexesOf(db string, td *tableData) []sql.Index {
	lay := td.lay
	tbl := lay.sch.Name
	expr := func(pos int) string { return tbl + "." + lay.sch.Columns[pos].Name }
	pkPrefix := func(j int) uint16 {
		if j < len(lay.sch.PKPrefixLengths) {
			return lay.sch.PKPrefixLengths[j]
		}
		return 0
	}
	var out []sql.Index
	if !lay.keyless {
		idx := &Index{db: db, table: tbl, name: primaryIndexName, primary: true, unique: true}
		for j, pos := range lay.pk {
			idx.exprs = append(idx.exprs, expr(pos))
			idx.types = append(idx.types, lay.sch.Columns[pos].Type)
			idx.prefixes = append(idx.prefixes, pkPrefix(j))
			idx.phys = append(idx.phys, j)
		}
		idx.keyPrefixes = idx.prefixes
		out = append(out, idx)
	}
	for _, il := range lay.indexes {
		if il.def.Disabled {
			continue
		}
		idx := &Index{db: db, table: tbl, name: il.def.Name, unique: il.def.Unique, comment: il.def.Comment}
		named := map[int]bool{}
		for j, pos := range il.cols {
			idx.exprs = append(idx.exprs, expr(pos))
			idx.types = append(idx.types, lay.sch.Columns[pos].Type)
			var p uint16
			if j < len(il.def.PrefixLengths) {
				p = il.def.PrefixLengths[j]
			}
			idx.prefixes = append(idx.prefixes, p)
			idx.phys = append(idx.phys, j)
			named[pos] = true
		}
		idx.keyPrefixes = append([]uint16(nil), idx.prefixes...)
		for j, pos := range lay.pk {
			idx.keyPrefixes = append(idx.keyPrefixes, pkPrefix(j))
			if named[pos] {
				continue
			}
			idx.extExprs = append(idx.extExprs, expr(pos))
			idx.extTypes = append(idx.extTypes, lay.sch.Columns[pos].Type)
			idx.phys = append(idx.phys, len(il.cols)+j)
		}
		out = append(out, idx)
	}
	return out
}

// GetIndexes implements sql.IndexAddressable.
func (t *Table) GetIndexes(ctx *sql.Context) ([]sql.Index, error) {
	td, err := t.schemaData(ctx)
	if err != nil {
		return nil, err
	}
	return indexesOf(t.db.Name(), td), nil
}

// PreciseMatch implements sql.IndexAddressable: a lookup returns exactly
// the rows of its ranges (keys compare as the column types and collations
// do), so the engine may drop the filters the ranges came from. It keeps
// them by itself for indexes with prefix lengths.
func (t *Table) PreciseMatch() bool { return true }

// IndexedAccess implements sql.IndexAddressable.
func (t *Table) IndexedAccess(ctx *sql.Context, lookup sql.IndexLookup) sql.IndexedTable {
	if _, ok := lookup.Index.(*Index); !ok {
		return nil
	}
	if _, ok := lookup.Ranges.(sql.MySQLRangeCollection); !ok && !lookup.IsEmptyRange {
		return nil
	}
	nt := *t
	return &IndexedTable{Table: &nt}
}

// IndexedTable is a table read through an index lookup.
type IndexedTable struct {
	*Table
}

var _ sql.IndexedTable = (*IndexedTable)(nil)

// LookupPartitions implements sql.IndexedTable.
func (it *IndexedTable) LookupPartitions(ctx *sql.Context, lookup sql.IndexLookup) (sql.PartitionIter, error) {
	return sql.PartitionsToPartitionIter(&indexPartition{lookup: copyLookup(lookup)}), nil
}

// copyLookup copies the ranges, which the engine reuses between calls.
func copyLookup(l sql.IndexLookup) sql.IndexLookup {
	if rc, ok := l.Ranges.(sql.MySQLRangeCollection); ok {
		out := make(sql.MySQLRangeCollection, len(rc))
		for i, r := range rc {
			out[i] = append(sql.MySQLRange(nil), r...)
		}
		l.Ranges = out
	}
	return l
}

type indexPartition struct {
	lookup sql.IndexLookup
}

func (p *indexPartition) Key() []byte { return []byte("lookup") }

// keyRange is one range of a lookup in encoded form: the tree range that
// holds it, and per index column the bounds [lo, hi) each key's column
// segment must be within (hi nil: unbounded).
type keyRange struct {
	r      tree.Range
	lo, hi [][]byte
	whole  []bool // lo[j] is one whole encoded value
	phys   []int  // the key segment range column j bounds
	nseg   int    // segments to split: max(phys)+1
	// point says every column is pinned to one whole value, none through
	// a prefix length: the range holds at most one key, r.Prefix.
	point bool
	// held is the edit of a point's row that waits for COMMIT, if any:
	// the range holds its value, or nothing.
	held *rowEdit
}

// encodeRange turns a lookup range into a keyRange for keys encoded by enc
// whose first len(rng) columns are the index columns; ok is false for an
// empty range.
func encodeRange(enc *codec.KeyCodec, rng sql.MySQLRange, phys []int, prefixes []uint16, reverse bool) (keyRange, bool, error) {
	if len(rng) > len(phys) {
		rng = rng[:len(phys)]
	}
	kr := keyRange{lo: make([][]byte, len(rng)), hi: make([][]byte, len(rng)), whole: make([]bool, len(rng)), phys: phys[:len(rng)]}
	for j, ce := range rng {
		p := phys[j]
		prefixed := p < len(prefixes) && prefixes[p] > 0
		lo, hi, whole, ok, err := columnBounds(enc, p, ce, prefixed)
		if err != nil || !ok {
			return kr, false, err
		}
		kr.lo[j], kr.hi[j], kr.whole[j] = lo, hi, whole
		if p+1 > kr.nseg {
			kr.nseg = p + 1
		}
	}
	// The tree range: the leading columns whose bounds pin one segment
	// form a common prefix; the first other column bounds it.
	var prefix []byte
	j := 0
	for ; j < len(rng); j++ {
		if phys[j] != j || !kr.whole[j] || kr.hi[j] == nil || !bytes.Equal(codec.PrefixEnd(kr.lo[j]), kr.hi[j]) {
			break
		}
		prefix = append(prefix, kr.lo[j]...)
	}
	if j < len(rng) && phys[j] != j {
		kr.r = tree.Range{Prefix: prefix, Reverse: reverse}
		return kr, true, nil
	}
	if j == len(rng) {
		kr.r = tree.Range{Prefix: prefix, Reverse: reverse}
		kr.point = true
		for _, p := range kr.phys {
			if p < len(prefixes) && prefixes[p] > 0 {
				kr.point = false
			}
		}
		return kr, true, nil
	}
	start := append(append([]byte(nil), prefix...), kr.lo[j]...)
	var end []byte
	if kr.hi[j] != nil {
		end = append(append([]byte(nil), prefix...), kr.hi[j]...)
	} else if len(prefix) > 0 {
		end = codec.PrefixEnd(prefix)
	}
	kr.r = tree.Range{Start: start, End: end, Reverse: reverse}
	return kr, true, nil
}

// columnBounds returns the segment bounds of column j for ce: every value v
// with lo <= enc(v) < hi is in the range (hi nil: no upper bound); whole
// says lo is itself the encoding of a value. For a column indexed by a
// prefix, bounds widen to whole truncated values. ok is false for an empty
// range.
func columnBounds(enc *codec.KeyCodec, j int, ce sql.MySQLRangeColumnExpr, prefixed bool) (lo, hi []byte, whole, ok bool, err error) {
	null, err := columnSegment(enc, j, nil)
	if err != nil {
		return nil, nil, false, false, err
	}
	// A bound at a NULL key is a plain comparison with NULL (a lookup join
	// on '=' with a NULL outer value): it matches nothing. NULLs are
	// reached through the BelowNull/AboveNull cuts only (IS NULL, <=>).
	if c, ok := ce.LowerBound.(sql.Below); ok && c.Key == nil {
		return nil, nil, false, false, nil
	}
	if c, ok := ce.UpperBound.(sql.Above); ok && c.Key == nil {
		return nil, nil, false, false, nil
	}
	switch c := ce.LowerBound.(type) {
	case sql.BelowNull:
		lo, whole = null, true // NULL is the lowest value
	case sql.AboveNull:
		lo = codec.PrefixEnd(null)
	case sql.Below:
		if lo, err = columnSegment(enc, j, c.Key); err != nil {
			return nil, nil, false, false, err
		}
		whole = true
	case sql.Above:
		s, err := columnSegment(enc, j, c.Key)
		if err != nil {
			return nil, nil, false, false, err
		}
		if prefixed {
			lo, whole = s, true
		} else {
			lo = codec.PrefixEnd(s)
		}
	case sql.AboveAll:
		return nil, nil, false, false, nil
	default:
		return nil, nil, false, false, fmt.Errorf("cairn: unknown range cut %T", c)
	}
	switch c := ce.UpperBound.(type) {
	case sql.AboveAll:
		hi = nil
	case sql.AboveNull:
		hi = codec.PrefixEnd(null)
	case sql.BelowNull:
		return nil, nil, false, false, nil
	case sql.Below:
		s, err := columnSegment(enc, j, c.Key)
		if err != nil {
			return nil, nil, false, false, err
		}
		if prefixed {
			hi = codec.PrefixEnd(s)
		} else {
			hi = s
		}
	case sql.Above:
		s, err := columnSegment(enc, j, c.Key)
		if err != nil {
			return nil, nil, false, false, err
		}
		hi = codec.PrefixEnd(s)
	default:
		return nil, nil, false, false, fmt.Errorf("cairn: unknown range cut %T", c)
	}
	if hi != nil && bytes.Compare(lo, hi) >= 0 {
		return nil, nil, false, false, nil
	}
	return lo, hi, whole, true, nil
}

// columnSegment returns the encoding of v as column j of enc's keys.
func columnSegment(enc *codec.KeyCodec, j int, v any) ([]byte, error) {
	vals := make([]any, j+1)
	vals[j] = v
	full, err := enc.Encode(nil, vals)
	if err != nil {
		return nil, err
	}
	if j == 0 {
		return full, nil
	}
	before, err := enc.Encode(nil, vals[:j])
	if err != nil {
		return nil, err
	}
	return full[len(before):], nil
}

// inRange reports whether key's column segments are within the bounds, and
// the length of its first nIdx segments. It splits the key's first
// max(kr.nseg, nIdx, atLeast) segments into segs (reused, returned).
func (kr *keyRange) inRange(enc *codec.KeyCodec, key []byte, nIdx, atLeast int, segs [][]byte) (bool, int, [][]byte, error) {
	n := max(kr.nseg, nIdx, atLeast)
	segs, err := enc.AppendSplit(segs[:0], key, n)
	if err != nil {
		return false, 0, segs, err
	}
	for j, p := range kr.phys {
		s := segs[p]
		if bytes.Compare(s, kr.lo[j]) < 0 || (kr.hi[j] != nil && bytes.Compare(s, kr.hi[j]) >= 0) {
			return false, 0, segs, nil
		}
	}
	idxLen := 0
	for _, s := range segs[:nIdx] {
		idxLen += len(s)
	}
	return true, idxLen, segs, nil
}

// lookupRows returns the table's rows in the lookup's ranges, in index
// order (descending if the lookup is reverse). Points of the whole primary
// key are read from the table's trees and the session's edits of it that
// wait for COMMIT (deferred.go), which every other lookup applies first.
func (t *Table) lookupRows(ctx *sql.Context, lookup sql.IndexLookup) (sql.RowIter, error) {
	// IsEmptyRange is not trusted: go-mysql-server sets it for a NULL key
	// of a null-safe (<=>) lookup join whose range does hold NULLs; the
	// ranges themselves say what matches (see columnBounds).
	idx, ok := lookup.Index.(*Index)
	if !ok {
		return nil, fmt.Errorf("cairn: lookup on foreign index %T", lookup.Index)
	}
	td, err := t.schemaData(ctx)
	if err != nil {
		return nil, err
	}
	held := deferredWriterOf(ctx, t)
	src, krs, err := t.lookupSource(td, idx, lookup)
	if err != nil {
		return nil, err
	}
	if held != nil && !wholeKeyPoints(idx, krs) {
		// The edits must be in the trees before other lookups read them.
		held = nil
		if td, err = t.data(ctx); err != nil {
			return nil, err
		}
		if src, krs, err = t.lookupSource(td, idx, lookup); err != nil {
			return nil, err
		}
	}
	if held != nil {
		for i := range krs {
			if e, ok := held.heldRow(string(krs[i].r.Prefix)); ok {
				krs[i].held = &e
			}
		}
	}
	sort.SliceStable(krs, func(a, b int) bool {
		c := bytes.Compare(rangeStart(krs[a].r), rangeStart(krs[b].r))
		if lookup.IsReverse {
			return c > 0
		}
		return c < 0
	})
	return &lookupIter{src: src, ranges: krs}, nil
}

// wholeKeyPoints reports whether idx is the primary key and every range of
// a lookup on it is a point of the whole key.
func wholeKeyPoints(idx *Index, krs []keyRange) bool {
	if !idx.primary {
		return false
	}
	for i := range krs {
		if !krs[i].point || len(krs[i].lo) != len(idx.exprs) {
			return false
		}
	}
	return true
}

// lookupSource returns where lookup reads td's rows from, and its ranges
// encoded.
func (t *Table) lookupSource(td *tableData, idx *Index, lookup sql.IndexLookup) (*lookupSource, []keyRange, error) {
	src := &lookupSource{td: td, primary: idx.primary, nIdx: len(idx.exprs), proj: fullProjection(td, t.projection)}
	if idx.primary {
		src.m, src.enc = td.rows, td.lay.pkEnc
	} else {
		m, il, ok := td.indexMap(idx.name)
		if !ok || il.def.Disabled {
			return nil, nil, sql.ErrIndexNotFound.New(idx.name)
		}
		src.m, src.enc = m, il.enc
		src.cover = coveringColumns(td, il, src.proj)
	}
	rc, _ := lookup.Ranges.(sql.MySQLRangeCollection)
	var krs []keyRange
	for _, rng := range rc {
		kr, ok, err := encodeRange(src.enc, rng, idx.phys, idx.keyPrefixes, lookup.IsReverse)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			krs = append(krs, kr)
		}
	}
	return src, krs, nil
}

// coveringColumns returns, for each column a lookup on index il returns
// (proj, or every column if nil), the column of il's keys that holds it, or
// nil if some column is not in the keys or cannot be decoded from them
// (codec.KeyCodec.Decodable: integers can, strings cannot). Such a covering
// lookup builds its rows from the index keys alone, without reading each
// row from the primary map (sysbench's covering_index_scan: one tree
// lookup less per row).
func coveringColumns(td *tableData, il *indexLayout, proj []int) []int {
	lay := td.lay
	if lay.keyless {
		return nil
	}
	if proj == nil {
		proj = make([]int, len(lay.sch.Columns))
		for i := range proj {
			proj[i] = i
		}
	}
	cover := make([]int, len(proj))
	for i, pos := range proj {
		if lay.storedIndex[pos] < 0 { // a virtual column: computed, not stored
			return nil
		}
		col := -1
		for j, c := range il.cols {
			if c == pos && il.enc.Decodable(j) {
				col = j
				break
			}
		}
		for j, c := range lay.pk {
			if col < 0 && c == pos && il.enc.Decodable(len(il.cols)+j) {
				col = len(il.cols) + j
			}
		}
		if col < 0 {
			return nil
		}
		cover[i] = col
	}
	return cover
}

func rangeStart(r tree.Range) []byte {
	if r.Prefix != nil {
		return r.Prefix
	}
	return r.Start
}

type lookupSource struct {
	td      *tableData
	nIdx    int // index columns before the row key, in secondary keys
	primary bool
	m       tree.Map
	enc     *codec.KeyCodec
	cover   []int // if not nil, the key column of each returned column (coveringColumns)
	proj    []int // the columns returned (fullProjection)
}

type lookupIter struct {
	dec    rowDecoder
	segs   [][]byte // the current key's segments (inRange), reused
	src    *lookupSource
	ranges []keyRange
	cur    *tree.Iter
	kr     *keyRange
}

func (it *lookupIter) Next(ctx *sql.Context) (sql.Row, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if it.cur == nil {
			if len(it.ranges) == 0 {
				return nil, io.EOF
			}
			it.kr = &it.ranges[0]
			it.ranges = it.ranges[1:]
			if e := it.kr.held; e != nil {
				if e.del {
					continue
				}
				return it.dec.decode(it.src.td, e.val, it.src.proj)
			}
			var err error
			if it.cur, err = it.src.m.Iter(ctx, it.kr.r); err != nil {
				return nil, err
			}
		}
		k, v, err := it.cur.Next(ctx)
		if err == io.EOF {
			it.cur = nil
			continue
		}
		if err != nil {
			return nil, err
		}
		// A covering lookup decodes its row from every segment.
		split := 0
		if it.src.cover != nil {
			split = it.src.enc.Columns()
		}
		ok, n, segs, err := it.kr.inRange(it.src.enc, k, it.src.nIdx, split, it.segs)
		it.segs = segs
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if it.src.cover != nil {
			return it.keyRow()
		}
		if !it.src.primary {
			pk := k[n:]
			var found bool
			if v, found, err = it.src.td.rows.Get(ctx, pk); err != nil {
				return nil, err
			} else if !found {
				return nil, fmt.Errorf("%w: index of %s names a missing row", chunk.ErrCorruption, it.src.td.lay.sch.Name)
			}
		}
		return it.dec.decode(it.src.td, v, it.src.proj)
	}
}

// keyRow builds the row of a covering lookup from the segments of its
// index key, it.segs.
func (it *lookupIter) keyRow() (sql.Row, error) {
	enc := it.src.enc
	var err error
	row := make(sql.Row, len(it.src.cover))
	for i, col := range it.src.cover {
		if row[i], err = enc.DecodeSegment(it.segs[col], col); err != nil {
			return nil, err
		}
	}
	return row, nil
}

func (it *lookupIter) Close(*sql.Context) error { return nil }
