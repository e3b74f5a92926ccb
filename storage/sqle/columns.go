package sqle

import (
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/information_schema"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/rowexec"
	"github.com/dolthub/go-mysql-server/sql/transform"
	"github.com/dolthub/go-mysql-server/sql/types"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/cairndb/cairn/storage/sqle/schema"
)

// information_schema.COLUMNS and SHOW [FULL] COLUMNS of cairn tables, as
// MySQL 8 gives them. The engine's rows are kept and corrected from the
// stored schema:
//   - EXTRA is VIRTUAL GENERATED or STORED GENERATED for a generated
//     column, and GENERATION_EXPRESSION its expression (the engine left
//     both empty);
//   - COLUMN_TYPE and SHOW COLUMNS' Type escape ENUM and SET members
//     (`enum('it''s')`), give the declared type (`time`, `decimal(10,2)
//     unsigned`, `float(7,3)`: see declared.go), and name no character set
//     or collation (SHOW COLUMNS wrote `varchar(5) COLLATE …`);
//     DATETIME_PRECISION, NUMERIC_PRECISION and NUMERIC_SCALE follow the
//     declared type;
//   - a literal default of an ENUM, SET or DECIMAL column is its value
//     ('q' for DEFAULT 2 of ENUM('p','q'), 'a,b' for SET DEFAULT 3, '1.50'
//     for a DECIMAL(5,2)), where the engine gave the stored number;
//   - SHOW COLUMNS' Default is the value, not a quoted literal ('y', not
//     `'y'`), as in COLUMN_DEFAULT; SHOW FULL COLUMNS' Collation is the
//     column's (the engine gave the server default for every text column,
//     and none for ENUM and SET).
//
// information_schema.COLUMNS exposes its row function (ColumnsTable.RowIter,
// there for Doltgres), which a rule wraps for the statement; SHOW COLUMNS
// becomes a one-partition table that runs the engine's node and corrects
// its rows.

// columnsInfo is the rule.
func columnsInfo(ctx *sql.Context, a *analyzer.Analyzer, n sql.Node, scope *plan.Scope, sel analyzer.RuleSelector, qFlags *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
	return transform.Node(n, func(n sql.Node) (sql.Node, transform.TreeIdentity, error) {
		switch n := n.(type) {
		case *plan.ResolvedTable:
			ct, ok := n.Table.(*information_schema.ColumnsTable)
			if !ok || ct.RowIter == nil {
				return n, transform.SameTree, nil
			}
			nt := *ct
			inner := ct.RowIter
			nt.RowIter = func(ctx *sql.Context, cat sql.Catalog, sch sql.Schema) (sql.RowIter, error) {
				it, err := inner(ctx, cat, sch)
				if err != nil {
					return nil, err
				}
				return &isColumnsIter{RowIter: it, cat: cat, tables: map[[2]string]*schema.Table{}}, nil
			}
			nn, err := n.WithTable(&nt)
			if err != nil {
				return nil, transform.SameTree, err
			}
			return nn, transform.NewTree, nil
		case *plan.ShowColumns:
			rt, ok := n.Child.(*plan.ResolvedTable)
			if !ok {
				return n, transform.SameTree, nil
			}
			t, ok := cairnTable(rt.Table)
			if !ok {
				return n, transform.SameTree, nil
			}
			return plan.NewResolvedTable(&showColumnsResult{sc: n, t: t}, rt.SqlDatabase, nil), transform.NewTree, nil
		}
		return n, transform.SameTree, nil
	})
}

// Positions in a row of information_schema.COLUMNS.
const (
	isSchema            = 1
	isTable             = 2
	isColumn            = 3
	isDefault           = 5
	isNumericPrecision  = 10
	isNumericScale      = 11
	isDatetimePrecision = 12
	isColumnType        = 15
	isExtra             = 17
	isGeneration        = 20
	isColumns           = 22
)

// isColumnsIter corrects rows of information_schema.COLUMNS.
type isColumnsIter struct {
	sql.RowIter
	cat    sql.Catalog
	tables map[[2]string]*schema.Table // by database and table; nil: not a cairn table
}

