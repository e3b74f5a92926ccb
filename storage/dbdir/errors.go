package dbdir

import "errors"

// Errors returned by this package. Callers test for them with errors.Is; the
// returned errors wrap them with the directory or name concerned. Init on a
// directory that is a database already returns an error matching
// repo.ErrAlreadyInitialized.
var (
	// ErrInvalidName is matched by the error CheckName returns for a name
	// that cannot be a database's.
	ErrInvalidName = errors.New("invalid database name")
	// ErrNotDatabase is returned by Open and Remove for a directory that is
	// not a database.
	ErrNotDatabase = errors.New("not a cairn database")
	// ErrUnknownConfigVersion is returned when reading a config.json written
	// by a version of cairn this one does not know.
	ErrUnknownConfigVersion = errors.New("unknown config version")
)
