package server

import "testing"

func TestRedactQuery(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"SELECT 'a'  ,\n 1", "SELECT 'a' , 1"},
		{"CREATE USER 'bob'@'%' IDENTIFIED BY 'pw'", "CREATE USER '<redacted>'@'<redacted>' IDENTIFIED BY '<redacted>'"},
		{`SET PASSWORD = "p\"w'x"`, "SET PASSWORD = '<redacted>'"},
		{"ALTER USER x IDENTIFIED BY 'it''s'", "ALTER USER x IDENTIFIED BY '<redacted>'"},
		{"set password = 'unterminated", "set password = '<redacted>'"},
	} {
		if got := redactQuery(c.in); got != c.want {
			t.Errorf("redactQuery(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestStatementKind(t *testing.T) {
	for in, want := range map[string]string{
		"  select 1":               "SELECT",
		"/*!40101 SET x=1 */":      "",
		"/* hint */ INSERT INTO t": "INSERT",
		"create_something(":        "CREATE_SOMETHING",
		"":                         "",
	} {
		if got := statementKind(in); got != want {
			t.Errorf("statementKind(%q) = %q, want %q", in, got, want)
		}
	}
}
