package tree

import (
	"bytes"
	"context"
	"fmt"
	"sort"

	"github.com/cairndb/cairn/storage/chunk"
)

// Map is an immutable ordered map from byte keys to byte values, stored as a
// prolly tree in a NodeStore. The zero Map is not usable; make one with
// NewEmptyMap, LoadMap, a Builder or Edit. A Map is safe for concurrent use.
type Map struct {
	ns   *NodeStore
	root *node
}

// NewEmptyMap returns the empty map, writing its (single, empty) node.
func NewEmptyMap(ctx context.Context, ns *NodeStore) (Map, error) {
	w := &writer{ns: ns}
	root, err := w.node(ctx, 0, nil)
	if err != nil {
		return Map{}, err
	}
	if err := w.flush(ctx); err != nil {
		return Map{}, err
	}
	return Map{ns: ns, root: root}, nil
}

// EmptyMapHash is the root hash of every empty map.
var EmptyMapHash = chunk.Of(encodeNode(0, nil))

// LoadMap returns the map whose root node is h.
func LoadMap(ctx context.Context, ns *NodeStore, h chunk.Hash) (Map, error) {
	root, err := ns.read(ctx, h)
	if err != nil {
		return Map{}, err
	}
	return Map{ns: ns, root: root}, nil
}

// Hash returns the hash of the map's root node: two maps with the same
// entries have the same hash.
func (m Map) Hash() chunk.Hash { return m.root.hash }

// Count returns the number of entries.
func (m Map) Count() uint64 { return m.root.treeCount() }

// Height returns the number of levels of nodes (1 for a single leaf).
func (m Map) Height() int { return m.root.level + 1 }

// NodeStore returns the store the map lives in.
func (m Map) NodeStore() *NodeStore { return m.ns }

// Get returns the value stored under key. The returned slice must not be
// modified.
func (m Map) Get(ctx context.Context, key []byte) ([]byte, bool, error) {
	n := m.root
	for {
		i := sort.Search(n.count(), func(i int) bool { return bytes.Compare(n.key(i), key) >= 0 })
		if i == n.count() {
			return nil, false, nil
		}
		if n.leaf() {
			if !bytes.Equal(n.key(i), key) {
				return nil, false, nil
			}
			v, err := m.loadValue(ctx, n.val(i))
			return v, err == nil, err
		}
		child, err := m.ns.readChild(ctx, n, i)
		if err != nil {
			return nil, false, err
		}
		n = child
	}
}

// Has reports whether key is in the map.
func (m Map) Has(ctx context.Context, key []byte) (bool, error) {
	c := newCursor(m.ns, m.root)
	if err := c.seek(ctx, key, 0); err != nil {
		return false, err
	}
	if c.done {
		return false, nil
	}
	k, _ := c.entry()
	return bytes.Equal(k, key), nil
}

// Ordinal returns how many keys are smaller than key.
func (m Map) Ordinal(ctx context.Context, key []byte) (uint64, error) {
	c := newCursor(m.ns, m.root)
	if err := c.seek(ctx, key, 0); err != nil {
		return 0, err
	}
	if c.done {
		return m.Count(), nil
	}
	return c.ordinal(), nil
}

// At returns the i-th entry in key order (0-based). ok is false when i is
// not less than Count.
func (m Map) At(ctx context.Context, i uint64) (key, value []byte, ok bool, err error) {
	c := newCursor(m.ns, m.root)
	if err := c.seekOrdinal(ctx, i); err != nil || c.done {
		return nil, nil, false, err
	}
	k, sv := c.entry()
	v, err := m.loadValue(ctx, sv)
	return k, v, err == nil, err
}

// loadValue turns a stored value into the value, reading a blob if needed.
func (m Map) loadValue(ctx context.Context, sv []byte) ([]byte, error) {
	if sv[0] == tagInline {
		return sv[1:], nil
	}
	h, _ := blobRef(sv)
	return readBlob(ctx, m.ns.cs, h, blobLen(sv))
}

// storeValue returns the stored form of v, writing a blob if it is long.
func storeValue(ctx context.Context, w *writer, v []byte) ([]byte, error) {
	if len(v) <= InlineLimit {
		return inlineValue(v), nil
	}
	h, err := writeBlob(ctx, w, v)
	if err != nil {
		return nil, err
	}
	return blobValue(h, uint64(len(v))), nil
}

// Builder makes a map from entries added in ascending key order, streaming:
// memory stays proportional to the tree's height, not its size.
type Builder struct {
	ns       *NodeStore
	w        *writer
	levels   []*chunker
	last     []byte
	started  bool
	finished bool
}

// NewBuilder returns a builder writing to ns.
func NewBuilder(ns *NodeStore) *Builder {
	w := &writer{ns: ns}
	return &Builder{ns: ns, w: w, levels: []*chunker{newChunker(w, 0)}}
}

// Add appends an entry. Keys must be strictly ascending. Add copies nothing
// the caller keeps: key and value may be reused after the call.
func (b *Builder) Add(ctx context.Context, key, value []byte) error {
	if len(key) > MaxKeySize {
		return fmt.Errorf("%w: %d", ErrKeyTooLong, len(key))
	}
	if b.started && bytes.Compare(key, b.last) <= 0 {
		return fmt.Errorf("%w: %q after %q", ErrUnsorted, key, b.last)
	}
	b.started = true
	b.last = append(b.last[:0], key...)
	sv, err := storeValue(ctx, b.w, value)
	if err != nil {
		return err
	}
	return b.push(ctx, 0, entry{key: bytes.Clone(key), val: sv})
}

// push adds an entry at a level, carrying finished nodes upwards.
func (b *Builder) push(ctx context.Context, level int, e entry) error {
	c := b.levels[level]
	cut, err := c.add(ctx, e)
	if err != nil || !cut {
		return err
	}
	return b.carry(ctx, level)
}

func (b *Builder) carry(ctx context.Context, level int) error {
	c := b.levels[level]
	out := c.out
	c.out = nil
	if level+1 == len(b.levels) {
		b.levels = append(b.levels, newChunker(b.w, level+1))
	}
	for _, e := range out {
		if err := b.push(ctx, level+1, e); err != nil {
			return err
		}
	}
	return nil
}

// Finish writes the remaining nodes and returns the map.
func (b *Builder) Finish(ctx context.Context) (Map, error) {
	if b.finished {
		return Map{}, fmt.Errorf("tree: builder finished twice")
	}
	b.finished = true
	var root *node
	for level := 0; root == nil; level++ {
		c := b.levels[level]
		if level == len(b.levels)-1 {
			// The top level never ended a node: its entries make the root.
			var err error
			if root, err = b.w.node(ctx, level, c.pending); err != nil {
				return Map{}, err
			}
			break
		}
		if err := c.cut(ctx); err != nil {
			return Map{}, err
		}
		if err := b.carry(ctx, level); err != nil {
			return Map{}, err
		}
	}
	root, err := collapse(ctx, b.w, root)
	if err != nil {
		return Map{}, err
	}
	if err := b.w.flush(ctx); err != nil {
		return Map{}, err
	}
	return Map{ns: b.ns, root: root}, nil
}

// collapse descends from a root with a single child to the highest node with
// more than one entry (or a leaf): a level of one node is the root. The
// nodes below may be old ones, so they are checked like any child.
func collapse(ctx context.Context, w *writer, root *node) (*node, error) {
	for root.level > 0 && root.count() == 1 {
		if err := w.flush(ctx); err != nil {
			return nil, err
		}
		child, err := w.ns.readChild(ctx, root, 0)
		if err != nil {
			return nil, err
		}
		root = child
	}
	return root, nil
}
