package codec

import (
	"fmt"
	"math"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/sqltypes"
)

// kind is the encoding family of a column, fixed in the constructors so that
// the encoders and decoders switch on a small integer instead of inspecting
// sql.Type values for every value.
type kind uint8

const (
	kindUnsupported kind = iota
	kindInt8
	kindInt16
	kindInt32 // INT and MEDIUMINT (int32 values)
	kindInt64
	kindUint8
	kindUint16
	kindUint32 // INT UNSIGNED and MEDIUMINT UNSIGNED (uint32 values)
	kindUint64
	kindFloat32
	kindFloat64
	kindDecimal
	kindDate // DATE: compared by day
	kindDatetime
	kindTimestamp
	kindTime // TIME: types.Timespan
	kindYear
	kindBit
	kindEnum
	kindSet
	kindString // character strings: string
	kindBytes  // binary strings: []byte
	kindJSON
	kindGeometry
)

// column is what the codecs know about one column.
type column struct {
	typ  sql.Type
	kind kind

	// integers: the range of the column's Go type; BIT(n), ENUM and SET:
	// the largest valid value.
	min int64
	max uint64

	// decimals: round to scale before key encoding, as DecimalType.Compare does
	// for column types.
	roundScale bool
	scale      int32

	// character strings: the collation's weight function, and (in key
	// codecs) its weights of U+0000..U+00FF, which most text is made of:
	// some collations look weights up in a map.
	sorter sql.CollationSorter
	low    *[256]int32

	// enums: the number of elements (indexes above it are invalid).
	enumCount uint16
}

// classify returns the column description of t, with kindUnsupported for
// types the codecs do not know.
func classify(t sql.Type) column {
	c := column{typ: t}
	if t == nil {
		return c
	}
	switch t.Type() {
	case sqltypes.Int8:
		c.kind, c.min, c.max = kindInt8, math.MinInt8, math.MaxInt8
	case sqltypes.Int16:
		c.kind, c.min, c.max = kindInt16, math.MinInt16, math.MaxInt16
	case sqltypes.Int24, sqltypes.Int32:
		c.kind, c.min, c.max = kindInt32, math.MinInt32, math.MaxInt32
	case sqltypes.Int64:
		c.kind, c.min, c.max = kindInt64, math.MinInt64, math.MaxInt64
	case sqltypes.Uint8:
		c.kind, c.max = kindUint8, math.MaxUint8
	case sqltypes.Uint16:
		c.kind, c.max = kindUint16, math.MaxUint16
	case sqltypes.Uint24, sqltypes.Uint32:
		c.kind, c.max = kindUint32, math.MaxUint32
	case sqltypes.Uint64:
		c.kind, c.max = kindUint64, math.MaxUint64
	case sqltypes.Float32:
		c.kind = kindFloat32
	case sqltypes.Float64:
		c.kind = kindFloat64
	case sqltypes.Decimal:
		c.kind = kindDecimal
		if dt, ok := t.(sql.DecimalType); ok {
			c.scale = int32(dt.Scale())
			c.roundScale = roundsToScale(dt)
		}
	case sqltypes.Date:
		c.kind = kindDate
	case sqltypes.Datetime:
		c.kind = kindDatetime
	case sqltypes.Timestamp:
		c.kind = kindTimestamp
	case sqltypes.Time:
		c.kind = kindTime
	case sqltypes.Year:
		c.kind = kindYear
	case sqltypes.Bit:
		c.kind, c.max = kindBit, math.MaxUint64
		if bt, ok := t.(types.BitType); ok && bt.NumberOfBits() < 64 {
			c.max = 1<<bt.NumberOfBits() - 1
		}
	case sqltypes.Enum:
		c.kind = kindEnum
		if et, ok := t.(sql.EnumType); ok {
			c.enumCount = et.NumberOfElements()
			c.max = uint64(c.enumCount)
		}
	case sqltypes.Set:
		c.kind, c.max = kindSet, math.MaxUint64
		if st, ok := t.(sql.SetType); ok && st.NumberOfElements() < 64 {
			c.max = 1<<st.NumberOfElements() - 1
		}
	case sqltypes.Binary, sqltypes.VarBinary, sqltypes.Blob:
		c.kind = kindBytes
	case sqltypes.Char, sqltypes.VarChar, sqltypes.Text:
		c.kind = kindString
		coll := sql.Collation_Default
		if st, ok := t.(sql.StringType); ok {
			coll = st.Collation()
		}
		c.sorter = coll.Sorter()
		if coll == sql.Collation_binary {
			c.kind = kindBytes
		}
	case sqltypes.TypeJSON:
		c.kind = kindJSON
	case sqltypes.Geometry:
		c.kind = kindGeometry
	}
	if c.kind == kindString && c.sorter == nil {
		// GMS refuses to create string types whose collation has no sort
		// function; StringType.Compare could not compare them either.
		c.kind = kindUnsupported
	}
	if c.kind == kindBytes && t.ValueType() != bytesType {
		c.kind = kindUnsupported
	}
	return c
}

// roundsToScale reports whether dt's Compare rounds its operands to the
// type's scale, as it does for column types (types.CreateColumnDecimalType)
// and not for expression types. GMS does not export the flag, so this asks
// Compare about two values that differ only beyond the scale.
func roundsToScale(dt sql.DecimalType) bool {
	s := -int32(dt.Scale()) - 1
	cmp, err := dt.Compare(bg, decimalNew(1, s), decimalNew(2, s))
	return err == nil && cmp == 0
}

// String names the kind in error messages.
func (k kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

var kindNames = [...]string{
	kindUnsupported: "unsupported",
	kindInt8:        "int8",
	kindInt16:       "int16",
	kindInt32:       "int32",
	kindInt64:       "int64",
	kindUint8:       "uint8",
	kindUint16:      "uint16",
	kindUint32:      "uint32",
	kindUint64:      "uint64",
	kindFloat32:     "float32",
	kindFloat64:     "float64",
	kindDecimal:     "decimal",
	kindDate:        "date",
	kindDatetime:    "datetime",
	kindTimestamp:   "timestamp",
	kindTime:        "time",
	kindYear:        "year",
	kindBit:         "bit",
	kindEnum:        "enum",
	kindSet:         "set",
	kindString:      "string",
	kindBytes:       "bytes",
	kindJSON:        "json",
	kindGeometry:    "geometry",
}
