package sqle

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/mysql_db"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
	"github.com/dolthub/go-mysql-server/sql/types"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
	"github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/repo"
)

// A PlanTemplate is the analyzed plan of one execution of a prepared
// SELECT, made reusable for later executions with other bindings: go-mysql-
// server binds and analyzes every execution afresh, which costs more than
// running a point select (docs/plan-cache.md). Only a narrow shape is
// templated, where the bindings reach the plan in one place only, the
// ranges of its one index lookup:
//
//   - the statement (TemplateStatement): a SELECT from one table whose
//     WHERE is ANDs and ORs of `column = ?` and `column BETWEEN ? AND ?`,
//     with no parameter anywhere else and no literal in the WHERE;
//   - the plan (NewPlanTemplate): Project, GroupBy, Sort, Distinct, Limit
//     and TopN over one static IndexedTableAccess of a cairn table, with no
//     Filter left, whose range bounds each equal exactly one binding;
//   - the bindings: integers, of the same types as the first execution's.
//
// Bind checks, at every execution, that the template still applies (same
// database, user and table schema, SELECT still granted) and puts the new
// values into the ranges; whatever it cannot vouch for, it declines, and the
// caller runs the statement the normal way.
type PlanTemplate struct {
	root   sql.Node
	ita    *plan.IndexedTableAccess
	lookup sql.IndexLookup
	ranges sql.MySQLRangeCollection
	table  *Table

	db, user, host string
	schEnc         []byte
	grants         *mysql_db.MySQLDb

	// write is the privilege an UPDATE or DELETE template needs besides
	// SELECT (0 for a SELECT). Its plan holds no trigger or foreign-key
	// handling: the database had no triggers (the collection's hash,
	// triggers), and no foreign key named the table, when it was made;
	// Bind checks that both still hold.
	write    sql.PrivilegeType
	triggers chunk.Hash

	names []string       // binding names, sorted (an INSERT's: in order)
	types []querypb.Type // their types, parallel to names
	slots []rangeSlot
	// insert, for an INSERT template, is where its bindings go instead of
	// ranges (insertplan.go).
	insert *insertSlots
	// us is an UPDATE's UpdateSource, and sets the values of its SETs that
	// are bindings.
	us   *plan.UpdateSource
	sets []setSlot
	// multi: several ranges, one column each (ORs), which Bind sorts and
	// joins where they overlap.
	multi bool
}

// setSlot is a SET whose value is binding names[binding]: expression expr
// of the UpdateSource, a SetField whose value is the binding's literal.
type setSlot struct {
	expr, binding int
}

// rangeSlot is where binding names[binding] goes: the lower or upper bound
// of column col of range rng.
type rangeSlot struct {
	rng, col int
	upper    bool
	binding  int
}

// Bind's answers when the template does not apply to an execution; the
// caller runs the statement the normal way. errStale: nor will it to any
// later one (the database, user, schema or grants changed), so the caller
// should make a new template.
var (
	errDecline = errors.New("plan template does not apply to these bindings")
	errStale   = errors.New("plan template is stale")
)

// IsStale reports whether err is Bind finding the template stale.
func IsStale(err error) bool { return errors.Is(err, errStale) }

