package sqle

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/mysql_db"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/planbuilder"
	"github.com/dolthub/go-mysql-server/sql/transform"
	"github.com/dolthub/go-mysql-server/sql/types"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/cairndb/cairn/storage/sqle/schema"
)

// SHOW CREATE TABLE of a cairn table is written here, from the stored
// schema, rather than by go-mysql-server, whose text loses what a dump
// must keep (docs/sql.md "Results as MySQL gives them"):
//   - quotes and backslashes in ENUM and SET members and in comments are
//     written unescaped (`enum('it's')` does not load; a backslash is lost);
//   - a table with virtual columns is printed without its indexes and
//     checks;
//   - a primary key's prefix lengths and a foreign key's parent database
//     are left out;
//   - a NOT NULL generated column prints NOT NULL before GENERATED ALWAYS,
//     which MySQL does not parse.
//
// The text is otherwise the engine's, which is MySQL 8's in the cases that
// matter: the same clauses in the same order, so that a table prints the
// same before and after a dump is loaded.

// showCreateTable replaces SHOW CREATE TABLE of a cairn table with a table
// of one row that writes the statement when read. Other tables (the
// engine's own, information_schema's) keep the engine's text, with
// showCreateDefaults applied.
func showCreateTable(ctx *sql.Context, a *analyzer.Analyzer, n sql.Node, scope *plan.Scope, sel analyzer.RuleSelector, qFlags *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
	sc, ok := n.(*plan.ShowCreateTable)
	if !ok || sc.AsOf() != nil {
		return n, transform.SameTree, nil
	}
	if sa, ok := sc.Child.(*plan.SubqueryAlias); ok {
		return showCreateView(ctx, a, sc, sa)
	}
	rt, ok := sc.Child.(*plan.ResolvedTable)
	if !ok || sc.IsView {
		return n, transform.SameTree, nil
	}
	t, ok := cairnTable(rt.Table)
	if !ok {
		return showCreateDefaults(ctx, a, n, scope, sel, qFlags)
	}
	res := &showCreateResult{t: t, sc: sc, cat: a.Catalog}
	return plan.NewResolvedTable(res, rt.SqlDatabase, nil), transform.NewTree, nil
}

// cairnTable returns the cairn table under t's wrappers, if there is one.
func cairnTable(t sql.Table) (*Table, bool) {
	for {
		switch x := t.(type) {
		case *Table:
			return x, true
		case *IndexedTable:
			return x.Table, true
		case sql.TableWrapper:
			t = x.Underlying()
		default:
			return nil, false
		}
	}
}

// showCreateResult is the result of SHOW CREATE TABLE of a cairn table:
// one row, the table's name and its CREATE TABLE statement.
type showCreateResult struct {
	t   *Table
	sc  *plan.ShowCreateTable // the engine's node: resolved defaults and checks
	cat sql.Catalog
}

var _ sql.Table = (*showCreateResult)(nil)

func (r *showCreateResult) Name() string   { return r.t.Name() }
func (r *showCreateResult) String() string { return "SHOW CREATE TABLE " + r.t.Name() }

// Schema is the engine's for SHOW CREATE TABLE. The columns name the
// table as their source, which the engine requires of a table's columns.
func (r *showCreateResult) Schema() sql.Schema {
	return sql.Schema{
		{Name: "Table", Type: types.LongText, Source: r.t.Name()},
		{Name: "Create Table", Type: types.LongText, Source: r.t.Name()},
	}
}

func (r *showCreateResult) Collation() sql.CollationID { return sql.Collation_Default }

func (r *showCreateResult) Partitions(*sql.Context) (sql.PartitionIter, error) {
	return sql.PartitionsToPartitionIter(&partition{}), nil
}

func (r *showCreateResult) PartitionRows(ctx *sql.Context, _ sql.Partition) (sql.RowIter, error) {
	stmt, err := r.statement(ctx)
	if err != nil {
		return nil, err
	}
	return sql.RowsToRowIter(sql.Row{r.t.Name(), stmt}), nil
}

