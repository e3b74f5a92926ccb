package sqle

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/expression/function/aggregation"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
	"github.com/shopspring/decimal"
)

// Rules that make results what MySQL 8 gives, where go-mysql-server
// v0.20.0 differs, added to the analyzer after its own (see NewEngine and
// docs/sql.md "Results as MySQL gives them").
const (
	ruleExactAggregates analyzer.RuleId = 1000 + iota
	ruleShowCreateTable
	ruleViewsAreNotDDL
	ruleGlobalSetNeedsSuper
	ruleCreateTableComment
	ruleColumnsInfo
)

func addCompatRules(b *analyzer.Builder) *analyzer.Builder {
	return b.
		AddPostAnalyzeRule(ruleExactAggregates, exactAggregates).
		AddPostAnalyzeRule(ruleShowCreateTable, showCreateTable).
		AddPostAnalyzeRule(ruleViewsAreNotDDL, viewsAreNotDDL).
		AddPostAnalyzeRule(ruleGlobalSetNeedsSuper, globalSetNeedsSuper).
		AddPostAnalyzeRule(ruleCreateTableComment, createTableComment).
		AddPostAnalyzeRule(ruleColumnsInfo, columnsInfo)
}

// errNeedSuperForGlobal is MySQL's refusal of SET GLOBAL to a user without
// the privilege (ER_SPECIFIC_ACCESS_DENIED_ERROR).
var errNeedSuperForGlobal = mysql.NewSQLError(mysql.ERSpecifiedAccessDenied, mysql.SSClientError,
	"Access denied; you need (at least one of) the SUPER or SYSTEM_VARIABLES_ADMIN privilege(s) for this operation")

// globalSetNeedsSuper refuses SET GLOBAL / SET PERSIST from a user without
// SUPER. The engine checks no privilege for it, and new sessions start from
// the global values: any user could, say, turn autocommit off for every
// later session.
func globalSetNeedsSuper(ctx *sql.Context, a *analyzer.Analyzer, n sql.Node, scope *plan.Scope, sel analyzer.RuleSelector, qFlags *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
	set, ok := n.(*plan.Set)
	if !ok || a.Catalog.MySQLDb == nil || !a.Catalog.MySQLDb.Enabled() {
		return n, transform.SameTree, nil
	}
	global := false
	for _, e := range set.Exprs {
		sf, ok := e.(*expression.SetField)
		if !ok {
			continue
		}
		if v, ok := sf.LeftChild.(*expression.SystemVar); ok {
			if ms, ok := v.Scope.(*sql.MysqlScope); ok {
				switch ms.Type {
				case sql.SystemVariableScope_Global, sql.SystemVariableScope_Persist,
					sql.SystemVariableScope_PersistOnly, sql.SystemVariableScope_ResetPersist:
					global = true
				}
			}
		}
	}
	if global && !a.Catalog.MySQLDb.UserActivePrivilegeSet(ctx).Has(sql.PrivilegeType_Super) {
		return nil, transform.SameTree, errNeedSuperForGlobal
	}
	return n, transform.SameTree, nil
}

// viewsAreNotDDL clears the DDL flag of a statement that is not DDL. The
// engine binds a view's stored CREATE VIEW statement to resolve it, which
// flags the statement reading the view as DDL, and DDL commits implicitly:
// a SELECT from a view inside START TRANSACTION … ROLLBACK committed the
// transaction, and mariadb-dump --single-transaction lost its savepoint.
func viewsAreNotDDL(ctx *sql.Context, a *analyzer.Analyzer, n sql.Node, scope *plan.Scope, sel analyzer.RuleSelector, qFlags *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
	if qFlags == nil || !qFlags.IsSet(sql.QFlagDDL) || scope != nil && !scope.IsEmpty() {
		return n, transform.SameTree, nil
	}
	root := n // post-analyzer rules run before the process wrappers
	if plan.IsDDLNode(root) {
		return n, transform.SameTree, nil
	}
	name := strings.TrimPrefix(fmt.Sprintf("%T", root), "*plan.")
	for _, p := range []string{"Alter", "Create", "Drop", "Rename", "Truncate"} {
		if strings.HasPrefix(name, p) {
			return n, transform.SameTree, nil
		}
	}
	qFlags.Unset(sql.QFlagDDL)
	return n, transform.SameTree, nil
}

