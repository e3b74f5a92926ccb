package remote

import (
	"context"
	"fmt"
	"sort"
	"sync/atomic"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
)

// Reading chunks from a destination: fetch and clone copy the chunks some
// refs of a remote (or backup) reach, and only those the local store lacks.

// packSource reads chunks of a destination by hash, through its packs'
// indexes and ranged reads; every chunk is checked against its hash.
type packSource struct {
	d   Destination
	loc map[chunk.Hash]packLoc
	// base is the manifest's base, if any, read whole into a temporary
	// copy (baseCopy) the first time a chunk is in no pack.
	base     *BaseRef
	baseCopy *baseCopy
}

// close removes the base read, if any.
func (s *packSource) close() {
	if s.baseCopy != nil {
		s.baseCopy.close()
	}
}

// getBase reads hashes from the base.
func (s *packSource) getBase(ctx context.Context, hashes []chunk.Hash, found func(chunk.Chunk) error) error {
	if s.baseCopy == nil {
		var done atomic.Int64
		c, err := openBaseCopy(ctx, s.d, s.base, &done)
		if err != nil {
			return err
		}
		s.baseCopy = c
	}
	want := chunk.NewHashSet(hashes...)
	err := s.baseCopy.GetMany(ctx, hashes, func(c chunk.Chunk) error {
		delete(want, c.Hash)
		return found(c)
	})
	if err != nil {
		return err
	}
	for h := range want {
		return &CorruptError{Object: "remote", Chunk: h, Detail: "a chunk the remote's refs reach is in none of its packs nor its base"}
	}
	return nil
}

type packLoc struct {
	pack  string
	entry packEntry
}

// openPackSource loads the manifest of d and the indexes of its packs.
func openPackSource(ctx context.Context, d Destination) (*packSource, *Manifest, string, error) {
	m, v, err := loadManifest(ctx, d)
	if err != nil {
		return nil, nil, "", err
	}
	ixs, err := loadIndexes(ctx, d, m)
	if err != nil {
		return nil, nil, "", err
	}
	s := &packSource{d: d, loc: map[chunk.Hash]packLoc{}, base: m.Base}
	for _, ix := range ixs {
		for _, e := range ix.entries {
			s.loc[e.hash] = packLoc{pack: ix.name, entry: e}
		}
	}
	return s, m, v, nil
}

// get reads chunks hashes, in pack order (a run of neighbours in one
// ranged read).
func (s *packSource) get(ctx context.Context, hashes []chunk.Hash, found func(chunk.Chunk) error) error {
	locs := make([]packLoc, 0, len(hashes))
	var inBase []chunk.Hash
	for _, h := range hashes {
		l, ok := s.loc[h]
		if !ok {
			if s.base == nil {
				return &CorruptError{Object: "remote", Chunk: h, Detail: "a chunk the remote's refs reach is in none of its packs"}
			}
			inBase = append(inBase, h)
			continue
		}
		locs = append(locs, l)
	}
	if len(inBase) > 0 {
		if err := s.getBase(ctx, inBase, found); err != nil {
			return err
		}
	}
	sort.Slice(locs, func(i, j int) bool {
		if locs[i].pack != locs[j].pack {
			return locs[i].pack < locs[j].pack
		}
		return locs[i].entry.offset < locs[j].entry.offset
	})
	// Neighbouring records less than 64 KiB apart are read together.
	const gap = 64 << 10
	for i := 0; i < len(locs); {
		j := i + 1
		end := locs[i].entry.offset + uint64(locs[i].entry.length)
		for j < len(locs) && locs[j].pack == locs[i].pack && locs[j].entry.offset <= end+gap && end-locs[i].entry.offset < 16<<20 {
			end = max(end, locs[j].entry.offset+uint64(locs[j].entry.length))
			j++
		}
		start := locs[i].entry.offset
		data, err := s.d.Get(ctx, locs[i].pack, int64(start), int64(end-start))
		if err != nil {
			return fmt.Errorf("read %s from %s: %w", locs[i].pack, s.d.URL(), err)
		}
		for _, l := range locs[i:j] {
			off := l.entry.offset - start
			c, err := decodeRecord(l.pack, l.entry, data[off:off+uint64(l.entry.length)])
			if err != nil {
				return err
			}
			if err := found(c); err != nil {
				return err
			}
		}
		i = j
	}
	return nil
}

// FetchStats is what a fetch copied.
type FetchStats struct {
	Chunks   int64
	Bytes    int64
	Duration time.Duration
}

// fetchBatch is how many chunks a fetch reads at once.
const fetchBatch = 4096

// fetchChunks copies into dst every chunk reachable from roots at the
// source that dst lacks, parents before children; a chunk dst has is not
// descended into (dst holds everything below it).
func fetchChunks(ctx context.Context, src *packSource, dst chunk.Store, roots []chunk.Hash, rep *reporter) (FetchStats, error) {
	start := time.Now()
	var st FetchStats
	seen := make(chunk.HashSet)
	var frontier []chunk.Hash
	for _, r := range roots {
		if !r.IsZero() && !seen.Has(r) {
			seen.Add(r)
			frontier = append(frontier, r)
		}
	}
	for len(frontier) > 0 {
		n := min(len(frontier), fetchBatch)
		batch := frontier[:n]
		frontier = frontier[n:]
		absent, err := dst.HasMany(ctx, batch)
		if err != nil {
			return st, err
		}
		var need []chunk.Hash
		for _, h := range batch {
			if absent.Has(h) {
				need = append(need, h)
			}
		}
		if len(need) == 0 {
			continue
		}
		var put []chunk.Chunk
		err = src.get(ctx, need, func(c chunk.Chunk) error {
			env, err := chunk.Decode(c.Hash, c.Data)
			if err != nil {
				return &CorruptError{Object: "remote", Chunk: c.Hash, Detail: err.Error()}
			}
			for i := 0; i < env.NumRefs(); i++ {
				if r := env.Ref(i); !seen.Has(r) {
					seen.Add(r)
					frontier = append(frontier, r)
				}
			}
			put = append(put, c)
			st.Chunks++
			st.Bytes += int64(len(c.Data))
			return nil
		})
		if err != nil {
			return st, err
		}
		if err := dst.Put(ctx, put...); err != nil {
			return st, err
		}
		rep.report(Progress{Phase: "downloading", Chunks: st.Chunks, Bytes: st.Bytes}, false)
	}
	rep.report(Progress{Phase: "downloading", Chunks: st.Chunks, Bytes: st.Bytes}, true)
	st.Duration = time.Since(start)
	return st, nil
}

// Fetch reads the refs of the destination d (a remote, or a backup) and
// copies into dst every chunk they reach that dst lacks. It returns the
// destination's refs; the caller sets its own refs from them (fetch,
// clone), which is safe once Fetch returned: every chunk they name is in
// dst.
func Fetch(ctx context.Context, d Destination, dst chunk.Store, want func(ref string) bool, progress ProgressFunc) (map[string]chunk.Hash, FetchStats, error) {
	src, m, v, err := openPackSource(ctx, d)
	if err != nil {
		return nil, FetchStats{}, err
	}
	defer src.close()
	if v == "" {
		return map[string]chunk.Hash{}, FetchStats{}, nil
	}
	refs := map[string]chunk.Hash{}
	var roots []chunk.Hash
	for name, h := range m.refHashes() {
		if want == nil || want(name) {
			refs[name] = h
			roots = append(roots, h)
		}
	}
	st, err := fetchChunks(ctx, src, dst, roots, newReporter(progress))
	return refs, st, err
}
