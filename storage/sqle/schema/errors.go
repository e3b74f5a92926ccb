package schema

import "errors"

// Errors of this package. Callers test for them with errors.Is; the returned
// errors wrap them with the table, column or index concerned. Malformed
// encoded bytes give an error matching chunk.ErrCorruption instead.
var (
	// ErrInvalidSchema is returned by Validate, and so by FromSQL and Encode,
	// for a table that breaks a rule of Validate: an empty or duplicate name,
	// an index or key naming a missing column, more than one auto-increment
	// column.
	ErrInvalidSchema = errors.New("invalid table schema")
	// ErrUnsupportedType is returned by ColumnFromSQL and FromSQL for a column
	// type whose text would not parse back to the same type, so that storing it
	// would change the column.
	ErrUnsupportedType = errors.New("column type cannot be stored")
	// ErrUnknownVersion is returned by Decode for a schema written in a format
	// version newer than this build knows: the database was written by a newer
	// cairn.
	ErrUnknownVersion = errors.New("table schema written by a newer version of cairn")
)
