package server

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"
	goerrors "gopkg.in/src-d/go-errors.v1"
)

// MySQL error numbers vitess has no name for.
const (
	erTableAccessDenied       = 1142 // ER_TABLEACCESS_DENIED_ERROR
	erProcAccessDenied        = 1370 // ER_PROCACCESS_DENIED_ERROR
	erCheckConstraintViolated = 3819 // ER_CHECK_CONSTRAINT_VIOLATED
	erDupFieldName            = 1060 // ER_DUP_FIELDNAME
	erDupKeyName              = 1061 // ER_DUP_KEYNAME
	erReadOnlyTransaction     = 1792 // ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
	erErrorOnWrite            = 3    // ER_ERROR_ON_WRITE
)

// fileErrnos are the errors of the file system a statement can meet, with
// their numbers and strerror texts as MySQL's messages give them.
var fileErrnos = []struct {
	errno syscall.Errno
	text  string
}{
	{syscall.ENOSPC, "No space left on device"},
	{syscall.EDQUOT, "Disk quota exceeded"},
	{syscall.EIO, "Input/output error"},
	{syscall.EROFS, "Read-only file system"},
	{syscall.EFBIG, "File too large"},
}

// fileErrorPattern finds the file of an *os.PathError in a message: "write
// /data/db/.cairn/store/000017.log: no space left on device".
var fileErrorPattern = regexp.MustCompile(`(?:write|sync|fsync|open|create|rename|truncate|fallocate) (/[^\s:]+): `)

// interrupted reports whether err is a statement's context cancelled: a
// KILL QUERY (or KILL) of it, or its client gone. MySQL answers a killed
// statement with ER_QUERY_INTERRUPTED; the engine's error is the
// context's, cast to an unknown error by its handler.
func interrupted(err error, flat *mysql.SQLError) bool {
	if flat != nil {
		return flat.Num == mysql.ERUnknownError && flat.Message == context.Canceled.Error()
	}
	return errors.Is(err, context.Canceled)
}

// fileError returns a failure of the file system (a full disk, an I/O
// error) as MySQL reports one, ER_ERROR_ON_WRITE naming the file and the
// errno, or nil if err is not one. The error may have lost its chain in
// the protocol handler, so its text is what is looked at. A store that
// refuses writes after such a failure says so.
func fileError(err error) error {
	msg := err.Error()
	for _, f := range fileErrnos {
		if !errors.Is(err, f.errno) && !strings.Contains(msg, f.errno.Error()) {
			continue
		}
		file := "?"
		if m := fileErrorPattern.FindStringSubmatch(msg); m != nil {
			file = m[1]
		}
		text := fmt.Sprintf("Error writing file '%s' (errno: %d - %s)", file, int(f.errno), f.text)
		if strings.Contains(msg, "refuses writes") {
			text += "; the database refuses writes until the server is restarted"
		}
		return mysql.NewSQLError(erErrorOnWrite, mysql.SSUnknownSQLState, "%s", text)
	}
	return nil
}

// ErrorContext is what MapErrorIn may know of the statement that failed,
// to name what MySQL's message names and the engine's does not.
type ErrorContext struct {
	// Query is the statement's text (for a multi-statement packet, the
	// text from the failed statement on).
	Query string
	// DB is the session's current database.
	DB string
	// Catalog and Ctx, if both set, let MapErrorIn read the definitions of
	// foreign keys and unique indexes the engine's messages leave out. Ctx
	// is called once, when needed; it should return a context of a session
	// of its own, whose transaction (begun by the reads) the caller ends.
	Catalog sql.DatabaseProvider
	Ctx     func() *sql.Context
}

// MapError is MapErrorIn without knowing the statement.
func MapError(err error) error { return MapErrorIn(err, ErrorContext{}) }

