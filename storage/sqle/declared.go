package sqle

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/shopspring/decimal"

	"github.com/cairndb/cairn/storage/sqle/schema"
)

// Declared types and descending key columns (see ddlparse.go): applying
// the statement's notes to stored schemas, and enforcing declared types on
// the values written.

// notesFor returns what the session's DDL statement declared of table
// name, or nil.
func notesFor(ctx *sql.Context, name string) *tableNotes {
	if ctx == nil {
		return nil
	}
	s, ok := ctx.Session.(*Session)
	if !ok || s.ddl == nil {
		return nil
	}
	return s.ddl[strings.ToLower(name)]
}

// column returns the refinement the notes give column name, and whether
// the statement defined that column.
func (tn *tableNotes) column(name string) (schema.Refinement, bool) {
	if tn == nil {
		return schema.Refinement{}, false
	}
	r, ok := tn.cols[strings.ToLower(name)]
	return r, ok
}

// declare sets c's declared type to what r declares of its type ("" if r
// refines nothing or does not fit the type).
func declare(c *schema.Column, r schema.Refinement) {
	c.Declared = ""
	if r.Time && c.Type.Type() != types.Time.Type() {
		return
	}
	text := schema.DeclaredText(c.Type, r)
	if text == "" {
		return
	}
	if _, err := schema.ParseDeclared(c.Type, text); err == nil {
		c.Declared = text
	}
}

// carryDeclared gives c the declared type of prev, the column it was, if
// its type is the same.
func carryDeclared(c *schema.Column, prev *schema.Column) {
	c.Declared = ""
	if prev != nil && prev.Declared != "" && c.Type.Equals(prev.Type) && c.Type.String() == prev.Type.String() {
		c.Declared = prev.Declared
	}
}

// applyCreateNotes applies what CREATE TABLE declared to the new table's
// schema: declared types, the primary key's order, and for CREATE TABLE …
// LIKE what the engine does not copy from the other table (declared types,
// order, comment). It returns the statement's refusal, if any.
func (db *Database) applyCreateNotes(ctx *sql.Context, t *schema.Table) error {
	tn := notesFor(ctx, t.Name)
	if tn == nil {
		return nil
	}
	if err := tn.refusal(); err != nil {
		return err
	}
	if tn.like != "" {
		if src := db.likeSource(ctx, tn); src != nil {
			for i := range t.Columns {
				if j := src.ColumnIndex(t.Columns[i].Name); j >= 0 {
					carryDeclared(&t.Columns[i], &src.Columns[j])
				}
			}
			if len(src.PKOrdinals) == len(t.PKOrdinals) && src.PKDescending != nil {
				t.PKDescending = append([]bool(nil), src.PKDescending...)
			}
			if t.Comment == "" {
				t.Comment = src.Comment
			}
			// The engine copies the indexes it is shown, which are not the
			// disabled ones (keys.go); the new table has them, enabled.
			for _, x := range src.Indexes {
				if _, ok := t.IndexByName(x.Name); x.Disabled && !ok {
					x.Disabled = false
					x.Columns = slices.Clone(x.Columns)
					x.PrefixLengths = slices.Clone(x.PrefixLengths)
					x.Descending = slices.Clone(x.Descending)
					t.Indexes = append(t.Indexes, x)
				}
			}
			slices.SortFunc(t.Indexes, func(a, b schema.Index) int { return strings.Compare(a.Name, b.Name) })
		}
	}
	for i := range t.Columns {
		if r, ok := tn.column(t.Columns[i].Name); ok {
			declare(&t.Columns[i], r)
		}
	}
	if tn.pk != nil && len(tn.pk) == len(t.PKOrdinals) {
		t.PKDescending = append([]bool(nil), tn.pk...)
	}
	return nil
}

// likeSource returns the schema of the table CREATE TABLE … LIKE copies,
// if it is a cairn table.
func (db *Database) likeSource(ctx *sql.Context, tn *tableNotes) *schema.Table {
	dbName := tn.likeDB
	if dbName == "" {
		dbName = ctx.GetCurrentDatabase()
	}
	if dbName == "" {
		dbName = db.Name()
	}
	sdb, err := db.prov.Database(ctx, dbName)
	if err != nil {
		return nil
	}
	st, ok, err := sdb.GetTableInsensitive(ctx, tn.like)
	if err != nil || !ok {
		return nil
	}
	src, ok := cairnTable(st)
	if !ok {
		return nil
	}
	td, err := src.data(ctx)
	if err != nil {
		return nil
	}
	return td.lay.sch
}

