package sqle

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/rowexec"
)

// SHOW CREATE TABLE output, executed under another name, makes a table
// whose SHOW CREATE TABLE is the same; SHOW TABLE STATUS and
// information_schema.tables count the rows.
func TestShowCreateTableRecreates(t *testing.T) {
	e := newTestEngine(t, "")
	ctx := e.NewContext(context.Background(), "")
	for _, q := range []string{
		"CREATE DATABASE d", "USE d",
		"CREATE TABLE parent (id INT PRIMARY KEY)",
		`CREATE TABLE t (
			id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
			code CHAR(4) COLLATE utf8mb4_0900_ai_ci NOT NULL,
			note TEXT COMMENT 'free text',
			state ENUM('a','b') NOT NULL DEFAULT 'b',
			amount DECIMAL(10,2) DEFAULT '0.00',
			at DATETIME(3) DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
			pid INT,
			PRIMARY KEY (id),
			UNIQUE KEY code_uq (code),
			KEY note_idx (note(8), state),
			CONSTRAINT t_parent FOREIGN KEY (pid) REFERENCES parent (id) ON DELETE SET NULL,
			CONSTRAINT amount_ok CHECK (amount >= 0)
		) COMMENT='things'`,
		"INSERT INTO t (code, amount) VALUES ('ab', 1), ('cd', 2), ('ef', 3)",
	} {
		query(t, e, ctx, q)
	}
	orig := query(t, e, ctx, "SHOW CREATE TABLE t")[0]
	stmt := strings.SplitN(orig, "|", 2)[1]
	copyStmt := strings.Replace(stmt, "CREATE TABLE `t`", "CREATE TABLE `t2`", 1)
	copyStmt = strings.Replace(copyStmt, "CONSTRAINT `t_parent`", "CONSTRAINT `t2_parent`", 1)
	copyStmt = strings.Replace(copyStmt, "CONSTRAINT `amount_ok`", "CONSTRAINT `amount_ok2`", 1)
	query(t, e, ctx, copyStmt)
	again := strings.SplitN(query(t, e, ctx, "SHOW CREATE TABLE t2")[0], "|", 2)[1]
	want := strings.NewReplacer("`t2`", "`t`", "`t2_parent`", "`t_parent`", "`amount_ok2`", "`amount_ok`", "AUTO_INCREMENT=4 ", "").Replace(again)
	if want != strings.Replace(stmt, "AUTO_INCREMENT=4 ", "", 1) {
		t.Fatalf("recreated table differs:\n%s\nfrom\n%s", again, stmt)
	}
	expectRows(t, e, ctx, "SELECT table_rows FROM information_schema.tables WHERE table_schema = 'd' AND table_name = 't'", "3")
	status := query(t, e, ctx, "SHOW TABLE STATUS LIKE 't'")
	if len(status) != 1 || strings.Split(status[0], "|")[4] != "3" {
		t.Fatalf("SHOW TABLE STATUS: %q", status)
	}
}

// Triggers and procedures from mariadb-dump lose their /*!50003 */
// wrappers when stored, so a dump of a restored dump restores again.
func TestStripVersionComments(t *testing.T) {
	for in, want := range map[string]string{
		"/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = '/*!x*/' */": "CREATE DEFINER=`root`@`localhost` TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = '/*!x*/'",
		"CREATE TRIGGER tr /* keep */ BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1":                                                          "CREATE TRIGGER tr /* keep */ BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1",
	} {
		if got := stripVersionComments(in); got != want {
			t.Errorf("stripVersionComments(%q)\n got  %q\n want %q", in, got, want)
		}
	}
}

