package codec

import (
	"context"
	"math"
	"math/big"
	"reflect"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/sqltypes"
	"github.com/dolthub/vitess/go/vt/proto/query"
	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

var ctx = context.Background()

// family is a column type with a generator of its canonical values, biased
// towards values that collide, so that equal keys get tested too.
type family struct {
	name string
	typ  sql.Type
	gen  *rapid.Generator[any]
}

func anyOf[T any](g *rapid.Generator[T]) *rapid.Generator[any] {
	return rapid.Map(g, func(v T) any { return v })
}

func nullable(g *rapid.Generator[any]) *rapid.Generator[any] {
	return rapid.Custom(func(t *rapid.T) any {
		if rapid.IntRange(0, 7).Draw(t, "null") == 0 {
			return nil
		}
		return g.Draw(t, "value")
	})
}

func intGen[T int8 | int16 | int32 | int64](lo, hi T) *rapid.Generator[any] {
	conv := func(v int64) any { return T(v) }
	return rapid.OneOf(
		rapid.Map(rapid.Int64Range(int64(lo), int64(hi)), conv),
		rapid.Map(rapid.Int64Range(max(int64(lo), -3), min(int64(hi), 3)), conv),
		anyOf(rapid.SampledFrom([]T{lo, hi, 0, -1, 1})),
	)
}

func uintGen[T uint8 | uint16 | uint32 | uint64](hi T) *rapid.Generator[any] {
	conv := func(v uint64) any { return T(v) }
	return rapid.OneOf(
		rapid.Map(rapid.Uint64Range(0, uint64(hi)), conv),
		rapid.Map(rapid.Uint64Range(0, min(uint64(hi), 3)), conv),
		anyOf(rapid.SampledFrom([]T{0, hi, hi / 2, hi/2 + 1})),
	)
}

var specialFloats = []float64{0, math.Copysign(0, -1), 1, -1, math.Inf(1), math.Inf(-1),
	math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64, 0.5, -0.5}

func float64Gen() *rapid.Generator[any] {
	return rapid.OneOf(anyOf(rapid.Float64()), anyOf(rapid.SampledFrom(specialFloats)),
		anyOf(rapid.Map(rapid.IntRange(-3, 3), func(i int) float64 { return float64(i) / 2 })))
}

func float32Gen() *rapid.Generator[any] {
	special := make([]float32, len(specialFloats))
	for i, f := range specialFloats {
		special[i] = float32(f)
	}
	return rapid.OneOf(anyOf(rapid.Float32()), anyOf(rapid.SampledFrom(special)))
}

// decimalGen makes values of DECIMAL(p, s): up to p digits at scale s,
// sometimes written with extra trailing zeros (so with another exponent),
// and for column types sometimes with digits beyond the scale.
func decimalGen(p, s int) *rapid.Generator[any] {
	return rapid.Custom(func(t *rapid.T) any {
		n := rapid.OneOf(rapid.IntRange(1, p), rapid.IntRange(1, min(p, 2))).Draw(t, "digits")
		digits := rapid.StringOfN(rapid.RuneFrom([]rune("0123456789")), n, n, -1).Draw(t, "coef")
		coef, _ := new(big.Int).SetString(digits, 10)
		if rapid.Bool().Draw(t, "neg") {
			coef.Neg(coef)
		}
		exp := -int32(s)
		switch rapid.IntRange(0, 3).Draw(t, "form") {
		case 1: // trailing zeros
			k := rapid.IntRange(1, 4).Draw(t, "zeros")
			coef.Mul(coef, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(k)), nil))
			exp -= int32(k)
		case 2: // digits beyond the scale
			k := rapid.IntRange(1, 3).Draw(t, "extra")
			coef.Mul(coef, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(k)), nil))
			coef.Add(coef, big.NewInt(int64(rapid.IntRange(-999, 999).Draw(t, "frac"))))
			exp -= int32(k)
		}
		return decimal.NewFromBigInt(coef, exp)
	})
}

