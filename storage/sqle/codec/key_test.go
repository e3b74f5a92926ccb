package codec

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/sqltypes"
	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

func mustKeyCodec(t interface {
	Helper()
	Fatalf(string, ...any)
}, ts []sql.Type, prefixes []uint16) *KeyCodec {
	t.Helper()
	k, err := NewKeyCodec(ts, prefixes)
	if err != nil {
		t.Fatalf("NewKeyCodec: %v", err)
	}
	return k
}

func encodeKey(t interface {
	Helper()
	Fatalf(string, ...any)
}, k *KeyCodec, vals ...any) []byte {
	t.Helper()
	key, err := k.Encode(nil, vals)
	if err != nil {
		t.Fatalf("Encode(%#v): %v", vals, err)
	}
	return key
}

// TestKeyOrder ensures that for every key type, the bytewise order of two
// values' keys is their order under the type's Compare (NULL first), so
// equal keys are exactly the values Compare finds equal.
func TestKeyOrder(t *testing.T) {
	for _, f := range keyFamilies() {
		t.Run(f.name, func(t *testing.T) {
			k := mustKeyCodec(t, []sql.Type{f.typ}, nil)
			g := nullable(f.gen)
			rapid.Check(t, func(t *rapid.T) {
				a, b := g.Draw(t, "a"), g.Draw(t, "b")
				ka, kb := encodeKey(t, k, a), encodeKey(t, k, b)
				if got, want := bytes.Compare(ka, kb), sqlCompare(t, f.typ, a, b); got != want {
					t.Fatalf("keys %x, %x compare %d; Compare(%#v, %#v) = %d", ka, kb, got, a, b, want)
				}
			})
		})
	}
}

// TestKeyTupleOrder ensures the same for tuples of two or three columns of
// random types, and that the key of a tuple's first columns is a prefix of
// its key and that Split finds each column's encoding.
func TestKeyTupleOrder(t *testing.T) {
	fs := keyFamilies()
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(2, 3).Draw(t, "columns")
		cols := make([]family, n)
		ts := make([]sql.Type, n)
		for i := range cols {
			cols[i] = rapid.SampledFrom(fs).Draw(t, "family")
			ts[i] = cols[i].typ
		}
		k := mustKeyCodec(t, ts, nil)
		a, b := make([]any, n), make([]any, n)
		for i, f := range cols {
			g := nullable(f.gen)
			a[i] = g.Draw(t, "a")
			// Share a prefix often, so that later columns decide.
			if rapid.IntRange(0, 2).Draw(t, "same") == 0 {
				b[i] = g.Draw(t, "b")
			} else {
				b[i] = a[i]
			}
		}
		want := 0
		for i, f := range cols {
			if want = sqlCompare(t, f.typ, a[i], b[i]); want != 0 {
				break
			}
		}
		ka, kb := encodeKey(t, k, a...), encodeKey(t, k, b...)
		if got := bytes.Compare(ka, kb); got != want {
			t.Fatalf("keys %x, %x compare %d; tuples %#v, %#v compare %d", ka, kb, got, a, b, want)
		}
		segs, err := k.Split(ka, n)
		if err != nil {
			t.Fatalf("Split(%x): %v", ka, err)
		}
		var prefix []byte
		for i := range n {
			one := mustKeyCodec(t, ts[i:i+1], nil)
			if col := encodeKey(t, one, a[i]); !bytes.Equal(segs[i], col) {
				t.Fatalf("Split(%x)[%d] = %x, want %x", ka, i, segs[i], col)
			}
			prefix = append(prefix, segs[i]...)
			if p := encodeKey(t, k, a[:i+1]...); !bytes.Equal(p, prefix) {
				t.Fatalf("key of %d columns %x, want prefix %x", i+1, p, prefix)
			}
		}
		if !bytes.Equal(prefix, ka) {
			t.Fatalf("segments %x do not make the key %x", prefix, ka)
		}
	})
}

