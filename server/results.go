package server

import (
	"context"
	"errors"
	"io"
	"strings"

	gmsserver "github.com/dolthub/go-mysql-server/server"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
	"github.com/dolthub/vitess/go/vt/sqlparser"
)

// Text-protocol SELECTs run on the connection's goroutine (docs/server.md,
// "Sending rows"). go-mysql-server's handler reads a result's rows on one
// goroutine and converts and sends them on another, passing each row
// through a channel and re-arming a timer per row; sending a million rows
// (mariadb-dump) spent a fifth of the server's CPU there. directSelect
// runs what the handler would run (the same parse, QueryWithBindings, the
// same query flags, the process list and session bookkeeping) and spools
// the rows itself, as runSelect does for prepared statements. Statements
// of other kinds, and anything it does not recognise, go to the handler.

// directSelect runs query, the text of a COM_QUERY packet (multi: with
// other statements after it), if its first statement is a SELECT; handled
// is false, with nothing done the client sees, when the handler is to run
// it. rest is the text after the statement.
func (cs *conns) directSelect(ctx context.Context, c *mysql.Conn, query string, multi bool, cb mysql.ResultSpoolFn) (handled bool, rest string, err error) {
	if cs.engine == nil || cs.sm == nil || !cs.directResults || !maybeSelect(query) {
		return false, "", nil
	}
	sqlCtx, err := cs.sm.NewContextWithQuery(ctx, c, query)
	if err != nil {
		return false, "", nil
	}
	e := cs.engine.SQL
	if _, prepared := e.PreparedDataCache.GetCachedStmt(sqlCtx.Session.ID(), sql.RemoveSpaceAndDelimiter(query, ';')); prepared {
		// The engine runs a text equal to a prepared statement's as
		// that statement.
		return false, "", nil
	}
	parsed, stmtText, rest, err := e.Parser.Parse(sqlCtx, query, multi)
	if err != nil {
		// The handler parses it again and reports the error its way.
		return false, "", nil
	}
	if sel, ok := parsed.(*sqlparser.Select); !ok || sel.Into != nil {
		return false, "", nil
	}
	if stmtText != "" {
		query = stmtText
	}
	return true, rest, cs.runText(sqlCtx, c, query, parsed, rest != "", cb)
}

// maybeSelect reports whether query's first word, after spaces and
// comments, is SELECT, WITH or an opening parenthesis: whether it is worth
// parsing to find out if it is a SELECT. Other statements (an INSERT, a
// COMMIT) go straight to the handler, which parses them once.
func maybeSelect(query string) bool {
	q := query
	for {
		q = strings.TrimLeft(q, " \t\r\n\f\v")
		switch {
		case strings.HasPrefix(q, "/*!"):
			// An executable comment holds SQL: leave it to the handler.
			return false
		case strings.HasPrefix(q, "/*"):
			end := strings.Index(q[2:], "*/")
			if end < 0 {
				return false
			}
			q = q[2+end+2:]
			continue
		case strings.HasPrefix(q, "#"), strings.HasPrefix(q, "-- "), strings.HasPrefix(q, "--\t"):
			end := strings.IndexByte(q, '\n')
			if end < 0 {
				return false
			}
			q = q[end+1:]
			continue
		}
		break
	}
	if strings.HasPrefix(q, "(") {
		return true
	}
	for _, word := range []string{"select", "with"} {
		if len(q) > len(word) && strings.EqualFold(q[:len(word)], word) && !identChar(q[len(word)]) {
			return true
		}
	}
	return false
}

