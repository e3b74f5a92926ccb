package codec

import (
	"strings"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/sqltypes"
)

// sysbenchRow is a row of sysbench's sbtest tables: id INT, k INT,
// c CHAR(120), pad CHAR(60).
func sysbenchRow() ([]sql.Type, []any) {
	ts := []sql.Type{types.Int32, types.Int32,
		types.MustCreateString(sqltypes.Char, 120, sql.Collation_Default),
		types.MustCreateString(sqltypes.Char, 60, sql.Collation_Default)}
	c := strings.Repeat("83868641912-", 10)[:119]
	pad := strings.Repeat("67847967377-", 5)[:59]
	return ts, []any{int32(1234567), int32(499871), c, pad}
}

func BenchmarkRowEncode(b *testing.B) {
	ts, row := sysbenchRow()
	r := NewRowCodec(ts)
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = r.Encode(buf[:0], row); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkRowDecode(b *testing.B) {
	ts, row := sysbenchRow()
	r := NewRowCodec(ts)
	enc, err := r.Encode(nil, row)
	if err != nil {
		b.Fatal(err)
	}
	out := make([]any, len(ts))
	b.ReportAllocs()
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		if err := r.Decode(enc, out); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRowDecodeColumns(b *testing.B) {
	ts, row := sysbenchRow()
	r := NewRowCodec(ts)
	enc, err := r.Encode(nil, row)
	if err != nil {
		b.Fatal(err)
	}
	cols := []int{2}
	out := make([]any, len(cols))
	b.ReportAllocs()
	for b.Loop() {
		if err := r.DecodeColumns(enc, cols, out); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKeyEncodeInt(b *testing.B) {
	k, err := NewKeyCodec([]sql.Type{types.Int32}, nil)
	if err != nil {
		b.Fatal(err)
	}
	vals := []any{int32(1234567)}
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		if buf, err = k.Encode(buf[:0], vals); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKeyEncodeString(b *testing.B) {
	for _, c := range []sql.CollationID{sql.Collation_utf8mb4_0900_bin, sql.Collation_utf8mb4_0900_ai_ci} {
		b.Run(c.Name(), func(b *testing.B) {
			_, row := sysbenchRow()
			k, err := NewKeyCodec([]sql.Type{types.MustCreateString(sqltypes.Char, 120, c)}, nil)
			if err != nil {
				b.Fatal(err)
			}
			vals := row[2:3]
			buf := make([]byte, 0, 512)
			b.ReportAllocs()
			for b.Loop() {
				if buf, err = k.Encode(buf[:0], vals); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
