package schema_test

import (
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/expression/function"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/cairndb/cairn/storage/sqle/schema"
)

// TestExpressionText ensures that defaults, generated and ON UPDATE
// expressions are kept as the text SHOW CREATE TABLE prints, without table
// qualifiers, that literals stay literals (no parentheses added) whether
// they arrive resolved or as the unresolved text SQLSchema hands out, and
// that "no default" and "the empty string" stay apart.
func TestExpressionText(t *testing.T) {
	now, err := function.NewNow()
	if err != nil {
		t.Fatal(err)
	}
	now6, err := function.NewNow(expression.NewLiteral(int8(6), types.Int8))
	if err != nil {
		t.Fatal(err)
	}
	field := func(quoted bool) sql.Expression {
		f := expression.NewGetFieldWithTable(1, 1, types.Int32, "mydb", "t", "a", true)
		return f.WithQuotedNames(sql.GlobalSchemaFormatter, quoted)
	}
	resolved := func(e sql.Expression, literal, parens bool) *sql.ColumnDefaultValue {
		d, err := sql.NewColumnDefaultValue(e, types.Int32, literal, parens, true)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, tc := range []struct {
		name string
		def  *sql.ColumnDefaultValue
		text string // "-" for none
	}{
		{"none", nil, "-"},
		{"string literal", resolved(expression.NewLiteral("abc", types.LongText), true, false), "'abc'"},
		{"string with quotes", resolved(expression.NewLiteral(`it's a \ "q"`, types.LongText), true, false), `'it''s a \\ "q"'`},
		{"empty string literal", resolved(expression.NewLiteral("", types.LongText), true, false), "''"},
		{"zero", resolved(expression.NewLiteral(int8(0), types.Int8), true, false), "0"},
		{"null", resolved(expression.NewLiteral(nil, types.Null), true, false), "NULL"},
		{"current_timestamp", resolved(now, false, false), "CURRENT_TIMESTAMP"},
		{"current_timestamp(6)", resolved(now6, false, false), "CURRENT_TIMESTAMP(6)"},
		{"(now())", resolved(now, false, true), "CURRENT_TIMESTAMP"},
		{"qualified column", resolved(expression.NewPlus(field(false), expression.NewLiteral(int8(1), types.Int8)), false, true), "((a + 1))"},
		{"quoted column", resolved(expression.NewPlus(field(true), expression.NewLiteral(int8(1), types.Int8)), false, true), "((`a` + 1))"},
		{"unresolved literal", sql.NewUnresolvedColumnDefaultValue("'abc'"), "'abc'"},
		{"unresolved expression", sql.NewUnresolvedColumnDefaultValue("(`a` + 1)"), "(`a` + 1)"},
		{"unresolved empty string", sql.NewUnresolvedColumnDefaultValue(""), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := &sql.Column{Name: "c", Type: types.Int32, Nullable: true, Default: tc.def, Generated: tc.def, OnUpdate: tc.def}
			col, err := schema.ColumnFromSQL(in)
			if err != nil {
				t.Fatal(err)
			}
			for _, got := range []struct {
				what string
				text string
				has  bool
			}{
				{"default", col.Default, col.HasDefault},
				{"generated", col.Generated, col.HasGenerated},
				{"on update", col.OnUpdate, col.HasOnUpdate},
			} {
				if tc.text == "-" {
					if got.has || got.text != "" {
						t.Errorf("%s: %q (has %v), want none", got.what, got.text, got.has)
					}
					continue
				}
				if !got.has || got.text != tc.text {
					t.Errorf("%s: %q (has %v), want %q", got.what, got.text, got.has, tc.text)
				}
			}

			// The text survives storage and comes back unresolved, as is.
			tbl := &schema.Table{Name: "t", Columns: []schema.Column{col}}
			b, err := schema.Encode(tbl)
			if err != nil {
				t.Fatal(err)
			}
			back, err := schema.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			out := back.SQLSchema("mydb")[0]
			for _, d := range []struct {
				what string
				def  *sql.ColumnDefaultValue
			}{{"default", out.Default}, {"generated", out.Generated}, {"on update", out.OnUpdate}} {
				if tc.text == "-" {
					if d.def != nil {
						t.Errorf("SQLSchema %s = %v, want nil", d.what, d.def)
					}
					continue
				}
				u, ok := d.def.Expr.(*sql.UnresolvedColumnDefault)
				if !ok || u.ExprString != tc.text {
					t.Errorf("SQLSchema %s = %#v, want unresolved %q", d.what, d.def.Expr, tc.text)
				}
			}
			// And converting the engine's column back keeps it too, as
			// ALTER TABLE does with the columns it leaves alone.
			again, err := schema.ColumnFromSQL(out)
			if err != nil {
				t.Fatal(err)
			}
			if again != col {
				t.Errorf("column from SQLSchema = %+v, want %+v", again, col)
			}
		})
	}
}

