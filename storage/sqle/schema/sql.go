package schema

import (
	"fmt"
	"math"
	"slices"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/transform"
)

// FromSQL builds a Table from what sql.TableCreator.CreateTable receives.
// It copies everything it keeps, so the engine may change s afterwards (it
// does). The primary key is s.PkOrdinals, or the columns flagged PrimaryKey
// in table order when that is empty. Indexes, checks and foreign keys arrive
// later through their own calls and are added by the caller.
//
// It returns an error matching ErrUnsupportedType for a column type that
// cannot be stored exactly, or ErrInvalidSchema if the result fails Validate.
func FromSQL(name string, s sql.PrimaryKeySchema, collation sql.CollationID, comment string) (*Table, error) {
	t := &Table{
		Name:      name,
		Columns:   make([]Column, len(s.Schema)),
		Comment:   comment,
		Collation: collation,
	}
	for i, c := range s.Schema {
		col, err := ColumnFromSQL(c)
		if err != nil {
			return nil, fmt.Errorf("schema: table %q: %w", name, err)
		}
		t.Columns[i] = col
	}
	if len(s.PkOrdinals) > 0 {
		t.PKOrdinals = slices.Clone(s.PkOrdinals)
	} else {
		for i, c := range s.Schema {
			if c.PrimaryKey {
				t.PKOrdinals = append(t.PKOrdinals, i)
			}
		}
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return t, nil
}

// ColumnFromSQL converts an engine column, as ADD COLUMN and MODIFY COLUMN
// pass it, into a Column. Source, DatabaseSource and PrimaryKey are not
// kept: they belong to the table. Defaults, generated and ON UPDATE
// expressions are kept as text with table qualifiers removed (see Column).
//
// It returns an error matching ErrUnsupportedType for a type that cannot be
// stored exactly.
func ColumnFromSQL(c *sql.Column) (Column, error) {
	if c == nil {
		return Column{}, fmt.Errorf("schema: nil column: %w", ErrInvalidSchema)
	}
	if c.Type == nil {
		return Column{}, fmt.Errorf("schema: column %q has no type: %w", c.Name, ErrInvalidSchema)
	}
	if _, err := storableTypeText(c.Type); err != nil {
		return Column{}, fmt.Errorf("schema: column %q: %w", c.Name, err)
	}
	col := Column{
		Name:          c.Name,
		Type:          c.Type,
		Nullable:      c.Nullable,
		AutoIncrement: c.AutoIncrement,
		Comment:       c.Comment,
		Extra:         c.Extra,
		Virtual:       c.Virtual,
	}
	var err error
	if col.Default, col.HasDefault, err = expressionText(c.Default); err != nil {
		return Column{}, fmt.Errorf("schema: column %q: default: %w", c.Name, err)
	}
	if col.Generated, col.HasGenerated, err = expressionText(c.Generated); err != nil {
		return Column{}, fmt.Errorf("schema: column %q: generated: %w", c.Name, err)
	}
	if col.OnUpdate, col.HasOnUpdate, err = expressionText(c.OnUpdate); err != nil {
		return Column{}, fmt.Errorf("schema: column %q: on update: %w", c.Name, err)
	}
	return col, nil
}

// expressionText returns the text stored for a default, generated or ON
// UPDATE expression, and whether there is one.
//
// A resolved expression becomes its String with column references stripped
// of their table, which is the text SHOW CREATE TABLE prints: literals as
// themselves ('abc', 0, NULL), NOW() as CURRENT_TIMESTAMP, other
// expressions in parentheses. Parsed back by the engine, the text gives the
// same literal/expression kind, hence the same output. An unresolved one
// (from SQLSchema, coming back through ALTER TABLE) is already such text and
// is kept as it is: its String would add parentheses and turn a literal
// into an expression.
func expressionText(d *sql.ColumnDefaultValue) (string, bool, error) {
	if d == nil {
		return "", false, nil
	}
	switch u := d.Expr.(type) {
	case nil:
		return "", false, fmt.Errorf("no expression: %w", ErrInvalidSchema)
	case *sql.UnresolvedColumnDefault:
		return u.ExprString, true, nil
	case sql.UnresolvedColumnDefault:
		return u.ExprString, true, nil
	}
	stripped, _, err := transform.Expr(d, unqualify)
	if err != nil {
		return "", false, err
	}
	return stripped.String(), true, nil
}

// unqualify drops the table from a column reference, keeping the quoting
// of its name.
func unqualify(e sql.Expression) (sql.Expression, transform.TreeIdentity, error) {
	f, ok := e.(*expression.GetField)
	if !ok {
		return e, transform.SameTree, nil
	}
	n := expression.NewGetField(f.Index(), f.Type(), f.Name(), f.IsNullable()).
		WithQuotedNames(sql.GlobalSchemaFormatter, f.IsQuotedIdentifier())
	return n, transform.NewTree, nil
}

// SQLSchema returns the table's schema as the engine wants it from
// sql.Table.Schema: new *sql.Column values on each call, which the caller
// may change, with Source set to the table's name and DatabaseSource to
// dbName. Default, generated and ON UPDATE expressions are unresolved text
// for the engine to resolve (nil when the column has none).
func (t *Table) SQLSchema(dbName string) sql.Schema {
	inPK := make([]bool, len(t.Columns))
	for _, o := range t.PKOrdinals {
		if o >= 0 && o < len(inPK) {
			inPK[o] = true
		}
	}
	s := make(sql.Schema, len(t.Columns))
	for i := range t.Columns {
		c := &t.Columns[i]
		s[i] = &sql.Column{
			Name:           c.Name,
			Type:           c.Type,
			Default:        unresolved(c.Default, c.HasDefault),
			AutoIncrement:  c.AutoIncrement,
			Nullable:       c.Nullable,
			Source:         t.Name,
			DatabaseSource: dbName,
			PrimaryKey:     inPK[i],
			Comment:        c.Comment,
			Extra:          c.Extra,
			Generated:      unresolved(c.Generated, c.HasGenerated),
			Virtual:        c.Virtual,
			OnUpdate:       unresolved(c.OnUpdate, c.HasOnUpdate),
		}
	}
	return s
}

// unresolved returns text as an expression for the engine to resolve, or nil
// without one. An unresolved "" is the empty-string literal to the engine.
func unresolved(text string, has bool) *sql.ColumnDefaultValue {
	if !has {
		return nil
	}
	return sql.NewUnresolvedColumnDefaultValue(text)
}

// PrimaryKeySchema returns SQLSchema(dbName) with the primary key ordinals,
// as sql.PrimaryKeyTable.PrimaryKeySchema wants it. PkOrdinals is a new
// slice, empty (not nil) for a keyless table.
func (t *Table) PrimaryKeySchema(dbName string) sql.PrimaryKeySchema {
	return sql.PrimaryKeySchema{
		Schema:     t.SQLSchema(dbName),
		PkOrdinals: append(make([]int, 0, len(t.PKOrdinals)), t.PKOrdinals...),
	}
}

// IndexFromDef converts the definition sql.IndexAlterableTable.CreateIndex
// receives into an Index, as given: a table that names unnamed indexes does
// so before Validate. It returns an error matching ErrInvalidSchema for a
// primary key or vector index, which are not secondary indexes stored here,
// and for a prefix length beyond 65535.
func IndexFromDef(def sql.IndexDef) (Index, error) {
	if def.IsPrimary() || def.IsVector() {
		return Index{}, fmt.Errorf("schema: index %q: not a secondary index this engine stores: %w", def.Name, ErrInvalidSchema)
	}
	prefixes, err := PrefixLengths(def.Columns)
	if err != nil {
		return Index{}, fmt.Errorf("schema: index %q: %w", def.Name, err)
	}
	return Index{
		Name:          def.Name,
		Columns:       def.ColumnNames(),
		PrefixLengths: prefixes,
		Unique:        def.IsUnique(),
		Comment:       def.Comment,
		Fulltext:      def.IsFullText(),
		Spatial:       def.IsSpatial(),
	}, nil
}

// PrefixLengths returns the prefix lengths of index columns the way Table
// and Index keep them: nil unless one is non-zero. It is for the primary key
// too (sql.IndexedTableCreator, sql.PrimaryKeyAlterableTable). It returns an
// error matching ErrInvalidSchema for a length outside 0..65535.
func PrefixLengths(cols []sql.IndexColumn) ([]uint16, error) {
	var out []uint16
	for i, c := range cols {
		if c.Length < 0 || c.Length > math.MaxUint16 {
			return nil, fmt.Errorf("schema: column %q: prefix length %d out of range: %w", c.Name, c.Length, ErrInvalidSchema)
		}
		if c.Length != 0 && out == nil {
			out = make([]uint16, len(cols))
		}
		if out != nil {
			out[i] = uint16(c.Length)
		}
	}
	return out, nil
}
