package codec

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// RowFormat is the first byte of every encoded row. A reader refuses rows
// whose format it does not know; a new layout gets a new number.
const RowFormat = 1

// RowCodec encodes whole rows losslessly: decoding gives back the canonical
// Go value of each column type (its ValueType), nil for NULL. A RowCodec is
// immutable and safe for concurrent use.
type RowCodec struct {
	cols      []column
	nullBytes int
	// arena: Decode copies all strings and byte slices of a row into one
	// allocation, sized by the bytes left in the row; not for rows with JSON
	// or spatial columns, whose bytes are not copied.
	arena bool
}

// NewRowCodec returns a codec for rows of the given column types. Columns of
// types it does not know make Encode fail with ErrUnsupportedType.
func NewRowCodec(ts []sql.Type) *RowCodec {
	r := &RowCodec{cols: make([]column, len(ts)), nullBytes: (len(ts) + 7) / 8, arena: true}
	for i, t := range ts {
		r.cols[i] = classify(t)
		if k := r.cols[i].kind; k == kindJSON || k == kindGeometry {
			r.arena = false
		}
	}
	return r
}

// Columns returns the number of columns of a row.
func (r *RowCodec) Columns() int { return len(r.cols) }

// Encode appends the encoding of row to dst and returns the extended slice.
// len(row) must be the number of columns. Values should be the canonical Go
// values of the column types; others are converted with the type's Convert,
// and a value it reports out of range is an error (ErrBadValue).
func (r *RowCodec) Encode(dst []byte, row []any) ([]byte, error) {
	if len(row) != len(r.cols) {
		return nil, fmt.Errorf("codec: encode row of %d values with %d columns", len(row), len(r.cols))
	}
	dst = append(dst, RowFormat)
	dst = binary.AppendUvarint(dst, uint64(len(r.cols)))
	bitmap := len(dst)
	for range r.nullBytes {
		dst = append(dst, 0)
	}
	for i, v := range row {
		if v == nil {
			dst[bitmap+i/8] |= 1 << (i % 8)
			continue
		}
		var err error
		dst, err = r.cols[i].appendValue(dst, v)
		if err != nil {
			return nil, fmt.Errorf("codec: row column %d: %w", i, err)
		}
	}
	return dst, nil
}

// appendValue appends the row encoding of the non-NULL value v.
func (c *column) appendValue(dst []byte, v any) ([]byte, error) {
	switch c.kind {
	case kindInt8, kindInt16, kindInt32, kindInt64:
		i, err := c.signed(v, true)
		if err != nil {
			return nil, err
		}
		return binary.AppendVarint(dst, i), nil
	case kindUint8, kindUint16, kindUint32, kindUint64, kindBit, kindSet:
		u, err := c.unsigned(v, true)
		if err != nil {
			return nil, err
		}
		return binary.AppendUvarint(dst, u), nil
	case kindFloat32:
		if f, ok := v.(float32); ok { // not through float64, which would change NaNs
			return binary.LittleEndian.AppendUint32(dst, math.Float32bits(f)), nil
		}
		f, err := c.float(v, true)
		if err != nil {
			return nil, err
		}
		return binary.LittleEndian.AppendUint32(dst, math.Float32bits(float32(f))), nil
	case kindFloat64:
		f, err := c.float(v, true)
		if err != nil {
			return nil, err
		}
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f)), nil
	case kindDecimal:
		d, err := c.decimal(v, true)
		if err != nil {
			return nil, err
		}
		return appendDecimal(dst, d), nil
	case kindDate, kindDatetime, kindTimestamp:
		t, err := c.time(v, true)
		if err != nil {
			return nil, err
		}
		return binary.AppendVarint(dst, t.UnixMicro()), nil
	case kindTime:
		t, err := c.timespan(v, true)
		if err != nil {
			return nil, err
		}
		return binary.AppendVarint(dst, int64(t)), nil
	case kindYear:
		y, err := c.year(v, true)
		if err != nil {
			return nil, err
		}
		return binary.AppendVarint(dst, int64(y)), nil
	case kindEnum:
		e, err := c.enum(v, true)
		if err != nil {
			return nil, err
		}
		return binary.AppendUvarint(dst, uint64(e)), nil
	case kindString:
		s, err := c.str(v, true)
		if err != nil {
			return nil, err
		}
		return append(binary.AppendUvarint(dst, uint64(len(s))), s...), nil
	case kindBytes:
		b, err := c.bytes(v, true)
		if err != nil {
			return nil, err
		}
		return append(binary.AppendUvarint(dst, uint64(len(b))), b...), nil
	case kindJSON:
		j, err := c.json(v)
		if err != nil {
			return nil, err
		}
		start := len(dst)
		dst, err = appendJSONDoc(dst, j)
		if err != nil {
			return nil, err
		}
		return insertLength(dst, start), nil
	case kindGeometry:
		g, err := c.geometry(v)
		if err != nil {
			return nil, err
		}
		start := len(dst)
		dst, err = appendGeometry(dst, g)
		if err != nil {
			return nil, err
		}
		return insertLength(dst, start), nil
	}
	return nil, fmt.Errorf("%w: %v", ErrUnsupportedType, c.typ)
}