// statement writes the CREATE TABLE statement.
func (r *showCreateResult) statement(ctx *sql.Context) (string, error) {
	t := r.t
	td, err := t.data(ctx)
	if err != nil {
		return "", err
	}
	sch := td.lay.sch
	// The engine's schema of the statement has the defaults, generated
	// and ON UPDATE expressions resolved, which their text needs.
	resolved := map[string]*sql.Column{}
	for _, c := range r.sc.TargetSchema() {
		resolved[strings.ToLower(c.Name)] = c
	}
	var lines []string
	for i := range sch.Columns {
		line, err := columnDefinition(ctx, sch, i, resolved[strings.ToLower(sch.Columns[i].Name)])
		if err != nil {
			return "", err
		}
		lines = append(lines, line)
	}
	if len(sch.PKOrdinals) > 0 {
		cols := make([]string, len(sch.PKOrdinals))
		for j, o := range sch.PKOrdinals {
			cols[j] = quoteIdent(sch.Columns[o].Name)
			if j < len(sch.PKPrefixLengths) && sch.PKPrefixLengths[j] > 0 {
				cols[j] += "(" + strconv.Itoa(int(sch.PKPrefixLengths[j])) + ")"
			}
			if j < len(sch.PKDescending) && sch.PKDescending[j] {
				cols[j] += " DESC"
			}
		}
		lines = append(lines, "  PRIMARY KEY ("+strings.Join(cols, ",")+")")
	}
	for i := range sch.Indexes {
		lines = append(lines, indexDefinition(&sch.Indexes[i]))
	}
	fks, err := t.GetDeclaredForeignKeys(ctx)
	if err != nil {
		return "", err
	}
	for _, fk := range fks {
		lines = append(lines, foreignKeyDefinition(&fk))
	}
	checks, err := r.checks(ctx, sch)
	if err != nil {
		return "", err
	}
	lines = append(lines, checks...)

	var b strings.Builder
	b.WriteString("CREATE ")
	if t.IsTemporary() {
		b.WriteString("TEMPORARY ")
	}
	b.WriteString("TABLE ")
	b.WriteString(quoteIdent(t.Name()))
	b.WriteString(" (\n")
	b.WriteString(strings.Join(lines, ",\n"))
	b.WriteString("\n) ENGINE=InnoDB")
	if next, err := t.PeekNextAutoIncrementValue(ctx); err != nil {
		return "", err
	} else if next > 1 {
		b.WriteString(" AUTO_INCREMENT=" + strconv.FormatUint(next, 10))
	}
	coll := sch.Collation
	if coll == sql.Collation_Unspecified {
		coll = sql.Collation_Default
	}
	b.WriteString(" DEFAULT CHARSET=" + coll.CharacterSet().Name() + " COLLATE=" + coll.Name())
	if sch.Comment != "" {
		b.WriteString(" COMMENT=" + quoteString(sch.Comment))
	}
	return b.String(), nil
}

// columnDefinition writes a column as MySQL does: name, type, generation,
// NOT NULL, AUTO_INCREMENT, SRID, DEFAULT, ON UPDATE, COMMENT. res is the
// engine's resolved column (nil if it has none). Generated expressions are
// written as stored, column names quoted (see defaultText).
func columnDefinition(ctx *sql.Context, sch *schema.Table, i int, res *sql.Column) (string, error) {
	c := &sch.Columns[i]
	var b strings.Builder
	b.WriteString("  ")
	b.WriteString(quoteIdent(c.Name))
	b.WriteByte(' ')
	b.WriteString(columnTypeText(c, sch.Collation))
	if c.HasGenerated {
		b.WriteString(" GENERATED ALWAYS AS " + c.Generated)
		if c.Virtual {
			b.WriteString(" VIRTUAL")
		} else {
			b.WriteString(" STORED")
		}
	}
	if !c.Nullable {
		b.WriteString(" NOT NULL")
	}
	if c.AutoIncrement {
		b.WriteString(" AUTO_INCREMENT")
	}
	if st, ok := c.Type.(sql.SpatialColumnType); ok {
		if srid, defined := st.GetSpatialTypeSRID(); defined {
			b.WriteString(fmt.Sprintf(" /*!80003 SRID %d */", srid))
		}
	}
	if c.HasDefault && !c.HasGenerated {
		text, err := defaultText(ctx, c.Default, res, func(c *sql.Column) *sql.ColumnDefaultValue { return c.Default })
		if err != nil {
			return "", err
		}
		b.WriteString(" DEFAULT " + text)
	}
	if c.HasOnUpdate {
		text, err := defaultText(ctx, c.OnUpdate, res, func(c *sql.Column) *sql.ColumnDefaultValue { return c.OnUpdate })
		if err != nil {
			return "", err
		}
		b.WriteString(" ON UPDATE " + text)
	}
	if c.Comment != "" {
		b.WriteString(" COMMENT " + quoteString(c.Comment))
	}
	return b.String(), nil
}

