package codec

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/dolthub/go-mysql-server/sql"
)

// Key column markers: the first byte of every column in a key.
const (
	keyNull  = 0x00 // the column is NULL; nothing follows
	keyValue = 0x01 // the column's encoding follows
)

// Weight codes of character strings (see doc.go). A code's first byte says
// its length; codes of larger weights start with larger bytes.
const (
	weightEnd      = 0x00 // terminator: below every weight
	weightNegative = 0x01 // + 4 bytes: a negative weight (no GMS collation has one)
	weight1        = 0x02 // 0x02..0x81: weights 0..127
	weight2        = 0x82 // 0x82..0xDF + 1 byte: weights 128..24191
	weight3        = 0xE0 // 0xE0..0xFE + 2 bytes: weights 24192..2055807
	weight5        = 0xFF // + 4 bytes: larger weights

	weight2Base = 128
	weight3Base = weight2Base + (weight3-weight2)<<8
	weight5Base = weight3Base + (weight5-weight3)<<16
)

// Binary string escapes: 0x00 in the value is written 0x00 0xFF, and the
// value ends with 0x00 0x01.
const (
	bytesEscape    = 0x00
	bytesEscaped00 = 0xFF
	bytesEnd       = 0x01
)

// KeyCodec encodes tuples of index or primary-key column values into byte
// strings whose bytewise order is the SQL order of the tuples: column by
// column, NULL lowest, each column compared like its sql.Type's Compare
// (strings by their collation's weights). Values equal under their types
// (including 'a' and 'A' under a case-insensitive collation) give equal
// bytes. Each column's encoding is self-delimiting, so the key of the first
// n columns of a tuple is a byte prefix of the key of the whole tuple.
//
// Keys are lossy (a collation's weights do not give back the string), so the
// row itself must be stored elsewhere. A KeyCodec is immutable and safe for
// concurrent use.
type KeyCodec struct {
	cols   []column
	prefix []int // characters (strings) or bytes (binary) kept; 0 keeps all
}

// NewKeyCodec returns a codec for keys of the given column types.
// prefixLengths is nil or has one entry per column: 0 keeps the whole value,
// n keeps the first n characters of a character string or the first n bytes
// of a binary string, as a MySQL index prefix (KEY(c(10))) does. It refuses
// types that cannot be key columns (JSON, spatial; ErrNotKeyable), types it
// does not know (ErrUnsupportedType), and prefixes on other types.
func NewKeyCodec(ts []sql.Type, prefixLengths []uint16) (*KeyCodec, error) {
	if prefixLengths != nil && len(prefixLengths) != len(ts) {
		return nil, fmt.Errorf("codec: %d prefix lengths for %d key columns", len(prefixLengths), len(ts))
	}
	k := &KeyCodec{cols: make([]column, len(ts)), prefix: make([]int, len(ts))}
	for i, t := range ts {
		c := classify(t)
		switch c.kind {
		case kindUnsupported:
			return nil, fmt.Errorf("codec: key column %d (%v): %w", i, t, ErrUnsupportedType)
		case kindJSON, kindGeometry:
			return nil, fmt.Errorf("codec: key column %d (%v): %w", i, t, ErrNotKeyable)
		}
		if c.kind == kindString {
			c.low = new([256]int32)
			for r := range c.low {
				c.low[r] = c.sorter(rune(r))
			}
		}
		if prefixLengths != nil && prefixLengths[i] != 0 {
			if c.kind != kindString && c.kind != kindBytes {
				return nil, fmt.Errorf("codec: key column %d (%v): prefix length on a type that is not a string", i, t)
			}
			k.prefix[i] = int(prefixLengths[i])
		}
		k.cols[i] = c
	}
	return k, nil
}

// Columns returns the number of columns of a full key.
func (k *KeyCodec) Columns() int { return len(k.cols) }

// HasNull reports whether any of vals is NULL. Unique indexes do not
// constrain tuples with a NULL.
func (k *KeyCodec) HasNull(vals []any) bool {
	for _, v := range vals {
		if v == nil {
			return true
		}
	}
	return false
}

