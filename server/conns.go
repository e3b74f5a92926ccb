package server

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	gmsserver "github.com/dolthub/go-mysql-server/server"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/cairndb/cairn/storage/sqle"
)

// conns wraps go-mysql-server's protocol handler: it logs each
// connection and each failed or slow statement, and it knows which
// connections are open and which are running a statement, so a shutdown
// can close the idle ones and wait for the busy ones.
type conns struct {
	mysql.Handler
	log  *zap.Logger
	slow time.Duration // a statement taking this long is logged; 0: never
	sm   *gmsserver.SessionManager
	kill func(connID uint32) // cancels the connection's running statement
	// engine, if set, lets error messages name definitions (foreign
	// keys, unique indexes) the engine's messages leave out.
	engine *sqle.Engine
	// planCache: run prepared statements from plan templates (plancache.go).
	planCache bool
	// directResults: send the rows of text-protocol SELECTs from the
	// connection's goroutine (results.go).
	directResults bool

	mu       sync.Mutex
	open     map[uint32]*connState
	stopping bool
	drained  chan struct{} // closed once stopping and no connection is open
}

type connState struct {
	c      *mysql.Conn
	opened time.Time
	busy   bool // running a command
	// announced: the connection's open line is logged (at its first
	// command, when the user is known).
	announced bool
	// host is the client's host as MySQL names it in errors, password
	// whether it logged in with one (set at login).
	host     string
	password bool
	// plans holds the plan templates of the connection's prepared
	// statements, by statement id (plancache.go); texts those of its text
	// INSERTs, by their text with parameters (textinsert.go).
	plans map[uint32]*stmtPlan
	texts map[string]*stmtPlan
}

var _ mysql.Handler = (*conns)(nil)

func newConns(log *zap.Logger, slow time.Duration) *conns {
	return &conns{log: log, slow: slow, open: map[uint32]*connState{}, drained: make(chan struct{})}
}

// wrap is the gmsserver.HandlerWrapper installing c.
func (cs *conns) wrap(h mysql.Handler) (mysql.Handler, error) {
	cs.Handler = h
	return cs, nil
}

func (cs *conns) NewConnection(c *mysql.Conn) {
	cs.mu.Lock()
	cs.open[c.ConnectionID] = &connState{c: c, opened: time.Now()}
	stopping := cs.stopping
	cs.mu.Unlock()
	cs.Handler.NewConnection(c)
	if stopping {
		// Accepted just as the listener closed: hang up at once.
		c.Conn.SetReadDeadline(time.Now())
	}
}

func (cs *conns) ConnectionClosed(c *mysql.Conn) {
	cs.Handler.ConnectionClosed(c)
	cs.mu.Lock()
	st := cs.open[c.ConnectionID]
	delete(cs.open, c.ConnectionID)
	if cs.stopping && len(cs.open) == 0 {
		closeOnce(cs.drained)
	}
	cs.mu.Unlock()
	if st != nil && c.User != "" {
		cs.log.Info("connection closed", zap.Uint32("conn", c.ConnectionID), zap.String("user", c.User),
			zap.String("remote", remote(c)),
			zap.Duration("duration", time.Since(st.opened).Round(time.Millisecond)))
	}
}

func (cs *conns) ConnectionAborted(c *mysql.Conn, reason string) error {
	cs.log.Warn("connection refused", zap.Uint32("conn", c.ConnectionID), zap.String("remote", remote(c)),
		zap.String("reason", reason))
	return cs.Handler.ConnectionAborted(c, reason)
}

// recoverStatement turns a panic inside a statement (the engine's, or its
// parser's: an empty string literal right after SELECT panicked in vitess) into an error for that statement:
// the connection and the server go on. It is deferred with the statement's
// error.
func (cs *conns) recoverStatement(err *error, c *mysql.Conn, query string) {
	r := recover()
	if r == nil {
		return
	}
	cs.log.Error("statement panicked", zap.Uint32("conn", c.ConnectionID), zap.Any("panic", r), zap.Stack("stack"))
	*err = mysql.NewSQLError(mysql.ERUnknownError, mysql.SSUnknownSQLState, "internal error in this statement: %v", r)
}

func (cs *conns) ComInitDB(c *mysql.Conn, db string) (err error) {
	defer cs.recoverStatement(&err, c, "USE "+db)
	done := cs.begin(c, "USE "+db)
	err = cs.mapError(c, "USE "+db, cs.Handler.ComInitDB(c, db))
	done(err)
	return err
}

