package remote

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
)

// scanner reads every pack of a manifest (and its base, see scanner.base),
// checking each pack's checksum and each chunk's hash, and the closure of
// the backup: every chunk a ref reaches is in it. Restore and Verify share
// it.
type scanner struct {
	d   Destination
	m   *Manifest
	rep *reporter
	// keepGoing: record problems and go on (Verify); otherwise stop at the
	// first (Restore).
	keepGoing bool
	// found, if not nil, receives every good chunk (concurrently).
	found func(c chunk.Chunk) error
	// basePlaced: the manifest's base is already where its chunks are
	// wanted (see Backup.PlaceBase), and is not read. outside then returns
	// which of hashes, chunks the scan did not read, the store there lacks.
	basePlaced bool
	outside    func(ctx context.Context, hashes []chunk.Hash) (chunk.HashSet, error)

	mu       sync.Mutex
	present  chunk.HashSet
	refsOf   map[chunk.Hash][]chunk.Hash // of every chunk read that names any
	problems []string

	chunks, bytes atomic.Int64
}

// problem records a problem; it returns err unless the scan keeps going.
func (s *scanner) problem(err error) error {
	s.mu.Lock()
	s.problems = append(s.problems, err.Error())
	s.mu.Unlock()
	if s.keepGoing {
		return nil
	}
	return err
}

func (s *scanner) run(ctx context.Context) error {
	s.present = make(chunk.HashSet)
	s.refsOf = map[chunk.Hash][]chunk.Hash{}
	var totalChunks, totalBytes int64
	for _, p := range s.m.Packs {
		totalChunks += int64(p.Chunks)
		totalBytes += p.Size
	}
	if b := s.m.Base; b != nil {
		totalBytes += b.bytes()
		if err := s.base(ctx, totalChunks, totalBytes); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	packs := make(chan PackRef)
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), max(1, len(s.m.Packs))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range packs {
				if err := s.pack(ctx, p); err != nil {
					errOnce.Do(func() { firstErr = err })
					cancel()
					return
				}
			}
		}()
	}
send:
	for _, p := range s.m.Packs {
		select {
		case packs <- p:
		case <-ctx.Done():
			break send
		}
		s.rep.report(Progress{Phase: "downloading", Chunks: s.chunks.Load(), TotalChunks: totalChunks, Bytes: s.bytes.Load(), TotalBytes: totalBytes}, false)
	}
	close(packs)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.rep.report(Progress{Phase: "downloading", Chunks: s.chunks.Load(), TotalChunks: totalChunks, Bytes: s.bytes.Load(), TotalBytes: totalBytes}, true)
	return s.closure(ctx)
}

// pack reads and checks one pack.
func (s *scanner) pack(ctx context.Context, p PackRef) error {
	data, err := s.d.Get(ctx, p.Name, 0, -1)
	if errors.Is(err, ErrNotExist) {
		return s.problem(&CorruptError{Object: p.Name, Detail: "the pack is missing"})
	}
	if err != nil {
		return fmt.Errorf("read %s from %s: %w", p.Name, s.d.URL(), err)
	}
	if int64(len(data)) != p.Size {
		return s.problem(corruptf(p.Name, "%d bytes, the manifest says %d", len(data), p.Size))
	}
	ix, err := parsePack(p.Name, data)
	if err != nil {
		return s.problem(err)
	}
	if len(ix.entries) != p.Chunks {
		return s.problem(corruptf(p.Name, "%d chunks, the manifest says %d", len(ix.entries), p.Chunks))
	}
	for i := range ix.entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		c, err := ix.chunkAt(data, i)
		if err != nil {
			if err := s.problem(err); err != nil {
				return err
			}
			continue
		}
		if err := s.add(p.Name, c); err != nil {
			return err
		}
	}
	s.bytes.Add(int64(len(data)))
	return nil
}

