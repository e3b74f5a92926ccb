package sqle

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/repo"
	"github.com/cairndb/cairn/storage/tree"
)

// mergeRoots merges into theirs (what committed since the transaction began)
// the changes the transaction made from base to ours. A table changed on one
// side only takes that side; a table whose rows both sides changed is merged
// row by row, and so are its indexes. Anything both sides changed
// differently (a row, a schema, a view) is a conflict: the transaction cannot
// commit, and gets ER_LOCK_DEADLOCK.
func (st *dbState) mergeRoots(ctx context.Context, base, ours, theirs *repo.RootValue) (*repo.RootValue, error) {
	out := theirs
	if !bytes.Equal(ours.Settings(), base.Settings()) {
		if !bytes.Equal(theirs.Settings(), base.Settings()) && !bytes.Equal(theirs.Settings(), ours.Settings()) {
			return nil, errConflict("database settings changed concurrently")
		}
		out = out.WithSettings(ours.Settings())
	}

	names := map[string]bool{}
	for _, n := range base.TableNames() {
		names[n] = true
	}
	for _, n := range ours.TableNames() {
		names[n] = true
	}
	for name := range names {
		b, _ := base.GetTable(name)
		o, _ := ours.GetTable(name)
		t, _ := theirs.GetTable(name)
		if o == b {
			continue // ours did not change it
		}
		var err error
		switch {
		case o == t && (o.IsZero() || b.IsZero()):
			if !o.IsZero() {
				return nil, errConflict(fmt.Sprintf("table %s was created concurrently", name))
			}
			continue // both dropped it
		case t == b:
			out, err = putOrDelete(out, name, o)
		case b.IsZero() || o.IsZero() || t.IsZero():
			return nil, errConflict(fmt.Sprintf("table %s was created or dropped concurrently", name))
		default:
			var h chunk.Hash
			if h, err = st.mergeTable(ctx, name, b, o, t); err == nil {
				out, err = out.PutTable(name, h)
			}
		}
		if err != nil {
			return nil, err
		}
	}

	cnames := map[string]bool{}
	for _, c := range base.Collections() {
		cnames[c.Name] = true
	}
	for _, c := range ours.Collections() {
		cnames[c.Name] = true
	}
	for name := range cnames {
		b, _ := base.Collection(name)
		o, _ := ours.Collection(name)
		t, _ := theirs.Collection(name)
		if o == b || o == t {
			continue
		}
		var err error
		if t == b {
			if o.IsZero() {
				out, _ = out.DeleteCollection(name)
			} else {
				out, err = out.PutCollection(name, o)
			}
		} else {
			var h chunk.Hash
			if h, err = st.mergeMaps(ctx, "the "+name, b, o, t); err == nil {
				out, err = out.PutCollection(name, h)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func putOrDelete(r *repo.RootValue, name string, h chunk.Hash) (*repo.RootValue, error) {
	if h.IsZero() {
		out, _ := r.DeleteTable(name)
		return out, nil
	}
	return r.PutTable(name, h)
}

// mergeTable merges the rows and indexes of a table both sides changed.
// Both sides making the very same change is no exception: each may have
// computed its rows from what it read before the other committed (two
// "balance = balance - 10"), so a row both wrote is a conflict.
func (st *dbState) mergeTable(ctx context.Context, name string, b, o, t chunk.Hash) (chunk.Hash, error) {
	base, err := st.readTable(ctx, b)
	if err != nil {
		return chunk.Hash{}, err
	}
	ours, err := st.readTable(ctx, o)
	if err != nil {
		return chunk.Hash{}, err
	}
	theirs, err := st.readTable(ctx, t)
	if err != nil {
		return chunk.Hash{}, err
	}
	if !bytes.Equal(base.lay.schEnc, ours.lay.schEnc) || !bytes.Equal(base.lay.schEnc, theirs.lay.schEnc) {
		return chunk.Hash{}, errConflict(fmt.Sprintf("table %s: its schema changed while another transaction wrote it", name))
	}
	merged := *theirs
	merged.hash = chunk.Hash{}
	rows, err := applyChanges(ctx, base.rows, ours.rows, theirs.rows, true)
	if err != nil {
		if err == errBothChanged {
			return chunk.Hash{}, errConflict(fmt.Sprintf("table %s: a row was changed by another transaction", name))
		}
		return chunk.Hash{}, err
	}
	merged.rows = rows
	merged.indexes = make([]tree.Map, len(theirs.indexes))
	for i := range theirs.indexes {
		// Index keys end with the row's key: a row both sides changed is
		// a conflict above, so index changes never collide.
		m, err := applyChanges(ctx, base.indexes[i], ours.indexes[i], theirs.indexes[i], false)
		if err != nil {
			return chunk.Hash{}, err
		}
		if base.lay.indexes[i].def.Unique {
			if err := checkUniqueAfterMerge(ctx, &base.lay.indexes[i], base.indexes[i], ours.indexes[i], m); err != nil {
				return chunk.Hash{}, err
			}
		}
		merged.indexes[i] = m
	}
	if base.lay.keyless {
		// Row ids are never reused, so content entries never collide.
		if merged.content, err = applyChanges(ctx, base.content, ours.content, theirs.content, false); err != nil {
			return chunk.Hash{}, err
		}
	}
	if ours.autoInc > merged.autoInc {
		merged.autoInc = ours.autoInc
	}
	td, err := st.writeTable(ctx, &merged)
	if err != nil {
		return chunk.Hash{}, err
	}
	return td.hash, nil
}

// errBothChanged reports an entry both sides of a merge wrote.
var errBothChanged = errors.New("entry changed on both sides")

// applyChanges applies the changes from base to ours onto theirs. With
// strict, an entry theirs also changed is errBothChanged, even if both
// wrote the same value: two transactions that both updated a row must not
// both commit (the second may have computed its value from a stale read).
func applyChanges(ctx context.Context, base, ours, theirs tree.Map, strict bool) (tree.Map, error) {
	if base.Hash() == theirs.Hash() {
		return ours, nil
	}
	if base.Hash() == ours.Hash() {
		return theirs, nil
	}
	var edits []tree.Edit
	err := tree.Diff(ctx, base, ours, func(d tree.Difference) error {
		if strict {
			tv, tok, err := theirs.Get(ctx, d.Key)
			if err != nil {
				return err
			}
			bok := d.Type != tree.Added
			if tok != bok || (tok && !bytes.Equal(tv, d.From)) {
				return errBothChanged
			}
		}
		e := tree.Edit{Key: append([]byte(nil), d.Key...)}
		if d.Type == tree.Removed {
			e.Delete = true
		} else {
			e.Value = append([]byte(nil), d.To...)
		}
		edits = append(edits, e)
		return nil
	})
	if err != nil {
		return tree.Map{}, err
	}
	return theirs.Edit(ctx, edits)
}

// checkUniqueAfterMerge refuses a merge in which a unique index holds two
// rows with the same (non-NULL) indexed values: each side added one.
func checkUniqueAfterMerge(ctx context.Context, il *indexLayout, base, ours, merged tree.Map) error {
	return tree.Diff(ctx, base, ours, func(d tree.Difference) error {
		if d.Type == tree.Removed {
			return nil
		}
		return uniqueOnce(ctx, il, merged, d.Key)
	})
}

// mergeMaps merges a map both sides changed (a collection of views,
// triggers, …), refusing entries both changed differently.
func (st *dbState) mergeMaps(ctx context.Context, what string, b, o, t chunk.Hash) (chunk.Hash, error) {
	load := func(h chunk.Hash) (tree.Map, error) {
		if h.IsZero() {
			return tree.NewEmptyMap(ctx, st.ns)
		}
		return tree.LoadMap(ctx, st.ns, h)
	}
	base, err := load(b)
	if err != nil {
		return chunk.Hash{}, err
	}
	ours, err := load(o)
	if err != nil {
		return chunk.Hash{}, err
	}
	theirs, err := load(t)
	if err != nil {
		return chunk.Hash{}, err
	}
	m, conflicts, err := tree.Merge(ctx, base, ours, theirs, nil)
	if err != nil {
		return chunk.Hash{}, err
	}
	if len(conflicts) > 0 {
		return chunk.Hash{}, errConflict(what + " changed concurrently")
	}
	return m.Hash(), nil
}

// isNullSegment reports whether a key column segment is NULL (the codec's
// NULL marker alone).
func isNullSegment(s []byte) bool { return len(s) == 1 && s[0] == 0x00 }
