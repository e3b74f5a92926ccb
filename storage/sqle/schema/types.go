package schema

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/planbuilder"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/sqltypes"
)

// Types are stored as the text of a column type in CREATE TABLE, parsed back
// with the engine's own parser (planbuilder.ParseColumnTypeString). Type.String
// alone is not enough, because it leaves out what the engine prints only
// relative to the table:
//   - character set and collation of strings, enums and sets, omitted when
//     they are the default (utf8mb4_0900_bin), which the parser would read
//     back as "unspecified";
//   - enum and set values, written between quotes without escaping;
//   - the SRID of spatial types.
// typeText writes all of these out, so the text means the same type whatever
// the table's collation.

// typeText returns the text stored for t.
func typeText(t sql.Type) string {
	switch t := t.(type) {
	case sql.StringType:
		return stringTypeText(t)
	case sql.EnumType:
		return valuesText("enum", t.Values()) + charsetText(t.Collation())
	case sql.SetType:
		return valuesText("set", t.Values()) + charsetText(t.Collation())
	case sql.SpatialColumnType:
		s := t.(sql.Type).String()
		if srid, defined := t.GetSpatialTypeSRID(); defined {
			s += " SRID " + strconv.FormatUint(uint64(srid), 10)
		}
		return s
	}
	return t.String()
}

// stringTypeText writes CHAR, VARCHAR, TEXT and their binary kin. The
// engine rounds TEXT and BLOB lengths up to one of four sizes, named here as
// Type.String names them.
func stringTypeText(t sql.StringType) string {
	var s string
	switch t.Type() {
	case sqltypes.Char:
		s = fmt.Sprintf("char(%d)", t.MaxCharacterLength())
	case sqltypes.VarChar:
		s = fmt.Sprintf("varchar(%d)", t.MaxCharacterLength())
	case sqltypes.Text:
		s = "long"
		switch n := t.MaxByteLength(); {
		case n <= types.TinyTextBlobMax:
			s = "tiny"
		case n <= types.TextBlobMax:
			s = ""
		case n <= types.MediumTextBlobMax:
			s = "medium"
		}
		s += "text"
	default:
		// Binary strings have no character set or collation to name.
		return t.String()
	}
	return s + charsetText(t.Collation())
}

// charsetText names a collation and its character set in full; nothing for
// Collation_Unspecified, which the parser gives when there is no clause.
func charsetText(c sql.CollationID) string {
	if c == sql.Collation_Unspecified {
		return ""
	}
	return " CHARACTER SET " + c.CharacterSet().Name() + " COLLATE " + c.Name()
}

// valuesText writes ENUM or SET values as SQL string literals, quotes and
// backslashes escaped.
func valuesText(kind string, values []string) string {
	var b strings.Builder
	b.WriteString(kind)
	b.WriteByte('(')
	for i, v := range values {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('\'')
		for j := 0; j < len(v); j++ {
			switch v[j] {
			case '\'':
				b.WriteString("''")
			case '\\':
				b.WriteString(`\\`)
			default:
				b.WriteByte(v[j])
			}
		}
		b.WriteByte('\'')
	}
	b.WriteByte(')')
	return b.String()
}

// parseType parses stored type text. The parser is the engine's, fed bytes
// from disk; a panic in it is reported as an error, not passed on.
func parseType(text string) (t sql.Type, err error) {
	defer func() {
		if r := recover(); r != nil {
			t, err = nil, fmt.Errorf("parser panic: %v", r)
		}
	}()
	if strings.HasPrefix(text, planbuilder.ExtendedTypeTag) {
		// Extended types are Doltgres's; this engine does not make them.
		return nil, fmt.Errorf("extended type %q", text)
	}
	t, err = planbuilder.ParseColumnTypeString(text)
	if err == nil && t == nil {
		err = fmt.Errorf("no type")
	}
	return t, err
}

// sameType reports whether a and b are the same column type in every respect
// the engine shows or acts on: Equals, String, and what those two miss.
func sameType(a, b sql.Type) bool {
	if !a.Equals(b) || !b.Equals(a) || a.String() != b.String() {
		return false
	}
	switch a := a.(type) {
	case sql.StringType:
		b := b.(sql.StringType)
		return a.MaxByteLength() == b.MaxByteLength() && a.Collation() == b.Collation()
	case sql.SpatialColumnType:
		bs, ok := b.(sql.SpatialColumnType)
		if !ok {
			return false
		}
		as, ad := a.GetSpatialTypeSRID()
		bsr, bd := bs.GetSpatialTypeSRID()
		return as == bsr && ad == bd
	}
	return true
}

// storableTypeText returns the text stored for t after checking that it
// parses back to the same type.
func storableTypeText(t sql.Type) (string, error) {
	text := typeText(t)
	back, err := parseType(text)
	if err != nil {
		return "", fmt.Errorf("%s: text %q does not parse: %v: %w", t, text, err, ErrUnsupportedType)
	}
	if !sameType(t, back) {
		return "", fmt.Errorf("%s: text %q parses to %s: %w", t, text, back, ErrUnsupportedType)
	}
	return text, nil
}
