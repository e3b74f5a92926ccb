package sqle

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/repo"
	"github.com/cairndb/cairn/storage/sqle/codec"
	"github.com/cairndb/cairn/storage/sqle/schema"
	"github.com/cairndb/cairn/storage/tree"
)

// layout is what a table's schema implies for its storage: which columns are
// stored, how keys and rows are encoded. It is derived once per schema and
// shared by every version of the table with that schema. Immutable.
type layout struct {
	sch    *schema.Table
	schEnc []byte // schema.Encode(sch)

	stored      []int // positions of stored (non-virtual) columns in the schema
	storedIndex []int // by schema position: index in stored, or -1
	rowEnc      *codec.RowCodec
	keyless     bool
	autoIncCol  int   // schema position of the auto-increment column, or -1
	pk          []int // schema positions of the primary-key columns
	pkEnc       *codec.KeyCodec
	indexes     []indexLayout // in the order of sch.Indexes
	// refine holds, by schema position, the refinement of each column
	// with a declared type (nil for the others); nil if none has one.
	refine []*schema.Refinement
}

// indexLayout is the storage of one secondary index: keys are the index
// columns followed by the row key (the primary key, or a keyless table's
// row id), values are empty.
type indexLayout struct {
	def  *schema.Index
	cols []int // schema positions of the index columns
	enc  *codec.KeyCodec
}

// A keyless table's rows are keyed by a row id, 8 bytes big-endian, given
// in insertion order (so scans return rows in the order they were inserted,
// as InnoDB's hidden row id does). Its content map, stored as a hidden
// index, finds the rows with given values: keys are the first
// contentHashLen bytes of SHA-256 of the row encoding, then the row id.
const (
	rowIDLen         = 8
	contentHashLen   = 16
	contentIndexName = "\x00rows by content"
)

func newLayout(sch *schema.Table) (*layout, error) {
	enc, err := schema.Encode(sch)
	if err != nil {
		return nil, err
	}
	l := &layout{sch: sch, schEnc: enc, keyless: len(sch.PKOrdinals) == 0, pk: sch.PKOrdinals, autoIncCol: -1, refine: refinements(sch)}
	var storedTypes []sql.Type
	for i, c := range sch.Columns {
		if c.AutoIncrement {
			l.autoIncCol = i
		}
		if c.Virtual {
			l.storedIndex = append(l.storedIndex, -1)
			continue
		}
		l.storedIndex = append(l.storedIndex, len(l.stored))
		l.stored = append(l.stored, i)
		storedTypes = append(storedTypes, c.Type)
	}
	l.rowEnc = codec.NewRowCodec(storedTypes)
	var pkTypes []sql.Type
	for _, i := range l.pk {
		pkTypes = append(pkTypes, sch.Columns[i].Type)
	}
	if !l.keyless {
		if l.pkEnc, err = codec.NewKeyCodec(pkTypes, sch.PKPrefixLengths); err != nil {
			return nil, fmt.Errorf("primary key of %s: %w", sch.Name, err)
		}
	}
	for i := range sch.Indexes {
		def := &sch.Indexes[i]
		il := indexLayout{def: def}
		var types []sql.Type
		var prefixes []uint16
		for j, name := range def.Columns {
			ci := sch.ColumnIndex(name)
			if ci < 0 {
				return nil, fmt.Errorf("index %s of %s: no column %s", def.Name, sch.Name, name)
			}
			il.cols = append(il.cols, ci)
			types = append(types, sch.Columns[ci].Type)
			var p uint16
			if j < len(def.PrefixLengths) {
				p = def.PrefixLengths[j]
			}
			prefixes = append(prefixes, p)
		}
		if !l.keyless {
			types = append(types, pkTypes...)
			if sch.PKPrefixLengths != nil {
				prefixes = append(prefixes, sch.PKPrefixLengths...)
			} else {
				prefixes = append(prefixes, make([]uint16, len(pkTypes))...)
			}
		}
		if il.enc, err = codec.NewKeyCodec(types, prefixes); err != nil {
			return nil, fmt.Errorf("index %s of %s: %w", def.Name, sch.Name, err)
		}
		l.indexes = append(l.indexes, il)
	}
	return l, nil
}

func (l *layout) sqlSchema(db string) sql.Schema { return l.sch.SQLSchema(db) }

func (l *layout) pkSchema(db string) sql.PrimaryKeySchema { return l.sch.PrimaryKeySchema(db) }

// tableData is one version of a table, decoded: its layout, row map, index
// maps and stored auto-increment counter. Immutable; edits make a new one.
type tableData struct {
	hash    chunk.Hash // of its TableRecord; zero until written
	lay     *layout
	rows    tree.Map
	indexes []tree.Map // parallel to lay.indexes
	content tree.Map   // keyless tables only: see contentIndexName
	autoInc uint64
	extra   []byte
}

