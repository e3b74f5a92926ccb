package codec

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/sqltypes"
	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

func encodeRow(t interface {
	Helper()
	Fatalf(string, ...any)
}, r *RowCodec, row ...any) []byte {
	t.Helper()
	b, err := r.Encode(nil, row)
	if err != nil {
		t.Fatalf("Encode(%#v): %v", row, err)
	}
	return b
}

// TestRowRoundTrip ensures that rows of random types, with NULLs, decode to
// exactly the values encoded, and that DecodeColumns gives the same values
// for any choice of columns, in any order.
func TestRowRoundTrip(t *testing.T) {
	fs := allFamilies()
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 20).Draw(t, "columns")
		ts := make([]sql.Type, n)
		row := make([]any, n)
		for i := range n {
			f := rapid.SampledFrom(fs).Draw(t, "family")
			ts[i] = f.typ
			row[i] = nullable(f.gen).Draw(t, f.name)
		}
		r := NewRowCodec(ts)
		enc := encodeRow(t, r, row...)
		if again := encodeRow(t, r, row...); !bytes.Equal(enc, again) {
			t.Fatalf("two encodings differ: %x, %x", enc, again)
		}
		got := make([]any, n)
		if err := r.Decode(enc, got); err != nil {
			t.Fatalf("Decode(%x): %v", enc, err)
		}
		for i := range row {
			if !sameValue(row[i], got[i]) {
				t.Fatalf("column %d (%v): encoded %#v, decoded %#v", i, ts[i], row[i], got[i])
			}
		}
		if n == 0 {
			return
		}
		cols := rapid.SliceOfN(rapid.IntRange(0, n-1), 0, 6).Draw(t, "cols")
		out := make([]any, len(cols))
		if err := r.DecodeColumns(enc, cols, out); err != nil {
			t.Fatalf("DecodeColumns(%x, %v): %v", enc, cols, err)
		}
		for i, c := range cols {
			if !sameValue(row[c], out[i]) {
				t.Fatalf("DecodeColumns column %d (%v): encoded %#v, decoded %#v", c, ts[c], row[c], out[i])
			}
		}
		// With an arena: the same values, and none shares the encoding.
		var arena Arena
		arena.Reserve(rapid.IntRange(0, 64).Draw(t, "arena"), rapid.IntRange(0, 3).Draw(t, "headers"))
		clear(out)
		if err := r.DecodeColumnsArena(enc, cols, out, &arena); err != nil {
			t.Fatalf("DecodeColumnsArena(%x, %v): %v", enc, cols, err)
		}
		clear(enc)
		for i, c := range cols {
			if !sameValue(row[c], out[i]) {
				t.Fatalf("DecodeColumnsArena column %d (%v): encoded %#v, decoded %#v", c, ts[c], row[c], out[i])
			}
		}
	})
}

// TestRowNoAliasing ensures that decoded strings and byte slices do not
// share memory with the encoded row.
func TestRowNoAliasing(t *testing.T) {
	r := NewRowCodec([]sql.Type{types.Text, types.Blob, types.JSON})
	enc := encodeRow(t, r, "hello", []byte("world"), types.JSONDocument{Val: map[string]any{"k": "v"}})
	row := make([]any, 3)
	if err := r.Decode(enc, row); err != nil {
		t.Fatal(err)
	}
	for i := range enc {
		enc[i] = 'X'
	}
	if row[0] != "hello" || string(row[1].([]byte)) != "world" || row[2].(types.JSONDocument).Val.(map[string]any)["k"] != "v" {
		t.Fatalf("decoded values changed with the encoded bytes: %#v", row)
	}
}

// TestRowLenient ensures that values of other Go types than the canonical
// one are stored as the canonical value, and that out-of-range values are
// refused.
func TestRowLenient(t *testing.T) {
	text := types.MustCreateString(sqltypes.VarChar, 10, sql.Collation_Default)
	r := NewRowCodec([]sql.Type{types.Int64, types.Int8, types.Uint32, types.Float32, text, types.Blob, types.Year,
		types.MustCreateColumnDecimalType(10, 2), types.JSON})
	row := []any{5, int64(-3), 7, 1.5, []byte("abc"), "xyz", 1999, "2.5", `{"a": [1, 2]}`}
	want := []any{int64(5), int8(-3), uint32(7), float32(1.5), "abc", []byte("xyz"), int16(1999),
		decimal.RequireFromString("2.50"), types.JSONDocument{Val: map[string]any{"a": []any{int64(1), int64(2)}}}}
	got := make([]any, len(row))
	if err := r.Decode(encodeRow(t, r, row...), got); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if !sameValue(want[i], got[i]) {
			t.Errorf("column %d: stored %#v as %#v, want %#v", i, row[i], got[i], want[i])
		}
	}
	for _, c := range []struct {
		typ sql.Type
		v   any
	}{{types.Int8, 300}, {types.Uint8, -1}, {types.Int64, "x"}} {
		_, err := NewRowCodec([]sql.Type{c.typ}).Encode(nil, []any{c.v})
		if !errors.Is(err, ErrBadValue) {
			t.Errorf("Encode(%#v) as %v = %v, want ErrBadValue", c.v, c.typ, err)
		}
	}
}