func (cs *conns) ComQuery(ctx context.Context, c *mysql.Conn, query string, cb mysql.ResultSpoolFn) (err error) {
	defer cs.recoverStatement(&err, c, query)
	done := cs.begin(c, query)
	if reply := cs.mysqlDB(c, query); reply != nil {
		err := cb(reply, false)
		done(err)
		return err
	}
	handled, err := cs.textInsert(ctx, c, query, cb)
	if !handled {
		handled, _, err = cs.directSelect(ctx, c, query, false, cb)
	}
	if !handled {
		defer releaseSpooledRows(c)()
		err = cs.Handler.ComQuery(ctx, c, query, fixFields(c, cb))
	}
	err = cs.mapError(c, query, err)
	done(err)
	return err
}

func (cs *conns) ComMultiQuery(ctx context.Context, c *mysql.Conn, query string, cb mysql.ResultSpoolFn) (rest string, err error) {
	defer cs.recoverStatement(&err, c, query)
	done := cs.begin(c, query)
	if reply := cs.mysqlDB(c, query); reply != nil {
		// The shim answers single statements only (it matches the whole
		// text), as the mariadb client sends them.
		err := cb(reply, false)
		done(err)
		return "", err
	}
	handled, err := cs.textInsert(ctx, c, query, cb)
	if !handled {
		handled, rest, err = cs.directSelect(ctx, c, query, true, cb)
	}
	if !handled {
		defer releaseSpooledRows(c)()
		rest, err = cs.Handler.ComMultiQuery(ctx, c, query, fixFields(c, cb))
	}
	err = cs.mapError(c, query, err)
	// Log only this statement, not the ones after it.
	done(err, len(query)-len(rest))
	if err != nil {
		// MySQL stops a multi-statement packet at the first error; the
		// protocol layer would run the rest and send their results after
		// the error, which clients read as the answer to their next query.
		rest = ""
	}
	return rest, err
}

func (cs *conns) ComPrepare(ctx context.Context, c *mysql.Conn, query string, p *mysql.PrepareData) (fields []*querypb.Field, err error) {
	defer cs.recoverStatement(&err, c, query)
	done := cs.begin(c, query)
	fields, err = cs.Handler.ComPrepare(ctx, c, query, p)
	err = cs.mapError(c, query, err)
	done(err)
	fixCharsets(fields)
	return fields, err
}

func (cs *conns) ComStmtExecute(ctx context.Context, c *mysql.Conn, p *mysql.PrepareData, cb func(*sqltypes.Result) error) (err error) {
	defer cs.recoverStatement(&err, c, p.PrepareStmt)
	done := cs.begin(c, p.PrepareStmt)
	spool := func(r *sqltypes.Result) error {
		fixCharsets(r.Fields)
		return cb(r)
	}
	handled, err := cs.executeTemplated(ctx, c, p, spool)
	if !handled {
		err = cs.Handler.ComStmtExecute(ctx, c, p, spool)
	}
	err = cs.mapError(c, p.PrepareStmt, err)
	done(err)
	return err
}

func (cs *conns) ComResetConnection(c *mysql.Conn) error {
	done := cs.begin(c, "COM_RESET_CONNECTION")
	cs.mu.Lock()
	if st := cs.open[c.ConnectionID]; st != nil {
		st.plans, st.texts = nil, nil
	}
	cs.mu.Unlock()
	err := cs.Handler.ComResetConnection(c)
	done(err)
	return err
}

// mysqlDB applies mysqlDBShim to a statement run on the mysql database.
func (cs *conns) mysqlDB(c *mysql.Conn, query string) *sqltypes.Result {
	if !strings.EqualFold(cs.sessionDB(c), "mysql") {
		return nil
	}
	return mysqlDBShim(query)
}

// sessionDB is c's current database, "" before its session exists.
func (cs *conns) sessionDB(c *mysql.Conn) (db string) {
	if cs.sm == nil {
		return ""
	}
	defer func() {
		if recover() != nil { // no session yet
			db = ""
		}
	}()
	return cs.sm.GetCurrentDB(c)
}

