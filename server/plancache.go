package server

import (
	"context"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
	"github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/cairndb/cairn/storage/sqle"
)

// The prepared-plan cache (docs/plan-cache.md): a connection keeps, for
// each prepared statement of a shape sqle.PlanTemplate handles (SELECT,
// UPDATE, DELETE), the plan analyzed at its first execution, and runs later executions from it with
// their bindings put in, skipping go-mysql-server's binding and analysis.
// Anything the template declines runs the normal way.

// stmtPlan is what a connection knows of one prepared statement.
type stmtPlan struct {
	query string
	stmt  sqlparser.Statement // its parsed text, once TemplateStatement accepted it
	tmpl  *sqle.PlanTemplate
	off   bool // not of a shape the cache handles: always the normal way
	fails int  // plans built that gave no template
	// fields is the result's column definitions of a SELECT template,
	// taken from the execution that made it; runSelect sends them.
	fields []*querypb.Field
}

// maxTemplateFails is how many executions of a statement may build a plan
// without getting a template before the cache gives up on the statement.
// An execution whose ranges overlap gets a plan with them joined, from
// which no template can be made; sysbench's select_random_ranges at 4
// threads draws overlapping ranges in about 3 executions of 4, and with 3
// tries half its connections never got a template.
const maxTemplateFails = 16

// maxStmtPlans bounds a connection's entries; past it, those of statements
// the client has closed are dropped.
const maxStmtPlans = 64

// executeTemplated runs the execution p of a prepared statement from its
// plan template, making the template at the first execution. It reports
// false, having done nothing the client sees, when the statement is to run
// the normal way.
func (cs *conns) executeTemplated(ctx context.Context, c *mysql.Conn, p *mysql.PrepareData, spool func(*sqltypes.Result) error) (bool, error) {
	if cs.engine == nil || cs.sm == nil || !cs.planCache {
		return false, nil
	}
	ext, ok := cs.Handler.(mysql.ExtendedHandler)
	if !ok {
		return false, nil
	}
	sp := cs.stmtPlan(c, p)
	if sp == nil || sp.off {
		return false, nil
	}
	query := p.PrepareStmt
	sqlCtx, err := cs.sm.NewContextWithQuery(ctx, c, query)
	if err != nil {
		return false, nil
	}
	if sp.stmt == nil {
		// The engine keys the statement by its text without surrounding
		// spaces and final semicolon, as PrepareQuery stored it.
		stmt, ok := cs.engine.SQL.PreparedDataCache.GetCachedStmt(sqlCtx.Session.ID(), sql.RemoveSpaceAndDelimiter(query, ';'))
		if !ok || !sqle.TemplateStatement(stmt) {
			sp.off = true
			return false, nil
		}
		sp.stmt = stmt
	}
	callback := func(r *sqltypes.Result, _ bool) error { return spool(r) }
	if sp.tmpl != nil {
		node, err := sp.tmpl.Bind(sqlCtx, p.BindVars)
		if err == nil {
			countStatement(sqlCtx, node, false)
			if sp.fields != nil {
				return true, cs.runSelect(ctx, c, query, node, sp.fields, spool)
			}
			return true, ext.ComExecuteBound(ctx, c, query, node, callback)
		}
		if !sqle.IsStale(err) {
			return false, nil
		}
		sp.tmpl, sp.fields = nil, nil
	}
	bound, _, err := ext.ComBind(ctx, c, query, sp.stmt, p)
	if err != nil {
		// The normal way reports it, as it would have.
		return false, nil
	}
	node, ok := bound.(sql.Node)
	if !ok {
		return false, nil
	}
	if sp.tmpl = cs.engine.NewPlanTemplate(sqlCtx, node, p.BindVars); sp.tmpl == nil {
		if sp.fails++; sp.fails >= maxTemplateFails {
			sp.off = true
		}
	}
	countStatement(sqlCtx, node, true)
	if sp.tmpl != nil && plan.NodeRepresentsSelect(node) {
		callback = func(r *sqltypes.Result, _ bool) error {
			if sp.fields == nil && len(r.Fields) > 0 {
				sp.fields = r.Fields
			}
			return spool(r)
		}
	}
	return true, ext.ComExecuteBound(ctx, c, query, node, callback)
}

