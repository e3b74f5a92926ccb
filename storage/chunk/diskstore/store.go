package diskstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Store is a chunk store in a directory on disk. It is safe for concurrent use.
type Store struct {
	dir  string
	db   *pebble.DB
	lock *pebble.Lock
	gate gate
	opts Options

	// ov holds the chunks Put and not yet checkpointed; jrnl holds the
	// committed ones durably until then (see "Journal" in the package
	// documentation). pebbleRefs is what the ref keys in Pebble hold;
	// keptAfterCheckpoint the overlay's size after the last checkpoint
	// and its prune. The commit leader alone uses jrnl and pebbleRefs.
	ov                  overlay
	jrnl                journal
	pebbleRefs          map[string]chunk.Hash
	keptAfterCheckpoint atomic.Int64
	// pruneMu serializes the overlay's prunes; pruneGen is the generation
	// of the checkpoint whose prune has not run yet, if prunePending.
	pruneMu      sync.Mutex
	prunePending bool
	pruneGen     uint64
	// pebbleDirty is set when a Put wrote to Pebble without a sync.
	pebbleDirty atomic.Bool
	checkpoints atomic.Uint64 // checkpoints after commits (not at Open or Close)

	// putMu makes Put atomic with respect to DeleteChunks and to the
	// existence check of UpdateRefs: Put and the committer hold it shared,
	// DeleteChunks and AdvanceGeneration exclusively.
	putMu sync.RWMutex
	gen   atomic.Uint64 // stamped on every Put; changed under putMu held exclusively
	genMu sync.Mutex    // serializes AdvanceGeneration

	leases *chunk.Leases

	// present remembers chunks HasMany found in Pebble (present.go).
	present presentCache

	// writes counts the calls of Put and UpdateRefs (see Writes).
	writes atomic.Uint64

	// refs is the current, durable value of every ref. The map is never
	// modified once published: the committer builds a new one.
	refs atomic.Pointer[map[string]chunk.Hash]

	commits committer
	jsync   journalSync // the journal's syncs (jsync.go)

	// broken is set when a synced write failed: what reached the disk is
	// then unknown, so the store refuses further writes until reopened.
	broken atomic.Pointer[error]

	bgErrors errorLog // Pebble's background errors, logged at a bounded rate
	parked   parkingFS
}

var (
	_ chunk.Store       = (*Store)(nil)
	_ chunk.Collectable = (*Store)(nil)
)

// Open opens the store in dir, creating dir and an empty store if needed.
// It fails with an error matching ErrLocked if the store is already open,
// and with one matching ErrUnknownFormat if dir holds something else.
func Open(dir string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	if err := opts.fs.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("diskstore: open %s: %w", dir, err)
	}
	lock, err := pebble.LockDirectory(dir, opts.fs)
	if err != nil {
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			// Creating the lock file failed: a permission or disk problem.
			return nil, fmt.Errorf("diskstore: open %s: %w", dir, err)
		}
		return nil, fmt.Errorf("diskstore: open %s: %w (%v)", dir, ErrLocked, err)
	}
	if err := removeSnapshots(dir); err != nil {
		lock.Close()
		return nil, fmt.Errorf("diskstore: open %s: %w", dir, err)
	}
	// Pebble takes a reference of its own to the cache.
	cache := opts.Cache
	if cache == nil {
		cache = NewCache(opts.CacheSize)
		defer cache.Close()
	}
	s := &Store{dir: dir, lock: lock, opts: opts}
	s.jsync.cond.L = &s.jsync.mu
	s.ov = newOverlay()
	s.jrnl.fs, s.jrnl.dir = opts.fs, dir
	s.parked.FS, s.parked.store, s.parked.release = opts.fs, s, make(chan struct{})
	popts := &pebble.Options{
		Cache:        cache.c,
		MemTableSize: opts.MemTableSize,
		Lock:         lock,
		Logger:       quietLogger{},
		// Pebble's default for a damaged block it reads is Logger.Fatalf,
		// which ends the process. The read returns a corruption error too,
		// which the store passes on: log the event and go on.
		EventListener: &pebble.EventListener{
			DataCorruption: func(info pebble.DataCorruptionInfo) {
				quietLogger{}.Errorf("diskstore: on-disk corruption in %s: %v", info.Path, info.Details)
			},
			BackgroundError: s.backgroundError,
		},
		FS: &s.parked,
		// Pinned, so that a Pebble upgrade never silently rewrites a store
		// into a format older cairn binaries cannot open. WAL sync chunks
		// (since FormatWALSyncChunks) tell a torn log tail from corruption.
		FormatMajorVersion: pebble.FormatValueSeparation,
	}
	// A second compaction may run beside the first when Pebble sees
	// compaction debt, a deep L0 or many deleted bytes: the compaction
	// after a garbage collection otherwise holds the only slot while
	// flushed tables pile up in L0.
	popts.CompactionConcurrencyRange = func() (int, int) { return 1, 2 }
	popts.L0CompactionThreshold = l0Compact
	popts.L0StopWritesThreshold = l0StopWrites
	// Bloom filters (10 bits a key, about 1% false positives) let a
	// lookup skip the tables that lack its chunk: chunk keys are hashes,
	// so every table spans the whole key space and, without a filter,
	// each lookup reads a data block of every L0 table and level.
	for i := range popts.Levels {
		popts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	popts.ApplyCompressionSettings(func() pebble.DBCompressionSettings { return pebble.DBCompressionNone })
	db, err := pebble.Open(dir, popts)
	if err != nil {
		close(s.parked.release)
		lock.Close()
		if pebble.IsCorruptionError(err) {
			// A damaged MANIFEST, log or table file.
			return nil, &chunk.CorruptionError{File: dir, Detail: err.Error()}
		}
		return nil, fmt.Errorf("diskstore: open %s: %w", dir, err)
	}
	s.db = db
	s.gate.idle.L = &s.gate.mu
	if err := s.load(); err != nil {
		s.jrnl.close()
		close(s.parked.release)
		db.Close()
		lock.Close()
		return nil, fmt.Errorf("diskstore: open %s: %w", dir, err)
	}
	return s, nil
}