// engineShowCreate returns go-mysql-server's own SHOW CREATE TABLE text
// of table, which showCreateTable replaces.
func engineShowCreate(t *testing.T, e *Engine, ctx *sql.Context, table string) string {
	t.Helper()
	n, err := e.SQL.AnalyzeQuery(ctx, "SHOW CREATE TABLE "+table)
	if err != nil {
		t.Fatal(err)
	}
	rt, ok := n.(*plan.ResolvedTable)
	if !ok {
		t.Fatalf("SHOW CREATE TABLE %s is planned as %T", table, n)
	}
	var res *showCreateResult
	for tbl := rt.Table; res == nil; {
		switch x := tbl.(type) {
		case *showCreateResult:
			res = x
		case sql.TableWrapper:
			tbl = x.Underlying()
		default:
			t.Fatalf("SHOW CREATE TABLE %s reads %T", table, tbl)
		}
	}
	// With the defaults MySQL prints, which the engine's text has by a
	// rule (showCreateDefaults).
	sc, _, err := showCreateDefaults(ctx, nil, res.sc, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	iter, err := rowexec.DefaultBuilder.Build(ctx, sc, nil)
	if err != nil {
		t.Fatal(err)
	}
	row, err := iter.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return row[1].(string)
}

// Where the engine's SHOW CREATE TABLE text is right, ours is the same.
func TestShowCreateTableAsEngine(t *testing.T) {
	e := newTestEngine(t, "")
	ctx := e.NewContext(context.Background(), "")
	query(t, e, ctx, "CREATE DATABASE d")
	query(t, e, ctx, "USE d")
	for _, tc := range []struct{ name, def, fk string }{
		{"parent", "(id INT PRIMARY KEY, k2 INT, UNIQUE KEY (k2)%s)", ""},
		{"types", `(id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, i INT DEFAULT 0, ti TINYINT(1) DEFAULT TRUE, si SMALLINT UNSIGNED,
			v VARCHAR(5) DEFAULT 'abc', c CHAR(3) CHARACTER SET latin1 COLLATE latin1_swedish_ci NOT NULL DEFAULT '', tx TEXT COLLATE utf8mb4_0900_ai_ci,
			en ENUM('x','y') DEFAULT 'y', st SET('a','b') NOT NULL DEFAULT 'a,b', de DECIMAL(5,2) DEFAULT 1.5, de0 DECIMAL(10,0),
			dt DATETIME DEFAULT '2020-01-01 00:00:00', dt6 DATETIME(6) DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), d DATE DEFAULT (CURDATE()),
			ts TIMESTAMP DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP, tm6 TIME(6), y YEAR DEFAULT 2020,
			bi BIT(3) DEFAULT b'101', f FLOAT DEFAULT 1.5, db DOUBLE NOT NULL, j JSON DEFAULT ('[]'), bl BLOB, vb VARBINARY(4) DEFAULT 'ab', bn BINARY(2),
			g POINT NOT NULL SRID 4326, gm GEOMETRY, s1 INT GENERATED ALWAYS AS (2) STORED,
			pid INT, UNIQUE KEY v_uq (v, c), KEY tx_idx (tx(10)) COMMENT 'prefix', KEY s1_idx (s1),
			CONSTRAINT ch1 CHECK (i >= 0), CONSTRAINT ch2 CHECK (v <> 'x') NOT ENFORCED%s) COMMENT='plain' COLLATE=utf8mb4_0900_ai_ci`,
			", CONSTRAINT fk1 FOREIGN KEY (pid) REFERENCES parent (id) ON DELETE CASCADE ON UPDATE SET NULL"},
		{"keyless", "(a INT, b VARCHAR(10) CHARACTER SET utf8mb3, KEY (a)%s) CHARSET=latin1", ""},
		{"two_pk", "(a INT NOT NULL, b VARCHAR(10) NOT NULL, c INT, PRIMARY KEY (b, a)%s)", ", CONSTRAINT fk2 FOREIGN KEY (c) REFERENCES parent (k2)"},
	} {
		query(t, e, ctx, "CREATE TABLE "+tc.name+" "+fmt.Sprintf(tc.def, tc.fk))
		// Temporary tables have no foreign keys.
		query(t, e, ctx, "CREATE TEMPORARY TABLE tmp_"+tc.name+" "+fmt.Sprintf(tc.def, ""))
	}
	query(t, e, ctx, "INSERT INTO types (db, g) VALUES (1, ST_GeomFromText('POINT(1 2)', 4326))")
	for _, name := range []string{"parent", "types", "keyless", "two_pk", "tmp_parent", "tmp_keyless", "tmp_two_pk"} {
		want := engineShowCreate(t, e, ctx, name)
		got := strings.SplitN(query(t, e, ctx, "SHOW CREATE TABLE "+name)[0], "|", 2)[1]
		if got != want {
			t.Errorf("SHOW CREATE TABLE %s:\n%s\nthe engine's:\n%s", name, got, want)
		}
	}
}

// showCreate returns the CREATE TABLE statement SHOW CREATE TABLE prints.
func showCreate(t *testing.T, e *Engine, ctx *sql.Context, table string) string {
	t.Helper()
	return strings.SplitN(query(t, e, ctx, "SHOW CREATE TABLE "+table)[0], "|", 2)[1]
}

// expectShowCreate checks SHOW CREATE TABLE against MySQL 8's text for the
// same table, and that the text, run in the database "copies", makes a
// table that prints the same.
func expectShowCreate(t *testing.T, e *Engine, ctx *sql.Context, table, want string) {
	t.Helper()
	got := showCreate(t, e, ctx, table)
	if got != want {
		t.Fatalf("SHOW CREATE TABLE %s:\n%s\nMySQL 8 prints:\n%s", table, got, want)
	}
	db := ctx.GetCurrentDatabase()
	query(t, e, ctx, "CREATE DATABASE IF NOT EXISTS copies")
	query(t, e, ctx, "USE copies")
	defer query(t, e, ctx, "USE "+db)
	query(t, e, ctx, "SET FOREIGN_KEY_CHECKS = 0")
	defer query(t, e, ctx, "SET FOREIGN_KEY_CHECKS = 1")
	query(t, e, ctx, got)
	if again := showCreate(t, e, ctx, table); again != got {
		t.Fatalf("SHOW CREATE TABLE %s, run again, makes a table printed as\n%s", table, again)
	}
}

// Quotes, backslashes and line ends in ENUM and SET members and in column,
// index and table comments are escaped as MySQL escapes them, and load
// back as they were.
func TestShowCreateTableEscapes(t *testing.T) {
	e := newTestEngine(t, "")
	ctx := e.NewContext(context.Background(), "")
	query(t, e, ctx, "CREATE DATABASE d")
	query(t, e, ctx, "USE d")
	query(t, e, ctx, `CREATE TABLE q (
		id INT NOT NULL PRIMARY KEY COMMENT 'a''b\\c',
		e ENUM('it''s','b\\s','x\ny') NOT NULL DEFAULT 'it''s',
		s SET('x''y','z') NOT NULL,
		KEY k (e) COMMENT 'i''x\\y'
	) COMMENT='t''c\\d\nz'`)
	expectShowCreate(t, e, ctx, "q", "CREATE TABLE `q` (\n"+
		"  `id` int NOT NULL COMMENT 'a''b\\\\c',\n"+
		"  `e` enum('it''s','b\\\\s','x\\ny') NOT NULL DEFAULT 'it''s',\n"+
		"  `s` set('x''y','z') NOT NULL,\n"+
		"  PRIMARY KEY (`id`),\n"+
		"  KEY `k` (`e`) COMMENT 'i''x\\\\y'\n"+
		") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_bin COMMENT='t''c\\\\d\\nz'")
	expectRows(t, e, ctx, "SELECT table_comment FROM information_schema.tables WHERE table_schema = 'copies' AND table_name = 'q'", "t'c\\d\nz")
	expectRows(t, e, ctx, "SELECT column_comment FROM information_schema.columns WHERE table_schema = 'copies' AND table_name = 'q' AND column_name = 'id'", `a'b\c`)
	expectRows(t, e, ctx, "SELECT index_comment FROM information_schema.statistics WHERE table_schema = 'copies' AND table_name = 'q' AND index_name = 'k'", `i'x\y`)
	query(t, e, ctx, "INSERT INTO copies.q VALUES (1, 'b\\\\s', 'x''y,z'), (2, 'x\\ny', '')")
	expectRows(t, e, ctx, "SELECT e, s FROM copies.q ORDER BY id", `b\s|x'y,z`, "x\ny|")
}

// A table with virtual columns is printed with its indexes and checks;
// expressions quote column names (a reserved word loads back); a NOT NULL
// generated column has NOT NULL after its expression, where MySQL wants
// it; a foreign key keeps the database of its parent.
func TestShowCreateTableComplete(t *testing.T) {
	e := newTestEngine(t, "")
	ctx := e.NewContext(context.Background(), "")
	for _, q := range []string{
		"CREATE DATABASE o", "CREATE TABLE o.p (id INT PRIMARY KEY)",
		"CREATE DATABASE d", "USE d",
		"CREATE TABLE v (i INT NOT NULL, `order` INT DEFAULT (i + 1), g INT AS (`order` * 2) NOT NULL, s INT AS (i * 3) STORED, " +
			"pid INT, KEY g_idx (g), CONSTRAINT i_ok CHECK (i > 0), CONSTRAINT f FOREIGN KEY (pid) REFERENCES o.p (id))",
	} {
		query(t, e, ctx, q)
	}
	expectShowCreate(t, e, ctx, "v", "CREATE TABLE `v` (\n"+
		"  `i` int NOT NULL,\n"+
		"  `order` int DEFAULT ((`i` + 1)),\n"+
		"  `g` int GENERATED ALWAYS AS ((`order` * 2)) VIRTUAL NOT NULL,\n"+
		"  `s` int GENERATED ALWAYS AS ((`i` * 3)) STORED,\n"+
		"  `pid` int,\n"+
		"  KEY `f` (`pid`),\n"+
		"  KEY `g_idx` (`g`),\n"+
		"  CONSTRAINT `f` FOREIGN KEY (`pid`) REFERENCES `o`.`p` (`id`),\n"+
		"  CONSTRAINT `i_ok` CHECK ((`i` > 0))\n"+
		") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_bin")
}

// A table COMMENT stays when the primary key is a clause of its own (as a
// dump writes it, after AUTO_INCREMENT=N), and on temporary tables.
func TestCreateTableComment(t *testing.T) {
	e := newTestEngine(t, "")
	ctx := e.NewContext(context.Background(), "")
	query(t, e, ctx, "CREATE DATABASE d")
	query(t, e, ctx, "USE d")
	query(t, e, ctx, "CREATE TABLE ai (id int NOT NULL AUTO_INCREMENT, PRIMARY KEY (id)) ENGINE=InnoDB AUTO_INCREMENT=5 DEFAULT CHARSET=utf8mb4 COMMENT='x'")
	expectShowCreate(t, e, ctx, "ai", "CREATE TABLE `ai` (\n"+
		"  `id` int NOT NULL AUTO_INCREMENT,\n"+
		"  PRIMARY KEY (`id`)\n"+
		") ENGINE=InnoDB AUTO_INCREMENT=5 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci COMMENT='x'")
	query(t, e, ctx, "CREATE TEMPORARY TABLE tmp (id int NOT NULL, PRIMARY KEY (id)) COMMENT='y'")
	if got, want := showCreate(t, e, ctx, "tmp"), "CREATE TEMPORARY TABLE `tmp` (\n"+
		"  `id` int NOT NULL,\n"+
		"  PRIMARY KEY (`id`)\n"+
		") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_bin COMMENT='y'"; got != want {
		t.Errorf("SHOW CREATE TABLE tmp:\n%s\nwant\n%s", got, want)
	}
	query(t, e, ctx, "CREATE PROCEDURE p() CREATE TABLE fromp (id int, PRIMARY KEY (id)) COMMENT='z'")
	query(t, e, ctx, "CALL p()")
	expectRows(t, e, ctx, "SELECT table_name, table_comment FROM information_schema.tables WHERE table_schema = 'd' ORDER BY 1",
		"ai|x", "fromp|z")
}

// SHOW CREATE VIEW prints ALGORITHM, SQL SECURITY and the view's column
// list as MySQL 8 does, and a DEFINER given at CREATE VIEW; the text makes
// the same view again.
func TestShowCreateView(t *testing.T) {
	e := newTestEngine(t, "")
	ctx := e.NewContext(context.Background(), "")
	for _, q := range []string{
		"CREATE DATABASE o", "CREATE TABLE o.t (a INT)", "CREATE VIEW o.ov AS SELECT a FROM o.t",
		"CREATE DATABASE d", "USE d",
		"CREATE TABLE t (a INT)", "INSERT INTO t VALUES (1), (2)",
		"CREATE VIEW v1 AS SELECT a FROM t",
		"CREATE VIEW v2 (p, `q r`) AS SELECT a, a + 1 FROM t",
		"CREATE ALGORITHM=merge DEFINER='bob'@'%' SQL SECURITY invoker VIEW v3 AS SELECT a FROM t WHERE a > 1",
	} {
		query(t, e, ctx, q)
	}
	for _, tc := range []struct{ view, want string }{
		{"v1", "CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v1` AS SELECT a FROM t"},
		{"v2", "CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v2` (`p`,`q r`) AS SELECT a, a + 1 FROM t"},
		{"v3", "CREATE ALGORITHM=MERGE DEFINER=`bob`@`%` SQL SECURITY INVOKER VIEW `v3` AS SELECT a FROM t WHERE a > 1"},
		{"o.ov", "CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `ov` AS SELECT a FROM o.t"},
	} {
		for _, show := range []string{"SHOW CREATE VIEW ", "SHOW CREATE TABLE "} {
			got := query(t, e, ctx, show+tc.view)
			name := tc.view[strings.LastIndex(tc.view, ".")+1:]
			if want := name + "|" + tc.want + "|utf8mb4|utf8mb4_0900_bin"; len(got) != 1 || got[0] != want {
				t.Errorf("%s%s:\n%q\nwant\n%q", show, tc.view, got, want)
			}
		}
	}
	// The text makes the same view.
	query(t, e, ctx, "CREATE DATABASE copies")
	query(t, e, ctx, "USE copies")
	query(t, e, ctx, "CREATE TABLE t (a INT)")
	query(t, e, ctx, "INSERT INTO t VALUES (1), (2)")
	for _, v := range []string{"v1", "v2", "v3"} {
		stmt := strings.Split(query(t, e, ctx, "SHOW CREATE VIEW d."+v)[0], "|")[1]
		query(t, e, ctx, stmt)
		if again := strings.Split(query(t, e, ctx, "SHOW CREATE VIEW "+v)[0], "|")[1]; again != stmt {
			t.Errorf("view %s made again prints\n%s\nnot\n%s", v, again, stmt)
		}
	}
	expectRows(t, e, ctx, "SELECT * FROM v2 ORDER BY p", "1|2", "2|3")
	if got := query(t, e, ctx, "SELECT column_name FROM information_schema.columns WHERE table_schema = 'copies' AND table_name = 'v2' ORDER BY ordinal_position"); strings.Join(got, ",") != "p,q r" {
		t.Errorf("columns of v2: %q", got)
	}
}

// information_schema.COLUMNS and SHOW COLUMNS give what MySQL 8 gives:
// generated columns marked, ENUM/SET/DECIMAL defaults as values, types as
// declared and escaped, no character set in the type.
func TestColumnsInfo(t *testing.T) {
	e := newTestEngine(t, "")
	ctx := e.NewContext(context.Background(), "")
	query(t, e, ctx, "CREATE DATABASE d")
	query(t, e, ctx, "USE d")
	query(t, e, ctx, `CREATE TABLE c (id INT PRIMARY KEY, e ENUM('x','y') NOT NULL DEFAULT 'y', s SET('a','b') DEFAULT 'a,b', n ENUM('p','q') DEFAULT 2,
		g INT AS (id + 1), st INT AS (id * 2) STORED, tm TIME DEFAULT '10:00:00', d DECIMAL(5,2) DEFAULT 1.5,
		v VARCHAR(5) COLLATE utf8mb4_0900_ai_ci DEFAULT 'ab''c', q ENUM('it''s','b\\s'), f FLOAT(7,3) UNSIGNED, KEY (n))`)
	expectRows(t, e, ctx, "SELECT column_name, column_default, extra, generation_expression, column_type, datetime_precision, numeric_precision, numeric_scale "+
		"FROM information_schema.columns WHERE table_schema = 'd' AND table_name = 'c' ORDER BY ordinal_position",
		"id|NULL|||int|NULL|10|0",
		"e|y|||enum('x','y')|NULL|NULL|NULL",
		"s|a,b|||set('a','b')|NULL|NULL|NULL",
		"n|q|||enum('p','q')|NULL|NULL|NULL",
		"g|NULL|VIRTUAL GENERATED|(`id` + 1)|int|NULL|10|0",
		"st|NULL|STORED GENERATED|(`id` * 2)|int|NULL|10|0",
		"tm|10:00:00|||time|0|NULL|NULL",
		"d|1.50|||decimal(5,2)|NULL|5|2",
		"v|ab'c|||varchar(5)|NULL|NULL|NULL",
		`q|NULL|||enum('it''s','b\\s')|NULL|NULL|NULL`,
		"f|NULL|||float(7,3) unsigned|NULL|7|3")
	expectRows(t, e, ctx, "SHOW FULL COLUMNS FROM c WHERE Field IN ('e', 'n', 'g', 'v', 'q')",
		"e|enum('x','y')|utf8mb4_0900_bin|NO||y|||",
		"n|enum('p','q')|utf8mb4_0900_bin|YES|MUL|q|||",
		"g|int|NULL|YES||NULL|VIRTUAL GENERATED||",
		"v|varchar(5)|utf8mb4_0900_ai_ci|YES||ab'c|||",
		`q|enum('it''s','b\\s')|utf8mb4_0900_bin|YES||NULL|||`)
	expectRows(t, e, ctx, "SHOW COLUMNS FROM c LIKE 's%'",
		"s|set('a','b')|YES||a,b|",
		"st|int|YES||NULL|STORED GENERATED")
	expectRows(t, e, ctx, "SHOW COLUMNS FROM c WHERE Extra LIKE '%GENERATED'",
		"g|int|YES||NULL|VIRTUAL GENERATED",
		"st|int|YES||NULL|STORED GENERATED")
}
