package chunk

import (
	"context"
	"fmt"
	"math"
	"sync"
)

// Garbage collection is online: readers and writers keep working while it
// runs. Two mechanisms protect what is not yet reachable from a ref:
//
//   - Generations. Every chunk is stamped, when Put (again), with the store's
//     current generation. GC starts by advancing the generation; it only
//     deletes chunks stamped before the oldest generation any live lease
//     began in, so whatever an in-flight transaction wrote survives.
//   - Leases. A reader or writer takes a Lease on the roots it will read
//     before it reads them, and releases it when done. GC marks from every ref
//     and every root leased when it starts.
//
// The contract for callers: hold a lease from before the first Put of a
// transaction until the refs naming its result are updated, and only set a ref
// to a chunk that is reachable from a ref or a live lease, or was written under
// a live lease.

// Collectable is a store that GC can sweep. Both stores in cairn implement it.
// GC calls Refs with the lease registry locked: Refs must not acquire or
// release a lease.
type Collectable interface {
	Store
	// Leases returns the store's lease registry.
	Leases() *Leases
	// ForEachChunk calls fn with the hash and generation of every chunk, in
	// no particular order and never concurrently.
	ForEachChunk(ctx context.Context, fn func(h Hash, gen uint64) error) error
	// DeleteChunks deletes each of hashes whose generation is still below
	// before, atomically with respect to Put: a chunk Put again meanwhile is
	// stamped with a newer generation and kept. It returns how many it deleted.
	DeleteChunks(ctx context.Context, hashes []Hash, before uint64) (int, error)
	// AdvanceGeneration makes every later Put stamp a generation above every
	// earlier one, durably, and returns the new generation.
	AdvanceGeneration(ctx context.Context) (uint64, error)
}

// Leases is a registry of live leases on a store. It is safe for concurrent use.
type Leases struct {
	mu     sync.Mutex
	gen    uint64 // the store's current generation, as last advanced
	next   uint64
	active map[uint64]*Lease
}

// Lease keeps its roots, and every chunk written since it was taken, from
// being collected until Release.
type Lease struct {
	owner *Leases
	id    uint64
	gen   uint64
	roots []Hash
}

// NewLeases returns an empty registry for a store at generation gen.
func NewLeases(gen uint64) *Leases {
	return &Leases{gen: gen, active: make(map[uint64]*Lease)}
}

// Acquire takes a lease on roots (zero hashes are ignored).
func (l *Leases) Acquire(roots ...Hash) *Lease {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.acquireLocked(roots)
}

// AcquireRefs reads the refs of s and takes a lease on every ref's value, in
// one step that no garbage collection can fall between: whatever the refs
// named when they were read stays in the store until the lease is released,
// even if the refs move on. s must be the store l belongs to.
func (l *Leases) AcquireRefs(ctx context.Context, s Store) (map[string]Hash, *Lease, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	refs, err := s.Refs(ctx)
	if err != nil {
		return nil, nil, err
	}
	roots := make([]Hash, 0, len(refs))
	for _, h := range refs {
		roots = append(roots, h)
	}
	return refs, l.acquireLocked(roots), nil
}

// acquireLocked is Acquire with l.mu held.
func (l *Leases) acquireLocked(roots []Hash) *Lease {
	l.next++
	ls := &Lease{owner: l, id: l.next, gen: l.gen, roots: append([]Hash(nil), roots...)}
	l.active[ls.id] = ls
	return ls
}

// Release ends the lease. It is idempotent.
func (ls *Lease) Release() {
	if ls == nil {
		return
	}
	l := ls.owner
	l.mu.Lock()
	delete(l.active, ls.id)
	l.mu.Unlock()
}

// Generation returns the store generation the registry last saw.
func (l *Leases) Generation() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.gen
}

// SetGeneration records the store's generation after it advanced.
func (l *Leases) SetGeneration(gen uint64) {
	l.mu.Lock()
	l.gen = gen
	l.mu.Unlock()
}

