package tree

import (
	"context"

	"github.com/cespare/xxhash/v2"
)

// Node boundaries are content-defined: after each entry, the chunker decides
// from the entry's key and the node's size so far whether the node ends. The
// decision never looks further back than the node's start, so any two trees
// holding the same entries make the same nodes, whatever order the entries
// arrived in, and an edit only rewrites the nodes around it.
//
// The chance that a node ends after an entry follows the hazard of a Weibull
// distribution with shape 4 and scale TargetNodeSize, taken at the middle of
// the entry: k/λ·(s/λ)^(k-1)·Δ, in integers so that every platform decides
// alike. Node sizes cluster tightly around the target instead of spreading
// geometrically. Nodes never end below MinNodeSize and always at MaxNodeSize.
const (
	TargetNodeSize = 4096
	MinNodeSize    = 512
	MaxNodeSize    = 16384
)

// MaxKeySize is the longest key a map takes. An entry whose key alone is
// large enough to end a node for certain (about 4850 bytes, well below
// MaxNodeSize) ends a node at every level above the leaves, so a level
// holding it never shrinks to one node and building would never reach a
// root. A key of at most MaxKeySize ends a node on its own with a chance of
// about one half, drawn afresh at each level.
const MaxKeySize = TargetNodeSize

// entrySize is the size an entry contributes to its node for chunking.
func entrySize(level int, e *entry) int {
	if level > 0 {
		return len(e.key) + 20 + 4
	}
	return len(e.key) + len(e.val) + 2
}

// boundaryHash hashes a key for the boundary decision at a level.
func boundaryHash(level int, key []byte) uint64 {
	h := xxhash.Sum64(key)
	h ^= uint64(level+1) * 0x9e3779b97f4a7c15
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h
}

// isBoundary reports whether a node whose size grew from start to end bytes
// with the entry whose boundary hash is h ends after that entry.
func isBoundary(start, end int, h uint64) bool {
	if end < MinNodeSize {
		return false
	}
	if end >= MaxNodeSize {
		return true
	}
	// P·2^32 = 4·mid³·Δ/4096⁴·2^32 = mid³·Δ/2^14; mid < 2^14 and Δ < 2^14,
	// so nothing overflows.
	mid := uint64(start+end) / 2
	threshold := mid * mid * mid * uint64(end-start) >> 14
	return h>>32 < threshold
}

// chunker cuts a stream of entries of one level into nodes.
type chunker struct {
	w       *writer
	level   int
	pending []entry
	size    int
	out     []entry // one entry per node made, for the level above
}

func newChunker(w *writer, level int) *chunker {
	return &chunker{w: w, level: level, pending: entryBuf()}
}

// release gives the chunker's buffer back for other chunkers.
func (c *chunker) release() {
	releaseEntryBuf(c.pending)
	c.pending = nil
}

// add appends an entry; it reports whether a node ended after it.
func (c *chunker) add(ctx context.Context, e entry) (bool, error) {
	c.pending = append(c.pending, e)
	start := c.size
	c.size += entrySize(c.level, &e)
	if !isBoundary(start, c.size, boundaryHash(c.level, e.key)) {
		return false, nil
	}
	return true, c.cut(ctx)
}

// addFrom adds entries [from, to) of node n. Entries below quiet are known
// not to end a node and are added without the boundary test.
func (c *chunker) addFrom(ctx context.Context, n *node, from, to, quiet int) error {
	for x := from; x < to; x++ {
		e := nodeEntry(n, x)
		if x < quiet {
			c.pending = append(c.pending, e)
			c.size += entrySize(c.level, &e)
			continue
		}
		if _, err := c.add(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

// atBoundary reports whether the chunker holds no entries of an unfinished node.
func (c *chunker) atBoundary() bool { return len(c.pending) == 0 }

// cut ends the current node.
func (c *chunker) cut(ctx context.Context) error {
	if len(c.pending) == 0 {
		return nil
	}
	n, err := c.w.node(ctx, c.level, c.pending)
	if err != nil {
		return err
	}
	c.out = append(c.out, entry{key: n.lastKey(), child: n.hash, count: n.treeCount()})
	clear(c.pending) // makeNode copied what it needed
	c.pending = c.pending[:0]
	c.size = 0
	return nil
}

// buildLevels builds the levels above a level whose nodes are described by
// entries, up to a single root, and returns the root. At least one entry.
func buildLevels(ctx context.Context, w *writer, level int, entries []entry) (*node, error) {
	for {
		if len(entries) == 1 {
			return w.read(ctx, entries[0].child)
		}
		level++
		c := newChunker(w, level)
		for _, e := range entries {
			if _, err := c.add(ctx, e); err != nil {
				return nil, err
			}
		}
		if err := c.cut(ctx); err != nil {
			return nil, err
		}
		entries = c.out
	}
}
