package tree

import (
	"bytes"
	"context"
	"sort"
)

// cursor is a position in a tree: a path of nodes from the root down to some
// level. Levels below `valid` are not loaded; the cursor then stands at the
// first entry of the subtree under nodes[valid]'s current entry. Loading is
// deferred so that a diff can skip whole subtrees by comparing hashes
// without reading them.
type cursor struct {
	ns    *NodeStore
	nodes []*node // by level; nodes[len-1] is the root
	idx   []int
	valid int  // nodes[valid:] are loaded
	done  bool // moved past either end
}

func newCursor(ns *NodeStore, root *node) *cursor {
	h := root.level + 1
	c := &cursor{ns: ns, nodes: make([]*node, h), idx: make([]int, h), valid: root.level}
	c.nodes[root.level] = root
	return c
}

func (c *cursor) top() int { return len(c.nodes) - 1 }

// seek positions the cursor, loaded down to level, at the first entry whose
// key is >= key, choosing the last child where every key is smaller; at a
// leaf that leaves idx == count (past the end) when key is above every key.
func (c *cursor) seek(ctx context.Context, key []byte, level int) error {
	c.done = false
	for l := c.top(); l >= level; l-- {
		n := c.nodes[l]
		i := sort.Search(n.count(), func(i int) bool { return bytes.Compare(n.key(i), key) >= 0 })
		if l > 0 && i == n.count() {
			i = n.count() - 1
		}
		c.idx[l] = i
		if l > level {
			child, err := c.ns.readChild(ctx, n, i)
			if err != nil {
				return err
			}
			c.nodes[l-1] = child
		}
	}
	c.valid = level
	if level == 0 && c.idx[0] >= c.nodes[0].count() {
		c.done = true
	}
	return nil
}

// seekFirst positions the cursor at the first entry, loaded down to level.
func (c *cursor) seekFirst(ctx context.Context, level int) error {
	c.done = false
	for l := c.top(); l >= level; l-- {
		c.idx[l] = 0
		if l > level {
			child, err := c.ns.readChild(ctx, c.nodes[l], 0)
			if err != nil {
				return err
			}
			c.nodes[l-1] = child
		}
	}
	c.valid = level
	if level == 0 && c.nodes[0].count() == 0 {
		c.done = true
	}
	return nil
}

// seekLast positions the cursor at the last leaf entry.
func (c *cursor) seekLast(ctx context.Context) error {
	c.done = false
	for l := c.top(); l >= 0; l-- {
		c.idx[l] = c.nodes[l].count() - 1
		if l > 0 {
			child, err := c.ns.readChild(ctx, c.nodes[l], c.idx[l])
			if err != nil {
				return err
			}
			c.nodes[l-1] = child
		}
	}
	c.valid = 0
	if c.idx[0] < 0 {
		c.done = true
	}
	return nil
}

// seekOrdinal positions the cursor at the i-th leaf entry (0-based).
func (c *cursor) seekOrdinal(ctx context.Context, i uint64) error {
	c.done = false
	for l := c.top(); l > 0; l-- {
		n := c.nodes[l]
		j := sort.Search(n.count(), func(j int) bool { return n.cum[j+1] > i })
		if j == n.count() {
			c.done = true
			return nil
		}
		i -= n.cum[j]
		c.idx[l] = j
		child, err := c.ns.readChild(ctx, n, j)
		if err != nil {
			return err
		}
		c.nodes[l-1] = child
	}
	c.valid = 0
	if i >= uint64(c.nodes[0].count()) {
		c.done = true // and int(i) might be negative
		return nil
	}
	c.idx[0] = int(i)
	return nil
}

// load loads the nodes below valid down to level, each at its first entry.
func (c *cursor) load(ctx context.Context, level int) error {
	for l := c.valid; l > level; l-- {
		child, err := c.ns.readChild(ctx, c.nodes[l], c.idx[l])
		if err != nil {
			return err
		}
		c.nodes[l-1] = child
		c.idx[l-1] = 0
	}
	if level < c.valid {
		c.valid = level
	}
	return nil
}

// advance moves past the current entry at level (loading down to level
// first); lower levels are left unloaded at the start of the next subtree.
func (c *cursor) advance(ctx context.Context, level int) error {
	if err := c.load(ctx, level); err != nil {
		return err
	}
	for l := level; l <= c.top(); l++ {
		c.idx[l]++
		if c.idx[l] < c.nodes[l].count() {
			// The nodes below l were left behind: they reload lazily.
			c.valid = l
			return nil
		}
	}
	c.done = true
	return nil
}

// retreat moves to the previous leaf entry, loading eagerly.
func (c *cursor) retreat(ctx context.Context) error {
	if err := c.load(ctx, 0); err != nil {
		return err
	}
	l := 0
	for ; l <= c.top(); l++ {
		c.idx[l]--
		if c.idx[l] >= 0 {
			break
		}
	}
	if l > c.top() {
		c.done = true
		return nil
	}
	for ; l > 0; l-- {
		child, err := c.ns.readChild(ctx, c.nodes[l], c.idx[l])
		if err != nil {
			return err
		}
		c.nodes[l-1] = child
		c.idx[l-1] = child.count() - 1
	}
	return nil
}

// atLevelStart reports whether the cursor stands at the first entry of the
// subtree under its current entry at level (every lower index is 0).
func (c *cursor) atLevelStart(level int) bool {
	for l := c.valid; l < level; l++ {
		if c.idx[l] != 0 {
			return false
		}
	}
	return true
}

// entry returns the current leaf entry; the cursor must be loaded to level 0
// and not done.
func (c *cursor) entry() (key, stored []byte) {
	n := c.nodes[0]
	return n.key(c.idx[0]), n.val(c.idx[0])
}

// ordinal returns the number of leaf entries before the cursor (loaded to 0).
func (c *cursor) ordinal() uint64 {
	var o uint64
	for l := c.top(); l > 0; l-- {
		o += c.nodes[l].cum[c.idx[l]]
	}
	return o + uint64(c.idx[0])
}
