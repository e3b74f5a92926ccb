package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// resultColumn is a column of a query result.
type resultColumn struct {
	name string
	// numeric columns are right-aligned in tables and unquoted in JSON.
	// DECIMAL counts as numeric, as in the mysql client; its JSON is then
	// a number a reader may hold with less precision than the text.
	numeric bool
}

// resultSet is a query result as text, the way a MySQL client receives it.
type resultSet struct {
	columns []resultColumn
	rows    [][]*string // nil is NULL
}

// nullText is how tables show NULL.
const nullText = "NULL"

// printTabular writes rs as the mysql client does: a table drawn with
// +---+ borders, a header, text left-aligned and numbers (and their NULLs)
// right-aligned, columns as wide as their widest value on a terminal. A value
// with line breaks takes as many lines of the table; tabs are expanded and
// other control characters shown as \xNN escapes, so that the borders line
// up. A result without columns prints nothing; one without rows, the header.
func printTabular(w io.Writer, rs *resultSet) error {
	if len(rs.columns) == 0 {
		return nil
	}
	header := make([][]string, len(rs.columns))
	widths := make([]int, len(rs.columns))
	for i, c := range rs.columns {
		header[i] = cellLines(c.name)
		widths[i] = maxWidth(header[i], 0)
	}
	cells := make([][][]string, len(rs.rows))
	for r, row := range rs.rows {
		cells[r] = make([][]string, len(rs.columns))
		for i := range rs.columns {
			lines := []string{nullText}
			if i < len(row) && row[i] != nil {
				lines = cellLines(*row[i])
			}
			cells[r][i] = lines
			widths[i] = maxWidth(lines, widths[i])
		}
	}

	var border strings.Builder
	border.WriteByte('+')
	for _, wd := range widths {
		border.WriteString(strings.Repeat("-", wd+2))
		border.WriteByte('+')
	}
	border.WriteByte('\n')

	bw := bufio.NewWriter(w)
	bw.WriteString(border.String())
	writeTableRow(bw, header, widths, nil)
	bw.WriteString(border.String())
	for _, row := range cells {
		writeTableRow(bw, row, widths, rs.columns)
	}
	if len(cells) > 0 {
		bw.WriteString(border.String())
	}
	return bw.Flush()
}

// writeTableRow writes one row of a table, as many lines high as its
// tallest cell; columns, if not nil, say which cells to right-align.
func writeTableRow(w *bufio.Writer, row [][]string, widths []int, columns []resultColumn) {
	height := 1
	for _, lines := range row {
		height = max(height, len(lines))
	}
	for l := range height {
		w.WriteByte('|')
		for i, lines := range row {
			text := ""
			if l < len(lines) {
				text = lines[l]
			}
			pad := strings.Repeat(" ", widths[i]-displayWidth(text))
			w.WriteByte(' ')
			if columns != nil && columns[i].numeric {
				w.WriteString(pad)
				w.WriteString(text)
			} else {
				w.WriteString(text)
				w.WriteString(pad)
			}
			w.WriteString(" |")
		}
		w.WriteByte('\n')
	}
}

// cellLines returns the lines of a value as a table shows them: split at
// line breaks, tabs expanded to stops every 8 columns, other control
// characters as \xNN and invalid UTF-8 as U+FFFD.
func cellLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		var b strings.Builder
		col := 0
		for _, r := range line {
			switch {
			case r == '\t':
				n := 8 - col%8
				b.WriteString(strings.Repeat(" ", n))
				col += n
			case unicode.IsControl(r):
				fmt.Fprintf(&b, `\x%02x`, r)
				col += 4
			default:
				b.WriteRune(r) // an invalid byte decodes as, and is written as, U+FFFD
				col += runeWidth(r)
			}
		}
		lines[i] = b.String()
	}
	return lines
}

// maxWidth returns the display width of the widest of lines, or at least
// least.
func maxWidth(lines []string, least int) int {
	for _, l := range lines {
		least = max(least, displayWidth(l))
	}
	return least
}

// displayWidth returns how many columns s takes on a terminal.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

