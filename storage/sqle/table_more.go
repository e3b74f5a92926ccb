package sqle

import (
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/cairndb/cairn/storage/sqle/schema"
	"github.com/cairndb/cairn/storage/tree"
)

// Auto-increment.

// PeekNextAutoIncrementValue implements sql.AutoIncrementGetter.
func (t *Table) PeekNextAutoIncrementValue(ctx *sql.Context) (uint64, error) {
	td, err := t.schemaData(ctx) // the counter is global; the table's value only seeds it
	if err != nil {
		return 0, err
	}
	if td.lay.autoIncCol < 0 {
		return 0, nil
	}
	return t.db.st.peekAutoIncrement(t.counterName(), td.autoInc), nil
}

// GetNextAutoIncrementValue implements sql.AutoIncrementTable: a nil
// insertVal allocates the next value; a given one moves the counter past it.
func (t *Table) GetNextAutoIncrementValue(ctx *sql.Context, insertVal interface{}) (uint64, error) {
	td, err := t.schemaData(ctx)
	if err != nil {
		return 0, err
	}
	var given uint64
	if insertVal != nil {
		v, ok := toUint64(insertVal)
		if !ok {
			cv, _, err := types.Uint64.Convert(ctx, insertVal)
			if err != nil {
				return 0, err
			}
			v = cv.(uint64)
		}
		given = v
	}
	return t.db.st.nextAutoIncrement(t.counterName(), td.autoInc, given), nil
}

// counterName keys the table's global auto-increment counter; temporary
// tables have one per session table.
func (t *Table) counterName() string {
	if t.temp != nil {
		return "\x00temp\x00" + strconv.FormatUint(uint64(t.temp.id), 10)
	}
	return t.name
}

// AutoIncrementSetter implements sql.AutoIncrementTable.
func (t *Table) AutoIncrementSetter(*sql.Context) sql.AutoIncrementSetter {
	return &tableEditor{t: t.unprojected()}
}

// setAutoIncrement sets the next auto-increment value (ALTER TABLE …
// AUTO_INCREMENT = v, TRUNCATE), recording it in the table.
func (t *Table) setAutoIncrement(ctx *sql.Context, v uint64) error {
	td, err := t.data(ctx)
	if err != nil {
		return err
	}
	if td.lay.autoIncCol < 0 {
		return nil
	}
	// As InnoDB: never below the largest value the column holds + 1.
	max, err := maxAutoIncrement(ctx, td)
	if err != nil {
		return err
	}
	if v <= max {
		v = max + 1
	}
	t.db.st.setAutoIncrement(t.counterName(), v)
	if td.autoInc == v {
		return nil
	}
	out := *td
	out.hash = [20]byte{}
	out.autoInc = v
	return t.setData(ctx, &out)
}

// maxAutoIncrement returns the largest value of td's auto-increment
// column (0 if none): a seek to the last row when the column leads the
// primary key, else a scan.
func maxAutoIncrement(ctx *sql.Context, td *tableData) (uint64, error) {
	lay := td.lay
	leads := len(lay.pk) > 0 && lay.pk[0] == lay.autoIncCol
	it, err := td.rows.Iter(ctx, tree.Range{Reverse: leads})
	if err != nil {
		return 0, err
	}
	var max uint64
	for {
		_, v, err := it.Next(ctx)
		if err == io.EOF {
			return max, nil
		}
		if err != nil {
			return 0, err
		}
		row, err := td.decodeRow(v, nil)
		if err != nil {
			return 0, err
		}
		if n, ok := toUint64(row[lay.autoIncCol]); ok && n > max {
			max = n
		}
		if leads {
			return max, nil
		}
	}
}

func toUint64(v any) (uint64, bool) {
	switch x := v.(type) {
	case int8:
		return uint64(x), x >= 0
	case int16:
		return uint64(x), x >= 0
	case int32:
		return uint64(x), x >= 0
	case int64:
		return uint64(x), x >= 0
	case int:
		return uint64(x), x >= 0
	case uint8:
		return uint64(x), true
	case uint16:
		return uint64(x), true
	case uint32:
		return uint64(x), true
	case uint64:
		return x, true
	case uint:
		return uint64(x), true
	case float32:
		return uint64(x), x >= 0
	case float64:
		return uint64(x), x >= 0
	}
	return 0, false
}

// Truncate implements sql.TruncateableTable.
func (t *Table) Truncate(ctx *sql.Context) (int, error) {
	if err := t.db.checkWritable(ctx); err != nil && t.temp == nil {
		return 0, err
	}
	td, err := t.data(ctx)
	if err != nil {
		return 0, err
	}
	n, _, err := t.RowCount(ctx)
	if err != nil {
		return 0, err
	}
	empty, err := tree.NewEmptyMap(ctx, t.db.st.ns)
	if err != nil {
		return 0, err
	}
	out := *td
	out.hash = [20]byte{}
	out.rows = empty
	out.content = empty
	out.indexes = make([]tree.Map, len(td.indexes))
	for i := range out.indexes {
		out.indexes[i] = empty
	}
	return int(n), t.setData(ctx, &out)
}