// TestRowJSON ensures that JSON documents keep large integers, decimals and
// floats exactly and compare equal to what was stored, whether they were
// given as Go values or as JSON text (types.LazyJSONDocument).
func TestRowJSON(t *testing.T) {
	text := `{"big": 18446744073709551615, "min": -9223372036854775808, "f": 1.5e300, "tiny": 5e-324,
		"a": [1, "x", null, true, false, {"nested": 0.1}], "dup": 1, "dup": 2, "": "empty key"}`
	r := NewRowCodec([]sql.Type{types.JSON})
	lazy := types.NewLazyJSONDocument([]byte(text))
	got := make([]any, 1)
	if err := r.Decode(encodeRow(t, r, lazy), got); err != nil {
		t.Fatal(err)
	}
	doc := got[0].(types.JSONDocument)
	obj := doc.Val.(map[string]any)
	if obj["big"] != uint64(math.MaxUint64) || obj["min"] != int64(math.MinInt64) || obj["f"] != 1.5e300 ||
		obj["tiny"] != 5e-324 || obj["dup"] != int64(2) || obj[""] != "empty key" {
		t.Errorf("decoded %#v", obj)
	}
	if cmp, err := types.CompareJSON(doc, lazy); err != nil || cmp != 0 {
		t.Errorf("CompareJSON(decoded, stored) = %d, %v", cmp, err)
	}
	if s := doc.String(); !strings.Contains(s, `"big": 18446744073709551615`) {
		t.Errorf("decoded document prints %s", s)
	}
	nested := types.JSONDocument{Val: map[string]any{"inner": types.NewLazyJSONDocument([]byte(`[18446744073709551615]`))}}
	if err := r.Decode(encodeRow(t, r, nested), got); err != nil {
		t.Fatal(err)
	}
	if v := got[0].(types.JSONDocument).Val.(map[string]any)["inner"].([]any)[0]; v != uint64(math.MaxUint64) {
		t.Errorf("nested document's integer decoded as %#v", v)
	}
	dec := types.JSONDocument{Val: []any{decimal.RequireFromString("12345678901234567890.123456789"), float32(0.5), 7, uint8(3)}}
	if err := r.Decode(encodeRow(t, r, dec), got); err != nil {
		t.Fatal(err)
	}
	if cmp, err := types.CompareJSON(got[0], dec); err != nil || cmp != 0 {
		t.Errorf("CompareJSON(%v, %v) = %d, %v", got[0], dec, cmp, err)
	}
	arr := got[0].(types.JSONDocument).Val.([]any)
	if d, ok := arr[0].(decimal.Decimal); !ok || d.String() != "12345678901234567890.123456789" {
		t.Errorf("decimal in JSON decoded as %#v", arr[0])
	}
}

// TestRowTimes ensures that times decode in UTC with their microseconds,
// whatever location they were given in.
func TestRowTimes(t *testing.T) {
	r := NewRowCodec([]sql.Type{types.DatetimeMaxPrecision, types.Time})
	loc := time.FixedZone("x", 3600)
	in := time.Date(2024, 2, 29, 13, 14, 15, 123456000, loc)
	got := make([]any, 2)
	if err := r.Decode(encodeRow(t, r, in, types.Timespan(-1)), got); err != nil {
		t.Fatal(err)
	}
	if got[0] != in.UTC() || got[1] != types.Timespan(-1) {
		t.Errorf("decoded %#v", got)
	}
}

