package schema_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/planbuilder"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/cairndb/cairn/storage/sqle/schema"
)

// mustType parses a column type as CREATE TABLE spells it.
func mustType(t testing.TB, s string) sql.Type {
	t.Helper()
	typ, err := planbuilder.ParseColumnTypeString(s)
	if err != nil {
		t.Fatalf("parse type %q: %v", s, err)
	}
	return typ
}

// sampleTable has one of everything a schema holds, in the form Decode
// returns (indexes sorted by name, nil for what is absent).
func sampleTable(t testing.TB) *schema.Table {
	t.Helper()
	return &schema.Table{
		Name: "Orders",
		Columns: []schema.Column{
			{Name: "id", Type: types.Int64, AutoIncrement: true, Extra: "auto_increment"},
			{Name: "Region", Type: mustType(t, "varchar(20) collate utf8mb4_0900_ai_ci"), Nullable: true, HasDefault: true, Default: "'north'", Comment: "where"},
			{Name: "status", Type: mustType(t, `enum('new','it''s','a,b') character set latin1`), HasDefault: true, Default: "'new'"},
			{Name: "at", Type: mustType(t, "datetime(6)"), HasDefault: true, Default: "CURRENT_TIMESTAMP(6)", HasOnUpdate: true, OnUpdate: "CURRENT_TIMESTAMP(6)", Extra: "DEFAULT_GENERATED on update CURRENT_TIMESTAMP(6)"},
			{Name: "doc", Type: types.JSON, Nullable: true},
			{Name: "note", Type: mustType(t, "text"), Nullable: true, HasDefault: true, Default: ""},
			{Name: "where", Type: mustType(t, "point srid 4326")},
			{Name: "twice", Type: types.Int64, Nullable: true, HasGenerated: true, Generated: "((`id` * 2))", Virtual: true, Extra: "VIRTUAL GENERATED"},
			{Name: "customer", Type: types.Int32},
		},
		PKOrdinals:      []int{1, 0},
		PKPrefixLengths: []uint16{4, 0},
		Indexes: []schema.Index{
			{Name: "by_customer", Columns: []string{"customer", "at"}},
			{Name: "ft", Columns: []string{"note"}, Fulltext: true},
			{Name: "note_prefix", Columns: []string{"note", "Region"}, PrefixLengths: []uint16{10, 0}, Unique: true, Comment: "prefix"},
			{Name: "sp", Columns: []string{"where"}, Spatial: true},
		},
		Checks: []sql.CheckDefinition{
			{Name: "orders_chk_1", CheckExpression: "(`id` > 0)", Enforced: true},
			{Name: "lazy", CheckExpression: "(`customer` <> 7)"},
		},
		ForeignKeys: []sql.ForeignKeyConstraint{{
			Name: "fk_customer", Database: "mydb", Table: "Orders", Columns: []string{"customer"},
			ParentDatabase: "mydb", ParentTable: "customers", ParentColumns: []string{"id"},
			OnUpdate: sql.ForeignKeyReferentialAction_Cascade, OnDelete: sql.ForeignKeyReferentialAction_SetNull, IsResolved: true,
		}},
		Comment:   "all the orders",
		Collation: sql.Collation_utf8mb4_0900_ai_ci,
	}
}

// TestEncodeRoundTrip ensures that Decode gives back exactly the table
// Encode was given, and that re-encoding it gives the same bytes.
func TestEncodeRoundTrip(t *testing.T) {
	for _, tbl := range []*schema.Table{
		sampleTable(t),
		{Name: "t", Columns: []schema.Column{{Name: "a", Type: types.Int32}}},
	} {
		b, err := schema.Encode(tbl)
		if err != nil {
			t.Fatal(err)
		}
		back, err := schema.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, tbl) {
			t.Errorf("decoded\n%+v\nwant\n%+v", back, tbl)
		}
		again, err := schema.Encode(back)
		if err != nil {
			t.Fatal(err)
		}
		if string(again) != string(b) {
			t.Errorf("re-encoding changed the bytes:\n%x\n%x", again, b)
		}
	}
}