// TemplateStatement reports whether stmt has the shape a PlanTemplate can be
// made for (see PlanTemplate): a SELECT, UPDATE or DELETE of one table whose
// parameters are all in its WHERE, an INSERT of one row of parameters, or
// BEGIN (START TRANSACTION) and COMMIT, whose plans take nothing.
func TemplateStatement(stmt sqlparser.Statement) bool {
	switch s := stmt.(type) {
	case *sqlparser.Insert:
		return insertStatement(s)
	case *sqlparser.Begin, *sqlparser.Commit:
		return true
	case *sqlparser.Select:
		if s.With != nil || s.Into != nil || s.Lock != "" || s.Window != nil || s.QueryOpts.SQLCalcFoundRows ||
			!templateWhere(s.Where) || !oneTable(s.From) {
			return false
		}
		rest := []sqlparser.SQLNode{s.SelectExprs, s.From, s.GroupBy, s.OrderBy}
		if s.Having != nil {
			rest = append(rest, s.Having)
		}
		if s.Limit != nil {
			rest = append(rest, s.Limit)
		}
		return !hasParam(rest...)
	case *sqlparser.Update:
		if s.With != nil || s.Ignore != "" || len(s.Returning) > 0 || !templateWhere(s.Where) || !oneTable(s.TableExprs) {
			return false
		}
		// A SET may take a parameter as the whole of its value.
		for _, ue := range s.Exprs {
			if !isParam(ue.Expr) && hasParam(ue.Expr) {
				return false
			}
		}
		rest := []sqlparser.SQLNode{s.TableExprs, s.OrderBy}
		if s.Limit != nil {
			rest = append(rest, s.Limit)
		}
		return !hasParam(rest...)
	case *sqlparser.Delete:
		if s.With != nil || len(s.Targets) > 0 || len(s.Partitions) > 0 || len(s.Returning) > 0 ||
			!templateWhere(s.Where) || !oneTable(s.TableExprs) {
			return false
		}
		rest := []sqlparser.SQLNode{s.TableExprs, s.OrderBy}
		if s.Limit != nil {
			rest = append(rest, s.Limit)
		}
		return !hasParam(rest...)
	}
	return false
}

// templateWhere reports whether a WHERE clause is of the templated shape.
func templateWhere(w *sqlparser.Where) bool {
	return w != nil && w.Type == sqlparser.WhereStr && whereShape(w.Expr)
}

// oneTable reports whether from names one table, not as of a revision.
func oneTable(from sqlparser.TableExprs) bool {
	if len(from) != 1 {
		return false
	}
	t, ok := from[0].(*sqlparser.AliasedTableExpr)
	if !ok || t.AsOf != nil {
		return false
	}
	_, ok = t.Expr.(sqlparser.TableName)
	return ok
}

// whereShape: ANDs and ORs of `column = ?`, `? = column` and
// `column BETWEEN ? AND ?`.
func whereShape(e sqlparser.Expr) bool {
	switch e := e.(type) {
	case *sqlparser.AndExpr:
		return whereShape(e.Left) && whereShape(e.Right)
	case *sqlparser.OrExpr:
		return whereShape(e.Left) && whereShape(e.Right)
	case *sqlparser.ParenExpr:
		return whereShape(e.Expr)
	case *sqlparser.ComparisonExpr:
		if e.Operator != sqlparser.EqualStr || e.Escape != nil {
			return false
		}
		return isColName(e.Left) && isParam(e.Right) || isParam(e.Left) && isColName(e.Right)
	case *sqlparser.RangeCond:
		return e.Operator == sqlparser.BetweenStr && isColName(e.Left) && isParam(e.From) && isParam(e.To)
	}
	return false
}

func isColName(e sqlparser.Expr) bool {
	_, ok := e.(*sqlparser.ColName)
	return ok
}

func isParam(e sqlparser.Expr) bool {
	v, ok := e.(*sqlparser.SQLVal)
	return ok && v.Type == sqlparser.ValArg
}

func hasParam(nodes ...sqlparser.SQLNode) bool {
	found := false
	_ = sqlparser.Walk(func(n sqlparser.SQLNode) (bool, error) {
		if v, ok := n.(*sqlparser.SQLVal); ok && v.Type == sqlparser.ValArg {
			found = true
			return false, nil
		}
		return !found, nil
	}, nodes...)
	return found
}

