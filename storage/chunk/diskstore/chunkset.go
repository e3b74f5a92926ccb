package diskstore

import "github.com/cairndb/cairn/storage/chunk"

// chunkSet is a set of overlay chunks (overlay.all, overlay.unjournaled,
// ...). A commit looks up every reference of every new node it journals (a
// few hundred for each tree it changed) and finds almost none, so the set
// keeps a counting filter over its hashes' first bits that answers most
// lookups without the map: with n entries in 2^bits slots, a lookup of an
// absent hash reaches the map with a chance of about n/2^bits. (The
// overlay holds thousands of chunks before a checkpoint: what commits put
// since the last one; docs/gc.md.)
//
// The filter counts, so that a deletion takes its hash out at once. The
// hashes a commit looks up are mostly those the commits just before it
// journaled, and so deleted from unjournaled: the siblings of the nodes it
// rewrites. A filter of bits, rebuilt only now and then, still had theirs:
// with 17,000 entries in unjournaled (garbage the leases keep until the
// next checkpoint), 120 of the 330 lookups of a commit of
// oltp_update_index at 4 threads reached the map for nothing.
//
// The filter's size follows the set's (8 to 64 slots an entry, within
// 2^minFilterBits and 2^maxFilterBits slots), so that a small set's filter stays
// in the CPU's caches: unjournaled holds a few hundred chunks, and a commit
// looks up hundreds of references in it.
type chunkSet struct {
	m map[chunk.Hash]*memChunk
	// counts has, for each filter slot, how many entries' hashes fall in
	// it; a count that reached maxCount stays there (it may then be
	// higher than the entries), so that it never drops below them. Slot
	// of a hash: its first bits bits.
	counts []uint8
	bits   int
	peak   int // the most entries since m was made
}

const (
	minFilterBits = 12 // 4 KiB
	maxFilterBits = 18 // 256 KiB
	maxCount      = 255
)

func newChunkSet() chunkSet {
	return chunkSet{m: make(map[chunk.Hash]*memChunk), counts: make([]uint8, 1<<minFilterBits), bits: minFilterBits}
}

func (s *chunkSet) slot(h chunk.Hash) int {
	return (int(h[0])<<16 | int(h[1])<<8 | int(h[2])) >> (24 - s.bits)
}

func (s *chunkSet) get(h chunk.Hash) *memChunk {
	if s.counts[s.slot(h)] == 0 {
		return nil
	}
	return s.m[h]
}

func (s *chunkSet) add(h chunk.Hash, e *memChunk) {
	n := len(s.m)
	s.m[h] = e
	if len(s.m) == n {
		return // h was there
	}
	s.peak = max(s.peak, len(s.m))
	if len(s.m) > len(s.counts)/8 && s.bits < maxFilterBits {
		s.resize(min(s.bits+2, maxFilterBits)) // counts h too
		return
	}
	s.inc(s.slot(h))
}

// inc counts one more hash in slot; a full count stays as it is.
func (s *chunkSet) inc(slot int) {
	if s.counts[slot] < maxCount {
		s.counts[slot]++
	}
}

func (s *chunkSet) del(h chunk.Hash) {
	if _, ok := s.m[h]; ok {
		delete(s.m, h)
		if c := &s.counts[s.slot(h)]; *c < maxCount {
			*c--
		}
	}
}

func (s *chunkSet) len() int { return len(s.m) }

// resize makes a filter of 2^bits slots for the entries.
func (s *chunkSet) resize(bits int) {
	if bits != s.bits {
		s.counts, s.bits = make([]uint8, 1<<bits), bits
	} else {
		clear(s.counts)
	}
	for h := range s.m {
		s.inc(s.slot(h))
	}
}

// settle shrinks the filter of a set that has shrunk to under one entry in
// 64 slots, and gives a set that once held many entries and holds none now
// a new map: Go's maps keep their size, and lookups in a large sparse one
// miss the CPU caches. Counts stuck at maxCount start over with either.
func (s *chunkSet) settle() {
	if len(s.m) == 0 && s.peak > 1024 {
		s.m, s.peak = make(map[chunk.Hash]*memChunk), 0
		s.resize(minFilterBits)
		return
	}
	if s.bits > minFilterBits && len(s.m) < len(s.counts)/64 {
		bits := minFilterBits
		for bits < s.bits && 32*len(s.m) > 1<<bits {
			bits += 2
		}
		s.resize(bits)
	}
}