// exactAggregates replaces SUM and AVG of exact numbers (integers,
// DECIMAL, BIT, YEAR) by exactAgg, which sums in decimal and has MySQL's
// result type: DECIMAL(p+22, s) for SUM, DECIMAL(p+4, s+4) for AVG. The
// engine computes them in float64 and types every SUM and AVG DOUBLE, so
// SUM of an INT column prints 1.3509e+06 and SUM of a DECIMAL(12,2) column
// 1010.5 where MySQL prints 1350900 and 1010.50. The columns that carry
// those results up the plan (GetFields with the aggregate's id) get the
// new type too.
func exactAggregates(ctx *sql.Context, a *analyzer.Analyzer, n sql.Node, scope *plan.Scope, sel analyzer.RuleSelector, qFlags *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
	return exactAggregatesIn(n)
}

func exactAggregatesIn(n sql.Node) (sql.Node, transform.TreeIdentity, error) {
	retyped := map[sql.ColumnId]sql.Type{}
	n, same1, err := transform.NodeWithOpaque(n, func(n sql.Node) (sql.Node, transform.TreeIdentity, error) {
		gb, ok := n.(*plan.GroupBy)
		if !ok {
			return n, transform.SameTree, nil
		}
		changed := false
		exprs := make([]sql.Expression, len(gb.SelectedExprs))
		for i, e := range gb.SelectedExprs {
			exprs[i] = e
			if x := newExactAgg(e); x != nil {
				exprs[i] = x
				retyped[x.Id()] = x.typ
				changed = true
			} else if x := newDoubleAgg(e); x != nil {
				exprs[i] = x
				retyped[x.Id()] = types.Float64
				changed = true
			}
		}
		if !changed {
			return n, transform.SameTree, nil
		}
		ngb := *gb
		ngb.SelectedExprs = exprs
		return &ngb, transform.NewTree, nil
	})
	if err != nil {
		return nil, transform.SameTree, err
	}
	// Subqueries in expressions are plans of their own.
	n, same2, err := transform.NodeExprsWithOpaque(n, func(e sql.Expression) (sql.Expression, transform.TreeIdentity, error) {
		switch e := e.(type) {
		case *plan.Subquery:
			q, same, err := exactAggregatesIn(e.Query)
			if err != nil || same {
				return e, transform.SameTree, err
			}
			return e.WithQuery(q), transform.NewTree, nil
		case *expression.GetField:
			t, ok := retyped[e.Id()]
			if !ok || e.Type().Equals(t) {
				return e, transform.SameTree, nil
			}
			gf := expression.NewGetFieldWithTable(e.Index(), int(e.TableId()), t, e.Database(), e.Table(), e.Name(), true).
				WithQuotedNames(sql.GlobalSchemaFormatter, e.IsQuotedIdentifier())
			return gf.WithId(e.Id()).(sql.Expression), transform.NewTree, nil
		}
		return e, transform.SameTree, nil
	})
	if err != nil {
		return nil, transform.SameTree, err
	}
	return n, same1 && same2, nil
}

// doubleAgg is a STD, STDDEV_SAMP, VARIANCE or VAR_SAMP: the engine types
// them as their argument, so over an INT column a variance above 2^31 came
// out as 2147483647; MySQL types them DOUBLE, which is what the engine
// computes.
type doubleAgg struct{ sql.Aggregation }

func newDoubleAgg(e sql.Expression) *doubleAgg {
	var w *sql.WindowDefinition
	switch e := e.(type) {
	case *aggregation.StdDevPop:
		w = e.Window()
	case *aggregation.StdDevSamp:
		w = e.Window()
	case *aggregation.VarPop:
		w = e.Window()
	case *aggregation.VarSamp:
		w = e.Window()
	default:
		return nil
	}
	if w != nil {
		return nil
	}
	return &doubleAgg{e.(sql.Aggregation)}
}

