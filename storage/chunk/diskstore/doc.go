// Package diskstore is cairn's persistent chunk store: a chunk.Store and
// chunk.Collectable kept in one Pebble database in a directory of its own.
//
// # Layout
//
// Every key starts with a byte that says what it holds. The layout is
// versioned by the format key, written when the store is created; Open
// refuses a store whose format it does not know.
//
//	"\x00format"     → "cairn-store 1"
//	"\x00gen"        → uvarint: the current GC generation
//	"c" + hash (20)  → codec byte, uvarint generation, payload
//	"r" + name       → the 20-byte hash the ref names
//
// A chunk's codec byte is 0 when the payload is the chunk's bytes and 1 when
// it is their snappy block encoding, used only when that is shorter. Pebble's
// own block compression is off: chunks are compressed one by one, before
// they reach it. The generation is the one current when the chunk was last
// Put; GC compares it with the oldest live lease (see chunk.GC).
//
// # Durability
//
// Put writes without waiting for the disk. UpdateRefs writes the new refs
// with an fsync of Pebble's write-ahead log, and the log is written in commit
// order, so that fsync also makes durable every Put that returned before
// UpdateRefs was called: a ref on disk never names a chunk that is not.
// Concurrent UpdateRefs calls are committed in groups that share one fsync.
// Refs are served from memory and a new value is published only once it is
// durable, so a reader never sees a ref that a crash could take back.
//
// AdvanceGeneration is written with an fsync, so generations never go back
// after a crash. Deletions by GC are not: a deletion lost in a crash only
// leaves garbage for the next collection.
//
// # Caveats
//
// One process at a time may open a store; Open returns an error matching
// ErrLocked while another holds it. Slices returned by Get and passed to
// GetMany callbacks belong to the caller. Callbacks of ForEachChunk and
// GetMany may call other methods of the store, but not Close. All methods are
// safe for concurrent use.
package diskstore