// runeWidth returns how many columns r takes on a terminal: 2 for East Asian
// wide and full-width characters (and most emoji), 0 for combining marks and
// invisible format characters, else 1.
func runeWidth(r rune) int {
	switch {
	case r == utf8.RuneError:
		return 1
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		return 0
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

// rowWriter prints a result as it streams: begin with the columns, then
// each row, then end. A result without columns prints nothing.
type rowWriter interface {
	begin(columns []resultColumn) error
	row(row []*string) error
	end() error
}

// tabularWriter collects the rows: a table's widths depend on all of them.
type tabularWriter struct {
	w  io.Writer
	rs resultSet
}

func (t *tabularWriter) begin(columns []resultColumn) error {
	t.rs.columns = columns
	return nil
}

func (t *tabularWriter) row(row []*string) error {
	t.rs.rows = append(t.rs.rows, row)
	return nil
}

func (t *tabularWriter) end() error { return printTabular(t.w, &t.rs) }

// printAll prints rs through rw.
func printAll(rw rowWriter, rs *resultSet) error {
	if err := rw.begin(rs.columns); err != nil {
		return err
	}
	for _, row := range rs.rows {
		if err := rw.row(row); err != nil {
			return err
		}
	}
	return rw.end()
}

// printCSV writes rs as CSV (RFC 4180, with \n line ends): a header row of
// column names, then a row per result row. NULL is an empty field, like the
// empty string.
func printCSV(w io.Writer, rs *resultSet) error { return printAll(&csvWriter{w: w}, rs) }

type csvWriter struct {
	w      io.Writer
	cw     *csv.Writer
	record []string
}

func (c *csvWriter) begin(columns []resultColumn) error {
	if len(columns) == 0 {
		return nil
	}
	c.cw = csv.NewWriter(c.w)
	c.record = make([]string, len(columns))
	for i, col := range columns {
		c.record[i] = col.name
	}
	return c.cw.Write(c.record)
}

func (c *csvWriter) row(row []*string) error {
	if c.cw == nil {
		return nil
	}
	for i := range c.record {
		c.record[i] = ""
		if i < len(row) && row[i] != nil {
			c.record[i] = *row[i]
		}
	}
	return c.cw.Write(c.record)
}

func (c *csvWriter) end() error {
	if c.cw == nil {
		return nil
	}
	c.cw.Flush()
	return c.cw.Error()
}

// printJSON writes rs as Dolt's -r json does: {"rows": [ROW,…]} and a line
// end, each row an object of column name to value in column order. Values of
// numeric columns are JSON numbers when their text is one (else strings),
// other values strings, NULL null. A result without columns prints nothing.
func printJSON(w io.Writer, rs *resultSet) error { return printAll(&jsonWriter{w: w}, rs) }

type jsonWriter struct {
	w       io.Writer
	bw      *bufio.Writer
	columns []resultColumn
	names   [][]byte
	n       int
}

func (j *jsonWriter) begin(columns []resultColumn) error {
	if len(columns) == 0 {
		return nil
	}
	j.columns = columns
	j.names = make([][]byte, len(columns))
	for i, c := range columns {
		j.names[i] = jsonString(c.name)
	}
	j.bw = bufio.NewWriter(j.w)
	_, err := j.bw.WriteString(`{"rows": [`)
	return err
}

func (j *jsonWriter) row(row []*string) error {
	if j.bw == nil {
		return nil
	}
	bw := j.bw
	if j.n > 0 {
		bw.WriteByte(',')
	}
	j.n++
	bw.WriteByte('{')
	for i, c := range j.columns {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.Write(j.names[i])
		bw.WriteByte(':')
		switch {
		case i >= len(row) || row[i] == nil:
			bw.WriteString("null")
		case c.numeric && isJSONNumber(*row[i]):
			bw.WriteString(*row[i])
		default:
			bw.Write(jsonString(*row[i]))
		}
	}
	return bw.WriteByte('}')
}

func (j *jsonWriter) end() error {
	if j.bw == nil {
		return nil
	}
	j.bw.WriteString("]}\n")
	return j.bw.Flush()
}

// jsonString returns s as a JSON string, leaving <, > and & as they are.
// Invalid UTF-8 becomes U+FFFD.
func jsonString(s string) []byte {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return []byte(strings.TrimSuffix(b.String(), "\n"))
}

// isJSONNumber reports whether s is a number in JSON's grammar, which, unlike
// MySQL's text, has no leading zeros (ZEROFILL), no leading '+' and no
// NaN or infinities.
func isJSONNumber(s string) bool {
	i := 0
	digits := func() int {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - start
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch n := digits(); {
	case n == 0:
		return false
	case n > 1 && s[i-n] == '0':
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}
