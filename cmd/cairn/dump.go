package main

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	gmssql "github.com/dolthub/go-mysql-server/sql"
	"github.com/spf13/cobra"

	"github.com/cairndb/cairn/storage/dbdir"
	"github.com/cairndb/cairn/storage/sqle"
)

// Limits of one INSERT statement of a dump: it ends at whichever comes
// first (a single larger row makes a statement of its own).
const (
	dumpInsertBytes = 1 << 20
	dumpInsertRows  = 500
)

func newDumpCmd() *cobra.Command {
	cmd := newCmd("dump [-r sql|csv|json] [-f] [--file-name FILE] [--no-data] [--no-create-db] [--compat mariadb] [--data-dir DIR]",
		"write the database's schema and rows to files")
	cmd.Long = `Dump writes the database in the data directory (the current directory by
default) to files: its working set, what SQL sees now, changes not yet
committed included.

With -r sql (the default) it writes one SQL script, cairndump.sql, in the
style of mariadb-dump: CREATE DATABASE and USE (unless --no-create-db), then
for every table DROP TABLE IF EXISTS, its CREATE TABLE and its rows as
multi-row INSERT statements (unless --no-data), then the views, triggers,
procedures and events. Foreign-key and unique checks are off while it loads.
'cairn sql < cairndump.sql' or the mysql and mariadb clients load it.
--compat mariadb rewrites what MariaDB 10.11 does not know (MySQL 8
collations such as utf8mb4_0900_ai_ci, MySQL 8 comments) so that a MariaDB
server loads it too.

With -r csv or -r json it writes one file per table in the directory
cairndump: TABLE.csv (a header row, then RFC 4180 rows; NULL is an empty
field, the empty string "") or TABLE.json ({"rows": [{"column": value, …}, …]},
numbers as JSON numbers, NULL as null). Binary values are their bytes in
CSV and hexadecimal in JSON.

--file-name names the file or directory. An existing one is left alone
unless -f is given. docs/dump.md has the details.`
	cmd.Example = "  cairn dump\n" +
		"  cairn dump -f --file-name shop.sql --compat mariadb\n" +
		"  cairn dump -r csv --file-name export"
	format := cmd.Flags().StringP("result-format", "r", "sql", "output format: sql, csv or json")
	force := cmd.Flags().BoolP("force", "f", false, "overwrite an existing dump file or directory")
	fileName := cmd.Flags().String("file-name", "", "the dump file (sql) or directory (csv, json); default cairndump.sql or cairndump")
	noData := cmd.Flags().Bool("no-data", false, "write the schema without rows (sql only)")
	noCreateDB := cmd.Flags().Bool("no-create-db", false, "leave out CREATE DATABASE and USE (sql only)")
	compat := cmd.Flags().String("compat", "", "write SQL that this other server loads: mariadb (sql only)")
	dataDir := cmd.Flags().String("data-dir", ".", "the data directory: a database")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		opts := dumpOptions{noData: *noData, noCreateDB: *noCreateDB}
		switch *format {
		case "sql", "csv", "json":
		default:
			return usageError(fmt.Sprintf("unknown dump format %q (want sql, csv or json)", *format))
		}
		switch *compat {
		case "":
		case "mariadb":
			opts.compatMariaDB = true
		default:
			return usageError(fmt.Sprintf("unknown --compat %q (want mariadb)", *compat))
		}
		if *format != "sql" {
			for _, f := range []string{"no-data", "no-create-db", "compat"} {
				if cmd.Flags().Changed(f) {
					return usageError(fmt.Sprintf("--%s applies only to -r sql", f))
				}
			}
		}
		out := *fileName
		switch {
		case out != "":
		case *format == "sql":
			out = "cairndump.sql"
		default:
			out = "cairndump"
		}
		dir, err := filepath.Abs(*dataDir)
		if err != nil {
			return err
		}
		if _, err := os.Stat(dir); err != nil {
			return fmt.Errorf("data directory: %w", err)
		}
		if !dbdir.IsDatabase(dir) {
			if names, _ := dbdir.List(dir); len(names) > 0 {
				return fmt.Errorf("not a cairn database directory: %s (it holds the databases %s: dump one with --data-dir %s)",
					dir, strings.Join(names, ", "), filepath.Join(dir, names[0]))
			}
			return fmt.Errorf("not a cairn database directory: %s", dir)
		}
		if _, err := os.Stat(filepath.Dir(out)); err != nil {
			return fmt.Errorf("cannot write %s: %w", out, err)
		}
		fi, err := os.Stat(out)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			fi = nil
		case err != nil:
			return err
		case !*force:
			return fmt.Errorf("%s already exists. Use -f to overwrite.", out)
		case *format == "sql" && fi.IsDir():
			return fmt.Errorf("%s is a directory", out)
		case *format != "sql" && !fi.IsDir():
			return fmt.Errorf("%s is not a directory", out)
		}

		e, err := sqle.NewEngine(cmd.Context(), sqle.Options{Dir: dir})
		if err != nil {
			return err
		}
		defer e.Close()
		e.UseLocalRoot()
		d := &dumper{e: e, ctx: e.NewContext(cmd.Context(), filepath.Base(dir)), db: filepath.Base(dir), opts: opts}
		// One read-only transaction: every table as of one moment.
		if _, err := e.Query(d.ctx, "START TRANSACTION READ ONLY"); err != nil {
			return err
		}
		s, err := d.readSchema(*format == "sql")
		if err != nil {
			return err
		}
		switch *format {
		case "sql":
			err = writeAtomically(out, func(w io.Writer) error { return d.writeSQL(w, s) })
		default:
			err = d.writeTableFiles(out, *format, fi != nil, s)
		}
		if err != nil {
			return err
		}
		if _, err := e.Query(d.ctx, "COMMIT"); err != nil {
			return err
		}
		_, err = fmt.Fprintf(cmd.OutOrStdout(), "Successfully dumped database '%s' to %s.\n", d.db, out)
		return err
	}
	return cmd
}

