package codec

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"strconv"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/shopspring/decimal"
)

// Decimal key signs: the byte after the column marker.
const (
	decNegative = 0x00
	decZero     = 0x01
	decPositive = 0x02
)

// appendDecimalKey appends the key encoding of d: sign, then for non-zero
// values the decimal exponent E and the digits of the mantissa m, where
// |d| = 0.m × 10^E with m's first digit non-zero and no trailing zeros (so
// 1.0 and 1.00 encode alike). E is a big-endian int16 with its sign bit
// flipped; the mantissa is written in pairs of digits p (00..99), each as the
// byte 2p+1 except the last, written 2p. Negative values complement E and
// the mantissa bytes, which reverses their order.
func appendDecimalKey(dst []byte, d decimal.Decimal) ([]byte, error) {
	coef := d.Coefficient() // a copy: ours to change
	sign := coef.Sign()
	if sign == 0 {
		return append(dst, decZero), nil
	}
	coef.Abs(coef)
	var buf [96]byte
	var digits []byte
	if coef.IsUint64() {
		digits = strconv.AppendUint(buf[:0], coef.Uint64(), 10)
	} else {
		digits = coef.Append(buf[:0], 10)
	}
	exp := int64(d.Exponent())
	for digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
		exp++
	}
	e := exp + int64(len(digits))
	if e < math.MinInt16 || e > math.MaxInt16 {
		return nil, fmt.Errorf("%w: decimal exponent %d out of range", ErrBadValue, d.Exponent())
	}
	var flip byte
	if sign < 0 {
		flip = 0xFF
		dst = append(dst, decNegative)
	} else {
		dst = append(dst, decPositive)
	}
	ue := uint16(e) ^ 1<<15
	dst = append(dst, byte(ue>>8)^flip, byte(ue)^flip)
	for i := 0; i < len(digits); i += 2 {
		p := (digits[i] - '0') * 10
		if i+1 < len(digits) {
			p += digits[i+1] - '0'
		}
		b := 2 * p
		if i+2 < len(digits) {
			b++
		}
		dst = append(dst, b^flip)
	}
	return dst, nil
}

// decimalKeyLen returns the length of the decimal key encoding at the start
// of b.
func decimalKeyLen(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, fmt.Errorf("%w: key ends inside a decimal", chunk.ErrCorruption)
	}
	var flip byte
	switch b[0] {
	case decZero:
		return 1, nil
	case decNegative:
		flip = 0xFF
	case decPositive:
	default:
		return 0, fmt.Errorf("%w: key decimal has sign byte 0x%02x", chunk.ErrCorruption, b[0])
	}
	for i := 3; i < len(b); i++ {
		m := b[i] ^ flip
		if m > 199 {
			return 0, fmt.Errorf("%w: key decimal has digit byte 0x%02x", chunk.ErrCorruption, b[i])
		}
		if m&1 == 0 {
			return i + 1, nil
		}
	}
	return 0, fmt.Errorf("%w: key ends inside a decimal", chunk.ErrCorruption)
}

// appendDecimal appends the row encoding of d, which keeps its exponent:
// varint exponent, uvarint (magnitude length << 1 | negative), then the
// coefficient's magnitude, big-endian, without leading zero bytes.
func appendDecimal(dst []byte, d decimal.Decimal) []byte {
	dst = binary.AppendVarint(dst, int64(d.Exponent()))
	coef := d.Coefficient()
	var neg uint64
	if coef.Sign() < 0 {
		neg = 1
	}
	if coef.IsInt64() {
		v := coef.Int64()
		u := uint64(v)
		if v < 0 {
			u = uint64(-v)
		}
		n := (64 - bits.LeadingZeros64(u) + 7) / 8
		dst = binary.AppendUvarint(dst, uint64(n)<<1|neg)
		for i := n - 1; i >= 0; i-- {
			dst = append(dst, byte(u>>(8*i)))
		}
		return dst
	}
	n := (coef.BitLen() + 7) / 8
	dst = binary.AppendUvarint(dst, uint64(n)<<1|neg)
	start := len(dst)
	dst = append(dst, make([]byte, n)...)
	coef.FillBytes(dst[start:])
	return dst
}

// readDecimal decodes a row-encoded decimal at the start of b and returns it
// and its length.
func readDecimal(b []byte) (decimal.Decimal, int, error) {
	exp, n := varint(b)
	if n <= 0 || exp < math.MinInt32 || exp > math.MaxInt32 {
		return decimal.Decimal{}, 0, fmt.Errorf("%w: bad decimal exponent", chunk.ErrCorruption)
	}
	h, m := uvarint(b[n:])
	if m <= 0 {
		return decimal.Decimal{}, 0, fmt.Errorf("%w: bad decimal header", chunk.ErrCorruption)
	}
	n += m
	size, neg := h>>1, h&1 == 1
	if size > uint64(len(b)-n) {
		return decimal.Decimal{}, 0, fmt.Errorf("%w: decimal longer than its row", chunk.ErrCorruption)
	}
	mag := b[n : n+int(size)]
	n += int(size)
	if (size > 0 && mag[0] == 0) || (size == 0 && neg) {
		return decimal.Decimal{}, 0, fmt.Errorf("%w: decimal not in canonical form", chunk.ErrCorruption)
	}
	if size <= 8 {
		var u uint64
		for _, c := range mag {
			u = u<<8 | uint64(c)
		}
		if u <= math.MaxInt64 {
			v := int64(u)
			if neg {
				v = -v
			}
			return decimal.New(v, int32(exp)), n, nil
		}
	}
	bi := new(big.Int).SetBytes(mag)
	if neg {
		bi.Neg(bi)
	}
	return decimal.NewFromBigInt(bi, int32(exp)), n, nil
}
