package repo

import (
	"errors"

	"github.com/cairndb/cairn/storage/chunk"
)

// tableVersion is the version byte of a TableRecord payload.
const tableVersion = 1

// TableRecord is one table of a RootValue: its schema, its rows and its
// secondary indexes. Rows and indexes are prolly maps named by their root
// chunk's hash; an empty map still has a root chunk, so no hash is zero.
type TableRecord struct {
	// Schema is the table's schema, encoded by the layer above.
	Schema []byte
	// Rows is the root of the primary-key-ordered row map.
	Rows chunk.Hash
	// Indexes are the secondary indexes, index key → primary key maps, in
	// strictly increasing order of name.
	Indexes []NamedHash
	// AutoIncrement is the next auto-increment value (0 when the table has
	// no auto-increment column).
	AutoIncrement uint64
	// Extra is kept for later use; it is stored and returned unchanged.
	Extra []byte
}

// Index returns the root of the index called name.
func (t *TableRecord) Index(name string) (chunk.Hash, bool) {
	i, ok := findNamed(t.Indexes, name)
	if !ok {
		return chunk.Hash{}, false
	}
	return t.Indexes[i].Hash, true
}

// WithIndex returns a copy of t in which index name has root h.
func (t *TableRecord) WithIndex(name string, h chunk.Hash) (*TableRecord, error) {
	if err := checkPut("index", name, h); err != nil {
		return nil, err
	}
	c := *t
	c.Indexes = putNamed(t.Indexes, name, h)
	return &c, nil
}

// WithoutIndex returns a copy of t without index name, and whether t had it.
func (t *TableRecord) WithoutIndex(name string) (*TableRecord, bool) {
	c := *t
	var ok bool
	c.Indexes, ok = deleteNamed(t.Indexes, name)
	return &c, ok
}

func (t *TableRecord) validate() error {
	if t.Rows.IsZero() {
		return errors.New("zero row map hash")
	}
	return checkNamed(t.Indexes)
}

// Encode returns the chunk of t. Its references are the row map root then
// each index root, in the order of Indexes.
func (t *TableRecord) Encode() (chunk.Chunk, error) {
	if err := t.validate(); err != nil {
		return chunk.Chunk{}, invalid("table", err)
	}
	e := encoder{}
	e.byte(tableVersion)
	e.bytes(t.Schema)
	e.uvarint(t.AutoIncrement)
	refs := encodeNamed(&e, []chunk.Hash{t.Rows}, t.Indexes)
	e.bytes(t.Extra)
	return chunk.New(chunk.Encode(chunk.KindTable, refs, e.buf)), nil
}

// DecodeTableRecord decodes chunk h holding data. Malformed data gives an
// error matching chunk.ErrCorruption that names h.
func DecodeTableRecord(h chunk.Hash, data []byte) (*TableRecord, error) {
	refs, d, err := open(h, data, chunk.KindTable, "table", tableVersion)
	if err != nil {
		return nil, err
	}
	t := &TableRecord{Schema: d.bytes(), AutoIncrement: d.uvarint()}
	if d.err == nil && len(refs) == 0 {
		d.fail("no row map reference")
	}
	if d.err == nil {
		t.Rows = refs[0]
		var rest []chunk.Hash
		t.Indexes, rest = decodeNamed(d, refs[1:])
		if d.err == nil && len(rest) != 0 {
			d.fail("%d unused references", len(rest))
		}
	}
	t.Extra = d.bytes()
	if err := d.finish(); err != nil {
		return nil, err
	}
	d.check(t.validate())
	if d.err != nil {
		return nil, d.err
	}
	return t, nil
}