func (a *doubleAgg) Type() sql.Type   { return types.Float64 }
func (a *doubleAgg) IsNullable() bool { return true }

func (a *doubleAgg) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	inner, err := a.Aggregation.WithChildren(children...)
	if err != nil {
		return nil, err
	}
	return &doubleAgg{inner.(sql.Aggregation)}, nil
}

func (a *doubleAgg) WithId(id sql.ColumnId) sql.IdExpression {
	return &doubleAgg{a.Aggregation.WithId(id).(sql.Aggregation)}
}

// exactAgg is a SUM or AVG computed exactly, with MySQL's DECIMAL type.
type exactAgg struct {
	sql.Aggregation // the engine's *aggregation.Sum or *aggregation.Avg
	avg             bool
	typ             sql.DecimalType
}

// newExactAgg returns e as an exactAgg if it is a SUM or AVG (not a window
// function) of an exact number, else nil.
func newExactAgg(e sql.Expression) *exactAgg {
	var avg bool
	var child sql.Expression
	switch e := e.(type) {
	case *aggregation.Sum:
		if e.Window() != nil {
			return nil
		}
		child = e.Child
	case *aggregation.Avg:
		if e.Window() != nil {
			return nil
		}
		child, avg = e.Child, true
	default:
		return nil
	}
	prec, scale, ok := exactPrecision(child.Type())
	if !ok {
		return nil
	}
	if avg {
		prec, scale = prec+4, scale+4
	} else {
		prec += 22
	}
	prec = min(prec, types.DecimalTypeMaxPrecision)
	scale = min(scale, types.DecimalTypeMaxScale, prec)
	t, err := types.CreateDecimalType(uint8(prec), uint8(scale))
	if err != nil {
		return nil
	}
	return &exactAgg{Aggregation: e.(sql.Aggregation), avg: avg, typ: t}
}

// exactPrecision returns the decimal precision and scale of an exact
// numeric type, as MySQL counts them for SUM and AVG.
func exactPrecision(t sql.Type) (prec, scale int, ok bool) {
	switch {
	case types.IsDecimal(t):
		d := t.(sql.DecimalType)
		return int(d.Precision()), int(d.Scale()), true
	case types.IsBit(t):
		return 20, 0, true
	case types.IsYear(t):
		return 4, 0, true
	case types.IsInteger(t):
		switch t.Type() {
		case querypb.Type_INT8, querypb.Type_UINT8:
			return 3, 0, true
		case querypb.Type_INT16, querypb.Type_UINT16:
			return 5, 0, true
		case querypb.Type_INT24, querypb.Type_UINT24:
			return 8, 0, true
		case querypb.Type_INT32, querypb.Type_UINT32:
			return 10, 0, true
		case querypb.Type_UINT64:
			return 20, 0, true
		default:
			return 19, 0, true
		}
	}
	return 0, 0, false
}

func (a *exactAgg) Type() sql.Type { return a.typ }

// IsNullable is true: over no rows (or only NULLs) the result is NULL.
func (a *exactAgg) IsNullable() bool { return true }

func (a *exactAgg) child() sql.Expression { return a.Aggregation.Children()[0] }

func (a *exactAgg) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	inner, err := a.Aggregation.WithChildren(children...)
	if err != nil {
		return nil, err
	}
	return &exactAgg{Aggregation: inner.(sql.Aggregation), avg: a.avg, typ: a.typ}, nil
}

func (a *exactAgg) WithId(id sql.ColumnId) sql.IdExpression {
	return &exactAgg{Aggregation: a.Aggregation.WithId(id).(sql.Aggregation), avg: a.avg, typ: a.typ}
}

func (a *exactAgg) NewBuffer() (sql.AggregationBuffer, error) {
	child, err := transform.Clone(a.child())
	if err != nil {
		return nil, err
	}
	return &exactBuffer{expr: child, avg: a.avg, scale: int32(a.typ.Scale())}, nil
}

// exactBuffer sums exactly. Integers add as int64 until that would
// overflow, then in decimal.
type exactBuffer struct {
	expr  sql.Expression
	avg   bool
	scale int32
	rows  int64
	small int64 // the sum of integers while it fits
	sum   decimal.Decimal
}

