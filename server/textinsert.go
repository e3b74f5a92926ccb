package server

import (
	"context"
	"strconv"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
	"github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/cairndb/cairn/storage/sqle"
)

// Text INSERTs of one row of plain literals (docs/plan-cache.md, "Text
// INSERTs"): sysbench's oltp_insert, and any application that builds its
// INSERTs as text, sends the same statement with other values each time.
// The connection scans such a text into the statement with parameters in
// place of the literals and the literals as bindings, and runs it from an
// INSERT template as if it were prepared; go-mysql-server's parse, build
// and analysis of it took about a tenth of oltp_insert's CPU. The scanner
// takes a narrow grammar only, so that what it accepts means the same with
// parameters as with literals:
//
//	INSERT INTO table [(column, …)] VALUES (literal, …) [;]
//
// where a literal is a decimal integer without sign or a string in single
// quotes with neither backslash nor quote inside, and names are plain or
// in backquotes. Comments, other literals, more rows or statements after
// it: the handler runs the text as it is.

// maxTextPlans bounds a connection's text INSERT entries; past it, they are
// dropped and made again.
const maxTextPlans = 32

// textInsert runs query, the text of a COM_QUERY packet, from an INSERT
// template if it is a text INSERT of the shape above; handled is false, with
// nothing done the client sees, when the handler is to run it.
func (cs *conns) textInsert(ctx context.Context, c *mysql.Conn, query string, cb mysql.ResultSpoolFn) (handled bool, err error) {
	if cs.engine == nil || cs.sm == nil || !cs.planCache {
		return false, nil
	}
	ext, ok := cs.Handler.(mysql.ExtendedHandler)
	if !ok {
		return false, nil
	}
	norm, args, ok := scanInsert(query)
	if !ok {
		return false, nil
	}
	sp := cs.textPlan(c, norm)
	if sp == nil || sp.off {
		return false, nil
	}
	sqlCtx, err := cs.sm.NewContextWithQuery(ctx, c, query)
	if err != nil {
		return false, nil
	}
	e := cs.engine.SQL
	if _, prepared := e.PreparedDataCache.GetCachedStmt(sqlCtx.Session.ID(), sql.RemoveSpaceAndDelimiter(query, ';')); prepared {
		// The engine runs a text equal to a prepared statement's as
		// that statement.
		return false, nil
	}
	bindings := make(map[string]*querypb.BindVariable, len(args))
	for i, a := range args {
		bindings[sqle.ParamName(i)] = a.binding()
	}
	callback := func(r *sqltypes.Result, _ bool) error { return cb(r, false) }
	if sp.tmpl != nil {
		node, err := sp.tmpl.Bind(sqlCtx, bindings)
		if err == nil {
			countStatement(sqlCtx, node, false)
			return true, ext.ComExecuteBound(ctx, c, query, node, callback)
		}
		if !sqle.IsStale(err) {
			return false, nil
		}
		sp.tmpl = nil
	}
	if sp.stmt == nil {
		stmt, err := sqlparser.Parse(norm)
		if err != nil || !sqle.TemplateStatement(stmt) {
			sp.off = true
			return false, nil
		}
		sp.stmt = stmt
	}
	exprs := make(map[string]sqlparser.Expr, len(args))
	for i, a := range args {
		exprs[sqle.ParamName(i)] = a.expr()
	}
	node, err := e.BoundQueryPlan(sqlCtx, norm, sp.stmt, exprs)
	if err != nil {
		// The handler runs it again and reports the error its way.
		return false, nil
	}
	if sp.tmpl = cs.engine.NewPlanTemplate(sqlCtx, node, bindings); sp.tmpl == nil {
		if sp.fails++; sp.fails >= maxTemplateFails {
			sp.off = true
		}
	}
	countStatement(sqlCtx, node, true)
	return true, ext.ComExecuteBound(ctx, c, query, node, callback)
}

// textPlan returns c's entry for the text INSERT norm, making it.
func (cs *conns) textPlan(c *mysql.Conn, norm string) *stmtPlan {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	st := cs.open[c.ConnectionID]
	if st == nil {
		return nil
	}
	if sp := st.texts[norm]; sp != nil {
		return sp
	}
	if st.texts == nil || len(st.texts) >= maxTextPlans {
		st.texts = map[string]*stmtPlan{}
	}
	sp := &stmtPlan{query: norm}
	st.texts[norm] = sp
	return sp
}

// textLiteral is a literal scanInsert took: the digits of an integer, or
// the characters of a string.
type textLiteral struct {
	text  string
	isStr bool
}

// binding is the literal as a prepared statement's binding: an integer
// is bound as a signed one if it fits, else as an unsigned one (one that
// fits neither, a DECIMAL, the template declines).
func (l textLiteral) binding() *querypb.BindVariable {
	if l.isStr {
		return &querypb.BindVariable{Type: querypb.Type_VARCHAR, Value: []byte(l.text)}
	}
	t := querypb.Type_INT64
	if _, err := strconv.ParseInt(l.text, 10, 64); err != nil {
		t = querypb.Type_UINT64
	}
	return &querypb.BindVariable{Type: t, Value: []byte(l.text)}
}

