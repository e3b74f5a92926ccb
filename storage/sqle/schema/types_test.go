package schema_test

import (
	"reflect"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/planbuilder"

	"github.com/cairndb/cairn/storage/sqle/schema"
)

// Every column type the engine supports, as CREATE TABLE spells it, with
// table options where they decide the type (a table's character set is the
// default of its string columns).
var typeCases = []struct {
	typ, tableOpts string
}{
	{typ: "tinyint"}, {typ: "tinyint unsigned"}, {typ: "boolean"}, {typ: "bool"}, {typ: "tinyint(1)"},
	{typ: "tinyint(4)"}, {typ: "smallint"}, {typ: "smallint unsigned"}, {typ: "mediumint"},
	{typ: "mediumint unsigned"}, {typ: "int"}, {typ: "integer unsigned"}, {typ: "int(11)"}, {typ: "bigint"},
	{typ: "bigint unsigned"}, {typ: "bigint(20) unsigned"},
	{typ: "float"}, {typ: "float(30)"}, {typ: "double"}, {typ: "real"}, {typ: "double precision"},
	{typ: "decimal"}, {typ: "decimal(10,2)"}, {typ: "decimal(65,30)"}, {typ: "decimal(1,0)"}, {typ: "numeric(5)"},
	{typ: "bit"}, {typ: "bit(1)"}, {typ: "bit(17)"}, {typ: "bit(64)"},

	{typ: "char"}, {typ: "char(1)"}, {typ: "char(255)"}, {typ: "varchar(10)"}, {typ: "varchar(16000)"},
	{typ: "char(10) character set latin1"}, {typ: "varchar(20) collate utf8mb4_0900_ai_ci"},
	{typ: "varchar(20) character set utf8mb4 collate utf8mb4_0900_bin"},
	{typ: "varchar(20) character set utf8mb4 collate utf8mb4_0900_ai_ci"},
	{typ: "varchar(20) character set utf8mb3"}, {typ: "varchar(20) character set utf8"},
	{typ: "varchar(20) collate utf8mb3_general_ci"}, {typ: "varchar(20) collate utf8mb3_bin"},
	{typ: "varchar(20) character set latin1 collate latin1_bin"}, {typ: "varchar(20) collate latin1_swedish_ci"},
	{typ: "varchar(20) character set ascii"}, {typ: "varchar(20) character set binary"},
	{typ: "char(5) character set binary"}, {typ: "varchar(20) binary"},
	{typ: "nchar(10)"}, {typ: "nvarchar(10)"}, {typ: "national varchar(10)"},
	{typ: "varchar(10)", tableOpts: "character set latin1"},
	{typ: "varchar(10)", tableOpts: "collate utf8mb4_0900_ai_ci"},
	{typ: "varchar(10) collate utf8mb4_0900_bin", tableOpts: "collate utf8mb4_0900_ai_ci"},
	{typ: "varchar(10)", tableOpts: "character set utf8mb3"},
	{typ: "tinytext"}, {typ: "text"}, {typ: "mediumtext"}, {typ: "longtext"}, {typ: "long varchar"},
	{typ: "tinytext character set latin1"}, {typ: "text character set latin1"},
	{typ: "mediumtext collate utf8mb4_0900_ai_ci"}, {typ: "longtext character set utf8mb3"},
	{typ: "text", tableOpts: "character set latin1"}, {typ: "text character set binary"},
	{typ: "binary"}, {typ: "binary(16)"}, {typ: "varbinary(255)"}, {typ: "varbinary(65000)"},
	{typ: "tinyblob"}, {typ: "blob"}, {typ: "mediumblob"}, {typ: "longblob"},

	{typ: "enum('a','b','c')"},
	{typ: `enum('it''s','a,b','with space','back\\slash','MiXeD','lower','"dq"','x''''y','')`},
	{typ: `enum('A','b ','trailing  ')`}, {typ: "enum('ü','日本語','ß')"},
	{typ: "enum('a','B') collate utf8mb4_0900_ai_ci"}, {typ: "enum('a','b') character set latin1"},
	{typ: "enum('a','b') character set latin1 collate latin1_bin"}, {typ: "enum('a','b') character set binary"},
	{typ: "enum('a','b')", tableOpts: "collate utf8mb4_0900_ai_ci"},
	{typ: "enum('a','b')", tableOpts: "character set latin1"},
	{typ: "set('a','b','c')"}, {typ: `set('it''s','with space','back\\slash','MiXeD','"dq"','')`},
	{typ: "set('a','B') collate utf8mb4_0900_ai_ci"}, {typ: "set('x','y') character set latin1"},
	{typ: "set('a','b')", tableOpts: "character set utf8mb3"},

	{typ: "date"}, {typ: "datetime"}, {typ: "datetime(0)"}, {typ: "datetime(1)"}, {typ: "datetime(2)"},
	{typ: "datetime(3)"}, {typ: "datetime(4)"}, {typ: "datetime(5)"}, {typ: "datetime(6)"},
	{typ: "timestamp"}, {typ: "timestamp(0)"}, {typ: "timestamp(1)"}, {typ: "timestamp(2)"},
	{typ: "timestamp(3)"}, {typ: "timestamp(4)"}, {typ: "timestamp(5)"}, {typ: "timestamp(6)"},
	{typ: "time"}, {typ: "time(6)"}, {typ: "year"},
	{typ: "json"},

	{typ: "geometry"}, {typ: "point"}, {typ: "linestring"}, {typ: "polygon"}, {typ: "multipoint"},
	{typ: "multilinestring"}, {typ: "multipolygon"}, {typ: "geometrycollection"},
	{typ: "geometry srid 0"}, {typ: "geometry srid 4326"}, {typ: "point srid 0"}, {typ: "point srid 4326"},
	{typ: "point srid 3857"}, {typ: "linestring srid 4326"}, {typ: "polygon srid 4326"},
	{typ: "multipoint srid 4326"}, {typ: "multilinestring srid 3857"}, {typ: "multipolygon srid 4326"},
	{typ: "geometrycollection srid 4326"},
}

