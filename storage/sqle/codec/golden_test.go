package codec

import (
	"encoding/hex"
	"testing"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/sqltypes"
	"github.com/shopspring/decimal"
)

// TestGoldenKeys pins the key encodings: these bytes are stored on disk
// and ordered by, so a change here must be deliberate (bump the formats in
// docs/format.md and upgrade stored data).
func TestGoldenKeys(t *testing.T) {
	ai := mustString(sqltypes.VarChar, 100, sql.Collation_utf8mb4_0900_ai_ci)
	bin := mustString(sqltypes.VarChar, 100, sql.Collation_utf8mb4_0900_bin)
	dec := types.MustCreateColumnDecimalType(20, 4)
	day := time.Date(2024, 2, 29, 13, 14, 15, 123456000, time.UTC)
	cases := []struct {
		typ  sql.Type
		v    any
		want string
	}{
		{types.Int32, nil, "00"},
		{types.Int32, int32(1), "0180000001"},
		{types.Int32, int32(-1), "017fffffff"},
		{types.Int8, int8(-128), "0100"},
		{types.Int64, int64(300), "01800000000000012c"},
		{types.Uint16, uint16(513), "010201"},
		{types.Uint64, uint64(1), "010000000000000001"},
		{types.Float64, 1.5, "01bff8000000000000"},
		{types.Float64, -1.5, "014007ffffffffffff"},
		{types.Float32, float32(0), "0180000000"},
		{dec, decimal.RequireFromString("0"), "0101"},
		{dec, decimal.RequireFromString("1.2300"), "01028001193c"},
		{dec, decimal.RequireFromString("-1.23"), "01007ffee6c3"},
		{dec, decimal.RequireFromString("12345.6789"), "010280051945719db4"},
		{types.Date, day, "0180061279f0c44000"},
		{types.DatetimeMaxPrecision, day, "0180061285093bba00"},
		{types.Time, types.Timespan(-1), "017fffffffffffffff"},
		{types.Year, int16(2024), "0187e8"},
		{types.MustCreateEnumType([]string{"a", "b"}, sql.Collation_Default), uint16(2), "010002"},
		{bin, "aB", "01634400"},
		{ai, "aB", "019d049d1d00"},
		{ai, "Ab", "019d049d1d00"},
		{ai, "é中😀", "019d55e03b90960b00"},
		{types.Blob, []byte{'a', 0, 'b'}, "016100ff620001"},
		{types.Blob, []byte{}, "010001"},
	}
	for _, c := range cases {
		k := mustKeyCodec(t, []sql.Type{c.typ}, nil)
		if got := hex.EncodeToString(encodeKey(t, k, c.v)); got != c.want {
			t.Errorf("key of %#v as %v = %s, want %s", c.v, c.typ, got, c.want)
		}
	}
}

// TestGoldenRows pins the row encoding.
func TestGoldenRows(t *testing.T) {
	ts := []sql.Type{types.Int32, types.Int32, mustString(sqltypes.Char, 120, sql.Collation_Default), types.Uint64,
		types.MustCreateColumnDecimalType(20, 4), types.Float64, types.DatetimeMaxPrecision, types.Blob, types.JSON, types.PointType{}}
	r := NewRowCodec(ts)
	cases := []struct {
		row  []any
		want string
	}{
		{[]any{int32(1), int32(-2), "ab", uint64(300), decimal.RequireFromString("-1.2300"), 0.5,
			time.Date(2024, 2, 29, 13, 14, 15, 123456000, time.UTC), []byte{0, 1},
			types.JSONDocument{Val: map[string]any{"bb": []any{true, nil}, "a": int64(-1), "c": "x"}},
			types.Point{SRID: 4326, X: 1, Y: -2}},
			"010a00000203026162ac020705300c000000000000e03f80e8dd93a1a189060200011208030161030101630601780262620702020013" +
				"e62101000000000000f03f00000000000000c0"},
		{[]any{nil, nil, nil, nil, nil, nil, nil, nil, nil, nil}, "010aff03"},
	}
	for _, c := range cases {
		if got := hex.EncodeToString(encodeRow(t, r, c.row...)); got != c.want {
			t.Errorf("row %#v = %s, want %s", c.row, got, c.want)
		}
	}
}