// TestKeyPrefixLength ensures that an index prefix keeps characters of
// character strings and bytes of binary strings.
func TestKeyPrefixLength(t *testing.T) {
	ai := mustString(sqltypes.VarChar, 100, sql.Collation_utf8mb4_0900_ai_ci)
	bin := types.MustCreateBinary(sqltypes.VarBinary, 100)
	k := mustKeyCodec(t, []sql.Type{ai, bin}, []uint16{3, 3})
	cases := []struct {
		a, b []any
		want int
	}{
		{[]any{"abcdef", []byte("x")}, []any{"ABCxyz", []byte("x")}, 0},
		{[]any{"ab", []byte("x")}, []any{"abc", []byte("x")}, -1},
		{[]any{"中文字符", []byte("x")}, []any{"中文字", []byte("x")}, 0},
		{[]any{"中文字", []byte("x")}, []any{"中文", []byte("x")}, 1},
		{[]any{"a", []byte("abcd")}, []any{"a", []byte("abce")}, 0},
		{[]any{"a", []byte("ab")}, []any{"a", []byte("abc")}, -1},
		{[]any{"a", []byte("中")}, []any{"a", []byte("中文")}, 0}, // 3 bytes
	}
	for _, c := range cases {
		if got := bytes.Compare(encodeKey(t, k, c.a...), encodeKey(t, k, c.b...)); got != c.want {
			t.Errorf("%q vs %q: compare %d, want %d", c.a, c.b, got, c.want)
		}
	}
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 4).Draw(t, "prefix")
		k := mustKeyCodec(t, []sql.Type{ai}, []uint16{uint16(n)})
		a, b := textGen().Draw(t, "a").(string), textGen().Draw(t, "b").(string)
		want := sqlCompare(t, ai, prefixRunes(a, n), prefixRunes(b, n))
		if got := bytes.Compare(encodeKey(t, k, a), encodeKey(t, k, b)); got != want {
			t.Fatalf("prefix %d of %q, %q: compare %d, want %d", n, a, b, got, want)
		}
		if utf8.RuneCountInString(prefixRunes(a, n)) != min(n, utf8.RuneCountInString(a)) {
			t.Fatalf("prefixRunes(%q, %d) = %q", a, n, prefixRunes(a, n))
		}
	})
}

// TestKeyEqualities pins equalities and orders the key format promises.
func TestKeyEqualities(t *testing.T) {
	ai := mustString(sqltypes.VarChar, 100, sql.Collation_utf8mb4_0900_ai_ci)
	bin := mustString(sqltypes.VarChar, 100, sql.Collation_utf8mb4_0900_bin)
	dec := types.MustCreateColumnDecimalType(20, 4)
	cases := []struct {
		typ  sql.Type
		a, b any
		want int
	}{
		{ai, "a", "A", 0},
		{ai, "résumé", "RESUME", 0},
		{bin, "a", "A", 1},
		{bin, "a", "a ", -1}, // no PAD SPACE, as in GMS
		{ai, "", nil, 1},
		{types.Float64, 0.0, negZero(), 0},
		{types.Float32, float32(0), float32(negZero()), 0},
		{dec, decimal.RequireFromString("1.0"), decimal.RequireFromString("1.00"), 0},
		{dec, decimal.RequireFromString("-1.5"), decimal.RequireFromString("-1.50"), 0},
		{dec, decimal.RequireFromString("0.00"), decimal.Zero, 0},
		{dec, decimal.RequireFromString("10"), decimal.RequireFromString("9.9999"), 1},
		{dec, decimal.RequireFromString("-10"), decimal.RequireFromString("-9.9999"), -1},
		{types.Int64, int64(-1), int64(0), -1},
		{types.Uint64, uint64(1 << 63), uint64(1<<63 - 1), 1},
	}
	for _, c := range cases {
		k := mustKeyCodec(t, []sql.Type{c.typ}, nil)
		if got := bytes.Compare(encodeKey(t, k, c.a), encodeKey(t, k, c.b)); got != c.want {
			t.Errorf("%v: %#v vs %#v: compare %d, want %d", c.typ, c.a, c.b, got, c.want)
		}
	}
}

func negZero() float64 { z := 0.0; return -z }

// TestKeyLenient ensures that values of other Go types than the canonical
// one give the canonical value's key.
func TestKeyLenient(t *testing.T) {
	text := mustString(sqltypes.VarChar, 100, sql.Collation_utf8mb4_0900_ai_ci)
	blob := types.MustCreateBinary(sqltypes.VarBinary, 100)
	cases := []struct {
		typ            sql.Type
		canonical, alt any
	}{
		{types.Int64, int64(5), 5},
		{types.Int32, int32(-5), int8(-5)},
		{types.Int8, int8(7), uint64(7)},
		{types.Uint32, uint32(7), 7},
		{types.Float64, 2.5, float32(2.5)},
		{types.Float32, float32(2.5), 2.5},
		{text, "abc", []byte("abc")},
		{blob, []byte("abc"), "abc"},
		{types.MustCreateColumnDecimalType(10, 2), decimal.RequireFromString("1.50"), "1.5"},
		{types.Year, int16(2001), 2001},
		{types.Date, mustTime(t, "2024-02-03"), "2024-02-03"},
	}
	for _, c := range cases {
		k := mustKeyCodec(t, []sql.Type{c.typ}, nil)
		if a, b := encodeKey(t, k, c.canonical), encodeKey(t, k, c.alt); !bytes.Equal(a, b) {
			t.Errorf("%v: key of %#v = %x, of %#v = %x", c.typ, c.canonical, a, c.alt, b)
		}
	}
}