// TestTypesRoundTrip ensures that every column type the engine makes, in
// CREATE TABLE, comes back from Encode and Decode as the very same type, and
// that SHOW CREATE TABLE of the stored table prints what the memory engine
// prints.
func TestTypesRoundTrip(t *testing.T) {
	for _, tc := range typeCases {
		t.Run(tc.typ+" "+tc.tableOpts, func(t *testing.T) {
			e := newEngines(t)
			e.exec(t, "CREATE TABLE t (pk int primary key, c "+tc.typ+") "+tc.tableOpts)
			want := e.db.created["t"].Columns[1].Type
			b, err := schema.Encode(e.db.created["t"])
			if err != nil {
				t.Fatal(err)
			}
			back, err := schema.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			checkSameType(t, back.Columns[1].Type, want)
			e.same(t, "SHOW CREATE TABLE t")
			e.same(t, "SHOW FULL COLUMNS FROM t")
		})
	}
}

// TestParsedTypesRoundTrip ensures that types as the type parser makes them,
// before the engine gives them the table's collation, also round-trip.
func TestParsedTypesRoundTrip(t *testing.T) {
	for _, tc := range typeCases {
		if tc.tableOpts != "" {
			continue
		}
		t.Run(tc.typ, func(t *testing.T) {
			want, err := planbuilder.ParseColumnTypeString(tc.typ)
			if err != nil {
				t.Fatal(err)
			}
			col, err := schema.ColumnFromSQL(&sql.Column{Name: "c", Type: want})
			if err != nil {
				t.Fatal(err)
			}
			tbl := &schema.Table{Name: "t", Columns: []schema.Column{col}}
			b, err := schema.Encode(tbl)
			if err != nil {
				t.Fatal(err)
			}
			back, err := schema.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			checkSameType(t, back.Columns[0].Type, want)
		})
	}
}

// checkSameType fails unless got is want in every respect: Equals, String
// and every field.
func checkSameType(t *testing.T, got, want sql.Type) {
	t.Helper()
	if !got.Equals(want) || !want.Equals(got) {
		t.Errorf("type %s (%#v) does not equal %s (%#v)", got, got, want, want)
	}
	if got.String() != want.String() {
		t.Errorf("type prints as %q, want %q", got.String(), want.String())
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("type %#v\nwant %#v", got, want)
	}
}
