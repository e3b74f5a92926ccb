package diskstore

import "github.com/cairndb/cairn/storage/chunk"

// The key layout; see the package documentation.
var (
	keyFormat = []byte("\x00format")
	keyGen    = []byte("\x00gen")
	keyEpoch  = []byte("\x00epoch")
)

// formatValue is the value of keyFormat in the stores this version writes.
// Version 2 added the journal (keyEpoch and the journal file): a version 1
// binary would ignore the journal and lose its commits, so it must refuse
// the store. Open upgrades a version 1 store, which has no journal.
const (
	formatValue   = "cairn-store 2"
	formatValueV1 = "cairn-store 1"
)

const (
	prefixChunk byte = 'c'
	prefixRef   byte = 'r'
)

func chunkKey(h chunk.Hash) []byte {
	k := make([]byte, 1+chunk.HashSize)
	k[0] = prefixChunk
	copy(k[1:], h[:])
	return k
}

func refKey(name string) []byte {
	k := make([]byte, 1+len(name))
	k[0] = prefixRef
	copy(k[1:], name)
	return k
}

// prefixBounds returns the bounds of the keys starting with p.
func prefixBounds(p byte) (lower, upper []byte) { return []byte{p}, []byte{p + 1} }
