package sqle

import (
	"math"
	"strconv"
	"strings"
)

// FormatFloat writes a FLOAT (bits 32) or DOUBLE (bits 64) value as MySQL's
// text protocol does: the shortest digits that read back to the value (six
// significant digits for FLOAT), in plain notation when the decimal
// exponent is between -15 and 14, else as 1.5e-16 / 2.5e20. The engine
// writes Go's form, which switches to an exponent much sooner
// (1.053327025e+11 for 105332702500).
func FormatFloat(v float64, bits int) string {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return strconv.FormatFloat(v, 'g', -1, bits)
	}
	prec := -1
	if bits == 32 {
		prec = 5
	}
	s := strconv.FormatFloat(v, 'e', prec, bits)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, expText, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expText)
	digits := strings.TrimRight(strings.Replace(mant, ".", "", 1), "0")
	if digits == "" {
		return "0"
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	switch {
	case exp < -15 || exp > 14:
		b.WriteByte(digits[0])
		if len(digits) > 1 {
			b.WriteByte('.')
			b.WriteString(digits[1:])
		}
		b.WriteByte('e')
		b.WriteString(strconv.Itoa(exp))
	case exp < 0:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -exp-1))
		b.WriteString(digits)
	default:
		if len(digits) <= exp+1 {
			b.WriteString(digits)
			b.WriteString(strings.Repeat("0", exp+1-len(digits)))
		} else {
			b.WriteString(digits[:exp+1])
			b.WriteByte('.')
			b.WriteString(digits[exp+1:])
		}
	}
	return b.String()
}
