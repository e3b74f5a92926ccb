package schema

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/cairndb/cairn/storage/chunk"
)

// Version is the newest format version, the first byte of every encoded
// schema. docs/format.md describes the layout. Version 2 is version 1
// followed by what version 1 cannot hold (declared types, descending key
// columns); Encode writes it only for a table that has some, so other
// tables keep their version 1 bytes and older readers of those. Version 3
// is version 2 (its fields may then be empty) with disabled indexes, which
// older readers must refuse rather than use: it is written only for a table
// with a disabled index.
const Version = 3

// Column flag bits.
const (
	colNullable = 1 << iota
	colAutoIncrement
	colVirtual
	colDefault
	colGenerated
	colOnUpdate
	colFlagsKnown = colNullable | colAutoIncrement | colVirtual | colDefault | colGenerated | colOnUpdate
)

// Index flag bits.
const (
	idxUnique = 1 << iota
	idxFulltext
	idxSpatial
	idxDisabled   // version 3 only
	idxFlagsKnown = idxUnique | idxFulltext | idxSpatial
)

// Encode returns the stored form of t. The same table always gives the same
// bytes: indexes are written sorted by name, prefix lengths that are all
// zero are written as none, and types as the text typeText gives. It returns
// an error matching ErrInvalidSchema if t fails Validate.
//
// Encode does not parse the type text back (that costs microseconds a
// column): it trusts that types came through ColumnFromSQL, FromSQL or
// Decode, which do. A type put into a Column by hand that has no exact text
// would encode to bytes Decode refuses or reads as another type.
func Encode(t *Table) ([]byte, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	indexes := slices.Clone(t.Indexes)
	slices.SortFunc(indexes, func(a, b Index) int { return strings.Compare(a.Name, b.Name) })
	var e encoder
	ext := hasExtension(t, indexes)
	disabled := slices.ContainsFunc(indexes, func(x Index) bool { return x.Disabled })
	switch {
	case disabled:
		e.byte(3)
	case ext:
		e.byte(2)
	default:
		e.byte(1)
	}
	e.str(t.Name)
	e.str(t.Comment)
	e.uvarint(uint64(t.Collation))
	e.uvarint(uint64(len(t.Columns)))
	for i := range t.Columns {
		c := &t.Columns[i]
		var flags byte
		for _, f := range []struct {
			set bool
			bit byte
		}{
			{c.Nullable, colNullable}, {c.AutoIncrement, colAutoIncrement}, {c.Virtual, colVirtual},
			{c.HasDefault, colDefault}, {c.HasGenerated, colGenerated}, {c.HasOnUpdate, colOnUpdate},
		} {
			if f.set {
				flags |= f.bit
			}
		}
		e.str(c.Name)
		e.str(typeText(c.Type))
		e.byte(flags)
		e.str(c.Comment)
		e.str(c.Extra)
		if c.HasDefault {
			e.str(c.Default)
		}
		if c.HasGenerated {
			e.str(c.Generated)
		}
		if c.HasOnUpdate {
			e.str(c.OnUpdate)
		}
	}
	e.uvarint(uint64(len(t.PKOrdinals)))
	for _, o := range t.PKOrdinals {
		e.uvarint(uint64(o))
	}
	e.prefixes(t.PKPrefixLengths)

	e.uvarint(uint64(len(indexes)))
	for i := range indexes {
		x := &indexes[i]
		var flags byte
		if x.Unique {
			flags |= idxUnique
		}
		if x.Fulltext {
			flags |= idxFulltext
		}
		if x.Spatial {
			flags |= idxSpatial
		}
		if x.Disabled {
			flags |= idxDisabled
		}
		e.str(x.Name)
		e.byte(flags)
		e.str(x.Comment)
		e.strs(x.Columns)
		e.prefixes(x.PrefixLengths)
	}

	e.uvarint(uint64(len(t.Checks)))
	for _, c := range t.Checks {
		e.str(c.Name)
		e.str(c.CheckExpression)
		e.bool(c.Enforced)
	}

	e.uvarint(uint64(len(t.ForeignKeys)))
	for i := range t.ForeignKeys {
		fk := &t.ForeignKeys[i]
		e.str(fk.Name)
		e.str(fk.Database)
		e.str(fk.SchemaName)
		e.str(fk.Table)
		e.strs(fk.Columns)
		e.str(fk.ParentDatabase)
		e.str(fk.ParentSchema)
		e.str(fk.ParentTable)
		e.strs(fk.ParentColumns)
		e.str(string(fk.OnUpdate))
		e.str(string(fk.OnDelete))
		e.bool(fk.IsResolved)
	}
	if ext || disabled {
		e.extension(t, indexes)
	}
	return e.buf, nil
}

