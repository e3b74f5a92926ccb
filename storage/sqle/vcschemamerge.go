package sqle

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/cairndb/cairn/storage/tree"
)

// Merging a table whose schema one branch changed while the other changed
// its rows: the other side's row changes are replayed onto the changed
// table, each row converted by column name (a column the schema change
// added takes its literal default, or NULL). What cannot be converted
// refuses the merge with the reason: a changed primary key, a keyless
// table, a new NOT NULL column without a literal default, a value the new
// column type refuses, a row both sides changed.

var numericLiteral = regexp.MustCompile(`^[-+]?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?$`)

// defaultLiteralValue returns the value of a column default that is a literal.
func defaultLiteralValue(text string) (any, bool) {
	t := strings.TrimSpace(text)
	switch {
	case strings.EqualFold(t, "NULL"):
		return nil, true
	case len(t) >= 2 && t[0] == '\'' && t[len(t)-1] == '\'':
		return strings.ReplaceAll(t[1:len(t)-1], "''", "'"), true
	case numericLiteral.MatchString(t):
		return t, true
	}
	return nil, false
}

// rowConverter converts row values of one table version to another's.
type rowConverter struct {
	from, to *tableData
	src      []int // by target column: the source column, or -1
	defaults []any // by target column, for src -1
}

func newRowConverter(from, to *tableData) (*rowConverter, string) {
	c := &rowConverter{from: from, to: to}
	for _, col := range to.lay.sch.Columns {
		j := from.lay.sch.ColumnIndex(col.Name)
		c.src = append(c.src, j)
		var def any
		if j < 0 && !col.Virtual {
			switch {
			case col.HasDefault:
				v, ok := defaultLiteralValue(col.Default)
				if !ok {
					return nil, fmt.Sprintf("column %s, added on one side, has a default that is not a literal", col.Name)
				}
				def = v
			case !col.Nullable && !col.AutoIncrement:
				return nil, fmt.Sprintf("column %s, added on one side, is NOT NULL without a default", col.Name)
			}
		}
		c.defaults = append(c.defaults, def)
	}
	return c, ""
}

// convert returns the value, in the target layout, of row value v of the
// source layout.
func (c *rowConverter) convert(ctx context.Context, v []byte) ([]byte, error) {
	row, err := c.from.decodeRow(v, nil)
	if err != nil {
		return nil, err
	}
	lay := c.to.lay
	stored := make([]any, len(lay.stored))
	sctx := sql.NewEmptyContext()
	for i, pos := range lay.stored {
		var val any
		if j := c.src[pos]; j >= 0 {
			val = row[j]
		} else {
			val = c.defaults[pos]
		}
		if val != nil {
			conv, _, err := lay.sch.Columns[pos].Type.Convert(sctx, val)
			if err != nil {
				return nil, fmt.Errorf("column %s: %v", lay.sch.Columns[pos].Name, err)
			}
			val = conv
		}
		stored[i] = val
	}
	return lay.rowEnc.Encode(nil, stored)
}

// samePrimaryKey reports whether two versions of a table key their rows
// alike.
func samePrimaryKey(a, b *layout) bool {
	if a.keyless || b.keyless || len(a.pk) != len(b.pk) {
		return false
	}
	for i := range a.pk {
		ca, cb := a.sch.Columns[a.pk[i]], b.sch.Columns[b.pk[i]]
		if !strings.EqualFold(ca.Name, cb.Name) || !ca.Type.Equals(cb.Type) {
			return false
		}
	}
	return fmt.Sprint(a.sch.PKPrefixLengths) == fmt.Sprint(b.sch.PKPrefixLengths)
}

// mergeAcrossSchemaChange replays the row changes from base to other onto
// target (whose schema changed from base's), or says why it cannot.
func (st *dbState) mergeAcrossSchemaChange(ctx context.Context, name string, base, target, other *tableData) (*tableData, string, error) {
	if !samePrimaryKey(base.lay, target.lay) {
		return nil, fmt.Sprintf("table %s: one side changed its primary key (or it has none) while the other changed rows", name), nil
	}
	toTarget, why := newRowConverter(base, target)
	if why != "" {
		return nil, fmt.Sprintf("table %s: %s", name, why), nil
	}
	out := *target
	out.hash = [20]byte{}
	var rowEdits []tree.Edit
	idxEdits := make([]map[string]*tree.Edit, len(target.indexes))
	for i := range idxEdits {
		idxEdits[i] = map[string]*tree.Edit{}
	}
	var reason string
	err := tree.Diff(ctx, base.rows, other.rows, func(d tree.Difference) error {
		cur, ok, err := target.rows.Get(ctx, d.Key)
		if err != nil {
			return err
		}
		var was, now []byte
		if d.From != nil {
			if was, err = toTarget.convert(ctx, d.From); err != nil {
				reason = fmt.Sprintf("table %s: %v", name, err)
				return errStopMerge
			}
		}
		if d.To != nil {
			if now, err = toTarget.convert(ctx, d.To); err != nil {
				reason = fmt.Sprintf("table %s: %v", name, err)
				return errStopMerge
			}
		}
		if ok == (now != nil) && (!ok || bytes.Equal(cur, now)) {
			return nil // the same change on both sides
		}
		if ok != (was != nil) || ok && !bytes.Equal(cur, was) {
			reason = fmt.Sprintf("table %s: a row was changed on both sides, across a schema change", name)
			return errStopMerge
		}
		key := append([]byte(nil), d.Key...)
		// editIndexes deletes (or adds) the index entries of row.
		editIndexes := func(row []byte, del bool) error {
			keys, fine, err := target.indexKeysOf(key, row)
			if !fine {
				reason = fmt.Sprintf("table %s: an index covers generated columns", name)
				return errStopMerge
			}
			if err != nil {
				return err
			}
			for i, k := range keys {
				if k == nil {
					continue // a disabled index
				}
				e := &tree.Edit{Key: k, Delete: true}
				if !del {
					e = &tree.Edit{Key: k, Value: []byte{}}
				}
				idxEdits[i][string(k)] = e
			}
			return nil
		}
		if ok {
			if err := editIndexes(cur, true); err != nil {
				return err
			}
		}
		if now == nil {
			rowEdits = append(rowEdits, tree.Edit{Key: key, Delete: true})
			return nil
		}
		rowEdits = append(rowEdits, tree.Edit{Key: key, Value: now})
		return editIndexes(now, false)
	})
	if err == errStopMerge {
		return nil, reason, nil
	}
	if err != nil {
		return nil, "", err
	}
	if out.rows, err = target.rows.Edit(ctx, rowEdits); err != nil {
		return nil, "", err
	}
	out.indexes = append([]tree.Map(nil), target.indexes...)
	for i := range out.indexes {
		list := make([]tree.Edit, 0, len(idxEdits[i]))
		for _, e := range idxEdits[i] {
			list = append(list, *e)
		}
		if out.indexes[i], err = out.indexes[i].Edit(ctx, list); err != nil {
			return nil, "", err
		}
		if il := &out.lay.indexes[i]; il.def.Unique {
			if err := checkUniqueAfterMerge(ctx, il, target.indexes[i], out.indexes[i], out.indexes[i]); err != nil {
				if sql.ErrLockDeadlock.Is(err) {
					return nil, fmt.Sprintf("table %s: unique index %s would hold a value twice", name, il.def.Name), nil
				}
				return nil, "", err
			}
		}
	}
	out.autoInc = max(target.autoInc, other.autoInc)
	return &out, "", nil
}

// errStopMerge ends a diff walk whose reason is recorded.
var errStopMerge = fmt.Errorf("stop")
