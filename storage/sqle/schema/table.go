package schema

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
)

// Table is everything about a table except its rows: columns, primary key,
// indexes, checks, foreign keys, comment and collation.
//
// A Table is a plain value: nothing in it is shared with the engine's
// schemas (sql.Type values are immutable and may be shared). Methods never
// change it; callers that change one must not do so while another goroutine
// reads it, and use Clone to get a copy of their own.
type Table struct {
	Name    string
	Columns []Column // in table order
	// PKOrdinals are the primary key columns (indexes into Columns) in key
	// order; empty for a keyless table.
	PKOrdinals []int
	// PKPrefixLengths are the key's prefix lengths, one per key column (0 for
	// a whole column); nil unless the key uses a prefix.
	PKPrefixLengths []uint16
	// PKDescending marks the key columns declared DESC, one per key column;
	// nil if none is. Rows are kept in ascending order all the same: the
	// flag is what SHOW CREATE TABLE prints.
	PKDescending []bool
	// Indexes are the secondary indexes (not the primary key). Decode returns
	// them sorted by name in byte order; Encode sorts them.
	Indexes []Index
	Checks  []sql.CheckDefinition // in declaration order
	// ForeignKeys are the foreign keys declared on this table (it is the
	// child), in declaration order, stored as given.
	ForeignKeys []sql.ForeignKeyConstraint
	Comment     string
	Collation   sql.CollationID
}

// Column is one column of a Table.
//
// Default, Generated and OnUpdate are expression text as SHOW CREATE TABLE
// prints it with column references unqualified (`'abc'`, `0`, `NULL`,
// `CURRENT_TIMESTAMP`, `(now())`, `(a + 1)`); the Has flags say whether
// there is one at all, since an empty text is a valid default (the empty
// string).
type Column struct {
	Name          string
	Type          sql.Type
	Nullable      bool
	AutoIncrement bool
	Comment       string
	Extra         string // information_schema.columns.extra, as the engine set it

	Default, Generated, OnUpdate          string
	HasDefault, HasGenerated, HasOnUpdate bool

	Virtual bool // generated VIRTUAL: computed on read, not stored

	// Declared is the column's type as the user declared it where that
	// refines Type (TIME(0), DECIMAL UNSIGNED, FLOAT(M,D): see
	// ParseDeclared), as MySQL writes it; "" when Type says it all.
	Declared string
}

// Index is a secondary index of a Table.
type Index struct {
	Name    string
	Columns []string // column names, in key order
	// PrefixLengths are the prefix lengths, one per column (0 for a whole
	// column); nil unless the index uses a prefix.
	PrefixLengths []uint16
	Unique        bool
	Comment       string
	Fulltext      bool
	Spatial       bool
	// Descending marks the columns declared DESC, one per column; nil if
	// none is. Keys are kept in ascending order all the same: the flag is
	// what SHOW CREATE TABLE prints.
	Descending []bool
	// Disabled marks an index ALTER TABLE … DISABLE KEYS turned off: its
	// entries are neither kept nor read, and ENABLE KEYS builds it again
	// from the rows. Only a non-unique index can be disabled.
	Disabled bool
}

// ColumnIndex returns the position of the column named name, compared
// case-insensitively, or -1 if there is none.
func (t *Table) ColumnIndex(name string) int {
	for i := range t.Columns {
		if strings.EqualFold(t.Columns[i].Name, name) {
			return i
		}
	}
	return -1
}

// IndexByName returns the position in Indexes of the index named name,
// compared case-insensitively, and whether there is one.
func (t *Table) IndexByName(name string) (int, bool) {
	for i := range t.Indexes {
		if strings.EqualFold(t.Indexes[i].Name, name) {
			return i, true
		}
	}
	return -1, false
}

// StoredColumns returns the positions of the columns whose values are
// stored, that is all but the virtual generated ones, in table order.
func (t *Table) StoredColumns() []int {
	out := make([]int, 0, len(t.Columns))
	for i := range t.Columns {
		if !t.Columns[i].Virtual {
			out = append(out, i)
		}
	}
	return out
}

// PKTypes returns the types of the primary key columns in key order (empty
// for a keyless table).
func (t *Table) PKTypes() []sql.Type {
	out := make([]sql.Type, len(t.PKOrdinals))
	for i, o := range t.PKOrdinals {
		out[i] = t.Columns[o].Type
	}
	return out
}

// Clone returns a deep copy of t: changing the copy's slices leaves t as it
// was. Types are shared, as they are immutable.
func (t *Table) Clone() *Table {
	c := *t
	c.Columns = slices.Clone(t.Columns)
	c.PKOrdinals = slices.Clone(t.PKOrdinals)
	c.PKPrefixLengths = slices.Clone(t.PKPrefixLengths)
	c.PKDescending = slices.Clone(t.PKDescending)
	c.Indexes = slices.Clone(t.Indexes)
	for i := range c.Indexes {
		c.Indexes[i].Columns = slices.Clone(c.Indexes[i].Columns)
		c.Indexes[i].PrefixLengths = slices.Clone(c.Indexes[i].PrefixLengths)
		c.Indexes[i].Descending = slices.Clone(c.Indexes[i].Descending)
	}
	c.Checks = slices.Clone(t.Checks)
	c.ForeignKeys = slices.Clone(t.ForeignKeys)
	for i := range c.ForeignKeys {
		c.ForeignKeys[i].Columns = slices.Clone(c.ForeignKeys[i].Columns)
		c.ForeignKeys[i].ParentColumns = slices.Clone(c.ForeignKeys[i].ParentColumns)
	}
	return &c
}

