package sqle

import (
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// systemTable is a read-only table whose rows a function makes. A table
// with a commit column (dolt_diff_T's to_commit, dolt_history_T's
// commit_hash) has an index on it, so that WHERE col = 'hash' makes the
// rows of that commit only instead of the whole history's.
type systemTable struct {
	name string
	db   string
	sch  sql.Schema
	rows func(ctx *sql.Context) ([]sql.Row, error)

	// commitCol names the commit column; rowsOf makes the rows whose
	// commit column is one of commits.
	commitCol string
	rowsOf    func(ctx *sql.Context, commits []string) ([]sql.Row, error)
}

var (
	_ sql.Table            = (*systemTable)(nil)
	_ sql.IndexAddressable = (*systemTable)(nil)
)

func (t *systemTable) Name() string               { return t.name }
func (t *systemTable) String() string             { return t.name }
func (t *systemTable) Schema() sql.Schema         { return t.sch }
func (t *systemTable) Collation() sql.CollationID { return sql.Collation_Default }
func (t *systemTable) Partitions(*sql.Context) (sql.PartitionIter, error) {
	return sql.PartitionsToPartitionIter(systemPartition{}), nil
}

func (t *systemTable) PartitionRows(ctx *sql.Context, p sql.Partition) (sql.RowIter, error) {
	var rows []sql.Row
	var err error
	if cp, ok := p.(commitPartition); ok && t.rowsOf != nil {
		rows, err = t.rowsOf(ctx, cp.commits)
	} else {
		rows, err = t.rows(ctx)
	}
	if err != nil {
		return nil, err
	}
	return sql.RowsToRowIter(rows...), nil
}

type systemPartition struct{}

func (systemPartition) Key() []byte { return []byte("all") }

// GetIndexes implements sql.IndexAddressable.
func (t *systemTable) GetIndexes(*sql.Context) ([]sql.Index, error) {
	if t.commitCol == "" {
		return nil, nil
	}
	return []sql.Index{&commitIndex{db: t.db, table: t.name, col: t.commitCol}}, nil
}

// PreciseMatch implements sql.IndexAddressable: the engine keeps its
// filters, so a lookup may return more than its ranges (all rows, for
// ranges that are not single values).
func (t *systemTable) PreciseMatch() bool { return false }

// IndexedAccess implements sql.IndexAddressable.
func (t *systemTable) IndexedAccess(_ *sql.Context, lookup sql.IndexLookup) sql.IndexedTable {
	if _, ok := lookup.Index.(*commitIndex); !ok || t.rowsOf == nil {
		return nil
	}
	return &indexedSystemTable{systemTable: t}
}

type indexedSystemTable struct{ *systemTable }

// LookupPartitions implements sql.IndexedTable: one partition with the
// commits the lookup names, or all rows if its ranges are not values.
func (t *indexedSystemTable) LookupPartitions(_ *sql.Context, lookup sql.IndexLookup) (sql.PartitionIter, error) {
	rc, ok := lookup.Ranges.(sql.MySQLRangeCollection)
	if !ok {
		return sql.PartitionsToPartitionIter(systemPartition{}), nil
	}
	var commits []string
	for _, r := range rc {
		if len(r) != 1 {
			return sql.PartitionsToPartitionIter(systemPartition{}), nil
		}
		lo, lok := r[0].LowerBound.(sql.Below)
		hi, hok := r[0].UpperBound.(sql.Above)
		if !lok || !hok {
			return sql.PartitionsToPartitionIter(systemPartition{}), nil
		}
		a, aok := lo.Key.(string)
		b, bok := hi.Key.(string)
		if !aok || !bok || a != b {
			return sql.PartitionsToPartitionIter(systemPartition{}), nil
		}
		commits = append(commits, a)
	}
	return sql.PartitionsToPartitionIter(commitPartition{commits: commits}), nil
}

type commitPartition struct{ commits []string }

func (commitPartition) Key() []byte { return []byte("commits") }

// commitIndex is the index on a system table's commit column.
type commitIndex struct{ db, table, col string }

var _ sql.Index = (*commitIndex)(nil)

func (i *commitIndex) ID() string                                 { return "commit" }
func (i *commitIndex) Database() string                           { return i.db }
func (i *commitIndex) Table() string                              { return i.table }
func (i *commitIndex) Expressions() []string                      { return []string{i.table + "." + i.col} }
func (i *commitIndex) IsUnique() bool                             { return false }
func (i *commitIndex) IsSpatial() bool                            { return false }
func (i *commitIndex) IsFullText() bool                           { return false }
func (i *commitIndex) IsVector() bool                             { return false }
func (i *commitIndex) Comment() string                            { return "" }
func (i *commitIndex) IndexType() string                          { return "BTREE" }
func (i *commitIndex) IsGenerated() bool                          { return true }
func (i *commitIndex) PrefixLengths() []uint16                    { return nil }
func (i *commitIndex) CanSupport(*sql.Context, ...sql.Range) bool { return true }
func (i *commitIndex) CanSupportOrderBy(sql.Expression) bool      { return false }
func (i *commitIndex) ColumnExpressionTypes() []sql.ColumnExpressionType {
	return []sql.ColumnExpressionType{{Expression: i.table + "." + i.col, Type: types.Text}}
}
