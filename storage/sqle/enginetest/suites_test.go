package enginetest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gmstest "github.com/dolthub/go-mysql-server/enginetest"
	"github.com/dolthub/go-mysql-server/enginetest/queries"
	"github.com/dolthub/go-mysql-server/enginetest/scriptgen/setup"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/stretchr/testify/require"
)

// envVar turns the conformance tests on.
const envVar = "CAIRN_CONFORMANCE"

// suite is one of go-mysql-server's test suites, run the same way for
// both engines.
type suite struct {
	name string
	// raw: the suite needs the *gms.Engine itself (see Harness.raw), so
	// a panic in it ends the run of the suite.
	raw bool
	run func(t *testing.T, h gmstest.Harness)
}

// suites, in the order of the conformance table. Names are the
// enginetest function names without "Test"; scripts/conformance.sh runs
// each as TestCairn/<name> and TestMemory/<name>.
var suites = []suite{
	// Queries and query errors.
	{name: "Queries", run: gmstest.TestQueries},
	{name: "QueryErrors", run: gmstest.TestQueryErrors},
	{name: "QueriesPrepared", run: gmstest.TestQueriesPrepared},
	{name: "JoinQueries", run: gmstest.TestJoinQueries},
	{name: "LateralJoinQueries", run: gmstest.TestLateralJoinQueries},
	{name: "JoinOps", run: func(t *testing.T, h gmstest.Harness) { gmstest.TestJoinOps(t, h, gmstest.DefaultJoinOpTests) }},
	{name: "NaturalJoin", run: gmstest.TestNaturalJoin},
	{name: "NaturalJoinEqual", run: gmstest.TestNaturalJoinEqual},
	{name: "NaturalJoinDisjoint", run: gmstest.TestNaturalJoinDisjoint},
	{name: "InnerNestedInNaturalJoins", run: gmstest.TestInnerNestedInNaturalJoins},
	{name: "JSONTableQueries", run: gmstest.TestJSONTableQueries},
	{name: "JSONTableScripts", run: gmstest.TestJSONTableScripts},
	{name: "ColumnAliases", run: gmstest.TestColumnAliases},
	{name: "DerivedTableOuterScopeVisibility", run: gmstest.TestDerivedTableOuterScopeVisibility},
	{name: "OrderByGroupBy", run: gmstest.TestOrderByGroupBy},
	{name: "AmbiguousColumnResolution", run: gmstest.TestAmbiguousColumnResolution},
	{name: "WindowFunctions", run: gmstest.TestWindowFunctions},
	{name: "WindowRangeFrames", run: gmstest.TestWindowRangeFrames},
	{name: "NamedWindows", run: gmstest.TestNamedWindows},
	{name: "Convert", run: gmstest.TestConvert},
	{name: "RowLimit", run: gmstest.TestRowLimit},
	{name: "DateParse", run: gmstest.TestDateParse},
	{name: "NumericErrorScripts", run: gmstest.TestNumericErrorScripts},
	{name: "AnsiQuotesSqlMode", run: gmstest.TestAnsiQuotesSqlMode},
	{name: "SQLLogicTests", run: gmstest.TestSQLLogicTests},
	{name: "Prepared", run: gmstest.TestPrepared},
	{name: "PreparedInsert", run: gmstest.TestPreparedInsert},
	{name: "PreparedStatements", run: gmstest.TestPreparedStatements},
	{name: "VersionedQueries", run: func(t *testing.T, h gmstest.Harness) {
		gmstest.TestVersionedQueries(t, h.(gmstest.VersionedDBHarness))
	}},
	{name: "VersionedQueriesPrepared", run: func(t *testing.T, h gmstest.Harness) {
		gmstest.TestVersionedQueriesPrepared(t, h.(gmstest.VersionedDBHarness))
	}},

	// Writes.
	{name: "InsertInto", run: gmstest.TestInsertInto},
	{name: "InsertIntoErrors", run: gmstest.TestInsertIntoErrors},
	{name: "InsertIgnoreInto", run: gmstest.TestInsertIgnoreInto},
	{name: "InsertDuplicateKeyKeyless", run: gmstest.TestInsertDuplicateKeyKeyless},
	{name: "IgnoreIntoWithDuplicateUniqueKeyKeyless", run: gmstest.TestIgnoreIntoWithDuplicateUniqueKeyKeyless},
	{name: "Update", run: gmstest.TestUpdate},
	{name: "UpdateIgnore", run: gmstest.TestUpdateIgnore},
	{name: "UpdateErrors", run: gmstest.TestUpdateErrors},
	{name: "Delete", run: gmstest.TestDelete},
	{name: "DeleteErrors", run: gmstest.TestDeleteErrors},
	{name: "ReplaceInto", run: gmstest.TestReplaceInto},
	{name: "ReplaceIntoErrors", run: gmstest.TestReplaceIntoErrors},
	{name: "Truncate", run: gmstest.TestTruncate},
	{name: "PkOrdinalsDML", run: gmstest.TestPkOrdinalsDML},
	{name: "OnUpdateExprScripts", run: gmstest.TestOnUpdateExprScripts},
	{name: "Blobs", run: gmstest.TestBlobs},
	{name: "LoadData", run: func(t *testing.T, h gmstest.Harness) {
		inTempDir(t)
		gmstest.TestLoadData(t, h)
	}},
	{name: "LoadDataErrors", run: func(t *testing.T, h gmstest.Harness) {
		inTempDir(t)
		gmstest.TestLoadDataErrors(t, h)
	}},
	{name: "SelectIntoFile", run: func(t *testing.T, h gmstest.Harness) {
		inTempDir(t)
		gmstest.TestSelectIntoFile(t, h)
	}},

	// DDL.
	{name: "CreateTable", run: gmstest.TestCreateTable},
	{name: "DropTable", run: gmstest.TestDropTable},
	{name: "RenameTable", run: gmstest.TestRenameTable},
	{name: "CreateDatabase", run: gmstest.TestCreateDatabase},
	{name: "DropDatabase", run: gmstest.TestDropDatabase},
	{name: "AlterTable", run: gmstest.TestAlterTable},
	{name: "AddColumn", run: gmstest.TestAddColumn},
	{name: "ModifyColumn", run: gmstest.TestModifyColumn},
	{name: "DropColumn", run: gmstest.TestDropColumn},
	{name: "DropColumnKeylessTables", run: gmstest.TestDropColumnKeylessTables},
	{name: "RenameColumn", run: gmstest.TestRenameColumn},
	{name: "AddDropPks", run: gmstest.TestAddDropPks},
	{name: "AddAutoIncrementColumn", run: testAddAutoIncrementColumn},
	{name: "PkOrdinalsDDL", run: gmstest.TestPkOrdinalsDDL},
	{name: "ColumnDefaults", run: gmstest.TestColumnDefaults},
	{name: "GeneratedColumns", run: gmstest.TestGeneratedColumns},
	{name: "ShowTableStatus", run: gmstest.TestShowTableStatus},

	// Indexes.
	{name: "Indexes", run: gmstest.TestIndexes},
	{name: "ComplexIndexQueries", run: gmstest.TestComplexIndexQueries},
	{name: "IndexPrefix", run: gmstest.TestIndexPrefix},
	{name: "NullRanges", run: gmstest.TestNullRanges},
	{name: "FulltextIndexes", run: gmstest.TestFulltextIndexes},
	{name: "VectorIndexes", run: gmstest.TestVectorIndexes},

	// Query plans: these compare the plan text, which depends on the
	// indexes a table reports and its row counts and statistics.
	{name: "QueryPlans", run: func(t *testing.T, h gmstest.Harness) { gmstest.TestQueryPlans(t, h, queries.PlanTests) }},
	{name: "IndexQueryPlans", run: gmstest.TestIndexQueryPlans},
	{name: "JoinPlanning", run: gmstest.TestJoinPlanning},
	{name: "Statistics", run: gmstest.TestStatistics},

	// Constraints.
	{name: "CreateForeignKeys", run: gmstest.TestCreateForeignKeys},
	{name: "DropForeignKeys", run: gmstest.TestDropForeignKeys},
	{name: "ForeignKeys", run: gmstest.TestForeignKeys},
	{name: "CreateCheckConstraints", run: gmstest.TestCreateCheckConstraints},
	{name: "ChecksOnInsert", run: gmstest.TestChecksOnInsert},
	{name: "ChecksOnUpdate", run: gmstest.TestChecksOnUpdate},
	{name: "DisallowedCheckConstraints", run: gmstest.TestDisallowedCheckConstraints},
	{name: "DropCheckConstraints", run: gmstest.TestDropCheckConstraints},

	// Triggers, views, stored procedures, events.
	{name: "Triggers", run: gmstest.TestTriggers},
	{name: "TriggerErrors", run: gmstest.TestTriggerErrors},
	{name: "ShowTriggers", run: gmstest.TestShowTriggers},
	{name: "RollbackTriggers", run: gmstest.TestRollbackTriggers},
	{name: "Views", run: gmstest.TestViews},
	{name: "RecursiveViewDefinition", run: gmstest.TestRecursiveViewDefinition},
	{name: "StoredProcedures", run: testStoredProcedures},
	{name: "ExternalProcedures", run: testExternalProcedures},
	{name: "Events", run: gmstest.TestEvents},

	// Transactions and sessions.
	{name: "TransactionScripts", run: gmstest.TestTransactionScripts},
	{name: "ConcurrentTransactions", raw: true, run: gmstest.TestConcurrentTransactions},
	{name: "ReadOnly", raw: true, run: func(t *testing.T, h gmstest.Harness) { gmstest.TestReadOnly(t, h, true) }},
	{name: "Variables", run: gmstest.TestVariables},
	{name: "Warnings", run: gmstest.TestWarnings},
	{name: "Use", run: gmstest.TestUse},
	{name: "NoDatabaseSelected", run: gmstest.TestNoDatabaseSelected},
	{name: "SessionSelectLimit", run: gmstest.TestSessionSelectLimit},
	{name: "UserPrivileges", run: func(t *testing.T, h gmstest.Harness) {
		gmstest.TestUserPrivileges(t, h.(gmstest.ClientHarness))
	}},
	{name: "MySqlDb", run: gmstest.TestMySqlDb},

	// JSON, spatial, collations and character sets.
	{name: "JsonScripts", run: func(t *testing.T, h gmstest.Harness) { gmstest.TestJsonScripts(t, h, nil) }},
	{name: "SpatialQueries", run: gmstest.TestSpatialQueries},
	{name: "SpatialInsertInto", run: gmstest.TestSpatialInsertInto},
	{name: "SpatialUpdate", run: gmstest.TestSpatialUpdate},
	{name: "SpatialDelete", run: gmstest.TestSpatialDelete},
	{name: "SpatialScripts", run: gmstest.TestSpatialScripts},
	{name: "SpatialIndexScripts", run: gmstest.TestSpatialIndexScripts},
	{name: "CharsetCollationEngine", run: gmstest.TestCharsetCollationEngine},
	{name: "CollationCoercion", run: testCollationCoercion},
	{name: "DatabaseCollationWire", raw: true, run: func(t *testing.T, h gmstest.Harness) {
		gmstest.TestDatabaseCollationWire(t, h, h.(gmstest.ServerHarness).SessionBuilder())
	}},
	{name: "CharsetCollationWire", raw: true, run: func(t *testing.T, h gmstest.Harness) {
		gmstest.TestCharsetCollationWire(t, h, h.(gmstest.ServerHarness).SessionBuilder())
	}},
	{name: "TypesOverWire", raw: true, run: func(t *testing.T, h gmstest.Harness) {
		gmstest.TestTypesOverWire(t, h.(gmstest.ClientHarness), h.(gmstest.ServerHarness).SessionBuilder())
	}},

	// Information schema and the catch-all scripts.
	{name: "InfoSchema", run: gmstest.TestInfoSchema},
	{name: "Scripts", run: gmstest.TestScripts},
}