// columnTypeText writes a column's type as MySQL does: as declared where
// that refines the engine's type (`time`, `decimal(10,2) unsigned`), ENUM
// and SET members escaped, the character set and collation when they are
// not the table's.
func columnTypeText(c *schema.Column, tableColl sql.CollationID) string {
	if c.Declared != "" {
		return c.Declared // numbers and TIME: no collation
	}
	var s string
	if tc, ok := c.Type.(sql.TypeWithCollation); ok {
		s = tc.StringWithTableCollation(tableColl)
	} else {
		s = c.Type.String()
	}
	var kind string
	var values []string
	switch t := c.Type.(type) {
	case sql.EnumType:
		kind, values = "enum", t.Values()
	case sql.SetType:
		kind, values = "set", t.Values()
	default:
		return s
	}
	// The engine writes the members between quotes as they are; the
	// clauses after them stay.
	raw := kind + "('" + strings.Join(values, "','") + "')"
	if !strings.HasPrefix(s, raw) {
		return s
	}
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = quoteString(v)
	}
	return kind + "(" + strings.Join(quoted, ",") + ")" + s[len(raw):]
}

// defaultText writes a default or ON UPDATE expression as MySQL does:
// literals as quoted values ('0', 'y' for an ENUM, 'a,b' for a SET, '1.50'
// for a DECIMAL(5,2), b'101' for a BIT), NULL, CURRENT_TIMESTAMP and
// expressions in parentheses as stored. Literals are written from the
// engine's resolved expression (pick takes it from res, the resolved
// column). Expressions are written as stored, with column names quoted as
// MySQL writes them; the engine's resolved text leaves them unquoted, and
// a reserved word then does not load (`DEFAULT ((order + 1))`).
func defaultText(ctx *sql.Context, stored string, res *sql.Column, pick func(*sql.Column) *sql.ColumnDefaultValue) (string, error) {
	if res == nil || pick(res) == nil || !pick(res).IsLiteral() {
		return stored, nil
	}
	d, typ := pick(res), res.Type
	text := d.String()
	if text == "NULL" {
		return text, nil
	}
	v, err := d.Eval(ctx, nil)
	if err != nil {
		return "", err
	}
	if v == nil {
		return "NULL", nil
	}
	switch {
	case types.IsEnum(typ) || types.IsSet(typ) || types.IsDecimal(typ):
		// The engine keeps an ENUM as its index, a SET as its bits, a
		// DECIMAL without its scale: the column's type writes the value.
		sv, err := typ.SQL(ctx, nil, v)
		if err != nil {
			return "", err
		}
		return quoteString(sv.ToString()), nil
	case types.IsTime(d.Type()) || types.IsText(d.Type()):
		return text, nil
	case types.IsBit(d.OutType):
		return fmt.Sprintf("b'%b'", v), nil
	}
	return quoteString(fmt.Sprint(v)), nil
}

// indexDefinition writes a secondary index.
func indexDefinition(x *schema.Index) string {
	var b strings.Builder
	b.WriteString("  ")
	switch {
	case x.Unique:
		b.WriteString("UNIQUE ")
	case x.Fulltext:
		b.WriteString("FULLTEXT ")
	case x.Spatial:
		b.WriteString("SPATIAL ")
	}
	b.WriteString("KEY ")
	b.WriteString(quoteIdent(x.Name))
	b.WriteString(" (")
	for j, col := range x.Columns {
		if j > 0 {
			b.WriteByte(',')
		}
		b.WriteString(quoteIdent(col))
		if j < len(x.PrefixLengths) && x.PrefixLengths[j] > 0 {
			b.WriteString("(" + strconv.Itoa(int(x.PrefixLengths[j])) + ")")
		}
		if j < len(x.Descending) && x.Descending[j] {
			b.WriteString(" DESC")
		}
	}
	b.WriteByte(')')
	if x.Comment != "" {
		b.WriteString(" COMMENT " + quoteString(x.Comment))
	}
	return b.String()
}

// foreignKeyDefinition writes a foreign key; a parent in another database
// is qualified with it, as MySQL does.
func foreignKeyDefinition(fk *sql.ForeignKeyConstraint) string {
	parent := quoteIdent(fk.ParentTable)
	if fk.ParentDatabase != "" && !strings.EqualFold(fk.ParentDatabase, fk.Database) {
		parent = quoteIdent(fk.ParentDatabase) + "." + parent
	}
	s := fmt.Sprintf("  CONSTRAINT %s FOREIGN KEY (%s) REFERENCES %s (%s)", quoteIdent(fk.Name),
		quoteIdents(fk.Columns), parent, quoteIdents(fk.ParentColumns))
	if fk.OnDelete != "" && fk.OnDelete != sql.ForeignKeyReferentialAction_DefaultAction {
		s += " ON DELETE " + string(fk.OnDelete)
	}
	if fk.OnUpdate != "" && fk.OnUpdate != sql.ForeignKeyReferentialAction_DefaultAction {
		s += " ON UPDATE " + string(fk.OnUpdate)
	}
	return s
}

