package sqle

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/cairndb/cairn/storage/sqle/schema"
)

// What CREATE and ALTER TABLE declare that go-mysql-server's types and
// index definitions drop is read from the statement itself: the engine's
// parser is wrapped (ddlParser), and each table DDL statement it parses
// leaves notes in the session (ddlNotes) that the table methods the engine
// then calls (createTable, RewriteInserter, CreateIndex, …) apply to the
// stored schema. See docs/sql.md "Declared types".
//
//   - TIME and TIME(0..5), DECIMAL/FLOAT/DOUBLE UNSIGNED, FLOAT(M,D) and
//     DOUBLE(M,D) are kept as the column's declared type
//     (schema.Column.Declared) and enforced on writes. The engine refuses
//     TIME(0..5) and reads FLOAT(M,D) as a precision; the parsed statement
//     is changed to TIME(6) and FLOAT for it.
//   - DESC index and primary key columns are kept (schema.Index.Descending).
//   - What cannot be kept is refused: ZEROFILL, invisible columns and
//     indexes.

// ddlParser is the engine's parser, with table DDL statements inspected
// (inspectDDL) after parsing.
type ddlParser struct {
	sql.Parser
}

var installDDLParserOnce sync.Once

// installDDLParser makes go-mysql-server parse with ddlParser. It is
// installed as sql.GlobalParser, not only as the engine's parser: the
// engine builds stored procedures' bodies (and triggers) with builders of
// its own, which take the global parser. An engine made afterwards takes
// it as its parser.
func installDDLParser() {
	installDDLParserOnce.Do(func() {
		sql.GlobalParser = ddlParser{Parser: sql.GlobalParser}
	})
}

var _ sql.Parser = ddlParser{}

func (p ddlParser) ParseSimple(query string) (ast.Statement, error) {
	if stmt, ok := literalSelects.get(query); ok {
		return stmt, nil
	}
	stmt, err := p.Parser.ParseSimple(query)
	if err == nil {
		inspectDDL(nil, stmt, query)
		literalSelects.put(query, stmt)
	}
	return stmt, err
}

// literalSelects holds the parsed form of texts "SELECT <literal>".
// go-mysql-server parses a column's default again each time it binds an
// INSERT that leaves the column out (resolveColumnDefaultExpression), and
// sysbench's tables default every column: 3 % of a 1-row INSERT's CPU. The
// builder only reads a literal's node (ConvertVal copies its bytes), so one
// parsed statement can serve every caller.
var literalSelects = literalCache{m: map[string]ast.Statement{}}

// literalCacheSize bounds literalSelects; the texts come from column
// definitions, so it is rarely reached, and when it is the cache starts
// over.
const literalCacheSize = 1024

type literalCache struct {
	mu sync.RWMutex
	m  map[string]ast.Statement
}

func (c *literalCache) get(query string) (ast.Statement, bool) {
	c.mu.RLock()
	stmt, ok := c.m[query]
	c.mu.RUnlock()
	return stmt, ok
}

// put keeps stmt if it is a SELECT of one literal and nothing else.
func (c *literalCache) put(query string, stmt ast.Statement) {
	sel, ok := stmt.(*ast.Select)
	if !ok || len(sel.SelectExprs) != 1 || sel.With != nil || sel.Where != nil || sel.Into != nil ||
		len(sel.From) > 1 || len(sel.From) == 1 && !isDual(sel.From[0]) {
		return
	}
	ae, ok := sel.SelectExprs[0].(*ast.AliasedExpr)
	if !ok {
		return
	}
	switch ae.Expr.(type) {
	case *ast.SQLVal, ast.BoolVal, *ast.NullVal:
	default:
		return
	}
	c.mu.Lock()
	if len(c.m) >= literalCacheSize {
		clear(c.m)
	}
	c.m[query] = stmt
	c.mu.Unlock()
}

// isDual reports whether t is the FROM the parser gives a SELECT without one.
func isDual(t ast.TableExpr) bool {
	at, ok := t.(*ast.AliasedTableExpr)
	if !ok {
		return false
	}
	tn, ok := at.Expr.(ast.TableName)
	return ok && strings.EqualFold(tn.Name.String(), "dual") && tn.DbQualifier.IsEmpty()
}

