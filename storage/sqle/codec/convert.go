package codec

import (
	"context"
	"fmt"
	"math"
	"time"
	"unsafe"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/shopspring/decimal"
)

// bg is the context given to sql.Type.Convert, which uses it only to unwrap
// values.
var bg = context.Background()

var (
	bytesType     = types.LongBlob.ValueType()
	decimalNew    = decimal.New
	errNotInteger = fmt.Errorf("%w: not an integer", ErrBadValue)
)

// convert is the slow path of every extractor below: it converts v with the
// column type's own Convert, as GMS would, and unwraps wrapped strings. With
// strict set, a value Convert reports as out of range is an error (rows must
// hold what was given); otherwise the clamped value is used, as GMS's index
// range builder does.
func (c *column) convert(v any, strict bool) (any, error) {
	out, inRange, err := c.typ.Convert(bg, v)
	if err != nil {
		return nil, fmt.Errorf("%w: %T as %s: %v", ErrBadValue, v, c.typ, err)
	}
	if strict && inRange == sql.OutOfRange {
		return nil, fmt.Errorf("%w: %v out of range for %s", ErrBadValue, v, c.typ)
	}
	out, err = sql.UnwrapAny(bg, out)
	if err != nil {
		return nil, fmt.Errorf("%w: unwrap %T: %v", ErrBadValue, v, err)
	}
	if out == nil {
		return nil, fmt.Errorf("%w: %T as %s converts to NULL", ErrBadValue, v, c.typ)
	}
	return out, nil
}

// intOf returns v as an int64 if it is a Go integer that fits one.
func intOf(v any) (int64, bool) {
	switch v := v.(type) {
	case int64:
		return v, true
	case int32:
		return int64(v), true
	case int:
		return int64(v), true
	case int8:
		return int64(v), true
	case int16:
		return int64(v), true
	case uint8:
		return int64(v), true
	case uint16:
		return int64(v), true
	case uint32:
		return int64(v), true
	case uint64:
		return int64(v), v <= math.MaxInt64
	case uint:
		return int64(v), uint64(v) <= math.MaxInt64
	}
	return 0, false
}

// uintOf returns v as a uint64 if it is a non-negative Go integer.
func uintOf(v any) (uint64, bool) {
	switch v := v.(type) {
	case uint64:
		return v, true
	case uint32:
		return uint64(v), true
	case uint:
		return uint64(v), true
	case uint8:
		return uint64(v), true
	case uint16:
		return uint64(v), true
	}
	if i, ok := intOf(v); ok && i >= 0 {
		return uint64(i), true
	}
	return 0, false
}

// signed returns the value of a signed integer column.
func (c *column) signed(v any, strict bool) (int64, error) {
	if i, ok := intOf(v); ok && i >= c.min && (i < 0 || uint64(i) <= c.max) {
		return i, nil
	}
	out, err := c.convert(v, strict)
	if err != nil {
		return 0, err
	}
	if i, ok := intOf(out); ok {
		return i, nil
	}
	return 0, fmt.Errorf("%w: %T as %s", errNotInteger, out, c.typ)
}

// unsigned returns the value of an unsigned integer column (and of BIT and
// SET columns, whose values are uint64).
func (c *column) unsigned(v any, strict bool) (uint64, error) {
	if u, ok := uintOf(v); ok && u <= c.max {
		return u, nil
	}
	out, err := c.convert(v, strict)
	if err != nil {
		return 0, err
	}
	if u, ok := uintOf(out); ok {
		return u, nil
	}
	return 0, fmt.Errorf("%w: %T as %s", errNotInteger, out, c.typ)
}

func (c *column) float(v any, strict bool) (float64, error) {
	switch v := v.(type) {
	case float64:
		if c.kind == kindFloat64 {
			return v, nil
		}
	case float32:
		return float64(v), nil
	}
	out, err := c.convert(v, strict)
	if err != nil {
		return 0, err
	}
	switch out := out.(type) {
	case float64:
		return out, nil
	case float32:
		return float64(out), nil
	}
	return 0, fmt.Errorf("%w: %T as %s", ErrBadValue, out, c.typ)
}

func (c *column) decimal(v any, strict bool) (decimal.Decimal, error) {
	if d, ok := v.(decimal.Decimal); ok {
		return d, nil
	}
	out, err := c.convert(v, strict)
	if err != nil {
		return decimal.Decimal{}, err
	}
	switch out := out.(type) {
	case decimal.Decimal:
		return out, nil
	case decimal.NullDecimal:
		if out.Valid {
			return out.Decimal, nil
		}
	}
	return decimal.Decimal{}, fmt.Errorf("%w: %T as %s", ErrBadValue, out, c.typ)
}