// Encode appends the key of vals to dst and returns the extended slice.
// vals may be shorter than the key (a prefix key for range scans): the first
// len(vals) columns are encoded. Values should be the canonical Go values of
// the column types; others are converted with the type's Convert, and values
// Convert reports out of range are clamped as it does.
func (k *KeyCodec) Encode(dst []byte, vals []any) ([]byte, error) {
	if len(vals) > len(k.cols) {
		return nil, fmt.Errorf("codec: %d values for a key of %d columns", len(vals), len(k.cols))
	}
	for i, v := range vals {
		if v == nil {
			dst = append(dst, keyNull)
			continue
		}
		var err error
		dst, err = k.cols[i].appendKey(append(dst, keyValue), v, k.prefix[i])
		if err != nil {
			return nil, fmt.Errorf("codec: key column %d: %w", i, err)
		}
	}
	return dst, nil
}

// appendKey appends the encoding of the non-NULL value v.
func (c *column) appendKey(dst []byte, v any, prefix int) ([]byte, error) {
	switch c.kind {
	case kindInt8, kindInt16, kindInt32, kindInt64:
		i, err := c.signed(v, false)
		if err != nil {
			return nil, err
		}
		switch c.kind {
		case kindInt8:
			return append(dst, uint8(i)^1<<7), nil
		case kindInt16:
			return binary.BigEndian.AppendUint16(dst, uint16(i)^1<<15), nil
		case kindInt32:
			return binary.BigEndian.AppendUint32(dst, uint32(i)^1<<31), nil
		}
		return binary.BigEndian.AppendUint64(dst, uint64(i)^1<<63), nil
	case kindUint8, kindUint16, kindUint32, kindUint64, kindBit, kindSet:
		u, err := c.unsigned(v, false)
		if err != nil {
			return nil, err
		}
		switch c.kind {
		case kindUint8:
			return append(dst, uint8(u)), nil
		case kindUint16:
			return binary.BigEndian.AppendUint16(dst, uint16(u)), nil
		case kindUint32:
			return binary.BigEndian.AppendUint32(dst, uint32(u)), nil
		}
		return binary.BigEndian.AppendUint64(dst, u), nil
	case kindFloat32:
		f, err := c.float(v, false)
		if err != nil {
			return nil, err
		}
		bits := math.Float32bits(float32(f))
		if f == 0 {
			bits = 0 // -0 == 0
		}
		if bits>>31 != 0 {
			bits = ^bits
		} else {
			bits |= 1 << 31
		}
		return binary.BigEndian.AppendUint32(dst, bits), nil
	case kindFloat64:
		f, err := c.float(v, false)
		if err != nil {
			return nil, err
		}
		bits := math.Float64bits(f)
		if f == 0 {
			bits = 0
		}
		if bits>>63 != 0 {
			bits = ^bits
		} else {
			bits |= 1 << 63
		}
		return binary.BigEndian.AppendUint64(dst, bits), nil
	case kindDecimal:
		d, err := c.decimal(v, false)
		if err != nil {
			return nil, err
		}
		if c.roundScale {
			d = d.Round(c.scale)
		}
		return appendDecimalKey(dst, d)
	case kindDate, kindDatetime, kindTimestamp:
		t, err := c.time(v, false)
		if err != nil {
			return nil, err
		}
		if c.kind == kindDate {
			t = t.Truncate(24 * time.Hour) // as datetimeType.Compare does
		}
		return binary.BigEndian.AppendUint64(dst, uint64(t.UnixMicro())^1<<63), nil
	case kindTime:
		t, err := c.timespan(v, false)
		if err != nil {
			return nil, err
		}
		return binary.BigEndian.AppendUint64(dst, uint64(t)^1<<63), nil
	case kindYear:
		y, err := c.year(v, false)
		if err != nil {
			return nil, err
		}
		return binary.BigEndian.AppendUint16(dst, uint16(y)^1<<15), nil
	case kindEnum:
		e, err := c.enum(v, false)
		if err != nil {
			return nil, err
		}
		return binary.BigEndian.AppendUint16(dst, e), nil
	case kindString:
		s, err := c.str(v, false)
		if err != nil {
			return nil, err
		}
		if prefix > 0 {
			s = prefixRunes(s, prefix)
		}
		return c.appendWeights(dst, s), nil
	case kindBytes:
		b, err := c.bytes(v, false)
		if err != nil {
			return nil, err
		}
		if prefix > 0 && len(b) > prefix {
			b = b[:prefix]
		}
		return appendEscaped(dst, b), nil
	}
	return nil, fmt.Errorf("%w: %s", ErrUnsupportedType, c.kind)
}