// TestKeySize ensures that a VARCHAR(500) of typical text makes a key well
// under the tree's 4096-byte limit.
func TestKeySize(t *testing.T) {
	for _, c := range []sql.CollationID{sql.Collation_utf8mb4_0900_ai_ci, sql.Collation_utf8mb4_0900_bin, sql.Collation_utf8mb4_general_ci, sql.Collation_utf8mb4_unicode_ci} {
		k := mustKeyCodec(t, []sql.Type{mustString(sqltypes.VarChar, 500, c)}, nil)
		for _, s := range []string{strings.Repeat("The quick brown fox, 42. ", 20), strings.Repeat("Größenwahn ", 45)[:500], strings.Repeat("数据库", 167)[:500*3-3]} {
			key := encodeKey(t, k, s)
			limit := 2*utf8.RuneCountInString(s) + 2
			if !utf8.ValidString(s[:10]) || strings.ContainsRune(s, '数') {
				limit = 3*utf8.RuneCountInString(s) + 2
			}
			if len(key) > limit {
				t.Errorf("%s: key of %d characters is %d bytes, want at most %d", c.Name(), utf8.RuneCountInString(s), len(key), limit)
			}
		}
	}
}

// TestKeyWeightCodes ensures that weight codes order like the weights at
// every length boundary.
func TestKeyWeightCodes(t *testing.T) {
	ws := []int32{-1 << 31, -1, 0, 1, 126, 127, 128, 129, 255, 256, weight3Base - 1, weight3Base, weight3Base + 1,
		1 << 16, 0x10FFFF, weight5Base - 1, weight5Base, weight5Base + 1, 1<<31 - 1}
	for i := 1; i < len(ws); i++ {
		a, b := appendWeight(nil, ws[i-1]), appendWeight(nil, ws[i])
		if bytes.Compare(a, b) >= 0 {
			t.Errorf("weight %d → %x, weight %d → %x: not increasing", ws[i-1], a, ws[i], b)
		}
		if n, err := weightsLen(append(b, weightEnd)); err != nil || n != len(b)+1 {
			t.Errorf("weightsLen(%x) = %d, %v", b, n, err)
		}
		if a[0] == weightEnd {
			t.Errorf("weight %d starts with the terminator", ws[i-1])
		}
	}
}

// TestNewKeyCodecErrors ensures that JSON and spatial columns and prefixes
// on non-string columns are refused with a clear error.
func TestNewKeyCodecErrors(t *testing.T) {
	for _, typ := range []sql.Type{types.JSON, types.GeometryType{}, types.PointType{}} {
		_, err := NewKeyCodec([]sql.Type{types.Int64, typ}, nil)
		if !errors.Is(err, ErrNotKeyable) || !strings.Contains(err.Error(), "column 1") {
			t.Errorf("NewKeyCodec(%v) = %v, want ErrNotKeyable naming column 1", typ, err)
		}
	}
	if _, err := NewKeyCodec([]sql.Type{types.Int64}, []uint16{4}); err == nil {
		t.Error("prefix length on an int column accepted")
	}
	if _, err := NewKeyCodec([]sql.Type{types.Int64}, []uint16{0, 0}); err == nil {
		t.Error("two prefix lengths for one column accepted")
	}
	k := mustKeyCodec(t, []sql.Type{types.Int64}, nil)
	if _, err := k.Encode(nil, []any{int64(1), int64(2)}); err == nil {
		t.Error("two values for one column accepted")
	}
	if _, err := k.Encode(nil, []any{"not a number"}); !errors.Is(err, ErrBadValue) {
		t.Errorf("Encode(string) for an int column = %v, want ErrBadValue", err)
	}
}

