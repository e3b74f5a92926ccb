package codec

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/sqltypes"
	"github.com/shopspring/decimal"
)

// fuzzRowTypes has a column of every row encoding.
func fuzzRowTypes() []sql.Type {
	return []sql.Type{types.Int8, types.Int64, types.Uint32, types.Float32, types.Float64,
		types.MustCreateColumnDecimalType(65, 10), types.DatetimeMaxPrecision, types.Time, types.Year,
		types.MustCreateBitType(10), types.MustCreateEnumType([]string{"a", "b"}, sql.Collation_Default),
		types.MustCreateSetType([]string{"a", "b"}, sql.Collation_Default), types.Text, types.Blob,
		types.JSON, types.GeometryType{}}
}

func fuzzRowSeeds(t testing.TB, r *RowCodec) [][]byte {
	rows := [][]any{
		{int8(-1), int64(1 << 40), uint32(7), float32(1.5), -2.5, decimal.RequireFromString("-12345678901234567890.5"),
			time.Unix(0, 0).UTC(), types.Timespan(5), int16(2000), uint64(3), uint16(2), uint64(3), "text", []byte{0, 1},
			types.JSONDocument{Val: map[string]any{"a": []any{int64(1), 2.5, "x", nil, true, uint64(1 << 63), decimal.New(5, -1)}}},
			types.GeomColl{SRID: 4326, Geoms: []types.GeometryValue{
				types.Point{SRID: 4326, X: 1, Y: 2},
				types.Polygon{SRID: 4326, Lines: []types.LineString{{SRID: 4326, Points: []types.Point{{SRID: 4326}, {SRID: 4326, X: 1}}}}},
				types.MultiPolygon{SRID: 4326, Polygons: []types.Polygon{{SRID: 4326}}},
				types.MultiLineString{SRID: 4326}, types.MultiPoint{SRID: 4326}, types.LineString{SRID: 4326},
			}}},
		make([]any, 16),
	}
	var seeds [][]byte
	for _, row := range rows {
		b, err := r.Encode(nil, row)
		if err != nil {
			t.Fatalf("encode seed: %v", err)
		}
		seeds = append(seeds, b)
	}
	return seeds
}

// FuzzRowDecode ensures that decoding arbitrary bytes never panics, that
// every failure is reported as corruption, and that what decodes encodes to
// the same bytes: every row has one encoding.
func FuzzRowDecode(f *testing.F) {
	r := NewRowCodec(fuzzRowTypes())
	for _, s := range fuzzRowSeeds(f, r) {
		f.Add(s)
	}
	row := make([]any, r.Columns())
	out := make([]any, 3)
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := r.DecodeColumns(data, []int{14, 2, 15}, out); err != nil && !errors.Is(err, chunk.ErrCorruption) {
			t.Fatalf("DecodeColumns: %v is not corruption", err)
		}
		if err := r.DecodeColumnsArena(data, []int{15, 3, 14}, out, &Arena{}); err != nil && !errors.Is(err, chunk.ErrCorruption) {
			t.Fatalf("DecodeColumnsArena: %v is not corruption", err)
		}
		err := r.Decode(data, row)
		if err != nil {
			if !errors.Is(err, chunk.ErrCorruption) {
				t.Fatalf("Decode: %v is not corruption", err)
			}
			return
		}
		enc, err := r.Encode(nil, row)
		if err != nil {
			t.Fatalf("encode decoded row %#v: %v", row, err)
		}
		if !bytes.Equal(enc, data) {
			t.Fatalf("row %x decodes to %#v, which encodes as %x", data, row, enc)
		}
	})
}

// FuzzKeySplit ensures that splitting arbitrary bytes as keys never panics
// and reports failures as corruption.
func FuzzKeySplit(f *testing.F) {
	k, err := NewKeyCodec([]sql.Type{types.Int32, mustString(sqltypes.VarChar, 100, sql.Collation_utf8mb4_0900_ai_ci),
		types.Blob, types.MustCreateColumnDecimalType(30, 5), types.Float64, types.Date}, nil)
	if err != nil {
		f.Fatal(err)
	}
	for _, vals := range [][]any{
		{int32(5), "héllo😀", []byte{0, 0xFF, 0}, decimal.RequireFromString("-123.45"), 1.5, time.Unix(0, 0).UTC()},
		{nil, nil, nil, nil, nil, nil},
		{int32(-1), "", []byte{}, decimal.Zero, 0.0, time.Unix(1e9, 0).UTC()},
	} {
		key, err := k.Encode(nil, vals)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(key)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for n := 0; n <= k.Columns(); n++ {
			segs, err := k.Split(data, n)
			if err != nil {
				if !errors.Is(err, chunk.ErrCorruption) {
					t.Fatalf("Split: %v is not corruption", err)
				}
				continue
			}
			total := 0
			for _, s := range segs {
				total += len(s)
			}
			if len(segs) != n || total > len(data) {
				t.Fatalf("Split(%x, %d) = %x", data, n, segs)
			}
		}
	})
}