// insertLength inserts the uvarint length of dst[start:] before it.
func insertLength(dst []byte, start int) []byte {
	n := len(dst) - start
	var buf [binary.MaxVarintLen64]byte
	l := binary.PutUvarint(buf[:], uint64(n))
	dst = append(dst, buf[:l]...)
	copy(dst[start+l:], dst[start:start+n])
	copy(dst[start:], buf[:l])
	return dst
}

// header checks the row header and returns the null bitmap and the offset
// of the first value.
func (r *RowCodec) header(src []byte) (bitmap []byte, pos int, err error) {
	if len(src) == 0 {
		return nil, 0, fmt.Errorf("%w: empty row", chunk.ErrCorruption)
	}
	if src[0] != RowFormat {
		return nil, 0, fmt.Errorf("%w: unknown row format %d", chunk.ErrCorruption, src[0])
	}
	n, l := uvarint(src[1:])
	if l <= 0 || n != uint64(len(r.cols)) {
		return nil, 0, fmt.Errorf("%w: row of %d columns, want %d", chunk.ErrCorruption, n, len(r.cols))
	}
	pos = 1 + l
	if len(src)-pos < r.nullBytes {
		return nil, 0, fmt.Errorf("%w: row ends in its null bitmap", chunk.ErrCorruption)
	}
	bitmap = src[pos : pos+r.nullBytes]
	if rem := len(r.cols) % 8; rem != 0 && bitmap[len(bitmap)-1]>>rem != 0 {
		return nil, 0, fmt.Errorf("%w: row null bitmap has bits past its columns", chunk.ErrCorruption)
	}
	return bitmap, pos + r.nullBytes, nil
}

// Decode decodes the row src into row, whose length must be the number of
// columns. Strings and byte slices are copied: row does not share memory
// with src. A malformed row gives an error matching chunk.ErrCorruption,
// with row partly filled.
func (r *RowCodec) Decode(src []byte, row []any) error {
	return r.decode(src, row, nil)
}

// arenaChunk is the size of the buffers an Arena carves values from, and
// stringSlab the number of string headers in each of its slabs.
const (
	arenaChunk = 32 << 10
	stringSlab = 256
)

// Arena is what DecodeArena and DecodeColumnsArena carve many rows' values
// from: buffers for the bytes of strings and byte slices, and slabs of
// string headers for the strings to point at (a string put in an any
// otherwise gets a header allocated of its own). Values never share bytes,
// and buffers and slabs are only ever appended to, so every value stays
// valid; a value kept alive keeps its buffer, and a string its slab, alive.
// The zero Arena is ready for use.
type Arena struct {
	buf  []byte
	strs []string
	// boxed: strings get headers of their own (a single row's decode,
	// for which a slab would cost more than it saves).
	boxed bool
}