// indexMap returns the map of secondary index name.
func (td *tableData) indexMap(name string) (tree.Map, *indexLayout, bool) {
	i := indexPosition(td, name)
	if i < 0 {
		return tree.Map{}, nil, false
	}
	return td.indexes[i], &td.lay.indexes[i], true
}

// write puts td's record in the store and returns td with its hash set.
func (st *dbState) writeTable(ctx context.Context, td *tableData) (*tableData, error) {
	rec := &repo.TableRecord{
		Schema:        td.lay.schEnc,
		Rows:          td.rows.Hash(),
		AutoIncrement: td.autoInc,
		Extra:         td.extra,
	}
	for i, il := range td.lay.indexes {
		rec.Indexes = append(rec.Indexes, repo.NamedHash{Name: il.def.Name, Hash: td.indexes[i].Hash()})
	}
	if td.lay.keyless {
		rec.Indexes = append(rec.Indexes, repo.NamedHash{Name: contentIndexName, Hash: td.content.Hash()})
	}
	sort.Slice(rec.Indexes, func(i, j int) bool { return rec.Indexes[i].Name < rec.Indexes[j].Name })
	h, err := st.repo.WriteTable(ctx, rec)
	if err != nil {
		return nil, err
	}
	out := *td
	out.hash = h
	st.tables.put(h, &out)
	return &out, nil
}

// readTable loads the table whose record is h.
func (st *dbState) readTable(ctx context.Context, h chunk.Hash) (*tableData, error) {
	if td, ok := st.tables.get(h); ok {
		return td, nil
	}
	rec, err := st.repo.ReadTable(ctx, h)
	if err != nil {
		return nil, err
	}
	lay, err := st.tables.layout(rec.Schema)
	if err != nil {
		return nil, err
	}
	td := &tableData{hash: h, lay: lay, autoInc: rec.AutoIncrement, extra: rec.Extra}
	if td.rows, err = tree.LoadMap(ctx, st.ns, rec.Rows); err != nil {
		return nil, err
	}
	td.indexes = make([]tree.Map, len(lay.indexes))
	for i, il := range lay.indexes {
		ih, ok := rec.Index(il.def.Name)
		if !ok {
			return nil, chunk.Corruptf(h, "table %s has no map for index %s", lay.sch.Name, il.def.Name)
		}
		if td.indexes[i], err = tree.LoadMap(ctx, st.ns, ih); err != nil {
			return nil, err
		}
	}
	if lay.keyless {
		ch, ok := rec.Index(contentIndexName)
		if !ok {
			return nil, chunk.Corruptf(h, "keyless table %s has no content map", lay.sch.Name)
		}
		if td.content, err = tree.LoadMap(ctx, st.ns, ch); err != nil {
			return nil, err
		}
	}
	st.tables.put(h, td)
	return td, nil
}

// newTableData makes an empty table of schema sch.
func (st *dbState) newTableData(ctx context.Context, sch *schema.Table) (*tableData, error) {
	lay, err := newLayout(sch)
	if err != nil {
		return nil, err
	}
	empty, err := tree.NewEmptyMap(ctx, st.ns)
	if err != nil {
		return nil, err
	}
	td := &tableData{lay: lay, rows: empty, content: empty, indexes: make([]tree.Map, len(lay.indexes))}
	for i := range td.indexes {
		td.indexes[i] = empty
	}
	return td, nil
}

// tableCache keeps recently used decoded tables by record hash, and layouts
// by encoded schema, so a statement does not decode its table again.
type tableCache struct {
	mu      sync.Mutex
	max     int
	byHash  map[chunk.Hash]*tableData
	layouts map[string]*layout
}

func (c *tableCache) init(max int) {
	c.max = max
	c.byHash = map[chunk.Hash]*tableData{}
	c.layouts = map[string]*layout{}
}

func (c *tableCache) get(h chunk.Hash) (*tableData, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	td, ok := c.byHash[h]
	return td, ok
}

func (c *tableCache) put(h chunk.Hash, td *tableData) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.byHash) >= c.max {
		// Random eviction: map iteration order is random, and a table read
		// again is only a record decode away.
		for k := range c.byHash {
			delete(c.byHash, k)
			if len(c.byHash) < c.max*3/4 {
				break
			}
		}
	}
	c.byHash[h] = td
	if _, ok := c.layouts[string(td.lay.schEnc)]; !ok && len(c.layouts) < c.max {
		c.layouts[string(td.lay.schEnc)] = td.lay
	}
}

func (c *tableCache) layout(enc []byte) (*layout, error) {
	c.mu.Lock()
	lay, ok := c.layouts[string(enc)]
	c.mu.Unlock()
	if ok {
		return lay, nil
	}
	sch, err := schema.Decode(enc)
	if err != nil {
		return nil, err
	}
	return newLayout(sch)
}
