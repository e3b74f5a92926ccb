package schema_test

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"

	"github.com/cairndb/cairn/storage/sqle/schema"
)

// This file is a minimal storage engine for the tests: a database whose
// tables are nothing but encoded schemas (no rows). Every read decodes the
// stored bytes, so whatever the engine shows of a table went through Encode
// and Decode. Running the same statements here and on go-mysql-server's
// memory engine, and comparing what SHOW CREATE TABLE prints, checks that a
// stored schema reads back as the engine made it.

const testDBName = "mydb"

type testProvider struct{ db *testDB }

var _ sql.DatabaseProvider = (*testProvider)(nil)

func (p *testProvider) Database(_ *sql.Context, name string) (sql.Database, error) {
	if strings.EqualFold(name, p.db.name) {
		return p.db, nil
	}
	return nil, sql.ErrDatabaseNotFound.New(name)
}

func (p *testProvider) HasDatabase(_ *sql.Context, name string) bool {
	return strings.EqualFold(name, p.db.name)
}

func (p *testProvider) AllDatabases(*sql.Context) []sql.Database { return []sql.Database{p.db} }

// testDB keeps each table as its encoded schema, and the Table each
// CreateTable built, before encoding, for the tests to compare.
type testDB struct {
	name    string
	mu      sync.Mutex
	tables  map[string][]byte
	created map[string]*schema.Table
}

var (
	_ sql.Database     = (*testDB)(nil)
	_ sql.TableCreator = (*testDB)(nil)
	_ sql.TableDropper = (*testDB)(nil)
)

func newTestDB() *testDB {
	return &testDB{name: testDBName, tables: map[string][]byte{}, created: map[string]*schema.Table{}}
}

func (db *testDB) Name() string { return db.name }

func (db *testDB) load(name string) (*schema.Table, bool, error) {
	db.mu.Lock()
	b, ok := db.tables[strings.ToLower(name)]
	db.mu.Unlock()
	if !ok {
		return nil, false, nil
	}
	t, err := schema.Decode(b)
	return t, err == nil, err
}

func (db *testDB) store(t *schema.Table) error {
	b, err := schema.Encode(t)
	if err != nil {
		return err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	db.tables[strings.ToLower(t.Name)] = b
	return nil
}

func (db *testDB) GetTableInsensitive(_ *sql.Context, name string) (sql.Table, bool, error) {
	t, ok, err := db.load(name)
	if !ok || err != nil {
		return nil, false, err
	}
	return &testTable{db: db, name: t.Name}, true, nil
}

func (db *testDB) GetTableNames(*sql.Context) ([]string, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	var names []string
	for _, b := range db.tables {
		t, err := schema.Decode(b)
		if err != nil {
			return nil, err
		}
		names = append(names, t.Name)
	}
	slices.Sort(names)
	return names, nil
}

func (db *testDB) CreateTable(_ *sql.Context, name string, s sql.PrimaryKeySchema, collation sql.CollationID, comment string) error {
	if _, ok, _ := db.load(name); ok {
		return sql.ErrTableAlreadyExists.New(name)
	}
	t, err := schema.FromSQL(name, s, collation, comment)
	if err != nil {
		return err
	}
	db.mu.Lock()
	db.created[strings.ToLower(name)] = t.Clone()
	db.mu.Unlock()
	return db.store(t)
}

func (db *testDB) DropTable(_ *sql.Context, name string) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if _, ok := db.tables[strings.ToLower(name)]; !ok {
		return sql.ErrTableNotFound.New(name)
	}
	delete(db.tables, strings.ToLower(name))
	return nil
}

// testTable is a live handle: each call reads the table's current schema.
type testTable struct {
	db   *testDB
	name string
}

var (
	_ sql.Table                   = (*testTable)(nil)
	_ sql.PrimaryKeyTable         = (*testTable)(nil)
	_ sql.CommentedTable          = (*testTable)(nil)
	_ sql.CheckAlterableTable     = (*testTable)(nil)
	_ sql.CheckTable              = (*testTable)(nil)
	_ sql.AlterableTable          = (*testTable)(nil)
	_ sql.CollationAlterableTable = (*testTable)(nil)
)

// current returns the stored schema; the tests never drop a table while a
// handle is in use, so a miss is a broken test.
func (t *testTable) current() *schema.Table {
	s, ok, err := t.db.load(t.name)
	if !ok || err != nil {
		panic(fmt.Sprintf("test table %q: ok=%v err=%v", t.name, ok, err))
	}
	return s
}

func (t *testTable) Name() string               { return t.name }
func (t *testTable) String() string             { return t.name }
func (t *testTable) Schema() sql.Schema         { return t.current().SQLSchema(t.db.name) }
func (t *testTable) Collation() sql.CollationID { return t.current().Collation }
func (t *testTable) Comment() string            { return t.current().Comment }

func (t *testTable) PrimaryKeySchema() sql.PrimaryKeySchema {
	return t.current().PrimaryKeySchema(t.db.name)
}

func (t *testTable) Partitions(*sql.Context) (sql.PartitionIter, error) {
	return sql.PartitionsToPartitionIter(), nil
}

func (t *testTable) PartitionRows(*sql.Context, sql.Partition) (sql.RowIter, error) {
	return sql.RowsToRowIter(), nil
}

func (t *testTable) GetChecks(*sql.Context) ([]sql.CheckDefinition, error) {
	return t.current().Checks, nil
}

func (t *testTable) CreateCheck(_ *sql.Context, c *sql.CheckDefinition) error {
	s := t.current()
	check := *c
	if check.Name == "" {
		// Naming unnamed checks is the table's job, as in the memory engine.
		check.Name = fmt.Sprintf("%s_chk_%d", t.name, len(s.Checks)+1)
	}
	s.Checks = append(s.Checks, check)
	return t.db.store(s)
}

