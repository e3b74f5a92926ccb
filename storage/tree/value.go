package tree

import (
	"encoding/binary"

	"github.com/cairndb/cairn/storage/chunk"
)

// InlineLimit is the largest value stored inside a leaf. A longer value is
// stored out of line as a blob tree, and the leaf keeps its root and length,
// so nodes stay small and an unchanged large value is shared between
// versions. It is part of the format: changing it changes hashes.
const InlineLimit = 1024

// A stored value is a tag byte and its data:
//
//	0x00 data...                      the value itself
//	0x01 hash[20] uvarint(len)        an out-of-line value: blob root and length
const (
	tagInline = 0x00
	tagBlob   = 0x01
)

func inlineValue(v []byte) []byte {
	out := make([]byte, 1+len(v))
	out[0] = tagInline
	copy(out[1:], v)
	return out
}

func blobValue(h chunk.Hash, length uint64) []byte {
	out := make([]byte, 0, 1+chunk.HashSize+binary.MaxVarintLen64)
	out = append(out, tagBlob)
	out = append(out, h[:]...)
	return binary.AppendUvarint(out, length)
}

// blobRef returns the blob root of an out-of-line stored value.
func blobRef(sv []byte) (chunk.Hash, bool) {
	var h chunk.Hash
	if len(sv) < 1+chunk.HashSize || sv[0] != tagBlob {
		return h, false
	}
	copy(h[:], sv[1:])
	return h, true
}

func checkStoredValue(sv []byte) error {
	if len(sv) == 0 {
		return errBadValue
	}
	switch sv[0] {
	case tagInline:
		if len(sv)-1 > InlineLimit {
			return errBadValue
		}
		return nil
	case tagBlob:
		if len(sv) < 1+chunk.HashSize+1 {
			return errBadValue
		}
		l, w := uvarint(sv[1+chunk.HashSize:])
		if w <= 0 || 1+chunk.HashSize+w != len(sv) || l <= InlineLimit {
			return errBadValue
		}
		return nil
	}
	return errBadValue
}

// blobLen returns the length of an out-of-line stored value.
func blobLen(sv []byte) uint64 {
	l, _ := uvarint(sv[1+chunk.HashSize:])
	return l
}

// uvarint is binary.Uvarint that also refuses encodings longer than the
// shortest (w <= 0), so that every node has exactly one byte form.
func uvarint(p []byte) (uint64, int) {
	v, w := binary.Uvarint(p)
	if w > 0 && w != uvarintLen(v) {
		return 0, -1
	}
	return v, w
}
