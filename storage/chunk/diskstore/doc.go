// Package diskstore is cairn's persistent chunk store: a chunk.Store and
// chunk.Collectable kept in one Pebble database in a directory of its own.
//
// # Layout
//
// Every key starts with a byte that says what it holds. The layout is
// versioned by the format key, written when the store is created; Open
// refuses a store whose format it does not know.
//
//	"\x00format"     → "cairn-store 2"
//	"\x00gen"        → uvarint: the current GC generation
//	"\x00epoch"      → uvarint: the epoch of the journal not yet checkpointed
//	"c" + hash (20)  → codec byte, uvarint generation, payload
//	"r" + name       → the 20-byte hash the ref names
//
// A chunk's codec byte is 0 when the payload is the chunk's bytes and 1 when
// it is their snappy block encoding, used only when that is shorter. Pebble's
// own block compression is off: chunks are compressed one by one, before
// they reach it. The generation is the one current when the chunk was last
// Put; GC compares it with the oldest live lease (see chunk.GC).
//
// # Journal
//
// Put keeps chunks in memory, in the overlay. UpdateRefs appends one record
// to the journal file (cairn-journal, beside Pebble's files): every overlay
// chunk the new refs reach that the journal does not hold yet, and the new
// ref values; it fdatasyncs the file, then publishes the refs. Concurrent
// UpdateRefs calls share one record and one sync. Once the overlay has taken
// in Options.CheckpointSize bytes since the last checkpoint, the commit
// leader checkpoints: it writes to Pebble, in one synced batch, every overlay
// chunk the refs and live leases reach, the refs, and the next epoch; starts
// the journal over with that epoch; and drops from the overlay what Pebble
// now holds and the garbage (chunks unreachable and written before every
// live lease began, found so by two checkpoints in a row). A chunk committed
// and replaced between two checkpoints never reaches Pebble: that is the
// point (docs/write-path.md). Open replays a journal whose epoch matches
// Pebble's and checkpoints it; a journal of another epoch is a leftover of a
// checkpoint Pebble completed, and is ignored. Close checkpoints.
//
// A commit whose new chunks exceed 4 MiB or half of CheckpointSize (a bulk
// load), and a Put while the overlay holds 4 × CheckpointSize, write to
// Pebble directly, with whatever those chunks reach in the overlay (no chunk
// in Pebble may reference one only the overlay holds: commits and
// checkpoints walk the overlay only); the next record is written after a
// sync of Pebble's log.
// The journal file is reused across epochs and written ahead with zeros, so
// a record's fdatasync does not also write the file's size. With a negative
// CheckpointSize the store has no journal and works as below.
//
// # Durability
//
// With the journal, an acknowledged UpdateRefs has its refs and every chunk
// they reach on stable storage (in the journal or in Pebble). A chunk no ref
// reaches may be lost in a crash: no lease outlives a process, so it is
// garbage then.
//
// Without the journal, Put writes to Pebble without waiting for the disk.
// UpdateRefs writes the new refs with an fsync of Pebble's write-ahead log,
// and the log is written in commit order, so that fsync also makes durable
// every Put that returned before UpdateRefs was called: a ref on disk never
// names a chunk that is not. Concurrent UpdateRefs calls are committed in
// groups that share one fsync.
//
// Either way, refs are served from memory and a new value is published only
// once it is durable, so a reader never sees a ref that a crash could take
// back.
//
// AdvanceGeneration is written with an fsync, so generations never go back
// after a crash. Deletions by GC are not: a deletion lost in a crash only
// leaves garbage for the next collection.
//
// # Caveats
//
// A checkpoint collects garbage in the overlay as GC does, so callers must
// follow GC's contract (see chunk.GC) even when no GC runs: hold a lease
// from before a transaction's first Put until the refs name its result.
//
// One process at a time may open a store; Open returns an error matching
// ErrLocked while another holds it. Slices returned by Get and passed to
// GetMany callbacks belong to the caller. Callbacks of ForEachChunk and
// GetMany may call other methods of the store, but not Close. All methods are
// safe for concurrent use.
package diskstore