// NewPlanTemplate makes a template of root, the analyzed plan of a statement
// TemplateStatement accepted, executed with bindings; nil if the plan or
// the bindings are not of the shape it handles.
func (e *Engine) NewPlanTemplate(ctx *sql.Context, root sql.Node, bindings map[string]*querypb.BindVariable) *PlanTemplate {
	tp := &PlanTemplate{root: root, grants: e.SQL.Analyzer.Catalog.MySQLDb}
	shapeOK := true
	// A write's plan is one table's: the shape check below leaves it no
	// other node (its single-relation flags do not survive the analyzer).
	switch n := root.(type) {
	case *plan.Update:
		if _, ok := n.Child.(*plan.UpdateSource); !ok || n.IsJoin || len(n.Returning) > 0 {
			return nil
		}
		tp.write = sql.PrivilegeType_Update
	case *plan.DeleteFrom:
		if n.HasExplicitTargets() {
			return nil
		}
		tp.write = sql.PrivilegeType_Delete
	case *plan.InsertInto:
		if !e.newInsertTemplate(ctx, tp, n, bindings) {
			return nil
		}
		return tp.finish(ctx)
	case *plan.StartTransaction, *plan.Commit:
		// No table, no bindings: the plan is the same every time.
		if len(bindings) > 0 {
			return nil
		}
		return tp.forSession(ctx)
	}
	transform.Inspect(root, func(n sql.Node) bool {
		switch n := n.(type) {
		case nil: // Inspect's call after a node's children
		case *plan.Update, *plan.DeleteFrom:
			shapeOK = n == root
		case *plan.UpdateSource:
			shapeOK = tp.write == sql.PrivilegeType_Update
			tp.us = n
		case *plan.Project, *plan.GroupBy, *plan.Sort, *plan.Distinct, *plan.Limit, *plan.TopN:
			shapeOK = tp.write == 0
		case *plan.IndexedTableAccess:
			if tp.ita != nil {
				shapeOK = false
			}
			tp.ita = n
		default:
			shapeOK = false
		}
		return shapeOK
	})
	if !shapeOK || tp.ita == nil || !tp.ita.IsStatic() {
		return nil
	}
	rt, ok := tp.ita.TableNode.(*plan.ResolvedTable)
	if !ok {
		return nil
	}
	switch t := rt.UnderlyingTable().(type) {
	case *IndexedTable:
		tp.table = t.Table
	case *Table:
		tp.table = t
	default:
		return nil
	}
	tp.lookup = plan.GetIndexLookup(tp.ita)
	ranges, ok := tp.lookup.Ranges.(sql.MySQLRangeCollection)
	if !ok || len(ranges) == 0 || tp.lookup.IsEmptyRange || tp.lookup.IsSpatialLookup ||
		tp.lookup.VectorOrderAndLimit.OrderBy != nil {
		return nil
	}
	tp.ranges = ranges
	tp.multi = len(ranges) > 1

	for name := range bindings {
		tp.names = append(tp.names, name)
	}
	sort.Strings(tp.names)
	for _, name := range tp.names {
		b := bindings[name]
		if b == nil {
			return nil
		}
		tp.types = append(tp.types, b.Type)
	}
	if tp.us != nil && !tp.setSlots(ctx, bindings) {
		return nil
	}
	values, ok := tp.bindingValues(bindings)
	if !ok {
		return nil
	}

	used := make([]bool, len(values))
	for _, s := range tp.sets {
		used[s.binding] = true
	}
	for r, rng := range ranges {
		if tp.multi && len(rng) != 1 {
			return nil
		}
		for c, ce := range rng {
			if !types.IsInteger(ce.Typ) {
				return nil
			}
			lo, okLo := ce.LowerBound.(sql.Below)
			hi, okHi := ce.UpperBound.(sql.Above)
			if !okLo || !okHi {
				return nil
			}
			for _, bound := range []struct {
				key   any
				upper bool
			}{{lo.Key, false}, {hi.Key, true}} {
				match := -1
				for i, v := range values {
					if v == nil {
						continue // a SET's binding
					}
					cv, inRange, err := ce.Typ.Convert(ctx, v)
					if err != nil || inRange != sql.InRange || reflect.TypeOf(cv) != reflect.TypeOf(bound.key) || cv != bound.key {
						continue
					}
					if match >= 0 {
						return nil // two bindings of the same value: ambiguous
					}
					match = i
				}
				if match < 0 {
					return nil
				}
				used[match] = true
				tp.slots = append(tp.slots, rangeSlot{rng: r, col: c, upper: bound.upper, binding: match})
			}
		}
	}
	for _, u := range used {
		if !u {
			return nil
		}
	}

	return tp.finish(ctx)
}