// MapErrorIn returns err as MySQL 8 reports it: a *mysql.SQLError with
// MySQL's error number, SQLSTATE and message. err may be the engine's own
// error (an errors.Kind of go-mysql-server) or what go-mysql-server's
// protocol handler made of it (sql.CastSQLError: a *mysql.SQLError, often
// 1105 with SQLSTATE HY000, carrying the kind's message). Where MySQL's
// message needs something neither the error nor ec gives, the engine's
// message is kept with MySQL's number and SQLSTATE. An error MapErrorIn
// knows no better answer for is returned as it is.
func MapErrorIn(err error, ec ErrorContext) error {
	if err == nil {
		return nil
	}
	raw := sql.UnwrapError(err)
	var flat *mysql.SQLError
	errors.As(raw, &flat)
	if e := fileError(raw); e != nil {
		return e
	}
	if interrupted(raw, flat) {
		return mysql.NewSQLError(mysql.ERQueryInterrupted, "70100", "Query execution was interrupted")
	}
	x := &mapping{ec: &ec}
	for i := range errorTable {
		m := &errorTable[i]
		var msg string
		switch {
		case flat != nil:
			// The kind is gone; its code (as CastSQLError gave it) and
			// its message format are what is left of it.
			if flat.Num != m.castCode {
				continue
			}
			msg = flat.Message
		default:
			e := ofKind(raw, m.kind)
			if e == nil {
				continue
			}
			msg = e.Error()
		}
		args := m.pattern.FindStringSubmatch(msg)
		if args == nil {
			continue
		}
		x.args, x.msg, x.code, x.state, x.rejected = args[1:], msg, m.code, m.state, false
		text := msg
		if m.message != nil {
			if t := m.message(x); t != "" {
				text = t
			}
		}
		if x.rejected {
			continue
		}
		return mysql.NewSQLError(x.code, x.state, "%s", text)
	}
	return err
}

// errorMapping turns an engine error kind into MySQL's error.
type errorMapping struct {
	kind     *goerrors.Kind
	code     int
	state    string
	message  func(x *mapping) string // MySQL's message; "" keeps the engine's
	castCode int                     // what sql.CastSQLError makes of kind
	pattern  *regexp.Regexp          // kind's message, its arguments as groups
}