func (it *isColumnsIter) Next(ctx *sql.Context) (sql.Row, error) {
	row, err := it.RowIter.Next(ctx)
	if err != nil || len(row) != isColumns {
		return row, err
	}
	db, _ := row[isSchema].(string)
	table, _ := row[isTable].(string)
	name, _ := row[isColumn].(string)
	sch := it.table(ctx, db, table)
	if sch == nil {
		return row, nil
	}
	i := sch.ColumnIndex(name)
	if i < 0 {
		return row, nil
	}
	c := &sch.Columns[i]
	row = row.Copy()
	row[isColumnType] = mysqlColumnType(c)
	if text, ok := literalDefault(ctx, c); ok {
		row[isDefault] = text
	}
	if c.HasGenerated {
		row[isExtra] = generatedExtra(c)
		row[isGeneration] = generationExpression(c)
	}
	if r, err := schema.ParseDeclared(c.Type, c.Declared); c.Declared != "" && err == nil {
		switch {
		case r.Time:
			row[isDatetimePrecision] = r.TimePrecision
		case r.Digits > 0:
			row[isNumericPrecision], row[isNumericScale] = r.Digits, r.Decimals
		}
	}
	return row, nil
}

// table returns the stored schema of a cairn table, or nil.
func (it *isColumnsIter) table(ctx *sql.Context, db, table string) *schema.Table {
	k := [2]string{db, table}
	if sch, ok := it.tables[k]; ok {
		return sch
	}
	var sch *schema.Table
	if d, err := it.cat.Database(ctx, db); err == nil {
		if t, ok, err := d.GetTableInsensitive(ctx, table); err == nil && ok {
			if ct, ok := cairnTable(t); ok {
				if td, err := ct.schemaData(ctx); err == nil {
					sch = td.lay.sch
				}
			}
		}
	}
	it.tables[k] = sch
	return sch
}

// mysqlColumnType is a column's type as information_schema.COLUMNS and
// SHOW COLUMNS give it: as SHOW CREATE TABLE prints it, without character
// set or collation.
func mysqlColumnType(c *schema.Column) string {
	s := columnTypeText(c, sql.Collation_Unspecified)
	switch c.Type.(type) {
	case sql.EnumType, sql.SetType:
		// After the members: the clauses columnTypeText keeps.
		if i := strings.LastIndex(s, ")"); i >= 0 {
			s = s[:i+1]
		}
	case sql.StringType:
		s = strings.Split(strings.Split(s, " CHARACTER SET")[0], " COLLATE")[0]
	}
	return s
}

func generatedExtra(c *schema.Column) string {
	if c.Virtual {
		return "VIRTUAL GENERATED"
	}
	return "STORED GENERATED"
}

// generationExpression is the expression of a generated column as
// information_schema gives it: without the parentheses SHOW CREATE TABLE
// writes around it.
func generationExpression(c *schema.Column) string {
	g := c.Generated
	if strings.HasPrefix(g, "(") && strings.HasSuffix(g, ")") && balanced(g[1:len(g)-1]) {
		g = g[1 : len(g)-1]
	}
	return g
}

// balanced reports whether the parentheses of s outside quotes pair up.
func balanced(s string) bool {
	depth := 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' && quote != '`' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"' || c == '`':
			quote = c
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth < 0 {
				return false
			}
		}
	}
	return depth == 0
}

// literalDefault returns the value of a literal default of an ENUM, SET or
// DECIMAL column as text ('q', 'a,b', '1.50'), and whether there is one.
func literalDefault(ctx *sql.Context, c *schema.Column) (string, bool) {
	if !c.HasDefault || !(types.IsEnum(c.Type) || types.IsSet(c.Type) || types.IsDecimal(c.Type)) {
		return "", false
	}
	stmt, err := ast.Parse("SELECT " + c.Default)
	if err != nil {
		return "", false
	}
	sel, ok := stmt.(*ast.Select)
	if !ok || len(sel.SelectExprs) != 1 {
		return "", false
	}
	ae, ok := sel.SelectExprs[0].(*ast.AliasedExpr)
	if !ok {
		return "", false
	}
	lit, ok := ae.Expr.(*ast.SQLVal)
	if !ok {
		return "", false
	}
	var v any
	switch lit.Type {
	case ast.StrVal:
		v = string(lit.Val)
	case ast.IntVal, ast.FloatVal:
		v = string(lit.Val)
		if !types.IsDecimal(c.Type) {
			cv, _, err := types.Int64.Convert(ctx, string(lit.Val))
			if err != nil {
				return "", false
			}
			v = cv
		}
	default:
		return "", false
	}
	cv, _, err := c.Type.Convert(ctx, v)
	if err != nil || cv == nil {
		return "", false
	}
	text, err := c.Type.SQL(ctx, nil, cv)
	if err != nil {
		return "", false
	}
	return text.ToString(), true
}