// TestDefaultsShowCreateTable ensures that a table with every kind of
// default, generated column, ON UPDATE, comment and check, stored and read
// back, shows as the memory engine shows it, also after ALTER TABLE.
func TestDefaultsShowCreateTable(t *testing.T) {
	e := newEngines(t)
	e.exec(t, "CREATE TABLE d ("+
		"pk int primary key,"+
		"a varchar(10) default 'abc',"+
		"b int default 0,"+
		"c int default NULL,"+
		"d datetime default CURRENT_TIMESTAMP on update CURRENT_TIMESTAMP,"+
		"e datetime(6) default CURRENT_TIMESTAMP(6) on update now(6),"+
		"f timestamp default (now()),"+
		`g varchar(20) default 'it''s \\ "q"',`+
		"h int default (pk + 1),"+
		"i varchar(20) default (concat(a, 'x')),"+
		"j varchar(10) default '',"+
		"k double default -1.5,"+
		"l decimal(5,2) default 3.14,"+
		"m bit(3) default b'101',"+
		"n enum('x','y') default 'y',"+
		"o json default (json_object('k', 1)),"+
		"p int generated always as (b * 2) stored,"+
		"q int as (b + pk) virtual,"+
		"r varchar(30) generated always as (concat(`a`, 'z')) virtual,"+
		"s date default '2020-01-01',"+
		"t blob default ('abc'),"+
		"u int not null default 7 comment 'a ''comment''',"+
		"`weird col` int default 3,"+
		"v int default (`weird col` * 2),"+
		"w float default 1e3,"+
		"x varchar(10) default (upper('low')),"+
		"y time default '12:34:56',"+
		"z timestamp(3) default CURRENT_TIMESTAMP(3),"+
		"CHECK (b >= 0),"+
		"CONSTRAINT chk_named CHECK (a <> 'x') NOT ENFORCED"+
		") comment 'table ''comment''' collate utf8mb4_0900_ai_ci")
	queries := []string{
		"SHOW CREATE TABLE d",
		"SHOW FULL COLUMNS FROM d",
		"SELECT column_name, column_default, extra, generation_expression, is_nullable, column_type, collation_name " +
			"FROM information_schema.columns WHERE table_name = 'd' ORDER BY ordinal_position",
		"SELECT table_comment, table_collation FROM information_schema.tables WHERE table_name = 'd'",
		"SELECT constraint_name, check_clause FROM information_schema.check_constraints ORDER BY constraint_name",
	}
	check := func() {
		t.Helper()
		for _, q := range queries {
			e.same(t, q)
		}
	}
	check()
	for _, alter := range []string{
		"ALTER TABLE d ADD COLUMN aa int default (b + 1) AFTER a",
		"ALTER TABLE d ADD COLUMN ab varchar(5) not null default 'q' FIRST",
		"ALTER TABLE d MODIFY COLUMN b int default 5",
		"ALTER TABLE d ALTER COLUMN a SET DEFAULT 'zz'",
		"ALTER TABLE d ALTER COLUMN c DROP DEFAULT",
		"ALTER TABLE d RENAME COLUMN `weird col` TO `weirder col`",
		"ALTER TABLE d CHANGE COLUMN i ii varchar(20) default (concat(a, 'y'))",
		"ALTER TABLE d DROP COLUMN x",
		"ALTER TABLE d ADD CONSTRAINT chk_more CHECK (u < 100)",
		"ALTER TABLE d COMMENT 'new comment'",
		"ALTER TABLE d COLLATE utf8mb4_0900_bin",
		"ALTER TABLE d ADD COLUMN ac varchar(4)",
	} {
		t.Run(alter, func(t *testing.T) {
			e.exec(t, alter)
			check()
		})
	}
}

// TestKeylessShowCreateTable ensures a keyless table and column moves round
// trip.
func TestKeylessShowCreateTable(t *testing.T) {
	e := newEngines(t)
	e.exec(t, "CREATE TABLE k (a int, b varchar(3) default 'x', c int default (a))")
	e.same(t, "SHOW CREATE TABLE k")
	e.exec(t, "ALTER TABLE k MODIFY COLUMN c int default (a + 2) FIRST")
	e.same(t, "SHOW CREATE TABLE k")
	e.exec(t, "ALTER TABLE k MODIFY COLUMN a bigint AFTER b")
	e.same(t, "SHOW CREATE TABLE k")
}