// indexOrder returns the DESC flags the statement declared for an index
// named name on cols (nil if none): by name, else for an unnamed index by
// its columns; for CREATE TABLE … LIKE, the other table's index's.
func (t *Table) indexOrder(ctx *sql.Context, name string, cols []string) []bool {
	tn := notesFor(ctx, t.name)
	if tn == nil {
		return nil
	}
	for _, n := range tn.indexes {
		if len(n.cols) != len(cols) {
			continue
		}
		if n.name != "" && strings.EqualFold(n.name, name) || n.name == "" && sameNames(n.cols, cols) {
			return append([]bool(nil), n.desc...)
		}
	}
	if tn.like != "" {
		if src := t.db.likeSource(ctx, tn); src != nil {
			if i, ok := src.IndexByName(name); ok && sameNames(src.Indexes[i].Columns, cols) && src.Indexes[i].Descending != nil {
				return append([]bool(nil), src.Indexes[i].Descending...)
			}
		}
	}
	return nil
}

func sameNames(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return true
}

// refinements returns the refinement of each column of sch, nil if no
// column has one.
func refinements(sch *schema.Table) []*schema.Refinement {
	var out []*schema.Refinement
	for i := range sch.Columns {
		c := &sch.Columns[i]
		if c.Declared == "" {
			continue
		}
		r, err := schema.ParseDeclared(c.Type, c.Declared)
		if err != nil {
			continue // Validate has refused it already
		}
		if out == nil {
			out = make([]*schema.Refinement, len(sch.Columns))
		}
		out[i] = &r
	}
	return out
}

// refineRow returns row with the values of columns with declared types as
// the declared types hold them: TIME rounded to its fractional digits,
// FLOAT(M,D) to D decimals; a negative number in an UNSIGNED column or a
// FLOAT(M,D) beyond M digits is refused (MySQL's ER_WARN_DATA_OUT_OF_RANGE,
// as in strict mode). row itself is not changed.
func (l *layout) refineRow(row sql.Row) (sql.Row, error) {
	if l.refine == nil {
		return row, nil
	}
	out, copied := row, false
	for i, r := range l.refine {
		if r == nil || i >= len(row) || row[i] == nil {
			continue
		}
		v, err := refineValue(r, row[i])
		if err != nil {
			return nil, errOutOfRange(l.sch.Columns[i].Name)
		}
		if v != row[i] {
			if !copied {
				out, copied = append(sql.Row(nil), row...), true
			}
			out[i] = v
		}
	}
	return out, nil
}

// errOutOfRange is MySQL's error for a value its column cannot hold.
func errOutOfRange(col string) error {
	return mysql.NewSQLError(mysql.ERWarnDataOutOfRange, mysql.SSDataOutOfRange, "Out of range value for column '%s'", col)
}

var errRange = errors.New("out of range")

// refineValue returns v as a column refined by r holds it, or errRange.
func refineValue(r *schema.Refinement, v any) (any, error) {
	switch x := v.(type) {
	case types.Timespan:
		if !r.Time {
			return v, nil
		}
		return roundTimespan(x, r.TimePrecision), nil
	case decimal.Decimal:
		if r.Unsigned && x.Sign() < 0 {
			return nil, errRange
		}
	case float32:
		f, err := refineFloat(r, float64(x))
		if err != nil {
			return nil, err
		}
		if f32 := float32(f); f32 != x {
			return f32, nil
		}
	case float64:
		f, err := refineFloat(r, x)
		if err != nil {
			return nil, err
		}
		if f != x {
			return f, nil
		}
	}
	return v, nil
}

func refineFloat(r *schema.Refinement, f float64) (float64, error) {
	if r.Digits > 0 {
		rounded, err := strconv.ParseFloat(strconv.FormatFloat(f, 'f', r.Decimals, 64), 64)
		if err != nil {
			return 0, errRange
		}
		// At most M digits, D of them decimals: below 10^(M-D).
		if math.Abs(rounded) >= math.Pow10(r.Digits-r.Decimals) {
			return 0, errRange
		}
		f = rounded
	}
	if r.Unsigned && f < 0 {
		return 0, errRange
	}
	return f, nil
}

// roundTimespan rounds a TIME value to fsp fractional digits, half away
// from zero, as MySQL does, within TIME's range.
func roundTimespan(t types.Timespan, fsp int) types.Timespan {
	unit := int64(math.Pow10(6 - fsp))
	us := int64(t)
	neg := us < 0
	if neg {
		us = -us
	}
	us = (us + unit/2) / unit * unit
	const max = 838*3600e6 + 59*60e6 + 59e6
	if us > max {
		us = max
	}
	if neg {
		us = -us
	}
	return types.Timespan(us)
}