// TestEncodeDeterministic ensures that tables that differ only in what the
// format does not keep (order of indexes, prefix lengths that are all zero)
// give the same bytes.
func TestEncodeDeterministic(t *testing.T) {
	want, err := schema.Encode(sampleTable(t))
	if err != nil {
		t.Fatal(err)
	}
	tbl := sampleTable(t)
	slices.Reverse(tbl.Indexes)
	tbl.Indexes[0].PrefixLengths = []uint16{0}
	if got, err := schema.Encode(tbl); err != nil || string(got) != string(want) {
		t.Errorf("reordered indexes encode differently (err %v)", err)
	}
	if len(tbl.Indexes) != 4 || tbl.Indexes[0].Name != "sp" {
		t.Errorf("Encode changed its argument: %+v", tbl.Indexes)
	}
	keyless := &schema.Table{Name: "k", Columns: []schema.Column{{Name: "a", Type: types.Int8}}, PKPrefixLengths: []uint16{}}
	plain := &schema.Table{Name: "k", Columns: []schema.Column{{Name: "a", Type: types.Int8}}}
	a, _ := schema.Encode(keyless)
	b, _ := schema.Encode(plain)
	if string(a) != string(b) {
		t.Errorf("empty and nil prefix lengths encode differently")
	}
}

// TestHelpers ensures the look-ups the engine uses find columns and indexes
// case-insensitively and list stored columns and key types in order.
func TestHelpers(t *testing.T) {
	tbl := sampleTable(t)
	for name, want := range map[string]int{"id": 0, "ID": 0, "region": 1, "REGION": 1, "customer": 8, "nope": -1, "": -1} {
		if got := tbl.ColumnIndex(name); got != want {
			t.Errorf("ColumnIndex(%q) = %d, want %d", name, got, want)
		}
	}
	for name, want := range map[string]int{"by_customer": 0, "FT": 1, "Note_Prefix": 2, "sp": 3, "primary": -1, "x": -1} {
		got, ok := tbl.IndexByName(name)
		if got != want || ok != (want >= 0) {
			t.Errorf("IndexByName(%q) = %d, %v; want %d", name, got, ok, want)
		}
	}
	if got, want := tbl.StoredColumns(), []int{0, 1, 2, 3, 4, 5, 6, 8}; !slices.Equal(got, want) {
		t.Errorf("StoredColumns = %v, want %v", got, want)
	}
	if got := tbl.PKTypes(); len(got) != 2 || !got[0].Equals(tbl.Columns[1].Type) || !got[1].Equals(types.Int64) {
		t.Errorf("PKTypes = %v", got)
	}
	keyless := &schema.Table{Name: "k", Columns: []schema.Column{{Name: "a", Type: types.Int8}}}
	if got := keyless.PKTypes(); len(got) != 0 {
		t.Errorf("keyless PKTypes = %v", got)
	}
}

// TestClone ensures a clone shares no slice with the original.
func TestClone(t *testing.T) {
	orig := sampleTable(t)
	c := orig.Clone()
	if !reflect.DeepEqual(c, orig) {
		t.Fatal("clone differs")
	}
	c.Name = "x"
	c.Columns[0].Name = "x"
	c.PKOrdinals[0] = 5
	c.PKPrefixLengths[0] = 9
	c.Indexes[0].Columns[0] = "x"
	c.Indexes[2].PrefixLengths[0] = 1
	c.Checks[0].Name = "x"
	c.ForeignKeys[0].Columns[0] = "x"
	c.ForeignKeys[0].ParentColumns[0] = "x"
	if !reflect.DeepEqual(orig, sampleTable(t)) {
		t.Errorf("changing the clone changed the original: %+v", orig)
	}
}