// checks writes the table's check constraints. Their expressions are the
// engine's resolved ones, column names quoted; the engine resolves none
// for a table with virtual columns, whose checks are resolved here.
func (r *showCreateResult) checks(ctx *sql.Context, sch *schema.Table) ([]string, error) {
	resolved := map[string]string{}
	for _, c := range r.sc.Checks() {
		resolved[strings.ToLower(c.Name)] = c.Expr.String()
	}
	var out []string
	for _, c := range sch.Checks {
		expr, ok := resolved[strings.ToLower(c.Name)]
		if !ok {
			expr = r.resolveCheck(ctx, sch.Name, c.CheckExpression)
		}
		s := fmt.Sprintf("  CONSTRAINT %s CHECK (%s)", quoteIdent(c.Name), expr)
		if !c.Enforced {
			s += " /*!80016 NOT ENFORCED */"
		}
		out = append(out, s)
	}
	return out, nil
}

// resolveCheck returns a stored check expression as the engine prints it
// resolved: column names quoted. If it cannot be resolved, the stored text
// is returned.
func (r *showCreateResult) resolveCheck(ctx *sql.Context, table, text string) (out string) {
	out = text
	defer func() {
		if recover() != nil { // the engine's builder reports errors by panicking
			out = text
		}
	}()
	stmt, err := ast.Parse("SELECT " + text)
	if err != nil {
		return text
	}
	sel, ok := stmt.(*ast.Select)
	if !ok || len(sel.SelectExprs) != 1 {
		return text
	}
	ae, ok := sel.SelectExprs[0].(*ast.AliasedExpr)
	if !ok {
		return text
	}
	from := &ast.AliasedTableExpr{Expr: ast.TableName{
		Name:        ast.NewTableIdent(table),
		DbQualifier: ast.NewTableIdent(r.t.db.Name()),
	}}
	e := planbuilder.New(ctx, r.cat, nil, nil).BuildScalarWithTable(ae.Expr, from)
	e, _, err = transform.Expr(e, func(e sql.Expression) (sql.Expression, transform.TreeIdentity, error) {
		if f, ok := e.(*expression.GetField); ok {
			return expression.NewUnresolvedColumn(quoteIdent(f.Name())), transform.NewTree, nil
		}
		return e, transform.SameTree, nil
	})
	if err != nil || e == nil {
		return text
	}
	return e.String()
}

// quoteIdent quotes a name with backticks, doubling those inside.
func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

func quoteIdents(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quoteIdent(n)
	}
	return strings.Join(q, ",")
}

