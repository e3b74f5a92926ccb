package tree

import (
	"bytes"
	"encoding/binary"

	"github.com/cairndb/cairn/storage/chunk"
)

// spliceNode handles the next most common edits after patchNode's: a few
// entries inserted into, deleted from or replaced in one node, which still
// ends where it ended (its level's last node: wherever its entries end).
// That is the rule the chunker would follow, so the new node is the one
// editLevel's general path makes, to the hash; but instead of handing
// every entry to a chunker and encoding them again, it tests boundaries
// from the first edit on and copies the old node's bytes around the edits.
// An update of an indexed column deletes one entry of the index and
// inserts another, each in a leaf of a few hundred entries; an insert at
// the end of a table changes the last key of the last leaf, which its
// parent holds.
//
// It applies the edits from i on that fall in n (all that are left if n is
// the last node of its level) and returns the new node and the index of the
// first edit it did not apply, or nil if they do not qualify: more than
// maxSpliceEdits, a leaf with out-of-line values or a new one, none that
// changes the node, all its entries deleted, or a boundary that moves.
func spliceNode(n *node, edits []levelEdit, i int, last bool) (*node, int) {
	if n.count() == 0 || n.leaf() && n.env.NumRefs() != 0 {
		return nil, 0
	}
	// The edits in n, and where each goes: at[k] is the index of the
	// first old entry not below it, found[k] whether that entry has its key.
	var at [maxSpliceEdits]int
	var found [maxSpliceEdits]bool
	end := i
	j := 0
	changed := false
	for ; end < len(edits); end++ {
		e := &edits[end]
		if !last && bytes.Compare(e.e.key, n.lastKey()) > 0 {
			break
		}
		k := end - i
		if k == maxSpliceEdits {
			return nil, 0
		}
		if n.leaf() && !e.del {
			if _, ok := blobRef(e.e.val); ok {
				return nil, 0
			}
		}
		j += n.keysBelow(j, e.e.key)
		at[k], found[k] = j, j < n.count() && bytes.Equal(n.key(j), e.e.key)
		if !e.del || found[k] {
			changed = true
		}
	}
	m := end - i
	if m == 0 || !changed {
		return nil, 0
	}
	es := edits[i:end]

	newCount := n.count()
	for k, e := range es {
		switch {
		case e.del && found[k]:
			newCount--
		case !e.del && !found[k]:
			newCount++
		}
	}
	if newCount == 0 {
		return nil, 0
	}
	// The new node's entries are the old ones with the edits merged in. The
	// chunker would have seen the same ones before the first edit, none of
	// which ended the old node but its last, and decides again from there
	// on. It tests again the old last entry, which may not have ended the
	// level's last node, before an append after it, and the new last entry
	// when the edits only deleted entries after it.
	first := min(at[0], n.count()-1, newCount-1)
	size := int(n.keyOff[first]) + 24*first
	if n.leaf() {
		size = int(n.keyOff[first]) + int(n.valOff[first]) + 2*first
	}
	pos := first // index in the new node of the entry tested next
	test := func(e *entry) bool {
		start := size
		size += entrySize(n.level, e)
		b := isBoundary(start, size, boundaryHash(n.level, e.key))
		pos++
		if pos < newCount {
			return !b // no boundary before the node's last entry
		}
		return b || last
	}
	old := first
	for k := range es {
		for ; old < at[k]; old++ {
			if e := nodeEntry(n, old); !test(&e) {
				return nil, 0
			}
		}
		if found[k] {
			old++ // replaced or deleted
		}
		if !es[k].del && !test(&es[k].e) {
			return nil, 0
		}
	}
	for ; old < n.count(); old++ {
		if e := nodeEntry(n, old); !test(&e) {
			return nil, 0
		}
	}
	if testHookSplice != nil {
		testHookSplice()
	}
	return buildSpliced(n, es, at[:m], found[:m], newCount), end
}

// testHookSplice, if set, is called for every node spliceNode makes.
var testHookSplice func()

// maxSpliceEdits is the most edits spliceNode applies to one node; more go
// through the chunker.
const maxSpliceEdits = 8