// begin marks c busy for a command and returns what ends it: it logs the
// command at debug, or when it failed or was slow. keep, if given, is how
// much of text the command was (a multi-statement packet runs one
// statement per call).
func (cs *conns) begin(c *mysql.Conn, text string) func(err error, keep ...int) {
	start := time.Now()
	cs.mu.Lock()
	st := cs.open[c.ConnectionID]
	first := false
	if st != nil {
		st.busy = true
		first, st.announced = !st.announced, true
	}
	cs.mu.Unlock()
	unwatch := cs.watchStatement(c)
	return func(err error, keep ...int) {
		unwatch()
		cs.setBusy(c, false)
		if first {
			// Logged after the command: the session (and its current
			// database) exists from the first command on.
			cs.log.Info("connection opened", zap.Uint32("conn", c.ConnectionID), zap.String("user", c.User),
				zap.String("remote", remote(c)), zap.String("db", cs.currentDB(c)))
		}
		d := time.Since(start)
		debug := cs.log.Core().Enabled(zapcore.DebugLevel)
		slow := cs.slow > 0 && d >= cs.slow
		if err == nil && !slow && !debug {
			return
		}
		if len(keep) == 1 && keep[0] >= 0 && keep[0] <= len(text) {
			text = text[:keep[0]]
		}
		fields := []zap.Field{
			zap.Uint32("conn", c.ConnectionID), zap.String("user", c.User),
			zap.String("db", cs.currentDB(c)), zap.Duration("duration", d),
		}
		if debug {
			fields = append(fields, zap.String("query", redactQuery(text)))
		} else {
			fields = append(fields, zap.String("statement", statementKind(text)))
		}
		switch {
		case err != nil:
			// Info, not error: most failures are the client's.
			code, msg := errorCode(err)
			fields = append(fields, zap.Uint16("code", code), zap.String("error", msg))
			cs.log.Info("statement failed", fields...)
		case slow:
			cs.log.Warn("slow statement", fields...)
		default:
			cs.log.Debug("statement", fields...)
		}
	}
}

// mapError is err as MySQL reports it (MapErrorIn), for a statement of
// query on c.
func (cs *conns) mapError(c *mysql.Conn, query string, err error) error {
	if err == nil {
		return nil
	}
	ec := ErrorContext{Query: query, DB: cs.currentDB(c)}
	var lookup *sql.Context
	if e := cs.engine; e != nil {
		ec.Catalog = e.Provider
		ec.Ctx = func() *sql.Context {
			lookup = e.NewContext(context.Background(), "")
			return lookup
		}
	}
	err = MapErrorIn(err, ec)
	if lookup != nil {
		// Reading definitions began a transaction (holding a snapshot
		// of each database read): end it.
		if tx := lookup.GetTransaction(); tx != nil {
			if ts, ok := lookup.Session.(sql.TransactionSession); ok {
				ts.Rollback(lookup, tx)
			}
		}
	}
	return err
}

// setClient records how c logged in: its host as MySQL names it, and
// whether it gave a password.
func (cs *conns) setClient(id uint32, host string, password bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if st := cs.open[id]; st != nil {
		st.host, st.password = host, password
	}
}

// client is what setClient recorded for connection id ("" if none).
func (cs *conns) client(id uint32) (host string, password bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if st := cs.open[id]; st != nil {
		return st.host, st.password
	}
	return "", false
}

func (cs *conns) setBusy(c *mysql.Conn, busy bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if st := cs.open[c.ConnectionID]; st != nil {
		st.busy = busy
	}
}

func (cs *conns) currentDB(c *mysql.Conn) string {
	if cs.sm == nil {
		return ""
	}
	// GetCurrentDB needs the session, which a failed first command may
	// not have made.
	db := ""
	cs.sm.Iter(func(s sql.Session) (bool, error) {
		if s.ID() == c.ConnectionID {
			db = s.GetCurrentDatabase()
			return true, nil
		}
		return false, nil
	})
	return db
}

// drain ends every connection: an idle one at once, a busy one after its
// running command has answered. It returns when none is open, or when
// ctx ends; then it closes the busy ones too and waits for them up to
// grace.
func (cs *conns) drain(ctx context.Context, grace time.Duration) {
	cs.mu.Lock()
	cs.stopping = true
	if len(cs.open) == 0 {
		closeOnce(cs.drained)
	}
	cs.mu.Unlock()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		// A connection waiting for its next command is in a read: a
		// deadline in the past ends that read, and the connection
		// closes. A busy connection's read comes after it answered, and
		// the deadline is set again on every tick (the connection's
		// own read timeout may have moved it).
		cs.mu.Lock()
		for _, st := range cs.open {
			if !st.busy {
				st.c.Conn.SetReadDeadline(time.Now())
			}
		}
		cs.mu.Unlock()
		select {
		case <-cs.drained:
			return
		case <-ctx.Done():
			cs.mu.Lock()
			n := len(cs.open)
			for id, st := range cs.open {
				if cs.kill != nil {
					cs.kill(id)
				}
				st.c.Close()
			}
			cs.mu.Unlock()
			cs.log.Warn("shutdown timeout: closed connections still running statements", zap.Int("connections", n))
			select {
			case <-cs.drained:
			case <-time.After(grace):
			}
			return
		case <-tick.C:
		}
	}
}

