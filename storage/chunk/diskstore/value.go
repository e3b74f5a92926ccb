package diskstore

import (
	"encoding/binary"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/golang/snappy"
)

// Codecs of a stored chunk. Values are part of the on-disk format.
const (
	codecRaw    byte = 0
	codecSnappy byte = 1
)

// minCompress is the smallest chunk worth trying to compress.
const minCompress = 64

// maxSnappyRatio bounds how many times larger than its encoding a snappy
// block may claim to decode to. Snappy cannot do better than about 22 (a
// 3-byte copy of 64 bytes), so a larger claim is corrupt, and the bound keeps
// a corrupt length from making the decoder allocate without limit.
const maxSnappyRatio = 24

// appendValue appends the stored form of a chunk's data, stamped with gen.
func appendValue(dst []byte, data []byte, gen uint64) []byte {
	if len(data) >= minCompress {
		comp := snappy.Encode(nil, data)
		if len(comp) < len(data) {
			dst = append(dst, codecSnappy)
			dst = binary.AppendUvarint(dst, gen)
			return append(dst, comp...)
		}
	}
	dst = append(dst, codecRaw)
	dst = binary.AppendUvarint(dst, gen)
	return append(dst, data...)
}

// decodeHeader returns the codec, generation and payload of a stored value.
// h names the chunk in errors.
func decodeHeader(h chunk.Hash, v []byte) (codec byte, gen uint64, payload []byte, err error) {
	if len(v) < 2 {
		return 0, 0, nil, chunk.Corruptf(h, "stored value truncated (%d bytes)", len(v))
	}
	codec = v[0]
	if codec != codecRaw && codec != codecSnappy {
		return 0, 0, nil, chunk.Corruptf(h, "unknown codec %d", codec)
	}
	gen, n := binary.Uvarint(v[1:])
	if n <= 0 {
		return 0, 0, nil, chunk.Corruptf(h, "bad generation")
	}
	return codec, gen, v[1+n:], nil
}

// decodeValue returns the chunk bytes of a stored value in a new slice the
// caller owns, and the generation it was stamped with. It does not check the
// bytes against h, which only names the chunk in errors. A value it cannot
// decode gives an error matching chunk.ErrCorruption.
func decodeValue(h chunk.Hash, v []byte) ([]byte, uint64, error) {
	codec, gen, payload, err := decodeHeader(h, v)
	if err != nil {
		return nil, 0, err
	}
	if codec == codecRaw {
		return append([]byte(nil), payload...), gen, nil
	}
	n, err := snappy.DecodedLen(payload)
	if err != nil {
		return nil, 0, chunk.Corruptf(h, "snappy header: %v", err)
	}
	if n > maxSnappyRatio*len(payload) {
		return nil, 0, chunk.Corruptf(h, "snappy claims %d bytes from %d", n, len(payload))
	}
	data, err := snappy.Decode(make([]byte, n), payload)
	if err != nil {
		return nil, 0, chunk.Corruptf(h, "snappy: %v", err)
	}
	return data, gen, nil
}
