package tree

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/cairndb/cairn/storage/chunk"
)

// Node payload layout, after the chunk envelope (whose kind says leaf or
// internal, and whose refs hold the children of an internal node or the blob
// roots of a leaf's out-of-line values, in entry order):
//
//	uvarint level          0 for leaves
//	uvarint n              number of entries
//	n × uvarint            key lengths
//	n × uvarint            value lengths
//	keys, concatenated
//	values, concatenated
//
// An internal node's key i is the last key of child i and its value i is the
// uvarint count of entries under child i. A leaf's value is a stored value
// (see value.go).

// maxNodeEntries bounds the entry count a decoder accepts.
const maxNodeEntries = 1 << 20

// node is a decoded tree node. It is immutable and shared through the cache.
type node struct {
	hash   chunk.Hash
	data   []byte // the whole chunk
	level  int
	keyOff []uint32 // len n+1: key i is keys[keyOff[i]:keyOff[i+1]]
	keys   []byte
	valOff []uint32
	vals   []byte
	env    chunk.Envelope // its refs are the children of an internal node
	cum    []uint64       // internal nodes only: cum[i] = entries under children before i
	size   int            // approximate memory held, for the cache
}

// child returns the hash of child i of an internal node.
func (n *node) child(i int) chunk.Hash { return n.env.Ref(i) }

func (n *node) count() int       { return len(n.keyOff) - 1 }
func (n *node) leaf() bool       { return n.level == 0 }
func (n *node) key(i int) []byte { return n.keys[n.keyOff[i]:n.keyOff[i+1]] }
func (n *node) val(i int) []byte { return n.vals[n.valOff[i]:n.valOff[i+1]] }
func (n *node) lastKey() []byte {
	if n.count() == 0 {
		return nil
	}
	return n.key(n.count() - 1)
}

// treeCount returns the number of leaf entries under the node.
func (n *node) treeCount() uint64 {
	if n.leaf() {
		return uint64(n.count())
	}
	return n.cum[len(n.cum)-1]
}

// childCount returns the entries under child i of an internal node.
func (n *node) childCount(i int) uint64 { return n.cum[i+1] - n.cum[i] }

// entry is one entry on its way into a node being built.
type entry struct {
	key   []byte
	val   []byte     // leaf: stored value
	child chunk.Hash // internal: child node
	count uint64     // internal: entries under child
}

// encodeNode returns the chunk of a node at level holding entries.
func encodeNode(level int, entries []entry) []byte { return makeNode(level, entries).data }

// makeNode encodes a node at level holding entries and returns it decoded,
// with its hash, in one pass: the offsets a reader needs are recorded while
// the lengths are written.
func makeNode(level int, entries []entry) *node {
	kind := chunk.KindTreeLeaf
	nrefs := len(entries)
	if level > 0 {
		kind = chunk.KindTreeInternal
	} else {
		nrefs = 0
		for i := range entries {
			if _, ok := blobRef(entries[i].val); ok {
				nrefs++
			}
		}
	}
	n := len(entries)
	// The exact size: a node lives on in caches, and every byte of slack
	// is allocated, cleared and scanned for nothing.
	size := 2 + uvarintLen(uint64(nrefs)) + nrefs*chunk.HashSize + uvarintLen(uint64(level)) + uvarintLen(uint64(n))
	for i := range entries {
		e := &entries[i]
		size += uvarintLen(uint64(len(e.key))) + len(e.key)
		if level > 0 {
			l := uvarintLen(e.count)
			size += uvarintLen(uint64(l)) + l
		} else {
			size += uvarintLen(uint64(len(e.val))) + len(e.val)
		}
	}
	p := make([]byte, 0, size)
	p = append(p, chunk.FormatVersion, byte(kind))
	p = binary.AppendUvarint(p, uint64(nrefs))
	refsStart := len(p)
	for i := range entries {
		if level > 0 {
			p = append(p, entries[i].child[:]...)
		} else if h, ok := blobRef(entries[i].val); ok {
			p = append(p, h[:]...)
		}
	}
	refsEnd := len(p)
	p = binary.AppendUvarint(p, uint64(level))
	p = binary.AppendUvarint(p, uint64(n))
	offs := make([]uint32, 2*(n+1))
	nd := &node{level: level, keyOff: offs[:n+1], valOff: offs[n+1:]}
	for i := range entries {
		p = binary.AppendUvarint(p, uint64(len(entries[i].key)))
		nd.keyOff[i+1] = nd.keyOff[i] + uint32(len(entries[i].key))
	}
	for i := range entries {
		l := len(entries[i].val)
		if level > 0 {
			l = uvarintLen(entries[i].count)
		}
		p = binary.AppendUvarint(p, uint64(l))
		nd.valOff[i+1] = nd.valOff[i] + uint32(l)
	}
	keysStart := len(p)
	for i := range entries {
		p = append(p, entries[i].key...)
	}
	valsStart := len(p)
	if level > 0 {
		nd.cum = make([]uint64, n+1)
	}
	for i := range entries {
		if level > 0 {
			p = binary.AppendUvarint(p, entries[i].count)
			nd.cum[i+1] = nd.cum[i] + entries[i].count
		} else {
			p = append(p, entries[i].val...)
		}
	}
	return nd.seal(kind, p, refsStart, refsEnd, keysStart, valsStart)
}

