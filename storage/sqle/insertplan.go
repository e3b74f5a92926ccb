package sqle

import (
	"strconv"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/types"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
	"github.com/dolthub/vitess/go/vt/sqlparser"
)

// An INSERT template (docs/plan-cache.md, "Inserts") is a PlanTemplate of
// `INSERT INTO t [(columns)] VALUES (?, …)`: one row, every value a
// parameter. The analyzed plan holds the bindings as the literals of its one
// row (Values, under the Project that orders the row as the table's
// columns); Bind makes those literals from the new bindings as go-mysql-
// server's builder does, so the plan is the one binding and analyzing would
// have made. What the analyzer decides from the values themselves is made
// again or checked: which row sets LAST_INSERT_ID (the auto-increment
// column given 0), under the sql_mode the template was made in.

// insertSlots is what an INSERT template puts its bindings into.
type insertSlots struct {
	node    *plan.InsertInto
	project *plan.Project // the source, over values; nil if values is the source
	values  *plan.Values
	// autoInc is the row's position of the auto-increment column, -1 if the
	// statement does not give it.
	autoInc int
	sqlMode string
}

// ParamName is the name the parser gives the i-th parameter (from 0) of a
// statement: v1, v2, … in the order they appear.
func ParamName(i int) string { return "v" + strconv.Itoa(i+1) }

// insertStatement reports whether s is of the shape an INSERT template is
// made for: one row of parameters only, into a table, with no IGNORE,
// REPLACE, ON DUPLICATE KEY UPDATE, partitions or RETURNING.
func insertStatement(s *sqlparser.Insert) bool {
	if s.Action != sqlparser.InsertStr || s.Ignore != "" || s.With != nil || len(s.Partitions) > 0 ||
		len(s.Returning) > 0 || len(s.OnDup) > 0 {
		return false
	}
	rows, ok := s.Rows.(*sqlparser.AliasedValues)
	if !ok || !rows.As.IsEmpty() || len(rows.Columns) > 0 || len(rows.Values) != 1 || len(rows.Values[0]) == 0 {
		return false
	}
	for i, e := range rows.Values[0] {
		v, ok := e.(*sqlparser.SQLVal)
		if !ok || v.Type != sqlparser.ValArg || string(v.Val) != ":"+ParamName(i) {
			return false
		}
	}
	return true
}

// newInsertTemplate fills tp for an INSERT's analyzed plan n, or reports
// false if the plan is not of the shape Bind can remake.
func (e *Engine) newInsertTemplate(ctx *sql.Context, tp *PlanTemplate, n *plan.InsertInto, bindings map[string]*querypb.BindVariable) bool {
	if n.IsReplace || n.Ignore || len(n.OnDupExprs) > 0 || len(n.Returning) > 0 {
		return false
	}
	ins := &insertSlots{node: n, autoInc: -1, sqlMode: sql.LoadSqlMode(ctx).String()}
	switch src := n.Source.(type) {
	case *plan.Values:
		ins.values = src
	case *plan.Project:
		if ins.values, _ = src.Child.(*plan.Values); ins.values == nil {
			return false
		}
		ins.project = src
	default:
		return false
	}
	if len(ins.values.ExpressionTuples) != 1 || len(ins.values.ExpressionTuples[0]) != len(bindings) {
		return false
	}
	dest, ok := n.Destination.(*plan.InsertDestination)
	if !ok {
		return false
	}
	rt, ok := dest.Child.(*plan.ResolvedTable)
	if !ok {
		return false
	}
	table, ok := rt.UnderlyingTable().(*Table)
	if !ok {
		return false
	}
	tp.table, tp.write, tp.insert = table, sql.PrivilegeType_Insert, ins
	for i, lit := range ins.values.ExpressionTuples[0] {
		name := ParamName(i)
		b := bindings[name]
		want, ok := insertLiteral(ctx, b)
		got, isLit := lit.(*expression.Literal)
		if !ok || !isLit || !got.Type().Equals(want.Type()) || got.Value() != want.Value() {
			return false
		}
		tp.names = append(tp.names, name)
		tp.types = append(tp.types, b.Type)
	}
	// Of the values, the analyzer looks at the auto-increment column's
	// only (wrapRowSource): which row sets LAST_INSERT_ID, which Bind works
	// out again. (Defaults, generated columns and automatic UUIDs of
	// columns left out are expressions of the projection, evaluated per
	// row; a UUID the row gives is a literal, which it leaves alone.)
	for _, col := range table.Schema() {
		if col.AutoIncrement {
			for i, name := range n.ColumnNames {
				if strings.EqualFold(name, col.Name) {
					ins.autoInc = i
				}
			}
			if ins.autoInc >= 0 && ins.autoIncIdx(ctx, ins.values.ExpressionTuples[0]) != n.FirstGeneratedAutoIncRowIdx {
				return false
			}
		}
	}
	return true
}

