package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// stmt is a statement splitStatements found and its line.
type stmt struct {
	line int
	text string
}

// show returns stmts as text for a test failure.
func show(stmts []stmt) string {
	var parts []string
	for _, s := range stmts {
		parts = append(parts, fmt.Sprintf("%d:%q", s.line, s.text))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// split returns the statements of script.
func split(t *testing.T, script string) ([]stmt, error) {
	t.Helper()
	var got []stmt
	err := splitStatements(strings.NewReader(script), func(s string, line int) error {
		got = append(got, stmt{line, s})
		return nil
	})
	return got, err
}

func TestSplitStatements(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script string
		want   []stmt
	}{
		{"one line", "SELECT 1; SELECT 2;select 3", []stmt{{1, "SELECT 1"}, {1, "SELECT 2"}, {1, "select 3"}}},
		{"lines", "\n\nSELECT\n  1\n;\n\nSELECT 2;\n", []stmt{{3, "SELECT\n  1"}, {7, "SELECT 2"}}},
		{"empty statements", ";;\n ; \n\t;", nil},
		{"empty script", "", nil},
		{"quotes", "SELECT ';', \"a;b\", `c;d`;", []stmt{{1, "SELECT ';', \"a;b\", `c;d`"}}},
		{"backslash escapes", `SELECT 'it\'s;', "say \"x;\"", 'a\\'; SELECT 2;`, []stmt{{1, `SELECT 'it\'s;', "say \"x;\"", 'a\\'`}, {1, "SELECT 2"}}},
		{"doubled quotes", "SELECT 'it''s;', \"a\"\";\", `b``;`;", []stmt{{1, "SELECT 'it''s;', \"a\"\";\", `b``;`"}}},
		{"no backslash escapes in identifiers", "SELECT `a\\`;SELECT 2;", []stmt{{1, "SELECT `a\\`"}, {1, "SELECT 2"}}},
		{"multi-line string", "INSERT INTO t VALUES ('a;\nb');\nSELECT 2;", []stmt{{1, "INSERT INTO t VALUES ('a;\nb')"}, {3, "SELECT 2"}}},
		{"comments", "-- c;\n# c;\nSELECT 1 # c;\n; /* c; */ SELECT/*x*/2 -- c\n;--\nSELECT 3;", []stmt{{3, "SELECT 1"}, {4, "SELECT 2"}, {6, "SELECT 3"}}},
		{"multi-line comment", "/* a;\n b; */ SELECT\n/* c\n*/ 1;", []stmt{{2, "SELECT\n 1"}}},
		{"comment-like text", "SELECT 1--1;SELECT 2-- -1;\n;SELECT '#', \"--  \", '/*';", []stmt{{1, "SELECT 1--1"}, {1, "SELECT 2"}, {2, "SELECT '#', \"--  \", '/*'"}}},
		{"executable comments", "/*!40101 SET a=';' ; */;/*M!100616 SET b=1 */;SELECT /*+ MAX_EXECUTION_TIME(1) */ 1;", []stmt{{1, "/*!40101 SET a=';' ; */"}, {1, "/*M!100616 SET b=1 */"}, {1, "SELECT /*+ MAX_EXECUTION_TIME(1) */ 1"}}},
		{"sandbox comment", "/*!999999\\- enable the sandbox mode */ \nSELECT 1;", []stmt{{2, "SELECT 1"}}},
		{"delimiter", "DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; END$$ SELECT 2 $$\n  delimiter ;\nSELECT 3;", []stmt{{2, "CREATE PROCEDURE p() BEGIN SELECT 1; END"}, {2, "SELECT 2"}, {4, "SELECT 3"}}},
		{"quoted delimiter", "DELIMITER '//' and the rest\nSELECT 1//SELECT ';'//", []stmt{{2, "SELECT 1"}, {2, "SELECT ';'"}}},
		{"delimiter after a statement", "SELECT 1; DELIMITER //\nSELECT 2; SELECT 3//", []stmt{{1, "SELECT 1"}, {2, "SELECT 2; SELECT 3"}}},
		{"delimiter inside a statement is text", "SELECT\nDELIMITER ;", []stmt{{1, "SELECT\nDELIMITER"}}},
		{"delimiter prefix is text", "DELIMITERS;", []stmt{{1, "DELIMITERS"}}},
		{"CRLF", "SELECT 1;\r\n-- c\r\nSELECT\r\n 2;\r\nDELIMITER ;;\r\nSELECT 3;;\r\n", []stmt{{1, "SELECT 1"}, {3, "SELECT\r\n 2"}, {6, "SELECT 3"}}},
		{"byte order mark", "\uFEFFSELECT 1;", []stmt{{1, "SELECT 1"}}},
		{"no final delimiter", "SELECT 1;\nSELECT 2 -- done", []stmt{{1, "SELECT 1"}, {2, "SELECT 2"}}},
		{"unicode", "SELECT '日本;語' AS `名;前`;", []stmt{{1, "SELECT '日本;語' AS `名;前`"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := split(t, tc.script)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got  %s\nwant %s", show(got), show(tc.want))
			}
		})
	}
}

func TestSplitStatementsErrors(t *testing.T) {
	for _, tc := range []struct{ script, want string }{
		{"SELECT 1;\nSELECT 'abc;\n", "line 2: unterminated ' quote"},
		{"SELECT `a;", "line 1: unterminated ` quote"},
		{"SELECT 1; /* no end;\nSELECT 2;", "line 1: unterminated /* comment"},
		{"SELECT 1;\n\n/*!40101 SET a=1;", "line 3: unterminated /* comment"},
		{"SELECT 1;\nDELIMITER\nSELECT 2;", "line 2: DELIMITER must be followed by a delimiter"},
		{"DELIMITER \\\\", "line 1: DELIMITER cannot contain a backslash"},
		{"DELIMITER 'ab", "line 1: DELIMITER: unterminated quote"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if _, err := split(t, tc.script); err == nil || err.Error() != tc.want {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// An error from the callback stops the reading and is returned as it is.
func TestSplitStatementsCallbackError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := splitStatements(strings.NewReader("SELECT 1; SELECT 2; SELECT 3;"), func(string, int) error {
		if n++; n == 2 {
			return stop
		}
		return nil
	})
	if err != stop || n != 2 {
		t.Fatalf("error %v after %d statements", err, n)
	}
}

// A mariadb-dump script, with its executable comments, trigger and procedure
// between DELIMITER ;; lines, splits into the statements the golden file
// lists. Run with -update to rewrite it.
func TestSplitDump(t *testing.T) {
	script, err := os.ReadFile(filepath.Join("testdata", "mariadb-dump.sql"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := split(t, string(script))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, s := range got {
		fmt.Fprintf(&b, "-- line %d\n%s\n", s.line, s.text)
	}
	golden := filepath.Join("testdata", "mariadb-dump.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Fatalf("statements differ from %s (rewrite it with -update):\n%s", golden, b.String())
	}
}