// TestPrefixEnd ensures that PrefixEnd gives the first byte string past
// every string with the prefix, in a new slice.
func TestPrefixEnd(t *testing.T) {
	cases := []struct{ in, want []byte }{
		{nil, nil},
		{[]byte{0xFF, 0xFF}, nil},
		{[]byte{1, 2}, []byte{1, 3}},
		{[]byte{1, 0xFF}, []byte{2}},
		{[]byte{0, 0xFF, 0xFF}, []byte{1}},
	}
	for _, c := range cases {
		if got := PrefixEnd(c.in); !bytes.Equal(got, c.want) || (got == nil) != (c.want == nil) {
			t.Errorf("PrefixEnd(%x) = %x, want %x", c.in, got, c.want)
		}
	}
	in := []byte{1, 2}
	PrefixEnd(in)[0] = 9
	if in[0] != 1 {
		t.Error("PrefixEnd result aliases its argument")
	}
}

// TestHasNull ensures that HasNull finds NULL anywhere in a tuple.
func TestHasNull(t *testing.T) {
	k := mustKeyCodec(t, []sql.Type{types.Int64, types.Int64}, nil)
	if k.HasNull([]any{int64(1), int64(2)}) || !k.HasNull([]any{int64(1), nil}) || k.Columns() != 2 {
		t.Error("HasNull or Columns wrong")
	}
}

// TestSplitErrors ensures that Split reports truncated and malformed keys
// as corruption.
func TestSplitErrors(t *testing.T) {
	k := mustKeyCodec(t, []sql.Type{types.Int32, mustString(sqltypes.VarChar, 10, sql.Collation_Default),
		types.Blob, types.MustCreateColumnDecimalType(10, 2)}, nil)
	full := encodeKey(t, k, int32(5), "ab", []byte{0, 1}, decimal.RequireFromString("-12.5"))
	for i := range len(full) {
		if _, err := k.Split(full[:i], 4); !errors.Is(err, chunk.ErrCorruption) {
			t.Errorf("Split of %d bytes of %x: %v, want corruption", i, full, err)
		}
	}
	if segs, err := k.Split(full, 4); err != nil || len(segs) != 4 {
		t.Errorf("Split(%x) = %x, %v", full, segs, err)
	}
	if _, err := k.Split([]byte{7}, 1); !errors.Is(err, chunk.ErrCorruption) {
		t.Errorf("Split with a bad marker: %v", err)
	}
	if _, err := k.Split(full, 5); err == nil {
		t.Error("Split of 5 columns of a 4-column key accepted")
	}
}

// Integer key columns decode back to the values a row of their type holds,
// NULL included, whatever the other columns of the key; strings and
// prefixed columns are not decodable.
func TestKeyDecodeSegment(t *testing.T) {
	ts := []sql.Type{types.Int8, types.Int16, types.Int24, types.Int32, types.Int64,
		types.Uint8, types.Uint16, types.Uint24, types.Uint32, types.Uint64, types.Text}
	k := mustKeyCodec(t, ts, nil)
	rapid.Check(t, func(t *rapid.T) {
		vals := []any{
			rapid.Int8().Draw(t, "i8"), rapid.Int16().Draw(t, "i16"),
			rapid.Int32Range(-1<<23, 1<<23-1).Draw(t, "i24"), rapid.Int32().Draw(t, "i32"), rapid.Int64().Draw(t, "i64"),
			rapid.Uint8().Draw(t, "u8"), rapid.Uint16().Draw(t, "u16"),
			rapid.Uint32Range(0, 1<<24-1).Draw(t, "u24"), rapid.Uint32().Draw(t, "u32"), rapid.Uint64().Draw(t, "u64"),
			rapid.String().Draw(t, "s"),
		}
		if rapid.Bool().Draw(t, "null") {
			vals[rapid.IntRange(0, 9).Draw(t, "nullAt")] = nil
		}
		segs, err := k.Split(encodeKey(t, k, vals...), len(ts))
		if err != nil {
			t.Fatal(err)
		}
		for i := range 10 {
			got, err := k.DecodeSegment(segs[i], i)
			if err != nil || got != vals[i] {
				t.Fatalf("column %d (%v): got %#v, %v; want %#v", i, ts[i], got, err, vals[i])
			}
		}
	})
	if k.Decodable(10) {
		t.Error("a text column is decodable")
	}
	if _, err := k.DecodeSegment([]byte{keyValue, 1, 2}, 3); !errors.Is(err, chunk.ErrCorruption) {
		t.Errorf("a short INT segment: %v", err)
	}
	if mustKeyCodec(t, []sql.Type{types.Int32, types.Text}, []uint16{0, 4}).Decodable(1) {
		t.Error("a prefixed column is decodable")
	}
}