// hasExtension reports whether t has what only version 2 holds.
func hasExtension(t *Table, sortedIndexes []Index) bool {
	for i := range t.Columns {
		if t.Columns[i].Declared != "" {
			return true
		}
	}
	if slices.Contains(t.PKDescending, true) {
		return true
	}
	for i := range sortedIndexes {
		if slices.Contains(sortedIndexes[i].Descending, true) {
			return true
		}
	}
	return false
}

// extension writes version 2's fields: the declared types (position,
// text), the descending primary key columns, and the indexes with
// descending columns (position in name order, then the columns), each
// list in increasing order of position.
func (e *encoder) extension(t *Table, indexes []Index) {
	var declared []int
	for i := range t.Columns {
		if t.Columns[i].Declared != "" {
			declared = append(declared, i)
		}
	}
	e.uvarint(uint64(len(declared)))
	for _, i := range declared {
		e.uvarint(uint64(i))
		e.str(t.Columns[i].Declared)
	}
	e.positions(t.PKDescending)
	var desc []int
	for i := range indexes {
		if slices.Contains(indexes[i].Descending, true) {
			desc = append(desc, i)
		}
	}
	e.uvarint(uint64(len(desc)))
	for _, i := range desc {
		e.uvarint(uint64(i))
		e.positions(indexes[i].Descending)
	}
}

// positions writes the positions of the true flags: a count, then each.
func (e *encoder) positions(flags []bool) {
	var n int
	for _, f := range flags {
		if f {
			n++
		}
	}
	e.uvarint(uint64(n))
	for i, f := range flags {
		if f {
			e.uvarint(uint64(i))
		}
	}
}