func (p ddlParser) Parse(ctx *sql.Context, query string, multi bool) (ast.Statement, string, string, error) {
	stmt, parsed, remainder, err := p.Parser.Parse(ctx, query, multi)
	if err == nil {
		inspectDDL(ctx, stmt, parsed)
	}
	return stmt, parsed, remainder, err
}

func (p ddlParser) ParseWithOptions(ctx context.Context, query string, delimiter rune, multi bool, options ast.ParserOptions) (ast.Statement, string, string, error) {
	stmt, parsed, remainder, err := p.Parser.ParseWithOptions(ctx, query, delimiter, multi, options)
	if err == nil {
		sctx, _ := ctx.(*sql.Context)
		inspectDDL(sctx, stmt, parsed)
	}
	return stmt, parsed, remainder, err
}

func (p ddlParser) ParseOneWithOptions(ctx context.Context, query string, options ast.ParserOptions) (ast.Statement, int, error) {
	stmt, end, err := p.Parser.ParseOneWithOptions(ctx, query, options)
	if err == nil {
		text := query
		if end > 0 && end <= len(query) {
			text = query[:end]
		}
		sctx, _ := ctx.(*sql.Context)
		inspectDDL(sctx, stmt, text)
	}
	return stmt, end, err
}

// ddlNotes is what the table DDL statements of the session's statement
// declared, by lower-case table name.
type ddlNotes map[string]*tableNotes

// tableNotes is what a statement declared of one table.
type tableNotes struct {
	// cols holds the refinement of each column the statement defines, by
	// lower-case name; a column defined without one has a zero Refinement.
	cols map[string]schema.Refinement
	// pk is the order of the primary key columns the statement declares
	// (true for DESC), nil if it declares none.
	pk []bool
	// indexes are the indexes the statement declares with DESC columns.
	indexes []indexNote
	// likeDB and like name the table of CREATE TABLE … LIKE.
	likeDB, like string
	// refuse is why the statement cannot be done to the table (what cairn
	// cannot keep and refuses rather than drop), or nil. The table methods
	// return it: an error from the parser would reach the client as a
	// syntax error.
	refuse error
}

// refusal returns why the statement cannot be done to the table, or nil.
func (tn *tableNotes) refusal() error {
	if tn == nil {
		return nil
	}
	return tn.refuse
}

func (tn *tableNotes) refuseWith(err error) {
	if tn.refuse == nil {
		tn.refuse = err
	}
}

// indexNote is an index declared with DESC columns: its name ("" if
// unnamed), its columns and their order.
type indexNote struct {
	name string
	cols []string
	desc []bool
}

func (n ddlNotes) table(name string) *tableNotes {
	k := strings.ToLower(name)
	tn := n[k]
	if tn == nil {
		tn = &tableNotes{cols: map[string]schema.Refinement{}}
		n[k] = tn
	}
	return tn
}

// errNotSupported is MySQL's ER_NOT_SUPPORTED_YET, for what cairn refuses
// rather than drop.
func errNotSupported(what string) error {
	return mysql.NewSQLError(mysql.ERNotSupportedYet, "42000", "This version of cairn doesn't yet support '%s'", what)
}

// inspectDDL notes the table DDL in stmt (text is its SQL), and rewrites
// the column types the engine would refuse or misread. With a cairn
// session in ctx, the notes replace the session's.
func inspectDDL(ctx *sql.Context, stmt ast.Statement, text string) {
	switch stmt.(type) {
	case *ast.DDL, *ast.AlterTable:
	default:
		return
	}
	notes := ddlNotes{}
	w := ddlWalker{notes: notes, seen: map[*ast.DDL]bool{}, notesOf: map[*ast.DDL]*tableNotes{}}
	w.walk(reflect.ValueOf(stmt), 0)
	if w.tableDDL {
		if err := refuseInvisible(text); err != nil {
			for _, tn := range notes {
				tn.refuseWith(err)
			}
		}
	}
	if ctx == nil || len(notes) == 0 {
		return
	}
	s, ok := ctx.Session.(*Session)
	if !ok {
		return
	}
	if w.tableDDL || s.ddl == nil {
		s.ddl = notes
		return
	}
	// The body of a procedure, trigger or event: the engine parses every
	// procedure of every database when it plans a CALL, so bodies add to
	// the notes rather than replace them.
	for k, tn := range notes {
		s.ddl[k] = tn
	}
}