// load checks the format, creating it in an empty database, and reads the
// generation and the refs.
func (s *Store) load() error {
	v, closer, err := s.db.Get(keyFormat)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		empty, err := s.isEmpty()
		if err != nil {
			return err
		}
		if !empty {
			return fmt.Errorf("no format key: %w", ErrUnknownFormat)
		}
		b := s.db.NewBatch()
		b.Set(keyFormat, []byte(formatValue), nil)
		b.Set(keyGen, binary.AppendUvarint(nil, 0), nil)
		b.Set(keyEpoch, binary.AppendUvarint(nil, 0), nil)
		if err := b.Commit(pebble.Sync); err != nil {
			return fmt.Errorf("create store: %w", err)
		}
	case err != nil:
		return fmt.Errorf("read format: %w", err)
	default:
		format := string(v)
		closer.Close()
		switch format {
		case formatValue:
		case formatValueV1:
			// Version 1 had no journal: start one at epoch 0.
			b := s.db.NewBatch()
			b.Set(keyFormat, []byte(formatValue), nil)
			b.Set(keyEpoch, binary.AppendUvarint(nil, 0), nil)
			if err := b.Commit(pebble.Sync); err != nil {
				return fmt.Errorf("upgrade store format: %w", err)
			}
		default:
			return fmt.Errorf("format %q, want %q: %w", format, formatValue, ErrUnknownFormat)
		}
	}

	v, closer, err = s.db.Get(keyGen)
	if err != nil {
		return fmt.Errorf("read generation: %w", err)
	}
	gen, n := binary.Uvarint(v)
	closer.Close()
	if n <= 0 {
		return &chunk.CorruptionError{File: s.dir, Detail: "bad generation key"}
	}
	s.gen.Store(gen)
	s.leases = chunk.NewLeases(gen)

	refs := make(map[string]chunk.Hash)
	lower, upper := prefixBounds(prefixRef)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return fmt.Errorf("read refs: %w", err)
	}
	for it.First(); it.Valid(); it.Next() {
		name := string(it.Key()[1:])
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return fmt.Errorf("read ref %q: %w", name, err)
		}
		if len(v) != chunk.HashSize {
			it.Close()
			return &chunk.CorruptionError{File: s.dir, Detail: fmt.Sprintf("ref %q holds %d bytes", name, len(v))}
		}
		refs[name] = chunk.Hash(v)
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("read refs: %w", err)
	}
	s.refs.Store(&refs)
	s.pebbleRefs = maps.Clone(refs)

	v, closer, err = s.db.Get(keyEpoch)
	if err != nil {
		return fmt.Errorf("read journal epoch: %w", err)
	}
	epoch, n := binary.Uvarint(v)
	closer.Close()
	if n <= 0 {
		return &chunk.CorruptionError{File: s.dir, Detail: "bad journal epoch key"}
	}
	if err := s.replayJournal(epoch); err != nil {
		return err
	}
	// Write what the journal held to Pebble and start a new epoch, even
	// if it held nothing: what is left in the file (a torn record) can
	// then never be taken for a record of the epoch the store goes on in.
	if err := s.checkpoint(false); err != nil {
		return err
	}
	s.pruneOverlay()
	// Flush that batch to a table: Pebble then writes a manifest of its
	// own. Until it does, its checkpoints copy an empty manifest (they copy
	// the current one up to the size Pebble has written), and it writes
	// none at Open when it finds no log to replay, which happens after a
	// crash between the flush Open makes and the log it creates next.
	if err := s.db.Flush(); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	if s.opts.CheckpointSize < 0 {
		s.jrnl.close()
		if err := s.jrnl.fs.Remove(s.jrnl.path()); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove journal: %w", err)
		}
	}
	return nil
}

