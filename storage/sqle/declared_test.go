package sqle

import (
	"context"
	"strings"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
)

// TIME, DECIMAL/FLOAT/DOUBLE UNSIGNED, FLOAT(M,D) and DESC key columns
// print as MySQL 8 prints them, survive ALTER TABLE, CREATE TABLE … LIKE
// and a restart, and their values are kept as MySQL keeps them.
func TestDeclaredTypes(t *testing.T) {
	dir := t.TempDir()
	e := newTestEngine(t, dir)
	ctx := e.NewContext(context.Background(), "")
	for _, q := range []string{
		"CREATE DATABASE d", "USE d",
		`CREATE TABLE ty (
			id INT NOT NULL,
			a TIME, a3 TIME(3), a6 TIME(6),
			b DECIMAL(10,2) UNSIGNED NOT NULL DEFAULT '0.00',
			c FLOAT(7,3), cu FLOAT(30,2) UNSIGNED, g DOUBLE(8,2), fu FLOAT UNSIGNED, du REAL UNSIGNED,
			f INT,
			PRIMARY KEY (id DESC),
			KEY kf (f DESC, a),
			UNIQUE KEY kb (b DESC)
		)`,
	} {
		query(t, e, ctx, q)
	}
	want := "CREATE TABLE `ty` (\n" +
		"  `id` int NOT NULL,\n" +
		"  `a` time,\n" +
		"  `a3` time(3),\n" +
		"  `a6` time(6),\n" +
		"  `b` decimal(10,2) unsigned NOT NULL DEFAULT '0.00',\n" +
		"  `c` float(7,3),\n" +
		"  `cu` float(30,2) unsigned,\n" +
		"  `g` double(8,2),\n" +
		"  `fu` float unsigned,\n" +
		"  `du` double unsigned,\n" +
		"  `f` int,\n" +
		"  PRIMARY KEY (`id` DESC),\n" +
		"  UNIQUE KEY `kb` (`b` DESC),\n" +
		"  KEY `kf` (`f` DESC,`a`)\n" +
		") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_bin"
	expectShowCreate(t, e, ctx, "ty", want)

	// Values: TIME rounded to its digits, FLOAT(M,D) to D decimals.
	query(t, e, ctx, "INSERT INTO ty (id, a, a3, a6, b, c, cu, g, fu, du) VALUES (1, '10:00:00.5', '-10:00:00.12351', '10:00:00.123456', 1.5, 1.23456, 3.14159, 2.345, 0, 0)")
	expectRows(t, e, ctx, "SELECT a, a3 = '-10:00:00.124', a6, b, c, cu, g FROM ty", "10:00:01|1|10:00:00.123456|1.50|1.235|3.14|2.35")
	query(t, e, ctx, "UPDATE ty SET a = '838:59:59.9', g = -1.005 WHERE id = 1")
	expectRows(t, e, ctx, "SELECT a, g FROM ty", "838:59:59|-1")
	// Out of range: negative UNSIGNED, FLOAT(7,3) from 10000.
	for _, q := range []string{
		"INSERT INTO ty (id, b) VALUES (2, -0.01)",
		"INSERT INTO ty (id, c) VALUES (2, 9999.9996)",
		"INSERT INTO ty (id, fu) VALUES (2, -1)",
		"INSERT INTO ty (id, du) VALUES (2, -1e-300)",
		"UPDATE ty SET cu = -1",
	} {
		_, err := e.Query(ctx, q)
		if me := sql.CastSQLError(err); me == nil || me.Num != mysql.ERWarnDataOutOfRange {
			t.Errorf("%s: %v, want error %d", q, err, mysql.ERWarnDataOutOfRange)
		}
	}
	query(t, e, ctx, "INSERT INTO ty (id, b, c) VALUES (2, 0, -9999.999)")

	// ALTER TABLE keeps what it does not change, and takes what it declares.
	for _, q := range []string{
		"ALTER TABLE ty ADD COLUMN t1 TIME(1) AFTER a, ADD KEY kt (t1 DESC)",
		"ALTER TABLE ty MODIFY a3 TIME(2)",
		"ALTER TABLE ty RENAME COLUMN a TO aa",
		"ALTER TABLE ty ALTER COLUMN aa SET DEFAULT '01:02:03'",
		"ALTER TABLE ty MODIFY g DOUBLE",
		"ALTER TABLE ty DROP COLUMN f",
		"CREATE INDEX kc ON ty (c DESC, cu)",
	} {
		query(t, e, ctx, q)
	}
	want = "CREATE TABLE `ty` (\n" +
		"  `id` int NOT NULL,\n" +
		"  `aa` time DEFAULT '01:02:03',\n" +
		"  `t1` time(1),\n" +
		"  `a3` time(2),\n" +
		"  `a6` time(6),\n" +
		"  `b` decimal(10,2) unsigned NOT NULL DEFAULT '0.00',\n" +
		"  `c` float(7,3),\n" +
		"  `cu` float(30,2) unsigned,\n" +
		"  `g` double,\n" +
		"  `fu` float unsigned,\n" +
		"  `du` double unsigned,\n" +
		"  PRIMARY KEY (`id` DESC),\n" +
		"  UNIQUE KEY `kb` (`b` DESC),\n" +
		"  KEY `kc` (`c` DESC,`cu`),\n" +
		"  KEY `kf` (`aa`),\n" +
		"  KEY `kt` (`t1` DESC)\n" +
		") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_bin"
	if got := showCreate(t, e, ctx, "ty"); got != want {
		t.Fatalf("after ALTER TABLE:\n%s\nwant\n%s", got, want)
	}
	expectRows(t, e, ctx, "SELECT a3 = '-10:00:00.12' FROM ty WHERE id = 1", "1")
	query(t, e, ctx, "CREATE TABLE ty2 LIKE ty")
	if got := showCreate(t, e, ctx, "ty2"); got != strings.Replace(want, "`ty`", "`ty2`", 1) {
		t.Fatalf("CREATE TABLE … LIKE:\n%s", got)
	}

	// A restart reads it all back.
	e.Close()
	e = newTestEngine(t, dir)
	ctx = e.NewContext(context.Background(), "d")
	if got := showCreate(t, e, ctx, "ty"); got != want {
		t.Fatalf("after a restart:\n%s\nwant\n%s", got, want)
	}
	if _, err := e.Query(ctx, "INSERT INTO ty (id, b) VALUES (3, -1)"); err == nil {
		t.Fatal("negative DECIMAL UNSIGNED accepted after a restart")
	}
}

