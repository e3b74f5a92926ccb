package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
)

// DefaultPackSize is the size a sync fills a pack to before it starts the
// next one.
const DefaultPackSize = 64 << 20

// MinPruneGrace is the least age of an unreferenced pack that Prune deletes:
// a sync that died may have been writing it moments ago (on a destination
// without a working lock, such as one copied by hand).
const MinPruneGrace = 10 * time.Minute

// SyncOptions configures Sync.
type SyncOptions struct {
	// Database is the name of the database synced, recorded in the lock
	// and the manifest.
	Database string
	// Leases, if the source store is collectable, is its lease registry:
	// the sync leases every ref it copies, so garbage collection keeps
	// their chunks until it is done.
	Leases *chunk.Leases
	// Progress, if not nil, receives progress reports.
	Progress ProgressFunc
	// PackSize is the target pack size; 0 means DefaultPackSize.
	PackSize int
	// PruneGrace, if positive, makes the sync delete the packs the new
	// manifest does not name that are older than it (see MinPruneGrace).
	PruneGrace time.Duration
	// LockTTL is the lifetime of the destination lock between renewals;
	// 0 means LockTTL.
	LockTTL time.Duration
	// NoBase makes the first sync to an empty destination walk and pack
	// the chunks, as later syncs do, even when the source can be copied as
	// files (see BaseRef).
	NoBase bool
}

// SyncStats is what a sync did.
type SyncStats struct {
	Refs     int   // refs in the backup
	Chunks   int64 // chunks uploaded
	Bytes    int64 // their size before compression
	Uploaded int64 // bytes written to the destination: packs and manifest
	Packs    int   // packs written
	Files    int   // files of a base written
	Pruned   int   // unreferenced packs deleted
	UpToDate bool  // the destination already held exactly these refs
	Duration time.Duration
}

// Sync copies every ref of src, and every chunk they reach that d lacks, to
// d. The refs are read in one atomic step when it starts; what is committed
// after that is not in this backup and never disturbs it. d keeps its old
// backup, whole, until the new manifest replaces it in one atomic swap.
func Sync(ctx context.Context, src chunk.Store, d Destination, opts SyncOptions) (st SyncStats, err error) {
	start := time.Now()
	defer func() { st.Duration = time.Since(start) }()
	if opts.PackSize <= 0 {
		opts.PackSize = DefaultPackSize
	}
	if opts.LockTTL <= 0 {
		opts.LockTTL = LockTTL
	}
	if opts.PruneGrace > 0 && opts.PruneGrace < MinPruneGrace {
		return st, fmt.Errorf("the prune grace period must be at least %v", MinPruneGrace)
	}

	var refs map[string]chunk.Hash
	if opts.Leases != nil {
		r, lease, err := opts.Leases.AcquireRefs(ctx, src)
		if err != nil {
			return st, err
		}
		defer lease.Release()
		refs = r
	} else if refs, err = src.Refs(ctx); err != nil {
		return st, err
	}
	st.Refs = len(refs)

	// A destination that already holds exactly these refs holds
	// everything they reach (its manifest is written last): nothing to do,
	// and nothing is written, not even the lock.
	m, _, err := loadManifest(ctx, d)
	if err != nil {
		return st, err
	}
	if m.sameRefs(refs) && opts.PruneGrace == 0 {
		st.UpToDate = true
		return st, nil
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lock, err := acquireLock(ctx, d, "sync", opts.Database, opts.LockTTL, cancel)
	if err != nil {
		return st, err
	}
	defer func() {
		if uerr := lock.release(); uerr != nil && err == nil {
			err = uerr
		}
		if lerr := lock.check(); lerr != nil && err != nil && errors.Is(err, context.Canceled) {
			err = lerr // the cancellation came from losing the lock
		}
	}()
	// Read again under the lock: another sync may have finished meanwhile.
	m, mVersion, err := loadManifest(ctx, d)
	if err != nil {
		return st, err
	}
	rep := newReporter(opts.Progress)
	if !m.sameRefs(refs) {
		snapper, files := src.(chunk.FileSnapshotter)
		if files && !opts.NoBase && m.Base == nil && len(m.Packs) == 0 {
			// An empty destination: copy the store's files.
			var snap *chunk.FileSnapshot
			if snap, err = snapper.SnapshotFiles(ctx); err != nil {
				return st, err
			}
			defer func() {
				if rerr := snap.Release(); rerr != nil && err == nil {
					err = fmt.Errorf("remove the snapshot the sync copied: %w", rerr)
				}
			}()
			if m.Base, err = uploadBase(ctx, snap, d, rep, &st); err != nil {
				return st, err
			}
			refs = snap.Refs
			st.Refs = len(refs)
		} else {
			have, err := loadHave(ctx, d, m)
			if err != nil {
				return st, err
			}
			if m.Base != nil && m.Base.Reach == nil {
				// The first sync after the base: what the base's refs reach
				// in src is at the destination, whole (see BaseRef).
				reach, err := baseReach(ctx, src, m.Base)
				if err != nil {
					return st, err
				}
				for _, h := range reach {
					have.Add(h)
				}
				n, err := putReach(ctx, d, m.Base, reach)
				if err != nil {
					return st, err
				}
				st.Uploaded += n
			}
			packs, err := copyMissing(ctx, src, d, refs, have, opts.PackSize, rep, &st)
			if err != nil {
				return st, err
			}
			m.Packs = append(m.Packs, packs...)
		}
		if err := lock.check(); err != nil {
			return st, err
		}
		m.Refs = refStrings(refs)
		m.Kind, m.Database, m.Updated = "backup", opts.Database, time.Now().UTC()
		data := encodeManifest(m)
		if _, err := d.Swap(ctx, manifestName, data, mVersion); err != nil {
			if errors.Is(err, ErrVersionMismatch) {
				return st, fmt.Errorf("the manifest of %s changed during the sync (did another process write there without its lock?): this sync is abandoned, the backup is as the other writer left it", d.URL())
			}
			return st, fmt.Errorf("write the manifest of %s: %w", d.URL(), err)
		}
		st.Uploaded += int64(len(data))
	} else {
		st.UpToDate = true
	}
	if opts.PruneGrace > 0 {
		n, err := prune(ctx, d, m, opts.PruneGrace)
		st.Pruned = n
		if err != nil {
			return st, err
		}
	}
	return st, nil
}

// loadIndexes reads the indexes of the manifest's packs (a few in
// parallel).
func loadIndexes(ctx context.Context, d Destination, m *Manifest) ([]*packIndex, error) {
	out := make([]*packIndex, len(m.Packs))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for i, p := range m.Packs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ix, err := readPackIndex(ctx, d, p.Name, p.Size)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			out[i] = ix
		}()
	}
	wg.Wait()
	if firstErr != nil {
		if errors.Is(firstErr, ErrNotExist) {
			return nil, fmt.Errorf("the destination %s is damaged: a pack its manifest names is missing (%v); run `cairn backup verify`", d.URL(), firstErr)
		}
		return nil, firstErr
	}
	return out, nil
}