// Validate checks the rules every stored table keeps, and returns an error
// matching ErrInvalidSchema naming the first one broken:
//   - the table, its columns and its indexes have names, and no two columns
//     or two indexes have names equal but for case; no index is named PRIMARY;
//   - every column has a type, a virtual column is generated, a column has an
//     expression text only if its Has flag is set, and at most one column is
//     auto-increment; a declared type is one ParseDeclared accepts;
//   - primary key ordinals are distinct and in range, and prefix lengths and
//     descending flags, when present, are one per key column (likewise for
//     each index);
//   - every index column and foreign key column exists, and a foreign key has
//     as many parent columns as columns;
//   - checks have names, unique but for case, and expressions (the engine
//     leaves naming an unnamed check to the table);
//   - the collation is one the engine knows.
//
// It does not judge what only the engine can: expressions, types of key
// columns, referenced tables.
func (t *Table) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("schema: table %q: %s: %w", t.Name, fmt.Sprintf(format, args...), ErrInvalidSchema)
	}
	if t.Name == "" {
		return bad("empty table name")
	}
	if !knownCollation(t.Collation) {
		return bad("unknown collation %d", t.Collation)
	}
	if len(t.Columns) == 0 {
		return bad("no columns")
	}
	seen := make(map[string]bool, len(t.Columns))
	autoInc := -1
	for i := range t.Columns {
		c := &t.Columns[i]
		if c.Name == "" {
			return bad("column %d has no name", i)
		}
		key := strings.ToLower(c.Name)
		if seen[key] {
			return bad("duplicate column %q", c.Name)
		}
		seen[key] = true
		if c.Type == nil {
			return bad("column %q has no type", c.Name)
		}
		if c.AutoIncrement {
			if autoInc >= 0 {
				return bad("columns %q and %q are both auto-increment", t.Columns[autoInc].Name, c.Name)
			}
			autoInc = i
		}
		if c.Virtual && !c.HasGenerated {
			return bad("virtual column %q is not generated", c.Name)
		}
		if (c.Default != "" && !c.HasDefault) || (c.Generated != "" && !c.HasGenerated) || (c.OnUpdate != "" && !c.HasOnUpdate) {
			return bad("column %q has expression text without its Has flag", c.Name)
		}
		if c.Declared != "" {
			if _, err := ParseDeclared(c.Type, c.Declared); err != nil {
				return bad("column %q: %v", c.Name, err)
			}
		}
	}
	inPK := make([]bool, len(t.Columns))
	for _, o := range t.PKOrdinals {
		if o < 0 || o >= len(t.Columns) {
			return bad("primary key ordinal %d out of range", o)
		}
		if inPK[o] {
			return bad("column %q twice in the primary key", t.Columns[o].Name)
		}
		inPK[o] = true
	}
	if t.PKPrefixLengths != nil && len(t.PKPrefixLengths) != len(t.PKOrdinals) {
		return bad("%d primary key prefix lengths for %d key columns", len(t.PKPrefixLengths), len(t.PKOrdinals))
	}
	if t.PKDescending != nil && len(t.PKDescending) != len(t.PKOrdinals) {
		return bad("%d primary key order flags for %d key columns", len(t.PKDescending), len(t.PKOrdinals))
	}
	indexNames := make(map[string]bool, len(t.Indexes))
	for i := range t.Indexes {
		x := &t.Indexes[i]
		if x.Name == "" {
			return bad("index %d has no name", i)
		}
		key := strings.ToLower(x.Name)
		if key == "primary" {
			return bad("secondary index named %q", x.Name)
		}
		if indexNames[key] {
			return bad("duplicate index %q", x.Name)
		}
		indexNames[key] = true
		if len(x.Columns) == 0 {
			return bad("index %q has no columns", x.Name)
		}
		for _, c := range x.Columns {
			if t.ColumnIndex(c) < 0 {
				return bad("index %q names missing column %q", x.Name, c)
			}
		}
		if x.PrefixLengths != nil && len(x.PrefixLengths) != len(x.Columns) {
			return bad("index %q has %d prefix lengths for %d columns", x.Name, len(x.PrefixLengths), len(x.Columns))
		}
		if x.Descending != nil && len(x.Descending) != len(x.Columns) {
			return bad("index %q has %d order flags for %d columns", x.Name, len(x.Descending), len(x.Columns))
		}
		if x.Disabled && x.Unique {
			return bad("unique index %q is disabled", x.Name)
		}
	}
	checkNames := make(map[string]bool, len(t.Checks))
	for i := range t.Checks {
		c := &t.Checks[i]
		key := strings.ToLower(c.Name)
		if key == "" || c.CheckExpression == "" {
			return bad("check %d has no name or no expression", i)
		}
		if checkNames[key] {
			return bad("duplicate check %q", c.Name)
		}
		checkNames[key] = true
	}
	for i := range t.ForeignKeys {
		fk := &t.ForeignKeys[i]
		if len(fk.Columns) == 0 || len(fk.Columns) != len(fk.ParentColumns) {
			return bad("foreign key %q has %d columns and %d parent columns", fk.Name, len(fk.Columns), len(fk.ParentColumns))
		}
		for _, c := range fk.Columns {
			if t.ColumnIndex(c) < 0 {
				return bad("foreign key %q names missing column %q", fk.Name, c)
			}
		}
	}
	return nil
}

// knownCollation reports whether id names a collation of the engine, or is
// Collation_Unspecified. The engine's tables index an array by the id and
// panic beyond it, so a decoded id is checked here, once.
func knownCollation(id sql.CollationID) (ok bool) {
	if id == sql.Collation_Unspecified {
		return true
	}
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return id.Name() != ""
}