// TestValidate ensures each rule of Validate refuses a table that breaks it,
// in Validate and in Encode alike.
func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*schema.Table)
	}{
		{"empty table name", func(s *schema.Table) { s.Name = "" }},
		{"no columns", func(s *schema.Table) { s.Columns = nil; s.PKOrdinals = nil; s.Indexes = nil; s.ForeignKeys = nil }},
		{"empty column name", func(s *schema.Table) { s.Columns[2].Name = "" }},
		{"duplicate column", func(s *schema.Table) { s.Columns[2].Name = "REGION" }},
		{"no type", func(s *schema.Table) { s.Columns[2].Type = nil }},
		{"two auto-increment", func(s *schema.Table) { s.Columns[8].AutoIncrement = true }},
		{"virtual not generated", func(s *schema.Table) { s.Columns[4].Virtual = true }},
		{"default text without flag", func(s *schema.Table) { s.Columns[4].Default = "1" }},
		{"generated text without flag", func(s *schema.Table) { s.Columns[4].Generated = "1" }},
		{"on update text without flag", func(s *schema.Table) { s.Columns[4].OnUpdate = "1" }},
		{"pk ordinal out of range", func(s *schema.Table) { s.PKOrdinals[0] = 9 }},
		{"negative pk ordinal", func(s *schema.Table) { s.PKOrdinals[0] = -1 }},
		{"pk column twice", func(s *schema.Table) { s.PKOrdinals[0] = 0 }},
		{"pk prefix count", func(s *schema.Table) { s.PKPrefixLengths = []uint16{1} }},
		{"empty index name", func(s *schema.Table) { s.Indexes[1].Name = "" }},
		{"index named primary", func(s *schema.Table) { s.Indexes[1].Name = "Primary" }},
		{"duplicate index", func(s *schema.Table) { s.Indexes[1].Name = "SP" }},
		{"index without columns", func(s *schema.Table) { s.Indexes[1].Columns = nil }},
		{"index on missing column", func(s *schema.Table) { s.Indexes[1].Columns = []string{"nope"} }},
		{"index prefix count", func(s *schema.Table) { s.Indexes[2].PrefixLengths = []uint16{3} }},
		{"unnamed check", func(s *schema.Table) { s.Checks[0].Name = "" }},
		{"empty check", func(s *schema.Table) { s.Checks[0].CheckExpression = "" }},
		{"duplicate check", func(s *schema.Table) { s.Checks[1].Name = "ORDERS_chk_1" }},
		{"fk column count", func(s *schema.Table) { s.ForeignKeys[0].ParentColumns = nil }},
		{"fk on missing column", func(s *schema.Table) { s.ForeignKeys[0].Columns = []string{"nope"} }},
		{"unknown collation", func(s *schema.Table) { s.Collation = 60000 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sampleTable(t)
			tc.change(s)
			if err := s.Validate(); !errors.Is(err, schema.ErrInvalidSchema) {
				t.Errorf("Validate = %v, want ErrInvalidSchema", err)
			}
			if _, err := schema.Encode(s); !errors.Is(err, schema.ErrInvalidSchema) {
				t.Errorf("Encode = %v, want ErrInvalidSchema", err)
			}
		})
	}
	if err := sampleTable(t).Validate(); err != nil {
		t.Errorf("sample: %v", err)
	}
}