func (s *Store) isEmpty() (bool, error) {
	it, err := s.db.NewIter(nil)
	if err != nil {
		return false, err
	}
	empty := !it.First()
	return empty, it.Close()
}

// Dir returns the directory of the store.
func (s *Store) Dir() string { return s.dir }

// Close waits for the calls in progress, then closes the store. Closing twice
// is harmless; every other method returns chunk.ErrClosed after Close.
func (s *Store) Close() error {
	// Let Pebble's parked background work fail and end first: a commit
	// in progress may be waiting on it.
	s.parked.releaseOnce.Do(func() { close(s.parked.release) })
	if !s.gate.close() {
		return nil
	}
	var err error
	if s.jrnl.f != nil {
		// Leave an empty journal: the next open replays nothing.
		if s.jrnl.records() && s.writable() == nil {
			err = s.checkpoint(false)
		}
		if cerr := s.jrnl.close(); err == nil {
			err = cerr
		}
	}
	if derr := s.db.Close(); err == nil {
		err = derr
	}
	if lerr := s.lock.Close(); err == nil {
		err = lerr
	}
	if err != nil {
		return fmt.Errorf("diskstore: close %s: %w", s.dir, err)
	}
	return nil
}

// enter is called first by every method; when it succeeds, the method must
// call s.gate.leave.
func (s *Store) enter() error {
	if !s.gate.enter() {
		return chunk.ErrClosed
	}
	return nil
}

// writable returns the error that broke the store, if any.
func (s *Store) writable() error {
	if p := s.broken.Load(); p != nil {
		return fmt.Errorf("diskstore: the store refuses writes after a failed write or sync, until it is opened again (restart the server): %w", *p)
	}
	return nil
}

// Get implements chunk.Store. The bytes are checked against h.
func (s *Store) Get(ctx context.Context, h chunk.Hash) ([]byte, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.gate.leave()
	if data := s.ov.get(h); data != nil {
		return bytes.Clone(data), nil
	}
	v, closer, err := s.db.Get(chunkKey(h))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, fmt.Errorf("diskstore: get %s: %w", h, chunk.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("diskstore: get %s: %w", h, s.readError(h, err))
	}
	data, _, err := decodeValue(h, v)
	closer.Close()
	if err == nil {
		err = chunk.Verify(h, data)
	}
	if err != nil {
		return nil, fmt.Errorf("diskstore: get: %w", err)
	}
	return data, nil
}

// readError returns err, as a chunk.CorruptionError naming h if Pebble
// found the stored data damaged.
func (s *Store) readError(h chunk.Hash, err error) error {
	if pebble.IsCorruptionError(err) {
		return &chunk.CorruptionError{Hash: h, File: s.dir, Detail: err.Error()}
	}
	return err
}

// sortedUnique returns hashes sorted and without duplicates, in a new slice.
func sortedUnique(hashes []chunk.Hash) []chunk.Hash {
	out := slices.Clone(hashes)
	slices.SortFunc(out, chunk.Hash.Compare)
	return slices.Compact(out)
}