// autoIncIdx is the index of the first row whose auto-increment value is
// generated, as the analyzer works it out: the row (there is one) if its
// value for the column is 0 and NO_AUTO_VALUE_ON_ZERO is off, else -1.
// (Bindings are never NULL here: Bind declines them.)
func (ins *insertSlots) autoIncIdx(ctx *sql.Context, row []sql.Expression) int {
	lit, ok := row[ins.autoInc].(*expression.Literal)
	if !ok || sql.LoadSqlMode(ctx).ModeEnabled(sql.NoAutoValueOnZero) {
		return -1
	}
	if c, err := lit.Type().Compare(ctx, lit.Value(), lit.Type().Zero()); err != nil || c != 0 {
		return -1
	}
	return 0
}

// bindInsert returns the INSERT template's plan for bindings: its row made
// of their literals.
func (tp *PlanTemplate) bindInsert(ctx *sql.Context, bindings map[string]*querypb.BindVariable) (sql.Node, error) {
	ins := tp.insert
	if sql.LoadSqlMode(ctx).String() != ins.sqlMode {
		return nil, errStale
	}
	row := make([]sql.Expression, len(tp.names))
	for i, name := range tp.names {
		b := bindings[name]
		if b == nil || b.Type != tp.types[i] {
			return nil, errDecline
		}
		lit, ok := insertLiteral(ctx, b)
		if !ok {
			return nil, errDecline
		}
		row[i] = lit
	}
	values := *ins.values
	values.ExpressionTuples = [][]sql.Expression{row}
	var src sql.Node = &values
	if ins.project != nil {
		var err error
		if src, err = ins.project.WithChildren(&values); err != nil {
			return nil, errDecline
		}
	}
	node := ins.node.WithSource(src)
	if ins.autoInc >= 0 {
		node = node.WithAutoIncrementIdx(ins.autoIncIdx(ctx, row))
	}
	return node, nil
}

// insertLiteral is the literal go-mysql-server's builder makes of binding b
// (sqlparser.ExprFromValue, then Builder.ConvertVal): an integer as the
// narrowest integer type that holds it, a string as LONGTEXT in the
// connection's collation. false for any other kind (NULL, floats, decimals,
// dates), which the template leaves to the normal way.
func insertLiteral(ctx *sql.Context, b *querypb.BindVariable) (*expression.Literal, bool) {
	if b == nil {
		return nil, false
	}
	switch b.Type {
	case querypb.Type_INT8, querypb.Type_INT16, querypb.Type_INT24, querypb.Type_INT32, querypb.Type_INT64,
		querypb.Type_UINT8, querypb.Type_UINT16, querypb.Type_UINT24, querypb.Type_UINT32, querypb.Type_UINT64:
		return intLiteral(string(b.Value))
	case querypb.Type_VARCHAR, querypb.Type_CHAR, querypb.Type_TEXT,
		querypb.Type_VARBINARY, querypb.Type_BINARY, querypb.Type_BLOB:
		return expression.NewLiteral(string(b.Value), types.CreateLongText(ctx.GetCollation())), true
	}
	return nil, false
}

// intLiteral is the literal of a decimal integer: of the first of TINYINT,
// TINYINT UNSIGNED, SMALLINT, … BIGINT UNSIGNED that holds it.
func intLiteral(s string) (*expression.Literal, bool) {
	if v, err := strconv.ParseInt(s, 10, 8); err == nil {
		return expression.NewLiteral(int8(v), types.Int8), true
	}
	if v, err := strconv.ParseUint(s, 10, 8); err == nil {
		return expression.NewLiteral(uint8(v), types.Uint8), true
	}
	if v, err := strconv.ParseInt(s, 10, 16); err == nil {
		return expression.NewLiteral(int16(v), types.Int16), true
	}
	if v, err := strconv.ParseUint(s, 10, 16); err == nil {
		return expression.NewLiteral(uint16(v), types.Uint16), true
	}
	if v, err := strconv.ParseInt(s, 10, 32); err == nil {
		return expression.NewLiteral(int32(v), types.Int32), true
	}
	if v, err := strconv.ParseUint(s, 10, 32); err == nil {
		return expression.NewLiteral(uint32(v), types.Uint32), true
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return expression.NewLiteral(v, types.Int64), true
	}
	if v, err := strconv.ParseUint(s, 10, 64); err == nil {
		return expression.NewLiteral(v, types.Uint64), true
	}
	return nil, false // a DECIMAL literal: left to the normal way
}
