package sqle

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/repo"
	"github.com/cairndb/cairn/storage/tree"
)

// Merge conflicts. A merge whose only trouble is rows both branches changed
// differently keeps our version of each such row, records the three
// versions in the working root's conflicts collection and leaves the merge
// in progress (the working set's merge state). They are read in
// dolt_conflicts and dolt_conflicts_TABLE; deleting rows of the latter
// resolves them (keeping the table as it is); dolt_merge --abort returns to
// the working root before the merge; dolt_commit makes the merge commit once
// none is left.
//
// The collection maps TABLE 0x00 ROWKEY to three row values, base, ours and
// theirs, each a uvarint of its length plus one (0: absent) and its bytes.

// conflictsCollection is the root collection holding merge conflicts. It is
// never staged or committed.
const conflictsCollection = "conflicts"

func conflictKey(table string, rowKey []byte) []byte {
	return append(append([]byte(table), 0), rowKey...)
}

func encodeConflict(base, ours, theirs []byte) []byte {
	var out []byte
	for _, v := range [][]byte{base, ours, theirs} {
		if v == nil {
			out = binary.AppendUvarint(out, 0)
			continue
		}
		out = binary.AppendUvarint(out, uint64(len(v))+1)
		out = append(out, v...)
	}
	return out
}

func decodeConflict(b []byte) (base, ours, theirs []byte, err error) {
	var vals [3][]byte
	for i := range vals {
		n, w := binary.Uvarint(b)
		if w <= 0 || n > uint64(len(b)-w)+1 {
			return nil, nil, nil, errors.New("malformed merge conflict")
		}
		b = b[w:]
		if n > 0 {
			vals[i] = b[:n-1]
			b = b[n-1:]
		}
	}
	return vals[0], vals[1], vals[2], nil
}

// conflictsMap returns the conflicts map of root, empty if it has none.
func (st *dbState) conflictsMap(ctx context.Context, root *repo.RootValue) (tree.Map, error) {
	h, ok := root.Collection(conflictsCollection)
	if !ok {
		return st.emptyMap(ctx)
	}
	return tree.LoadMap(ctx, st.ns, h)
}

// withoutConflicts returns root without its conflicts collection.
func withoutConflicts(root *repo.RootValue) *repo.RootValue {
	out, _ := root.DeleteCollection(conflictsCollection)
	return out
}

// conflictCounts returns the number of conflicts of each table of root.
func (st *dbState) conflictCounts(ctx context.Context, root *repo.RootValue) (map[string]uint64, []string, error) {
	m, err := st.conflictsMap(ctx, root)
	if err != nil {
		return nil, nil, err
	}
	counts := map[string]uint64{}
	var order []string
	it, err := m.Iter(ctx, tree.Range{})
	if err != nil {
		return nil, nil, err
	}
	for {
		k, _, err := it.Next(ctx)
		if err == io.EOF {
			return counts, order, nil
		}
		if err != nil {
			return nil, nil, err
		}
		table, _, _ := strings.Cut(string(k), "\x00")
		if counts[table] == 0 {
			order = append(order, table)
		}
		counts[table]++
	}
}

// indexKeysOf returns the key in each secondary index of td of the row
// with key k and value v (nil for a disabled index, which keeps none); ok
// is false for a table whose indexes cover columns computed by the engine
// (generated columns), which cannot be recomputed here.
func (td *tableData) indexKeysOf(k, v []byte) ([][]byte, bool, error) {
	row, err := td.decodeRow(v, nil)
	if err != nil {
		return nil, false, err
	}
	out := make([][]byte, len(td.lay.indexes))
	for i, il := range td.lay.indexes {
		if il.def.Disabled {
			continue
		}
		vals := make([]any, len(il.cols))
		for j, pos := range il.cols {
			if td.lay.storedIndex[pos] < 0 {
				return nil, false, nil
			}
			vals[j] = row[pos]
		}
		key, err := il.enc.Encode(nil, vals)
		if err != nil {
			return nil, false, err
		}
		out[i] = append(key, k...)
	}
	return out, true, nil
}