// add takes in chunk c, checked against its hash, read from object: it
// records the chunk and those it names, and passes it to found.
func (s *scanner) add(object string, c chunk.Chunk) error {
	env, err := chunk.Decode(c.Hash, c.Data)
	if err != nil {
		return s.problem(&CorruptError{Object: object, Chunk: c.Hash, Detail: err.Error()})
	}
	var refs []chunk.Hash
	if n := env.NumRefs(); n > 0 {
		refs = make([]chunk.Hash, n)
		for j := range refs {
			refs[j] = env.Ref(j)
		}
	}
	s.mu.Lock()
	s.present.Add(c.Hash)
	if refs != nil {
		s.refsOf[c.Hash] = refs
	}
	s.mu.Unlock()
	if s.found != nil {
		if err := s.found(c); err != nil {
			return err
		}
	}
	s.chunks.Add(1)
	return nil
}

// base takes in the manifest's base: nothing if it is placed where the
// restored store is (basePlaced); otherwise every chunk it holds
// (scanBase). It reports the bytes read as "downloading" progress as it
// goes.
func (s *scanner) base(ctx context.Context, totalChunks, totalBytes int64) error {
	b := s.m.Base
	if s.basePlaced {
		s.bytes.Add(b.bytes())
		return nil
	}
	var done atomic.Int64
	stop := s.rep.every(func() Progress {
		return Progress{Phase: "downloading", Chunks: s.chunks.Load(), TotalChunks: totalChunks, Bytes: done.Load(), TotalBytes: totalBytes}
	})
	defer stop()
	err := s.scanBase(ctx, &done)
	s.bytes.Add(done.Load())
	return err
}

// closure checks that every chunk the refs reach is present: walking from
// the refs through the chunks read, and asking outside about those the
// scan did not read (a placed base's), without going below them.
func (s *scanner) closure(ctx context.Context) error {
	type named struct {
		h, by chunk.Hash // by: the chunk that names h (zero for a ref)
		ref   string
	}
	refs := s.m.refHashes()
	names := make([]string, 0, len(refs))
	for name := range refs {
		names = append(names, name)
	}
	sort.Strings(names)
	seen := make(chunk.HashSet)
	var queue, unread []named
	for _, name := range names {
		if h := refs[name]; !seen.Has(h) {
			seen.Add(h)
			queue = append(queue, named{h: h, ref: name})
		}
	}
	for len(queue) > 0 {
		n := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		if !s.present.Has(n.h) {
			unread = append(unread, n)
			continue
		}
		for _, r := range s.refsOf[n.h] {
			if !seen.Has(r) {
				seen.Add(r)
				queue = append(queue, named{h: r, by: n.h})
			}
		}
	}
	missing := unread
	if s.outside != nil && len(unread) > 0 {
		hashes := make([]chunk.Hash, len(unread))
		for i, n := range unread {
			hashes[i] = n.h
		}
		absent, err := s.outside(ctx, hashes)
		if err != nil {
			return err
		}
		missing = missing[:0:0]
		for _, n := range unread {
			if absent.Has(n.h) {
				missing = append(missing, n)
			}
		}
	}
	msgs := make([]string, 0, len(missing))
	for _, n := range missing {
		if n.by.IsZero() {
			msgs = append(msgs, fmt.Sprintf("chunk %s of ref %s is missing", n.h, n.ref))
		} else {
			msgs = append(msgs, fmt.Sprintf("chunk %s is missing (named by chunk %s)", n.h, n.by))
		}
	}
	sort.Strings(msgs)
	for _, msg := range msgs {
		if err := s.problem(&CorruptError{Object: "backup", Detail: msg}); err != nil {
			return err
		}
	}
	return nil
}

// RestoreStats is what a restore did.
type RestoreStats struct {
	Refs       int
	Chunks     int64
	Bytes      int64 // bytes read: packs, and the base's files
	Packs      int
	BaseFiles  int // files of the base, if the backup has one
	Duration   time.Duration
	SourceName string // the database the backup was taken of
}

// Backup is the backup or remote at a destination as one reading of its
// manifest describes it, so that the steps of one restore read the same
// backup even while a sync writes the next.
type Backup struct {
	d      Destination
	m      *Manifest
	placed string // the directory PlaceBase filled, if any
}

// OpenBackup reads the manifest of the backup at d.
func OpenBackup(ctx context.Context, d Destination) (*Backup, error) {
	return openBackup(ctx, d, "backup")
}

