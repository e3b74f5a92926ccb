package schema_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/sqle/schema"
)

// raw writes schema bytes field by field, as docs/format.md lays them out,
// so tests can make what Encode never would.
type raw struct{ b []byte }

func (r *raw) byte(v byte) *raw     { r.b = append(r.b, v); return r }
func (r *raw) uv(v uint64) *raw     { r.b = binary.AppendUvarint(r.b, v); return r }
func (r *raw) bytes(v ...byte) *raw { r.b = append(r.b, v...); return r }
func (r *raw) str(s string) *raw    { r.uv(uint64(len(s))); r.b = append(r.b, s...); return r }

// minimal starts a table "t" with one int column "a" and no key; the caller
// writes the rest from the prefix lengths on.
func minimal() *raw {
	r := &raw{}
	r.byte(1).str("t").str("").uv(0) // version, name, comment, collation
	r.uv(1).str("a").str("int").byte(0).str("").str("")
	return r.uv(0) // no key
}

// empty ends a table with no prefix lengths, indexes, checks or foreign keys.
func (r *raw) empty() []byte {
	r.uv(0).uv(0).uv(0).uv(0)
	return r.b
}

// TestLayout pins the layout documented in docs/format.md.
func TestLayout(t *testing.T) {
	got, err := schema.Decode(minimal().empty())
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "t" || len(got.Columns) != 1 || got.Columns[0].Name != "a" || got.Columns[0].Type.String() != "int" {
		t.Errorf("decoded %+v", got)
	}
	want := []byte{1, 1, 't', 0, 0, 1, 1, 'a', 3, 'i', 'n', 't', 0, 0, 0, 0, 0, 0, 0, 0}
	if b, err := schema.Encode(got); err != nil || !bytes.Equal(b, want) {
		t.Errorf("Encode = %v, %v; want %v", b, err, want)
	}
}

// TestGoldenHash pins the encoding of the sample table: a change to the
// format must be deliberate (and come with a new version).
func TestGoldenHash(t *testing.T) {
	b, err := schema.Encode(sampleTable(t))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	const want = "3be702fceb812f7c51a0fcf10fc4069f8ede979586d5a8171cb601d9f9f3b163"
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Errorf("sample table encodes to sha256 %s, want %s\n%x", got, want, b)
	}
}