// What cairn cannot keep is refused at CREATE and ALTER TABLE, not dropped:
// ZEROFILL, invisible columns and indexes. A column named invisible is
// fine.
func TestDeclaredRefused(t *testing.T) {
	e := newTestEngine(t, "")
	ctx := e.NewContext(context.Background(), "")
	query(t, e, ctx, "CREATE DATABASE d")
	query(t, e, ctx, "USE d")
	query(t, e, ctx, "CREATE TABLE p (id INT PRIMARY KEY)")
	for _, q := range []string{
		"CREATE TABLE z (a INT ZEROFILL)",
		"CREATE TABLE z (a INT(5) UNSIGNED ZEROFILL NOT NULL)",
		"CREATE TABLE z (a INT INVISIBLE)",
		"CREATE TABLE z (a INT NOT NULL /* x */ INVISIBLE, b INT)",
		"CREATE TABLE z (a INT, KEY k (a) INVISIBLE)",
		"ALTER TABLE p ADD COLUMN c INT INVISIBLE",
		"ALTER TABLE p ADD COLUMN c INT ZEROFILL",
		"ALTER TABLE p ADD INDEX k (id) INVISIBLE",
	} {
		_, err := e.Query(ctx, q)
		if me := sql.CastSQLError(err); me == nil || me.Num != mysql.ERNotSupportedYet {
			t.Errorf("%s: %v, want error %d", q, err, mysql.ERNotSupportedYet)
		}
	}
	for _, q := range []string{
		"CREATE TABLE c (a INT, FOREIGN KEY (a) REFERENCES p (id) ON DELETE SET DEFAULT)",
		"CREATE TABLE c (a INT, CONSTRAINT f FOREIGN KEY (a) REFERENCES p (id) ON UPDATE SET DEFAULT)",
	} {
		if _, err := e.Query(ctx, q); !sql.ErrForeignKeySetDefault.Is(err) {
			t.Errorf("%s: %v", q, err)
		}
	}
	expectRows(t, e, ctx, "SHOW TABLES", "p")
	for _, q := range []string{
		"CREATE TABLE invisible (invisible INT, `x` INT COMMENT 'invisible', KEY invisible (invisible), CHECK (invisible > 0), CHECK (x <> invisible))",
		"CREATE TABLE t2 (invisible INT)",
		"ALTER TABLE t2 RENAME COLUMN invisible TO v",
		"ALTER TABLE t2 ADD COLUMN invisible INT NOT NULL",
	} {
		query(t, e, ctx, q)
	}
}
