package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// s returns a pointer to a value; null is nil.
func s(v string) *string { return &v }

var null *string

var (
	people = &resultSet{
		columns: []resultColumn{{"id", true}, {"name", false}, {"score", true}},
		rows: [][]*string{
			{s("1"), s("alice"), s("3.25")},
			{s("22"), null, null},
			{s("333"), s(""), s("-1e+10")},
		},
	}
	unicodeSet = &resultSet{
		columns: []resultColumn{{"名前", false}, {"n", true}},
		rows: [][]*string{
			{s("日本語"), s("1")},
			{s("cafe\u0301"), s("2")}, // e and a combining acute accent: 4 columns
			{s("😀!"), s("3")},
			{s("bad\xffbyte"), s("4")},
		},
	}
	awkward = &resultSet{
		columns: []resultColumn{{"k", true}, {"text", false}},
		rows: [][]*string{
			{s("1"), s("first line\nsecond, longer line\r\nthird")},
			{s("2"), s("a\tb\x01c")},
			{s("3"), s(`say "hi", <b>&amp;</b> \ ok`)},
		},
	}
	empty    = &resultSet{columns: []resultColumn{{"only", false}}}
	noResult = &resultSet{}
	odd      = &resultSet{
		columns: []resultColumn{{"n", true}},
		rows:    [][]*string{{s("007")}, {s("NaN")}, {s("+1")}, {s("-0.5E-3")}, {s("1.")}, {s("")}},
	}
)

func TestPrintTabular(t *testing.T) {
	for _, tc := range []struct {
		name string
		rs   *resultSet
		want string
	}{
		{"people", people, `
+-----+-------+--------+
| id  | name  | score  |
+-----+-------+--------+
|   1 | alice |   3.25 |
|  22 | NULL  |   NULL |
| 333 |       | -1e+10 |
+-----+-------+--------+
`},
		{"unicode", unicodeSet, `
+----------+---+
| 名前     | n |
+----------+---+
| 日本語   | 1 |
| cafe` + "\u0301" + `     | 2 |
| 😀!      | 3 |
| bad` + "\uFFFD" + `byte | 4 |
+----------+---+
`},
		{"multi-line, tabs and control characters", awkward, `
+---+-----------------------------+
| k | text                        |
+---+-----------------------------+
| 1 | first line                  |
|   | second, longer line         |
|   | third                       |
| 2 | a       b\x01c              |
| 3 | say "hi", <b>&amp;</b> \ ok |
+---+-----------------------------+
`},
		{"no rows", empty, `
+------+
| only |
+------+
`},
		{"no columns", noResult, "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := printTabular(&b, tc.rs); err != nil {
				t.Fatal(err)
			}
			if want := tc.want[1:]; b.String() != want {
				t.Fatalf("got:\n%s\nwant:\n%s", b.String(), want)
			}
		})
	}
}

func TestPrintCSV(t *testing.T) {
	for _, tc := range []struct {
		name string
		rs   *resultSet
		want string
	}{
		{"people", people, `
id,name,score
1,alice,3.25
22,,
333,,-1e+10
`},
		{"quoting", awkward, `
k,text
1,"first line
second, longer line` + "\r\n" + `third"
2,a` + "\t" + `b` + "\x01" + `c
3,"say ""hi"", <b>&amp;</b> \ ok"
`},
		{"no rows", empty, "\nonly\n"},
		{"no columns", noResult, "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := printCSV(&b, tc.rs); err != nil {
				t.Fatal(err)
			}
			if want := tc.want[1:]; b.String() != want {
				t.Fatalf("got:\n%q\nwant:\n%q", b.String(), want)
			}
		})
	}
}

func TestPrintJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		rs   *resultSet
		want string
	}{
		{"people", people, `{"rows": [{"id":1,"name":"alice","score":3.25},{"id":22,"name":null,"score":null},{"id":333,"name":"","score":-1e+10}]}`},
		{"escaping", awkward, `{"rows": [{"k":1,"text":"first line\nsecond, longer line\r\nthird"},{"k":2,"text":"a\tb\u0001c"},{"k":3,"text":"say \"hi\", <b>&amp;</b> \\ ok"}]}`},
		{"unicode", unicodeSet, `{"rows": [{"名前":"日本語","n":1},{"名前":"cafe` + "\u0301" + `","n":2},{"名前":"😀!","n":3},{"名前":"bad\ufffdbyte","n":4}]}`},
		{"numbers that are not JSON's", odd, `{"rows": [{"n":"007"},{"n":"NaN"},{"n":"+1"},{"n":-0.5E-3},{"n":"1."},{"n":""}]}`},
		{"no rows", empty, `{"rows": []}`},
		{"no columns", noResult, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := printJSON(&b, tc.rs); err != nil {
				t.Fatal(err)
			}
			want := tc.want
			if want != "" {
				want += "\n"
				if !json.Valid(b.Bytes()) {
					t.Errorf("not valid JSON: %s", b.String())
				}
			}
			if b.String() != want {
				t.Fatalf("got:\n%s\nwant:\n%s", b.String(), want)
			}
		})
	}
}

func TestIsJSONNumber(t *testing.T) {
	for _, n := range []string{"0", "-0", "7", "10", "-12.5", "0.001", "1e5", "1E+5", "2.5e-3", "18446744073709551615"} {
		if !isJSONNumber(n) || !json.Valid([]byte(n)) {
			t.Errorf("%q is a JSON number", n)
		}
	}
	for _, n := range []string{"", "-", "01", "-01", "+1", ".5", "1.", "1e", "1e+", "NaN", "Infinity", "1 ", " 1", "0x1F", "1,5"} {
		if isJSONNumber(n) {
			t.Errorf("%q is no JSON number", n)
		}
		if json.Valid([]byte(n)) && strings.TrimSpace(n) == n {
			t.Errorf("json.Valid(%q), but isJSONNumber says no", n)
		}
	}
}