// Reserve makes the arena's next buffer hold at least bytes bytes and its
// next slab strings headers, if it has no room left: the first row of a
// scan reserves its own size, since a point read decodes one row.
func (a *Arena) Reserve(bytes, strings int) {
	if cap(a.buf) == len(a.buf) {
		a.buf = make([]byte, 0, bytes)
	}
	if len(a.strs) == 0 && strings > 0 {
		a.strs = make([]string, strings)
	}
}

// DecodeArena is Decode for callers that decode many rows: the row's
// strings and byte slices are carved from arena.
func (r *RowCodec) DecodeArena(src []byte, row []any, arena *Arena) error {
	return r.decode(src, row, arena)
}

// decode decodes src into row, carving from arena, or with a nil arena from
// one buffer of the row's own.
func (r *RowCodec) decode(src []byte, row []any, arena *Arena) error {
	if len(row) != len(r.cols) {
		return fmt.Errorf("codec: decode row of %d columns into %d values", len(r.cols), len(row))
	}
	bitmap, pos, err := r.header(src)
	if err != nil {
		return err
	}
	for i := range r.cols {
		if bitmap[i/8]&(1<<(i%8)) != 0 {
			row[i] = nil
			continue
		}
		if k := r.cols[i].kind; r.arena && (k == kindString || k == kindBytes) {
			if arena == nil {
				// One buffer for the row's strings: the rest of the row
				// holds them all, so carve never replaces it.
				arena = &Arena{buf: make([]byte, 0, len(src)-pos), boxed: true}
			}
			v, e, err := r.carveValue(i, src[pos:], arena)
			if err != nil {
				return fmt.Errorf("row column %d: %w", i, err)
			}
			row[i] = v
			pos += e
			continue
		}
		v, n, err := r.cols[i].readValue(src[pos:])
		if err != nil {
			return fmt.Errorf("row column %d: %w", i, err)
		}
		row[i] = v
		pos += n
	}
	if pos != len(src) {
		return fmt.Errorf("%w: %d bytes after the row's last column", chunk.ErrCorruption, len(src)-pos)
	}
	return nil
}

// carveValue reads string or bytes column i from the start of b, copying its
// bytes into a (into a new buffer of at least arenaChunk bytes when the
// current one is full). It returns the value and the bytes it took from b.
func (r *RowCodec) carveValue(i int, b []byte, a *Arena) (any, int, error) {
	k := r.cols[i].kind
	s, e, err := readLength(b, k)
	if err != nil {
		return nil, 0, err
	}
	if cap(a.buf)-len(a.buf) < e-s {
		a.buf = make([]byte, 0, max(arenaChunk, e-s))
	}
	start := len(a.buf)
	a.buf = append(a.buf, b[s:e]...)
	piece := a.buf[start:len(a.buf):len(a.buf)]
	if k != kindString {
		return piece, e, nil
	}
	if a.boxed {
		return unsafeString(piece), e, nil
	}
	if len(a.strs) == 0 {
		a.strs = make([]string, stringSlab)
	}
	h := &a.strs[0]
	a.strs = a.strs[1:]
	*h = unsafeString(piece)
	return stringAt(h), e, nil
}

// DecodeColumns decodes only the columns cols of the row src: out[i] gets
// column cols[i]. Other columns are skipped without being decoded. Columns
// after the last one asked for are not checked.
func (r *RowCodec) DecodeColumns(src []byte, cols []int, out []any) error {
	return r.decodeColumns(src, cols, out, nil)
}

// DecodeColumnsArena is DecodeColumns carving strings and byte slices from
// arena, as DecodeArena does.
func (r *RowCodec) DecodeColumnsArena(src []byte, cols []int, out []any, arena *Arena) error {
	if !r.arena {
		arena = nil
	}
	return r.decodeColumns(src, cols, out, arena)
}