// stringPieces are concatenated into strings: cases, accents, expansions,
// spaces, NUL, multi-byte characters and invalid UTF-8.
var stringPieces = []string{"a", "A", "b", "B", "á", "Á", "à", "ß", "ss", " ", "\x00", "\t", "z", "Z",
	"é", "e", "E", "中", "文", "😀", "\xff", "\xc3", "ø", "Å", "aa", "Ǆ", "ǅ", "\u0301", "1", "-", "_"}

func textGen() *rapid.Generator[any] {
	return rapid.OneOf(
		anyOf(rapid.Map(rapid.SliceOfN(rapid.SampledFrom(stringPieces), 0, 6), func(p []string) string {
			return strings.Join(p, "")
		})),
		anyOf(rapid.String()),
	)
}

func bytesGen() *rapid.Generator[any] {
	return rapid.OneOf(
		anyOf(rapid.SliceOfN(rapid.SampledFrom([]byte{0, 1, 0xFF, 'a', 'A'}), 0, 6)),
		anyOf(rapid.SliceOf(rapid.Byte())),
	)
}

var (
	minMicro = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	maxMicro = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC).UnixMicro()
)

func timeGen() *rapid.Generator[any] {
	day := int64(24 * time.Hour / time.Microsecond)
	return rapid.OneOf(
		anyOf(rapid.Map(rapid.Int64Range(minMicro, maxMicro), func(us int64) time.Time { return time.UnixMicro(us).UTC() })),
		anyOf(rapid.Map(rapid.Int64Range(-2*day, 2*day), func(us int64) time.Time { return time.UnixMicro(us).UTC() })),
		anyOf(rapid.Map(rapid.Int64Range(-3, 3), func(d int64) time.Time { return time.UnixMicro(d * day).UTC() })),
		anyOf(rapid.SampledFrom([]time.Time{time.UnixMicro(minMicro).UTC(), time.UnixMicro(maxMicro).UTC(), time.Unix(-62167219200, 0).UTC()})),
	)
}

func mustString(base query.Type, length int64, c sql.CollationID) sql.Type {
	return types.MustCreateString(base, length, c)
}