func (b *exactBuffer) Update(ctx *sql.Context, row sql.Row) error {
	v, err := b.expr.Eval(ctx, row)
	if err != nil || v == nil {
		return err
	}
	b.rows++
	switch v := v.(type) {
	case int8:
		return b.addInt(int64(v))
	case int16:
		return b.addInt(int64(v))
	case int32:
		return b.addInt(int64(v))
	case int64:
		return b.addInt(v)
	case int:
		return b.addInt(int64(v))
	case uint8:
		return b.addInt(int64(v))
	case uint16:
		return b.addInt(int64(v))
	case uint32:
		return b.addInt(int64(v))
	case uint64:
		b.sum = b.sum.Add(decimal.NewFromBigInt(new(big.Int).SetUint64(v), 0))
	case decimal.Decimal:
		b.sum = b.sum.Add(v)
	case decimal.NullDecimal:
		if v.Valid {
			b.sum = b.sum.Add(v.Decimal)
		} else {
			b.rows--
		}
	default:
		// A string form of a DECIMAL literal, or anything else the
		// child's exact type converts.
		d, _, err := types.InternalDecimalType.Convert(ctx, v)
		if err != nil {
			return fmt.Errorf("%s: %w", b.expr, err)
		}
		b.sum = b.sum.Add(d.(decimal.Decimal))
	}
	return nil
}

func (b *exactBuffer) addInt(v int64) error {
	s := b.small + v
	// Overflow when both have the sign the result lacks.
	if (b.small >= 0) == (v >= 0) && (s >= 0) != (v >= 0) {
		b.sum = b.sum.Add(decimal.NewFromInt(b.small)).Add(decimal.NewFromInt(v))
		b.small = 0
		return nil
	}
	b.small = s
	return nil
}

func (b *exactBuffer) Eval(ctx *sql.Context) (any, error) {
	if b.rows == 0 {
		return nil, nil
	}
	sum := b.sum.Add(decimal.NewFromInt(b.small))
	if b.avg {
		return sum.DivRound(decimal.NewFromInt(b.rows), b.scale), nil
	}
	return sum.Round(b.scale), nil
}

func (b *exactBuffer) Dispose() { expression.Dispose(b.expr) }

// showCreateDefaults makes the engine's SHOW CREATE TABLE print literal
// defaults of ENUM, SET and DECIMAL columns as MySQL does ('new', 'a,b',
// '0.00'): the engine prints the stored form, an ENUM's index ('1'), a
// SET's bits ('3'), a DECIMAL without its scale ('0'), which a dump then
// loads as something else or not at all. Cairn tables have their own text
// (showCreateTable); this is for the others.
func showCreateDefaults(ctx *sql.Context, a *analyzer.Analyzer, n sql.Node, scope *plan.Scope, sel analyzer.RuleSelector, qFlags *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
	sc, ok := n.(*plan.ShowCreateTable)
	if !ok || sc.IsView {
		return n, transform.SameTree, nil
	}
	sch := sc.TargetSchema()
	var out sql.Schema
	for i, col := range sch {
		d := col.Default
		if d == nil || !d.IsLiteral() || !(types.IsEnum(col.Type) || types.IsSet(col.Type) || types.IsDecimal(col.Type)) {
			continue
		}
		v, err := d.Eval(ctx, nil)
		if err != nil || v == nil {
			continue
		}
		text, err := col.Type.SQL(ctx, nil, v)
		if err != nil {
			continue
		}
		lit, err := sql.NewColumnDefaultValue(expression.NewLiteral(text.ToString(), types.LongText), types.LongText, true, false, col.Nullable)
		if err != nil {
			return nil, transform.SameTree, err
		}
		if out == nil {
			out = sch.Copy()
		}
		c := *out[i]
		c.Default = lit
		out[i] = &c
	}
	if out == nil {
		return n, transform.SameTree, nil
	}
	nn, err := sc.WithTargetSchema(out)
	if err != nil {
		return nil, transform.SameTree, err
	}
	return nn, transform.NewTree, nil
}
