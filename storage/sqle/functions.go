package sqle

import (
	"fmt"
	"strconv"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/shopspring/decimal"
)

// MySQL functions go-mysql-server v0.20.0 lacks, registered by NewEngine.
var functions = []sql.Function{
	sql.Function2{Name: "truncate", Fn: func(x, d sql.Expression) sql.Expression {
		return &truncateFunc{expression.BinaryExpressionStub{LeftChild: x, RightChild: d}}
	}},
	sql.Function1{Name: "oct", Fn: func(n sql.Expression) sql.Expression { return &octFunc{expression.UnaryExpression{Child: n}} }},
	sql.Function1{Name: "sec_to_time", Fn: func(n sql.Expression) sql.Expression {
		return &secToTimeFunc{expression.UnaryExpression{Child: n}}
	}},
}

// truncateFunc is TRUNCATE(X, D): X cut (not rounded) to D decimals, or
// to 10^-D when D is negative; exact for integers and DECIMAL.
type truncateFunc struct {
	expression.BinaryExpressionStub
}

func (f *truncateFunc) String() string {
	return fmt.Sprintf("truncate(%s, %s)", f.LeftChild, f.RightChild)
}

func (f *truncateFunc) Type() sql.Type {
	t := f.LeftChild.Type()
	switch {
	case types.IsFloat(t), types.IsInteger(t):
		return t
	case types.IsDecimal(t):
		// DECIMAL(p, s) cut to D decimals: DECIMAL(p, D) for a literal
		// D below s.
		if lit, ok := f.RightChild.(*expression.Literal); ok {
			if d, err := strconv.Atoi(fmt.Sprint(lit.Value())); err == nil {
				dt := t.(sql.DecimalType)
				if d >= 0 && d < int(dt.Scale()) {
					if nt, err := types.CreateDecimalType(dt.Precision()-dt.Scale()+uint8(d), uint8(d)); err == nil {
						return nt
					}
				}
			}
		}
		return t
	}
	return types.Float64
}

func (f *truncateFunc) IsNullable() bool { return true }

func (f *truncateFunc) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	x, err := f.LeftChild.Eval(ctx, row)
	if err != nil || x == nil {
		return nil, err
	}
	dv, err := f.RightChild.Eval(ctx, row)
	if err != nil || dv == nil {
		return nil, err
	}
	d64, _, err := types.Int64.Convert(ctx, dv)
	if err != nil {
		return nil, err
	}
	d := int32(max(min(d64.(int64), 30), -65))
	cut := func(v decimal.Decimal) decimal.Decimal {
		if d >= 0 {
			return v.Truncate(d)
		}
		return v.Shift(d).Truncate(0).Shift(-d)
	}
	t := f.Type()
	switch {
	case types.IsInteger(t):
		if d >= 0 {
			return x, nil
		}
		v, _, err := types.InternalDecimalType.Convert(ctx, x)
		if err != nil {
			return nil, err
		}
		out, _, err := t.Convert(ctx, cut(v.(decimal.Decimal)))
		return out, err
	case types.IsDecimal(t):
		v, _, err := types.InternalDecimalType.Convert(ctx, x)
		if err != nil {
			return nil, err
		}
		return cut(v.(decimal.Decimal)), nil
	default:
		v, _, err := types.Float64.Convert(ctx, x)
		if err != nil {
			return nil, err
		}
		out, _ := cut(decimal.NewFromFloat(v.(float64))).Float64()
		return out, nil
	}
}

func (f *truncateFunc) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	if len(children) != 2 {
		return nil, sql.ErrInvalidChildrenNumber.New(f, len(children), 2)
	}
	return &truncateFunc{expression.BinaryExpressionStub{LeftChild: children[0], RightChild: children[1]}}, nil
}

// octFunc is OCT(N): N in base 8, negative numbers as 64-bit unsigned.
type octFunc struct{ expression.UnaryExpression }

func (f *octFunc) String() string   { return fmt.Sprintf("oct(%s)", f.Child) }
func (f *octFunc) Type() sql.Type   { return types.LongText }
func (f *octFunc) IsNullable() bool { return true }

func (f *octFunc) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	v, err := f.Child.Eval(ctx, row)
	if err != nil || v == nil {
		return nil, err
	}
	if u, ok := v.(uint64); ok {
		return strconv.FormatUint(u, 8), nil
	}
	n, _, err := types.Int64.Convert(ctx, v)
	if err != nil {
		return nil, err
	}
	return strconv.FormatUint(uint64(n.(int64)), 8), nil
}

func (f *octFunc) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	if len(children) != 1 {
		return nil, sql.ErrInvalidChildrenNumber.New(f, len(children), 1)
	}
	return &octFunc{expression.UnaryExpression{Child: children[0]}}, nil
}

// secToTimeFunc is SEC_TO_TIME(S): S seconds as a TIME, clamped to
// ±838:59:59 as MySQL does.
type secToTimeFunc struct{ expression.UnaryExpression }

func (f *secToTimeFunc) String() string   { return fmt.Sprintf("sec_to_time(%s)", f.Child) }
func (f *secToTimeFunc) Type() sql.Type   { return types.Time }
func (f *secToTimeFunc) IsNullable() bool { return true }

func (f *secToTimeFunc) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	v, err := f.Child.Eval(ctx, row)
	if err != nil || v == nil {
		return nil, err
	}
	s, _, err := types.InternalDecimalType.Convert(ctx, v)
	if err != nil {
		return nil, err
	}
	const limit = (838*3600 + 59*60 + 59) * 1_000_000
	micros := s.(decimal.Decimal).Shift(6).Truncate(0).IntPart()
	micros = max(min(micros, limit), -limit)
	return types.Time.MicrosecondsToTimespan(micros), nil
}

func (f *secToTimeFunc) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	if len(children) != 1 {
		return nil, sql.ErrInvalidChildrenNumber.New(f, len(children), 1)
	}
	return &secToTimeFunc{expression.UnaryExpression{Child: children[0]}}, nil
}