// errorTable maps go-mysql-server's error kinds to MySQL's errors, most
// specific first (ErrSyntaxError's message is any text).
var errorTable = []errorMapping{
	// Schema objects.
	{kind: sql.ErrTableNotFound, code: mysql.ERNoSuchTable, state: mysql.SSUnknownTable, message: noSuchTable},
	{kind: sql.ErrViewDoesNotExist, code: mysql.ERBadTable, state: mysql.SSUnknownTable, message: func(x *mapping) string {
		return fmt.Sprintf("Unknown table '%s.%s'", x.arg(0), x.arg(1))
	}},
	{kind: sql.ErrTableAlreadyExists, code: mysql.ERTableExists, state: "42S01", message: func(x *mapping) string {
		_, name := x.tableRef(x.arg(0))
		return fmt.Sprintf("Table '%s' already exists", name)
	}},
	{kind: sql.ErrDatabaseNotFound, code: mysql.ERBadDb, state: mysql.SSClientError, message: func(x *mapping) string {
		if d, ok := x.stmt().(*ast.DBDDL); ok && d.Action == ast.DropStr {
			x.code, x.state = mysql.ERDbDropExists, mysql.SSUnknownSQLState
			return fmt.Sprintf("Can't drop database '%s'; database doesn't exist", x.arg(0))
		}
		return fmt.Sprintf("Unknown database '%s'", x.arg(0))
	}},
	{kind: sql.ErrDatabaseExists, code: mysql.ERDbCreateExists, state: mysql.SSUnknownSQLState, message: func(x *mapping) string {
		return fmt.Sprintf("Can't create database '%s'; database exists", x.arg(0))
	}},
	{kind: sql.ErrNoDatabaseSelected, code: mysql.ERNoDb, state: mysql.SSNoDB, message: func(x *mapping) string {
		return "No database selected"
	}},
	{kind: sql.ErrColumnNotFound, code: mysql.ERBadFieldError, state: mysql.SSBadFieldError, message: func(x *mapping) string {
		clause, name := x.columnClause(x.arg(0), "")
		return fmt.Sprintf("Unknown column '%s' in '%s'", name, clause)
	}},
	{kind: sql.ErrTableColumnNotFound, code: mysql.ERBadFieldError, state: mysql.SSBadFieldError, message: tableColumnNotFound},
	{kind: sql.ErrUnknownColumn, code: mysql.ERBadFieldError, state: mysql.SSBadFieldError, message: func(x *mapping) string {
		clause := x.arg(1)
		if !knownClauses[clause] {
			clause = "field list" // the engine names the table of an INSERT's column list
		}
		return fmt.Sprintf("Unknown column '%s' in '%s'", x.arg(0), clause)
	}},
	{kind: sql.ErrAmbiguousColumnName, code: mysql.ERNonUniq, state: mysql.SSDupKey, message: func(x *mapping) string {
		clause, name := x.columnClause(x.arg(0), "")
		return fmt.Sprintf("Column '%s' in %s is ambiguous", name, clause)
	}},
	{kind: sql.ErrDuplicateAliasOrTable, code: mysql.ERNonUniqTable, state: mysql.SSClientError, message: func(x *mapping) string {
		return fmt.Sprintf("Not unique table/alias: '%s'", x.arg(0))
	}},
	{kind: sql.ErrDuplicateColumn, code: erDupFieldName, state: "42S21", message: func(x *mapping) string {
		return fmt.Sprintf("Duplicate column name '%s'", x.arg(0))
	}},
	{kind: sql.ErrColumnExists, code: erDupFieldName, state: "42S21", message: func(x *mapping) string {
		return fmt.Sprintf("Duplicate column name '%s'", x.arg(0))
	}},
	{kind: sql.ErrDuplicateKey, code: erDupKeyName, state: mysql.SSClientError},
	{kind: sql.ErrCantDropFieldOrKey, code: mysql.ERCantDropFieldOrKey, state: mysql.SSClientError, message: func(x *mapping) string {
		return fmt.Sprintf("Can't DROP '%s'; check that column/key exists", x.arg(0))
	}},
	{kind: sql.ErrFunctionNotFound, code: mysql.ERSPDoesNotExist, state: mysql.SSClientError, message: func(x *mapping) string {
		if x.ec.DB == "" {
			return ""
		}
		return fmt.Sprintf("FUNCTION %s.%s does not exist", x.ec.DB, x.arg(0))
	}},
	{kind: sql.ErrStoredProcedureDoesNotExist, code: mysql.ERSPDoesNotExist, state: mysql.SSClientError, message: func(x *mapping) string {
		db := x.ec.DB
		if c, ok := x.stmt().(*ast.Call); ok && !c.ProcName.Qualifier.IsEmpty() {
			db = c.ProcName.Qualifier.String()
		}
		if db == "" {
			return ""
		}
		return fmt.Sprintf("PROCEDURE %s.%s does not exist", db, x.arg(0))
	}},
	{kind: sql.ErrUnknownSystemVariable, code: mysql.ERUnknownSystemVariable, state: mysql.SSUnknownSQLState, message: func(x *mapping) string {
		name := strings.TrimPrefix(x.arg(0), "@@")
		for _, p := range []string{"global.", "session.", "local.", "persist.", "persist_only."} {
			if len(name) > len(p) && strings.EqualFold(name[:len(p)], p) {
				name = name[len(p):]
			}
		}
		return fmt.Sprintf("Unknown system variable '%s'", name)
	}},

	// Data.
	{kind: sql.ErrPrimaryKeyViolation, code: mysql.ERDupEntry, state: mysql.SSDupKey, message: func(x *mapping) string {
		return x.duplicate(true)
	}},
	{kind: sql.ErrUniqueKeyViolation, code: mysql.ERDupEntry, state: mysql.SSDupKey, message: func(x *mapping) string {
		return x.duplicate(false)
	}},
	{kind: types.ErrLengthBeyondLimit, code: mysql.ERDataTooLong, state: mysql.SSDataTooLong, message: func(x *mapping) string {
		return fmt.Sprintf("Data too long for column '%s' at row %d", x.arg(1), x.rowWith(x.arg(0)))
	}},
	{kind: sql.ErrInsertIntoNonNullableProvidedNull, code: mysql.ERBadNullError, state: mysql.SSDupKey, message: func(x *mapping) string {
		return fmt.Sprintf("Column '%s' cannot be null", x.arg(0))
	}},
	{kind: sql.ErrForeignKeyChildViolation, code: mysql.ErNoReferencedRow2, state: mysql.SSDupKey, message: func(x *mapping) string {
		if fk := x.foreignKey(x.arg(1), x.arg(0)); fk != "" {
			return "Cannot add or update a child row: a foreign key constraint fails (" + fk + ")"
		}
		return ""
	}},
	{kind: sql.ErrForeignKeyParentViolation, code: mysql.ERRowIsReferenced2, state: mysql.SSDupKey, message: func(x *mapping) string {
		if fk := x.foreignKey(x.arg(1), x.arg(0)); fk != "" {
			return "Cannot delete or update a parent row: a foreign key constraint fails (" + fk + ")"
		}
		return ""
	}},
	{kind: sql.ErrCheckConstraintViolated, code: erCheckConstraintViolated, state: mysql.SSUnknownSQLState, message: func(x *mapping) string {
		return fmt.Sprintf("Check constraint '%s' is violated.", x.arg(0))
	}},
	{kind: sql.ErrExpectedSingleRow, code: mysql.ERSubqueryNo1Row, state: "21000", message: func(x *mapping) string {
		return "Subquery returns more than 1 row"
	}},
	{kind: sql.ErrInsertIntoMismatchValueCount, code: mysql.ERWrongValueCountOnRow, state: "21S01", message: func(x *mapping) string {
		return fmt.Sprintf("Column count doesn't match value count at row %d", x.mismatchedRow())
	}},
	{kind: sql.ErrValueOutOfRange, code: mysql.ERWarnDataOutOfRange, state: "22003"},
	{kind: sql.ErrLockDeadlock, code: mysql.ERLockDeadlock, state: mysql.SSLockDeadlock, message: func(x *mapping) string {
		return "Deadlock found when trying to get lock; try restarting transaction"
	}},
	{kind: sql.ErrReadOnlyTransaction, code: erReadOnlyTransaction, state: "25006", message: func(x *mapping) string {
		return "Cannot execute statement in a READ ONLY transaction."
	}},
	{kind: sql.ErrReadOnly, code: mysql.EROptionPreventsStatement, state: mysql.SSUnknownSQLState, message: func(x *mapping) string {
		return "The MySQL server is running with the --read-only option so it cannot execute this statement"
	}},

	// Privileges (the server's authHandler answers most refusals itself,
	// naming what the statement wanted).
	{kind: sql.ErrDatabaseAccessDeniedForUser, code: mysql.ERDBAccessDenied, state: mysql.SSClientError},
	{kind: sql.ErrTableAccessDeniedForUser, code: erTableAccessDenied, state: mysql.SSClientError, message: func(x *mapping) string {
		return fmt.Sprintf("SELECT command denied to user %s for table '%s'", x.arg(0), x.arg(1))
	}},
	{kind: sql.ErrPrivilegeCheckFailed, code: mysql.ERSpecifiedAccessDenied, state: mysql.SSClientError},

	// Last: its message is any text.
	{kind: sql.ErrSyntaxError, code: mysql.ERParseError, state: mysql.SSClientError, message: syntaxError},
}