// expr is the literal as the parser makes it.
func (l textLiteral) expr() sqlparser.Expr {
	if l.isStr {
		return sqlparser.NewStrVal([]byte(l.text))
	}
	return sqlparser.NewIntVal([]byte(l.text))
}

// scanInsert reads query as `INSERT INTO table [(columns)] VALUES
// (literals)` (see the top of this file) and returns the statement with a
// parameter for each literal, and the literals; ok is false if query is not
// of that shape.
func scanInsert(query string) (norm string, args []textLiteral, ok bool) {
	s := scanner{in: query}
	var b strings.Builder
	s.space()
	if !s.keyword("insert") || !s.space() || !s.keyword("into") || !s.space() {
		return "", nil, false
	}
	b.WriteString("INSERT INTO ")
	table, ok := s.ident()
	if !ok {
		return "", nil, false
	}
	b.WriteString(table)
	if s.peek('.') {
		s.pos++
		name, ok := s.ident()
		if !ok {
			return "", nil, false
		}
		b.WriteString("." + name)
	}
	s.space()
	if s.peek('(') {
		var cols []string
		if !s.list(func() bool {
			name, ok := s.ident()
			cols = append(cols, name)
			return ok
		}) {
			return "", nil, false
		}
		b.WriteString(" (" + strings.Join(cols, ", ") + ")")
		s.space()
	}
	if !s.keyword("values") {
		return "", nil, false
	}
	s.space()
	if !s.list(func() bool {
		lit, ok := s.literal()
		args = append(args, lit)
		return ok
	}) {
		return "", nil, false
	}
	b.WriteString(" VALUES (" + strings.Repeat("?, ", len(args)-1) + "?)")
	s.space()
	if s.peek(';') {
		s.pos++
		s.space()
	}
	if s.pos != len(s.in) {
		return "", nil, false
	}
	return b.String(), args, true
}

// scanner reads a text INSERT.
type scanner struct {
	in  string
	pos int
}

func (s *scanner) peek(c byte) bool { return s.pos < len(s.in) && s.in[s.pos] == c }

// list reads `(item, …)`, at least one item, with spaces around each; item
// reads one and reports whether it could.
func (s *scanner) list(item func() bool) bool {
	if !s.peek('(') {
		return false
	}
	s.pos++
	for {
		s.space()
		if !item() {
			return false
		}
		s.space()
		switch {
		case s.peek(')'):
			s.pos++
			return true
		case !s.peek(','):
			return false
		}
		s.pos++
	}
}

// space skips spaces and reports whether there were any.
func (s *scanner) space() bool {
	start := s.pos
	for s.pos < len(s.in) && strings.IndexByte(" \t\r\n", s.in[s.pos]) >= 0 {
		s.pos++
	}
	return s.pos > start
}

// keyword reads word, in any case, if no name character follows it.
func (s *scanner) keyword(word string) bool {
	end := s.pos + len(word)
	if end > len(s.in) || !strings.EqualFold(s.in[s.pos:end], word) || end < len(s.in) && identChar(s.in[end]) {
		return false
	}
	s.pos = end
	return true
}

// ident reads a name, plain or in backquotes, and returns it as written.
func (s *scanner) ident() (string, bool) {
	start := s.pos
	if s.peek('`') {
		end := strings.IndexByte(s.in[s.pos+1:], '`')
		if end <= 0 || strings.ContainsAny(s.in[s.pos+1:s.pos+1+end], "\n\x00") {
			return "", false
		}
		s.pos += end + 2
		if s.peek('`') {
			return "", false // a doubled backquote inside the name
		}
		return s.in[start:s.pos], true
	}
	digits := true
	for s.pos < len(s.in) && identChar(s.in[s.pos]) && s.in[s.pos] < 0x80 {
		digits = digits && s.in[s.pos] >= '0' && s.in[s.pos] <= '9'
		s.pos++
	}
	if s.pos == start || digits || s.pos < len(s.in) && s.in[s.pos] >= 0x80 {
		return "", false
	}
	return s.in[start:s.pos], true
}

// literal reads a decimal integer without sign or a plain string.
func (s *scanner) literal() (textLiteral, bool) {
	start := s.pos
	if s.peek('\'') {
		for i := s.pos + 1; i < len(s.in); i++ {
			switch s.in[i] {
			case '\\':
				return textLiteral{}, false
			case '\'':
				s.pos = i + 1
				if s.peek('\'') {
					return textLiteral{}, false // a doubled quote, or a second string
				}
				return textLiteral{text: s.in[start+1 : i], isStr: true}, true
			}
		}
		return textLiteral{}, false
	}
	for s.pos < len(s.in) && s.in[s.pos] >= '0' && s.in[s.pos] <= '9' {
		s.pos++
	}
	if s.pos == start || s.pos-start > 20 || s.pos < len(s.in) && (identChar(s.in[s.pos]) || s.in[s.pos] == '.') {
		return textLiteral{}, false
	}
	return textLiteral{text: s.in[start:s.pos]}, true
}
