package tree

import (
	"bytes"
	"context"
	"io"

	"github.com/cairndb/cairn/storage/chunk"
)

// Range selects the entries an iterator visits. The zero Range is every entry
// in ascending order.
type Range struct {
	Start          []byte // lower bound; nil means none
	StartExclusive bool   // Start itself is excluded
	End            []byte // upper bound; nil means none
	EndInclusive   bool   // End itself is included
	Prefix         []byte // only keys with this prefix (intersected with the bounds)
	Reverse        bool   // descending order
}

// Iter walks a map's entries in key order. It is not safe for concurrent use.
type Iter struct {
	m     Map
	c     *cursor
	r     Range
	first bool
	err   error

	// Readahead of the leaves ahead of a forward scan: leaves counts the
	// leaves it has moved to, raParent is the level-1 node whose children
	// it reads ahead and raNext the first of them not yet asked for.
	leaves   int
	raParent *node
	raNext   int
}

// maxReadahead is the most leaves a forward scan reads ahead of itself. It
// starts at 2 at the scan's second leaf and doubles with each leaf, so
// short ranges read little that they do not use.
const maxReadahead = 32

// Iter returns an iterator over the entries of m selected by r.
func (m Map) Iter(ctx context.Context, r Range) (*Iter, error) {
	if len(r.Prefix) > 0 {
		r = r.withPrefix()
	}
	it := &Iter{m: m, c: newCursor(m.ns, m.root), r: r, first: true}
	var err error
	if !r.Reverse {
		if r.Start != nil {
			err = it.c.seek(ctx, r.Start, 0)
		} else {
			err = it.c.seekFirst(ctx, 0)
		}
	} else {
		err = it.seekReverse(ctx)
	}
	if err != nil {
		return nil, err
	}
	return it, nil
}

func (it *Iter) seekReverse(ctx context.Context) error {
	c := it.c
	if it.r.End == nil {
		return c.seekLast(ctx)
	}
	if err := c.seek(ctx, it.r.End, 0); err != nil {
		return err
	}
	if c.done {
		return c.seekLast(ctx)
	}
	k, _ := c.entry()
	if cmp := bytes.Compare(k, it.r.End); cmp > 0 || cmp == 0 && !it.r.EndInclusive {
		return c.retreat(ctx)
	}
	return nil
}

// withPrefix folds Prefix into the bounds.
func (r Range) withPrefix() Range {
	p := r.Prefix
	if r.Start == nil || bytes.Compare(r.Start, p) < 0 {
		r.Start, r.StartExclusive = p, false
	}
	if upper := prefixEnd(p); upper != nil {
		if r.End == nil || bytes.Compare(upper, r.End) <= 0 {
			r.End, r.EndInclusive = upper, false
		}
	}
	r.Prefix = nil
	return r
}

// prefixEnd returns the smallest key above every key with prefix p, or nil
// when there is none (p is all 0xff).
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// Next returns the next entry, or io.EOF after the last. The returned slices
// must not be modified.
func (it *Iter) Next(ctx context.Context) (key, value []byte, err error) {
	if it.err != nil {
		return nil, nil, it.err
	}
	key, value, err = it.next(ctx)
	if err != nil {
		it.err = err
	}
	return key, value, err
}

func (it *Iter) next(ctx context.Context) ([]byte, []byte, error) {
	c := it.c
	for {
		if !it.first {
			var err error
			if it.r.Reverse {
				err = c.retreat(ctx)
			} else {
				err = c.advance(ctx, 0)
			}
			if err != nil {
				return nil, nil, err
			}
		}
		it.first = false
		if c.done {
			return nil, nil, io.EOF
		}
		newLeaf := c.valid > 0
		if err := c.load(ctx, 0); err != nil {
			return nil, nil, err
		}
		if newLeaf && !it.r.Reverse {
			it.readahead(ctx)
		}
		k, sv := c.entry()
		if !it.r.Reverse {
			if it.r.Start != nil && it.r.StartExclusive && bytes.Equal(k, it.r.Start) {
				continue
			}
			if it.r.End != nil {
				if cmp := bytes.Compare(k, it.r.End); cmp > 0 || cmp == 0 && !it.r.EndInclusive {
					c.done = true
					return nil, nil, io.EOF
				}
			}
		} else if it.r.Start != nil {
			if cmp := bytes.Compare(k, it.r.Start); cmp < 0 || cmp == 0 && it.r.StartExclusive {
				c.done = true
				return nil, nil, io.EOF
			}
		}
		v, err := it.m.loadValue(ctx, sv)
		if err != nil {
			return nil, nil, err
		}
		return k, v, nil
	}
}

// readahead asks for the leaves after the current one under the same
// level-1 node, up to the window, once fewer than half of it are ahead. It
// stops at the first child whose keys are all past the range's end.
func (it *Iter) readahead(ctx context.Context) {
	c := it.c
	if c.top() < 1 {
		return
	}
	it.leaves++
	win := min(maxReadahead, 1<<min(it.leaves, 5))
	p, i := c.nodes[1], c.idx[1]
	if p != it.raParent {
		it.raParent, it.raNext = p, i+1
	}
	if it.raNext-i > win/2 {
		return
	}
	end := min(it.raNext+win, p.count())
	hs := make([]chunk.Hash, 0, end-it.raNext)
	for j := it.raNext; j < end; j++ {
		// Child j's keys are above key j-1 of p.
		if it.r.End != nil && bytes.Compare(p.key(j-1), it.r.End) >= 0 {
			end = j
			break
		}
		hs = append(hs, p.child(j))
	}
	it.raNext = end
	c.ns.readahead(ctx, hs)
}
