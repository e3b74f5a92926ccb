package diskstore

import (
	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// l0Compact is the depth of Pebble's level 0 at which it compacts level 0
// into the next (Pebble's default is 4). Chunk keys are hashes, so every
// table spans the whole key space and each such compaction rewrites all of
// the next level: compacting twice as much at a time writes half as much.
// l0StopWrites is the depth at which Pebble stops writes (its default is
// 12); checkpoints wait well before it (Store.awaitRoom).
const (
	l0Compact    = 8
	l0StopWrites = 20
)

// Defaults for Options.
const (
	// DefaultCacheSize is the size of Pebble's block cache.
	DefaultCacheSize = 64 << 20
	// DefaultMemTableSize is the size of one Pebble memtable: how much is
	// written before it is flushed to a table file.
	DefaultMemTableSize = 4 << 20
	// DefaultCheckpointSize is how much the journal overlay takes in before
	// it is written to Pebble. The larger, the more of what commits write
	// is replaced before it reaches Pebble, and the fewer the checkpoints
	// that hold commits up (docs/write-path.md, "Checkpoints every 32 MiB").
	DefaultCheckpointSize = 32 << 20
	// maxJournaledCommit is the most new chunks a commit journals: a larger
	// one (a bulk load) writes them to Pebble directly, as does one of more
	// than half the checkpoint size.
	maxJournaledCommit = 4 << 20
)

// Options configures a Store. Zero fields take the documented defaults. There
// is deliberately no option to skip syncing: UpdateRefs is always durable.
type Options struct {
	// Cache is a block cache shared with other stores (NewCache); nil gives
	// the store a cache of its own, of CacheSize bytes.
	Cache *Cache
	// CacheSize is the size in bytes of the store's own block cache when
	// Cache is nil (DefaultCacheSize).
	CacheSize int64
	// MemTableSize is the size in bytes of a memtable (DefaultMemTableSize).
	MemTableSize uint64
	// CheckpointSize is how many bytes of committed chunks the store keeps
	// in memory and in its journal before it writes them to Pebble
	// (DefaultCheckpointSize); a Put writes straight to Pebble while the
	// overlay holds four times as much. Negative: no journal, every chunk goes
	// to Pebble when Put (for a store written once, as a restore does).
	CheckpointSize int64

	// fs is the file system, vfs.Default unless a test simulates crashes.
	fs vfs.FS
}

// withDefaults returns o with zero fields set to their defaults.
func (o Options) withDefaults() Options {
	if o.CacheSize <= 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.MemTableSize == 0 {
		o.MemTableSize = DefaultMemTableSize
	}
	if o.CheckpointSize == 0 {
		o.CheckpointSize = DefaultCheckpointSize
	}
	if o.fs == nil {
		o.fs = vfs.Default
	}
	return o
}

// Cache holds recently read blocks of chunks, bounded in bytes. Stores that
// share one (Options.Cache) share its budget, so one setting bounds the cache
// memory of every database of a process. Its memory is allocated outside the
// Go heap: the garbage collector neither scans it nor counts it.
type Cache struct{ c *pebble.Cache }

// NewCache returns a cache of size bytes.
func NewCache(size int64) *Cache { return &Cache{c: pebble.NewCache(size)} }

// Close gives up the caller's use of the cache. Stores opened with it keep
// it until they close; its memory is freed when the last one has.
func (c *Cache) Close() { c.c.Unref() }