// rowsBatch is how many rows runSelect hands the protocol layer at a time,
// as go-mysql-server's handler does.
const rowsBatch = 128

// runSelect runs a bound SELECT from its template as go-mysql-server's
// handler runs a bound plan (ComExecuteBound), but reads its rows on the
// connection's goroutine. The handler's general path starts four goroutines
// a statement and passes each row through a channel with a timer; for a
// point select that was a fifth of the server's CPU at 4 connections
// (goroutine starts, their stacks growing, the channel's locks), and the
// handler's one-row shortcut needs query flags a bound plan does not get.
// fields are the columns the template's first execution sent.
func (cs *conns) runSelect(ctx context.Context, c *mysql.Conn, query string, node sql.Node, fields []*querypb.Field, spool func(*sqltypes.Result) error) error {
	sqlCtx, err := cs.sm.NewContextWithQuery(ctx, c, query)
	if err != nil {
		return err
	}
	return asStatement(sqlCtx, query, func(sqlCtx *sql.Context) error {
		schema, iter, _, err := cs.engine.SQL.PrepQueryPlanForExecution(sqlCtx, query, node, nil)
		if err != nil {
			return err
		}
		return spoolRows(sqlCtx, c, schema, iter, fields, false, spool)
	})
}

// setStatusFlags sets the autocommit and in-transaction flags of the
// connection's next OK or EOF packet from the session, as go-mysql-server's
// handler does after each statement.
func setStatusFlags(ctx *sql.Context, c *mysql.Conn) error {
	v, err := ctx.GetSessionVariable(ctx, sql.AutoCommitSessionVar)
	if err != nil {
		return err
	}
	autocommit, err := sql.ConvertToBool(ctx, v)
	if err != nil {
		return err
	}
	if autocommit {
		c.StatusFlags |= uint16(mysql.ServerStatusAutocommit)
	} else {
		c.StatusFlags &^= uint16(mysql.ServerStatusAutocommit)
	}
	if ctx.GetTransaction() != nil {
		c.StatusFlags |= uint16(mysql.ServerInTransaction)
	} else {
		c.StatusFlags &^= uint16(mysql.ServerInTransaction)
	}
	return nil
}

// countStatement counts the statement in the status variables the normal
// way counts it in: go-mysql-server's QueryWithBindings, and its binding of
// an UPDATE or DELETE (bound: it was just bound, which counted it).
func countStatement(ctx *sql.Context, node sql.Node, bound bool) {
	sql.IncrementStatusVariable(ctx, "Questions", 1)
	switch node.(type) {
	case *plan.Update:
		if !bound {
			sql.IncrementStatusVariable(ctx, "Com_update", 1)
		}
	case *plan.DeleteFrom:
		if !bound {
			sql.IncrementStatusVariable(ctx, "Com_delete", 1)
		}
	case *plan.InsertInto:
		if !bound {
			sql.IncrementStatusVariable(ctx, "Com_insert", 1)
		}
	default:
		if plan.NodeRepresentsSelect(node) {
			sql.IncrementStatusVariable(ctx, "Com_select", 1)
		}
	}
}

// stmtPlan returns the entry of the prepared statement p on c, making it.
func (cs *conns) stmtPlan(c *mysql.Conn, p *mysql.PrepareData) *stmtPlan {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	st := cs.open[c.ConnectionID]
	if st == nil {
		return nil
	}
	if sp := st.plans[p.StatementID]; sp != nil && sp.query == p.PrepareStmt {
		return sp
	}
	if st.plans == nil {
		st.plans = map[uint32]*stmtPlan{}
	}
	if len(st.plans) >= maxStmtPlans {
		for id := range st.plans {
			if _, open := c.PrepareData[id]; !open {
				delete(st.plans, id)
			}
		}
		if len(st.plans) >= maxStmtPlans {
			return nil
		}
	}
	sp := &stmtPlan{query: p.PrepareStmt}
	st.plans[p.StatementID] = sp
	return sp
}