// seekEach positions an iterator over the chunk keys at each of hashes in
// ascending order, calling fn with the value of every one present. The value
// is valid only during the call.
func (s *Store) seekEach(ctx context.Context, hashes []chunk.Hash, fn func(h chunk.Hash, v []byte) error) error {
	lower, upper := prefixBounds(prefixChunk)
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return err
	}
	key := make([]byte, 1+chunk.HashSize)
	key[0] = prefixChunk
	for i, h := range sortedUnique(hashes) {
		if i%256 == 255 {
			if err := ctx.Err(); err != nil {
				it.Close()
				return err
			}
		}
		copy(key[1:], h[:])
		// A prefix seek (the prefix is the whole key) consults the
		// tables' Bloom filters and skips the tables that lack the key.
		if !it.SeekPrefixGE(key) {
			// An absent chunk, or an error that the next seek would
			// clear.
			if err := it.Error(); err != nil {
				it.Close()
				return s.readError(h, err)
			}
			continue
		}
		if !bytes.Equal(it.Key(), key) {
			continue
		}
		v, err := it.ValueAndErr()
		if err != nil {
			err = s.readError(h, err)
		} else {
			err = fn(h, v)
		}
		if err != nil {
			it.Close()
			return err
		}
	}
	return it.Close()
}

// GetMany implements chunk.Store. Each chunk is checked against its hash;
// a mismatch ends the call with an error matching chunk.ErrCorruption.
// Duplicate hashes are delivered once.
func (s *Store) GetMany(ctx context.Context, hashes []chunk.Hash, found func(chunk.Chunk) error) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.gate.leave()
	hashes, held := s.ov.split(hashes)
	for _, c := range held {
		if err := found(c); err != nil {
			return fmt.Errorf("diskstore: get many: %w", err)
		}
	}
	err := s.seekEach(ctx, hashes, func(h chunk.Hash, v []byte) error {
		data, _, err := decodeValue(h, v)
		if err == nil {
			err = chunk.Verify(h, data)
		}
		if err != nil {
			return err
		}
		return found(chunk.Chunk{Hash: h, Data: data})
	})
	if err != nil {
		return fmt.Errorf("diskstore: get many: %w", err)
	}
	return nil
}

// Has implements chunk.Store.
func (s *Store) Has(ctx context.Context, h chunk.Hash) (bool, error) {
	if err := s.enter(); err != nil {
		return false, err
	}
	defer s.gate.leave()
	ok, err := s.has(h)
	if err != nil {
		return false, fmt.Errorf("diskstore: has %s: %w", h, err)
	}
	return ok, nil
}

func (s *Store) has(h chunk.Hash) (bool, error) {
	if s.ov.has(h) {
		return true, nil
	}
	_, closer, err := s.db.Get(chunkKey(h))
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, s.readError(h, err)
	}
	closer.Close()
	return true, nil
}

