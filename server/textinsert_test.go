package server

import (
	"fmt"
	"testing"
)

// scanInsert takes text INSERTs of one row of plain literals, and nothing
// it could misread.
func TestScanInsert(t *testing.T) {
	for _, tc := range []struct{ in, norm, args string }{
		{"INSERT INTO sbtest1 (id, k, c, pad) VALUES (0, 5012, '123-456', '78-90')",
			"INSERT INTO sbtest1 (id, k, c, pad) VALUES (?, ?, ?, ?)", "[0 5012 '123-456' '78-90']"},
		{"  insert into `my t`.x(a,b)values(1,'')  ; ", "INSERT INTO `my t`.x (a, b) VALUES (?, ?)", "[1 '']"},
		{"INSERT INTO t VALUES (007, 'é ü', 18446744073709551615)", "INSERT INTO t VALUES (?, ?, ?)", "[007 'é ü' 18446744073709551615]"},
		{"INSERT\nINTO\tt\r\n(a)\nVALUES\n(1)", "INSERT INTO t (a) VALUES (?)", "[1]"},
		{"INSERT INTO 1t VALUES (1)", "INSERT INTO 1t VALUES (?)", "[1]"},
	} {
		norm, args, ok := scanInsert(tc.in)
		var got []string
		for _, a := range args {
			if a.isStr {
				got = append(got, "'"+a.text+"'")
			} else {
				got = append(got, a.text)
			}
		}
		if !ok || norm != tc.norm || fmt.Sprint(got) != tc.args {
			t.Errorf("%q: %v %q %v; want %q %v", tc.in, ok, norm, got, tc.norm, tc.args)
		}
	}
	for _, in := range []string{
		"INSERT INTO t VALUES (-1)",
		"INSERT INTO t VALUES (1.5)",
		"INSERT INTO t VALUES (1e3)",
		"INSERT INTO t VALUES (0x1F)",
		"INSERT INTO t VALUES (12abc)",
		"INSERT INTO t VALUES ('it''s')",
		"INSERT INTO t VALUES ('a\\nb')",
		"INSERT INTO t VALUES ('a' 'b')",
		"INSERT INTO t VALUES (\"a\")",
		"INSERT INTO t VALUES (_utf8mb4'a')",
		"INSERT INTO t VALUES (NULL)",
		"INSERT INTO t VALUES (DEFAULT)",
		"INSERT INTO t VALUES (1 + 1)",
		"INSERT INTO t VALUES (1), (2)",
		"INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)",
		"INSERT INTO t VALUES (1) ON DUPLICATE KEY UPDATE a = 1",
		"INSERT INTO t VALUE (1)",
		"INSERT t VALUES (1)",
		"INSERT IGNORE INTO t VALUES (1)",
		"INSERT INTO t SET a = 1",
		"INSERT INTO t SELECT 1",
		"INSERT INTO t /* c */ VALUES (1)",
		"INSERT INTO t VALUES (1) -- c",
		"/*!40000 INSERT INTO t VALUES (1) */",
		"INSERT INTO t VALUES ('unterminated)",
		"INSERT INTO 123 VALUES (1)",
		"INSERT INTO `a``b` VALUES (1)",
		"INSERT INTO t (a, ) VALUES (1)",
		"INSERT INTO t () VALUES ()",
		"INSERT INTO t VALUES (123456789012345678901)",
		"INSERTINTO t VALUES (1)",
		"INSERT INTOt VALUES (1)",
	} {
		if norm, _, ok := scanInsert(in); ok {
			t.Errorf("%q: taken as %q", in, norm)
		}
	}
}
