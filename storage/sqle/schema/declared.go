package schema

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/sqltypes"
)

// A column's declared type refines its engine type where go-mysql-server's
// types cannot hold what MySQL's do (Column.Declared). The engine's type
// says how values are stored and compared; the refinement is enforced by
// cairn on every write and is what SHOW CREATE TABLE prints:
//
//   - TIME and TIME(0) to TIME(5): the engine has only TIME(6); values are
//     rounded to the declared fractional digits. Declared as `time` (no
//     fraction, MySQL's default) or `time(3)`.
//   - DECIMAL, FLOAT and DOUBLE UNSIGNED: the engine's types are signed;
//     negative values are refused. Declared as `decimal(10,2) unsigned`,
//     `float unsigned`.
//   - FLOAT(M,D) and DOUBLE(M,D): the engine keeps no digits; values are
//     rounded to D decimals and refused beyond M digits. Declared as
//     `float(7,3)`, `double(8,2) unsigned`.
//
// The declared text is written as MySQL 8 writes the type, one spelling per
// refinement (ParseDeclared refuses others).

// Refinement is what a declared type adds to the engine's type.
type Refinement struct {
	// Time is true for a TIME column with TimePrecision fractional digits
	// (0 to 5).
	Time          bool
	TimePrecision int
	// Unsigned refuses negative numbers.
	Unsigned bool
	// Digits and Decimals are FLOAT(M,D)'s and DOUBLE(M,D)'s M and D; Digits
	// is 0 when none were declared.
	Digits, Decimals int
}

// ParseDeclared checks that text is a declared type (see above) refining t,
// spelled as MySQL writes it, and returns the refinement.
func ParseDeclared(t sql.Type, text string) (Refinement, error) {
	bad := func(why string) (Refinement, error) {
		return Refinement{}, fmt.Errorf("declared type %q of %s: %s", text, t, why)
	}
	s := text
	unsigned := strings.HasSuffix(s, " unsigned")
	s = strings.TrimSuffix(s, " unsigned")
	base := s
	var args []int
	if i := strings.IndexByte(s, '('); i >= 0 && strings.HasSuffix(s, ")") {
		base = s[:i]
		for _, a := range strings.Split(s[i+1:len(s)-1], ",") {
			n, err := strconv.Atoi(a)
			if err != nil || n < 0 {
				return bad("bad length")
			}
			args = append(args, n)
		}
	}
	var r Refinement
	switch base {
	case "time":
		if t.Type() != sqltypes.Time || unsigned || len(args) > 1 {
			return bad("not a TIME refinement")
		}
		r.Time = true
		if len(args) == 1 {
			if args[0] == 0 || args[0] > 5 {
				return bad("TIME precision must be 1 to 5 here (TIME is TIME(0), TIME(6) the engine's own)")
			}
			r.TimePrecision = args[0]
		}
	case "decimal":
		d, ok := t.(sql.DecimalType)
		if !ok || !unsigned || len(args) != 2 || args[0] != int(d.Precision()) || args[1] != int(d.Scale()) {
			return bad("not a DECIMAL refinement")
		}
		r.Unsigned = true
	case "float", "double":
		want := sqltypes.Float32
		if base == "double" {
			want = sqltypes.Float64
		}
		if t.Type() != want {
			return bad("not the column's type")
		}
		switch len(args) {
		case 0:
			if !unsigned {
				return bad("refines nothing")
			}
		case 2:
			if args[0] < 1 || args[0] > 255 || args[1] > 30 || args[1] > args[0] {
				return bad("(M,D) out of range")
			}
			r.Digits, r.Decimals = args[0], args[1]
		default:
			return bad("takes (M,D)")
		}
		r.Unsigned = unsigned
	default:
		return bad("no refinement of this type")
	}
	if DeclaredText(t, r) != text {
		return bad("not spelled as MySQL writes it")
	}
	return r, nil
}

// DeclaredText returns the declared text of a refinement of t, as MySQL
// writes the type; "" if r refines nothing.
func DeclaredText(t sql.Type, r Refinement) string {
	var s string
	switch {
	case r.Time:
		s = "time"
		if r.TimePrecision > 0 {
			s += "(" + strconv.Itoa(r.TimePrecision) + ")"
		}
		return s
	case t.Type() == sqltypes.Decimal:
		if !r.Unsigned {
			return ""
		}
		d := t.(sql.DecimalType)
		return fmt.Sprintf("decimal(%d,%d) unsigned", d.Precision(), d.Scale())
	case t.Type() == sqltypes.Float32:
		s = "float"
	case t.Type() == sqltypes.Float64:
		s = "double"
	default:
		return ""
	}
	if r.Digits > 0 {
		s += fmt.Sprintf("(%d,%d)", r.Digits, r.Decimals)
	} else if !r.Unsigned {
		return ""
	}
	if r.Unsigned {
		s += " unsigned"
	}
	return s
}