// seal completes a node being made whose offsets (and running counts) are
// set: p is its chunk, of kind, with its refs at p[refsStart:refsEnd], and
// its keys and values from keysStart and valsStart on.
func (nd *node) seal(kind chunk.Kind, p []byte, refsStart, refsEnd, keysStart, valsStart int) *node {
	nd.data = p
	nd.hash = chunk.Of(p)
	nd.keys, nd.vals = p[keysStart:valsStart], p[valsStart:]
	nd.env = chunk.EnvelopeOf(kind, p[refsStart:refsEnd], p[refsEnd:])
	nd.setSize()
	return nd
}

// setSize sets the memory the node holds, for the cache.
func (nd *node) setSize() {
	nd.size = len(nd.data) + (len(nd.keyOff)+len(nd.valOff))*4 + len(nd.cum)*8 + 128
}

// keysBelow returns how many of n's keys from the j-th on are below key.
func (n *node) keysBelow(j int, key []byte) int {
	return sort.Search(n.count()-j, func(x int) bool { return bytes.Compare(n.key(j+x), key) >= 0 })
}

// patchNode handles the most common edits cheaply: values replaced by values
// of the same length (at the leaves, both inline) or, above them, children
// replaced, with counts whose encodings keep their length (an insert below
// adds one to a count). Keys and sizes stay as they were, so the
// chunker would end the node where it ended before, and the new node is n's
// bytes with those values overwritten in place. It applies the edits from i
// on that fall in n (all that are left if n is the last node of its level)
// and returns the new node and the index of the first edit it did not
// apply, or nil if any of them is not such a replacement.
func patchNode(n *node, edits []levelEdit, i int, last bool) (*node, int) {
	type patch struct {
		at int // entry index
		e  *entry
	}
	var patches []patch
	j := 0
	for ; i < len(edits); i++ {
		e := &edits[i]
		if !last && bytes.Compare(e.e.key, n.lastKey()) > 0 {
			break
		}
		j += n.keysBelow(j, e.e.key)
		if e.del || j == n.count() || !bytes.Equal(n.key(j), e.e.key) {
			return nil, 0
		}
		if n.leaf() {
			old := n.val(j)
			if old[0] != tagInline || e.e.val[0] != tagInline || len(old) != len(e.e.val) {
				return nil, 0
			}
		} else if uvarintLen(n.childCount(j)) != uvarintLen(e.e.count) {
			return nil, 0
		}
		patches = append(patches, patch{j, &e.e})
	}
	if len(patches) == 0 {
		return nil, 0
	}
	data := bytes.Clone(n.data)
	valsStart := len(data) - len(n.vals)
	refsStart := 2 + uvarintLen(uint64(n.env.NumRefs()))
	countsChanged := false
	for _, p := range patches {
		if n.leaf() {
			copy(data[valsStart+int(n.valOff[p.at]):], p.e.val)
			continue
		}
		copy(data[refsStart+p.at*chunk.HashSize:], p.e.child[:])
		if p.e.count != n.childCount(p.at) {
			binary.PutUvarint(data[valsStart+int(n.valOff[p.at]):], p.e.count)
			countsChanged = true
		}
	}
	keysStart := valsStart - len(n.keys)
	refsEnd := refsStart + n.env.NumRefs()*chunk.HashSize
	nd := *n // offsets are unchanged and shared: nodes are immutable
	if countsChanged {
		nd.cum = make([]uint64, len(n.cum))
		for i := 0; i < n.count(); i++ {
			c, _ := binary.Uvarint(data[valsStart+int(n.valOff[i]):])
			nd.cum[i+1] = nd.cum[i] + c
		}
	}
	nd.data = data
	nd.hash = chunk.Of(data)
	nd.keys, nd.vals = data[keysStart:valsStart], data[valsStart:]
	nd.env = chunk.EnvelopeOf(n.env.Kind, data[refsStart:refsEnd], data[refsEnd:])
	return &nd, i
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// decodeNode parses a node chunk, checking everything a reader relies on:
// lengths in bounds, keys strictly ascending, child counts consistent.
func decodeNode(h chunk.Hash, data []byte) (*node, error) {
	env, err := chunk.Decode(h, data)
	if err != nil {
		return nil, err
	}
	if env.Kind != chunk.KindTreeLeaf && env.Kind != chunk.KindTreeInternal {
		return nil, chunk.Corruptf(h, "not a tree node: %s", env.Kind)
	}
	p := env.Payload
	bad := func(format string, args ...any) (*node, error) {
		return nil, chunk.Corruptf(h, "tree node: "+format, args...)
	}
	level, w := uvarint(p)
	if w <= 0 || level > 64 {
		return bad("bad level")
	}
	p = p[w:]
	if (level == 0) != (env.Kind == chunk.KindTreeLeaf) {
		return bad("level %d in a %s chunk", level, env.Kind)
	}
	cnt, w := uvarint(p)
	if w <= 0 || cnt > maxNodeEntries || cnt > uint64(len(p)) {
		return bad("bad entry count")
	}
	p = p[w:]
	n := int(cnt)
	nd := &node{hash: h, level: int(level), env: env}
	offs := make([]uint32, 2*(n+1))
	nd.keyOff, nd.valOff = offs[:n+1], offs[n+1:]
	var total uint64
	for _, off := range [][]uint32{nd.keyOff, nd.valOff} {
		total = 0
		for i := 0; i < n; i++ {
			l, w := uvarint(p)
			if w <= 0 || l > uint64(len(data)) {
				return bad("bad length %d", i)
			}
			p = p[w:]
			total += l
			if total > uint64(len(data)) {
				return bad("lengths exceed chunk")
			}
			off[i+1] = uint32(total)
		}
	}
	klen, vlen := int(nd.keyOff[n]), int(nd.valOff[n])
	if klen+vlen != len(p) {
		return bad("payload is %d bytes, entries need %d", len(p), klen+vlen)
	}
	nd.keys, nd.vals = p[:klen], p[klen:]
	for i := 1; i < n; i++ {
		if string(nd.key(i-1)) >= string(nd.key(i)) {
			return bad("keys out of order at %d", i)
		}
	}
	if level > 0 {
		if n == 0 {
			return bad("empty internal node")
		}
		if env.NumRefs() != n {
			return bad("%d children for %d entries", env.NumRefs(), n)
		}
		nd.cum = make([]uint64, n+1)
		for i := 0; i < n; i++ {
			c, w := uvarint(nd.val(i))
			if w <= 0 || w != len(nd.val(i)) || c == 0 {
				return bad("bad child count %d", i)
			}
			nd.cum[i+1] = nd.cum[i] + c
			if nd.cum[i+1] < c {
				return bad("child counts overflow")
			}
		}
	} else {
		refs := 0
		for i := 0; i < n; i++ {
			v := nd.val(i)
			if err := checkStoredValue(v); err != nil {
				return bad("value %d: %v", i, err)
			}
			if hb, ok := blobRef(v); ok {
				if refs >= env.NumRefs() || env.Ref(refs) != hb {
					return bad("value %d: blob ref not in chunk refs", i)
				}
				refs++
			}
		}
		if refs != env.NumRefs() {
			return bad("%d refs for %d out-of-line values", env.NumRefs(), refs)
		}
	}
	nd.data = data
	nd.setSize()
	return nd, nil
}

func (n *node) String() string {
	return fmt.Sprintf("node(%s level=%d n=%d)", n.hash, n.level, n.count())
}