func init() {
	for i := range errorTable {
		m := &errorTable[i]
		m.castCode = sql.CastSQLError(m.kind.New()).Num
		m.pattern = kindPattern(m.kind)
	}
}

// kindPattern matches the messages of k: its format with each verb a
// group; a wrapping error's message (Kind.Wrap) ends in ": " and the cause.
func kindPattern(k *goerrors.Kind) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("(?s)^")
	f := k.Message
	lit := 0
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 == len(f) {
			continue
		}
		b.WriteString(regexp.QuoteMeta(f[lit:i]))
		i++
		switch f[i] {
		case '%':
			b.WriteString("%")
		case 'q':
			b.WriteString(`("(?:[^"\\]|\\.)*")`)
		case 'd':
			b.WriteString(`(-?[0-9]+)`)
		default:
			b.WriteString(`(.*)`)
		}
		lit = i + 1
	}
	b.WriteString(regexp.QuoteMeta(f[lit:]))
	b.WriteString(`(?:: (.*))?$`)
	return regexp.MustCompile(b.String())
}

// ofKind returns the error of kind k in err's chain of causes, or nil.
func ofKind(err error, k *goerrors.Kind) *goerrors.Error {
	var e *goerrors.Error
	if !errors.As(err, &e) || !k.Is(e) {
		return nil
	}
	for {
		c, ok := e.Cause().(*goerrors.Error)
		if !ok || !k.Is(c) {
			return e
		}
		e = c
	}
}

