package sqle

import (
	"fmt"
	"sort"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer/analyzererrors"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/repo"
	"github.com/cairndb/cairn/storage/sqle/schema"
	"github.com/cairndb/cairn/storage/tree"
)

// Database is one cairn database as the engine sees it. It holds no state of
// its own: every method reads or changes the calling session's transaction
// view of the database, so handles stay valid across statements.
type Database struct {
	st   *dbState
	prov *Provider
	rev  *revision // nil: the session's branch of the database
}

var (
	_ sql.Database                = (*Database)(nil)
	_ sql.TableCreator            = (*Database)(nil)
	_ sql.IndexedTableCreator     = (*Database)(nil)
	_ sql.TemporaryTableCreator   = (*Database)(nil)
	_ sql.TemporaryTableDatabase  = (*Database)(nil)
	_ sql.TableDropper            = (*Database)(nil)
	_ sql.TableRenamer            = (*Database)(nil)
	_ sql.CollatedDatabase        = (*Database)(nil)
	_ sql.TriggerDatabase         = (*Database)(nil)
	_ sql.StoredProcedureDatabase = (*Database)(nil)
	_ sql.EventDatabase           = (*Database)(nil)
	_ sql.ViewDatabase            = (*Database)(nil)
	_ sql.SchemaValidator         = (*Database)(nil)
)

// maxRowLength is InnoDB's limit on the declared size of a row, which
// MySQL (and go-mysql-server's tests) enforce at CREATE and ALTER TABLE.
const maxRowLength = 65_535

// ValidateSchema implements sql.SchemaValidator: a row of the schema must
// fit InnoDB's row-size limit, counting TEXT and BLOB columns as the 16
// bytes InnoDB keeps in the row.
func (db *Database) ValidateSchema(sch sql.Schema) error {
	var n int64
	for _, c := range sch {
		switch t := c.Type.(type) {
		case sql.NumberType:
			n += 8
		case sql.StringType:
			if types.IsTextBlob(t) {
				n += 16
			} else {
				n += t.MaxByteLength()
			}
		case sql.DecimalType:
			n += int64(t.MaximumScale())
		case sql.EnumType:
			n += 2
		case sql.NullType:
			n++
		case types.TimeType:
			n += 16
		case types.JsonType:
			n += 20
		default:
			n += 8
		}
	}
	if n > maxRowLength {
		return analyzererrors.ErrInvalidRowLength.New(maxRowLength, n)
	}
	return nil
}

// Name implements sql.Database: the name as the user wrote it, with its
// revision if it has one.
func (db *Database) Name() string {
	if db.rev != nil {
		return db.st.name + RevisionDelimiter + db.rev.spec
	}
	return db.st.name
}

// tx returns the session and its transaction view of db.
func (db *Database) tx(ctx *sql.Context) (*Session, *txDB, error) {
	s, err := sessionOf(ctx)
	if err != nil {
		return nil, nil, err
	}
	d, err := s.dbTx(ctx, db)
	return s, d, err
}

// view is tx without applying the session's deferred edits (see
// Session.dbView).
func (db *Database) view(ctx *sql.Context) (*Session, *txDB, error) {
	s, err := sessionOf(ctx)
	if err != nil {
		return nil, nil, err
	}
	d, err := s.dbView(ctx, db)
	return s, d, err
}

// root returns the working root the session sees.
func (db *Database) root(ctx *sql.Context) (*repo.RootValue, error) {
	_, d, err := db.tx(ctx)
	if err != nil {
		return nil, err
	}
	return d.root, nil
}

// findTable returns the stored name of table name (exact match first, then
// case-insensitive), or false.
func findTable(root *repo.RootValue, name string) (string, bool) {
	if _, ok := root.GetTable(name); ok {
		return name, true
	}
	for _, n := range root.TableNames() {
		if strings.EqualFold(n, name) {
			return n, true
		}
	}
	return "", false
}

// GetTableInsensitive implements sql.Database. Temporary tables shadow
// tables of the same name.
func (db *Database) GetTableInsensitive(ctx *sql.Context, name string) (sql.Table, bool, error) {
	s, d, err := db.view(ctx)
	if err != nil {
		return nil, false, err
	}
	if tt := s.tempTable(db.st.name, name); tt != nil {
		return newTable(db, tt.name, tt, tt.td), true, nil
	}
	if isSystemTableName(name) {
		t, err := systemTableOf(ctx, db, name)
		if err != nil || t == nil {
			return nil, false, err
		}
		return t, true, nil
	}
	stored, ok := findTable(d.root, name)
	if !ok {
		return nil, false, nil
	}
	td, _, err := db.tableDataOf(ctx, d, stored)
	if err != nil {
		return nil, false, err
	}
	return newTable(db, stored, nil, td), true, nil
}

