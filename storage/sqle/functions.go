package sqle

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/expression/function"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/shopspring/decimal"
)

// installFunctions puts our functions into go-mysql-server's built-in list,
// which every new engine copies, replacing those of the same name. (The
// catalog refuses to register a name twice.)
func installFunctions() {
	installOnce.Do(func() { function.BuiltIns = withFunctions(function.BuiltIns, append(functions, vcFunctions...)) })
}

var installOnce sync.Once

func withFunctions(builtIns, ours []sql.Function) []sql.Function {
	byName := map[string]bool{}
	for _, f := range ours {
		byName[f.FunctionName()] = true
	}
	out := make([]sql.Function, 0, len(builtIns)+len(ours))
	for _, f := range builtIns {
		if !byName[f.FunctionName()] {
			out = append(out, f)
		}
	}
	return append(out, ours...)
}

// Functions MySQL has that go-mysql-server v0.20.0 lacks or gets wrong.
var functions = []sql.Function{
	sql.Function2{Name: "truncate", Fn: func(x, d sql.Expression) sql.Expression {
		return &truncateFunc{expression.BinaryExpressionStub{LeftChild: x, RightChild: d}}
	}},
	sql.Function1{Name: "oct", Fn: func(n sql.Expression) sql.Expression { return &octFunc{expression.UnaryExpression{Child: n}} }},
	sql.FunctionN{Name: "greatest", Fn: newGreatest},
	sql.FunctionN{Name: "round", Fn: newRound},
	sql.Function1{Name: "time_to_sec", Fn: func(t sql.Expression) sql.Expression {
		return &timeToSecFunc{expression.UnaryExpression{Child: t}}
	}},
	sql.FunctionN{Name: "least", Fn: newLeast},
	sql.Function2{Name: "makedate", Fn: func(y, d sql.Expression) sql.Expression {
		return &makeDateFunc{expression.BinaryExpressionStub{LeftChild: y, RightChild: d}}
	}},
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

// newGreatest and newLeast are go-mysql-server's GREATEST and LEAST,
// except over numbers of which one is a DECIMAL, which it refuses: those
// compare as DECIMAL (as DOUBLE if one is a float), as MySQL does.
func newGreatest(args ...sql.Expression) (sql.Expression, error) {
	if numericWithDecimal(args) {
		return &extremumFunc{args: args, greatest: true}, nil
	}
	return function.NewGreatest(args...)
}

func newLeast(args ...sql.Expression) (sql.Expression, error) {
	if numericWithDecimal(args) {
		return &extremumFunc{args: args}, nil
	}
	return function.NewLeast(args...)
}

func numericWithDecimal(args []sql.Expression) bool {
	dec := false
	for _, a := range args {
		if !a.Resolved() {
			return false
		}
		t := a.Type()
		switch {
		case types.IsDecimal(t):
			dec = true
		case types.IsNumber(t) || t == types.Null:
		default:
			return false
		}
	}
	return dec
}

// extremumFunc is GREATEST or LEAST over numbers, one a DECIMAL.
type extremumFunc struct {
	args     []sql.Expression
	greatest bool
}

func (f *extremumFunc) name() string {
	if f.greatest {
		return "greatest"
	}
	return "least"
}

func (f *extremumFunc) String() string {
	s := make([]string, len(f.args))
	for i, a := range f.args {
		s[i] = a.String()
	}
	return fmt.Sprintf("%s(%s)", f.name(), strings.Join(s, ", "))
}

func (f *extremumFunc) Children() []sql.Expression { return f.args }
func (f *extremumFunc) IsNullable() bool           { return true }

func (f *extremumFunc) Resolved() bool {
	for _, a := range f.args {
		if !a.Resolved() {
			return false
		}
	}
	return true
}

// Type is DOUBLE if an argument is a float, else the DECIMAL that holds
// every argument.
func (f *extremumFunc) Type() sql.Type {
	intDigits, scale := 0, 0
	for _, a := range f.args {
		t := a.Type()
		if types.IsFloat(t) {
			return types.Float64
		}
		p, s, ok := exactPrecision(t)
		if !ok {
			continue
		}
		intDigits, scale = max(intDigits, p-s), max(scale, s)
	}
	dt, err := types.CreateDecimalType(uint8(min(intDigits+scale, types.DecimalTypeMaxPrecision)), uint8(min(scale, types.DecimalTypeMaxScale)))
	if err != nil {
		return types.InternalDecimalType
	}
	return dt
}

func (f *extremumFunc) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	float := types.IsFloat(f.Type())
	var best decimal.Decimal
	var bestF float64
	for i, a := range f.args {
		v, err := a.Eval(ctx, row)
		if err != nil || v == nil {
			return nil, err
		}
		if float {
			x, _, err := types.Float64.Convert(ctx, v)
			if err != nil {
				return nil, err
			}
			if fv := x.(float64); i == 0 || (fv > bestF) == f.greatest && fv != bestF {
				bestF = fv
			}
			continue
		}
		x, _, err := types.InternalDecimalType.Convert(ctx, v)
		if err != nil {
			return nil, err
		}
		if d := x.(decimal.Decimal); i == 0 || (d.Cmp(best) > 0) == f.greatest && d.Cmp(best) != 0 {
			best = d
		}
	}
	if float {
		return bestF, nil
	}
	return best, nil
}