// mapping is one error being mapped: the kind's arguments as its message
// printed them, and what the message builder may change.
type mapping struct {
	ec          *ErrorContext
	args        []string
	msg         string
	code        int
	state       string
	rejected    bool // the kind's pattern matched, but not this kind
	parsed      bool
	ast         ast.Statement
	catalogRead bool
	ctx         *sql.Context
}

// arg is the kind's argument i (a %q argument unquoted).
func (x *mapping) arg(i int) string {
	if i >= len(x.args) {
		return ""
	}
	a := x.args[i]
	if len(a) >= 2 && a[0] == '"' {
		if s, err := strconv.Unquote(a); err == nil {
			return s
		}
	}
	return a
}

// stmt is the parsed statement (nil if unknown or unparsable).
func (x *mapping) stmt() ast.Statement {
	if !x.parsed {
		x.parsed = true
		if x.ec.Query != "" {
			x.ast, _, _ = ast.ParseOne(context.Background(), x.ec.Query)
		}
	}
	return x.ast
}

// tableRef finds the table named name (any case) in the statement: its
// database (the qualifier, else the current database) and its name as
// written.
func (x *mapping) tableRef(name string) (db, spelled string) {
	db, spelled = x.ec.DB, name
	stmt := x.stmt()
	if stmt == nil {
		return db, spelled
	}
	var found *ast.TableName
	check := func(t ast.TableName) {
		if found == nil && strings.EqualFold(t.Name.String(), name) {
			found = &t
		}
	}
	switch s := stmt.(type) {
	case *ast.DDL:
		for _, t := range append(append(ast.TableNames{s.Table}, s.FromTables...), s.FromViews...) {
			check(t)
		}
	case *ast.AlterTable:
		check(s.Table)
	case *ast.Insert:
		check(s.Table)
	}
	if found == nil {
		ast.Walk(func(n ast.SQLNode) (bool, error) {
			if t, ok := n.(ast.TableName); ok {
				check(t)
			}
			return found == nil, nil
		}, stmt)
	}
	if found != nil {
		spelled = found.Name.String()
		if !found.DbQualifier.IsEmpty() {
			db = found.DbQualifier.String()
		}
	}
	return db, spelled
}

func noSuchTable(x *mapping) string {
	db, name := x.tableRef(x.arg(0))
	if d, ok := x.stmt().(*ast.DDL); ok && d.Action == ast.DropStr {
		x.code, x.state = mysql.ERBadTable, mysql.SSUnknownTable
		if db == "" {
			return fmt.Sprintf("Unknown table '%s'", name)
		}
		return fmt.Sprintf("Unknown table '%s.%s'", db, name)
	}
	if db == "" {
		return ""
	}
	return fmt.Sprintf("Table '%s.%s' doesn't exist", db, name)
}

// tableColumnNotFound is the engine's error for a column of a named table:
// t.x in a query (MySQL's 1054 naming t.x), or a column ALTER TABLE names
// (1091 for a DROP, else 1054 naming the table).
func tableColumnNotFound(x *mapping) string {
	table, col := x.arg(0), x.arg(1)
	if at, ok := x.stmt().(*ast.AlterTable); ok {
		for _, d := range at.Statements {
			if d != nil && d.ColumnAction == ast.DropStr && strings.EqualFold(d.Column.String(), col) {
				x.code, x.state = mysql.ERCantDropFieldOrKey, mysql.SSClientError
				return fmt.Sprintf("Can't DROP '%s'; check that column/key exists", d.Column.String())
			}
		}
		return fmt.Sprintf("Unknown column '%s' in '%s'", col, table)
	}
	clause, name := x.columnClause(col, table)
	return fmt.Sprintf("Unknown column '%s' in '%s'", name, clause)
}

// knownClauses are the places MySQL's 1054 names.
var knownClauses = map[string]bool{
	"field list": true, "where clause": true, "on clause": true, "group statement": true,
	"having clause": true, "order clause": true,
}