// HasMany implements chunk.Store.
func (s *Store) HasMany(ctx context.Context, hashes []chunk.Hash) (chunk.HashSet, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.gate.leave()
	hashes = s.ov.lacking(hashes)
	cache := len(hashes) <= presentCalls
	var epoch uint64
	if cache {
		hashes, epoch = s.present.lacking(hashes)
	}
	absent := chunk.NewHashSet(hashes...)
	if len(hashes) == 0 {
		return absent, nil
	}
	var found []chunk.Hash
	err := s.seekEach(ctx, hashes, func(h chunk.Hash, _ []byte) error {
		delete(absent, h)
		if cache {
			found = append(found, h)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("diskstore: has many: %w", err)
	}
	if len(found) > 0 {
		s.present.add(found, epoch)
	}
	return absent, nil
}

// Put implements chunk.Store. Every chunk is written again even if present,
// stamped with the current generation, which is what keeps a chunk that a
// live transaction reuses from being collected. The write is not synced: the
// next UpdateRefs makes it durable.
func (s *Store) Put(ctx context.Context, chunks ...chunk.Chunk) error {
	return s.put(chunks, false)
}

// PutOwned implements chunk.OwnedPutter: the overlay keeps the chunks'
// bytes without a copy.
func (s *Store) PutOwned(ctx context.Context, chunks ...chunk.Chunk) error {
	return s.put(chunks, true)
}

// put stores chunks; owned: their bytes may be kept as they are.
func (s *Store) put(chunks []chunk.Chunk, owned bool) error {
	if err := s.enter(); err != nil {
		return err
	}
	s.writes.Add(1)
	defer s.gate.leave()
	if err := s.writable(); err != nil {
		return err
	}
	if len(chunks) == 0 {
		return nil
	}
	s.putMu.RLock()
	defer s.putMu.RUnlock()
	gen := s.gen.Load()
	if s.journaling() {
		if s.ov.size() < 4*s.opts.CheckpointSize {
			s.ov.put(chunks, gen, owned)
			return nil
		}
		// The overlay is full: to Pebble, with what these chunks reach
		// in the overlay.
		var refs []chunk.Hash
		pend := make([]pending, 0, len(chunks))
		for _, c := range chunks {
			pend = append(pend, pending{hash: c.Hash, data: c.Data})
			if env, err := chunk.Decode(c.Hash, c.Data); err == nil {
				refs = append(refs, env.Refs()...)
			}
		}
		if err := s.moveToPebble(pend, refs); err != nil {
			return fmt.Errorf("diskstore: put %d chunks: %w", len(chunks), err)
		}
		return nil
	}
	b := s.db.NewBatch()
	defer b.Close()
	var val []byte
	for _, c := range chunks {
		val = appendValue(val[:0], c.Data, gen)
		if err := b.Set(chunkKey(c.Hash), val, nil); err != nil {
			return fmt.Errorf("diskstore: put %s: %w", c.Hash, err)
		}
	}
	// NoSync is safe: Pebble (v2.1) appends batches to its write-ahead log
	// in commit order and a synced commit syncs the log up to its own
	// record (commitPipeline in commit.go), and it closes and syncs a log
	// file before it creates the next (rotateWAL in db.go). So the synced
	// batch of a later UpdateRefs makes this one durable too; TestPowerLoss
	// and the crash tests check it.
	if err := s.commit(b, pebble.NoSync); err != nil {
		return fmt.Errorf("diskstore: put %d chunks: %w", len(chunks), err)
	}
	return nil
}

// Writes counts the calls of Put and UpdateRefs (successful or not) since
// the store was opened; garbage collection's own deletions do not count.
// The same count at two moments means nothing was written between them.
func (s *Store) Writes() uint64 { return s.writes.Load() }

// Refs implements chunk.Store. It returns a copy of the durable refs.
func (s *Store) Refs(ctx context.Context) (map[string]chunk.Hash, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.gate.leave()
	cur := *s.refs.Load()
	out := make(map[string]chunk.Hash, len(cur))
	for k, v := range cur {
		out[k] = v
	}
	return out, nil
}

// Leases implements chunk.Collectable.
func (s *Store) Leases() *chunk.Leases { return s.leases }

// ForEachChunk implements chunk.Collectable: Pebble's chunks, read from a
// consistent view taken when it starts, and the overlay's. A stored value it
// cannot decode ends it with an error matching chunk.ErrCorruption.
func (s *Store) ForEachChunk(ctx context.Context, fn func(h chunk.Hash, gen uint64) error) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.gate.leave()
	// A chunk in both is reported once, with the newer generation: GC
	// then deletes both copies or neither.
	held := make(map[chunk.Hash]uint64)
	for _, c := range s.ov.stamps() {
		held[c.hash] = c.gen
	}
	err := s.forEachChunk(ctx, func(h chunk.Hash, gen uint64) error {
		if g, ok := held[h]; ok {
			delete(held, h)
			gen = max(gen, g)
		}
		return fn(h, gen)
	})
	for h, gen := range held {
		if err != nil {
			break
		}
		err = fn(h, gen)
	}
	if err != nil {
		return fmt.Errorf("diskstore: for each chunk: %w", err)
	}
	return nil
}

func (s *Store) forEachChunk(ctx context.Context, fn func(h chunk.Hash, gen uint64) error) error {
	lower, upper := prefixBounds(prefixChunk)
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return err
	}
	defer it.Close()
	n := 0
	for it.First(); it.Valid(); it.Next() {
		if n++; n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		k := it.Key()
		if len(k) != 1+chunk.HashSize {
			return &chunk.CorruptionError{File: s.dir, Detail: fmt.Sprintf("chunk key of %d bytes", len(k))}
		}
		h := chunk.Hash(k[1:])
		v, err := it.ValueAndErr()
		if err != nil {
			return s.readError(h, err)
		}
		_, gen, _, err := decodeHeader(h, v)
		if err != nil {
			return err
		}
		if err := fn(h, gen); err != nil {
			return err
		}
	}
	if err := it.Error(); err != nil {
		return s.readError(chunk.Hash{}, err)
	}
	return nil
}

