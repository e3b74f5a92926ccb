package tree

import (
	"errors"
	"fmt"
)

// Errors of this package. Corrupt nodes and blobs are reported with
// chunk.Corruptf, matching chunk.ErrCorruption.
var (
	// ErrUnsorted is returned by Builder.Add for a key not above the one
	// before it.
	ErrUnsorted = errors.New("tree: keys not in ascending order")
	// ErrKeyTooLong is returned by Builder.Add and Edit for a key longer than
	// MaxKeySize.
	ErrKeyTooLong = fmt.Errorf("tree: key longer than %d bytes", MaxKeySize)

	errBadValue = errors.New("bad stored value")
)
