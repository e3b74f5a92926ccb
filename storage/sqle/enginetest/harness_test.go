package enginetest

import (
	"context"
	"fmt"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"testing"

	gms "github.com/dolthub/go-mysql-server"
	gmstest "github.com/dolthub/go-mysql-server/enginetest"
	"github.com/dolthub/go-mysql-server/enginetest/scriptgen/setup"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/server"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/cairndb/cairn/storage/sqle"
)

// skips are the queries (or script names, or setup statements: the
// harness is asked about all three) that the cairn harness does not run.
// Only what cannot run at all belongs here (a hang, or a test that cannot
// apply to cairn), never a query that merely fails: failures are what the
// conformance table measures. Keys are compared lower-cased.
var skips = []struct{ query, why string }{
	// (none: nothing hangs or crashes the run today)
}

// setupSkips are statements the cairn harness leaves out of the setup
// scripts it is given (setup.*Data), matched case-insensitively, each for
// the reason given. A setup statement that fails fails the whole suite
// without running any of its tests, so a feature cairn lacks would hide
// hundreds of unrelated results; the tests that need the feature still
// run, and fail.
var setupSkips = []struct {
	re  *regexp.Regexp
	why string
}{{
	regexp.MustCompile(`(?i)^\s*create\s+vector\s+index\b`),
	"cairn has no VECTOR indexes: setup.Comp_index_tablesData creates one on comp_vector_index_t0, and " +
		"ComplexIndexQueries and IndexQueryPlans (1440 tests, only a few about that table) would not run at all",
}}

// filterSetup returns the setup scripts without the setupSkips statements.
func filterSetup(scripts []setup.SetupScript) []setup.SetupScript {
	out := make([]setup.SetupScript, 0, len(scripts))
	for _, script := range scripts {
		var kept setup.SetupScript
	stmts:
		for _, stmt := range script {
			for _, s := range setupSkips {
				if s.re.MatchString(stmt) {
					continue stmts
				}
			}
			kept = append(kept, stmt)
		}
		out = append(out, kept)
	}
	return out
}

// Harness is a go-mysql-server enginetest.Harness over cairn's in-memory
// provider. Each NewEngine makes a new provider, so every engine starts
// from exactly the setup scripts.
type Harness struct {
	setupData []setup.SetupScript
	skip      map[string]bool
	// raw makes NewEngine return the *gms.Engine itself rather than a
	// wrapper that turns panics into errors: the suites that need a
	// *gms.Engine (to start a server, or for its process list) skip
	// themselves otherwise.
	raw bool
	// retain makes the next NewEngine keep the current provider rather
	// than start a new one: the versioned suites make their databases and
	// history (NewDatabases, NewTableAsOf, SnapshotTable) before it.
	retain bool

	mu       sync.Mutex
	provider *sqle.Provider
	session  *sqle.Session
}

var (
	_ gmstest.Harness             = (*Harness)(nil)
	_ gmstest.TransactionHarness  = (*Harness)(nil)
	_ gmstest.ForeignKeyHarness   = (*Harness)(nil)
	_ gmstest.KeylessTableHarness = (*Harness)(nil)
	_ gmstest.IndexHarness        = (*Harness)(nil)
	_ gmstest.SkippingHarness     = (*Harness)(nil)
	_ gmstest.ClientHarness       = (*Harness)(nil)
	_ gmstest.ServerHarness       = (*Harness)(nil)
	_ gmstest.VersionedDBHarness  = (*Harness)(nil)
)

// NewHarness returns a harness for cairn.
func NewHarness() *Harness {
	h := &Harness{skip: map[string]bool{}}
	for _, s := range skips {
		h.skip[strings.ToLower(s.query)] = true
	}
	return h
}

// newProvider returns an empty in-memory provider with go-mysql-server's
// test procedures registered (memory.ExternalStoredProcedures, which
// TestStoredProcedures and the external procedure scripts call).
func newProvider(t *testing.T) (*sqle.Provider, error) {
	// A small node cache: suites make thousands of providers.
	p, err := sqle.NewProvider(context.Background(), sqle.Options{InMemory: true, CacheBytes: 8 << 20})
	if err != nil {
		return nil, err
	}
	for _, esp := range memory.ExternalStoredProcedures {
		p.RegisterProcedure(esp)
	}
	if t != nil {
		t.Cleanup(func() { p.Close() })
	}
	return p, nil
}

func (h *Harness) getProvider() *sqle.Provider {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.provider == nil {
		p, err := newProvider(nil)
		if err != nil {
			panic(err)
		}
		h.provider = p
	}
	return h.provider
}

// Setup implements enginetest.Harness.
func (h *Harness) Setup(scripts ...[]setup.SetupScript) {
	h.setupData = nil
	for _, s := range scripts {
		h.setupData = append(h.setupData, s...)
	}
}

// NewEngine implements enginetest.Harness: a new provider (or the one
// the versioned data was made in, see retain), the setup scripts run in a
// session of their own, then a fresh session for the test.
func (h *Harness) NewEngine(t *testing.T) (_ gmstest.QueryEngine, err error) {
	h.mu.Lock()
	p, retain := h.provider, h.retain
	h.retain = false
	h.mu.Unlock()
	if retain && p != nil {
		t.Cleanup(func() { p.Close() })
	} else if p, err = newProvider(t); err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.provider, h.session = p, nil
	h.mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			err = panicError(r)
		}
	}()
	e, err := gmstest.NewEngine(t, h, p, filterSetup(h.setupData), memory.NewStatsProv())
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.session = nil
	h.mu.Unlock()
	if h.raw {
		return e, nil
	}
	return &recoveringEngine{e}, nil
}