// finish completes a template whose table and slots are set: it takes what
// Bind checks the template against, or returns nil if the table is one a
// template cannot serve.
func (tp *PlanTemplate) finish(ctx *sql.Context) *PlanTemplate {
	if tp.table.temp != nil || tp.table.db.rev != nil {
		return nil
	}
	td, ok, err := tp.table.db.schemaData(ctx, tp.table.name)
	if err != nil || !ok {
		return nil
	}
	if tp.write != 0 {
		if len(td.lay.sch.ForeignKeys) > 0 {
			return nil
		}
		if tp.triggers, ok = tp.noWriteHandlers(ctx); !ok {
			return nil
		}
	}
	tp.schEnc = bytes.Clone(td.lay.schEnc)
	return tp.forSession(ctx)
}

// forSession records the session's database and user, which Bind checks.
func (tp *PlanTemplate) forSession(ctx *sql.Context) *PlanTemplate {
	tp.db = strings.ToLower(ctx.GetCurrentDatabase())
	client := ctx.Session.Client()
	tp.user, tp.host = client.User, client.Address
	return tp
}

// setSlots finds the SETs of tp.us whose value is the literal of one of
// bindings, as the builder makes it (insertLiteral): each such binding must
// make exactly one SET's literal, and no other SET's. false if a binding
// makes two or a SET's literal is ambiguous.
func (tp *PlanTemplate) setSlots(ctx *sql.Context, bindings map[string]*querypb.BindVariable) bool {
	lits := make([]*expression.Literal, len(tp.names))
	for i, name := range tp.names {
		lits[i], _ = insertLiteral(ctx, bindings[name])
	}
	taken := make([]bool, len(tp.names))
	for x, e := range tp.us.UpdateExprs {
		sf, ok := e.(*expression.SetField)
		if !ok {
			return false
		}
		lit, ok := sf.RightChild.(*expression.Literal)
		if !ok {
			continue
		}
		match := -1
		for i, l := range lits {
			if l == nil || !l.Type().Equals(lit.Type()) || l.Value() != lit.Value() {
				continue
			}
			if match >= 0 || taken[i] {
				return false // ambiguous
			}
			match = i
		}
		if match >= 0 {
			taken[match] = true
			tp.sets = append(tp.sets, setSlot{expr: x, binding: match})
		}
	}
	return true
}

// setBinding reports whether binding i is a SET's.
func (tp *PlanTemplate) setBinding(i int) bool {
	for _, s := range tp.sets {
		if s.binding == i {
			return true
		}
	}
	return false
}

// maxWriteTemplateTables bounds the tables of a database whose UPDATE and
// DELETE statements are templated: every execution looks at each table for
// a foreign key naming the written one.
const maxWriteTemplateTables = 32

// noWriteHandlers reports whether a write to the template's table needs
// nothing its plan lacks: the database has no triggers and at most
// maxWriteTemplateTables tables, of which none has a foreign key naming the
// table. It returns the hash of the triggers collection (zero: none).
func (tp *PlanTemplate) noWriteHandlers(ctx *sql.Context) (chunk.Hash, bool) {
	_, d, err := tp.table.db.view(ctx)
	if err != nil {
		return chunk.Hash{}, false
	}
	root := d.root
	if len(root.TableNames()) > maxWriteTemplateTables {
		return chunk.Hash{}, false
	}
	h, _ := root.Collection(repo.CollectionTriggers)
	if !h.IsZero() {
		if defs, err := tp.table.db.GetTriggers(ctx); err != nil || len(defs) > 0 {
			return chunk.Hash{}, false
		}
	}
	refs, err := tp.table.GetReferencedForeignKeys(ctx)
	if err != nil || len(refs) > 0 {
		return chunk.Hash{}, false
	}
	return h, true
}

