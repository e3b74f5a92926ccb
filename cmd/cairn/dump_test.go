package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cairndb/cairn/storage/chunk/diskstore"
	"github.com/cairndb/cairn/storage/dbdir"
	"github.com/cairndb/cairn/storage/repo"
)

// cairnIn is cairn with stdin.
func cairnIn(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// mustCairn runs cairn and fails the test unless it exits 0.
func mustCairn(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	code, out, errOut := cairnIn(t, stdin, args...)
	if code != 0 {
		t.Fatalf("cairn %v: exit %d\n%s%s", args, code, out, errOut)
	}
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// dumpTestDB makes the database shop in the current directory with a table
// of awkward values (NULL, the empty string, quotes, backslashes, line
// breaks, unicode, bytes) and a generated column.
func dumpTestDB(t *testing.T) string {
	t.Helper()
	dir := chdirNew(t, "shop")
	mustCairn(t, "", "init", "--name", "a", "--email", "a@b")
	mustCairn(t, `CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20), note TEXT, bin VARBINARY(8), price DECIMAL(6,2), twice INT AS (id * 2));
INSERT INTO t (id, name, note, bin, price) VALUES
  (1, 'plain', NULL, 0x00ff, 1.5),
  (2, 'say "hi", ok', 'it''s a\\b', NULL, NULL),
  (3, '', 'line1\nline2', '', -2),
  (4, 'héllo 世界', ' lead', 0x41, 0);
`, "sql")
	return dir
}

// The SQL dump of the working set: rows written by cairn sql and never
// committed are in it; values are escaped as mariadb-dump escapes them,
// generated columns left out; the dump loads back into an equal database.
func TestDumpSQL(t *testing.T) {
	dir := dumpTestDB(t)
	// Nothing is committed: the branch head is the initial commit, without
	// the table.
	db, err := dbdir.Open(context.Background(), dir, diskstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := db.Repo.BranchHead(context.Background(), repo.DefaultBranch)
	if err == nil {
		var c *repo.Commit
		if c, err = db.Repo.ReadCommit(context.Background(), h); err == nil {
			var root *repo.RootValue
			if root, err = db.Repo.ReadRoot(context.Background(), c.Root); err == nil && len(root.TableNames()) != 0 {
				t.Fatalf("head commit has tables %v", root.TableNames())
			}
		}
	}
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	out := mustCairn(t, "", "dump")
	if out != "Successfully dumped database 'shop' to cairndump.sql.\n" {
		t.Fatalf("stdout: %q", out)
	}
	dump := readFile(t, "cairndump.sql")
	for _, want := range []string{
		"SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0;\n",
		"SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0;\n",
		"CREATE DATABASE IF NOT EXISTS `shop` /*!40100 DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_bin */;\n\nUSE `shop`;\n",
		"DROP TABLE IF EXISTS `t`;\nCREATE TABLE `t` (\n  `id` int NOT NULL,\n",
		"INSERT INTO `t` (`id`,`name`,`note`,`bin`,`price`) VALUES (1,'plain',NULL,0x00ff,1.50),(2,'say \\\"hi\\\", ok','it\\'s a\\\\b',NULL,NULL),(3,'','line1\\nline2','',-2.00),(4,'héllo 世界',' lead',0x41,0.00);\n",
		"SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS;\n",
	} {
		if !strings.Contains(dump, want) {
			t.Fatalf("dump lacks %q:\n%s", want, dump)
		}
	}

	// Loaded into another data directory and dumped again: the same dump.
	other := t.TempDir()
	f, err := os.Open("cairndump.sql")
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"sql", "--data-dir", other}, f, &stdout, &stderr)
	f.Close()
	if code != 0 {
		t.Fatalf("loading the dump: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	again := filepath.Join(t.TempDir(), "again.sql")
	mustCairn(t, "", "dump", "--data-dir", filepath.Join(other, "shop"), "--file-name", again)
	if got := readFile(t, again); got != dump {
		t.Fatalf("dump of the reloaded database differs:\n%s\nfirst:\n%s", got, dump)
	}
}

// An existing dump is kept unless -f; --file-name, --no-data and
// --no-create-db shape the file.
func TestDumpFileOptions(t *testing.T) {
	dumpTestDB(t)
	mustCairn(t, "", "dump")
	first := readFile(t, "cairndump.sql")
	code, out, errOut := cairnIn(t, "", "dump")
	if code != 1 || out != "" || errOut != "error: cairndump.sql already exists. Use -f to overwrite.\n" {
		t.Fatalf("second dump: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	mustCairn(t, "INSERT INTO t (id) VALUES (5)", "sql")
	if readFile(t, "cairndump.sql") != first {
		t.Fatal("a refused dump changed the file")
	}
	mustCairn(t, "", "dump", "-f")
	if got := readFile(t, "cairndump.sql"); !strings.Contains(got, ",(5,NULL,NULL,NULL,NULL);") {
		t.Fatalf("-f did not rewrite the dump:\n%s", got)
	}

	mustCairn(t, "", "dump", "--file-name", "schema.sql", "--no-data", "--no-create-db")
	schema := readFile(t, "schema.sql")
	if strings.Contains(schema, "INSERT") || strings.Contains(schema, "CREATE DATABASE") || strings.Contains(schema, "USE ") ||
		!strings.Contains(schema, "CREATE TABLE `t`") {
		t.Fatalf("--no-data --no-create-db:\n%s", schema)
	}
	code, _, errOut = cairnIn(t, "", "dump", "--file-name", "schema.sql")
	if code != 1 || errOut != "error: schema.sql already exists. Use -f to overwrite.\n" {
		t.Fatalf("--file-name exists: exit %d\n%s", code, errOut)
	}
	if entries, _ := filepath.Glob(".*.tmp"); len(entries) != 0 {
		t.Fatalf("temporary files left: %v", entries)
	}
}

// CSV and JSON: a file per table, exactly as docs/dump.md describes.
func TestDumpCSVAndJSON(t *testing.T) {
	dumpTestDB(t)
	mustCairn(t, "CREATE TABLE `a/b` (x INT); CREATE TABLE blank (k BIT(4), j JSON)", "sql")
	if out := mustCairn(t, "", "dump", "-r", "csv"); out != "Successfully dumped database 'shop' to cairndump.\n" {
		t.Fatalf("stdout: %q", out)
	}
	wantCSV := "id,name,note,bin,price\n" +
		"1,plain,,\x00\xff,1.50\n" +
		"2,\"say \"\"hi\"\", ok\",it's a\\b,,\n" +
		"3,\"\",\"line1\nline2\",\"\",-2.00\n" +
		"4,héllo 世界,\" lead\",A,0.00\n"
	if got := readFile(t, "cairndump/t.csv"); got != wantCSV {
		t.Fatalf("t.csv:\n%q\nwant\n%q", got, wantCSV)
	}
	if got := readFile(t, "cairndump/blank.csv"); got != "k,j\n" {
		t.Fatalf("blank.csv: %q", got)
	}
	if _, err := os.Stat("cairndump/a%2Fb.csv"); err != nil {
		t.Fatal(err)
	}

	mustCairn(t, "", "dump", "-r", "json", "--file-name", "out")
	wantJSON := `{"rows": [` +
		`{"id":1,"name":"plain","note":null,"bin":"00FF","price":1.50},` +
		`{"id":2,"name":"say \"hi\", ok","note":"it's a\\b","bin":null,"price":null},` +
		`{"id":3,"name":"","note":"line1\nline2","bin":"","price":-2.00},` +
		`{"id":4,"name":"héllo 世界","note":" lead","bin":"41","price":0.00}]}` + "\n"
	if got := readFile(t, "out/t.json"); got != wantJSON {
		t.Fatalf("t.json:\n%s\nwant\n%s", got, wantJSON)
	}
	if got := readFile(t, "out/blank.json"); got != `{"rows": []}`+"\n" {
		t.Fatalf("blank.json: %q", got)
	}

	code, _, errOut := cairnIn(t, "", "dump", "-r", "json", "--file-name", "out")
	if code != 1 || errOut != "error: out already exists. Use -f to overwrite.\n" {
		t.Fatalf("existing directory: exit %d\n%s", code, errOut)
	}
	mustCairn(t, "UPDATE t SET name = 'changed' WHERE id = 1", "sql")
	mustCairn(t, "", "dump", "-r", "json", "--file-name", "out", "-f")
	if got := readFile(t, "out/t.json"); !strings.Contains(got, `{"id":1,"name":"changed",`) {
		t.Fatalf("-f: %s", got)
	}
	code, _, errOut = cairnIn(t, "", "dump", "-r", "csv", "--file-name", "out/t.json", "-f")
	if code != 1 || errOut != "error: out/t.json is not a directory\n" {
		t.Fatalf("csv into a file: exit %d\n%s", code, errOut)
	}
}

// Wrong calls: a directory that is no database, an unknown format, flags
// that apply only to SQL.
func TestDumpRefusals(t *testing.T) {
	dir := chdirNew(t, "plain")
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"dump"}, "error: not a cairn database directory: " + dir + "\n"},
		{[]string{"dump", "--data-dir", "nosuch"}, "error: data directory: stat " + filepath.Join(dir, "nosuch") + ": no such file or directory\n"},
		{[]string{"dump", "-r", "xml"}, "error: unknown dump format \"xml\" (want sql, csv or json)\nusage: cairn dump"},
		{[]string{"dump", "-r", "csv", "--no-data"}, "error: --no-data applies only to -r sql\nusage: cairn dump"},
		{[]string{"dump", "-r", "json", "--no-create-db"}, "error: --no-create-db applies only to -r sql\nusage: cairn dump"},
		{[]string{"dump", "-r", "csv", "--compat", "mariadb"}, "error: --compat applies only to -r sql\nusage: cairn dump"},
		{[]string{"dump", "--compat", "postgres"}, "error: unknown --compat \"postgres\" (want mariadb)\nusage: cairn dump"},
		{[]string{"dump", "extra"}, "error: cairn dump takes no arguments, got \"extra\""},
	} {
		code, out, errOut := cairnIn(t, "", tc.args...)
		if code != 1 || out != "" || !strings.HasPrefix(errOut, tc.err) {
			t.Errorf("%v: exit %d\nstdout:\n%s\nstderr:\n%s", tc.args, code, out, errOut)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("refused dumps left %v", entries)
	}
	// A data directory holding databases: the hint names one.
	if err := os.Mkdir("shop", 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir("shop")
	mustCairn(t, "", "init")
	t.Chdir(dir)
	code, _, errOut := cairnIn(t, "", "dump")
	want := "error: not a cairn database directory: " + dir + " (it holds the databases shop: dump one with --data-dir " + filepath.Join(dir, "shop") + ")\n"
	if code != 1 || errOut != want {
		t.Fatalf("data directory of databases: exit %d\n%s", code, errOut)
	}
	code, _, errOut = cairnIn(t, "", "dump", "--data-dir", "shop", "--file-name", "nosuch/x.sql")
	if code != 1 || errOut != "error: cannot write nosuch/x.sql: stat nosuch: no such file or directory\n" {
		t.Fatalf("missing directory: exit %d\n%s", code, errOut)
	}
	code, out, _ := cairnIn(t, "", "dump", "--help")
	if code != 0 || !strings.Contains(out, "cairn dump -f --file-name shop.sql --compat mariadb") {
		t.Fatalf("help: %s", out)
	}
}

// INSERT statements end at dumpInsertRows rows or about dumpInsertBytes
// bytes.
func TestDumpBatches(t *testing.T) {
	chdirNew(t, "big")
	mustCairn(t, "", "init", "--name", "a", "--email", "a@b")
	mustCairn(t, `CREATE TABLE n (i INT PRIMARY KEY);
INSERT INTO n WITH RECURSIVE s (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 1200) SELECT i FROM s;
CREATE TABLE wide (i INT PRIMARY KEY, s MEDIUMTEXT);
INSERT INTO wide WITH RECURSIVE s (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 10) SELECT i, REPEAT('x', 300000) FROM s;
`, "sql")
	mustCairn(t, "", "dump")
	dump := readFile(t, "cairndump.sql")
	var counts []int
	for _, line := range strings.Split(dump, "\n") {
		if strings.HasPrefix(line, "INSERT INTO") {
			counts = append(counts, strings.Count(line, "),(")+1)
		}
	}
	if want := []int{500, 500, 200, 4, 4, 2}; !equalInts(counts, want) {
		t.Fatalf("rows per INSERT %v, want %v", counts, want)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// --compat mariadb: collations MariaDB lacks, MySQL 8 comments.
func TestDumpCompatMariaDB(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"CREATE TABLE `t` (\n  `a` varchar(5) COLLATE utf8mb4_0900_ai_ci,\n  `b` text COLLATE utf8mb4_sv_0900_as_cs\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_bin",
			"CREATE TABLE `t` (\n  `a` varchar(5) COLLATE utf8mb4_uca1400_nopad_ai_ci,\n  `b` text COLLATE utf8mb4_uca1400_swedish_nopad_as_cs\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin"},
		{"CREATE TABLE `g` (\n  `p` point NOT NULL /*!80003 SRID 4326 */,\n  `a` int,\n  CONSTRAINT `c` CHECK ((`a` > 0)) /*!80016 NOT ENFORCED */,\n  CONSTRAINT `d` CHECK ((`a` < 9))\n)",
			"CREATE TABLE `g` (\n  `p` point REF_SYSTEM_ID=4326 NOT NULL,\n  `a` int,\n  CONSTRAINT `d` CHECK ((`a` < 9))\n)"},
		{"CREATE TABLE `g` (\n  `a` int,\n  CONSTRAINT `c` CHECK ((`a` > 0)) /*!80016 NOT ENFORCED */\n)",
			"CREATE TABLE `g` (\n  `a` int\n)"},
		{"CREATE DATABASE IF NOT EXISTS `x` /*!40100 DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_as_ci */",
			"CREATE DATABASE IF NOT EXISTS `x` /*!40100 DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_uca1400_nopad_as_ci */"},
		// Names and strings stay as they are; unknown MySQL 8 comments are
		// comments.
		{"CREATE VIEW `utf8mb4_0900_bin` AS SELECT 'utf8mb4_0900_bin' /*!80023 x */",
			"CREATE VIEW `utf8mb4_0900_bin` AS SELECT 'utf8mb4_0900_bin' /* x */"},
		{"CREATE TABLE t (a varchar(3) COLLATE utf8mb4_ja_0900_as_cs_ks, b varchar(3) COLLATE utf8mb4_ru_0900_ai_ci, c varchar(3) COLLATE latin1_swedish_ci)",
			"CREATE TABLE t (a varchar(3) COLLATE utf8mb4_uca1400_nopad_as_cs, b varchar(3) COLLATE utf8mb4_uca1400_nopad_ai_ci, c varchar(3) COLLATE latin1_swedish_ci)"},
	} {
		if got := compatMariaDB(tc.in); got != tc.want {
			t.Errorf("compatMariaDB(%q)\n= %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

// The columns and parents a dump reads from SHOW CREATE TABLE, and the
// order of tables, views and triggers.
func TestDumpParse(t *testing.T) {
	cols, parents := parseCreateTable("CREATE TABLE `c` (\n  `id` int NOT NULL,\n  `we``ird` varchar(9) DEFAULT 'GENERATED ALWAYS AS (1)' COMMENT 'x, (y',\n"+
		"  `g` int GENERATED ALWAYS AS ((`id` + 1)) STORED,\n  `b` varbinary(3),\n  PRIMARY KEY (`id`),\n"+
		"  CONSTRAINT `f1` FOREIGN KEY (`id`) REFERENCES `p` (`id`),\n  CONSTRAINT `f2` FOREIGN KEY (`id`) REFERENCES `shop`.`q` (`id`),\n"+
		"  CONSTRAINT `f3` FOREIGN KEY (`id`) REFERENCES `other`.`r` (`id`)\n) ENGINE=InnoDB", "shop")
	want := []dumpColumn{{"id", "int", false}, {"we`ird", "varchar", false}, {"g", "int", true}, {"b", "varbinary", false}}
	if len(cols) != len(want) {
		t.Fatalf("columns %+v", cols)
	}
	for i := range want {
		if cols[i] != want[i] {
			t.Errorf("column %d: %+v, want %+v", i, cols[i], want[i])
		}
	}
	if strings.Join(parents, ",") != "p,q" {
		t.Errorf("parents %v", parents)
	}
	deps := map[string][]string{"a": {"C"}, "b": {"a"}, "c": nil, "x": {"y"}, "y": {"x"}}
	got := orderByDeps([]string{"a", "b", "c", "x", "y"}, func(n string) []string { return deps[n] })
	if strings.Join(got, ",") != "c,a,b,y,x" {
		t.Errorf("orderByDeps: %v", got)
	}
	if ref, ok := triggerOrderRef("CREATE TRIGGER t2 BEFORE INSERT ON t FOR EACH ROW PRECEDES `t1` SET NEW.a = 1"); !ok || ref != "t1" {
		t.Errorf("triggerOrderRef: %q %v", ref, ok)
	}
	if _, ok := triggerOrderRef("CREATE TRIGGER t2 BEFORE INSERT ON t FOR EACH ROW BEGIN SET @follows = 1; END"); ok {
		t.Error("triggerOrderRef found an order in the body")
	}
	if got := stripEmptyDefiner("CREATE DEFINER = ``@`` EVENT `e` ON SCHEDULE EVERY 1 HOUR DO SELECT 1"); got != "CREATE EVENT `e` ON SCHEDULE EVERY 1 HOUR DO SELECT 1" {
		t.Errorf("stripEmptyDefiner: %q", got)
	}
	if got := tableFileName("a/b\\c%d\n"); got != "a%2Fb%5Cc%25d%0A" {
		t.Errorf("tableFileName: %q", got)
	}
	if !regexp.MustCompile(`^\.x\.\d+\.tmp$`).MatchString(filepath.Base(tempName("dir/x"))) {
		t.Errorf("tempName: %s", tempName("dir/x"))
	}
}
