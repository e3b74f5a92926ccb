package chunk

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"sort"
	"strings"
)

// HashSize is the length of a Hash in bytes: 160 bits of SHA-256.
const HashSize = 20

// HashStringLen is the length of a hash's printable form.
const HashStringLen = 32

// Hash names a chunk: the first 20 bytes of the SHA-256 of its content.
// The zero Hash names no chunk.
type Hash [HashSize]byte

// encoding is lower-case base32 with the "extended hex" alphabet and no
// padding, the same printable form Dolt uses for commit hashes: 20 bytes give
// exactly 32 characters, and the order of strings is the order of hashes.
var encoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// Of returns the hash of data.
func Of(data []byte) Hash {
	sum := sha256.Sum256(data)
	var h Hash
	copy(h[:], sum[:HashSize])
	return h
}

// String returns the 32-character printable form of h.
func (h Hash) String() string { return encoding.EncodeToString(h[:]) }

// IsZero reports whether h is the zero Hash.
func (h Hash) IsZero() bool { return h == Hash{} }

// Compare orders hashes by their bytes.
func (h Hash) Compare(o Hash) int { return strings.Compare(string(h[:]), string(o[:])) }

// Parse parses the printable form of a hash.
func Parse(s string) (Hash, error) {
	var h Hash
	if len(s) != HashStringLen {
		return h, fmt.Errorf("chunk: parse hash %q: %w", s, ErrBadHash)
	}
	n, err := encoding.Decode(h[:], []byte(s))
	if err != nil || n != HashSize {
		return Hash{}, fmt.Errorf("chunk: parse hash %q: %w", s, ErrBadHash)
	}
	return h, nil
}

// IsHashPrefix reports whether s could be the start of a hash's printable form.
func IsHashPrefix(s string) bool {
	if len(s) == 0 || len(s) > HashStringLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'v') {
			return false
		}
	}
	return true
}

// HashSet is a set of hashes.
type HashSet map[Hash]struct{}

// NewHashSet returns a set holding hs.
func NewHashSet(hs ...Hash) HashSet {
	s := make(HashSet, len(hs))
	for _, h := range hs {
		s[h] = struct{}{}
	}
	return s
}

// Add adds h to the set.
func (s HashSet) Add(h Hash) { s[h] = struct{}{} }

// Has reports whether h is in the set.
func (s HashSet) Has(h Hash) bool { _, ok := s[h]; return ok }

// Sorted returns the members in ascending order.
func (s HashSet) Sorted() []Hash {
	out := make([]Hash, 0, len(s))
	for h := range s {
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Compare(out[j]) < 0 })
	return out
}