// openBackup is OpenBackup; what names the destination in its errors.
func openBackup(ctx context.Context, d Destination, what string) (*Backup, error) {
	m, v, err := loadManifest(ctx, d)
	if err != nil {
		return nil, err
	}
	if v == "" {
		return nil, fmt.Errorf("%s holds no %s: it has no %s", d.URL(), what, manifestName)
	}
	return &Backup{d: d, m: m}, nil
}

// HasBase reports whether the backup has a base (see BaseRef): PlaceBase
// then saves a restore most of its work.
func (b *Backup) HasBase() bool { return b.m.Base != nil }

// PlaceBase writes the files of the backup's base into dir, which must
// not exist, checking each against its size and SHA-256: dir is then the
// directory of a chunk store (diskstore) holding the base. Restore into the
// store opened there adds the rest. Without a base it does nothing.
func (b *Backup) PlaceBase(ctx context.Context, dir string, progress ProgressFunc) error {
	if b.m.Base == nil {
		return nil
	}
	if _, err := os.Lstat(dir); err == nil {
		return fmt.Errorf("restore: %s exists", dir)
	}
	rep := newReporter(progress)
	total := b.m.Base.bytes()
	var done atomic.Int64
	stop := rep.every(func() Progress { return Progress{Phase: "downloading", Bytes: done.Load(), TotalBytes: total} })
	err := placeBase(ctx, b.d, b.m.Base, dir, &done)
	stop()
	if err != nil {
		return err
	}
	b.placed = filepath.Clean(dir)
	return nil
}

// holdsBase reports whether dst is the store PlaceBase filled.
func (b *Backup) holdsBase(dst chunk.Store) bool {
	ds, ok := dst.(interface{ Dir() string })
	return ok && b.placed != "" && filepath.Clean(ds.Dir()) == b.placed
}

// Restore copies the backup into dst: an empty store, or the store opened
// where PlaceBase put the base. Every chunk is checked against its hash
// (those of a placed base as the store reads them), and the closure of the
// refs; then the refs are set to the backup's, in one step. It fails,
// setting no ref, if any object or chunk is damaged or missing.
func (b *Backup) Restore(ctx context.Context, dst chunk.Store, progress ProgressFunc) (st RestoreStats, err error) {
	refs, st, err := b.copyAll(ctx, dst, progress)
	if err != nil {
		return st, err
	}
	cur, err := dst.Refs(ctx)
	if err != nil {
		return st, err
	}
	// A placed base holds the refs of the sync that wrote it; the backup's
	// are those of the latest.
	updates := make([]chunk.RefUpdate, 0, len(refs))
	for name, h := range refs {
		if cur[name] != h {
			updates = append(updates, chunk.RefUpdate{Name: name, Old: cur[name], New: h})
		}
	}
	for name, h := range cur {
		if _, ok := refs[name]; !ok {
			updates = append(updates, chunk.RefUpdate{Name: name, Old: h})
		}
	}
	sort.Slice(updates, func(i, j int) bool { return updates[i].Name < updates[j].Name })
	if len(updates) > 0 {
		if err := dst.UpdateRefs(ctx, updates...); err != nil {
			return st, err
		}
	}
	return st, nil
}

// Restore copies the backup at d into dst, an empty store: every chunk,
// checked against its hash, then every ref. It fails, setting no ref, if any
// object or chunk is damaged or missing.
func Restore(ctx context.Context, d Destination, dst chunk.Store, progress ProgressFunc) (RestoreStats, error) {
	b, err := OpenBackup(ctx, d)
	if err != nil {
		return RestoreStats{}, err
	}
	return b.Restore(ctx, dst, progress)
}

// CopyAll copies every chunk of the destination d into dst, an empty store,
// checking every object and chunk and the closure of the refs as Restore
// does, and returns the destination's refs without setting any: a clone
// sets those it wants.
func CopyAll(ctx context.Context, d Destination, dst chunk.Store, progress ProgressFunc) (map[string]chunk.Hash, RestoreStats, error) {
	b, err := openBackup(ctx, d, "backup or remote")
	if err != nil {
		return nil, RestoreStats{}, err
	}
	return b.copyAll(ctx, dst, progress)
}