// ddlWalker visits every table DDL statement in a statement, those of a
// procedure's, trigger's or event's body included.
type ddlWalker struct {
	notes    ddlNotes
	seen     map[*ast.DDL]bool
	tableDDL bool // a statement (not in a body) is table DDL
	// cur is the notes of the table DDL statement being walked (nil in
	// others), notesOf those of each.
	cur     *tableNotes
	notesOf map[*ast.DDL]*tableNotes
}

// walk visits v and what it holds.
func (w *ddlWalker) walk(v reflect.Value, depth int) {
	if depth > 200 || !v.IsValid() {
		return
	}
	switch v.Kind() {
	case reflect.Interface:
		if !v.IsNil() {
			w.walk(v.Elem(), depth+1)
		}
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		if v.CanInterface() {
			switch n := v.Interface().(type) {
			case *ast.AlterTable:
				for _, d := range n.Statements {
					w.ddl(d, n.Table)
				}
			case *ast.DDL:
				w.ddl(n, n.Table)
				w.cur = w.notesOf[n]
			case *ast.ForeignKeyDefinition:
				// The engine refuses SET DEFAULT in its planner, but only
				// under its own parser type.
				if w.cur != nil && (n.OnDelete == ast.SetDefault || n.OnUpdate == ast.SetDefault) {
					w.cur.refuseWith(sql.ErrForeignKeySetDefault.New())
				}
			case *ast.SQLVal:
				return
			}
		}
		w.walk(v.Elem(), depth+1)
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Field(i); f.CanInterface() {
				w.walk(f, depth+1)
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return
		}
		for i := range v.Len() {
			w.walk(v.Index(i), depth+1)
		}
	}
}

// ddl notes what d, a statement on table, declares.
func (w *ddlWalker) ddl(d *ast.DDL, table ast.TableName) {
	if d == nil || w.seen[d] {
		return
	}
	w.seen[d] = true
	if d.Table.Name.String() != "" {
		table = d.Table
	}
	name := table.Name.String()
	if name == "" || d.Action != ast.CreateStr && d.Action != ast.AlterStr {
		return
	}
	if d.ProcedureSpec != nil || d.TriggerSpec != nil || d.EventSpec != nil || d.ViewSpec != nil {
		return
	}
	if len(w.seen) == 1 {
		w.tableDDL = true
	}
	tn := w.notes.table(name)
	w.notesOf[d] = tn
	if d.OptLike != nil && len(d.OptLike.LikeTables) == 1 {
		src := d.OptLike.LikeTables[0]
		tn.likeDB, tn.like = src.DbQualifier.String(), src.Name.String()
	}
	if spec := d.TableSpec; spec != nil {
		for _, c := range spec.Columns {
			r, err := columnRefinement(c)
			if err != nil {
				tn.refuseWith(err)
			}
			tn.cols[strings.ToLower(c.Name.String())] = r
		}
		for _, x := range spec.Indexes {
			if refusesInvisibleIndex(x.Options) {
				tn.refuseWith(errNotSupported("INVISIBLE indexes"))
			}
			if x.Info != nil && x.Info.Primary {
				tn.pk = indexOrder(x.Columns)
				continue
			}
			var idxName string
			if x.Info != nil {
				idxName = x.Info.Name.String()
			}
			tn.noteIndex(idxName, x.Columns)
		}
	}
	if x := d.IndexSpec; x != nil && strings.EqualFold(x.Action, ast.CreateStr) {
		if refusesInvisibleIndex(x.Options) {
			tn.refuseWith(errNotSupported("INVISIBLE indexes"))
		}
		if strings.EqualFold(x.Type, "primary") {
			tn.pk = indexOrder(x.Columns)
		} else {
			tn.noteIndex(x.ToName.String(), x.Columns)
		}
	}
}

// noteIndex notes an index if it has DESC columns.
func (tn *tableNotes) noteIndex(name string, cols []*ast.IndexColumn) {
	desc := indexOrder(cols)
	if desc == nil {
		return
	}
	n := indexNote{name: name, desc: desc}
	for _, c := range cols {
		n.cols = append(n.cols, c.Column.String())
	}
	tn.indexes = append(tn.indexes, n)
}

// indexOrder returns the DESC flags of index columns, nil if none is DESC.
func indexOrder(cols []*ast.IndexColumn) []bool {
	var out []bool
	for i, c := range cols {
		if c.Order == ast.DescScr {
			if out == nil {
				out = make([]bool, len(cols))
			}
			out[i] = true
		}
	}
	return out
}

