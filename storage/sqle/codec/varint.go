package codec

import "encoding/binary"

// uvarint is binary.Uvarint refusing encodings that are not the shortest
// (n <= 0 for them too), so that every value decodes from one encoding only
// and a decoded row encodes back to the same bytes.
func uvarint(b []byte) (uint64, int) {
	v, n := binary.Uvarint(b)
	if n > 1 && b[n-1] == 0 {
		return 0, -n
	}
	return v, n
}

// varint is binary.Varint refusing encodings that are not the shortest.
func varint(b []byte) (int64, int) {
	u, n := uvarint(b)
	if n <= 0 {
		return 0, n
	}
	return int64(u>>1) ^ -int64(u&1), n
}