// Oldest returns the oldest generation a live lease began in
// (math.MaxUint64 when there are none).
func (l *Leases) Oldest() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	oldest := uint64(math.MaxUint64)
	for _, ls := range l.active {
		oldest = min(oldest, ls.gen)
	}
	return oldest
}

// Snapshot returns the roots of every live lease and the oldest generation
// any of them began in (math.MaxUint64 when there are none). A store that
// drops unreferenced chunks of its own (the disk store's journal overlay)
// keeps what these roots reach and what was written at or after that
// generation, as GC does.
func (l *Leases) Snapshot() ([]Hash, uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.snapshotLocked()
}

// snapshotLocked returns the roots of every live lease and the oldest
// generation among them (math.MaxUint64 when there are none). l.mu is held.
func (l *Leases) snapshotLocked() ([]Hash, uint64) {
	oldest := uint64(math.MaxUint64)
	var roots []Hash
	for _, ls := range l.active {
		roots = append(roots, ls.roots...)
		oldest = min(oldest, ls.gen)
	}
	return roots, oldest
}

// GCStats reports what a collection did.
type GCStats struct {
	Reachable      int    // chunks marked reachable
	ReachableBytes uint64 // their size
	Scanned        int    // chunks examined by the sweep
	Deleted        int    // chunks deleted
}

// gcDeleteBatch is how many chunks GC deletes in one atomic step.
const gcDeleteBatch = 1024

// GC deletes every chunk of s that is reachable from no ref and no live lease
// and was written before the oldest live lease began. It may run while the
// store is used. It fails, deleting nothing more, if a reachable chunk is
// missing or corrupt.
func GC(ctx context.Context, s Collectable) (GCStats, error) {
	var st GCStats
	leases := s.Leases()
	newGen, err := s.AdvanceGeneration(ctx)
	if err != nil {
		return st, fmt.Errorf("chunk: gc: advance generation: %w", err)
	}
	// Read the refs and the live leases at one instant, holding Acquire and
	// Release off in between. A transaction releases its lease only once
	// UpdateRefs has published its result: if it released before this
	// instant, its new root is in the refs; if after, its lease is in the
	// snapshot. (Reading one and then the other leaves a window in which a
	// transaction commits after the refs are read and releases before the
	// leases are, and its new chunks are deleted.)
	leases.mu.Lock()
	refs, err := s.Refs(ctx)
	if err != nil {
		leases.mu.Unlock()
		return st, fmt.Errorf("chunk: gc: read refs: %w", err)
	}
	roots, oldest := leases.snapshotLocked()
	for _, h := range refs {
		roots = append(roots, h)
	}
	// The collection leases what it marks from, so that another collection
	// running meanwhile does not delete it under the walk.
	own := leases.acquireLocked(roots)
	leases.mu.Unlock()
	defer own.Release()
	keepFrom := min(newGen, oldest)

	marked := make(HashSet)
	err = Walk(ctx, s, roots, nil, func(h Hash, data []byte) error {
		marked.Add(h)
		st.ReachableBytes += uint64(len(data))
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("chunk: gc: mark: %w", err)
	}
	st.Reachable = len(marked)

	var doomed []Hash
	err = s.ForEachChunk(ctx, func(h Hash, gen uint64) error {
		st.Scanned++
		if gen < keepFrom && !marked.Has(h) {
			doomed = append(doomed, h)
		}
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("chunk: gc: scan: %w", err)
	}
	for len(doomed) > 0 {
		n := min(len(doomed), gcDeleteBatch)
		d, err := s.DeleteChunks(ctx, doomed[:n], keepFrom)
		st.Deleted += d
		if err != nil {
			return st, fmt.Errorf("chunk: gc: sweep: %w", err)
		}
		doomed = doomed[n:]
	}
	return st, nil
}