// DeleteChunks implements chunk.Collectable. It holds Put off while it checks
// generations and deletes, so a chunk Put meanwhile is either stamped before
// the check (and kept) or written after the deletion (and present). The
// deletion is not synced: one lost in a crash leaves garbage, nothing worse.
func (s *Store) DeleteChunks(ctx context.Context, hashes []chunk.Hash, before uint64) (int, error) {
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.gate.leave()
	if err := s.writable(); err != nil {
		return 0, err
	}
	s.putMu.Lock()
	defer s.putMu.Unlock()
	n := s.ov.deleteBefore(hashes, before)
	b := s.db.NewBatch()
	defer b.Close()
	err := s.seekEach(ctx, hashes, func(h chunk.Hash, v []byte) error {
		_, gen, _, err := decodeHeader(h, v)
		if err != nil {
			return err
		}
		if gen < before {
			n++
			// The size lets Pebble's compaction picking weigh the
			// space the tombstone frees, so it is given back soon.
			return b.DeleteSized(chunkKey(h), uint32(1+chunk.HashSize+len(v)), nil)
		}
		return nil
	})
	if err == nil && !b.Empty() {
		err = s.commit(b, pebble.NoSync)
		// After the deletion, so that no lookup that saw a chunk before
		// it can remember the chunk after.
		s.present.forget()
	}
	if err != nil {
		return 0, fmt.Errorf("diskstore: delete chunks: %w", err)
	}
	return n, nil
}

// AdvanceGeneration implements chunk.Collectable. The new generation is
// synced to disk before any Put stamps it.
func (s *Store) AdvanceGeneration(ctx context.Context) (uint64, error) {
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.gate.leave()
	if err := s.writable(); err != nil {
		return 0, err
	}
	return s.advanceGeneration()
}

// advanceGeneration is AdvanceGeneration once the store is entered.
func (s *Store) advanceGeneration() (uint64, error) {
	s.genMu.Lock()
	defer s.genMu.Unlock()
	gen := s.gen.Load() + 1
	b := s.db.NewBatch()
	defer b.Close()
	b.Set(keyGen, binary.AppendUvarint(nil, gen), nil)
	if err := s.commit(b, pebble.Sync); err != nil {
		s.breakStore(err)
		return 0, fmt.Errorf("diskstore: advance generation: %w", err)
	}
	// Wait for the Puts in progress, so that every Put that starts after
	// this returns stamps the new generation.
	s.putMu.Lock()
	s.gen.Store(gen)
	s.putMu.Unlock()
	s.leases.SetGeneration(gen)
	return gen, nil
}

// DiskUsage returns the bytes the store's files take on disk, as Pebble
// counts them (tables, logs, manifests, including obsolete files not yet
// deleted).
func (s *Store) DiskUsage() uint64 {
	if err := s.enter(); err != nil {
		return 0
	}
	defer s.gate.leave()
	return s.db.Metrics().DiskSpaceUsage()
}

func (s *Store) breakStore(err error) { s.broken.CompareAndSwap(nil, &err) }

// diskErrnos are the errors of a disk that cannot take writes now.
var diskErrnos = []error{syscall.ENOSPC, syscall.EDQUOT, syscall.EIO, syscall.EROFS}

// backgroundError is called by Pebble when a flush or compaction fails.
// Pebble retries at once and without end, so on a full disk it fails
// hundreds of times a second: the errors are logged at a bounded rate. A
// failure of the disk itself (full, read-only, an I/O error) also breaks
// the store: its next commit would fail the same way or, with flushes
// failing, stall once the memtables fill up; refusing writes at once gives
// the client a clear error instead.
func (s *Store) backgroundError(err error) {
	s.bgErrors.log(err)
	for _, e := range diskErrnos {
		if errors.Is(err, e) {
			s.breakStore(err)
			return
		}
	}
}