// Decode returns the table encoded in b. The result does not alias b.
// Malformed bytes, including a table that fails Validate or a type the
// engine cannot parse, give an error matching chunk.ErrCorruption; a format
// version newer than Version gives one matching ErrUnknownVersion.
//
// Decode parses each column type with the engine's parser, which costs some
// microseconds a column: callers that read a schema often keep the decoded
// Table, keyed by the hash of its bytes.
func Decode(b []byte) (*Table, error) {
	d := decoder{buf: b}
	v := d.byte()
	switch {
	case d.err != nil:
		return nil, d.err
	case v > Version:
		return nil, fmt.Errorf("schema: decode: format version %d, this build reads up to %d: %w", v, Version, ErrUnknownVersion)
	case v == 0:
		return nil, corrupt("unknown format version %d", v)
	}
	knownIdxFlags := byte(idxFlagsKnown)
	if v >= 3 {
		knownIdxFlags |= idxDisabled
	}
	t := &Table{}
	t.Name = d.str()
	t.Comment = d.str()
	coll := d.uvarint()
	if coll > math.MaxUint16 {
		d.fail("collation %d out of range", coll)
	}
	t.Collation = sql.CollationID(coll)

	if n := d.count(5); n > 0 {
		t.Columns = make([]Column, n)
	}
	for i := range t.Columns {
		c := &t.Columns[i]
		c.Name = d.str()
		typ := d.str()
		flags := d.byte()
		c.Comment = d.str()
		c.Extra = d.str()
		if d.err != nil {
			break
		}
		if flags&^colFlagsKnown != 0 {
			d.fail("column %q: unknown flags %#x", c.Name, flags)
			break
		}
		c.Nullable = flags&colNullable != 0
		c.AutoIncrement = flags&colAutoIncrement != 0
		c.Virtual = flags&colVirtual != 0
		c.HasDefault = flags&colDefault != 0
		c.HasGenerated = flags&colGenerated != 0
		c.HasOnUpdate = flags&colOnUpdate != 0
		if c.HasDefault {
			c.Default = d.str()
		}
		if c.HasGenerated {
			c.Generated = d.str()
		}
		if c.HasOnUpdate {
			c.OnUpdate = d.str()
		}
		if d.err != nil {
			break
		}
		var err error
		if c.Type, err = parseType(typ); err != nil {
			d.fail("column %q: type %q: %v", c.Name, typ, err)
		}
	}

	if n := d.count(1); n > 0 {
		t.PKOrdinals = make([]int, n)
	}
	for i := range t.PKOrdinals {
		o := d.uvarint()
		if o >= uint64(len(t.Columns)) && d.err == nil {
			d.fail("primary key ordinal %d out of range", o)
		}
		t.PKOrdinals[i] = int(o)
	}
	t.PKPrefixLengths = d.prefixes(len(t.PKOrdinals))

	if n := d.count(5); n > 0 {
		t.Indexes = make([]Index, n)
	}
	for i := range t.Indexes {
		x := &t.Indexes[i]
		x.Name = d.str()
		flags := d.byte()
		x.Comment = d.str()
		x.Columns = d.strs()
		x.PrefixLengths = d.prefixes(len(x.Columns))
		if d.err != nil {
			break
		}
		if flags&^knownIdxFlags != 0 {
			d.fail("index %q: unknown flags %#x", x.Name, flags)
		}
		x.Unique = flags&idxUnique != 0
		x.Fulltext = flags&idxFulltext != 0
		x.Spatial = flags&idxSpatial != 0
		x.Disabled = flags&idxDisabled != 0
		if i > 0 && t.Indexes[i-1].Name >= x.Name {
			d.fail("index %q after %q: not in increasing order", x.Name, t.Indexes[i-1].Name)
		}
	}

	if n := d.count(3); n > 0 {
		t.Checks = make([]sql.CheckDefinition, n)
	}
	for i := range t.Checks {
		t.Checks[i] = sql.CheckDefinition{Name: d.str(), CheckExpression: d.str(), Enforced: d.bool()}
	}

	if n := d.count(12); n > 0 {
		t.ForeignKeys = make([]sql.ForeignKeyConstraint, n)
	}
	for i := range t.ForeignKeys {
		fk := &t.ForeignKeys[i]
		fk.Name = d.str()
		fk.Database = d.str()
		fk.SchemaName = d.str()
		fk.Table = d.str()
		fk.Columns = d.strs()
		fk.ParentDatabase = d.str()
		fk.ParentSchema = d.str()
		fk.ParentTable = d.str()
		fk.ParentColumns = d.strs()
		fk.OnUpdate = sql.ForeignKeyReferentialAction(d.str())
		fk.OnDelete = sql.ForeignKeyReferentialAction(d.str())
		fk.IsResolved = d.bool()
	}
	if v >= 2 {
		d.extension(t, v == 2)
	}
	if d.err == nil && v == 3 && !slices.ContainsFunc(t.Indexes, func(x Index) bool { return x.Disabled }) {
		d.fail("version 3 without a disabled index")
	}

	if d.err == nil && len(d.buf) > 0 {
		d.fail("%d bytes left over", len(d.buf))
	}
	if d.err != nil {
		return nil, d.err
	}
	if err := t.Validate(); err != nil {
		return nil, corrupt("%v", err)
	}
	return t, nil
}

// extension reads version 2's fields (see encoder.extension), which must
// not be empty in version 2 (needed): a table without them is written as
// version 1.
func (d *decoder) extension(t *Table, needed bool) {
	n := d.count(2)
	last := -1
	for range n {
		i := d.uvarint()
		text := d.str()
		if d.err != nil {
			return
		}
		if int64(i) <= int64(last) || i >= uint64(len(t.Columns)) {
			d.fail("declared type of column %d: position out of order or range", i)
			return
		}
		if text == "" {
			d.fail("empty declared type of column %d", i)
			return
		}
		t.Columns[i].Declared = text
		last = int(i)
	}
	t.PKDescending = d.positions(len(t.PKOrdinals))
	m := d.count(2)
	last = -1
	for range m {
		i := d.uvarint()
		if d.err != nil {
			return
		}
		if int64(i) <= int64(last) || i >= uint64(len(t.Indexes)) {
			d.fail("descending index %d: position out of order or range", i)
			return
		}
		t.Indexes[i].Descending = d.positions(len(t.Indexes[i].Columns))
		if t.Indexes[i].Descending == nil {
			d.fail("descending index %q without descending columns", t.Indexes[i].Name)
		}
		last = int(i)
	}
	if d.err == nil && needed && n == 0 && t.PKDescending == nil && m == 0 {
		d.fail("version 2 without version 2 fields")
	}
}