// fixIndexesForConflicts makes the indexes of merged (whose rows keep ours
// at every conflict) agree with its rows: the entries of the other
// versions of each conflicting row go, ours are put.
func fixIndexesForConflicts(ctx context.Context, merged *tableData, conflicts []tree.Conflict) (bool, error) {
	if len(merged.indexes) == 0 {
		return true, nil
	}
	edits := make([]map[string]*tree.Edit, len(merged.indexes))
	for i := range edits {
		edits[i] = map[string]*tree.Edit{}
	}
	for _, c := range conflicts {
		for _, v := range [][]byte{c.Base, c.Right} {
			if v == nil {
				continue
			}
			keys, ok, err := merged.indexKeysOf(c.Key, v)
			if err != nil || !ok {
				return ok, err
			}
			for i, k := range keys {
				if k == nil {
					continue
				}
				if _, put := edits[i][string(k)]; !put {
					edits[i][string(k)] = &tree.Edit{Key: k, Delete: true}
				}
			}
		}
		if c.Left != nil {
			keys, ok, err := merged.indexKeysOf(c.Key, c.Left)
			if err != nil || !ok {
				return ok, err
			}
			for i, k := range keys {
				if k == nil {
					continue
				}
				edits[i][string(k)] = &tree.Edit{Key: k, Value: []byte{}}
			}
		}
	}
	for i := range merged.indexes {
		list := make([]tree.Edit, 0, len(edits[i]))
		for _, e := range edits[i] {
			list = append(list, *e)
		}
		m, err := merged.indexes[i].Edit(ctx, list)
		if err != nil {
			return false, err
		}
		merged.indexes[i] = m
	}
	return true, nil
}

// conflictsTable is dolt_conflicts: the number of conflicts of each table.
func conflictsTable(db *Database) *systemTable {
	const src = "dolt_conflicts"
	return &systemTable{
		name: src,
		db:   db.Name(),
		sch: sql.Schema{
			{Name: "table", Type: types.Text, PrimaryKey: true, Source: src},
			{Name: "num_conflicts", Type: types.Uint64, Source: src},
		},
		rows: func(ctx *sql.Context) ([]sql.Row, error) {
			root, err := db.root(ctx)
			if err != nil {
				return nil, err
			}
			counts, order, err := db.st.conflictCounts(ctx, root)
			if err != nil {
				return nil, err
			}
			rows := make([]sql.Row, 0, len(order))
			for _, t := range order {
				rows = append(rows, sql.Row{t, counts[t]})
			}
			return rows, nil
		},
	}
}

// tableConflictsTable is dolt_conflicts_<table>: the conflicts of one
// table, its three versions side by side. Deleting its rows resolves them.
type tableConflictsTable struct {
	*systemTable
	d     *Database
	table string // as stored
}