// NewContext implements enginetest.Harness: a context over the harness's
// current session, made on first use.
func (h *Harness) NewContext() *sql.Context {
	p := h.getProvider()
	h.mu.Lock()
	if h.session == nil {
		h.session = p.NewSession(gmstest.NewBaseSession())
	}
	s := h.session
	h.mu.Unlock()
	return sql.NewContext(context.Background(), sql.WithSession(s))
}

// NewSession implements enginetest.TransactionHarness.
func (h *Harness) NewSession() *sql.Context {
	p := h.getProvider()
	h.mu.Lock()
	h.session = p.NewSession(gmstest.NewBaseSession())
	h.mu.Unlock()
	return h.NewContext()
}

// NewContextWithClient implements enginetest.ClientHarness.
func (h *Harness) NewContextWithClient(client sql.Client) *sql.Context {
	s := h.getProvider().NewSession(sql.NewBaseSessionWithClientServer("address", client, 1))
	return sql.NewContext(context.Background(), sql.WithSession(s))
}

// SessionBuilder implements enginetest.ServerHarness. The provider is
// looked up per connection: it changes with every NewEngine.
func (h *Harness) SessionBuilder() server.SessionBuilder {
	return func(ctx context.Context, conn *mysql.Conn, addr string) (sql.Session, error) {
		return h.getProvider().SessionBuilder()(ctx, conn, addr)
	}
}

// SupportsNativeIndexCreation implements enginetest.IndexHarness.
func (h *Harness) SupportsNativeIndexCreation() bool { return true }

// SupportsForeignKeys implements enginetest.ForeignKeyHarness.
func (h *Harness) SupportsForeignKeys() bool { return true }

// SupportsKeylessTables implements enginetest.KeylessTableHarness.
func (h *Harness) SupportsKeylessTables() bool { return true }

// SkipQueryTest implements enginetest.SkippingHarness.
func (h *Harness) SkipQueryTest(query string) bool { return h.skip[strings.ToLower(query)] }

// memoryHarness is go-mysql-server's memory harness with the same panic
// recovery as the cairn harness, so that both columns of the table are
// counted the same way.
type memoryHarness struct {
	*gmstest.MemoryHarness
	raw bool
}

func (m memoryHarness) NewEngine(t *testing.T) (gmstest.QueryEngine, error) {
	e, err := m.MemoryHarness.NewEngine(t)
	if err != nil || m.raw {
		return e, err
	}
	if ge, ok := e.(*gms.Engine); ok {
		return &recoveringEngine{ge}, nil
	}
	return e, nil
}

// recoveringEngine turns a panic while planning or running a query into
// the query's error, with the stack, so that one panic fails one test
// rather than ending the whole run.
type recoveringEngine struct {
	*gms.Engine
}

func panicError(r any) error {
	return fmt.Errorf("panic: %v\n%s", r, trimStack(debug.Stack()))
}

// trimStack drops the frames of the panic machinery and of this file, and
// keeps the first 30 frames of the rest.
func trimStack(b []byte) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	// lines[0] is "goroutine N [running]:", then pairs of function/file.
	start := 1
	for i := 1; i+1 < len(lines); i += 2 {
		if strings.Contains(lines[i], "panic(") {
			start = i + 2
			break
		}
	}
	out := lines[start:]
	if len(out) > 60 {
		out = append(out[:60], "\t...")
	}
	return strings.Join(out, "\n")
}

func (e *recoveringEngine) Query(ctx *sql.Context, query string) (sch sql.Schema, iter sql.RowIter, flags *sql.QueryFlags, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError(r)
		}
	}()
	sqle.StatementBegin(ctx.Session)
	sch, iter, flags, err = e.Engine.Query(ctx, query)
	return sch, wrapIter(iter), flags, err
}

func (e *recoveringEngine) QueryWithBindings(ctx *sql.Context, query string, parsed sqlparser.Statement, bindings map[string]sqlparser.Expr, qFlags *sql.QueryFlags) (sch sql.Schema, iter sql.RowIter, flags *sql.QueryFlags, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError(r)
		}
	}()
	sqle.StatementBegin(ctx.Session)
	sch, iter, flags, err = e.Engine.QueryWithBindings(ctx, query, parsed, bindings, qFlags)
	return sch, wrapIter(iter), flags, err
}

func (e *recoveringEngine) PrepareQuery(ctx *sql.Context, query string) (n sql.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError(r)
		}
	}()
	return e.Engine.PrepareQuery(ctx, query)
}

func (e *recoveringEngine) AnalyzeQuery(ctx *sql.Context, query string) (n sql.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError(r)
		}
	}()
	return e.Engine.AnalyzeQuery(ctx, query)
}

func wrapIter(iter sql.RowIter) sql.RowIter {
	if iter == nil {
		return nil
	}
	return &recoveringIter{iter}
}

type recoveringIter struct {
	sql.RowIter
}

func (it *recoveringIter) Next(ctx *sql.Context) (row sql.Row, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError(r)
		}
	}()
	return it.RowIter.Next(ctx)
}

func (it *recoveringIter) Close(ctx *sql.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError(r)
		}
	}()
	return it.RowIter.Close(ctx)
}
