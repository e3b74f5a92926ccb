package diskstore

import "github.com/cairndb/cairn/storage/chunk"

// chunkSet is a set of overlay chunks (overlay.all, overlay.unjournaled,
// ...). A commit looks up every reference of every new node it journals (a
// few hundred for each tree it changed) and finds almost none, so the set
// keeps a counting filter over its hashes' first filterBits bits that
// answers most lookups without the map: with n entries, a lookup of an
// absent hash reaches the map with a chance of about n/2^filterBits. (The
// overlay holds tens of thousands of chunks before a checkpoint: what
// commits put since the last one, and the garbage of the one before, which
// waits for the next; docs/gc.md.)
//
// The filter counts, so that a deletion takes its hash out at once. The
// hashes a commit looks up are mostly those the commits just before it
// journaled, and so deleted from unjournaled: the siblings of the nodes it
// rewrites. A filter of bits, rebuilt only now and then, still had theirs:
// with 17,000 entries in unjournaled (garbage the leases keep until the
// next checkpoint), 120 of the 330 lookups of a commit of
// oltp_update_index at 4 threads reached the map for nothing.
type chunkSet struct {
	m map[chunk.Hash]*memChunk
	// counts has, for each filter slot, how many entries' hashes fall in
	// it; a count that reached maxCount stays there (it may then be
	// higher than the entries), so that it never drops below them.
	counts []uint8
	peak   int // the most entries since m was made
}

// filterBits is the size of a chunkSet's filter: 2^18 counts, 256 KiB.
const filterBits = 18

const maxCount = 255

func newChunkSet() chunkSet {
	return chunkSet{m: make(map[chunk.Hash]*memChunk), counts: make([]uint8, 1<<filterBits)}
}

func filterSlot(h chunk.Hash) int {
	return (int(h[0])<<16 | int(h[1])<<8 | int(h[2])) >> (24 - filterBits)
}

func (s *chunkSet) get(h chunk.Hash) *memChunk {
	if s.counts[filterSlot(h)] == 0 {
		return nil
	}
	return s.m[h]
}

func (s *chunkSet) add(h chunk.Hash, e *memChunk) {
	n := len(s.m)
	s.m[h] = e
	if len(s.m) > n { // h is new
		if c := &s.counts[filterSlot(h)]; *c < maxCount {
			*c++
		}
		s.peak = max(s.peak, len(s.m))
	}
}

func (s *chunkSet) del(h chunk.Hash) {
	if _, ok := s.m[h]; ok {
		delete(s.m, h)
		if c := &s.counts[filterSlot(h)]; *c < maxCount {
			*c--
		}
	}
}

func (s *chunkSet) len() int { return len(s.m) }

// settle gives a set that once held many entries and holds none now a new
// map: Go's maps keep their size, and lookups in a large sparse one miss
// the CPU caches. Counts stuck at maxCount start over with it.
func (s *chunkSet) settle() {
	if len(s.m) == 0 && s.peak > 1024 {
		s.m, s.peak = make(map[chunk.Hash]*memChunk), 0
		clear(s.counts)
	}
}