// copyAll puts every chunk of the backup that dst does not hold into dst
// and returns the backup's refs.
func (b *Backup) copyAll(ctx context.Context, dst chunk.Store, progress ProgressFunc) (refs map[string]chunk.Hash, st RestoreStats, err error) {
	start := time.Now()
	defer func() { st.Duration = time.Since(start) }()
	placed := b.holdsBase(dst)
	if !placed {
		if cur, err := dst.Refs(ctx); err != nil {
			return nil, st, err
		} else if len(cur) > 0 {
			return nil, st, fmt.Errorf("restore: the target store is not empty")
		}
	}
	// Chunks go into dst in batches of a few MB.
	var mu sync.Mutex
	var batch []chunk.Chunk
	batchBytes := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := dst.Put(ctx, batch...)
		batch, batchBytes = nil, 0
		return err
	}
	s := &scanner{d: b.d, m: b.m, rep: newReporter(progress), basePlaced: placed}
	if placed {
		s.outside = func(ctx context.Context, hashes []chunk.Hash) (chunk.HashSet, error) {
			mu.Lock()
			err := flush()
			mu.Unlock()
			if err != nil {
				return nil, err
			}
			return dst.HasMany(ctx, hashes)
		}
	}
	s.found = func(c chunk.Chunk) error {
		mu.Lock()
		defer mu.Unlock()
		batch = append(batch, c)
		batchBytes += len(c.Data)
		if batchBytes >= 4<<20 {
			return flush()
		}
		return nil
	}
	if err := s.run(ctx); err != nil {
		return nil, st, err
	}
	if err := flush(); err != nil {
		return nil, st, err
	}
	refs = b.m.refHashes()
	st.Refs, st.Chunks, st.Bytes, st.Packs, st.SourceName = len(refs), s.chunks.Load(), s.bytes.Load(), len(b.m.Packs), b.m.Database
	if b.m.Base != nil {
		st.BaseFiles = len(b.m.Base.Files)
	}
	return refs, st, nil
}

// VerifyReport is what Verify found.
type VerifyReport struct {
	URL       string
	Refs      int
	Packs     int
	BaseFiles int // files of the base, if the backup has one
	Chunks    int64
	Bytes     int64 // bytes read: packs, and the base's files
	Updated   time.Time
	Database  string
	Problems  []string
	Duration  time.Duration
}

// VerifyError is a backup that failed verification.
type VerifyError struct{ Report *VerifyReport }

func (e *VerifyError) Error() string {
	r := e.Report
	const show = 10
	var b strings.Builder
	fmt.Fprintf(&b, "backup at %s failed verification: %d problem(s)", r.URL, len(r.Problems))
	for i, p := range r.Problems {
		if i == show {
			fmt.Fprintf(&b, "\n  … and %d more", len(r.Problems)-show)
			break
		}
		b.WriteString("\n  ")
		b.WriteString(p)
	}
	return b.String()
}

// Unwrap makes a VerifyError match chunk.ErrCorruption.
func (e *VerifyError) Unwrap() error { return chunk.ErrCorruption }

// Verify reads the manifest and every pack of the backup at d, checks every
// pack's checksum, every chunk against its hash, and that every chunk
// reachable from every ref is present. It reports every problem it finds; the
// error is a *VerifyError if there is any.
func Verify(ctx context.Context, d Destination, progress ProgressFunc) (*VerifyReport, error) {
	start := time.Now()
	r := &VerifyReport{URL: d.URL()}
	m, v, err := loadManifest(ctx, d)
	if err != nil {
		return r, err
	}
	if v == "" {
		return r, fmt.Errorf("%s holds no backup: it has no %s", d.URL(), manifestName)
	}
	s := &scanner{d: d, m: m, rep: newReporter(progress), keepGoing: true}
	if err := s.run(ctx); err != nil {
		return r, err
	}
	r.Refs, r.Packs, r.Chunks, r.Bytes = len(m.Refs), len(m.Packs), s.chunks.Load(), s.bytes.Load()
	if m.Base != nil {
		r.BaseFiles = len(m.Base.Files)
	}
	r.Updated, r.Database, r.Problems, r.Duration = m.Updated, m.Database, s.problems, time.Since(start)
	if len(r.Problems) > 0 {
		return r, &VerifyError{Report: r}
	}
	return r, nil
}