// keyFamilies are the types that can be key columns.
func keyFamilies() []family {
	enum := types.MustCreateEnumType([]string{"x", "y", "z"}, sql.Collation_Default)
	set := types.MustCreateSetType([]string{"a", "b", "c", "d", "e"}, sql.Collation_Default)
	fs := []family{
		{"int8", types.Int8, intGen[int8](math.MinInt8, math.MaxInt8)},
		{"int16", types.Int16, intGen[int16](math.MinInt16, math.MaxInt16)},
		{"int24", types.Int24, intGen[int32](-1<<23, 1<<23-1)},
		{"int32", types.Int32, intGen[int32](math.MinInt32, math.MaxInt32)},
		{"int64", types.Int64, intGen[int64](math.MinInt64, math.MaxInt64)},
		{"uint8", types.Uint8, uintGen[uint8](math.MaxUint8)},
		{"uint16", types.Uint16, uintGen[uint16](math.MaxUint16)},
		{"uint24", types.Uint24, uintGen[uint32](1<<24 - 1)},
		{"uint32", types.Uint32, uintGen[uint32](math.MaxUint32)},
		{"uint64", types.Uint64, uintGen[uint64](math.MaxUint64)},
		{"float32", types.Float32, float32Gen()},
		{"float64", types.Float64, float64Gen()},
		{"decimal(10,2)", types.MustCreateColumnDecimalType(10, 2), decimalGen(10, 2)},
		{"decimal(65,30)", types.MustCreateColumnDecimalType(65, 30), decimalGen(65, 30)},
		{"decimal(65,0)", types.MustCreateColumnDecimalType(65, 0), decimalGen(65, 0)},
		{"decimal(5,5)", types.MustCreateColumnDecimalType(5, 5), decimalGen(5, 5)},
		{"decimal(30,10) expr", types.MustCreateDecimalType(30, 10), decimalGen(30, 10)},
		{"date", types.Date, timeGen()},
		{"datetime", types.Datetime, timeGen()},
		{"datetime(6)", types.DatetimeMaxPrecision, timeGen()},
		{"timestamp(6)", types.TimestampMaxPrecision, timeGen()},
		{"time", types.Time, anyOf(rapid.Map(rapid.OneOf(rapid.Int64Range(-3020399000000, 3020399000000), rapid.Int64Range(-2, 2)),
			func(v int64) types.Timespan { return types.Timespan(v) }))},
		{"year", types.Year, anyOf(rapid.OneOf(rapid.Just(int16(0)), rapid.Int16Range(1901, 2155)))},
		{"bit(64)", types.MustCreateBitType(64), uintGen[uint64](math.MaxUint64)},
		{"bit(3)", types.MustCreateBitType(3), uintGen[uint64](7)},
		{"enum", enum, anyOf(rapid.Uint16Range(0, 3))},
		{"set", set, uintGen[uint64](31)},
		{"varbinary", types.MustCreateBinary(sqltypes.VarBinary, 100), bytesGen()},
		{"blob", types.Blob, bytesGen()},
	}
	for _, c := range []sql.CollationID{
		sql.Collation_utf8mb4_0900_bin, sql.Collation_utf8mb4_0900_ai_ci, sql.Collation_utf8mb4_0900_as_cs,
		sql.Collation_utf8mb4_general_ci, sql.Collation_utf8mb4_unicode_ci, sql.Collation_utf8mb4_bin,
		sql.Collation_utf8mb3_general_ci, sql.Collation_latin1_swedish_ci, sql.Collation_latin1_bin,
		sql.Collation_utf8mb4_zh_0900_as_cs, sql.Collation_ascii_general_ci,
	} {
		fs = append(fs, family{"varchar " + c.Name(), mustString(sqltypes.VarChar, 200, c), textGen()})
	}
	fs = append(fs,
		family{"char utf8mb4_0900_ai_ci", mustString(sqltypes.Char, 100, sql.Collation_utf8mb4_0900_ai_ci), textGen()},
		family{"text", types.Text, textGen()},
	)
	return fs
}

// allFamilies are keyFamilies and the types that can only be in rows.
func allFamilies() []family {
	return append(keyFamilies(),
		family{"json", types.JSON, anyOf(rapid.Map(jsonGen(3), func(v any) types.JSONDocument { return types.JSONDocument{Val: v} }))},
		family{"geometry", types.GeometryType{}, geometryGen(2)},
		family{"point", types.PointType{}, anyOf(pointGen(0))},
	)
}

func jsonGen(depth int) *rapid.Generator[any] {
	leaves := []*rapid.Generator[any]{
		rapid.Just[any](nil),
		anyOf(rapid.Bool()),
		anyOf(rapid.Int64()),
		anyOf(rapid.Uint64Range(math.MaxInt64+1, math.MaxUint64)),
		anyOf(rapid.Float64()),
		anyOf(rapid.String()),
		decimalGen(20, 5),
	}
	if depth == 0 {
		return rapid.OneOf(leaves...)
	}
	inner := jsonGen(depth - 1)
	return rapid.OneOf(append(leaves,
		anyOf(rapid.SliceOfN(inner, 0, 4)),
		anyOf(rapid.MapOfN(rapid.StringOfN(rapid.RuneFrom([]rune("abcé\"\\")), 0, 4, -1), inner, 0, 4)),
	)...)
}

func pointGen(srid uint32) *rapid.Generator[types.Point] {
	return rapid.Custom(func(t *rapid.T) types.Point {
		return types.Point{SRID: srid, X: rapid.Float64().Draw(t, "x"), Y: rapid.Float64().Draw(t, "y")}
	})
}

func lineGen(srid uint32) *rapid.Generator[types.LineString] {
	return rapid.Custom(func(t *rapid.T) types.LineString {
		return types.LineString{SRID: srid, Points: rapid.SliceOfN(pointGen(srid), 2, 4).Draw(t, "points")}
	})
}