// decodeColumns decodes columns cols of src into out, carving strings and
// byte slices from arena unless it is nil.
func (r *RowCodec) decodeColumns(src []byte, cols []int, out []any, arena *Arena) error {
	if len(out) != len(cols) {
		return fmt.Errorf("codec: decode %d columns into %d values", len(cols), len(out))
	}
	last, sorted := -1, true
	for i, c := range cols {
		if c < 0 || c >= len(r.cols) {
			return fmt.Errorf("codec: decode column %d of a row of %d", c, len(r.cols))
		}
		if i > 0 && c < cols[i-1] {
			sorted = false
		}
		last = max(last, c)
	}
	bitmap, pos, err := r.header(src)
	if err != nil {
		return err
	}
	// read decodes column j, at pos, into out[i].
	read := func(i, j int) error {
		var err error
		if bitmap[j/8]&(1<<(j%8)) != 0 {
			out[i] = nil
		} else if k := r.cols[j].kind; arena != nil && (k == kindString || k == kindBytes) {
			out[i], _, err = r.carveValue(j, src[pos:], arena)
		} else {
			out[i], _, err = r.cols[j].readValue(src[pos:])
		}
		if err != nil {
			return fmt.Errorf("row column %d: %w", j, err)
		}
		return nil
	}
	next := 0 // with sorted cols: the first index of cols not yet filled
	for j := 0; j <= last; j++ {
		if sorted {
			for ; next < len(cols) && cols[next] == j; next++ {
				if err := read(next, j); err != nil {
					return err
				}
			}
		} else {
			for i, c := range cols {
				if c == j {
					if err := read(i, j); err != nil {
						return err
					}
				}
			}
		}
		if bitmap[j/8]&(1<<(j%8)) != 0 || j == last {
			continue
		}
		n, err := r.cols[j].valueLen(src[pos:])
		if err != nil {
			return fmt.Errorf("row column %d: %w", j, err)
		}
		pos += n
	}
	return nil
}

func corruptValue(k kind) error {
	return fmt.Errorf("%w: bad %s value", chunk.ErrCorruption, k)
}

// readVarint reads a varint that must lie in [lo, hi].
func readVarint(b []byte, k kind, lo, hi int64) (int64, int, error) {
	v, n := varint(b)
	if n <= 0 || v < lo || v > hi {
		return 0, 0, corruptValue(k)
	}
	return v, n, nil
}

// readUvarint reads a uvarint that must be at most hi.
func readUvarint(b []byte, k kind, hi uint64) (uint64, int, error) {
	v, n := uvarint(b)
	if n <= 0 || v > hi {
		return 0, 0, corruptValue(k)
	}
	return v, n, nil
}

// readLength reads a uvarint length and checks that that many bytes follow.
func readLength(b []byte, k kind) (start, end int, err error) {
	l, n := uvarint(b)
	if n <= 0 || l > uint64(len(b)-n) {
		return 0, 0, corruptValue(k)
	}
	return n, n + int(l), nil
}

