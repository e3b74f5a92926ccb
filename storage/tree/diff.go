package tree

import (
	"bytes"
	"context"
	"io"
)

// DiffType says how an entry changed.
type DiffType int

// The kinds of change.
const (
	Added DiffType = iota + 1
	Removed
	Modified
)

func (t DiffType) String() string {
	switch t {
	case Added:
		return "added"
	case Removed:
		return "removed"
	case Modified:
		return "modified"
	}
	return "unknown"
}

// Difference is one entry that differs between two maps. From is nil for an
// added entry and To for a removed one.
type Difference struct {
	Type     DiffType
	Key      []byte
	From, To []byte
}

// DiffIter streams the differences between two maps in key order. Subtrees
// the two maps share are skipped by comparing hashes without being read, so
// the work is proportional to the size of the change, not of the maps.
type DiffIter struct {
	from, to Map
	a, b     *cursor
}

// NewDiffIter returns an iterator over the changes that turn from into to.
// Both maps must be in the same node store.
func NewDiffIter(from, to Map) *DiffIter {
	d := &DiffIter{from: from, to: to, a: newCursor(from.ns, from.root), b: newCursor(to.ns, to.root)}
	if from.root.hash == to.root.hash {
		d.a.done, d.b.done = true, true
	}
	if from.Count() == 0 {
		d.a.done = true
	}
	if to.Count() == 0 {
		d.b.done = true
	}
	return d
}

// Diff calls fn with each change that turns from into to, in key order.
func Diff(ctx context.Context, from, to Map, fn func(Difference) error) error {
	d := NewDiffIter(from, to)
	for {
		df, err := d.Next(ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(df); err != nil {
			return err
		}
	}
}

// Next returns the next change, or io.EOF when there are no more.
func (d *DiffIter) Next(ctx context.Context) (Difference, error) {
	a, b := d.a, d.b
	for {
		switch {
		case a.done && b.done:
			return Difference{}, io.EOF
		case a.done:
			return d.emit(ctx, Added, b, nil)
		case b.done:
			return d.emit(ctx, Removed, a, nil)
		}
		if ok, err := d.skipShared(ctx); err != nil {
			return Difference{}, err
		} else if ok {
			continue
		}
		if err := a.load(ctx, 0); err != nil {
			return Difference{}, err
		}
		if err := b.load(ctx, 0); err != nil {
			return Difference{}, err
		}
		ka, sva := a.entry()
		kb, svb := b.entry()
		switch cmp := bytes.Compare(ka, kb); {
		case cmp < 0:
			return d.emit(ctx, Removed, a, nil)
		case cmp > 0:
			return d.emit(ctx, Added, b, nil)
		case bytes.Equal(sva, svb):
			if err := a.advance(ctx, 0); err != nil {
				return Difference{}, err
			}
			if err := b.advance(ctx, 0); err != nil {
				return Difference{}, err
			}
		default:
			return d.emit(ctx, Modified, a, b)
		}
	}
}

// emit builds the change at the cursor(s) and moves past it.
func (d *DiffIter) emit(ctx context.Context, t DiffType, c, other *cursor) (Difference, error) {
	if err := c.load(ctx, 0); err != nil {
		return Difference{}, err
	}
	k, sv := c.entry()
	df := Difference{Type: t, Key: k}
	var err error
	switch t {
	case Added:
		df.To, err = d.to.loadValue(ctx, sv)
	case Removed:
		df.From, err = d.from.loadValue(ctx, sv)
	case Modified:
		if df.From, err = d.from.loadValue(ctx, sv); err == nil {
			_, svb := other.entry()
			df.To, err = d.to.loadValue(ctx, svb)
		}
	}
	if err != nil {
		return Difference{}, err
	}
	if err := c.advance(ctx, 0); err != nil {
		return Difference{}, err
	}
	if other != nil {
		if err := other.advance(ctx, 0); err != nil {
			return Difference{}, err
		}
	}
	return df, nil
}

// skipShared moves both cursors past the largest subtree they both stand at
// the start of, if it is the same subtree (same hash) in both.
func (d *DiffIter) skipShared(ctx context.Context) (bool, error) {
	a, b := d.a, d.b
	lo := max(a.valid, b.valid, 1)
	for m := min(a.top(), b.top()); m >= lo; m-- {
		if !a.atLevelStart(m) || !b.atLevelStart(m) {
			continue
		}
		if a.nodes[m].child(a.idx[m]) != b.nodes[m].child(b.idx[m]) {
			continue
		}
		if err := a.advance(ctx, m); err != nil {
			return false, err
		}
		return true, b.advance(ctx, m)
	}
	return false, nil
}
