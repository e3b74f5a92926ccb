package codec

import "errors"

// Errors returned by the constructors and encoders. Callers test for them
// with errors.Is; the returned errors wrap them with the column concerned.
// Decoders report malformed bytes with errors matching chunk.ErrCorruption.
var (
	// ErrNotKeyable is returned by NewKeyCodec for a column type that cannot
	// be part of an index key (JSON and spatial types).
	ErrNotKeyable = errors.New("type cannot be part of a key")
	// ErrUnsupportedType is returned by NewKeyCodec, and by RowCodec.Encode,
	// for a column type the codecs do not know.
	ErrUnsupportedType = errors.New("unsupported column type")
	// ErrBadValue is returned by the encoders for a value that does not
	// convert to the column's type, or (for rows) that is out of its range.
	ErrBadValue = errors.New("value does not fit column type")
)