// readValue decodes the row encoding of one non-NULL value of c at the
// start of b and returns it and its length.
func (c *column) readValue(b []byte) (any, int, error) {
	switch c.kind {
	case kindInt8:
		v, n, err := readVarint(b, c.kind, math.MinInt8, math.MaxInt8)
		return int8(v), n, err
	case kindInt16:
		v, n, err := readVarint(b, c.kind, math.MinInt16, math.MaxInt16)
		return int16(v), n, err
	case kindInt32:
		v, n, err := readVarint(b, c.kind, math.MinInt32, math.MaxInt32)
		return int32(v), n, err
	case kindInt64:
		v, n, err := readVarint(b, c.kind, math.MinInt64, math.MaxInt64)
		return v, n, err
	case kindUint8:
		v, n, err := readUvarint(b, c.kind, math.MaxUint8)
		return uint8(v), n, err
	case kindUint16:
		v, n, err := readUvarint(b, c.kind, math.MaxUint16)
		return uint16(v), n, err
	case kindUint32:
		v, n, err := readUvarint(b, c.kind, math.MaxUint32)
		return uint32(v), n, err
	case kindUint64, kindBit, kindSet:
		v, n, err := readUvarint(b, c.kind, c.max)
		return v, n, err
	case kindEnum:
		v, n, err := readUvarint(b, c.kind, c.max)
		return uint16(v), n, err
	case kindYear:
		v, n, err := readVarint(b, c.kind, math.MinInt16, math.MaxInt16)
		return int16(v), n, err
	case kindTime:
		v, n, err := readVarint(b, c.kind, math.MinInt64, math.MaxInt64)
		return types.Timespan(v), n, err
	case kindDate, kindDatetime, kindTimestamp:
		v, n, err := readVarint(b, c.kind, math.MinInt64, math.MaxInt64)
		if err != nil {
			return nil, 0, err
		}
		return time.UnixMicro(v).UTC(), n, nil
	case kindFloat32:
		if len(b) < 4 {
			return nil, 0, corruptValue(c.kind)
		}
		return math.Float32frombits(binary.LittleEndian.Uint32(b)), 4, nil
	case kindFloat64:
		if len(b) < 8 {
			return nil, 0, corruptValue(c.kind)
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(b)), 8, nil
	case kindDecimal:
		d, n, err := readDecimal(b)
		if err != nil {
			return nil, 0, err
		}
		return d, n, nil
	case kindString:
		s, e, err := readLength(b, c.kind)
		if err != nil {
			return nil, 0, err
		}
		return string(b[s:e]), e, nil
	case kindBytes:
		s, e, err := readLength(b, c.kind)
		if err != nil {
			return nil, 0, err
		}
		return append(make([]byte, 0, e-s), b[s:e]...), e, nil
	case kindJSON:
		s, e, err := readLength(b, c.kind)
		if err != nil {
			return nil, 0, err
		}
		doc, err := readJSONDoc(b[s:e])
		if err != nil {
			return nil, 0, err
		}
		return doc, e, nil
	case kindGeometry:
		s, e, err := readLength(b, c.kind)
		if err != nil {
			return nil, 0, err
		}
		g, err := readGeometry(b[s:e])
		if err != nil {
			return nil, 0, err
		}
		return g, e, nil
	}
	return nil, 0, fmt.Errorf("%w: %v", ErrUnsupportedType, c.typ)
}

// valueLen returns the length of the row encoding of one non-NULL value of
// c at the start of b, without decoding it.
func (c *column) valueLen(b []byte) (int, error) {
	switch c.kind {
	case kindFloat32:
		if len(b) < 4 {
			return 0, corruptValue(c.kind)
		}
		return 4, nil
	case kindFloat64:
		if len(b) < 8 {
			return 0, corruptValue(c.kind)
		}
		return 8, nil
	case kindDecimal:
		_, n := varint(b)
		if n <= 0 {
			return 0, corruptValue(c.kind)
		}
		h, m := uvarint(b[n:])
		if m <= 0 || h>>1 > uint64(len(b)-n-m) {
			return 0, corruptValue(c.kind)
		}
		return n + m + int(h>>1), nil
	case kindString, kindBytes, kindJSON, kindGeometry:
		_, e, err := readLength(b, c.kind)
		return e, err
	case kindUnsupported:
		return 0, fmt.Errorf("%w: %v", ErrUnsupportedType, c.typ)
	}
	// Every other kind is one varint.
	for i := 0; i < len(b) && i < binary.MaxVarintLen64; i++ {
		if b[i] < 0x80 {
			return i + 1, nil
		}
	}
	return 0, corruptValue(c.kind)
}
