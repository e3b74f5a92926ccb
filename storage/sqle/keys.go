package sqle

import (
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/cairndb/cairn/storage/sqle/schema"
)

// ALTER TABLE … DISABLE KEYS and ENABLE KEYS, as MySQL documents them for
// bulk loads: DISABLE KEYS stops keeping the table's non-unique indexes,
// ENABLE KEYS builds them again from the rows, in one sorted pass. A dump
// (mariadb-dump and mysqldump write both around every table's rows) then
// loads without rewriting index leaves at every INSERT. go-mysql-server
// answers both with a warning and does nothing; keysExec runs them instead.
//
// A disabled index stays in the schema (SHOW CREATE TABLE prints it, a dump
// recreates it, CREATE TABLE … LIKE copies it) with schema.Index.Disabled
// set, and its map is empty: writes skip it, every schema change keeps it
// empty (retable), and the engine is not shown it (GetIndexes), so that no
// plan reads it (a lookup on it fails). The engine also checks the index
// names of ALTER TABLE against GetIndexes: a disabled index cannot be
// dropped or renamed until ENABLE KEYS, as the engine's error says
// (ER_CANT_DROP_FIELD_OR_KEY). Unique indexes, indexes over generated
// columns and the indexes a foreign key may use stay as they are, as does
// every index of a table with no disabled one for ENABLE KEYS.

// keysExec builds the iterator of ALTER TABLE … DISABLE/ENABLE KEYS on a
// cairn table; every other node it leaves to the engine (nil iterator).
type keysExec struct{}

func (keysExec) Build(ctx *sql.Context, n sql.Node, _ sql.Row) (sql.RowIter, error) {
	ai, ok := n.(*plan.AlterIndex)
	if !ok || ai.Action != plan.IndexAction_DisableEnableKeys {
		return nil, nil
	}
	rt, ok := ai.Table.(*plan.ResolvedTable)
	if !ok {
		return nil, nil
	}
	t, ok := cairnTable(rt.Table)
	if !ok {
		return nil, nil
	}
	if err := t.unprojected().setKeysEnabled(ctx, !ai.DisableKeys); err != nil {
		return nil, err
	}
	return sql.RowsToRowIter(sql.NewRow(types.NewOkResult(0))), nil
}

// setKeysEnabled disables the table's non-unique indexes (see above), or
// builds and enables the disabled ones.
func (t *Table) setKeysEnabled(ctx *sql.Context, enable bool) error {
	td, err := t.data(ctx)
	if err != nil {
		return err
	}
	sch := td.lay.sch.Clone()
	var fkCols [][]string
	if !enable {
		if fkCols, err = t.foreignKeyColumns(ctx); err != nil {
			return err
		}
	}
	var changed []string
	for i := range sch.Indexes {
		x := &sch.Indexes[i]
		switch {
		case enable && x.Disabled:
			x.Disabled = false
		case !enable && !x.Disabled && !x.Unique && !x.Fulltext && !x.Spatial &&
			!indexOnVirtual(sch, *x) && !servesForeignKey(x, fkCols):
			x.Disabled = true
		default:
			continue
		}
		changed = append(changed, x.Name)
	}
	if len(changed) == 0 {
		return nil
	}
	// retable empties the disabled indexes; the enabled ones are built
	// before the table changes, so that a failure changes nothing.
	nt, err := t.retableChecked(ctx, td, sch)
	if err != nil {
		return err
	}
	if enable {
		for _, name := range changed {
			if nt, err = fillIndex(ctx, t.db.st, nt, name, nil); err != nil {
				return err
			}
		}
	}
	return t.setData(ctx, nt)
}

// foreignKeyColumns returns the column lists of the foreign keys that may
// look rows of this table up: those it declares (their columns) and those
// of other tables naming it as parent (the parent columns).
func (t *Table) foreignKeyColumns(ctx *sql.Context) ([][]string, error) {
	declared, err := t.GetDeclaredForeignKeys(ctx)
	if err != nil {
		return nil, err
	}
	referencing, err := t.GetReferencedForeignKeys(ctx)
	if err != nil {
		return nil, err
	}
	var out [][]string
	for _, fk := range declared {
		out = append(out, fk.Columns)
	}
	for _, fk := range referencing {
		out = append(out, fk.ParentColumns)
	}
	return out, nil
}

// servesForeignKey reports whether one of the column lists is a prefix of
// the index's columns: a foreign key could use the index.
func servesForeignKey(x *schema.Index, fkCols [][]string) bool {
	for _, cols := range fkCols {
		if len(cols) > 0 && len(cols) <= len(x.Columns) && sameNames(cols, x.Columns[:len(cols)]) {
			return true
		}
	}
	return false
}
