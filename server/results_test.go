package server

import "testing"

func TestMaybeSelect(t *testing.T) {
	for q, want := range map[string]bool{
		"SELECT 1":                             true,
		"select * from t":                      true,
		"  \n\tSelect\n1":                      true,
		"SELECT/**/1":                          true,
		"SELECT`a` FROM t":                     true,
		"/* hint */ SELECT 1":                  true,
		"-- note\nSELECT 1":                    true,
		"# note\nSELECT 1":                     true,
		"WITH x AS (SELECT 1) SELECT * FROM x": true,
		"(SELECT 1) UNION (SELECT 2)":          true,
		"SELECT":                               false, // the handler reports the error
		"SELECTED":                             false,
		"selectx FROM t":                       false,
		"with_x":                               false,
		"INSERT INTO t SELECT 1":               false,
		"/*!40101 SET NAMES utf8 */":           false,
		"/*!40001 SELECT 1 */":                 false,
		"/* unterminated SELECT 1":             false,
		"-- only a comment":                    false,
		"":                                     false,
		"COMMIT":                               false,
		"SET @a = (SELECT 1)":                  false,
	} {
		if got := maybeSelect(q); got != want {
			t.Errorf("maybeSelect(%q) = %v, want %v", q, got, want)
		}
	}
}