// prefixRunes returns the first n characters of s, decoding it as
// StringType.Compare does (an invalid byte is one character).
func prefixRunes(s string, n int) string {
	i := 0
	for ; n > 0 && i < len(s); n-- {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i]
}

// appendWeights appends the weight codes of s's characters and the
// terminator. Like StringType.Compare, it decodes s as UTF-8 (an invalid
// byte is U+FFFD) and compares the weight sequences, a proper prefix first.
func (c *column) appendWeights(dst []byte, s string) []byte {
	dst = slices.Grow(dst, 2*len(s)+1)
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			dst = appendWeight(dst, c.low[b])
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r < 256 {
			dst = appendWeight(dst, c.low[r])
		} else {
			dst = appendWeight(dst, c.sorter(r))
		}
		i += size
	}
	return append(dst, weightEnd)
}

// appendWeight appends the order-preserving, prefix-free code of one weight.
func appendWeight(dst []byte, w int32) []byte {
	switch {
	case w < 0:
		return append(dst, weightNegative, byte(uint32(w)>>24), byte(uint32(w)>>16), byte(uint32(w)>>8), byte(w))
	case w < weight2Base:
		return append(dst, weight1+byte(w))
	case w < weight3Base:
		v := w - weight2Base
		return append(dst, weight2+byte(v>>8), byte(v))
	case w < weight5Base:
		v := w - weight3Base
		return append(dst, weight3+byte(v>>16), byte(v>>8), byte(v))
	}
	return append(dst, weight5, byte(w>>24), byte(w>>16), byte(w>>8), byte(w))
}

// weightsLen returns the length of the weight codes and terminator at the
// start of b.
func weightsLen(b []byte) (int, error) {
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == weightEnd:
			return i + 1, nil
		case c == weightNegative, c == weight5:
			i += 5
		case c < weight2:
			i++
		case c < weight3:
			i += 2
		default:
			i += 3
		}
	}
	return 0, fmt.Errorf("%w: key string not terminated", chunk.ErrCorruption)
}

// appendEscaped appends b with each 0x00 escaped, then the terminator.
func appendEscaped(dst, b []byte) []byte {
	for {
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			break
		}
		dst = append(append(dst, b[:i]...), bytesEscape, bytesEscaped00)
		b = b[i+1:]
	}
	return append(append(dst, b...), bytesEscape, bytesEnd)
}

// escapedLen returns the length of the escaped binary string and terminator
// at the start of b.
func escapedLen(b []byte) (int, error) {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], bytesEscape)
		if j < 0 || i+j+1 >= len(b) {
			return 0, fmt.Errorf("%w: key binary string not terminated", chunk.ErrCorruption)
		}
		i += j + 1
		switch b[i] {
		case bytesEnd:
			return i + 1, nil
		case bytesEscaped00:
			i++
		default:
			return 0, fmt.Errorf("%w: key binary string has bad escape 0x00 0x%02x", chunk.ErrCorruption, b[i])
		}
	}
}

// keyLen returns the length of the encoding of one non-NULL value of c at
// the start of b.
func (c *column) keyLen(b []byte) (int, error) {
	n := 0
	switch c.kind {
	case kindInt8, kindUint8:
		n = 1
	case kindInt16, kindUint16, kindYear, kindEnum:
		n = 2
	case kindInt32, kindUint32, kindFloat32:
		n = 4
	case kindInt64, kindUint64, kindFloat64, kindBit, kindSet, kindDate, kindDatetime, kindTimestamp, kindTime:
		n = 8
	case kindDecimal:
		return decimalKeyLen(b)
	case kindString:
		return weightsLen(b)
	case kindBytes:
		return escapedLen(b)
	default:
		return 0, fmt.Errorf("%w: %s", ErrUnsupportedType, c.kind)
	}
	if len(b) < n {
		return 0, fmt.Errorf("%w: key ends inside a %s value", chunk.ErrCorruption, c.kind)
	}
	return n, nil
}

