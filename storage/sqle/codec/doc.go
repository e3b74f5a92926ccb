// Package codec turns SQL values into bytes for prolly-tree maps and back:
// KeyCodec makes index and primary keys whose bytewise order is the SQL
// order, RowCodec stores whole rows losslessly.
//
// These bytes are stored on disk and hashed, so both formats change only
// deliberately (the golden test pins them; docs/format.md describes them).
//
// # Keys
//
// A key is the concatenation of its columns. Each column is a marker byte,
// 0x00 for NULL (nothing follows: NULL sorts first, as in MySQL indexes,
// although GMS's Type.Compare puts it last) or 0x01 followed by the value:
//
//   - signed integers, YEAR: big-endian two's complement with the sign bit
//     flipped, in the width of the column's Go type (1, 2, 4 or 8 bytes;
//     MEDIUMINT takes 4);
//   - unsigned integers: big-endian in the width of the Go type; BIT and SET
//     8 bytes, ENUM its 2-byte index;
//   - FLOAT, DOUBLE: the IEEE bits big-endian, all bits flipped for negative
//     numbers and the sign bit set for the others; -0 is written as 0;
//   - DECIMAL: a sign byte (0x00 negative, 0x01 zero, 0x02 positive); then,
//     for non-zero values, |v| = 0.m × 10^E with m's first digit non-zero
//     and no trailing zeros, E as a big-endian int16 with its sign bit
//     flipped, m in pairs of digits p, each written 2p+1 except the last,
//     written 2p. Negative values complement the bytes of E and m. Values
//     of column types are first rounded to the scale, as Compare does;
//   - DATE, DATETIME, TIMESTAMP: microseconds since 1970 as a flipped
//     big-endian int64 (DATE truncated to the day, as Compare does); TIME
//     its microseconds the same way;
//   - character strings: the collation's weight (sql.CollationSorter) of
//     each character, decoded as UTF-8 like StringType.Compare does, each as
//     a prefix-free code whose first byte gives its length: 0x02+w for
//     weights below 128, 0x82.. and 1 byte up to 24191, 0xE0.. and 2 bytes
//     up to 2055807, 0xFF and 4 bytes beyond (0x01 and 4 bytes would be a
//     negative weight), then the terminator 0x00. There is no PAD SPACE
//     handling ('a' < 'a '), matching GMS;
//   - binary strings: the bytes with 0x00 written as 0x00 0xFF, then 0x00
//     0x01.
//
// An index prefix (KEY(c(10))) keeps the first n characters of a character
// string, or n bytes of a binary string, before encoding.
//
// # Rows
//
// A row is the format byte (RowFormat, 1), the uvarint column count, a NULL
// bitmap (bit i%8 of byte i/8 set for a NULL column i; unused bits zero),
// then the values of the non-NULL columns in order:
//
//   - signed integers, YEAR, TIME, and DATE/DATETIME/TIMESTAMP (as
//     microseconds since 1970, decoded in UTC): zig-zag varint;
//   - unsigned integers, BIT, ENUM, SET: uvarint;
//   - FLOAT, DOUBLE: the IEEE bits little-endian (4 or 8 bytes);
//   - DECIMAL: varint exponent, uvarint (magnitude length << 1 | negative),
//     the magnitude of the coefficient big-endian without leading zeros;
//     decoding gives back the same coefficient and exponent;
//   - strings and binary strings: uvarint length, bytes;
//   - JSON: uvarint length, then a tagged value: 0x00 null, 0x01 false,
//     0x02 true, 0x03 varint int64, 0x04 uvarint uint64, 0x05 float64 bits
//     little-endian, 0x06 string (uvarint length, bytes), 0x07 array
//     (uvarint count, values), 0x08 object (uvarint count, then key as a
//     length and bytes and value, keys in MySQL's order: shorter first, then
//     bytewise), 0x09 decimal (as the DECIMAL column value). Integers keep
//     their exact value (JSON text is parsed with json.Number); decoding
//     gives a types.JSONDocument;
//   - spatial values: uvarint length, uvarint SRID, then the geometry: its
//     WKB type byte (1 point ... 7 collection) and for a point X and Y as
//     float64 bits little-endian, for a line string a uvarint count and its
//     points, for a polygon a uvarint count and its rings (each as a line
//     string without a type byte), for multi-points, multi-line strings and
//     multi-polygons a count and their parts the same way, for a collection
//     a count and its geometries, each with its type byte. Parts take the
//     SRID of the whole.
//
// # Caveats
//
// Keys are lossy for strings under non-binary collations and for
// DATE/DECIMAL values beyond their type's precision: keep the row. Times are
// kept to the microsecond. Values are expected to be the canonical Go values
// of their types (sql.Type.ValueType); others go through the type's Convert.
// Canonical values are not checked against the type's length or range
// (GMS checks them before they reach storage).
// Encode appends to dst and returns the result, like append. Decoded strings
// and byte slices never share memory with the encoded bytes (RowCodec.Decode
// copies all of a row's strings into one allocation, which stays alive while
// any of them is referenced), and decoders
// never panic on malformed input: they return an error matching
// chunk.ErrCorruption. KeyCodec and RowCodec are immutable and safe for
// concurrent use.
package codec
