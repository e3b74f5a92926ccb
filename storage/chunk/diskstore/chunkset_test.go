package diskstore

import (
	"math/rand/v2"
	"testing"

	"github.com/cairndb/cairn/storage/chunk"
)

// A chunk set answers like its map through adds, deletions and rebuilds of
// its filter, and its filter lets most absent hashes through without the
// map while the set is small.
func TestChunkSet(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := newChunkSet()
	want := map[chunk.Hash]*memChunk{}
	var hashes []chunk.Hash
	randomHash := func() chunk.Hash {
		var h chunk.Hash
		for i := range h {
			h[i] = byte(rng.Uint32())
		}
		return h
	}
	for i := range 20000 {
		switch {
		case rng.IntN(3) > 0 || len(hashes) == 0:
			h := randomHash()
			e := &memChunk{seq: uint64(i)}
			s.add(h, e)
			want[h] = e
			hashes = append(hashes, h)
		default:
			// Delete a batch, as a journal record or checkpoint does.
			for range rng.IntN(len(hashes) + 1) {
				j := rng.IntN(len(hashes))
				s.del(hashes[j])
				delete(want, hashes[j])
				hashes = append(hashes[:j], hashes[j+1:]...)
			}
			s.settle()
		}
		if s.len() != len(want) {
			t.Fatalf("step %d: %d entries, want %d", i, s.len(), len(want))
		}
		if i%97 == 0 {
			for h, e := range want {
				if s.get(h) != e {
					t.Fatalf("step %d: get of a held hash = %v", i, s.get(h))
				}
			}
			if h := randomHash(); s.get(h) != nil {
				t.Fatalf("step %d: get of an absent hash found one", i)
			}
		}
	}

	// Once settled small, few absent hashes pass the filter.
	for _, h := range hashes {
		s.del(h)
	}
	s.settle()
	for range 10 {
		s.add(randomHash(), &memChunk{})
	}
	passed := 0
	for range 10000 {
		h := randomHash()
		if s.counts[s.slot(h)] != 0 {
			passed++
		}
	}
	// About 10 in 2^bits pass: 24 of 10000 at the smallest size.
	if limit := 3 * 10000 * 10 >> s.bits; passed > limit {
		t.Errorf("%d of 10000 absent hashes passed a filter of 10 entries in %d slots", passed, len(s.counts))
	}
}

// A set's filter grows with it, to its largest size, and shrinks back once
// it is emptied, answering for its entries throughout.
func TestChunkSetResizes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	s := newChunkSet()
	var hashes []chunk.Hash
	check := func(when string) {
		t.Helper()
		for _, h := range hashes {
			if s.get(h) == nil {
				t.Fatalf("%s: a held hash is not found", when)
			}
		}
		if s.len() > 0 && len(s.counts) < 8*s.len() && s.bits < maxFilterBits {
			t.Fatalf("%s: %d entries in %d slots", when, s.len(), len(s.counts))
		}
	}
	for range 50000 {
		var h chunk.Hash
		for i := range h {
			h[i] = byte(rng.Uint32())
		}
		s.add(h, &memChunk{})
		hashes = append(hashes, h)
	}
	check("grown")
	if s.bits != maxFilterBits {
		t.Fatalf("50,000 entries in 2^%d slots", s.bits)
	}
	for _, h := range hashes[100:] {
		s.del(h)
	}
	hashes = hashes[:100]
	s.settle()
	check("shrunk")
	if s.bits != minFilterBits {
		t.Fatalf("100 entries in 2^%d slots after settling", s.bits)
	}
}

// More hashes in one filter slot than a count holds leave the count at its
// most: it never drops below the entries, and every entry is still found.
func TestChunkSetFullSlot(t *testing.T) {
	s := newChunkSet()
	var hashes []chunk.Hash
	for i := range maxCount + 10 {
		var h chunk.Hash
		h[3], h[4] = byte(i), byte(i>>8) // the same first three bytes: one slot
		hashes = append(hashes, h)
		s.add(h, &memChunk{seq: uint64(i)})
	}
	slot := s.slot(hashes[0])
	if s.counts[slot] != maxCount {
		t.Fatalf("slot counts %d after %d adds, want %d", s.counts[slot], len(hashes), maxCount)
	}
	for _, h := range hashes[:20] {
		s.del(h)
	}
	for i, h := range hashes {
		if got := s.get(h); (got != nil) != (i >= 20) {
			t.Fatalf("get of hash %d = %v", i, got)
		}
	}
	if s.counts[slot] != maxCount {
		t.Fatalf("a full slot dropped to %d", s.counts[slot])
	}
}