// identChar reports whether c may continue an unquoted identifier.
func identChar(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// runText runs the parsed statement query and sends its rows, as the
// handler's doQuery does. more: statements follow it in the packet.
func (cs *conns) runText(sqlCtx *sql.Context, c *mysql.Conn, query string, parsed sqlparser.Statement, more bool, cb mysql.ResultSpoolFn) error {
	return asStatement(sqlCtx, query, func(sqlCtx *sql.Context) error {
		qFlags := &sql.QueryFlags{}
		qFlags.Set(sql.QFlagDeferProjections)
		schema, iter, _, err := cs.engine.SQL.QueryWithBindings(sqlCtx, query, parsed, nil, qFlags)
		if err != nil {
			return err
		}
		send := func(r *sqltypes.Result) error {
			fixCharsets(r.Fields)
			fixFloats(r)
			return cb(r, more)
		}
		return spoolRows(sqlCtx, c, schema, iter, schemaFields(sqlCtx, schema), true, send)
	})
}

// asStatement runs run as go-mysql-server's handler runs a statement: in
// the process list (where KILL finds it), inside a session command, with
// run's error cast to a MySQL error.
func asStatement(sqlCtx *sql.Context, query string, run func(*sql.Context) error) error {
	sqlCtx, err := sqlCtx.ProcessList.BeginQuery(sqlCtx, query)
	if err != nil {
		return err
	}
	defer sqlCtx.ProcessList.EndQuery(sqlCtx)
	if err := sql.SessionCommandBegin(sqlCtx.Session); err != nil {
		return err
	}
	defer sql.SessionCommandEnd(sqlCtx.Session)
	if err := run(sqlCtx); err != nil {
		return sql.CastSQLError(err)
	}
	return nil
}

// spoolRows reads iter's rows, converts them to the wire's text values and
// hands them to spool in batches of rowsBatch, the last (possibly empty)
// after iter is closed and the connection's status flags are set. text:
// spool writes each batch to the connection before it returns, so the
// bytes of the values it was given may be reused.
func spoolRows(sqlCtx *sql.Context, c *mysql.Conn, schema sql.Schema, iter sql.RowIter, fields []*querypb.Field, text bool, spool func(*sqltypes.Result) error) (err error) {
	iter, projs := gmsserver.GetDeferredProjections(iter)
	buf := sql.ByteBufPool.Get().(*sql.ByteBuffer)
	defer func() {
		buf.Reset()
		sql.ByteBufPool.Put(buf)
	}()
	// In text mode a batch is written before spool returns, so its rows'
	// values are converted into one slab reused by every batch; otherwise
	// each row gets values of its own.
	var slab []sqltypes.Value
	var rows [][]sqltypes.Value
	if text {
		slab = make([]sqltypes.Value, rowsBatch*len(schema))
		rows = make([][]sqltypes.Value, 0, rowsBatch)
	}
	r := &sqltypes.Result{Fields: fields, Rows: rows}
	sent := false
	for {
		row, err := iter.Next(sqlCtx)
		if err == io.EOF {
			break
		}
		if err == nil {
			switch {
			case types.IsOkResult(row):
				// A statement's OK packet in place of rows.
				if len(r.Rows) > 0 {
					err = errors.New("a result mixes rows and an OK result")
					break
				}
				ok := row[0].(types.OkResult)
				r = &sqltypes.Result{RowsAffected: ok.RowsAffected, InsertID: ok.InsertID}
				if ok.Info != nil {
					r.Info = ok.Info.String()
				}
			default:
				var out []sqltypes.Value
				if text {
					n := len(r.Rows) * len(schema)
					out = slab[n : n+len(schema) : n+len(schema)]
				} else {
					out = make([]sqltypes.Value, len(schema))
				}
				if err = rowValues(sqlCtx, schema, row, projs, buf, out); err != nil {
					break
				}
				r.Rows = append(r.Rows, out)
				r.RowsAffected++
				if r.RowsAffected < rowsBatch {
					break
				}
				if err = spool(r); err != nil {
					break
				}
				r, sent = &sqltypes.Result{Fields: fields, Rows: rows}, true
				if text {
					clear(slab) // let the sent rows' bytes go
					buf.Reset()
				}
				// A cancelled statement (KILL QUERY, a client gone)
				// stops at the next batch.
				err = sqlCtx.Err()
			}
		}
		if err != nil {
			iter.Close(sqlCtx)
			return err
		}
	}
	if err := iter.Close(sqlCtx); err != nil {
		return err
	}
	if err := setStatusFlags(sqlCtx, c); err != nil {
		return err
	}
	if sent && r.RowsAffected == 0 {
		return nil
	}
	return spool(r)
}

// rowValues converts row, a row of schema (or, with projs, the row the
// deferred projections are evaluated on), into out, one value a column, as
// go-mysql-server's RowToSQL does, writing the values' bytes into buf.
func rowValues(ctx *sql.Context, schema sql.Schema, row sql.Row, projs []sql.Expression, buf *sql.ByteBuffer, out []sqltypes.Value) error {
	for i, col := range schema {
		var v any
		if len(projs) > 0 {
			var err error
			if v, err = projs[i].Eval(ctx, row); err != nil {
				return err
			}
		} else {
			v = row[i]
		}
		if v == nil {
			out[i] = sqltypes.NULL
			continue
		}
		val, err := col.Type.SQL(ctx, buf.Get(), v)
		if err != nil {
			return err
		}
		buf.Grow(val.Len())
		out[i] = val
	}
	return nil
}

// schemaFields is the column definitions of a result of schema, as
// go-mysql-server's handler sends them (its schemaToFields is not
// exported): the character set of the column's collation, or binary, or
// the session's character_set_results; the NOT NULL, AUTO_INCREMENT,
// PRIMARY KEY and UNSIGNED flags; decimals for DECIMAL and temporal types.
func schemaFields(ctx *sql.Context, schema sql.Schema) []*querypb.Field {
	results := ctx.GetCharacterSetResults()
	fields := make([]*querypb.Field, len(schema))
	for i, col := range schema {
		charset := uint32(sql.Collation_Default.CharacterSet())
		if t, ok := col.Type.(sql.TypeWithCollation); ok {
			charset = uint32(t.Collation().CharacterSet())
		}
		switch {
		case types.IsBinaryType(col.Type):
			charset = uint32(sql.Collation_binary)
		case results != sql.CharacterSet_Unspecified:
			charset = uint32(results)
		}
		var flags querypb.MySqlFlag
		if !col.Nullable {
			flags |= querypb.MySqlFlag_NOT_NULL_FLAG
		}
		if col.AutoIncrement {
			flags |= querypb.MySqlFlag_AUTO_INCREMENT_FLAG
		}
		if col.PrimaryKey {
			flags |= querypb.MySqlFlag_PRI_KEY_FLAG
		}
		if types.IsUnsigned(col.Type) {
			flags |= querypb.MySqlFlag_UNSIGNED_FLAG
		}
		f := &querypb.Field{
			Name:         col.Name,
			OrgName:      col.Name,
			Table:        col.Source,
			OrgTable:     col.Source,
			Database:     col.DatabaseSource,
			Type:         col.Type.Type(),
			Charset:      charset,
			ColumnLength: col.Type.MaxTextResponseByteLength(ctx),
			Flags:        uint32(flags),
		}
		if types.IsDecimal(col.Type) {
			f.Decimals = uint32(col.Type.(sql.DecimalType).Scale())
		} else if types.IsDatetimeType(col.Type) {
			f.Decimals = uint32(col.Type.(sql.DatetimeType).Precision())
		}
		fields[i] = f
	}
	return fields
}
