package tree

import (
	"bytes"
	"context"
	"io"
)

// Conflict is a key both sides of a merge changed, differently. A nil value
// means the key is absent on that side.
type Conflict struct {
	Key               []byte
	Base, Left, Right []byte
}

// Resolver decides a conflict. It returns the edit to make to the merged
// map and true, or false to leave the conflict unresolved (the merged map
// then keeps the left value and the conflict is reported).
type Resolver func(ctx context.Context, c Conflict) (Edit, bool, error)

// Merge merges the changes from base to right into left: a key changed on
// one side only takes that change, a key changed identically on both sides
// keeps it, and a key changed differently on both sides is a conflict, given
// to resolve (which may be nil) and reported if it stays unresolved. All
// three maps must be in the same node store.
func Merge(ctx context.Context, base, left, right Map, resolve Resolver) (Map, []Conflict, error) {
	if left.Hash() == right.Hash() || base.Hash() == right.Hash() {
		return left, nil, nil
	}
	if base.Hash() == left.Hash() {
		return right, nil, nil
	}
	dl, dr := NewDiffIter(base, left), NewDiffIter(base, right)
	var edits []Edit
	var conflicts []Conflict
	l, lerr := dl.Next(ctx)
	r, rerr := dr.Next(ctx)
	for {
		if lerr != nil && lerr != io.EOF {
			return Map{}, nil, lerr
		}
		if rerr != nil && rerr != io.EOF {
			return Map{}, nil, rerr
		}
		if rerr == io.EOF {
			break // what is left of the left side is already in left
		}
		cmp := -1
		if lerr == io.EOF {
			cmp = 1
		} else {
			cmp = bytes.Compare(l.Key, r.Key)
		}
		switch {
		case cmp < 0:
			l, lerr = dl.Next(ctx)
		case cmp > 0:
			edits = append(edits, changeEdit(r))
			r, rerr = dr.Next(ctx)
		default:
			if !sameChange(l, r) {
				c := Conflict{Key: l.Key, Base: l.From, Left: l.To, Right: r.To}
				resolved := false
				if resolve != nil {
					e, ok, err := resolve(ctx, c)
					if err != nil {
						return Map{}, nil, err
					}
					if ok {
						edits = append(edits, e)
						resolved = true
					}
				}
				if !resolved {
					conflicts = append(conflicts, c)
				}
			}
			l, lerr = dl.Next(ctx)
			r, rerr = dr.Next(ctx)
		}
	}
	merged, err := left.Edit(ctx, edits)
	if err != nil {
		return Map{}, nil, err
	}
	return merged, conflicts, nil
}

func changeEdit(d Difference) Edit {
	if d.Type == Removed {
		return Edit{Key: d.Key, Delete: true}
	}
	return Edit{Key: d.Key, Value: d.To}
}

// sameChange reports whether two changes of one key leave the same result.
func sameChange(a, b Difference) bool {
	if (a.Type == Removed) != (b.Type == Removed) {
		return false
	}
	return a.Type == Removed || bytes.Equal(a.To, b.To)
}