// TestFromSQL ensures FromSQL keeps what CreateTable receives, and keeps
// nothing the engine could change afterwards.
func TestFromSQL(t *testing.T) {
	s := sql.NewPrimaryKeySchema(sql.Schema{
		{Name: "a", Type: types.Int32, Source: "t", PrimaryKey: true},
		{Name: "b", Type: types.Text, Nullable: true, Source: "t", Default: sql.NewUnresolvedColumnDefaultValue("'x'"), Comment: "bee"},
		{Name: "c", Type: types.Int64, Source: "t", PrimaryKey: true, AutoIncrement: true, Extra: "auto_increment"},
	}, 2, 0)
	tbl, err := schema.FromSQL("t", s, sql.Collation_utf8mb4_0900_bin, "comment")
	if err != nil {
		t.Fatal(err)
	}
	want := &schema.Table{
		Name: "t",
		Columns: []schema.Column{
			{Name: "a", Type: types.Int32},
			{Name: "b", Type: types.Text, Nullable: true, HasDefault: true, Default: "'x'", Comment: "bee"},
			{Name: "c", Type: types.Int64, AutoIncrement: true, Extra: "auto_increment"},
		},
		PKOrdinals: []int{2, 0},
		Comment:    "comment",
		Collation:  sql.Collation_utf8mb4_0900_bin,
	}
	if !reflect.DeepEqual(tbl, want) {
		t.Fatalf("FromSQL = %+v\nwant %+v", tbl, want)
	}
	s.Schema[0].Name = "changed"
	s.Schema[1].Type = types.Int8
	s.Schema[1].Default.Expr = sql.UnresolvedColumnDefault{ExprString: "'changed'"}
	s.PkOrdinals[0] = 1
	if !reflect.DeepEqual(tbl, want) {
		t.Errorf("changing the engine's schema changed the table: %+v", tbl)
	}

	// Without ordinals, the columns flagged PrimaryKey are the key.
	s = sql.PrimaryKeySchema{Schema: sql.Schema{
		{Name: "a", Type: types.Int32},
		{Name: "b", Type: types.Int32, PrimaryKey: true},
	}}
	if tbl, err := schema.FromSQL("t", s, 0, ""); err != nil || !slices.Equal(tbl.PKOrdinals, []int{1}) {
		t.Errorf("FromSQL from PrimaryKey flags: %v, %v", tbl, err)
	}

	s = sql.NewPrimaryKeySchema(sql.Schema{{Name: "a", Type: types.Int32}, {Name: "A", Type: types.Int32}})
	if _, err := schema.FromSQL("t", s, 0, ""); !errors.Is(err, schema.ErrInvalidSchema) {
		t.Errorf("FromSQL with duplicate columns = %v, want ErrInvalidSchema", err)
	}
	s = sql.NewPrimaryKeySchema(sql.Schema{{Name: "a", Type: types.Null}})
	if _, err := schema.FromSQL("t", s, 0, ""); !errors.Is(err, schema.ErrUnsupportedType) {
		t.Errorf("FromSQL with a NULL-typed column = %v, want ErrUnsupportedType", err)
	}
}

// TestSQLSchema ensures SQLSchema describes the table the way the engine
// expects of sql.Table.Schema, with new columns each call.
func TestSQLSchema(t *testing.T) {
	tbl := sampleTable(t)
	s := tbl.SQLSchema("mydb")
	if len(s) != len(tbl.Columns) {
		t.Fatalf("%d columns, want %d", len(s), len(tbl.Columns))
	}
	for i, c := range s {
		col := tbl.Columns[i]
		if c.Name != col.Name || !reflect.DeepEqual(c.Type, col.Type) || c.Nullable != col.Nullable || c.AutoIncrement != col.AutoIncrement ||
			c.Comment != col.Comment || c.Extra != col.Extra || c.Virtual != col.Virtual {
			t.Errorf("column %d = %+v, want %+v", i, c, col)
		}
		if c.Source != "Orders" || c.DatabaseSource != "mydb" {
			t.Errorf("column %q: source %q.%q", c.Name, c.DatabaseSource, c.Source)
		}
		if c.PrimaryKey != (i == 0 || i == 1) {
			t.Errorf("column %q: PrimaryKey %v", c.Name, c.PrimaryKey)
		}
		if (c.Default != nil) != col.HasDefault || (c.Generated != nil) != col.HasGenerated || (c.OnUpdate != nil) != col.HasOnUpdate {
			t.Errorf("column %q: default %v, generated %v, on update %v", c.Name, c.Default, c.Generated, c.OnUpdate)
		}
	}
	s[1].Name = "changed"
	s[1].Default.Expr = sql.UnresolvedColumnDefault{ExprString: "'changed'"}
	again := tbl.SQLSchema("mydb")
	if again[1].Name != "Region" || again[1].Default.String() != "('north')" || tbl.Columns[1].Default != "'north'" {
		t.Errorf("changing one SQLSchema changed the table or the next: %+v", again[1])
	}

	pk := tbl.PrimaryKeySchema("mydb")
	if !slices.Equal(pk.PkOrdinals, []int{1, 0}) || len(pk.Schema) != len(tbl.Columns) {
		t.Errorf("PrimaryKeySchema = %v", pk.PkOrdinals)
	}
	pk.PkOrdinals[0] = 7
	if tbl.PKOrdinals[0] != 1 {
		t.Errorf("PrimaryKeySchema shares its ordinals with the table")
	}
	keyless := &schema.Table{Name: "k", Columns: []schema.Column{{Name: "a", Type: types.Int8}}}
	if pk := keyless.PrimaryKeySchema("db"); pk.PkOrdinals == nil || len(pk.PkOrdinals) != 0 {
		t.Errorf("keyless PrimaryKeySchema ordinals = %#v, want empty", pk.PkOrdinals)
	}
}