// showColumnsResult is SHOW [FULL] COLUMNS of a cairn table: the engine's
// rows, corrected.
type showColumnsResult struct {
	sc *plan.ShowColumns
	t  *Table
}

var _ sql.Table = (*showColumnsResult)(nil)

func (r *showColumnsResult) Name() string   { return r.t.Name() }
func (r *showColumnsResult) String() string { return "SHOW COLUMNS FROM " + r.t.Name() }

// Schema is the engine's, with the table as the columns' source (see
// showCreateResult.Schema).
func (r *showColumnsResult) Schema() sql.Schema {
	sch := r.sc.Schema().Copy()
	for _, c := range sch {
		c.Source = r.t.Name()
	}
	return sch
}

func (r *showColumnsResult) Collation() sql.CollationID { return sql.Collation_Default }

func (r *showColumnsResult) Partitions(*sql.Context) (sql.PartitionIter, error) {
	return sql.PartitionsToPartitionIter(&partition{}), nil
}

func (r *showColumnsResult) PartitionRows(ctx *sql.Context, _ sql.Partition) (sql.RowIter, error) {
	td, err := r.t.data(ctx)
	if err != nil {
		return nil, err
	}
	it, err := rowexec.DefaultBuilder.Build(ctx, r.sc, nil)
	if err != nil {
		return nil, err
	}
	resolved := map[string]*sql.Column{}
	for _, c := range r.sc.TargetSchema() {
		resolved[strings.ToLower(c.Name)] = c
	}
	return &showColumnsIter{RowIter: it, sch: td.lay.sch, full: r.sc.Full, resolved: resolved}, nil
}

// showColumnsIter corrects rows of SHOW [FULL] COLUMNS.
type showColumnsIter struct {
	sql.RowIter
	sch      *schema.Table
	full     bool
	resolved map[string]*sql.Column
}

func (it *showColumnsIter) Next(ctx *sql.Context) (sql.Row, error) {
	row, err := it.RowIter.Next(ctx)
	if err != nil {
		return row, err
	}
	typ, coll, key, def, extra := 1, -1, 3, 4, 5
	if it.full {
		coll, key, def, extra = 2, 4, 5, 6
	}
	if len(row) <= extra {
		return row, nil
	}
	name, _ := row[0].(string)
	i := it.sch.ColumnIndex(name)
	if i < 0 {
		return row, nil
	}
	c := &it.sch.Columns[i]
	row = row.Copy()
	row[typ] = mysqlColumnType(c)
	if coll >= 0 {
		row[coll] = nil
		if tc, ok := c.Type.(sql.TypeWithCollation); ok && tc.Collation() != sql.Collation_binary {
			row[coll] = tc.Collation().Name()
		}
	}
	if text, ok := literalDefault(ctx, c); ok {
		row[def] = text
	} else if res := it.resolved[strings.ToLower(c.Name)]; res != nil && res.Default != nil {
		row[def] = information_schema.GetColumnDefault(ctx, res.Default)
	}
	if c.HasGenerated {
		row[extra] = generatedExtra(c)
	}
	if k, _ := row[key].(string); k == "" {
		// The engine finds no indexes of a table with virtual columns.
		row[key] = columnKey(it.sch, i)
	}
	return row, nil
}

// columnKey is SHOW COLUMNS' Key of column i: PRI for a primary key
// column, UNI for the column of a one-column unique index, MUL for the
// first column of another index.
func columnKey(sch *schema.Table, i int) string {
	for _, o := range sch.PKOrdinals {
		if o == i {
			return "PRI"
		}
	}
	key := ""
	for _, x := range sch.Indexes {
		if !strings.EqualFold(x.Columns[0], sch.Columns[i].Name) {
			continue
		}
		if x.Unique && len(x.Columns) == 1 {
			return "UNI"
		}
		key = "MUL"
	}
	return key
}