// dumpOptions are the flags that shape an SQL dump.
type dumpOptions struct {
	noData, noCreateDB, compatMariaDB bool
}

// dumper reads one database through an engine session.
type dumper struct {
	e    *sqle.Engine
	ctx  *gmssql.Context
	db   string
	opts dumpOptions
}

// dumpTable is a table of a dump.
type dumpTable struct {
	name    string
	create  string // SHOW CREATE TABLE's text
	columns []dumpColumn
	parents []string // tables its foreign keys reference
}

// dumpObject is a view, trigger, procedure or event: its name and the
// statement that makes it.
type dumpObject struct{ name, create string }

// dumpSchema is what a dump holds besides rows.
type dumpSchema struct {
	createDB string
	tables   []*dumpTable // parents before the tables that reference them
	views    []dumpObject // a view after the views it uses
	triggers []dumpObject // a trigger after the one it FOLLOWS or PRECEDES
	procs    []dumpObject
	events   []dumpObject
}

// query runs q and returns its rows.
func (d *dumper) query(q string) ([][]*string, error) {
	res, err := d.e.Query(d.ctx, q)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", q, err)
	}
	return res.Rows, nil
}

// showCreate runs SHOW CREATE (what) name and returns the column col of its
// row: the statement.
func (d *dumper) showCreate(what, name, col string) (string, error) {
	q := "SHOW CREATE " + what + " " + quoteIdent(name)
	res, err := d.e.Query(d.ctx, q)
	if err != nil {
		return "", fmt.Errorf("%s: %w", q, err)
	}
	for i, c := range res.Columns {
		if c.Name == col && len(res.Rows) == 1 && res.Rows[0][i] != nil {
			return *res.Rows[0][i], nil
		}
	}
	return "", fmt.Errorf("%s: no %q in the result", q, col)
}