// Foreign keys.

// CreateIndexForForeignKey implements sql.ForeignKeyTable.
func (t *Table) CreateIndexForForeignKey(ctx *sql.Context, def sql.IndexDef) error {
	return t.CreateIndex(ctx, def)
}

// GetDeclaredForeignKeys implements sql.ForeignKeyTable.
func (t *Table) GetDeclaredForeignKeys(ctx *sql.Context) ([]sql.ForeignKeyConstraint, error) {
	td, err := t.schemaData(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]sql.ForeignKeyConstraint, len(td.lay.sch.ForeignKeys))
	for i, fk := range td.lay.sch.ForeignKeys {
		out[i] = copyFK(fk)
		out[i].Database, out[i].Table = t.db.Name(), t.name
	}
	// In order of name, as MySQL shows them.
	sort.SliceStable(out, func(i, j int) bool { return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name) })
	return out, nil
}

func copyFK(fk sql.ForeignKeyConstraint) sql.ForeignKeyConstraint {
	fk.Columns = append([]string(nil), fk.Columns...)
	fk.ParentColumns = append([]string(nil), fk.ParentColumns...)
	return fk
}

// GetReferencedForeignKeys implements sql.ForeignKeyTable: the foreign keys
// of every table of the database that name this table as parent.
func (t *Table) GetReferencedForeignKeys(ctx *sql.Context) ([]sql.ForeignKeyConstraint, error) {
	if t.temp != nil {
		return nil, nil
	}
	_, d, err := t.db.view(ctx)
	if err != nil {
		return nil, err
	}
	var out []sql.ForeignKeyConstraint
	for _, name := range d.root.TableNames() {
		td, ok, err := t.db.tableDataOf(ctx, d, name)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		for _, fk := range td.lay.sch.ForeignKeys {
			if strings.EqualFold(fk.ParentTable, t.name) && (fk.ParentDatabase == "" || strings.EqualFold(fk.ParentDatabase, t.db.Name())) {
				c := copyFK(fk)
				c.Database, c.Table = t.db.Name(), name
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// AddForeignKey implements sql.ForeignKeyTable.
func (t *Table) AddForeignKey(ctx *sql.Context, fk sql.ForeignKeyConstraint) error {
	if t.temp != nil {
		return sql.ErrTemporaryTablesForeignKeySupport.New()
	}
	// The engine refuses SET DEFAULT only under its own parser type, and
	// cairn's wraps it (ddlparse.go).
	if fk.OnDelete == sql.ForeignKeyReferentialAction_SetDefault || fk.OnUpdate == sql.ForeignKeyReferentialAction_SetDefault {
		return sql.ErrForeignKeySetDefault.New()
	}
	if err := t.checkFKName(ctx, fk.Name, ""); err != nil {
		return err
	}
	return t.alterSchema(ctx, func(sch *schema.Table) error {
		sch.ForeignKeys = append(sch.ForeignKeys, copyFK(fk))
		return nil
	})
}

// checkFKName refuses a foreign key name another table of the database
// uses (names are unique per database in MySQL).
func (t *Table) checkFKName(ctx *sql.Context, name, except string) error {
	root, err := t.db.root(ctx)
	if err != nil {
		return err
	}
	for _, tn := range root.TableNames() {
		td, ok, err := t.db.tableData(ctx, tn)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		for _, fk := range td.lay.sch.ForeignKeys {
			if strings.EqualFold(fk.Name, name) && !(strings.EqualFold(tn, t.name) && strings.EqualFold(name, except)) {
				return sql.ErrForeignKeyDuplicateName.New(name)
			}
		}
	}
	return nil
}

// DropForeignKey implements sql.ForeignKeyTable.
func (t *Table) DropForeignKey(ctx *sql.Context, name string) error {
	return t.alterSchema(ctx, func(sch *schema.Table) error {
		for i, fk := range sch.ForeignKeys {
			if strings.EqualFold(fk.Name, name) {
				sch.ForeignKeys = append(sch.ForeignKeys[:i], sch.ForeignKeys[i+1:]...)
				return nil
			}
		}
		return sql.ErrForeignKeyNotFound.New(name, t.name)
	})
}

// UpdateForeignKey implements sql.ForeignKeyTable.
func (t *Table) UpdateForeignKey(ctx *sql.Context, name string, fk sql.ForeignKeyConstraint) error {
	return t.alterSchema(ctx, func(sch *schema.Table) error {
		for i, old := range sch.ForeignKeys {
			if !strings.EqualFold(old.Name, name) {
				continue
			}
			nfk := copyFK(fk)
			// The engine renames a column's foreign keys before the
			// column itself (RENAME COLUMN): keep the old names until
			// the column rename, which renames them in the key too.
			for j, c := range nfk.Columns {
				if sch.ColumnIndex(c) < 0 && j < len(old.Columns) {
					nfk.Columns[j] = old.Columns[j]
				}
			}
			sch.ForeignKeys[i] = nfk
			return nil
		}
		return sql.ErrForeignKeyNotFound.New(name, t.name)
	})
}