// parkingFS is the file system Pebble works on. Once the store is broken,
// a table or manifest file created (by a flush or a compaction) waits until
// the store is closed, and then fails. Pebble retries failed flushes and
// compactions at once and without end, and on a full disk each would fail
// again: parked, they use no CPU, while reads, which create no files, go on.
// A log file is not parked: only a commit already under way when the store
// broke creates one, and it fails at once rather than wait.
type parkingFS struct {
	vfs.FS
	store       *Store
	release     chan struct{}
	releaseOnce sync.Once
}

func (p *parkingFS) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	if p.store.broken.Load() != nil && !strings.HasSuffix(name, ".log") {
		<-p.release
		return nil, fmt.Errorf("create %s: %w", name, chunk.ErrClosed)
	}
	return p.FS.Create(name, category)
}

// errorLog logs the first error and then at most one line per
// errorLogEvery, counting the errors it left out.
type errorLog struct {
	mu      sync.Mutex
	last    time.Time
	skipped int
}

const errorLogEvery = 10 * time.Second

func (l *errorLog) log(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if !l.last.IsZero() && now.Sub(l.last) < errorLogEvery {
		l.skipped++
		return
	}
	if l.skipped > 0 {
		quietLogger{}.Errorf("diskstore: background error: %v (and %d more in the last %s)", err, l.skipped, now.Sub(l.last).Round(time.Second))
	} else {
		quietLogger{}.Errorf("diskstore: background error: %v", err)
	}
	l.last, l.skipped = now, 0
}

// Check walks every chunk reachable from every ref, checking that each is
// present, decodes as an envelope and matches its hash. It returns the first
// problem found: an error matching chunk.ErrNotFound for a missing chunk,
// chunk.ErrCorruption for a bad one.
func (s *Store) Check(ctx context.Context) error {
	refs, err := s.Refs(ctx)
	if err != nil {
		return fmt.Errorf("diskstore: check: %w", err)
	}
	names := make([]string, 0, len(refs))
	for name := range refs {
		names = append(names, name)
	}
	slices.Sort(names)
	roots := make([]chunk.Hash, 0, len(names))
	for _, name := range names {
		roots = append(roots, refs[name])
	}
	err = chunk.Walk(ctx, s, roots, nil, func(chunk.Hash, []byte) error { return nil })
	if err != nil {
		return fmt.Errorf("diskstore: check: %w", err)
	}
	return nil
}

// quietLogger drops Pebble's informational messages and passes on the rest.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any)              {}
func (quietLogger) Errorf(format string, args ...any) { pebble.DefaultLogger.Errorf(format, args...) }

// Fatalf logs and panics with a pebbleFatal instead of ending the process
// as Pebble's own logger does. Pebble calls it when a write to its log
// fails (a failed fsync, a full disk, an I/O error) in the goroutine that
// committed, where Store.commit recovers it and refuses further writes, so
// the process's other stores go on serving. From Pebble's background work
// (a failed MANIFEST write) it still ends the process; the store recovers
// from its log when opened again.
func (quietLogger) Fatalf(format string, args ...any) {
	f := pebbleFatal{msg: fmt.Sprintf(format, args...)}
	for _, a := range args {
		if err, ok := a.(error); ok {
			f.cause = err
		}
	}
	pebble.DefaultLogger.Errorf("%s", f.msg)
	panic(f)
}

// pebbleFatal is a failure Pebble cannot go on from.
type pebbleFatal struct {
	msg   string
	cause error
}

func (f pebbleFatal) Error() string { return f.msg }
func (f pebbleFatal) Unwrap() error { return f.cause }

// commit commits b. A failure Pebble treats as fatal (see quietLogger.Fatalf)
// breaks the store: what reached the disk is unknown, so every later write
// is refused until the store is opened again.
func (s *Store) commit(b *pebble.Batch, o *pebble.WriteOptions) (err error) {
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(pebbleFatal)
			if !ok {
				panic(r)
			}
			err = f
			s.breakStore(err)
		}
	}()
	return b.Commit(o)
}

// Compact rewrites the chunk key range, so that the space of deleted
// chunks is given back to the file system now rather than when Pebble's
// own compactions reach their tombstones. Garbage collection calls it after
// deleting much.
func (s *Store) Compact(ctx context.Context) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.gate.leave()
	if err := s.writable(); err != nil {
		return err
	}
	lower, upper := prefixBounds(prefixChunk)
	if err := s.db.Compact(ctx, lower, upper, true); err != nil {
		return fmt.Errorf("diskstore: compact: %w", err)
	}
	return nil
}