// fixFields wraps a text-protocol result callback with fixCharsets and
// fixFloats, and after the first batch of rows asks the engine to release
// each batch's bytes once it is sent (releaseSpooledRows).
func fixFields(c *mysql.Conn, cb mysql.ResultSpoolFn) mysql.ResultSpoolFn {
	return func(r *sqltypes.Result, more bool) error {
		fixCharsets(r.Fields)
		fixFloats(r)
		err := cb(r, more)
		if len(r.Fields) > 0 {
			c.StatusFlags |= mysql.ServerCursorExists
		}
		return err
	}
}

// releaseSpooledRows works around go-mysql-server v0.20.0 keeping the text
// of every row of a result in one buffer until the statement ends: a
// 200 MB SELECT (a dump) grew a 256 MiB buffer, doubling and copying it on
// the way. Its handler resets the buffer after each batch of 128 rows only
// while the connection's SERVER_STATUS_CURSOR_EXISTS flag is set, the test
// meant the other way round (its comment says so). The text protocol writes
// each batch to the socket inside the callback, so fixFields sets the flag
// once the first batch, and with it the only status flags of the result
// set's start, is written; no later row packet carries flags. The function
// this returns, deferred, clears the flag before the protocol layer writes
// the result's final status. The binary protocol is left alone: with a
// cursor its batches are handed to another goroutine, not yet written.
func releaseSpooledRows(c *mysql.Conn) (restore func()) {
	had := c.StatusFlags & mysql.ServerCursorExists
	return func() { c.StatusFlags = c.StatusFlags&^mysql.ServerCursorExists | had }
}

// fixFloats rewrites FLOAT and DOUBLE values in MySQL's text form
// (sqle.FormatFloat). The binary protocol sends them as IEEE numbers.
func fixFloats(r *sqltypes.Result) {
	for j, f := range r.Fields {
		bits := 64
		switch f.Type {
		case querypb.Type_FLOAT32:
			bits = 32
		case querypb.Type_FLOAT64:
		default:
			continue
		}
		for _, row := range r.Rows {
			if j >= len(row) || row[j].IsNull() {
				continue
			}
			v, err := strconv.ParseFloat(string(row[j].Raw()), bits)
			if err != nil {
				continue
			}
			row[j] = sqltypes.MakeTrusted(f.Type, []byte(sqle.FormatFloat(v, bits)))
		}
	}
}

// fixCharsets gives numeric, temporal, BIT, JSON and spatial columns the
// binary character set (63) in result metadata, as MySQL does: the engine
// sends them with utf8mb4 (255), and drivers that go by the character set
// decode BIT values as text and lose them (Node's mysql2).
func fixCharsets(fields []*querypb.Field) {
	for _, f := range fields {
		switch f.Type {
		case querypb.Type_INT8, querypb.Type_UINT8, querypb.Type_INT16, querypb.Type_UINT16,
			querypb.Type_INT24, querypb.Type_UINT24, querypb.Type_INT32, querypb.Type_UINT32,
			querypb.Type_INT64, querypb.Type_UINT64, querypb.Type_FLOAT32, querypb.Type_FLOAT64,
			querypb.Type_DECIMAL, querypb.Type_TIMESTAMP, querypb.Type_DATE, querypb.Type_TIME,
			querypb.Type_DATETIME, querypb.Type_YEAR, querypb.Type_BIT, querypb.Type_JSON,
			querypb.Type_GEOMETRY:
			f.Charset = 63
		}
	}
}

func closeOnce(ch chan struct{}) {
	select {
	case <-ch:
	default:
		close(ch)
	}
}

func remote(c *mysql.Conn) string {
	if a := c.RemoteAddr(); a != nil {
		return a.String()
	}
	return ""
}

// errorCode returns the MySQL error code and message a client sees for err.
func errorCode(err error) (uint16, string) {
	var se *mysql.SQLError
	if errors.As(err, &se) {
		return uint16(se.Number()), se.Message
	}
	se = sql.CastSQLError(err)
	if se == nil {
		return mysql.ERUnknownError, err.Error()
	}
	return uint16(se.Number()), se.Message
}

// statementKind is the first word of a statement, upper-cased: what a log
// line says about a statement when query text is not logged.
func statementKind(text string) string {
	text = strings.TrimSpace(text)
	for strings.HasPrefix(text, "/*") {
		end := strings.Index(text, "*/")
		if end < 0 {
			break
		}
		text = strings.TrimSpace(text[end+2:])
	}
	if i := strings.IndexFunc(text, func(r rune) bool { return !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') }); i >= 0 {
		text = text[:i]
	}
	if len(text) > 32 {
		text = text[:32]
	}
	return strings.ToUpper(text)
}