func (f *extremumFunc) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	if len(children) != len(f.args) {
		return nil, sql.ErrInvalidChildrenNumber.New(f, len(children), len(f.args))
	}
	return &extremumFunc{args: children, greatest: f.greatest}, nil
}

// makeDateFunc is MAKEDATE(year, dayofyear): the date of that day of that
// year (years 0-69 are 2000-2069, 70-99 are 1970-1999); NULL for a day
// below 1.
type makeDateFunc struct {
	expression.BinaryExpressionStub
}

func (f *makeDateFunc) String() string {
	return fmt.Sprintf("makedate(%s, %s)", f.LeftChild, f.RightChild)
}
func (f *makeDateFunc) Type() sql.Type   { return types.Date }
func (f *makeDateFunc) IsNullable() bool { return true }

func (f *makeDateFunc) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	var n [2]int64
	for i, e := range []sql.Expression{f.LeftChild, f.RightChild} {
		v, err := e.Eval(ctx, row)
		if err != nil || v == nil {
			return nil, err
		}
		x, _, err := types.Int64.Convert(ctx, v)
		if err != nil {
			return nil, err
		}
		n[i] = x.(int64)
	}
	year, day := n[0], n[1]
	if day < 1 || year < 0 || year > 9999 {
		return nil, nil
	}
	switch {
	case year < 70:
		year += 2000
	case year < 100:
		year += 1900
	}
	d := time.Date(int(year), time.January, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(day-1))
	if d.Year() > 9999 {
		return nil, nil
	}
	return d, nil
}

func (f *makeDateFunc) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	if len(children) != 2 {
		return nil, sql.ErrInvalidChildrenNumber.New(f, len(children), 2)
	}
	return &makeDateFunc{expression.BinaryExpressionStub{LeftChild: children[0], RightChild: children[1]}}, nil
}

// newRound is go-mysql-server's ROUND with MySQL's type: ROUND of a
// DECIMAL to a literal D decimals has scale D (ROUND(1000.25, 1) is 1000.3,
// not 1000.30).
func newRound(args ...sql.Expression) (sql.Expression, error) {
	r, err := function.NewRound(args...)
	if err != nil {
		return nil, err
	}
	return &roundFunc{r}, nil
}

type roundFunc struct{ sql.Expression }

func (f *roundFunc) Type() sql.Type {
	t := f.Expression.Type()
	ch := f.Expression.Children()
	if !types.IsDecimal(t) || len(ch) == 0 || !types.IsDecimal(ch[0].Type()) {
		return t
	}
	in := ch[0].Type().(sql.DecimalType)
	d := 0
	if len(ch) == 2 {
		lit, ok := ch[1].(*expression.Literal)
		if !ok {
			return t
		}
		n, err := strconv.Atoi(fmt.Sprint(lit.Value()))
		if err != nil {
			return t
		}
		d = max(n, 0)
	}
	if d >= int(in.Scale()) {
		return t
	}
	// One more integer digit for a carry (9.95 -> 10.0).
	nt, err := types.CreateDecimalType(min(in.Precision()-in.Scale()+uint8(d)+1, types.DecimalTypeMaxPrecision), uint8(d))
	if err != nil {
		return t
	}
	return nt
}

func (f *roundFunc) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	inner, err := f.Expression.WithChildren(children...)
	if err != nil {
		return nil, err
	}
	return &roundFunc{inner}, nil
}

// timeToSecFunc is TIME_TO_SEC(T): T's seconds, where T is a TIME, a
// DATETIME (its time of day) or a string of either; go-mysql-server reads
// '01:00:00' as a DATETIME and fails.
type timeToSecFunc struct{ expression.UnaryExpression }

func (f *timeToSecFunc) String() string   { return fmt.Sprintf("time_to_sec(%s)", f.Child) }
func (f *timeToSecFunc) Type() sql.Type   { return types.Int64 }
func (f *timeToSecFunc) IsNullable() bool { return true }

func (f *timeToSecFunc) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	v, err := f.Child.Eval(ctx, row)
	if err != nil || v == nil {
		return nil, err
	}
	if t, ok := v.(time.Time); ok {
		return int64(t.Hour()*3600 + t.Minute()*60 + t.Second()), nil
	}
	ts, err := types.Time.ConvertToTimespan(v)
	if err != nil {
		dt, _, derr := types.DatetimeMaxPrecision.Convert(ctx, v)
		if derr != nil {
			return nil, err
		}
		t := dt.(time.Time)
		return int64(t.Hour()*3600 + t.Minute()*60 + t.Second()), nil
	}
	return ts.AsMicroseconds() / 1_000_000, nil
}

func (f *timeToSecFunc) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	if len(children) != 1 {
		return nil, sql.ErrInvalidChildrenNumber.New(f, len(children), 1)
	}
	return &timeToSecFunc{expression.UnaryExpression{Child: children[0]}}, nil
}