func (c *column) time(v any, strict bool) (time.Time, error) {
	if t, ok := v.(time.Time); ok {
		return t, nil
	}
	out, err := c.convert(v, strict)
	if err != nil {
		return time.Time{}, err
	}
	if t, ok := out.(time.Time); ok {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%w: %T as %s", ErrBadValue, out, c.typ)
}

func (c *column) timespan(v any, strict bool) (types.Timespan, error) {
	if t, ok := v.(types.Timespan); ok {
		return t, nil
	}
	out, err := c.convert(v, strict)
	if err != nil {
		return 0, err
	}
	if t, ok := out.(types.Timespan); ok {
		return t, nil
	}
	return 0, fmt.Errorf("%w: %T as %s", ErrBadValue, out, c.typ)
}

func (c *column) year(v any, strict bool) (int16, error) {
	if y, ok := v.(int16); ok {
		return y, nil
	}
	out, err := c.convert(v, strict)
	if err != nil {
		return 0, err
	}
	if y, ok := out.(int16); ok {
		return y, nil
	}
	return 0, fmt.Errorf("%w: %T as %s", ErrBadValue, out, c.typ)
}

func (c *column) enum(v any, strict bool) (uint16, error) {
	if e, ok := v.(uint16); ok && e <= c.enumCount {
		return e, nil
	}
	out, err := c.convert(v, strict)
	if err != nil {
		return 0, err
	}
	if e, ok := out.(uint16); ok {
		return e, nil
	}
	return 0, fmt.Errorf("%w: %T as %s", ErrBadValue, out, c.typ)
}

// str returns the value of a character string column. The result may share
// memory with v (a []byte): callers must not keep it.
func (c *column) str(v any, strict bool) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case []byte:
		return unsafeString(v), nil
	case sql.StringWrapper:
		s, err := v.Unwrap(bg)
		if err != nil {
			return "", fmt.Errorf("%w: unwrap string: %v", ErrBadValue, err)
		}
		return s, nil
	}
	out, err := c.convert(v, strict)
	if err != nil {
		return "", err
	}
	switch out := out.(type) {
	case string:
		return out, nil
	case []byte:
		return unsafeString(out), nil
	}
	return "", fmt.Errorf("%w: %T as %s", ErrBadValue, out, c.typ)
}

// bytes returns the value of a binary string column. The result may share
// memory with v (a string): callers must not modify or keep it.
func (c *column) bytes(v any, strict bool) ([]byte, error) {
	switch v := v.(type) {
	case []byte:
		return v, nil
	case string:
		return unsafeBytes(v), nil
	case sql.BytesWrapper:
		b, err := v.Unwrap(bg)
		if err != nil {
			return nil, fmt.Errorf("%w: unwrap bytes: %v", ErrBadValue, err)
		}
		return b, nil
	case sql.StringWrapper:
		s, err := v.Unwrap(bg)
		if err != nil {
			return nil, fmt.Errorf("%w: unwrap string: %v", ErrBadValue, err)
		}
		return unsafeBytes(s), nil
	}
	out, err := c.convert(v, strict)
	if err != nil {
		return nil, err
	}
	switch out := out.(type) {
	case []byte:
		return out, nil
	case string:
		return unsafeBytes(out), nil
	}
	return nil, fmt.Errorf("%w: %T as %s", ErrBadValue, out, c.typ)
}

func (c *column) json(v any) (sql.JSONWrapper, error) {
	switch v := v.(type) {
	case sql.JSONWrapper:
		return v, nil
	case string:
		// JSON text: parse it keeping integers exact, which Convert does not.
		return types.NewLazyJSONDocument(unsafeBytes(v)), nil
	case []byte:
		return types.NewLazyJSONDocument(v), nil
	}
	out, err := c.convert(v, true)
	if err != nil {
		return nil, err
	}
	if j, ok := out.(sql.JSONWrapper); ok {
		return j, nil
	}
	return nil, fmt.Errorf("%w: %T as %s", ErrBadValue, out, c.typ)
}

func (c *column) geometry(v any) (types.GeometryValue, error) {
	if g, ok := v.(types.GeometryValue); ok {
		return g, nil
	}
	out, err := c.convert(v, true)
	if err != nil {
		return nil, err
	}
	if g, ok := out.(types.GeometryValue); ok {
		return g, nil
	}
	return nil, fmt.Errorf("%w: %T as %s", ErrBadValue, out, c.typ)
}

// stringType is the type word of an interface value holding a string.
var stringType = func() unsafe.Pointer {
	var v any = ""
	return (*[2]unsafe.Pointer)(unsafe.Pointer(&v))[0]
}()

// stringAt returns an interface value holding the string *h, pointing at
// *h rather than at a copy of the header: converting a string to an
// interface allocates one. (An interface holding a string is a type word
// and a pointer to the string's header, which the runtime never modifies.)
// *h must not change afterwards.
func stringAt(h *string) any {
	var v any
	w := (*[2]unsafe.Pointer)(unsafe.Pointer(&v))
	w[0], w[1] = stringType, unsafe.Pointer(h)
	return v
}

// unsafeString views b as a string without copying. The string must not
// outlive b's current contents.
func unsafeString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// unsafeBytes views s as bytes without copying. The bytes must not be
// modified.
func unsafeBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