func tableConflicts(ctx *sql.Context, db *Database, table string) (sql.Table, error) {
	stored := mustFind(ctx, db, table)
	cur, ok, err := db.tableData(ctx, stored)
	if err != nil || !ok {
		return nil, err
	}
	src := "dolt_conflicts_" + table
	sch := sql.Schema{{Name: "from_root_ish", Type: types.Text, Nullable: true, Source: src}}
	sch = append(sch, historyColumns(cur, "base_", src)...)
	sch = append(sch, historyColumns(cur, "our_", src)...)
	sch = append(sch, &sql.Column{Name: "our_diff_type", Type: types.Text, Source: src})
	sch = append(sch, historyColumns(cur, "their_", src)...)
	sch = append(sch,
		&sql.Column{Name: "their_diff_type", Type: types.Text, Source: src},
		&sql.Column{Name: "dolt_conflict_id", Type: types.Text, Source: src})
	t := &tableConflictsTable{d: db, table: stored}
	t.systemTable = &systemTable{name: src, db: db.Name(), sch: sch, rows: func(ctx *sql.Context) ([]sql.Row, error) {
		root, err := db.root(ctx)
		if err != nil {
			return nil, err
		}
		m, err := db.st.conflictsMap(ctx, root)
		if err != nil {
			return nil, err
		}
		from := ""
		if vc, err := db.prov.OpenVC(ctx, db.Name()); err == nil && vc.Branch() != "" {
			if ws, _, err := db.st.repo.WorkingSet(ctx, vc.Branch()); err == nil && ws.Merge != nil {
				from = ws.Merge.Commit.String()
			}
		}
		it, err := m.Iter(ctx, tree.Range{Prefix: conflictKey(stored, nil)})
		if err != nil {
			return nil, err
		}
		var rows []sql.Row
		for {
			k, v, err := it.Next(ctx)
			if err == io.EOF {
				return rows, nil
			}
			if err != nil {
				return nil, err
			}
			base, ours, theirs, err := decodeConflict(v)
			if err != nil {
				return nil, err
			}
			decode := func(b []byte) (sql.Row, error) {
				if b == nil {
					return make(sql.Row, len(cur.lay.sch.Columns)), nil
				}
				return cur.decodeRow(b, nil)
			}
			diffType := func(side []byte) string {
				switch {
				case base == nil:
					return "added"
				case side == nil:
					return "removed"
				}
				return "modified"
			}
			row := sql.Row{from}
			for _, b := range [][]byte{base, ours} {
				r, err := decode(b)
				if err != nil {
					return nil, err
				}
				row = append(row, r...)
			}
			row = append(row, diffType(ours))
			r, err := decode(theirs)
			if err != nil {
				return nil, err
			}
			row = append(row, r...)
			row = append(row, diffType(theirs), chunk.Of(k).String())
			rows = append(rows, row)
		}
	}}
	return t, nil
}

var _ sql.DeletableTable = (*tableConflictsTable)(nil)

// Deleter implements sql.DeletableTable: deleting a row resolves its
// conflict, keeping the table's row as it is.
func (t *tableConflictsTable) Deleter(*sql.Context) sql.RowDeleter { return &conflictDeleter{t: t} }

type conflictDeleter struct {
	t    *tableConflictsTable
	keys [][]byte
}

func (c *conflictDeleter) StatementBegin(*sql.Context)              { c.keys = nil }
func (c *conflictDeleter) DiscardChanges(*sql.Context, error) error { c.keys = nil; return nil }
func (c *conflictDeleter) StatementComplete(*sql.Context) error     { return nil }
func (c *conflictDeleter) Delete(ctx *sql.Context, row sql.Row) error {
	id, _ := row[len(row)-1].(string)
	c.keys = append(c.keys, []byte(id))
	return nil
}

// Close removes the conflicts deleted, found by their ids, from the
// session's working root.
func (c *conflictDeleter) Close(ctx *sql.Context) error {
	if len(c.keys) == 0 {
		return nil
	}
	_, d, err := c.t.d.tx(ctx)
	if err != nil {
		return err
	}
	st := c.t.d.st
	m, err := st.conflictsMap(ctx, d.root)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, k := range c.keys {
		want[string(k)] = true
	}
	it, err := m.Iter(ctx, tree.Range{Prefix: conflictKey(c.t.table, nil)})
	if err != nil {
		return err
	}
	var edits []tree.Edit
	for {
		k, _, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if want[chunk.Of(k).String()] {
			edits = append(edits, tree.Edit{Key: append([]byte(nil), k...), Delete: true})
		}
	}
	if m, err = m.Edit(ctx, edits); err != nil {
		return err
	}
	root := d.root
	if m.Count() == 0 {
		root = withoutConflicts(root)
	} else if root, err = root.PutCollection(conflictsCollection, m.Hash()); err != nil {
		return err
	}
	d.root = root
	c.keys = nil
	return nil
}

// errUnresolvedConflicts refuses a commit while conflicts remain.
func errUnresolvedConflicts(tables []string) error {
	return fmt.Errorf("cannot commit: unresolved merge conflicts in %s (see dolt_conflicts; resolve them, or CALL dolt_merge('--abort'))", strings.Join(tables, ", "))
}
