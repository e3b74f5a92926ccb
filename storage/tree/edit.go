package tree

import (
	"bytes"
	"context"
	"fmt"
	"sort"
)

// Edit is one change to a map: set Key to Value, or, if Delete, remove Key.
type Edit struct {
	Key    []byte
	Value  []byte
	Delete bool
}

// levelEdit is a change to the entries of one level of a tree.
type levelEdit struct {
	e   entry
	del bool
}

// Edit returns the map with edits applied, in one pass over the affected
// nodes: only the nodes on the paths to the edited keys (and, where node
// boundaries move, their neighbours) are rewritten. When several edits name
// one key the last wins. Deleting an absent key does nothing. The result is
// the map a Builder would make from the same entries, to the hash. Setting a
// key longer than MaxKeySize fails with ErrKeyTooLong and changes nothing.
func (m Map) Edit(ctx context.Context, edits []Edit) (Map, error) {
	if len(edits) == 0 {
		return m, nil
	}
	for _, e := range edits {
		if !e.Delete && len(e.Key) > MaxKeySize {
			return Map{}, fmt.Errorf("%w: %d", ErrKeyTooLong, len(e.Key))
		}
	}
	sorted := make([]Edit, len(edits))
	copy(sorted, edits)
	sort.SliceStable(sorted, func(i, j int) bool { return bytes.Compare(sorted[i].Key, sorted[j].Key) < 0 })
	w := &writer{ns: m.ns}
	le := make([]levelEdit, 0, len(sorted))
	for i, e := range sorted {
		if i+1 < len(sorted) && bytes.Equal(e.Key, sorted[i+1].Key) {
			continue // a later edit of the same key wins
		}
		if e.Delete {
			le = append(le, levelEdit{e: entry{key: e.Key}, del: true})
			continue
		}
		sv, err := storeValue(ctx, w, e.Value)
		if err != nil {
			return Map{}, err
		}
		le = append(le, levelEdit{e: entry{key: e.Key, val: sv}})
	}

	root := m.root
	for level := 0; ; level++ {
		up, out, err := editLevel(ctx, w, root, level, le)
		if err != nil {
			return Map{}, err
		}
		if level < root.level {
			le = up
			continue
		}
		// The root level was rewritten whole: out is the new level.
		var newRoot *node
		if len(out) == 0 {
			if newRoot, err = w.node(ctx, 0, nil); err != nil {
				return Map{}, err
			}
		} else if newRoot, err = buildLevels(ctx, w, level, out); err != nil {
			return Map{}, err
		}
		if newRoot, err = collapse(ctx, w, newRoot); err != nil {
			return Map{}, err
		}
		if err := w.flush(ctx); err != nil {
			return Map{}, err
		}
		return Map{ns: m.ns, root: newRoot}, nil
	}
}

// editLevel applies sorted edits to the entries of one level of the tree
// under root. It rechunks each run of nodes the edits touch, starting at the
// first such node (a node always starts fresh after a boundary) and going on
// until a new boundary falls where an old node ended, after which the old
// nodes are reused. It returns the edits this makes to the level above (old
// nodes removed, new nodes added, keyed by their last keys) and every new
// node made.
func editLevel(ctx context.Context, w *writer, root *node, level int, edits []levelEdit) (up []levelEdit, out []entry, err error) {
	c := newCursor(w.ns, root)
	i := 0
	for i < len(edits) {
		if err := c.seek(ctx, edits[i].e.key, level); err != nil {
			return nil, nil, err
		}
		// Replacements rewrite the node in place (patchNode), a few other
		// edits that leave its boundary where it was splice it (spliceNode);
		// anything else goes through a chunker.
		n, last := c.nodes[level], c.lastAtLevel(level)
		made, next := patchNode(n, edits, i, last)
		if made == nil {
			made, next = spliceNode(n, edits, i, last)
		}
		if made != nil {
			w.replaced(n)
			if err := w.put(ctx, made); err != nil {
				return nil, nil, err
			}
			if !bytes.Equal(made.lastKey(), n.lastKey()) {
				up = append(up, levelEdit{e: entry{key: n.lastKey()}, del: true})
			}
			e := entry{key: made.lastKey(), child: made.hash, count: made.treeCount()}
			up = append(up, levelEdit{e: e}) // with the same last key, it replaces the old node
			out = append(out, e)
			i = next
			continue
		}
		ch := newChunker(w, level)
		for {
			n := c.nodes[level]
			last := c.lastAtLevel(level)
			if n.count() > 0 {
				up = append(up, levelEdit{e: entry{key: n.lastKey()}, del: true})
			}
			w.replaced(n)
			// The edits that fall in this node: up to its last key, or all
			// that are left if it is the last node of the level.
			lim := len(edits)
			if !last {
				lim = i + sort.Search(len(edits)-i, func(x int) bool {
					return bytes.Compare(edits[i+x].e.key, n.lastKey()) > 0
				})
			}
			// A chunker that starts fresh at this node's start makes the same
			// decisions the old one did over its unchanged entries: none of
			// them but the last ended the node. They need no boundary test.
			quiet := 0
			if ch.atBoundary() {
				quiet = n.count() - 1
			}
			j := 0
			for ; i < lim; i++ {
				k := edits[i].e.key
				j2 := j + n.keysBelow(j, k)
				if err := ch.addFrom(ctx, n, j, j2, quiet); err != nil {
					return nil, nil, err
				}
				quiet = 0
				j = j2
				if j < n.count() && bytes.Equal(n.key(j), k) {
					j++ // replaced or deleted
				}
				if !edits[i].del {
					if _, err := ch.add(ctx, edits[i].e); err != nil {
						return nil, nil, err
					}
				}
			}
			if err := ch.addFrom(ctx, n, j, n.count(), quiet); err != nil {
				return nil, nil, err
			}
			if last {
				if err := ch.cut(ctx); err != nil {
					return nil, nil, err
				}
				break
			}
			if ch.atBoundary() {
				break
			}
			// The new node runs on past the old one's end: carry on into
			// the next old node.
			if err := c.advance(ctx, level+1); err != nil {
				return nil, nil, err
			}
			if err := c.load(ctx, level); err != nil {
				return nil, nil, err
			}
		}
		for _, e := range ch.out {
			up = append(up, levelEdit{e: e})
		}
		out = append(out, ch.out...)
		ch.release()
	}
	// Removals and additions of the same key (a node rewritten with the same
	// last key) become one replacement.
	sort.SliceStable(up, func(a, b int) bool { return bytes.Compare(up[a].e.key, up[b].e.key) < 0 })
	merged := up[:0]
	for _, u := range up {
		if k := len(merged); k > 0 && bytes.Equal(merged[k-1].e.key, u.e.key) {
			if !u.del {
				merged[k-1] = u
			}
			continue
		}
		merged = append(merged, u)
	}
	return merged, out, nil
}

// nodeEntry returns entry i of n as an entry for a chunker.
func nodeEntry(n *node, i int) entry {
	if n.leaf() {
		return entry{key: n.key(i), val: n.val(i)}
	}
	return entry{key: n.key(i), child: n.child(i), count: n.childCount(i)}
}

// lastAtLevel reports whether the cursor's node at level is the last node of
// that level.
func (c *cursor) lastAtLevel(level int) bool {
	for l := level + 1; l <= c.top(); l++ {
		if c.idx[l] != c.nodes[l].count()-1 {
			return false
		}
	}
	return true
}