// columnClause finds column col (of table, if not empty) in the statement:
// the clause MySQL names ("field list", "where clause", …) and the column
// as written (qualified if it was). MySQL resolves the select list first,
// then WHERE, ON, GROUP BY, HAVING and ORDER BY, and names the first
// clause with the unknown column.
func (x *mapping) columnClause(col, table string) (clause, spelled string) {
	spelled = col
	if table != "" {
		spelled = table + "." + col
	}
	find := func(n ast.SQLNode) bool {
		found := false
		ast.Walk(func(n ast.SQLNode) (bool, error) {
			c, ok := n.(*ast.ColName)
			if ok && c.Name.EqualString(col) && (table == "" || strings.EqualFold(c.Qualifier.Name.String(), table)) {
				spelled = c.Name.String()
				if q := c.Qualifier; !q.IsEmpty() {
					spelled = q.Name.String() + "." + spelled
					if !q.DbQualifier.IsEmpty() {
						spelled = q.DbQualifier.String() + "." + spelled
					}
				}
				found = true
			}
			return !found, nil
		}, n)
		return found
	}
	type part struct {
		node   ast.SQLNode
		clause string
	}
	var parts []part
	var add func(s ast.SQLNode)
	add = func(s ast.SQLNode) {
		switch s := s.(type) {
		case *ast.Select:
			parts = append(parts, part{s.SelectExprs, "field list"})
			if s.Where != nil {
				parts = append(parts, part{s.Where, "where clause"})
			}
			parts = append(parts, part{s.From, "on clause"}, part{s.GroupBy, "group statement"})
			if s.Having != nil {
				parts = append(parts, part{s.Having, "having clause"})
			}
			parts = append(parts, part{s.OrderBy, "order clause"})
		case *ast.SetOp:
			add(s.Left)
			add(s.Right)
			parts = append(parts, part{s.OrderBy, "order clause"})
		case *ast.Update:
			parts = append(parts, part{s.Exprs, "field list"})
			if s.Where != nil {
				parts = append(parts, part{s.Where, "where clause"})
			}
			parts = append(parts, part{s.TableExprs, "on clause"}, part{s.OrderBy, "order clause"})
		case *ast.Delete:
			if s.Where != nil {
				parts = append(parts, part{s.Where, "where clause"})
			}
			parts = append(parts, part{s.TableExprs, "on clause"}, part{s.OrderBy, "order clause"})
		case *ast.Insert:
			parts = append(parts, part{s.Columns, "field list"}, part{ast.AssignmentExprs(s.OnDup), "field list"})
			if sel, ok := s.Rows.(ast.SelectStatement); ok {
				add(sel)
			}
		}
	}
	if stmt := x.stmt(); stmt != nil {
		add(stmt)
	}
	for _, p := range parts {
		if p.node != nil && find(p.node) {
			return p.clause, spelled
		}
	}
	return "field list", spelled
}

// rowWith is the row (from 1) of an INSERT … VALUES holding the string
// value v; 1 if unknown.
func (x *mapping) rowWith(v string) int {
	ins, ok := x.stmt().(*ast.Insert)
	if !ok {
		return 1
	}
	vals := insertValues(ins)
	for i, tuple := range vals {
		for _, e := range tuple {
			if sv, ok := e.(*ast.SQLVal); ok && sv.Type == ast.StrVal && string(sv.Val) == v {
				return i + 1
			}
		}
	}
	return 1
}

// insertValues are the rows of an INSERT … VALUES (nil for INSERT …
// SELECT).
func insertValues(ins *ast.Insert) ast.Values {
	switch r := ins.Rows.(type) {
	case ast.Values:
		return r
	case *ast.AliasedValues:
		return r.Values
	case ast.AliasedValues:
		return r.Values
	}
	return nil
}

// mismatchedRow is the row (from 1) of an INSERT … VALUES whose count of
// values differs from the column list's (or the first row's); 1 if unknown.
func (x *mapping) mismatchedRow() int {
	ins, ok := x.stmt().(*ast.Insert)
	if !ok {
		return 1
	}
	vals := insertValues(ins)
	if len(vals) == 0 {
		return 1
	}
	want := len(ins.Columns)
	if want == 0 {
		want = len(vals[0])
	}
	for i, tuple := range vals {
		if len(tuple) != want {
			return i + 1
		}
	}
	return 1
}

