package diskstore

import "errors"

// Errors returned by Open. The chunk package's sentinels (chunk.ErrNotFound,
// chunk.ErrCorruption, chunk.ErrClosed, …) cover everything else.
var (
	// ErrLocked is returned by Open when another process, or another Store
	// in this process, has the store open.
	ErrLocked = errors.New("store is in use by another process")
	// ErrUnknownFormat is returned by Open for a store written in a format
	// this version of cairn does not know, or a directory holding a Pebble
	// database that is not a cairn store.
	ErrUnknownFormat = errors.New("unknown store format")
)