func refusesInvisibleIndex(opts []*ast.IndexOption) bool {
	for _, o := range opts {
		if strings.EqualFold(o.Name, "INVISIBLE") {
			return true
		}
	}
	return false
}

// columnRefinement returns what a column definition declares beyond the
// engine's type, and changes the definition so that the engine reads the
// type it will store: TIME(0..5) as TIME(6), FLOAT(M,D) as FLOAT.
func columnRefinement(c *ast.ColumnDefinition) (schema.Refinement, error) {
	ct := &c.Type
	var r schema.Refinement
	if ct.Zerofill {
		return r, errNotSupported(fmt.Sprintf("ZEROFILL (column `%s`)", c.Name.String()))
	}
	length := func(v *ast.SQLVal) (int, bool) {
		if v == nil {
			return 0, false
		}
		n, err := strconv.Atoi(string(v.Val))
		return n, err == nil
	}
	switch strings.ToLower(ct.Type) {
	case "time":
		n, ok := length(ct.Length)
		if ok && n >= 6 {
			return r, nil
		}
		r.Time, r.TimePrecision = true, n
		if ok {
			ct.Length = ast.NewIntVal([]byte("6"))
		}
	case "decimal", "numeric", "dec", "fixed":
		r.Unsigned = bool(ct.Unsigned)
	case "float", "double", "real", "double precision":
		r.Unsigned = bool(ct.Unsigned)
		if m, ok := length(ct.Length); ok && ct.Scale != nil {
			d, _ := length(ct.Scale)
			r.Digits, r.Decimals = m, d
			if m < 1 || m > 255 || d > 30 || d > m {
				return r, sql.ErrInvalidColTypeDefinition.New(c.Name.String(), "M must be 1 to 255, D 0 to 30 and at most M")
			}
			// The engine would read M as a precision (FLOAT(30,2) as
			// DOUBLE); FLOAT(M,D) is a FLOAT.
			ct.Length, ct.Scale = nil, nil
		}
	}
	return r, nil
}

// refuseInvisible refuses an INVISIBLE column or index in the table DDL
// statement text. The parser reads the keyword and drops it, so it is
// found among the statement's tokens: INVISIBLE after a name, a type or a
// column attribute (not after an operator, a parenthesis or a comma, where
// it would be a column named invisible) and before the end of a column
// definition or another attribute.
func refuseInvisible(text string) error {
	if !strings.Contains(strings.ToLower(text), "invisible") {
		return nil
	}
	tkn := ast.NewStringTokenizer(text)
	prev, cur := -1, -1
	for {
		typ, _ := tkn.Scan()
		if typ == ast.COMMENT {
			continue
		}
		if cur == ast.INVISIBLE && invisibleAfter(prev) && invisibleBefore(typ) {
			return errNotSupported("INVISIBLE columns and indexes")
		}
		if typ == 0 || typ == ast.LEX_ERROR {
			return nil
		}
		prev, cur = cur, typ
	}
}

// invisibleAfter reports whether a token of type typ can precede the
// INVISIBLE attribute.
func invisibleAfter(typ int) bool {
	switch typ {
	case '(', ',', '.', '=', '<', '>', '+', '-', '*', '/', '%', '&', '|', '^', '~', '!',
		ast.LE, ast.GE, ast.NE, ast.NULL_SAFE_EQUAL, ast.AND, ast.OR, ast.NOT,
		ast.ADD, ast.COLUMN, ast.CHANGE, ast.MODIFY, ast.DROP, ast.TO, ast.AFTER, ast.TABLE,
		ast.SELECT, ast.BY, ast.WHERE, ast.AS, ast.ON:
		return false
	}
	return true
}

// invisibleBefore reports whether a token can follow the INVISIBLE
// attribute.
func invisibleBefore(typ int) bool {
	switch typ {
	case 0, ';', ',', ')', ast.NOT, ast.NULL, ast.DEFAULT, ast.COMMENT_KEYWORD, ast.PRIMARY, ast.UNIQUE,
		ast.KEY, ast.AUTO_INCREMENT, ast.COLLATE, ast.CHARACTER, ast.REFERENCES, ast.CHECK,
		ast.CONSTRAINT, ast.ON, ast.SRID, ast.VISIBLE, ast.INVISIBLE, ast.FIRST, ast.AFTER, ast.GENERATED,
		ast.AS, ast.STORED, ast.VIRTUAL:
		return true
	}
	return false
}
