package remote

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
)

// scanner reads every pack of a manifest, checking each pack's checksum and
// each chunk's hash, and the closure of the backup: every chunk a chunk or a
// ref names is in it. Restore and Verify share it.
type scanner struct {
	d   Destination
	m   *Manifest
	rep *reporter
	// keepGoing: record problems and go on (Verify); otherwise stop at the
	// first (Restore).
	keepGoing bool
	// found, if not nil, receives every good chunk (concurrently).
	found func(c chunk.Chunk) error

	mu       sync.Mutex
	present  chunk.HashSet
	needed   map[chunk.Hash]chunk.Hash // chunk → a chunk that names it
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
	s.needed = map[chunk.Hash]chunk.Hash{}
	var totalChunks, totalBytes int64
	for _, p := range s.m.Packs {
		totalChunks += int64(p.Chunks)
		totalBytes += p.Size
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
	return s.closure()
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
		env, err := chunk.Decode(c.Hash, c.Data)
		if err != nil {
			if err := s.problem(&CorruptError{Object: p.Name, Chunk: c.Hash, Detail: err.Error()}); err != nil {
				return err
			}
			continue
		}
		s.mu.Lock()
		s.present.Add(c.Hash)
		for j := 0; j < env.NumRefs(); j++ {
			r := env.Ref(j)
			if _, ok := s.needed[r]; !ok {
				s.needed[r] = c.Hash
			}
		}
		s.mu.Unlock()
		if s.found != nil {
			if err := s.found(c); err != nil {
				return err
			}
		}
		s.chunks.Add(1)
	}
	s.bytes.Add(int64(len(data)))
	return nil
}

// closure checks that every ref and every named chunk is present.
func (s *scanner) closure() error {
	var missing []string
	for name, h := range s.m.refHashes() {
		if !s.present.Has(h) {
			missing = append(missing, fmt.Sprintf("chunk %s of ref %s is missing", h, name))
		}
	}
	for h, from := range s.needed {
		if !s.present.Has(h) {
			missing = append(missing, fmt.Sprintf("chunk %s is missing (named by chunk %s)", h, from))
		}
	}
	sort.Strings(missing)
	for _, msg := range missing {
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
	Bytes      int64 // pack bytes read
	Packs      int
	Duration   time.Duration
	SourceName string // the database the backup was taken of
}

// Restore copies the backup at d into dst, an empty store: every chunk,
// checked against its hash, then every ref. It fails, setting no ref, if any
// pack or chunk is damaged or missing.
func Restore(ctx context.Context, d Destination, dst chunk.Store, progress ProgressFunc) (st RestoreStats, err error) {
	refs, st, err := copyAll(ctx, d, dst, progress, "backup")
	if err != nil {
		return st, err
	}
	updates := make([]chunk.RefUpdate, 0, len(refs))
	for name, h := range refs {
		updates = append(updates, chunk.RefUpdate{Name: name, New: h})
	}
	sort.Slice(updates, func(i, j int) bool { return updates[i].Name < updates[j].Name })
	if err := dst.UpdateRefs(ctx, updates...); err != nil {
		return st, err
	}
	return st, nil
}

// CopyAll copies every chunk of the destination d into dst, an empty store,
// checking every pack and chunk and the closure of the refs as Restore
// does, and returns the destination's refs without setting any: a clone
// sets those it wants.
func CopyAll(ctx context.Context, d Destination, dst chunk.Store, progress ProgressFunc) (map[string]chunk.Hash, RestoreStats, error) {
	return copyAll(ctx, d, dst, progress, "backup or remote")
}

// copyAll is CopyAll; what names the destination in its errors.
func copyAll(ctx context.Context, d Destination, dst chunk.Store, progress ProgressFunc, what string) (refs map[string]chunk.Hash, st RestoreStats, err error) {
	start := time.Now()
	defer func() { st.Duration = time.Since(start) }()
	m, v, err := loadManifest(ctx, d)
	if err != nil {
		return nil, st, err
	}
	if v == "" {
		return nil, st, fmt.Errorf("%s holds no %s: it has no %s", d.URL(), what, manifestName)
	}
	if cur, err := dst.Refs(ctx); err != nil {
		return nil, st, err
	} else if len(cur) > 0 {
		return nil, st, fmt.Errorf("restore: the target store is not empty")
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
	s := &scanner{d: d, m: m, rep: newReporter(progress), found: func(c chunk.Chunk) error {
		mu.Lock()
		defer mu.Unlock()
		batch = append(batch, c)
		batchBytes += len(c.Data)
		if batchBytes >= 4<<20 {
			return flush()
		}
		return nil
	}}
	if err := s.run(ctx); err != nil {
		return nil, st, err
	}
	if err := flush(); err != nil {
		return nil, st, err
	}
	refs = m.refHashes()
	st.Refs, st.Chunks, st.Bytes, st.Packs, st.SourceName = len(refs), s.chunks.Load(), s.bytes.Load(), len(m.Packs), m.Database
	return refs, st, nil
}

// VerifyReport is what Verify found.
type VerifyReport struct {
	URL      string
	Refs     int
	Packs    int
	Chunks   int64
	Bytes    int64 // pack bytes read
	Updated  time.Time
	Database string
	Problems []string
	Duration time.Duration
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
	r.Updated, r.Database, r.Problems, r.Duration = m.Updated, m.Database, s.problems, time.Since(start)
	if len(r.Problems) > 0 {
		return r, &VerifyError{Report: r}
	}
	return r, nil
}
