package tree

import (
	"bytes"
	"encoding/binary"

	"github.com/cairndb/cairn/storage/chunk"
)

// spliceLeaf handles the next most common edits after patchNode's: a few
// entries inserted into, deleted from or replaced in one leaf, which still
// ends where it ended (its level's last leaf: wherever its entries end).
// That is the rule the chunker would follow, so the new leaf is the one
// editLevel's general path makes, to the hash; but instead of handing
// every entry to a chunker and encoding them again, it tests boundaries
// from the first edit on and copies the old leaf's bytes around the edits.
// An update of an indexed column deletes one entry of the index and
// inserts another, each in a leaf of a few hundred entries.
//
// It applies the edits from i on that fall in n (all that are left if n is
// the last node of its level) and returns the new leaf and the index of the
// first edit it did not apply, or nil if they do not qualify: more than
// maxSpliceEdits, a leaf with out-of-line values or a new one, none that
// changes the leaf, all its entries deleted, or a boundary that moves.
func spliceLeaf(n *node, edits []levelEdit, i int, last bool) (*node, int) {
	if !n.leaf() || n.env.NumRefs() != 0 || n.count() == 0 {
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
		if !e.del {
			if _, ok := blobRef(e.e.val); ok {
				return nil, 0
			}
		}
		j += searchKeys(n, j, e.e.key)
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
	// The new leaf's entries are the old ones with the edits merged in. The
	// chunker would have seen the same ones before the first edit, none of
	// which ended the old leaf but its last, and decides again from there
	// on. It tests again the old last entry, which may not have ended the
	// level's last leaf, before an append after it, and the new last entry
	// when the edits only deleted entries after it.
	first := min(at[0], n.count()-1, newCount-1)
	size := int(n.keyOff[first]) + int(n.valOff[first]) + 2*first
	pos := first // index in the new leaf of the entry tested next
	test := func(key, val []byte) bool {
		start := size
		size += len(key) + len(val) + 2
		b := isBoundary(start, size, boundaryHash(0, key))
		pos++
		if pos < newCount {
			return !b // no boundary before the leaf's last entry
		}
		return b || last
	}
	old := first
	for k, e := range es {
		for ; old < at[k]; old++ {
			if !test(n.key(old), n.val(old)) {
				return nil, 0
			}
		}
		if found[k] {
			old++ // replaced or deleted
		}
		if !e.del && !test(e.e.key, e.e.val) {
			return nil, 0
		}
	}
	for ; old < n.count(); old++ {
		if !test(n.key(old), n.val(old)) {
			return nil, 0
		}
	}
	if testHookSplice != nil {
		testHookSplice()
	}
	return buildSpliced(n, es, at[:m], found[:m], newCount), end
}

// testHookSplice, if set, is called for every leaf spliceLeaf makes.
var testHookSplice func()

// maxSpliceEdits is the most edits spliceLeaf applies to one leaf; more go
// through the chunker.
const maxSpliceEdits = 8

// searchKeys returns the number of n's keys from j on that are below key.
func searchKeys(n *node, j int, key []byte) int {
	lo, hi := 0, n.count()-j
	for lo < hi {
		h := int(uint(lo+hi) >> 1)
		if bytes.Compare(n.key(j+h), key) < 0 {
			lo = h + 1
		} else {
			hi = h
		}
	}
	return lo
}

// buildSpliced encodes the leaf n with the edits es merged in (at and found
// as spliceLeaf computed them), as makeNode would encode its entries.
func buildSpliced(n *node, es []levelEdit, at []int, found []bool, count int) *node {
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

	keyBytes, valBytes := len(n.keys), len(n.vals)
	lenBytes := 0
	for k, e := range es {
		if found[k] {
			keyBytes -= int(n.keyOff[at[k]+1] - n.keyOff[at[k]])
			valBytes -= int(n.valOff[at[k]+1] - n.valOff[at[k]])
		}
		if !e.del {
			keyBytes += len(e.e.key)
			valBytes += len(e.e.val)
			lenBytes += uvarintLen(uint64(len(e.e.key))) + uvarintLen(uint64(len(e.e.val)))
		}
	}
	for _, r := range runs[:len(es)+1] {
		for x := r.from; x < r.to; x++ {
			lenBytes += uvarintLen(uint64(n.keyOff[x+1]-n.keyOff[x])) + uvarintLen(uint64(n.valOff[x+1]-n.valOff[x]))
		}
	}
	// Envelope (no refs), level 0, the count, the lengths, keys, values.
	size := 2 + 1 + 1 + uvarintLen(uint64(count)) + lenBytes + keyBytes + valBytes
	p := make([]byte, 0, size)
	p = append(p, chunk.FormatVersion, byte(chunk.KindTreeLeaf), 0)
	refsEnd := len(p)
	p = append(p, 0) // level
	p = binary.AppendUvarint(p, uint64(count))
	offs := make([]uint32, 2*(count+1))
	nd := &node{level: 0, keyOff: offs[:count+1], valOff: offs[count+1:]}
	// Each section in entry order: the old entries of a run, then the
	// edit after it.
	each := func(oldLen func(x int) uint32, newLen func(e *levelEdit) int, off []uint32) {
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
				l := newLen(&es[k])
				p = binary.AppendUvarint(p, uint64(l))
				off[y+1] = off[y] + uint32(l)
				y++
			}
		}
	}
	each(func(x int) uint32 { return n.keyOff[x+1] - n.keyOff[x] }, func(e *levelEdit) int { return len(e.e.key) }, nd.keyOff)
	each(func(x int) uint32 { return n.valOff[x+1] - n.valOff[x] }, func(e *levelEdit) int { return len(e.e.val) }, nd.valOff)
	keysStart := len(p)
	for k := 0; k <= len(es); k++ {
		r := runs[k]
		p = append(p, n.keys[n.keyOff[r.from]:n.keyOff[r.to]]...)
		if k < len(es) && !es[k].del {
			p = append(p, es[k].e.key...)
		}
	}
	valsStart := len(p)
	for k := 0; k <= len(es); k++ {
		r := runs[k]
		p = append(p, n.vals[n.valOff[r.from]:n.valOff[r.to]]...)
		if k < len(es) && !es[k].del {
			p = append(p, es[k].e.val...)
		}
	}
	nd.data = p
	nd.hash = chunk.Of(p)
	nd.keys, nd.vals = p[keysStart:valsStart], p[valsStart:]
	nd.env = chunk.EnvelopeOf(chunk.KindTreeLeaf, p[refsEnd:refsEnd], p[refsEnd:])
	nd.size = len(p) + len(offs)*4 + 128
	return nd
}