// loadHave returns the chunks the destination holds, with all they reach:
// what its packs and its base's reach index name.
func loadHave(ctx context.Context, d Destination, m *Manifest) (chunk.HashSet, error) {
	ixs, err := loadIndexes(ctx, d, m)
	if err != nil {
		return nil, err
	}
	have := make(chunk.HashSet)
	if m.Base != nil && m.Base.Reach != nil {
		index, err := loadReach(ctx, d, m.Base)
		if err != nil {
			return nil, err
		}
		for _, h := range index {
			have.Add(h)
		}
	}
	for _, ix := range ixs {
		for _, e := range ix.entries {
			have.Add(e.hash)
		}
	}
	return have, nil
}

// keepBytes bounds the chunk data a sync holds in memory between its scan
// and its packing; the data of chunks beyond it is read again.
const keepBytes = 256 << 20

// missingChunk is a chunk the destination lacks, with its data if the scan
// kept it.
type missingChunk struct {
	hash chunk.Hash
	data []byte
}

// copyMissing walks from the refs, skipping chunks the destination has (it
// holds everything below them), and packs and puts every chunk it finds,
// while it walks: one goroutine scans, workers pack (a second one starts
// once there is more than a pack's worth).
func copyMissing(ctx context.Context, src chunk.Store, d Destination, refs map[string]chunk.Hash, have chunk.HashSet, packSize int, rep *reporter, st *SyncStats) ([]PackRef, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		packs    []PackRef
		firstErr error

		scanned, scannedBytes atomic.Int64 // found by the scan
		held                  atomic.Int64 // bytes of kept data not yet packed
		scanDone              atomic.Bool
		doneN, doneB          atomic.Int64 // packed
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		cancel()
	}
	progress := func(final bool) {
		p := Progress{Phase: "scanning", Chunks: scanned.Load(), Bytes: scannedBytes.Load()}
		if scanDone.Load() {
			p = Progress{Phase: "uploading", Chunks: doneN.Load(), TotalChunks: scanned.Load(), Bytes: doneB.Load(), TotalBytes: scannedBytes.Load()}
		}
		rep.report(p, final)
	}

	chunks := make(chan missingChunk, 4096)
	go func() {
		defer close(chunks)
		err := chunk.Walk(ctx, src, refRoots(refs), have.Has, func(h chunk.Hash, data []byte) error {
			c := missingChunk{hash: h}
			if held.Load() < keepBytes {
				c.data = data
				held.Add(int64(len(data)))
			}
			scanned.Add(1)
			scannedBytes.Add(int64(len(data)))
			select {
			case chunks <- c:
			case <-ctx.Done():
				return ctx.Err()
			}
			progress(false)
			return nil
		})
		if err != nil {
			fail(fmt.Errorf("read the database: %w", err))
			return
		}
		scanDone.Store(true)
	}()

	put := func(pw *packWriter) error {
		name, data := pw.finish()
		if err := d.Put(ctx, name, bytes.NewReader(data), int64(len(data))); err != nil {
			return fmt.Errorf("write %s to %s: %w", name, d.URL(), err)
		}
		mu.Lock()
		packs = append(packs, PackRef{Name: name, Size: int64(len(data)), Chunks: pw.count()})
		st.Packs++
		st.Uploaded += int64(len(data))
		mu.Unlock()
		return nil
	}
	worker := func() error {
		pw := newPackWriter()
		var reread []chunk.Hash
		flushReread := func() error {
			if len(reread) == 0 {
				return nil
			}
			got := 0
			err := src.GetMany(ctx, reread, func(c chunk.Chunk) error {
				pw.add(c.Hash, c.Data)
				got++
				doneN.Add(1)
				doneB.Add(int64(len(c.Data)))
				return nil
			})
			if err == nil && got != len(reread) {
				err = fmt.Errorf("read the database: %d of %d chunks vanished during the sync: %w", len(reread)-got, len(reread), chunk.ErrNotFound)
			}
			reread = reread[:0]
			return err
		}
		for c := range chunks {
			if c.data == nil {
				if reread = append(reread, c.hash); len(reread) == uploadBatch {
					if err := flushReread(); err != nil {
						return err
					}
				}
			} else {
				pw.add(c.hash, c.data)
				held.Add(-int64(len(c.data)))
				doneN.Add(1)
				doneB.Add(int64(len(c.data)))
			}
			if pw.size() >= packSize {
				if err := flushReread(); err != nil {
					return err
				}
				if err := put(pw); err != nil {
					return err
				}
				pw = newPackWriter()
			}
			if scanDone.Load() {
				progress(false)
			}
		}
		if err := flushReread(); err != nil {
			return err
		}
		if pw.count() > 0 {
			return put(pw)
		}
		return nil
	}
	var wg sync.WaitGroup
	for i := range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Workers after the first start only when there is more
			// than a pack to fill, so a small sync makes one pack.
			for i > 0 && scannedBytes.Load() < int64(packSize) && !scanDone.Load() && ctx.Err() == nil {
				time.Sleep(5 * time.Millisecond)
			}
			if i > 0 && scannedBytes.Load() < int64(packSize) {
				return
			}
			if err := worker(); err != nil {
				fail(err)
				for range chunks { // let the scan end
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	progress(true)
	st.Chunks, st.Bytes = scanned.Load(), scannedBytes.Load()
	return packs, nil
}

// uploadBatch is how many chunks a worker reads again at once.
const uploadBatch = 256

// prune deletes the packs under d that m does not name and that are older
// than grace: packs of syncs that died before writing their manifest.
func prune(ctx context.Context, d Destination, m *Manifest, grace time.Duration) (int, error) {
	named := make(map[string]bool, len(m.Packs))
	for _, p := range m.Packs {
		named[p.Name] = true
	}
	objs, err := d.List(ctx, packPrefix)
	if err != nil {
		return 0, fmt.Errorf("list the packs of %s: %w", d.URL(), err)
	}
	cutoff := time.Now().Add(-grace)
	n := 0
	for _, o := range objs {
		if named[o.Name] || !isPackName(o.Name) || o.Modified.After(cutoff) {
			continue
		}
		if err := d.Delete(ctx, o.Name); err != nil {
			return n, fmt.Errorf("delete %s: %w", o.Name, err)
		}
		n++
	}
	// The objects of a base no manifest names: a first sync that died.
	objs, err = d.List(ctx, basePrefix)
	if err != nil {
		return n, fmt.Errorf("list the bases of %s: %w", d.URL(), err)
	}
	for _, o := range objs {
		if (m.Base != nil && strings.HasPrefix(o.Name, basePrefix+m.Base.ID+"/")) || o.Modified.After(cutoff) {
			continue
		}
		if err := d.Delete(ctx, o.Name); err != nil {
			return n, fmt.Errorf("delete %s: %w", o.Name, err)
		}
		n++
	}
	// Temporary files of a sync that died, on a local destination (List
	// does not show them), and the directories left empty.
	if lo, ok := d.(localObjects); ok {
		for _, prefix := range []string{packPrefix, basePrefix} {
			k, err := lo.pruneTemps(prefix, cutoff)
			n += k
			if err != nil {
				return n, fmt.Errorf("prune %s: %w", d.URL(), err)
			}
		}
	}
	return n, nil
}