func requireConformance(t *testing.T) {
	if os.Getenv(envVar) == "" {
		t.Skipf("go-mysql-server conformance suites: set %s=1 to run them (see scripts/conformance.sh)", envVar)
	}
}

// TestCairn runs every suite against cairn's storage engine.
func TestCairn(t *testing.T) {
	requireConformance(t)
	for _, s := range suites {
		t.Run(s.name, func(t *testing.T) {
			h := NewHarness()
			h.raw = s.raw
			s.run(t, h)
		})
	}
}

// TestMemory runs every suite against go-mysql-server's memory engine,
// set up as go-mysql-server's memory_engine_test.go does (see the
// memory-only adjustments in the suite functions below), except that every
// suite uses the default memory harness (native indexes, no extra index
// driver) and TestTransactionScripts is not skipped wholesale.
func TestMemory(t *testing.T) {
	requireConformance(t)
	for _, s := range suites {
		t.Run(s.name, func(t *testing.T) {
			s.run(t, memoryHarness{MemoryHarness: gmstest.NewDefaultMemoryHarness(), raw: s.raw})
		})
	}
}

func isMemory(h gmstest.Harness) bool {
	_, ok := h.(memoryHarness)
	return ok
}

// testStoredProcedures is TestStoredProcedures; for the memory engine it
// leaves out the one script go-mysql-server's own memory test removes
// (memory tables have no snapshot for an open cursor to read).
func testStoredProcedures(t *testing.T, h gmstest.Harness) {
	if isMemory(h) {
		saved := queries.ProcedureLogicTests
		t.Cleanup(func() { queries.ProcedureLogicTests = saved })
		var kept []queries.ScriptTest
		for _, s := range saved {
			if s.Name != "FETCH captures state at OPEN" {
				kept = append(kept, s)
			}
		}
		queries.ProcedureLogicTests = kept
	}
	gmstest.TestStoredProcedures(t, h)
}

