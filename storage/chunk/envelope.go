package chunk

import (
	"encoding/binary"
	"fmt"
)

// FormatVersion is the version of the chunk envelope. It is the first byte of
// every chunk; a reader refuses chunks of a version it does not know.
const FormatVersion = 1

// Kind says what a chunk's payload encodes. The kinds of every layer are listed
// here so that the numbering has one home.
type Kind byte

// Chunk kinds. Values are part of the on-disk format: never renumber.
const (
	KindTreeLeaf     Kind = 1  // prolly tree leaf node (storage/tree)
	KindTreeInternal Kind = 2  // prolly tree internal node (storage/tree)
	KindBlobLeaf     Kind = 3  // bytes of an out-of-line value (storage/tree)
	KindBlobInternal Kind = 4  // index of a large out-of-line value (storage/tree)
	KindCommit       Kind = 5  // commit (storage/repo)
	KindRootValue    Kind = 6  // root value: a database at one instant (storage/repo)
	KindTable        Kind = 7  // table record (storage/repo)
	KindWorkingSet   Kind = 8  // working and staged roots of a branch (storage/repo)
	KindTag          Kind = 9  // annotated tag (storage/repo)
	KindOpaque       Kind = 10 // bytes with no references, for tests and tools
)

// maxRefs bounds the reference count a decoder accepts, so corrupt input
// cannot make it allocate without limit.
const maxRefs = 1 << 20

// Encode returns the envelope of a chunk of the given kind that refers to refs
// and carries payload.
//
// Layout: version byte, kind byte, uvarint len(refs), the refs, the payload.
func Encode(kind Kind, refs []Hash, payload []byte) []byte {
	buf := make([]byte, 0, HeaderLen(len(refs))+len(payload))
	return append(AppendHeader(buf, kind, refs), payload...)
}

// HeaderLen bounds the length of the envelope header of a chunk with n refs.
func HeaderLen(n int) int { return 2 + binary.MaxVarintLen64 + n*HashSize }

// AppendHeader appends the envelope header of a chunk to buf; the payload
// follows it. Encode(k, r, p) is AppendHeader(nil, k, r) followed by p.
func AppendHeader(buf []byte, kind Kind, refs []Hash) []byte {
	buf = append(buf, FormatVersion, byte(kind))
	buf = binary.AppendUvarint(buf, uint64(len(refs)))
	for i := range refs {
		buf = append(buf, refs[i][:]...)
	}
	return buf
}

// Envelope is a decoded chunk envelope. Its slices alias the chunk's bytes.
type Envelope struct {
	Kind    Kind
	refs    []byte
	Payload []byte
}

// EnvelopeOf returns the envelope of a chunk being built, whose references
// are refs (a multiple of HashSize bytes) and whose payload is payload.
func EnvelopeOf(kind Kind, refs, payload []byte) Envelope {
	return Envelope{Kind: kind, refs: refs, Payload: payload}
}

// NumRefs returns how many hashes the chunk refers to.
func (e Envelope) NumRefs() int { return len(e.refs) / HashSize }

// Ref returns the i-th referenced hash.
func (e Envelope) Ref(i int) Hash {
	var h Hash
	copy(h[:], e.refs[i*HashSize:])
	return h
}

// Refs returns every referenced hash in a new slice.
func (e Envelope) Refs() []Hash {
	out := make([]Hash, e.NumRefs())
	for i := range out {
		out[i] = e.Ref(i)
	}
	return out
}

// Decode parses the envelope of data. h names the chunk in errors and may be zero.
// A malformed envelope gives an error matching ErrCorruption.
func Decode(h Hash, data []byte) (Envelope, error) {
	if len(data) < 3 {
		return Envelope{}, Corruptf(h, "envelope truncated (%d bytes)", len(data))
	}
	if data[0] != FormatVersion {
		return Envelope{}, Corruptf(h, "unknown chunk format version %d", data[0])
	}
	if data[1] == 0 || Kind(data[1]) > KindOpaque {
		return Envelope{}, Corruptf(h, "unknown chunk kind %d", data[1])
	}
	n, w := binary.Uvarint(data[2:])
	if w <= 0 || n > maxRefs {
		return Envelope{}, Corruptf(h, "bad reference count")
	}
	start := 2 + w
	end := start + int(n)*HashSize
	if end > len(data) {
		return Envelope{}, Corruptf(h, "envelope truncated: %d refs need %d bytes, have %d", n, end, len(data))
	}
	return Envelope{Kind: Kind(data[1]), refs: data[start:end], Payload: data[end:]}, nil
}

// Verify checks that data hashes to h, returning a CorruptionError if not.
func Verify(h Hash, data []byte) error {
	if got := Of(data); got != h {
		return Corruptf(h, "content hashes to %s", got)
	}
	return nil
}

// DecodeKind is Decode that also checks the kind.
func DecodeKind(h Hash, data []byte, want Kind) (Envelope, error) {
	e, err := Decode(h, data)
	if err != nil {
		return e, err
	}
	if e.Kind != want {
		return Envelope{}, Corruptf(h, "chunk kind %d, want %d", e.Kind, want)
	}
	return e, nil
}

func (k Kind) String() string {
	switch k {
	case KindTreeLeaf:
		return "tree-leaf"
	case KindTreeInternal:
		return "tree-internal"
	case KindBlobLeaf:
		return "blob-leaf"
	case KindBlobInternal:
		return "blob-internal"
	case KindCommit:
		return "commit"
	case KindRootValue:
		return "root-value"
	case KindTable:
		return "table"
	case KindWorkingSet:
		return "working-set"
	case KindTag:
		return "tag"
	case KindOpaque:
		return "opaque"
	}
	return fmt.Sprintf("kind(%d)", byte(k))
}