// TestDecodeCorrupt ensures malformed bytes give corruption errors, never a
// table or a panic.
func TestDecodeCorrupt(t *testing.T) {
	good, err := schema.Encode(sampleTable(t))
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(good) {
		if _, err := schema.Decode(good[:n]); !errors.Is(err, chunk.ErrCorruption) {
			t.Errorf("truncated to %d bytes: %v", n, err)
		}
	}
	cases := map[string][]byte{
		"trailing byte":           append(minimal().empty(), 0),
		"version 0":               append([]byte{0}, minimal().empty()[1:]...),
		"long varint":             (&raw{}).byte(1).bytes(0x81, 0x00).bytes('t').str("").uv(0).b,
		"collation out of range":  (&raw{}).byte(1).str("t").str("").uv(70000).b,
		"unknown collation":       (&raw{}).byte(1).str("t").str("").uv(4000).uv(1).str("a").str("int").byte(0).str("").str("").uv(0).empty(),
		"huge column count":       (&raw{}).byte(1).str("t").str("").uv(0).uv(1 << 40).b,
		"no columns":              (&raw{}).byte(1).str("t").str("").uv(0).uv(0).uv(0).empty(),
		"unknown column flag":     (&raw{}).byte(1).str("t").str("").uv(0).uv(1).str("a").str("int").byte(0x40).str("").str("").uv(0).empty(),
		"bad type":                (&raw{}).byte(1).str("t").str("").uv(0).uv(1).str("a").str("nosuchtype").byte(0).str("").str("").uv(0).empty(),
		"empty type":              (&raw{}).byte(1).str("t").str("").uv(0).uv(1).str("a").str("").byte(0).str("").str("").uv(0).empty(),
		"extended type":           (&raw{}).byte(1).str("t").str("").uv(0).uv(1).str("a").str("extended_x").byte(0).str("").str("").uv(0).empty(),
		"duplicate column":        (&raw{}).byte(1).str("t").str("").uv(0).uv(2).str("a").str("int").byte(0).str("").str("").str("A").str("int").byte(0).str("").str("").uv(0).empty(),
		"virtual not generated":   (&raw{}).byte(1).str("t").str("").uv(0).uv(1).str("a").str("int").byte(4).str("").str("").uv(0).empty(),
		"pk ordinal out of range": (&raw{}).byte(1).str("t").str("").uv(0).uv(1).str("a").str("int").byte(0).str("").str("").uv(1).uv(1).empty(),
		"pk column twice":         (&raw{}).byte(1).str("t").str("").uv(0).uv(1).str("a").str("int").byte(0).str("").str("").uv(2).uv(0).uv(0).empty(),
		"pk prefixes all zero":    (&raw{}).byte(1).str("t").str("").uv(0).uv(1).str("a").str("int").byte(0).str("").str("").uv(1).uv(0).uv(1).uv(0).uv(0).uv(0).uv(0).b,
		"pk prefix count":         (&raw{}).byte(1).str("t").str("").uv(0).uv(1).str("a").str("int").byte(0).str("").str("").uv(1).uv(0).uv(2).uv(1).uv(1).uv(0).uv(0).uv(0).b,
		"pk prefix too long":      (&raw{}).byte(1).str("t").str("").uv(0).uv(1).str("a").str("int").byte(0).str("").str("").uv(1).uv(0).uv(1).uv(70000).uv(0).uv(0).uv(0).b,
		"unknown index flag":      minimal().uv(0).uv(1).str("i").byte(8).str("").uv(1).str("a").uv(0).uv(0).uv(0).b,
		"v3 unknown index flag":   v3(minimal().uv(0).uv(1).str("i").byte(16).str("").uv(1).str("a").uv(0).uv(0).uv(0).uv(0).uv(0).uv(0).b),
		"v3 none disabled":        v3(minimal().uv(0).uv(1).str("i").byte(0).str("").uv(1).str("a").uv(0).uv(0).uv(0).uv(0).uv(0).uv(0).b),
		"v3 unique disabled":      v3(minimal().uv(0).uv(1).str("i").byte(9).str("").uv(1).str("a").uv(0).uv(0).uv(0).uv(0).uv(0).uv(0).b),
		"v3 without extension":    v3(minimal().uv(0).uv(1).str("i").byte(8).str("").uv(1).str("a").uv(0).uv(0).uv(0).b),
		"index on missing column": minimal().uv(0).uv(1).str("i").byte(0).str("").uv(1).str("b").uv(0).uv(0).uv(0).b,
		"index without columns":   minimal().uv(0).uv(1).str("i").byte(0).str("").uv(0).uv(0).uv(0).uv(0).b,
		"indexes out of order":    minimal().uv(0).uv(2).str("j").byte(0).str("").uv(1).str("a").uv(0).str("i").byte(0).str("").uv(1).str("a").uv(0).uv(0).uv(0).b,
		"indexes repeated":        minimal().uv(0).uv(2).str("i").byte(0).str("").uv(1).str("a").uv(0).str("i").byte(0).str("").uv(1).str("a").uv(0).uv(0).uv(0).b,
		"index named primary":     minimal().uv(0).uv(1).str("PRIMARY").byte(0).str("").uv(1).str("a").uv(0).uv(0).uv(0).b,
		"bad boolean":             minimal().uv(0).uv(0).uv(1).str("c").str("(a > 0)").byte(2).uv(0).b,
		"fk column count":         minimal().uv(0).uv(0).uv(0).uv(1).str("fk").str("").str("").str("t").uv(1).str("a").str("").str("").str("p").uv(0).str("").str("").byte(0).b,
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := schema.Decode(b)
			if !errors.Is(err, chunk.ErrCorruption) {
				t.Errorf("Decode = %+v, %v; want corruption", got, err)
			}
		})
	}
}