// quoteString writes s as a string literal the way MySQL's SHOW CREATE
// TABLE does (append_unescaped): a quote doubled, a backslash, NUL, line
// feed and carriage return escaped with a backslash.
func quoteString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case 0:
			b.WriteString(`\0`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\\':
			b.WriteString(`\\`)
		case '\'':
			b.WriteString(`''`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// showCreateView replaces SHOW CREATE VIEW (or SHOW CREATE TABLE of a
// view) of a cairn view. The engine prints `CREATE VIEW `v` AS …` and
// loses the view's column list (`CREATE VIEW v (p, q) AS …` reloads with
// other column names), its ALGORITHM, DEFINER and SQL SECURITY. MySQL
// prints `CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL
// SECURITY DEFINER VIEW `v` AS …`; so does this, but for the definer, which
// is printed only when CREATE VIEW gave one: the engine keeps no other (it
// takes the reading session's user for one), and a definer that changes
// with the reader would make the text unstable. mariadb-dump then keeps the
// statement whole instead of splitting DEFINER into a comment of its own.
// The SELECT is the text the view was created with, where MySQL prints its
// own rewriting of it.
func showCreateView(ctx *sql.Context, a *analyzer.Analyzer, sc *plan.ShowCreateTable, sa *plan.SubqueryAlias) (sql.Node, transform.TreeIdentity, error) {
	db, def, ok := findView(ctx, a, sa)
	if !ok {
		return sc, transform.SameTree, nil
	}
	stmt, err := ast.ParseWithOptions(ctx, def.CreateViewStatement, sql.NewSqlModeFromString(def.SqlMode).ParserOptions())
	if err != nil {
		return sc, transform.SameTree, nil
	}
	ddl, ok := stmt.(*ast.DDL)
	if !ok || ddl.ViewSpec == nil {
		return sc, transform.SameTree, nil
	}
	res := &showCreateViewResult{name: sa.Name(), stmt: createViewText(def.Name, def.TextDefinition, ddl.ViewSpec)}
	return plan.NewResolvedTable(res, db, nil), transform.NewTree, nil
}

// createViewText writes a view's CREATE VIEW statement as MySQL does.
func createViewText(name, selectText string, spec *ast.ViewSpec) string {
	var b strings.Builder
	b.WriteString("CREATE ALGORITHM=")
	if spec.Algorithm != "" {
		b.WriteString(strings.ToUpper(spec.Algorithm))
	} else {
		b.WriteString("UNDEFINED")
	}
	if spec.Definer != "" {
		b.WriteString(" DEFINER=" + spec.Definer) // `user`@`host`, as the parser writes it
	}
	b.WriteString(" SQL SECURITY ")
	if spec.Security != "" {
		b.WriteString(strings.ToUpper(spec.Security))
	} else {
		b.WriteString("DEFINER")
	}
	b.WriteString(" VIEW " + quoteIdent(name))
	if len(spec.Columns) > 0 {
		cols := make([]string, len(spec.Columns))
		for i, c := range spec.Columns {
			cols[i] = c.String()
		}
		b.WriteString(" (" + quoteIdents(cols) + ")")
	}
	b.WriteString(" AS " + selectText)
	return b.String()
}

// findView returns the cairn database and stored definition of the view
// sa reads: in the database SHOW names, the current one, or another that
// has a view of that name and text.
func findView(ctx *sql.Context, a *analyzer.Analyzer, sa *plan.SubqueryAlias) (sql.Database, sql.ViewDefinition, bool) {
	var names []string
	if stmt, err := ast.Parse(ctx.Query()); err == nil {
		if show, ok := stmt.(*ast.Show); ok && strings.EqualFold(show.Table.Name.String(), sa.Name()) {
			names = append(names, show.Table.DbQualifier.String(), show.Database)
		}
	}
	names = append(names, ctx.GetCurrentDatabase())
	for _, db := range a.Catalog.AllDatabases(ctx) {
		names = append(names, db.Name())
	}
	for _, n := range names {
		if n == "" {
			continue
		}
		db, err := a.Catalog.Database(ctx, n)
		if err != nil {
			continue
		}
		cdb := db
		if p, ok := cdb.(mysql_db.PrivilegedDatabase); ok {
			cdb = p.Unwrap()
		}
		vdb, ok := cdb.(*Database)
		if !ok {
			continue
		}
		def, ok, err := vdb.GetViewDefinition(ctx, sa.Name())
		if err == nil && ok && def.TextDefinition == sa.TextDefinition {
			return db, def, true
		}
	}
	return nil, sql.ViewDefinition{}, false
}

// showCreateViewResult is the result of SHOW CREATE VIEW of a cairn view.
type showCreateViewResult struct {
	name, stmt string
}

var _ sql.Table = (*showCreateViewResult)(nil)

func (r *showCreateViewResult) Name() string   { return r.name }
func (r *showCreateViewResult) String() string { return "SHOW CREATE VIEW " + r.name }

// Schema is the engine's for SHOW CREATE VIEW (with the view as the
// columns' source, see showCreateResult.Schema).
func (r *showCreateViewResult) Schema() sql.Schema {
	return sql.Schema{
		{Name: "View", Type: types.LongText, Source: r.name},
		{Name: "Create View", Type: types.LongText, Source: r.name},
		{Name: "character_set_client", Type: types.LongText, Source: r.name},
		{Name: "collation_connection", Type: types.LongText, Source: r.name},
	}
}

func (r *showCreateViewResult) Collation() sql.CollationID { return sql.Collation_Default }

func (r *showCreateViewResult) Partitions(*sql.Context) (sql.PartitionIter, error) {
	return sql.PartitionsToPartitionIter(&partition{}), nil
}

// PartitionRows gives the row, with the session's character set and
// collation, as the engine does.
func (r *showCreateViewResult) PartitionRows(ctx *sql.Context, _ sql.Partition) (sql.RowIter, error) {
	cs, err := ctx.GetSessionVariable(ctx, "character_set_client")
	if err != nil {
		return nil, err
	}
	coll, err := ctx.GetSessionVariable(ctx, "collation_connection")
	if err != nil {
		return nil, err
	}
	return sql.RowsToRowIter(sql.Row{r.name, r.stmt, cs, coll}), nil
}