// GetTableNames implements sql.Database: the tables, without temporary ones.
func (db *Database) GetTableNames(ctx *sql.Context) ([]string, error) {
	root, err := db.root(ctx)
	if err != nil {
		return nil, err
	}
	return root.TableNames(), nil
}

// tableData returns the current version of table name in the session's
// view, or false.
func (db *Database) tableData(ctx *sql.Context, name string) (*tableData, bool, error) {
	_, d, err := db.tx(ctx)
	if err != nil {
		return nil, false, err
	}
	return db.tableDataOf(ctx, d, name)
}

// schemaData is tableData without applying the session's deferred edits:
// for the table's schema, or for a reader that looks them up itself.
func (db *Database) schemaData(ctx *sql.Context, name string) (*tableData, bool, error) {
	_, d, err := db.view(ctx)
	if err != nil {
		return nil, false, err
	}
	return db.tableDataOf(ctx, d, name)
}

func (db *Database) tableDataOf(ctx *sql.Context, d *txDB, name string) (*tableData, bool, error) {
	h, ok := d.root.GetTable(name)
	if !ok {
		return nil, false, nil
	}
	td, err := db.st.readTable(ctx, h)
	return td, err == nil, err
}

// putTableData makes td the version of table name in the session's view.
func (db *Database) putTableData(ctx *sql.Context, name string, td *tableData) (*tableData, error) {
	_, d, err := db.tx(ctx)
	if err != nil {
		return nil, err
	}
	if td.hash.IsZero() {
		if td, err = db.st.writeTable(ctx, td); err != nil {
			return nil, err
		}
	}
	root, err := d.root.PutTable(name, td.hash)
	if err != nil {
		return nil, err
	}
	d.root = root
	return td, nil
}

func (db *Database) checkWritable(ctx *sql.Context) error {
	if tx, ok := ctx.GetTransaction().(*Transaction); ok && tx != nil && tx.readOnly {
		return sql.ErrReadOnlyTransaction.New()
	}
	return nil
}

// CreateTable implements sql.TableCreator.
func (db *Database) CreateTable(ctx *sql.Context, name string, sch sql.PrimaryKeySchema, collation sql.CollationID, comment string) error {
	return db.createTable(ctx, name, sch, nil, collation, comment)
}

// CreateIndexedTable implements sql.IndexedTableCreator: a table whose
// primary key has prefix lengths.
func (db *Database) CreateIndexedTable(ctx *sql.Context, name string, sch sql.PrimaryKeySchema, idx sql.IndexDef, collation sql.CollationID) error {
	return db.createTable(ctx, name, sch, &idx, collation, "")
}

func (db *Database) createTable(ctx *sql.Context, name string, sch sql.PrimaryKeySchema, pk *sql.IndexDef, collation sql.CollationID, comment string) error {
	if err := checkTableName(name); err != nil {
		return err
	}
	root, err := db.root(ctx)
	if err != nil {
		return err
	}
	if _, ok := findTable(root, name); ok {
		return sql.ErrTableAlreadyExists.New(name)
	}
	t, err := schema.FromSQL(name, sch, collation, comment)
	if err != nil {
		return err
	}
	if err := db.applyCreateNotes(ctx, t); err != nil {
		return err
	}
	if pk != nil {
		if err := checkPKPrefixes(sch.Schema, pk.Columns); err != nil {
			return err
		}
		t.PKPrefixLengths = prefixLengthsOf(pk.Columns)
	}
	td, err := db.st.newTableData(ctx, t)
	if err != nil {
		return err
	}
	db.st.forgetAutoIncrement(name)
	_, err = db.putTableData(ctx, name, td)
	return err
}

func prefixLengthsOf(cols []sql.IndexColumn) []uint16 {
	var out []uint16
	any := false
	for _, c := range cols {
		out = append(out, uint16(c.Length))
		any = any || c.Length > 0
	}
	if !any {
		return nil
	}
	return out
}

