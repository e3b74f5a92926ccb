package diskstore

import "github.com/cairndb/cairn/storage/chunk"

// chunkSet is a set of overlay chunks (overlay.all, overlay.unjournaled,
// ...). A commit looks up every reference of every new node it journals (a
// few hundred for each tree it changed) and finds almost none, so the set
// keeps a bitmap of its hashes' first filterBits bits that answers most
// lookups without the map: with n entries, a lookup of an absent hash
// reaches the map with a chance of about n/2^filterBits. (The overlay holds
// tens of thousands of chunks before a checkpoint: what commits put since
// the last one, and the garbage of the one before, which waits for the
// next; docs/gc.md.)
type chunkSet struct {
	m map[chunk.Hash]*memChunk
	// filter has the bit of every hash added since it was last rebuilt;
	// stale counts the deletions since then.
	filter [1 << filterBits / 64]uint64
	stale  int
	peak   int // the most entries since m was made
}

// filterBits is the size of a chunkSet's filter: 2^18 bits, 32 KiB.
const filterBits = 18

func newChunkSet() chunkSet {
	return chunkSet{m: make(map[chunk.Hash]*memChunk)}
}

func filterBit(h chunk.Hash) (word int, mask uint64) {
	b := (int(h[0])<<16 | int(h[1])<<8 | int(h[2])) >> (24 - filterBits)
	return b / 64, 1 << (b % 64)
}

func (s *chunkSet) get(h chunk.Hash) *memChunk {
	if w, mask := filterBit(h); s.filter[w]&mask == 0 {
		return nil
	}
	return s.m[h]
}

func (s *chunkSet) add(h chunk.Hash, e *memChunk) {
	s.m[h] = e
	w, mask := filterBit(h)
	s.filter[w] |= mask
	s.peak = max(s.peak, len(s.m))
}

func (s *chunkSet) del(h chunk.Hash) {
	if _, ok := s.m[h]; ok {
		delete(s.m, h)
		s.stale++
	}
}

func (s *chunkSet) len() int { return len(s.m) }

// settle rebuilds the filter once the deletions since the last rebuild
// outnumber the entries, so rebuilding costs at most one step per deletion.
// An empty set that once held many entries gets a new map: Go's maps keep
// their size, and lookups in a large sparse one miss the CPU caches.
func (s *chunkSet) settle() {
	if s.stale == 0 || s.stale <= len(s.m) {
		return
	}
	s.stale = 0
	s.filter = [len(s.filter)]uint64{}
	if len(s.m) == 0 && s.peak > 1024 {
		s.m, s.peak = make(map[chunk.Hash]*memChunk), 0
		return
	}
	for h := range s.m {
		w, mask := filterBit(h)
		s.filter[w] |= mask
	}
}