// TestColumnFromSQLRefuses ensures columns that cannot be stored faithfully
// are refused with an error naming the column.
func TestColumnFromSQLRefuses(t *testing.T) {
	if _, err := schema.ColumnFromSQL(nil); !errors.Is(err, schema.ErrInvalidSchema) {
		t.Errorf("nil column: %v", err)
	}
	if _, err := schema.ColumnFromSQL(&sql.Column{Name: "a"}); !errors.Is(err, schema.ErrInvalidSchema) {
		t.Errorf("column without type: %v", err)
	}
	if _, err := schema.ColumnFromSQL(&sql.Column{Name: "a", Type: types.Int8, Default: &sql.ColumnDefaultValue{}}); err == nil {
		t.Errorf("default without expression accepted")
	}
	_, err := schema.ColumnFromSQL(&sql.Column{Name: "a", Type: types.Null})
	if !errors.Is(err, schema.ErrUnsupportedType) || !strings.Contains(err.Error(), `"a"`) {
		t.Errorf("NULL type: %v", err)
	}
}

// TestIndexFromDef ensures index definitions keep their kind, columns and
// prefix lengths (nil when none), and that what is not a stored secondary
// index is refused.
func TestIndexFromDef(t *testing.T) {
	def := sql.IndexDef{
		Name:       "i",
		Columns:    []sql.IndexColumn{{Name: "a"}, {Name: "b", Length: 10}},
		Constraint: sql.IndexConstraint_Unique,
		Comment:    "c",
	}
	got, err := schema.IndexFromDef(def)
	want := schema.Index{Name: "i", Columns: []string{"a", "b"}, PrefixLengths: []uint16{0, 10}, Unique: true, Comment: "c"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("IndexFromDef = %+v, %v; want %+v", got, err, want)
	}
	def = sql.IndexDef{Name: "f", Columns: []sql.IndexColumn{{Name: "a"}}, Constraint: sql.IndexConstraint_Fulltext}
	if got, err := schema.IndexFromDef(def); err != nil || !got.Fulltext || got.Unique || got.PrefixLengths != nil {
		t.Errorf("fulltext: %+v, %v", got, err)
	}
	def = sql.IndexDef{Name: "s", Columns: []sql.IndexColumn{{Name: "a"}}, Constraint: sql.IndexConstraint_Spatial}
	if got, err := schema.IndexFromDef(def); err != nil || !got.Spatial {
		t.Errorf("spatial: %+v, %v", got, err)
	}
	for _, c := range []sql.IndexConstraint{sql.IndexConstraint_Primary, sql.IndexConstraint_Vector} {
		def := sql.IndexDef{Name: "x", Columns: []sql.IndexColumn{{Name: "a"}}, Constraint: c}
		if _, err := schema.IndexFromDef(def); !errors.Is(err, schema.ErrInvalidSchema) {
			t.Errorf("constraint %d: %v, want ErrInvalidSchema", c, err)
		}
	}
	for _, l := range []int64{-1, 65536} {
		if _, err := schema.PrefixLengths([]sql.IndexColumn{{Name: "a", Length: l}}); !errors.Is(err, schema.ErrInvalidSchema) {
			t.Errorf("prefix length %d: %v, want ErrInvalidSchema", l, err)
		}
	}
	if p, err := schema.PrefixLengths([]sql.IndexColumn{{Name: "a"}, {Name: "b"}}); p != nil || err != nil {
		t.Errorf("no prefixes: %v, %v", p, err)
	}
}
