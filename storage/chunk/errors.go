package chunk

import (
	"errors"
	"fmt"
)

// Errors returned by stores and decoders. Callers test for them with errors.Is;
// the returned errors wrap them with the hash, ref or file concerned.
var (
	// ErrNotFound is returned by Get for a chunk the store does not hold.
	ErrNotFound = errors.New("chunk not found")
	// ErrRefConflict is returned by UpdateRefs when a ref's current value is
	// not the expected old value. Nothing was changed.
	ErrRefConflict = errors.New("ref changed concurrently")
	// ErrMissingChunk is returned by UpdateRefs when a new ref value names a
	// chunk the store does not hold (put before reference). Nothing was changed.
	ErrMissingChunk = errors.New("ref target not in store")
	// ErrCorruption is the class of every error about stored or received bytes
	// that are not what they should be: a chunk whose bytes do not match its
	// hash, a truncated or malformed encoding, an unreadable manifest.
	ErrCorruption = errors.New("corruption")
	// ErrBadHash is returned when a string is not the printable form of a hash.
	ErrBadHash = errors.New("invalid hash")
	// ErrBadRefName is returned for a ref name that is empty or too long.
	ErrBadRefName = errors.New("invalid ref name")
	// ErrClosed is returned by every method of a closed store.
	ErrClosed = errors.New("store closed")
)

// CorruptionError describes corrupt bytes: which chunk or file, and what is
// wrong. It matches ErrCorruption with errors.Is.
type CorruptionError struct {
	Hash   Hash   // the chunk concerned, if any
	File   string // the file concerned, if any
	Detail string
}

func (e *CorruptionError) Error() string {
	switch {
	case !e.Hash.IsZero() && e.File != "":
		return fmt.Sprintf("corruption: chunk %s in %s: %s", e.Hash, e.File, e.Detail)
	case !e.Hash.IsZero():
		return fmt.Sprintf("corruption: chunk %s: %s", e.Hash, e.Detail)
	case e.File != "":
		return fmt.Sprintf("corruption: %s: %s", e.File, e.Detail)
	}
	return "corruption: " + e.Detail
}

// Is makes errors.Is(err, ErrCorruption) true.
func (e *CorruptionError) Is(target error) bool { return target == ErrCorruption }

// Corruptf returns a CorruptionError about chunk h.
func Corruptf(h Hash, format string, args ...any) error {
	return &CorruptionError{Hash: h, Detail: fmt.Sprintf(format, args...)}
}