func (t *testTable) DropCheck(_ *sql.Context, name string) error {
	s := t.current()
	s.Checks = slices.DeleteFunc(s.Checks, func(c sql.CheckDefinition) bool { return strings.EqualFold(c.Name, name) })
	return t.db.store(s)
}

func (t *testTable) ModifyStoredCollation(ctx *sql.Context, c sql.CollationID) error {
	return fmt.Errorf("not supported by the test table")
}

func (t *testTable) ModifyDefaultCollation(_ *sql.Context, c sql.CollationID) error {
	s := t.current()
	s.Collation = c
	return t.db.store(s)
}

func (t *testTable) Updater(*sql.Context) sql.RowUpdater { return noRows{} }

func (t *testTable) AddColumn(_ *sql.Context, c *sql.Column, order *sql.ColumnOrder) error {
	col, err := schema.ColumnFromSQL(c)
	if err != nil {
		return err
	}
	s := t.current()
	at := position(s, order, len(s.Columns))
	s.Columns = slices.Insert(s.Columns, at, col)
	for i, o := range s.PKOrdinals {
		if o >= at {
			s.PKOrdinals[i]++
		}
	}
	return t.db.store(s)
}

func (t *testTable) DropColumn(_ *sql.Context, name string) error {
	s := t.current()
	at := s.ColumnIndex(name)
	if at < 0 {
		return sql.ErrTableColumnNotFound.New(t.name, name)
	}
	s.Columns = slices.Delete(s.Columns, at, at+1)
	for i, o := range s.PKOrdinals {
		if o > at {
			s.PKOrdinals[i]--
		}
	}
	return t.db.store(s)
}

func (t *testTable) ModifyColumn(_ *sql.Context, name string, c *sql.Column, order *sql.ColumnOrder) error {
	col, err := schema.ColumnFromSQL(c)
	if err != nil {
		return err
	}
	s := t.current()
	from := s.ColumnIndex(name)
	if from < 0 {
		return sql.ErrTableColumnNotFound.New(t.name, name)
	}
	if order == nil {
		s.Columns[from] = col
		return t.db.store(s)
	}
	if len(s.PKOrdinals) > 0 {
		return fmt.Errorf("the test table moves columns only in keyless tables")
	}
	s.Columns = slices.Delete(s.Columns, from, from+1)
	at := position(s, order, from)
	s.Columns = slices.Insert(s.Columns, at, col)
	return t.db.store(s)
}

// position is where a column goes: first, after a column, or at def.
func position(s *schema.Table, order *sql.ColumnOrder, def int) int {
	switch {
	case order == nil:
		return def
	case order.First:
		return 0
	default:
		return s.ColumnIndex(order.AfterColumn) + 1
	}
}

// noRows updates a table that has no rows.
type noRows struct{}

func (noRows) StatementBegin(*sql.Context)              {}
func (noRows) DiscardChanges(*sql.Context, error) error { return nil }
func (noRows) StatementComplete(*sql.Context) error     { return nil }
func (noRows) Update(*sql.Context, sql.Row, sql.Row) error {
	return fmt.Errorf("the test table has no rows")
}
func (noRows) Close(*sql.Context) error { return nil }

// engines runs the same statements on the test database and on the
// engine's memory database.
type engines struct {
	db                 *testDB
	ours, memory       *sqle.Engine
	oursCtx, memoryCtx *sql.Context
}

func newEngines(t *testing.T) *engines {
	t.Helper()
	db := newTestDB()
	e := &engines{db: db}
	e.ours = sqle.NewDefault(&testProvider{db: db})
	e.oursCtx = sql.NewContext(context.Background(), sql.WithSession(sql.NewBaseSession()))
	e.oursCtx.SetCurrentDatabase(testDBName)

	pro := memory.NewDBProvider(memory.NewDatabase(testDBName))
	e.memory = sqle.NewDefault(pro)
	e.memoryCtx = sql.NewContext(context.Background(), sql.WithSession(memory.NewSession(sql.NewBaseSession(), pro)))
	e.memoryCtx.SetCurrentDatabase(testDBName)
	t.Cleanup(func() {
		_ = e.ours.Close()
		_ = e.memory.Close()
	})
	return e
}

// exec runs a statement on both engines; both must accept it.
func (e *engines) exec(t *testing.T, q string) {
	t.Helper()
	if _, err := runQuery(e.memory, e.memoryCtx, q); err != nil {
		t.Fatalf("memory engine: %s: %v", q, err)
	}
	if _, err := runQuery(e.ours, e.oursCtx, q); err != nil {
		t.Fatalf("test engine: %s: %v", q, err)
	}
}

// same runs a query on both engines and fails unless both give the same rows.
func (e *engines) same(t *testing.T, q string) {
	t.Helper()
	want, err := runQuery(e.memory, e.memoryCtx, q)
	if err != nil {
		t.Fatalf("memory engine: %s: %v", q, err)
	}
	got, err := runQuery(e.ours, e.oursCtx, q)
	if err != nil {
		t.Fatalf("test engine: %s: %v", q, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\nstored schema gives\n%v\nmemory engine gives\n%v", q, got, want)
	}
}

func runQuery(e *sqle.Engine, ctx *sql.Context, q string) ([]sql.Row, error) {
	_, iter, _, err := e.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	var rows []sql.Row
	for {
		r, err := iter.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			_ = iter.Close(ctx)
			return nil, err
		}
		rows = append(rows, r)
	}
	return rows, iter.Close(ctx)
}