// catalog returns the context and the catalog to read definitions with,
// or nil.
func (x *mapping) catalog() *sql.Context {
	if !x.catalogRead {
		x.catalogRead = true
		if x.ec.Catalog != nil && x.ec.Ctx != nil {
			x.ctx = x.ec.Ctx()
		}
	}
	return x.ctx
}

// table reads the definition of table db.name.
func (x *mapping) table(db, name string) sql.Table {
	ctx := x.catalog()
	if ctx == nil || db == "" {
		return nil
	}
	d, err := x.ec.Catalog.Database(ctx, db)
	if err != nil {
		return nil
	}
	t, ok, err := d.GetTableInsensitive(ctx, name)
	if err != nil || !ok {
		return nil
	}
	return t
}

// statementTable is the table an INSERT, REPLACE or single-table UPDATE
// writes: its database and name.
func (x *mapping) statementTable() (db, name string, ok bool) {
	var t ast.TableName
	switch s := x.stmt().(type) {
	case *ast.Insert:
		t = s.Table
	case *ast.Update:
		if len(s.TableExprs) != 1 {
			return "", "", false
		}
		a, isAliased := s.TableExprs[0].(*ast.AliasedTableExpr)
		if !isAliased {
			return "", "", false
		}
		if t, ok = a.Expr.(ast.TableName); !ok {
			return "", "", false
		}
	default:
		return "", "", false
	}
	db = x.ec.DB
	if !t.DbQualifier.IsEmpty() {
		db = t.DbQualifier.String()
	}
	return db, t.Name.String(), true
}

// duplicate is MySQL's 1062 "Duplicate entry 'v' for key 't.k'". The
// engine's message has the key's values ("[v1,v2]"); the table is the one
// the statement writes, and the key PRIMARY, or the table's only unique
// index with that many columns. Without the key's name, "" (the engine's
// message).
func (x *mapping) duplicate(primary bool) string {
	vals := strings.TrimSuffix(strings.TrimPrefix(x.arg(0), "["), "]")
	db, table, ok := x.statementTable()
	if !ok {
		return ""
	}
	key, ncols := "", 1
	if primary {
		key = "PRIMARY"
		if t := x.table(db, table); t != nil {
			ncols = 0
			for _, c := range t.Schema() {
				if c.PrimaryKey {
					ncols++
				}
			}
		}
	} else {
		t, isIndexed := x.table(db, table).(sql.IndexAddressableTable)
		if !isIndexed {
			return ""
		}
		idxs, err := t.GetIndexes(x.catalog())
		if err != nil {
			return ""
		}
		parts := strings.Count(vals, ",") + 1
		for _, idx := range idxs {
			if !idx.IsUnique() || strings.EqualFold(idx.ID(), "PRIMARY") || len(idx.Expressions()) > parts {
				continue
			}
			if key != "" {
				return "" // more than one index could be the one
			}
			key, ncols = idx.ID(), len(idx.Expressions())
		}
		if key == "" {
			return ""
		}
	}
	// MySQL joins the values of a key of several columns with '-'.
	if ncols > 1 {
		if vs := strings.Split(vals, ","); len(vs) == ncols {
			vals = strings.Join(vs, "-")
		}
	}
	return fmt.Sprintf("Duplicate entry '%s' for key '%s.%s'", vals, table, key)
}

// foreignKey is foreign key name of table as MySQL's 1451 and 1452 print
// it: "`db`.`child`, CONSTRAINT `fk` FOREIGN KEY (`c`) REFERENCES `parent`
// (`id`)" and the actions other than RESTRICT; "" if not found.
func (x *mapping) foreignKey(table, name string) string {
	db, _ := x.tableRef(table)
	var dbs []string
	if db != "" {
		dbs = append(dbs, db)
	}
	if ctx := x.catalog(); ctx != nil {
		for _, d := range x.ec.Catalog.AllDatabases(ctx) {
			if !strings.EqualFold(d.Name(), db) {
				dbs = append(dbs, d.Name())
			}
		}
	}
	for _, db := range dbs {
		t, ok := x.table(db, table).(sql.ForeignKeyTable)
		if !ok {
			continue
		}
		fks, err := t.GetDeclaredForeignKeys(x.catalog())
		if err != nil {
			continue
		}
		for _, fk := range fks {
			if strings.EqualFold(fk.Name, name) {
				return foreignKeyText(fk)
			}
		}
	}
	return ""
}