// testExternalProcedures runs queries.ExternalProcedureTests (CALLs of
// memory.ExternalStoredProcedures), each on a fresh engine, as
// go-mysql-server's engine_only_test.go does.
func testExternalProcedures(t *testing.T, h gmstest.Harness) {
	h.Setup(setup.MydbData)
	for _, script := range queries.ExternalProcedureTests {
		func() {
			e, err := h.NewEngine(t)
			require.NoError(t, err)
			defer e.Close()
			gmstest.TestScriptWithEngine(t, e, h, script)
		}()
	}
}

// testAddAutoIncrementColumn runs queries.AlterTableAddAutoIncrementScripts
// as memory_engine_test.go's TestAddAutoIncrementColumn does.
func testAddAutoIncrementColumn(t *testing.T, h gmstest.Harness) {
	for _, script := range queries.AlterTableAddAutoIncrementScripts {
		gmstest.TestScript(t, h, script)
	}
}

// testCollationCoercion checks COERCIBILITY() and COLLATION() of
// expressions over a table, as engine_only_test.go's TestCollationCoercion.
func testCollationCoercion(t *testing.T, h gmstest.Harness) {
	h.Setup(setup.MydbData)
	e, err := h.NewEngine(t)
	require.NoError(t, err)
	defer e.Close()
	ctx := h.NewContext()
	ctx.SetCurrentDatabase("mydb")
	for _, stmt := range queries.CollationCoercionSetup {
		gmstest.RunQueryWithContext(t, e, h, ctx, stmt)
	}
	for _, tc := range queries.CollationCoercionTests {
		for i, what := range []string{"COERCIBILITY", "COLLATION"} {
			q := fmt.Sprintf("SELECT %s(%s) FROM temp_tbl LIMIT 1;", what, tc.Parameters)
			t.Run(q, func(t *testing.T) {
				_, iter, _, err := e.Query(ctx, q)
				if err == nil {
					var rows []sql.Row
					rows, err = sql.RowIterToRows(ctx, iter)
					if err == nil && !tc.Error {
						require.Len(t, rows, 1)
						require.Len(t, rows[0], 1)
						if i == 0 {
							n, _, err := types.Int64.Convert(ctx, rows[0][0])
							require.NoError(t, err)
							require.Equal(t, tc.Coercibility, n.(int64))
						} else {
							s, _, err := types.LongText.Convert(ctx, rows[0][0])
							require.NoError(t, err)
							require.Equal(t, tc.Collation.Name(), s.(string))
						}
					}
				}
				if tc.Error {
					require.Error(t, err)
				} else {
					require.NoError(t, err)
				}
			})
		}
	}
}

// inTempDir makes the test's working directory a temporary directory
// (SELECT ... INTO OUTFILE writes there) holding ./testdata as the LOAD
// DATA scripts expect it: the small files copied from go-mysql-server (see
// testdata/README.md) and test10.txt, a 1 MB file of three long lines,
// generated.
func inTempDir(t *testing.T) {
	src, err := filepath.Abs("testdata")
	require.NoError(t, err)
	dir := t.TempDir()
	dst := filepath.Join(dir, "testdata")
	require.NoError(t, os.Mkdir(dst, 0o755))
	ents, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, ent := range ents {
		if ent.IsDir() || !strings.HasPrefix(ent.Name(), "test") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, ent.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dst, ent.Name()), b, 0o644))
	}
	// "LOAD DATA with column data larger than 64KB" expects lengths
	// 65535, 100000 and 1000000.
	var b strings.Builder
	for i, n := range []int{65535, 100000, 1000000} {
		fmt.Fprintf(&b, "%d,%s\n", i+1, strings.Repeat(string(rune('A'+i)), n))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dst, "test10.txt"), []byte(b.String()), 0o644))
	t.Chdir(dir)
}