// readSchema reads the tables, and with objects the database, views,
// triggers, procedures and events.
func (d *dumper) readSchema(objects bool) (*dumpSchema, error) {
	s := &dumpSchema{}
	rows, err := d.query("SHOW FULL TABLES")
	if err != nil {
		return nil, err
	}
	var tableNames, viewNames []string
	for _, r := range rows {
		if len(r) < 2 || r[0] == nil || r[1] == nil {
			continue
		}
		switch *r[1] {
		case "BASE TABLE":
			tableNames = append(tableNames, *r[0])
		case "VIEW":
			viewNames = append(viewNames, *r[0])
		}
	}
	slices.Sort(tableNames)
	slices.Sort(viewNames)
	tables := map[string]*dumpTable{}
	for _, name := range tableNames {
		create, err := d.showCreate("TABLE", name, "Create Table")
		if err != nil {
			return nil, err
		}
		t := &dumpTable{name: name, create: create}
		t.columns, t.parents = parseCreateTable(create, d.db)
		if len(t.columns) == 0 {
			return nil, fmt.Errorf("cannot read the columns of table %s from its SHOW CREATE TABLE (unbalanced quotes?):\n%s", name, create)
		}
		tables[strings.ToLower(name)] = t
	}
	for _, name := range orderByDeps(tableNames, func(n string) []string { return tables[strings.ToLower(n)].parents }) {
		s.tables = append(s.tables, tables[strings.ToLower(name)])
	}
	if !objects {
		return s, nil
	}

	if s.createDB, err = d.showCreate("DATABASE", d.db, "Create Database"); err != nil {
		return nil, err
	}
	views := map[string]string{}
	for _, name := range viewNames {
		if views[strings.ToLower(name)], err = d.showCreate("VIEW", name, "Create View"); err != nil {
			return nil, err
		}
	}
	viewDeps := func(n string) []string {
		used := referencedNames(views[strings.ToLower(n)])
		var deps []string
		for _, other := range viewNames {
			if !strings.EqualFold(other, n) && used[strings.ToLower(other)] {
				deps = append(deps, other)
			}
		}
		return deps
	}
	for _, name := range orderByDeps(viewNames, viewDeps) {
		s.views = append(s.views, dumpObject{name, views[strings.ToLower(name)]})
	}

	rows, err = d.query("SHOW TRIGGERS")
	if err != nil {
		return nil, err
	}
	var triggerNames []string
	triggers := map[string]string{}
	for _, r := range rows {
		if len(r) == 0 || r[0] == nil {
			continue
		}
		create, err := d.showCreate("TRIGGER", *r[0], "SQL Original Statement")
		if err != nil {
			return nil, err
		}
		triggerNames = append(triggerNames, *r[0])
		triggers[strings.ToLower(*r[0])] = create
	}
	triggerDeps := func(n string) []string {
		if ref, ok := triggerOrderRef(triggers[strings.ToLower(n)]); ok {
			return []string{ref}
		}
		return nil
	}
	for _, name := range orderByDeps(triggerNames, triggerDeps) {
		s.triggers = append(s.triggers, dumpObject{name, triggers[strings.ToLower(name)]})
	}

	procNames, err := d.procedureNames()
	if err != nil {
		return nil, err
	}
	for _, name := range procNames {
		create, err := d.showCreate("PROCEDURE", name, "Create Procedure")
		if err != nil {
			return nil, err
		}
		s.procs = append(s.procs, dumpObject{name, create})
	}

	rows, err = d.query("SHOW EVENTS")
	if err != nil {
		return nil, err
	}
	var eventNames []string
	for _, r := range rows {
		if len(r) > 1 && r[1] != nil {
			eventNames = append(eventNames, *r[1]) // Db, Name, …
		}
	}
	slices.Sort(eventNames)
	for _, name := range eventNames {
		create, err := d.showCreate("EVENT", name, "Create Event")
		if err != nil {
			return nil, err
		}
		s.events = append(s.events, dumpObject{name, stripEmptyDefiner(create)})
	}
	return s, nil
}