func polyGen(srid uint32) *rapid.Generator[types.Polygon] {
	return rapid.Custom(func(t *rapid.T) types.Polygon {
		return types.Polygon{SRID: srid, Lines: rapid.SliceOfN(lineGen(srid), 1, 3).Draw(t, "lines")}
	})
}

func geometryGen(depth int) *rapid.Generator[any] {
	return rapid.Custom(func(t *rapid.T) any {
		srid := rapid.SampledFrom([]uint32{0, 4326, 3857}).Draw(t, "srid")
		return geomOf(t, srid, depth)
	})
}

func geomOf(t *rapid.T, srid uint32, depth int) types.GeometryValue {
	max := 6
	if depth > 0 {
		max = 7
	}
	switch rapid.IntRange(1, max).Draw(t, "kind") {
	case 1:
		return pointGen(srid).Draw(t, "point")
	case 2:
		return lineGen(srid).Draw(t, "line")
	case 3:
		return polyGen(srid).Draw(t, "poly")
	case 4:
		return types.MultiPoint{SRID: srid, Points: rapid.SliceOfN(pointGen(srid), 1, 3).Draw(t, "points")}
	case 5:
		return types.MultiLineString{SRID: srid, Lines: rapid.SliceOfN(lineGen(srid), 1, 3).Draw(t, "lines")}
	case 6:
		return types.MultiPolygon{SRID: srid, Polygons: rapid.SliceOfN(polyGen(srid), 1, 2).Draw(t, "polys")}
	}
	n := rapid.IntRange(0, 3).Draw(t, "n")
	geoms := make([]types.GeometryValue, n)
	for i := range geoms {
		geoms[i] = geomOf(t, srid, depth-1)
	}
	return types.GeomColl{SRID: srid, Geoms: geoms}
}

func mustTime(t interface{ Fatalf(string, ...any) }, s string) time.Time {
	tm, err := time.Parse("2006-01-02", s)
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return tm.UTC()
}

// sqlCompare is typ.Compare with NULL first, as in indexes.
func sqlCompare(t interface{ Fatalf(string, ...any) }, typ sql.Type, a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	c, err := typ.Compare(ctx, a, b)
	if err != nil {
		t.Fatalf("%v.Compare(%#v, %#v): %v", typ, a, b, err)
	}
	return sign(c)
}

func sign(c int) int {
	switch {
	case c < 0:
		return -1
	case c > 0:
		return 1
	}
	return 0
}

// sameValue reports whether a decoded value b is exactly the encoded a.
func sameValue(a, b any) bool {
	if reflect.TypeOf(a) != reflect.TypeOf(b) {
		return false
	}
	switch a := a.(type) {
	case float64:
		return math.Float64bits(a) == math.Float64bits(b.(float64))
	case float32:
		return math.Float32bits(a) == math.Float32bits(b.(float32))
	case decimal.Decimal:
		bd := b.(decimal.Decimal)
		return a.Exponent() == bd.Exponent() && a.Cmp(bd) == 0 && a.String() == bd.String()
	case time.Time:
		return a == b.(time.Time)
	case types.JSONDocument:
		return sameJSON(a.Val, b.(types.JSONDocument).Val)
	case types.GeometryValue:
		return reflect.DeepEqual(a, b)
	}
	return reflect.DeepEqual(a, b)
}

func sameJSON(a, b any) bool {
	switch a := a.(type) {
	case decimal.Decimal:
		bd, ok := b.(decimal.Decimal)
		return ok && a.Exponent() == bd.Exponent() && a.Cmp(bd) == 0
	case float64:
		bf, ok := b.(float64)
		return ok && math.Float64bits(a) == math.Float64bits(bf)
	case []any:
		bs, ok := b.([]any)
		if !ok || len(a) != len(bs) {
			return false
		}
		for i := range a {
			if !sameJSON(a[i], bs[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok || len(a) != len(bm) {
			return false
		}
		for k, v := range a {
			w, ok := bm[k]
			if !ok || !sameJSON(v, w) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}