func foreignKeyText(fk sql.ForeignKeyConstraint) string {
	quote := func(names []string) string {
		q := make([]string, len(names))
		for i, n := range names {
			q[i] = "`" + n + "`"
		}
		return strings.Join(q, ", ")
	}
	parent := "`" + fk.ParentTable + "`"
	if !strings.EqualFold(fk.ParentDatabase, fk.Database) && fk.ParentDatabase != "" {
		parent = "`" + fk.ParentDatabase + "`." + parent
	}
	s := fmt.Sprintf("`%s`.`%s`, CONSTRAINT `%s` FOREIGN KEY (%s) REFERENCES %s (%s)",
		fk.Database, fk.Table, fk.Name, quote(fk.Columns), parent, quote(fk.ParentColumns))
	// InnoDB prints the actions it stores: not RESTRICT, the default.
	for _, a := range []struct {
		on     string
		action sql.ForeignKeyReferentialAction
	}{{"DELETE", fk.OnDelete}, {"UPDATE", fk.OnUpdate}} {
		switch a.action {
		case sql.ForeignKeyReferentialAction_Cascade, sql.ForeignKeyReferentialAction_SetNull,
			sql.ForeignKeyReferentialAction_NoAction, sql.ForeignKeyReferentialAction_SetDefault:
			s += fmt.Sprintf(" ON %s %s", a.on, strings.ToUpper(string(a.action)))
		}
	}
	return s
}

// syntaxPattern is vitess's syntax error: "syntax error at position 9
// near 'SHUTDOWN'". Its position is one past the end of the token it
// names (counting from 1), or of the text if the parse ran out of it.
var syntaxPattern = regexp.MustCompile(`(?s)^(.*) at position ([0-9]+)(?: near '(.*)')?$`)

// syntaxError is MySQL's 1064: the text from the token the parser stopped
// at (nothing at the end of the text), and its line.
func syntaxError(x *mapping) string {
	m := syntaxPattern.FindStringSubmatch(x.msg)
	if m == nil {
		x.rejected = true
		return ""
	}
	pos, _ := strconv.Atoi(m[2])
	near, line := nearText(x.ec.Query, pos, m[3])
	return fmt.Sprintf("You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near '%s' at line %d", near, line)
}

// nearText is what MySQL's syntax error quotes of query (up to 80
// characters from the token the parser stopped at) and the line of that
// token, from the parser's position.
func nearText(query string, pos int, tok string) (string, int) {
	// The engine parses the statement without blanks and ';' around it.
	q := sql.RemoveSpaceAndDelimiter(query, ';')
	if q == "" {
		return truncate(tok, 80), 1
	}
	end := min(max(pos-1, 0), len(q))
	if end == len(q) {
		// A token ending the text and the end of the text give the
		// same position; with a blank after the text they don't.
		atEnd := true
		if _, _, err := ast.ParseOne(context.Background(), q+" "); err != nil {
			if m := syntaxPattern.FindStringSubmatch(err.Error()); m != nil {
				if p, _ := strconv.Atoi(m[2]); p == len(q)+1 {
					atEnd = false
				}
			}
		}
		if atEnd {
			return "", 1 + strings.Count(q, "\n")
		}
	}
	start := tokenStart(q, end)
	return truncate(q[start:], 80), 1 + strings.Count(q[:start], "\n")
}

// tokenStart is where the token of q ending at end starts. The tokenizer's
// position after a token is one past its end (it has read the next
// character); the token starts after the blanks following the previous one.
func tokenStart(q string, end int) int {
	tkn := ast.NewStringTokenizer(q)
	prev := 0
	for {
		typ, _ := tkn.Scan()
		if typ == 0 {
			return end
		}
		e := min(tkn.Position-1, len(q))
		if e >= end {
			s := prev
			for s < e && strings.ContainsRune(" \t\r\n", rune(q[s])) {
				s++
			}
			return s
		}
		prev = e
	}
}

// truncate keeps the first n characters of s.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for k := 0; k < n; k++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i]
}