// v3 sets the version byte of b to 3.
func v3(b []byte) []byte { b[0] = 3; return b }

// A table with a disabled index is written as version 3 (which older
// readers refuse as a newer version), and only such a table: enabling the
// index again gives back the bytes of before.
func TestDisabledIndexVersion(t *testing.T) {
	want := v3(minimal().uv(0).uv(1).str("i").byte(8).str("").uv(1).str("a").uv(0).uv(0).uv(0).uv(0).uv(0).uv(0).b)
	tbl, err := schema.Decode(want)
	if err != nil {
		t.Fatal(err)
	}
	if len(tbl.Indexes) != 1 || !tbl.Indexes[0].Disabled {
		t.Fatalf("decoded indexes %+v, want i disabled", tbl.Indexes)
	}
	if b, err := schema.Encode(tbl); err != nil || !bytes.Equal(b, want) {
		t.Errorf("Encode = %x, %v; want %x", b, err, want)
	}
	tbl.Indexes[0].Disabled = false
	enabled := minimal().uv(0).uv(1).str("i").byte(0).str("").uv(1).str("a").uv(0).uv(0).uv(0).b
	if b, err := schema.Encode(tbl); err != nil || !bytes.Equal(b, enabled) {
		t.Errorf("enabled: Encode = %x, %v; want %x", b, err, enabled)
	}
	tbl.Indexes[0].Disabled, tbl.Indexes[0].Unique = true, true
	if _, err := schema.Encode(tbl); !errors.Is(err, schema.ErrInvalidSchema) {
		t.Errorf("a disabled unique index encodes: %v", err)
	}
}

// TestDecodeNewerVersion ensures a schema from a newer cairn is refused as
// such, not as corruption.
func TestDecodeNewerVersion(t *testing.T) {
	b := minimal().empty()
	b[0] = schema.Version + 1
	_, err := schema.Decode(b)
	if !errors.Is(err, schema.ErrUnknownVersion) || errors.Is(err, chunk.ErrCorruption) {
		t.Errorf("Decode = %v, want ErrUnknownVersion", err)
	}
}

// FuzzDecode checks Decode on arbitrary bytes: it never panics, refuses
// with a corruption or version error, and what it accepts encodes again;
// after one round the bytes are stable. (Decode accepts any type text the
// engine parses, "INT" as well as "int", and Encode writes the canonical
// text, so the first round may change the bytes.)
func FuzzDecode(f *testing.F) {
	f.Add(minimal().empty())
	if b, err := schema.Encode(sampleTable(f)); err == nil {
		f.Add(b)
	}
	v2 := sampleTable(f) // format version 2
	v2.Columns = append(v2.Columns, schema.Column{Name: "t0", Type: mustType(f, "time"), Nullable: true, Declared: "time(3)"})
	v2.PKDescending = []bool{false, true}
	v2.Indexes[0].Descending = []bool{true, false}
	if b, err := schema.Encode(v2); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tbl, err := schema.Decode(data)
		if err != nil {
			if !errors.Is(err, chunk.ErrCorruption) && !errors.Is(err, schema.ErrUnknownVersion) {
				t.Fatalf("Decode: %v, neither corruption nor version", err)
			}
			return
		}
		b1, err := schema.Encode(tbl)
		if err != nil {
			t.Fatalf("decoded %+v does not encode: %v", tbl, err)
		}
		tbl2, err := schema.Decode(b1)
		if err != nil {
			t.Fatalf("re-encoded %x does not decode: %v", b1, err)
		}
		b2, err := schema.Encode(tbl2)
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("encoding not stable: %x then %x (%v)", b1, b2, err)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	data, err := schema.Encode(sampleTable(b))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := schema.Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	tbl := sampleTable(b)
	for b.Loop() {
		if _, err := schema.Encode(tbl); err != nil {
			b.Fatal(err)
		}
	}
}