// Split returns the byte segments of the first n columns of key, each with
// its marker byte, so that ranges can be filtered column by column without
// decoding. The segments point into key. Malformed keys give an error
// matching chunk.ErrCorruption; bytes after the n-th column are not checked.
func (k *KeyCodec) Split(key []byte, n int) ([][]byte, error) {
	if n < 0 || n > len(k.cols) {
		return nil, fmt.Errorf("codec: split %d columns of a key of %d", n, len(k.cols))
	}
	return k.AppendSplit(make([][]byte, 0, n), key, n)
}

// AppendSplit is Split appending the segments to dst, for callers that reuse
// a slice.
func (k *KeyCodec) AppendSplit(dst [][]byte, key []byte, n int) ([][]byte, error) {
	if n < 0 || n > len(k.cols) {
		return nil, fmt.Errorf("codec: split %d columns of a key of %d", n, len(k.cols))
	}
	pos := 0
	for i := 0; i < n; i++ {
		start := pos
		if pos >= len(key) {
			return nil, fmt.Errorf("%w: key of %d columns ends before column %d", chunk.ErrCorruption, len(k.cols), i)
		}
		switch key[pos] {
		case keyNull:
			pos++
		case keyValue:
			pos++
			l, err := k.cols[i].keyLen(key[pos:])
			if err != nil {
				return nil, fmt.Errorf("key column %d: %w", i, err)
			}
			pos += l
		default:
			return nil, fmt.Errorf("%w: key column %d has marker 0x%02x", chunk.ErrCorruption, i, key[pos])
		}
		dst = append(dst, key[start:pos:pos])
	}
	return dst, nil
}

// PrefixEnd returns the smallest byte string greater than every string that
// starts with prefix, or nil if there is none (prefix is empty or all 0xFF).
// The result is a new slice.
func PrefixEnd(prefix []byte) []byte {
	for i := len(prefix) - 1; i >= 0; i-- {
		if prefix[i] != 0xFF {
			end := make([]byte, i+1)
			copy(end, prefix)
			end[i]++
			return end
		}
	}
	return nil
}

// Decodable reports whether DecodeSegment can give back the value of key
// column i: integer columns can (their encoding is the value), strings
// cannot (a collation's weights do not give back the string), and the
// other types are not decoded yet.
func (k *KeyCodec) Decodable(i int) bool {
	if i < 0 || i >= len(k.cols) || k.prefix[i] != 0 {
		return false
	}
	switch k.cols[i].kind {
	case kindInt8, kindInt16, kindInt32, kindInt64, kindUint8, kindUint16, kindUint32, kindUint64:
		return true
	}
	return false
}

// DecodeSegment returns the value of key column i, a Decodable column, from
// its segment as Split returns it (marker byte included): nil for NULL, or
// the Go value a row of the column's type holds (int32 for INT, uint64 for
// BIGINT UNSIGNED, ...). Malformed segments give an error matching
// chunk.ErrCorruption.
func (k *KeyCodec) DecodeSegment(seg []byte, i int) (any, error) {
	if !k.Decodable(i) {
		return nil, fmt.Errorf("codec: key column %d cannot be decoded", i)
	}
	if len(seg) == 1 && seg[0] == keyNull {
		return nil, nil
	}
	c := &k.cols[i]
	if len(seg) < 1 || seg[0] != keyValue {
		return nil, fmt.Errorf("%w: key column %d: bad segment", chunk.ErrCorruption, i)
	}
	b := seg[1:]
	if n, err := c.keyLen(b); err != nil || n != len(b) {
		return nil, fmt.Errorf("%w: key column %d: segment of %d bytes", chunk.ErrCorruption, i, len(b))
	}
	switch c.kind {
	case kindInt8:
		return int8(b[0] ^ 1<<7), nil
	case kindInt16:
		return int16(binary.BigEndian.Uint16(b) ^ 1<<15), nil
	case kindInt32:
		return int32(binary.BigEndian.Uint32(b) ^ 1<<31), nil
	case kindInt64:
		return int64(binary.BigEndian.Uint64(b) ^ 1<<63), nil
	case kindUint8:
		return b[0], nil
	case kindUint16:
		return binary.BigEndian.Uint16(b), nil
	case kindUint32:
		return binary.BigEndian.Uint32(b), nil
	default: // kindUint64
		return binary.BigEndian.Uint64(b), nil
	}
}