// checkTableName refuses names MySQL refuses.
func checkTableName(name string) error {
	if name == "" || len(name) > 64 {
		return sql.ErrInvalidSyntax.New(fmt.Sprintf("invalid table name '%s'", name))
	}
	if strings.HasSuffix(name, " ") {
		return sql.ErrInvalidSyntax.New(fmt.Sprintf("invalid table name '%s'", name))
	}
	if isSystemTableName(name) {
		return errReservedTableName(name)
	}
	return nil
}

// DropTable implements sql.TableDropper.
func (db *Database) DropTable(ctx *sql.Context, name string) error {
	s, d, err := db.tx(ctx)
	if err != nil {
		return err
	}
	if s.dropTempTable(db.st.name, name) {
		return nil
	}
	stored, ok := findTable(d.root, name)
	if !ok {
		return sql.ErrTableNotFound.New(name)
	}
	d.root, _ = d.root.DeleteTable(stored)
	db.st.forgetAutoIncrement(stored)
	return nil
}

// RenameTable implements sql.TableRenamer.
func (db *Database) RenameTable(ctx *sql.Context, oldName, newName string) error {
	if err := checkTableName(newName); err != nil {
		return err
	}
	_, d, err := db.tx(ctx)
	if err != nil {
		return err
	}
	stored, ok := findTable(d.root, oldName)
	if !ok {
		return sql.ErrTableNotFound.New(oldName)
	}
	if other, ok := findTable(d.root, newName); ok && other != stored {
		return sql.ErrTableAlreadyExists.New(newName)
	}
	td, _, err := db.tableData(ctx, stored)
	if err != nil {
		return err
	}
	sch := td.lay.sch.Clone()
	sch.Name = newName
	nt, err := retable(ctx, db.st, td, sch)
	if err != nil {
		return err
	}
	next := db.st.peekAutoIncrement(stored, td.autoInc)
	d.root, _ = d.root.DeleteTable(stored)
	if _, err := db.putTableData(ctx, newName, nt); err != nil {
		return err
	}
	db.st.forgetAutoIncrement(stored)
	db.st.setAutoIncrement(newName, next)
	return nil
}

// retable returns td with schema sch, which must store rows the same way
// (a rename, a comment, a check, a dropped index). Index maps are matched by
// name; an index of sch that td lacks starts empty (the caller fills it),
// and so does a disabled one, which keeps no entries.
func retable(ctx *sql.Context, st *dbState, td *tableData, sch *schema.Table) (*tableData, error) {
	lay, err := newLayout(sch)
	if err != nil {
		return nil, err
	}
	out := *td
	out.hash = chunk.Hash{}
	out.lay = lay
	out.indexes = make([]tree.Map, len(lay.indexes))
	for i, il := range lay.indexes {
		m, _, ok := td.indexMap(il.def.Name)
		if !ok || il.def.Disabled {
			if m, err = tree.NewEmptyMap(ctx, st.ns); err != nil {
				return nil, err
			}
		}
		out.indexes[i] = m
	}
	return &out, nil
}

// GetCollation implements sql.CollatedDatabase.
func (db *Database) GetCollation(ctx *sql.Context) sql.CollationID {
	root, err := db.root(ctx)
	if err != nil {
		return sql.Collation_Default
	}
	s, err := decodeSettings(root.Settings())
	if err != nil || s.Collation == "" {
		return sql.Collation_Default
	}
	c, err := sql.ParseCollation("", s.Collation, false)
	if err != nil {
		return sql.Collation_Default
	}
	return c
}

// SetCollation implements sql.CollatedDatabase.
func (db *Database) SetCollation(ctx *sql.Context, collation sql.CollationID) error {
	_, d, err := db.tx(ctx)
	if err != nil {
		return err
	}
	s, err := decodeSettings(d.root.Settings())
	if err != nil {
		return err
	}
	s.Collation = collation.Name()
	d.root = d.root.WithSettings(encodeSettings(s))
	return nil
}

// GetAllTemporaryTables implements sql.TemporaryTableDatabase.
func (db *Database) GetAllTemporaryTables(ctx *sql.Context) ([]sql.Table, error) {
	s, err := sessionOf(ctx)
	if err != nil {
		return nil, err
	}
	var out []sql.Table
	for _, tt := range s.temp[strings.ToLower(db.st.name)] {
		out = append(out, newTable(db, tt.name, tt, tt.td))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}