// procedureNames returns the names of the database's stored procedures in
// order. It asks the database itself: SHOW PROCEDURE STATUS and
// information_schema.ROUTINES list only what a session's privileges let it
// see, and sessions without a server have no privileges to check.
func (d *dumper) procedureNames() ([]string, error) {
	db, err := d.e.Provider.Database(d.ctx, d.db)
	if err != nil {
		return nil, err
	}
	pdb, ok := db.(gmssql.StoredProcedureDatabase)
	if !ok {
		return nil, nil
	}
	procs, err := pdb.GetStoredProcedures(d.ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, p := range procs {
		names = append(names, p.Name)
	}
	slices.Sort(names)
	return names, nil
}

// orderByDeps returns names, each after the names deps gives for it (those
// among names, any case), else in the order given. Names in a cycle come in
// the order given once what they need outside the cycle is out.
func orderByDeps(names []string, deps func(string) []string) []string {
	byLower := map[string]string{}
	for _, n := range names {
		byLower[strings.ToLower(n)] = n
	}
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	var out []string
	var visit func(string)
	visit = func(n string) {
		key := strings.ToLower(n)
		if state[key] != 0 {
			return
		}
		state[key] = visiting
		for _, dep := range deps(n) {
			if other, ok := byLower[strings.ToLower(dep)]; ok {
				visit(other)
			}
		}
		state[key] = done
		out = append(out, n)
	}
	for _, n := range names {
		visit(n)
	}
	return out
}

// quoteIdent returns name as a `quoted name`.
func quoteIdent(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// ddl returns a statement as the dump writes it: rewritten for MariaDB
// with --compat mariadb.
func (d *dumper) ddl(stmt string) string {
	if d.opts.compatMariaDB {
		return compatMariaDB(stmt)
	}
	return stmt
}

// writeSQL writes the SQL dump of s to w.
func (d *dumper) writeSQL(w io.Writer, s *dumpSchema) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	fmt.Fprintf(bw, "-- cairn dump %s\n--\n-- Database: %s\n", Version, d.db)
	bw.WriteString("-- The working set: what SQL sees, uncommitted changes included.\n")
	if d.opts.compatMariaDB {
		bw.WriteString("-- For MariaDB (--compat mariadb): MySQL 8 collations and syntax rewritten.\n")
	}
	bw.WriteString("-- ------------------------------------------------------\n\n")
	bw.WriteString("SET NAMES utf8mb4;\n")
	bw.WriteString("SET @OLD_TIME_ZONE=@@TIME_ZONE, TIME_ZONE='+00:00';\n")
	bw.WriteString("SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0;\n")
	bw.WriteString("SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0;\n")
	// An AUTO_INCREMENT column's 0 is a value, not a request for the next one.
	bw.WriteString("SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE=CONCAT_WS(',', NULLIF(@@SQL_MODE, ''), 'NO_AUTO_VALUE_ON_ZERO');\n")
	if !d.opts.noCreateDB {
		create := strings.Replace(s.createDB, "CREATE DATABASE ", "CREATE DATABASE IF NOT EXISTS ", 1)
		fmt.Fprintf(bw, "\n%s;\n\nUSE %s;\n", d.ddl(create), quoteIdent(d.db))
	}
	for _, t := range s.tables {
		fmt.Fprintf(bw, "\n--\n-- Table structure for table %s\n--\n\n", commentSafe(quoteIdent(t.name)))
		fmt.Fprintf(bw, "DROP TABLE IF EXISTS %s;\n%s;\n", quoteIdent(t.name), d.ddl(t.create))
		if d.opts.noData {
			continue
		}
		if err := d.writeInserts(bw, t); err != nil {
			return err
		}
	}
	// Views, triggers and routines keep the SQL mode they are made in.
	bw.WriteString("\nSET SQL_MODE=@OLD_SQL_MODE;\n")
	for _, v := range s.views {
		fmt.Fprintf(bw, "\n--\n-- View %s\n--\n\n", commentSafe(quoteIdent(v.name)))
		fmt.Fprintf(bw, "DROP VIEW IF EXISTS %s;\n%s;\n", quoteIdent(v.name), d.ddl(v.create))
	}
	writeRoutines := func(kind string, objs []dumpObject) {
		for _, o := range objs {
			fmt.Fprintf(bw, "\n--\n-- %s %s\n--\n\n", kind, commentSafe(quoteIdent(o.name)))
			fmt.Fprintf(bw, "DROP %s IF EXISTS %s;\n", strings.ToUpper(kind), quoteIdent(o.name))
			fmt.Fprintf(bw, "DELIMITER ;;\n%s;;\nDELIMITER ;\n", d.ddl(o.create))
		}
	}
	writeRoutines("Trigger", s.triggers)
	writeRoutines("Procedure", s.procs)
	writeRoutines("Event", s.events)
	bw.WriteString("\nSET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS;\n")
	bw.WriteString("SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS;\n")
	bw.WriteString("SET TIME_ZONE=@OLD_TIME_ZONE;\n\n-- Dump completed\n")
	return bw.Flush()
}

// commentSafe returns s fit for a -- comment line.
func commentSafe(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ").Replace(s)
}

// writeInserts streams the rows of t to w as INSERT statements of up to
// dumpInsertRows rows and about dumpInsertBytes bytes.
func (d *dumper) writeInserts(w *bufio.Writer, t *dumpTable) error {
	head := "INSERT INTO " + quoteIdent(t.name)
	if slices.ContainsFunc(t.columns, func(c dumpColumn) bool { return c.generated }) {
		var names []string
		for _, c := range t.columns {
			if !c.generated {
				names = append(names, quoteIdent(c.name))
			}
		}
		head += " (" + strings.Join(names, ",") + ")"
	}
	head += " VALUES "
	var stmt []byte
	n := 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		stmt = append(stmt, ";\n"...)
		_, err := w.Write(stmt)
		stmt, n = stmt[:0], 0
		return err
	}
	first := true
	err := d.scanTable(t, func(row []*string) error {
		if first {
			fmt.Fprintf(w, "\n--\n-- Dumping data for table %s\n--\n\n", commentSafe(quoteIdent(t.name)))
			first = false
		}
		if n == 0 {
			stmt = append(stmt, head...)
		} else {
			stmt = append(stmt, ',')
		}
		stmt = append(stmt, '(')
		k := 0
		for i, c := range t.columns {
			if c.generated {
				continue
			}
			if k > 0 {
				stmt = append(stmt, ',')
			}
			k++
			stmt = appendSQLValue(stmt, row[i], c.kind())
		}
		stmt = append(stmt, ')')
		n++
		if n >= dumpInsertRows || len(stmt) >= dumpInsertBytes {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// scanTable calls fn with each row of t, all columns, as the engine streams
// them.
func (d *dumper) scanTable(t *dumpTable, fn func(row []*string) error) error {
	q := "SELECT * FROM " + quoteIdent(t.name)
	_, err := d.e.QueryEach(d.ctx, q, func(cols []sqle.ResultColumn) error {
		if len(cols) != len(t.columns) {
			return fmt.Errorf("table %s has %d columns, SHOW CREATE TABLE shows %d", t.name, len(cols), len(t.columns))
		}
		for i, c := range cols {
			if !strings.EqualFold(c.Name, t.columns[i].name) {
				return fmt.Errorf("table %s: column %d is %s, SHOW CREATE TABLE shows %s", t.name, i+1, c.Name, t.columns[i].name)
			}
		}
		return nil
	}, fn)
	if err != nil {
		return fmt.Errorf("dump table %s: %w", t.name, err)
	}
	return nil
}

// appendSQLValue appends v as an SQL literal: NULL, a number as it is,
// bytes as 0x… (no bytes as an empty quoted string), text quoted with the escapes
// mysql_real_escape_string uses.
func appendSQLValue(b []byte, v *string, kind valueKind) []byte {
	switch {
	case v == nil:
		return append(b, "NULL"...)
	case kind == kindNumber:
		return append(b, *v...)
	case kind == kindBinary && *v != "":
		b = append(b, "0x"...)
		return hex.AppendEncode(b, []byte(*v))
	}
	b = append(b, '\'')
	s := *v
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case 0:
			b = append(b, `\0`...)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\\':
			b = append(b, `\\`...)
		case '\'':
			b = append(b, `\'`...)
		case '"':
			b = append(b, `\"`...)
		case 0x1a:
			b = append(b, `\Z`...)
		default:
			b = append(b, c)
		}
	}
	return append(b, '\'')
}

// writeTableFiles writes a file per table, TABLE.csv or TABLE.json, in the
// directory out: into a new directory put in place at the end, or, if out
// exists (-f), each file replacing its old version.
func (d *dumper) writeTableFiles(out, format string, exists bool, s *dumpSchema) error {
	target := out
	if !exists {
		target = tempName(out)
		if err := os.Mkdir(target, 0o755); err != nil {
			return err
		}
	}
	for _, t := range s.tables {
		path := filepath.Join(target, tableFileName(t.name)+"."+format)
		var err error
		if exists {
			err = writeAtomically(path, func(w io.Writer) error { return d.writeTableFile(w, format, t) })
		} else {
			err = writeFile(path, func(w io.Writer) error { return d.writeTableFile(w, format, t) })
		}
		if err != nil {
			if !exists {
				os.RemoveAll(target)
			}
			return err
		}
	}
	if !exists {
		if err := os.Rename(target, out); err != nil {
			os.RemoveAll(target)
			return err
		}
	}
	return nil
}

// tableFileName returns a table's name as a file name: '/', '\', '%' and
// control characters as %XX.
func tableFileName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '/' || c == '\\' || c == '%' || c < 0x20 || c == 0x7f {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// writeTableFile writes the rows of t to w as CSV or JSON.
func (d *dumper) writeTableFile(w io.Writer, format string, t *dumpTable) error {
	var cols []resultColumn
	var kinds []valueKind
	for _, c := range t.columns {
		if !c.generated {
			cols = append(cols, resultColumn{name: c.name, numeric: c.kind() == kindNumber})
			kinds = append(kinds, c.kind())
		}
	}
	var rw rowWriter
	if format == "csv" {
		rw = &dumpCSVWriter{w: bufio.NewWriterSize(w, 64<<10)}
	} else {
		rw = &jsonWriter{w: w}
	}
	if err := rw.begin(cols); err != nil {
		return err
	}
	values := make([]*string, len(cols))
	err := d.scanTable(t, func(row []*string) error {
		k := 0
		for i, c := range t.columns {
			if c.generated {
				continue
			}
			values[k] = row[i]
			if format == "json" && kinds[k] == kindBinary && row[i] != nil {
				h := strings.ToUpper(hex.EncodeToString([]byte(*row[i])))
				values[k] = &h
			}
			k++
		}
		return rw.row(values)
	})
	if err != nil {
		return err
	}
	return rw.end()
}

// dumpCSVWriter writes CSV as RFC 4180 has it, with \n line ends, telling
// NULL (an empty field) from the empty string ("").
type dumpCSVWriter struct {
	w *bufio.Writer
	n int // fields per record
}

func (c *dumpCSVWriter) begin(columns []resultColumn) error {
	c.n = len(columns)
	names := make([]*string, len(columns))
	for i := range columns {
		names[i] = &columns[i].name
	}
	return c.row(names)
}

func (c *dumpCSVWriter) row(row []*string) error {
	for i := 0; i < c.n; i++ {
		if i > 0 {
			c.w.WriteByte(',')
		}
		if i >= len(row) || row[i] == nil {
			continue
		}
		v := *row[i]
		if v != "" && !strings.ContainsAny(v, ",\"\r\n") && v[0] != ' ' && v[0] != '\t' {
			c.w.WriteString(v)
			continue
		}
		c.w.WriteByte('"')
		c.w.WriteString(strings.ReplaceAll(v, `"`, `""`))
		c.w.WriteByte('"')
	}
	return c.w.WriteByte('\n')
}

func (c *dumpCSVWriter) end() error { return c.w.Flush() }

// tempName returns the name of a temporary file or directory beside path.
func tempName(path string) string {
	return filepath.Join(filepath.Dir(path), fmt.Sprintf(".%s.%d.tmp", filepath.Base(path), os.Getpid()))
}

// writeFile creates the file path and writes it with fn.
func writeFile(path string, fn func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	err = fn(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeAtomically writes the file path with fn through a temporary file
// renamed into place once complete: path is the old file or the whole new
// one, never a part.
func writeAtomically(path string, fn func(io.Writer) error) error {
	tmp := tempName(path)
	if err := writeFile(tmp, fn); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
