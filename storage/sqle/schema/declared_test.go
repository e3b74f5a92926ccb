package schema_test

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/sqle/schema"
)

func TestParseDeclared(t *testing.T) {
	for _, tc := range []struct {
		typ  string
		text string
		want schema.Refinement
	}{
		{"time(6)", "time", schema.Refinement{Time: true}},
		{"time(6)", "time(3)", schema.Refinement{Time: true, TimePrecision: 3}},
		{"decimal(10,2)", "decimal(10,2) unsigned", schema.Refinement{Unsigned: true}},
		{"float", "float unsigned", schema.Refinement{Unsigned: true}},
		{"float", "float(7,3)", schema.Refinement{Digits: 7, Decimals: 3}},
		{"double", "double(8,2) unsigned", schema.Refinement{Unsigned: true, Digits: 8, Decimals: 2}},
		{"double", "double(8,0)", schema.Refinement{Digits: 8}},
	} {
		typ := mustType(t, tc.typ)
		got, err := schema.ParseDeclared(typ, tc.text)
		if err != nil || got != tc.want {
			t.Errorf("ParseDeclared(%s, %q) = %+v, %v; want %+v", tc.typ, tc.text, got, err, tc.want)
		}
		if back := schema.DeclaredText(typ, got); back != tc.text {
			t.Errorf("DeclaredText(%s, %+v) = %q, want %q", tc.typ, got, back, tc.text)
		}
	}
	for _, tc := range []struct{ typ, text string }{
		{"time(6)", "time(6)"}, {"time(6)", "time(0)"}, {"time(6)", "TIME"}, {"time(6)", "time unsigned"},
		{"datetime", "time"}, {"decimal(10,2)", "decimal(10,2)"}, {"decimal(10,2)", "decimal(10,3) unsigned"},
		{"decimal(10,2)", "decimal(10, 2) unsigned"}, {"float", "float"}, {"float", "double unsigned"},
		{"double", "double(2,3)"}, {"double", "double(300,2)"}, {"double", "double(8)"}, {"int", "int unsigned"},
		{"float", "float(7,3) zerofill"}, {"float", "float(07,3)"}, {"float", ""},
	} {
		if r, err := schema.ParseDeclared(mustType(t, tc.typ), tc.text); err == nil {
			t.Errorf("ParseDeclared(%s, %q) = %+v, want an error", tc.typ, tc.text, r)
		}
	}
}

// Declared types and descending key columns are kept, in format version 2;
// a table without them is written as version 1.
func TestEncodeVersion2(t *testing.T) {
	tbl := sampleTable(t)
	tbl.Columns = append(tbl.Columns,
		schema.Column{Name: "t0", Type: types.Time, Nullable: true, Declared: "time"},
		schema.Column{Name: "price", Type: mustType(t, "decimal(10,2)"), Declared: "decimal(10,2) unsigned"})
	tbl.PKDescending = []bool{false, true}
	tbl.Indexes[2].Descending = []bool{true, false}
	b, err := schema.Encode(tbl)
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != 2 {
		t.Fatalf("version %d, want 2", b[0])
	}
	back, err := schema.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, tbl) {
		t.Errorf("decoded\n%+v\nwant\n%+v", back, tbl)
	}
	if again, err := schema.Encode(back); err != nil || !bytes.Equal(again, b) {
		t.Errorf("re-encoding changed the bytes: %v", err)
	}
	// All flags false is no flag at all: version 1.
	plain := sampleTable(t)
	plain.Indexes[0].Descending = []bool{false, false}
	b, err = schema.Encode(plain)
	if err != nil || b[0] != 1 {
		t.Fatalf("Encode = version %d, %v; want 1", b[0], err)
	}
	for n := range len(b) {
		if _, err := schema.Decode(b[:n]); !errors.Is(err, chunk.ErrCorruption) {
			t.Errorf("truncated to %d bytes: %v", n, err)
		}
	}
	// A declared type that does not refine the column is refused.
	bad := sampleTable(t)
	bad.Columns[0].Declared = "time"
	if _, err := schema.Encode(bad); !errors.Is(err, schema.ErrInvalidSchema) {
		t.Errorf("Encode with a bad declared type: %v", err)
	}
}

func TestDecodeVersion2Corrupt(t *testing.T) {
	v2 := func() *raw {
		r := &raw{}
		r.byte(2).str("t").str("").uv(0)
		r.uv(1).str("a").str("time(6)").byte(0).str("").str("")
		return r.uv(0).uv(0).uv(0).uv(0).uv(0) // no key, prefixes, indexes, checks, foreign keys
	}
	good := v2().uv(1).uv(0).str("time").uv(0).uv(0).b
	if tbl, err := schema.Decode(good); err != nil || tbl.Columns[0].Declared != "time" {
		t.Fatalf("Decode = %+v, %v", tbl, err)
	}
	for name, b := range map[string][]byte{
		"empty extension":        v2().uv(0).uv(0).uv(0).b,
		"position out of range":  v2().uv(1).uv(1).str("time").uv(0).uv(0).b,
		"empty declared":         v2().uv(1).uv(0).str("").uv(0).uv(0).b,
		"bad declared":           v2().uv(1).uv(0).str("time(6)").uv(0).uv(0).b,
		"pk flag without key":    v2().uv(0).uv(1).uv(0).uv(0).b,
		"index flag, no indexes": v2().uv(0).uv(0).uv(1).uv(0).uv(1).uv(0).b,
	} {
		if tbl, err := schema.Decode(b); !errors.Is(err, chunk.ErrCorruption) {
			t.Errorf("%s: Decode = %+v, %v; want corruption", name, tbl, err)
		}
	}
}