// bindingValues returns the Go values of bindings, in the order of
// tp.names; false if they are not the template's integers of its types.
func (tp *PlanTemplate) bindingValues(bindings map[string]*querypb.BindVariable) ([]any, bool) {
	if len(bindings) != len(tp.names) {
		return nil, false
	}
	values := make([]any, len(tp.names))
	for i, name := range tp.names {
		b := bindings[name]
		if b == nil || b.Type != tp.types[i] {
			return nil, false
		}
		if tp.setBinding(i) {
			continue // a SET's, of any type insertLiteral takes: nil here
		}
		v, ok := bindingValue(b)
		if !ok {
			return nil, false
		}
		values[i] = v
	}
	return values, true
}

// bindingValue is the Go value of an integer binding.
func bindingValue(b *querypb.BindVariable) (any, bool) {
	if b == nil {
		return nil, false
	}
	switch b.Type {
	case querypb.Type_INT8, querypb.Type_INT16, querypb.Type_INT24, querypb.Type_INT32, querypb.Type_INT64:
		v, err := strconv.ParseInt(string(b.Value), 10, 64)
		return v, err == nil
	case querypb.Type_UINT8, querypb.Type_UINT16, querypb.Type_UINT24, querypb.Type_UINT32, querypb.Type_UINT64:
		v, err := strconv.ParseUint(string(b.Value), 10, 64)
		return v, err == nil
	}
	return nil, false
}

