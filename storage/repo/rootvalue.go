package repo

import (
	"github.com/cairndb/cairn/storage/chunk"
)

// rootVersion is the version byte of a RootValue payload.
const rootVersion = 1

// Names of the collections a RootValue may hold besides tables. Each is the
// root of a map from the object's name to its definition, kept by the SQL
// layer; a RootValue without one has no objects of that kind.
const (
	CollectionViews      = "views"
	CollectionTriggers   = "triggers"
	CollectionProcedures = "procedures"
	CollectionEvents     = "events"
)

// RootValue is the whole content of a database at one instant: its tables,
// its collections of views, triggers, procedures and events, and a few opaque
// settings. It is immutable: the methods that change it return a new value,
// sharing what did not change. The zero value is the empty root.
type RootValue struct {
	tables      []NamedHash // table name → TableRecord chunk, sorted by name
	collections []NamedHash // collection name → map root, sorted by name
	settings    []byte
}

var emptyRoot = &RootValue{}

// EmptyRoot returns the root value of an empty database. Its encoding is
// canonical: every empty root has the same hash.
func EmptyRoot() *RootValue { return emptyRoot }

// GetTable returns the hash of the TableRecord chunk of table name. Names are
// compared exactly (case-sensitively).
func (r *RootValue) GetTable(name string) (chunk.Hash, bool) {
	i, ok := findNamed(r.tables, name)
	if !ok {
		return chunk.Hash{}, false
	}
	return r.tables[i].Hash, true
}

// PutTable returns a root in which table name is the TableRecord chunk h,
// added or replaced. The caller puts that chunk in the store.
func (r *RootValue) PutTable(name string, h chunk.Hash) (*RootValue, error) {
	if err := checkPut("table", name, h); err != nil {
		return nil, err
	}
	c := *r
	c.tables = putNamed(r.tables, name, h)
	return &c, nil
}

// DeleteTable returns a root without table name, and whether r had it.
func (r *RootValue) DeleteTable(name string) (*RootValue, bool) {
	tables, ok := deleteNamed(r.tables, name)
	if !ok {
		return r, false
	}
	c := *r
	c.tables = tables
	return &c, true
}

// TableNames returns the names of the tables in ascending byte order, in a
// new slice.
func (r *RootValue) TableNames() []string {
	out := make([]string, len(r.tables))
	for i, t := range r.tables {
		out[i] = t.Name
	}
	return out
}

// Tables returns the tables in ascending order of name, in a new slice.
func (r *RootValue) Tables() []NamedHash { return append([]NamedHash(nil), r.tables...) }

// Collection returns the map root of collection name (CollectionViews, ...).
func (r *RootValue) Collection(name string) (chunk.Hash, bool) {
	i, ok := findNamed(r.collections, name)
	if !ok {
		return chunk.Hash{}, false
	}
	return r.collections[i].Hash, true
}

// PutCollection returns a root in which collection name has map root h.
func (r *RootValue) PutCollection(name string, h chunk.Hash) (*RootValue, error) {
	if err := checkPut("collection", name, h); err != nil {
		return nil, err
	}
	c := *r
	c.collections = putNamed(r.collections, name, h)
	return &c, nil
}

// DeleteCollection returns a root without collection name, and whether r had it.
func (r *RootValue) DeleteCollection(name string) (*RootValue, bool) {
	colls, ok := deleteNamed(r.collections, name)
	if !ok {
		return r, false
	}
	c := *r
	c.collections = colls
	return &c, true
}

// Collections returns the collections in ascending order of name, in a new slice.
func (r *RootValue) Collections() []NamedHash { return append([]NamedHash(nil), r.collections...) }

// Settings returns the opaque settings bytes. The slice must not be modified.
func (r *RootValue) Settings() []byte { return r.settings }

// WithSettings returns a root whose settings are a copy of b.
func (r *RootValue) WithSettings(b []byte) *RootValue {
	c := *r
	c.settings = nil
	if len(b) > 0 {
		c.settings = append([]byte(nil), b...)
	}
	return &c
}

// Encode returns the chunk of r. Its references are the table chunks in order
// of name, then the collection roots in order of name.
func (r *RootValue) Encode() chunk.Chunk {
	e := encoder{}
	e.byte(rootVersion)
	refs := make([]chunk.Hash, 0, len(r.tables)+len(r.collections))
	refs = encodeNamed(&e, refs, r.tables)
	refs = encodeNamed(&e, refs, r.collections)
	e.bytes(r.settings)
	return chunk.New(chunk.Encode(chunk.KindRootValue, refs, e.buf))
}

// DecodeRootValue decodes chunk h holding data. Malformed data gives an error
// matching chunk.ErrCorruption that names h.
func DecodeRootValue(h chunk.Hash, data []byte) (*RootValue, error) {
	refs, d, err := open(h, data, chunk.KindRootValue, "root value", rootVersion)
	if err != nil {
		return nil, err
	}
	r := &RootValue{}
	r.tables, refs = decodeNamed(d, refs)
	r.collections, refs = decodeNamed(d, refs)
	r.settings = d.bytes()
	if d.err == nil && len(refs) != 0 {
		d.fail("%d unused references", len(refs))
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	if err := checkNamed(r.tables); err != nil {
		d.fail("tables: %v", err)
	}
	if err := checkNamed(r.collections); err != nil {
		d.fail("collections: %v", err)
	}
	if d.err != nil {
		return nil, d.err
	}
	return r, nil
}