// TestRowDecodeErrors ensures that truncated, extended and malformed rows
// give errors matching chunk.ErrCorruption.
func TestRowDecodeErrors(t *testing.T) {
	ts := []sql.Type{types.Int32, types.Text, types.MustCreateColumnDecimalType(40, 5), types.JSON, types.GeometryType{}, types.Float64}
	r := NewRowCodec(ts)
	enc := encodeRow(t, r, int32(-7), "text", decimal.RequireFromString("-123456789012345678901234567.5"),
		types.JSONDocument{Val: map[string]any{"a": []any{1.5, "b"}}},
		types.Polygon{SRID: 4326, Lines: []types.LineString{{SRID: 4326, Points: []types.Point{{SRID: 4326, X: 1, Y: 2}, {SRID: 4326, X: 3, Y: 4}}}}},
		2.5)
	row := make([]any, len(ts))
	for i := range len(enc) {
		if err := r.Decode(enc[:i], row); !errors.Is(err, chunk.ErrCorruption) {
			t.Errorf("Decode of %d bytes of %d: %v, want corruption", i, len(enc), err)
		}
	}
	if err := r.Decode(append(enc[:len(enc):len(enc)], 0), row); !errors.Is(err, chunk.ErrCorruption) {
		t.Errorf("Decode with a trailing byte: %v", err)
	}
	bad := append([]byte{}, enc...)
	bad[0] = 2
	if err := r.Decode(bad, row); !errors.Is(err, chunk.ErrCorruption) {
		t.Errorf("Decode of format 2: %v", err)
	}
	if err := NewRowCodec(ts[:5]).Decode(enc, row[:5]); !errors.Is(err, chunk.ErrCorruption) {
		t.Errorf("Decode with another column count: %v", err)
	}
	if err := r.Decode(enc, row[:2]); err == nil {
		t.Error("Decode into a short row accepted")
	}
	if err := r.DecodeColumns(enc, []int{6}, row[:1]); err == nil {
		t.Error("DecodeColumns of a column past the row accepted")
	}
}

// TestRowUnsupported ensures that a type the codec does not know fails at
// Encode, naming the column.
func TestRowUnsupported(t *testing.T) {
	r := NewRowCodec([]sql.Type{types.Int64, types.Null})
	if _, err := r.Encode(nil, []any{int64(1), 1}); !errors.Is(err, ErrUnsupportedType) {
		t.Errorf("Encode with a NULL-type column = %v, want ErrUnsupportedType", err)
	}
	if _, err := r.Encode(nil, []any{int64(1), nil}); err != nil {
		t.Errorf("Encode of NULL in a NULL-type column: %v", err)
	}
}

// TestRowDecodeArena ensures that rows decoded into one shared arena keep
// their values: no value shares bytes with another or with the source, and
// growing into a new buffer leaves earlier values intact.
func TestRowDecodeArena(t *testing.T) {
	r := NewRowCodec([]sql.Type{types.Int64, types.Text, types.Blob})
	var arena Arena
	var rows [][]any
	var srcs [][]byte
	for i := 0; i < 5000; i++ {
		s := strings.Repeat(string(rune('a'+i%26)), i%40)
		enc := encodeRow(t, r, int64(i), s, []byte(s+"!"))
		row := make([]any, 3)
		if err := r.DecodeArena(enc, row, &arena); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row)
		srcs = append(srcs, enc)
	}
	for _, enc := range srcs {
		for i := range enc {
			enc[i] = 'X'
		}
	}
	for i, row := range rows {
		s := strings.Repeat(string(rune('a'+i%26)), i%40)
		if row[0] != int64(i) || row[1] != s || string(row[2].([]byte)) != s+"!" {
			t.Fatalf("row %d changed: %#v", i, row)
		}
	}
	// The strings, whose interface values point into the arena's slabs of
	// headers, behave as any other: as map keys, in type switches, through
	// reflection and formatting.
	seen := map[any]int{}
	for i, row := range rows {
		seen[row[1]]++
		if s, ok := row[1].(string); !ok || s != strings.Repeat(string(rune('a'+i%26)), i%40) {
			t.Fatalf("row %d: %#v is not its string", i, row[1])
		}
		if v := reflect.ValueOf(row[1]); v.Kind() != reflect.String || v.String() != row[1] {
			t.Fatalf("row %d: reflection sees %v", i, v)
		}
	}
	b27 := strings.Repeat("b", 27)
	if seen[""] == 0 || seen[b27] == 0 || fmt.Sprint(rows[27][1]) != b27 || rows[27][1] != any(b27) {
		t.Fatalf("strings as keys and values: %d %d %q", seen[""], seen[b27], fmt.Sprint(rows[27][1]))
	}
	// Appending to a value must not overwrite the next one.
	b := rows[10][2].([]byte)
	_ = append(b, 'Z')
	if rows[11][1] != strings.Repeat("l", 11) {
		t.Fatalf("append to a value overwrote its neighbour: %q", rows[11][1])
	}
}