// Bind returns the template's plan for bindings, or an error if the
// template does not apply to this execution (see IsStale).
func (tp *PlanTemplate) Bind(ctx *sql.Context, bindings map[string]*querypb.BindVariable) (sql.Node, error) {
	if strings.ToLower(ctx.GetCurrentDatabase()) != tp.db {
		return nil, errStale
	}
	if client := ctx.Session.Client(); client.User != tp.user || client.Address != tp.host {
		return nil, errStale
	}
	if tp.table == nil {
		// BEGIN or COMMIT.
		if len(bindings) > 0 {
			return nil, errDecline
		}
		return tp.root, nil
	}
	var values []any
	if tp.insert == nil {
		var ok bool
		if values, ok = tp.bindingValues(bindings); !ok {
			return nil, errDecline
		}
	} else if len(bindings) != len(tp.names) {
		return nil, errDecline
	}
	td, ok, err := tp.table.db.schemaData(ctx, tp.table.name)
	if err != nil || !ok || !bytes.Equal(td.lay.schEnc, tp.schEnc) {
		return nil, errStale
	}
	if db := tp.grants; db != nil && db.Enabled() {
		// An INSERT reads nothing: it needs no SELECT.
		subject := sql.PrivilegeCheckSubject{Database: tp.table.db.Name(), Table: tp.table.name}
		if tp.insert == nil && !db.UserHasPrivileges(ctx, sql.NewPrivilegedOperation(subject, sql.PrivilegeType_Select)) ||
			tp.write != 0 && !db.UserHasPrivileges(ctx, sql.NewPrivilegedOperation(subject, tp.write)) {
			return nil, errStale
		}
	}
	if tp.write != 0 {
		if t := ctx.GetTransaction(); t != nil && t.IsReadOnly() {
			return nil, errDecline // the analyzer refuses it
		}
		if h, ok := tp.noWriteHandlers(ctx); !ok || h != tp.triggers {
			return nil, errStale
		}
	}
	if tp.insert != nil {
		return tp.bindInsert(ctx, bindings)
	}

	ranges := make(sql.MySQLRangeCollection, len(tp.ranges))
	for r, rng := range tp.ranges {
		ranges[r] = append(sql.MySQLRange(nil), rng...)
	}
	for _, s := range tp.slots {
		ce := &ranges[s.rng][s.col]
		orig := sql.GetMySQLRangeCutKey(tp.ranges[s.rng][s.col].LowerBound)
		if s.upper {
			orig = sql.GetMySQLRangeCutKey(tp.ranges[s.rng][s.col].UpperBound)
		}
		v, inRange, err := ce.Typ.Convert(ctx, values[s.binding])
		if err != nil || inRange != sql.InRange || reflect.TypeOf(v) != reflect.TypeOf(orig) {
			return nil, errDecline
		}
		if s.upper {
			ce.UpperBound = sql.Above{Key: v}
		} else {
			ce.LowerBound = sql.Below{Key: v}
		}
	}
	for _, rng := range ranges {
		for _, ce := range rng {
			c, err := compareKeys(ctx, ce.Typ, ce.LowerBound, ce.UpperBound)
			if err != nil || c > 0 {
				return nil, errDecline // an empty range: the analyzer plans it otherwise
			}
		}
	}
	if tp.multi {
		if ranges, ok = mergeRanges(ctx, ranges); !ok {
			return nil, errDecline
		}
	}

	lookup := tp.lookup
	lookup.Ranges = ranges
	ita, err := plan.NewStaticIndexedAccessForTableNode(ctx, tp.ita.TableNode, lookup)
	if err != nil {
		return nil, errDecline
	}
	var sets []sql.Expression
	if len(tp.sets) > 0 {
		sets = slices.Clone(tp.us.UpdateExprs)
		for _, s := range tp.sets {
			lit, ok := insertLiteral(ctx, bindings[tp.names[s.binding]])
			if !ok {
				return nil, errDecline
			}
			sf := sets[s.expr].(*expression.SetField)
			if sets[s.expr], err = sf.WithChildren(sf.LeftChild, lit); err != nil {
				return nil, errDecline
			}
		}
	}
	root, _, err := transform.Node(tp.root, func(n sql.Node) (sql.Node, transform.TreeIdentity, error) {
		switch n := n.(type) {
		case *plan.IndexedTableAccess:
			if n == tp.ita {
				return ita, transform.NewTree, nil
			}
		case *plan.UpdateSource:
			if sets != nil {
				us, err := n.WithExpressions(sets...)
				return us, transform.NewTree, err
			}
		}
		return n, transform.SameTree, nil
	})
	if err != nil {
		return nil, errDecline
	}
	return root, nil
}

// mergeRanges sorts ranges of one column each, closed at both ends, by their
// lower bounds and joins those that overlap, as the analyzer does: a row in
// two ranges must be read once. ok is false if keys could not be compared.
func mergeRanges(ctx *sql.Context, ranges sql.MySQLRangeCollection) (_ sql.MySQLRangeCollection, ok bool) {
	var cmpErr error
	cmp := func(a, b sql.MySQLRangeCut) int {
		c, err := compareKeys(ctx, ranges[0][0].Typ, a, b)
		if err != nil {
			cmpErr = err
		}
		return c
	}
	sort.SliceStable(ranges, func(i, j int) bool { return cmp(ranges[i][0].LowerBound, ranges[j][0].LowerBound) < 0 })
	merged := ranges[:1]
	for _, r := range ranges[1:] {
		last := merged[len(merged)-1]
		if cmp(last[0].UpperBound, r[0].LowerBound) < 0 {
			merged = append(merged, r)
			continue
		}
		if cmp(last[0].UpperBound, r[0].UpperBound) < 0 {
			last[0].UpperBound = r[0].UpperBound
		}
	}
	return merged, cmpErr == nil
}

// compareKeys compares the keys of two range cuts of a column of type typ.
func compareKeys(ctx *sql.Context, typ sql.Type, a, b sql.MySQLRangeCut) (int, error) {
	return typ.Compare(ctx, sql.GetMySQLRangeCutKey(a), sql.GetMySQLRangeCutKey(b))
}