// positions reads the true flags among n (see encoder.positions): nil when
// none is.
func (d *decoder) positions(n int) []bool {
	k := d.count(1)
	if k == 0 || d.err != nil {
		return nil
	}
	out := make([]bool, n)
	last := -1
	for range k {
		i := d.uvarint()
		if d.err != nil {
			return nil
		}
		if int64(i) <= int64(last) || i >= uint64(n) {
			d.fail("flag position %d out of order or range", i)
			return nil
		}
		out[i] = true
		last = int(i)
	}
	return out
}

func corrupt(format string, args ...any) error {
	return &chunk.CorruptionError{Detail: "table schema: " + fmt.Sprintf(format, args...)}
}

// encoder appends the fields of an encoded schema.
type encoder struct{ buf []byte }

func (e *encoder) byte(b byte)      { e.buf = append(e.buf, b) }
func (e *encoder) uvarint(v uint64) { e.buf = binary.AppendUvarint(e.buf, v) }
func (e *encoder) str(s string)     { e.uvarint(uint64(len(s))); e.buf = append(e.buf, s...) }

func (e *encoder) bool(b bool) {
	if b {
		e.byte(1)
	} else {
		e.byte(0)
	}
}

func (e *encoder) strs(ss []string) {
	e.uvarint(uint64(len(ss)))
	for _, s := range ss {
		e.str(s)
	}
}

// prefixes writes prefix lengths, or a count of 0 when there are none or all
// are 0, so that "no prefix" has one encoding.
func (e *encoder) prefixes(p []uint16) {
	if !slices.ContainsFunc(p, func(l uint16) bool { return l != 0 }) {
		e.uvarint(0)
		return
	}
	e.uvarint(uint64(len(p)))
	for _, l := range p {
		e.uvarint(uint64(l))
	}
}

// decoder reads the fields of an encoded schema. The first malformed field
// sets err and every later read returns a zero value, so Decode reads on and
// checks err where a value decides what comes next.
type decoder struct {
	buf []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = corrupt(format, args...)
	}
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.buf) == 0 {
		d.fail("truncated")
		return 0
	}
	b := d.buf[0]
	d.buf = d.buf[1:]
	return b
}

func (d *decoder) bool() bool {
	switch b := d.byte(); b {
	case 0:
		return false
	case 1:
		return true
	default:
		d.fail("boolean byte %d", b)
		return false
	}
}

// uvarint reads a varint in its shortest form, the only one Encode writes.
func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	if n != len(binary.AppendUvarint(nil, v)) {
		d.fail("varint not in shortest form")
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) str() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.buf)) {
		d.fail("truncated: string of %d bytes, %d left", n, len(d.buf))
		return ""
	}
	s := string(d.buf[:n])
	d.buf = d.buf[n:]
	return s
}

// count reads an element count, refusing one that cannot fit in what is
// left when each element takes at least minSize bytes, so corrupt input
// cannot make Decode allocate without limit.
func (d *decoder) count(minSize int) int {
	n := d.uvarint()
	if d.err != nil {
		return 0
	}
	if n > uint64(len(d.buf)/minSize) {
		d.fail("count %d does not fit in %d bytes", n, len(d.buf))
		return 0
	}
	return int(n)
}

// strs reads a list of strings; nil when empty.
func (d *decoder) strs() []string {
	n := d.count(1)
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.str()
	}
	return out
}

// prefixes reads the prefix lengths of n key columns: none, or n of them
// not all 0.
func (d *decoder) prefixes(n int) []uint16 {
	m := d.count(1)
	if m == 0 || d.err != nil {
		return nil
	}
	if m != n {
		d.fail("%d prefix lengths for %d columns", m, n)
		return nil
	}
	out := make([]uint16, m)
	nonzero := false
	for i := range out {
		l := d.uvarint()
		if l > math.MaxUint16 {
			d.fail("prefix length %d out of range", l)
		}
		out[i] = uint16(l)
		nonzero = nonzero || l != 0
	}
	if !nonzero {
		d.fail("prefix lengths all 0")
	}
	return out
}