// buildSpliced encodes the node n with the edits es merged in (at and found
// as spliceNode computed them), as makeNode would encode its entries.
func buildSpliced(n *node, es []levelEdit, at []int, found []bool, count int) *node {
	internal := !n.leaf()
	// Runs of old entries [from, to) between the edits.
	type run struct{ from, to int }
	var runs [maxSpliceEdits + 1]run
	old := 0
	for k := range es {
		runs[k] = run{old, at[k]}
		old = at[k]
		if found[k] {
			old++
		}
	}
	runs[len(es)] = run{old, n.count()}
	// The stored value of each edit: above the leaves, its child's count.
	var countBuf [maxSpliceEdits][binary.MaxVarintLen64]byte
	vals := make([][]byte, len(es))
	for k := range es {
		vals[k] = es[k].e.val
		if internal {
			vals[k] = binary.AppendUvarint(countBuf[k][:0], es[k].e.count)
		}
	}

	keyBytes, valBytes := len(n.keys), len(n.vals)
	lenBytes := 0
	for k, e := range es {
		if found[k] {
			keyBytes -= int(n.keyOff[at[k]+1] - n.keyOff[at[k]])
			valBytes -= int(n.valOff[at[k]+1] - n.valOff[at[k]])
		}
		if !e.del {
			keyBytes += len(e.e.key)
			valBytes += len(vals[k])
			lenBytes += uvarintLen(uint64(len(e.e.key))) + uvarintLen(uint64(len(vals[k])))
		}
	}
	for _, r := range runs[:len(es)+1] {
		for x := r.from; x < r.to; x++ {
			lenBytes += uvarintLen(uint64(n.keyOff[x+1]-n.keyOff[x])) + uvarintLen(uint64(n.valOff[x+1]-n.valOff[x]))
		}
	}
	nrefs, kind := 0, chunk.KindTreeLeaf
	if internal {
		nrefs, kind = count, chunk.KindTreeInternal
	}
	size := 2 + uvarintLen(uint64(nrefs)) + nrefs*chunk.HashSize + uvarintLen(uint64(n.level)) +
		uvarintLen(uint64(count)) + lenBytes + keyBytes + valBytes
	p := make([]byte, 0, size)
	p = append(p, chunk.FormatVersion, byte(kind))
	p = binary.AppendUvarint(p, uint64(nrefs))
	refsStart := len(p)
	if internal {
		oldRefs := n.data[2+uvarintLen(uint64(n.count())):]
		for k := 0; k <= len(es); k++ {
			r := runs[k]
			p = append(p, oldRefs[r.from*chunk.HashSize:r.to*chunk.HashSize]...)
			if k < len(es) && !es[k].del {
				p = append(p, es[k].e.child[:]...)
			}
		}
	}
	refsEnd := len(p)
	p = binary.AppendUvarint(p, uint64(n.level))
	p = binary.AppendUvarint(p, uint64(count))
	offs := make([]uint32, 2*(count+1))
	nd := &node{level: n.level, keyOff: offs[:count+1], valOff: offs[count+1:]}
	// Each section in entry order: the old entries of a run, then the
	// edit after it.
	each := func(oldLen func(x int) uint32, newLen func(k int) int, off []uint32) {
		y := 0
		for k := 0; k <= len(es); k++ {
			r := runs[k]
			for x := r.from; x < r.to; x++ {
				l := oldLen(x)
				p = binary.AppendUvarint(p, uint64(l))
				off[y+1] = off[y] + l
				y++
			}
			if k < len(es) && !es[k].del {
				l := newLen(k)
				p = binary.AppendUvarint(p, uint64(l))
				off[y+1] = off[y] + uint32(l)
				y++
			}
		}
	}
	each(func(x int) uint32 { return n.keyOff[x+1] - n.keyOff[x] }, func(k int) int { return len(es[k].e.key) }, nd.keyOff)
	each(func(x int) uint32 { return n.valOff[x+1] - n.valOff[x] }, func(k int) int { return len(vals[k]) }, nd.valOff)
	keysStart := len(p)
	for k := 0; k <= len(es); k++ {
		r := runs[k]
		p = append(p, n.keys[n.keyOff[r.from]:n.keyOff[r.to]]...)
		if k < len(es) && !es[k].del {
			p = append(p, es[k].e.key...)
		}
	}
	valsStart := len(p)
	if internal {
		nd.cum = make([]uint64, count+1)
	}
	y := 0
	for k := 0; k <= len(es); k++ {
		r := runs[k]
		p = append(p, n.vals[n.valOff[r.from]:n.valOff[r.to]]...)
		if internal {
			for x := r.from; x < r.to; x++ {
				nd.cum[y+1] = nd.cum[y] + n.childCount(x)
				y++
			}
		}
		if k < len(es) && !es[k].del {
			p = append(p, vals[k]...)
			if internal {
				nd.cum[y+1] = nd.cum[y] + es[k].e.count
				y++
			}
		}
	}
	return nd.seal(kind, p, refsStart, refsEnd, keysStart, valsStart)
}
