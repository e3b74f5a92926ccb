package server

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strconv"
	"strings"

	gmsserver "github.com/dolthub/go-mysql-server/server"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/mysql_db"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/vitess/go/mysql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/cairndb/cairn/storage/sqle"
)

// MySQL's refusals, as MySQL 8 words them. Where MySQL names "the user",
// it names the account's user and either the client's host (host_or_ip:
// "localhost" for a loopback or socket client, else its IP address; MySQL
// would print a resolved host name where it resolves names) or the account's
// host (priv_host, such as '%'), depending on the error.
const (
	// ER_TABLEACCESS_DENIED_ERROR: privilege, user, client host, table.
	msgTableDenied = "%s command denied to user '%s'@'%s' for table '%s'"
	// ER_DBACCESS_DENIED_ERROR: user, account host, database.
	msgDBDenied = "Access denied for user '%s'@'%s' to database '%s'"
	// ER_SPECIFIC_ACCESS_DENIED_ERROR: the privileges, any of which would do.
	msgNeedPrivilege = "Access denied; you need (at least one of) the %s privilege(s) for this operation"
	// ER_ACCESS_DENIED_ERROR: user, host, YES or NO.
	msgAccessDenied = "Access denied for user '%s'@'%s' (using password: %s)"
	// ER_PROCACCESS_DENIED_ERROR: privilege, user, client host, routine.
	msgRoutineDenied = "%s command denied to user '%s'@'%s' for routine '%s'"
)

// installMySQLErrors makes the server answer as MySQL 8 does where the
// engine's own answers differ: statements refused for lack of a privilege
// (authHandler), connections refused at login (authServer, installed with
// the protocol listener of scfg) and the errors of statements (conns, with
// MapErrorIn). Run calls it once, before the server is made.
func installMySQLErrors(e *sqle.Engine, cs *conns, scfg *gmsserver.Config) {
	cat := e.SQL.Analyzer.Catalog
	cat.AuthHandler = &authHandler{AuthorizationHandler: cat.AuthHandler, db: cat.MySQLDb, cs: cs,
		processes: e.SQL.ProcessList.Processes}
	scfg.ProtocolListenerFactory = func(cfg gmsserver.Config, lc mysql.ListenerConfig, sel gmsserver.ServerEventListener) (gmsserver.ProtocolListener, error) {
		lc.AuthServer = &authServer{AuthServer: lc.AuthServer, db: cat.MySQLDb, cs: cs}
		return gmsserver.MySQLProtocolListenerFactory(cfg, lc, sel)
	}
	cs.engine = e
}

// hostOrIP is the host MySQL names a client by: "localhost" for a socket
// or loopback client, else its IP address.
func hostOrIP(addr net.Addr) string {
	if addr == nil || addr.Network() == "unix" {
		return "localhost"
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		host = addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return "localhost"
	}
	return host
}

func yesNo(b bool) string {
	if b {
		return "YES"
	}
	return "NO"
}

// authServer wraps the engine's authentication so that a login MySQL
// refuses is refused with MySQL's 1045, naming user and host, and an
// unknown user (or one no account's host matches) gets the same answer as
// a wrong password: the engine found no authentication method for such a
// user and answered 2012 "No authentication methods available", which
// told a client which user names exist.
type authServer struct {
	mysql.AuthServer
	db *mysql_db.MySQLDb
	cs *conns
}

func (a *authServer) AuthMethods() []mysql.AuthMethod {
	ms := a.AuthServer.AuthMethods()
	out := make([]mysql.AuthMethod, len(ms))
	for i, m := range ms {
		out[i] = &authMethod{AuthMethod: m, a: a}
	}
	return out
}

// hasAccount reports whether an account matches user connecting from addr.
func (a *authServer) hasAccount(user string, addr net.Addr) bool {
	if a.db == nil || !a.db.Enabled() {
		return true
	}
	host := "localhost"
	if addr != nil && addr.Network() != "unix" {
		h, _, err := net.SplitHostPort(addr.String())
		if err != nil {
			h = addr.String()
		}
		host = h
	}
	rd := a.db.Reader()
	defer rd.Close()
	return a.db.GetUser(rd, user, host, false) != nil
}

type authMethod struct {
	mysql.AuthMethod
	a *authServer
}

// HandleUser lets mysql_native_password take a user without an account:
// it then refuses the password, as for a known user.
func (m *authMethod) HandleUser(c *mysql.Conn, user string) bool {
	if m.AuthMethod.HandleUser(c, user) {
		return true
	}
	return m.Name() == mysql.MysqlNativePassword && !m.a.hasAccount(user, c.RemoteAddr())
}

func (m *authMethod) HandleAuthPluginData(c *mysql.Conn, user string, serverData, clientData []byte, addr net.Addr) (mysql.Getter, error) {
	g, err := m.AuthMethod.HandleAuthPluginData(c, user, serverData, clientData, addr)
	password := len(bytes.TrimRight(clientData, "\x00")) > 0
	if err != nil {
		var se *mysql.SQLError
		if errors.As(err, &se) && se.Num == mysql.ERAccessDeniedError {
			return nil, mysql.NewSQLError(mysql.ERAccessDeniedError, mysql.SSAccessDeniedError,
				msgAccessDenied, user, hostOrIP(addr), yesNo(password))
		}
		return nil, err
	}
	m.a.cs.setClient(c.ConnectionID, hostOrIP(addr), password)
	return g, nil
}

// authHandler wraps go-mysql-server's authorization handler, which refuses
// a statement with "command denied to user 'bob'@'%'" (1105) or an access
// denied error naming the database, and answers as MySQL does instead:
// 1142 naming the privilege and the table, 1044 naming the database, 1227
// naming a global privilege, 1370 naming a routine. It decides nothing
// itself, it only rewords the refusals, with one exception: as in MySQL, a
// user may KILL its own connections' statements.
type authHandler struct {
	sql.AuthorizationHandler
	db *mysql_db.MySQLDb
	cs *conns
	// processes lists the running connections (for KILL).
	processes func() []sql.Process
}

var _ sql.AuthorizationHandler = (*authHandler)(nil)

func isDenial(err error) bool {
	return sql.ErrPrivilegeCheckFailed.Is(err) || sql.ErrDatabaseAccessDeniedForUser.Is(err) ||
		sql.ErrTableAccessDeniedForUser.Is(err)
}

func (h *authHandler) HandleAuth(ctx *sql.Context, state sql.AuthorizationQueryState, auth ast.AuthInformation) error {
	err := h.AuthorizationHandler.HandleAuth(ctx, state, auth)
	if err == nil || !isDenial(err) {
		return err
	}
	return h.denied(ctx, auth, err)
}

func (h *authHandler) CheckDatabase(ctx *sql.Context, state sql.AuthorizationQueryState, db string) error {
	err := h.AuthorizationHandler.CheckDatabase(ctx, state, db)
	if err == nil || !isDenial(err) {
		return err
	}
	return h.dbDenied(ctx, h.dbName(ctx, db))
}

func (h *authHandler) CheckSchema(ctx *sql.Context, state sql.AuthorizationQueryState, db, schema string) error {
	err := h.AuthorizationHandler.CheckSchema(ctx, state, db, schema)
	if err == nil || !isDenial(err) {
		return err
	}
	return h.dbDenied(ctx, h.dbName(ctx, db))
}

// CheckTable is asked when a statement reads a table's definition (SHOW,
// information_schema): MySQL names the privilege it wanted, here SELECT.
func (h *authHandler) CheckTable(ctx *sql.Context, state sql.AuthorizationQueryState, db, schema, table string) error {
	err := h.AuthorizationHandler.CheckTable(ctx, state, db, schema, table)
	if err == nil || !isDenial(err) || table == "" {
		return err
	}
	return h.tableDenied(ctx, "SELECT", table)
}

// denied is MySQL's error for a statement auth refused (err).
func (h *authHandler) denied(ctx *sql.Context, auth ast.AuthInformation, err error) error {
	privs := privilegesOf(auth.AuthType)
	names := auth.TargetNames
	switch auth.AuthType {
	case ast.AuthType_CALL:
		if len(names) >= 2 {
			return mysql.NewSQLError(erProcAccessDenied, mysql.SSClientError, msgRoutineDenied,
				"execute", h.user(ctx), h.clientHost(ctx), h.dbName(ctx, names[0])+"."+names[1])
		}
	case ast.AuthType_GRANT_PRIVILEGE, ast.AuthType_REVOKE_PRIVILEGE, ast.AuthType_REVOKE_ALL:
		if lvl, ok := privilegeLevel(auth.Extra); ok {
			return h.grantDenied(ctx, lvl)
		}
	case ast.AuthType_REPLICATION:
		return mysql.NewSQLError(mysql.ERSpecifiedAccessDenied, mysql.SSClientError, msgNeedPrivilege, "SUPER or REPLICATION_SLAVE_ADMIN")
	case ast.AuthType_ALTER_USER:
		return mysql.NewSQLError(mysql.ERSpecifiedAccessDenied, mysql.SSClientError, msgNeedPrivilege, "CREATE USER")
	case ast.AuthType_SUPER:
		if k, ok := parseStatement(ctx.Query()).(*ast.Kill); ok {
			return h.kill(ctx, k, err)
		}
	case ast.AuthType_GRANT_ROLE, ast.AuthType_REVOKE_ROLE:
		return mysql.NewSQLError(mysql.ERSpecifiedAccessDenied, mysql.SSClientError, msgNeedPrivilege, "WITH ADMIN, ROLE_ADMIN, SUPER")
	case ast.AuthType_CREATE_ROLE:
		return mysql.NewSQLError(mysql.ERSpecifiedAccessDenied, mysql.SSClientError, msgNeedPrivilege, "CREATE USER,CREATE ROLE")
	case ast.AuthType_DROP_ROLE:
		return mysql.NewSQLError(mysql.ERSpecifiedAccessDenied, mysql.SSClientError, msgNeedPrivilege, "CREATE USER,DROP ROLE")
	}
	switch auth.TargetType {
	case ast.AuthTargetType_SingleTableIdentifier, ast.AuthTargetType_TableColumn:
		if len(names) >= 2 {
			return h.tableDenied(ctx, h.lacking(ctx, privs, names[0], names[1]), names[1])
		}
	case ast.AuthTargetType_MultipleTableIdentifiers:
		// The first table the user lacks a privilege on.
		for i := 0; i+1 < len(names); i += 2 {
			if m := h.missing(ctx, privs, names[i], names[i+1]); m != "" {
				return h.tableDenied(ctx, m, names[i+1])
			}
		}
		if len(names) >= 2 {
			return h.tableDenied(ctx, privilegeNames(privs), names[1])
		}
	case ast.AuthTargetType_DatabaseIdentifiers:
		if table := statementTable(ctx.Query()); table != "" && len(names) == 1 {
			// CREATE TABLE, CREATE VIEW: MySQL checks the new table.
			return h.tableDenied(ctx, h.lacking(ctx, privs, names[0], table), table)
		}
		for _, db := range names {
			if !h.has(ctx, privs, db, "") {
				return h.dbDenied(ctx, h.dbName(ctx, db))
			}
		}
		if len(names) > 0 {
			return h.dbDenied(ctx, h.dbName(ctx, names[0]))
		}
	case ast.AuthTargetType_Global:
		if len(privs) == 0 {
			break
		}
		if allDatabaseLevel(privs) {
			// CREATE DATABASE and the like: MySQL checks them on the
			// database the statement names.
			db := ""
			if d, ok := parseStatement(ctx.Query()).(*ast.DBDDL); ok {
				db = d.DBName
			}
			return h.dbDenied(ctx, h.dbName(ctx, db))
		}
		if len(privs) == 1 && privs[0] == sql.PrivilegeType_File {
			return h.accessDenied(ctx)
		}
		return mysql.NewSQLError(mysql.ERSpecifiedAccessDenied, mysql.SSClientError, msgNeedPrivilege, privilegeNames(privs))
	}
	if len(privs) > 0 {
		return mysql.NewSQLError(mysql.ERSpecifiedAccessDenied, mysql.SSClientError, msgNeedPrivilege, privilegeNames(privs))
	}
	return err
}

// grantDenied is MySQL's refusal of a GRANT or REVOKE at level lvl: for
// all databases 1045 (MySQL's check of global privileges answers so), for
// a database 1044, for a table 1142.
func (h *authHandler) grantDenied(ctx *sql.Context, lvl plan.PrivilegeLevel) error {
	switch {
	case lvl.Database == "*":
		return h.accessDenied(ctx)
	case lvl.TableRoutine == "*":
		return h.dbDenied(ctx, h.dbName(ctx, lvl.Database))
	default:
		return h.tableDenied(ctx, "GRANT", lvl.TableRoutine)
	}
}

func privilegeLevel(extra any) (plan.PrivilegeLevel, bool) {
	switch n := extra.(type) {
	case *plan.Grant:
		return n.PrivilegeLevel, true
	case *plan.Revoke:
		return n.PrivilegeLevel, true
	}
	return plan.PrivilegeLevel{}, false
}

func (h *authHandler) tableDenied(ctx *sql.Context, privs, table string) error {
	return mysql.NewSQLError(erTableAccessDenied, mysql.SSClientError, msgTableDenied,
		privs, h.user(ctx), h.clientHost(ctx), table)
}

func (h *authHandler) dbDenied(ctx *sql.Context, db string) error {
	return mysql.NewSQLError(mysql.ERDBAccessDenied, mysql.SSClientError, msgDBDenied,
		h.user(ctx), ctx.Session.Client().Address, db)
}

// accessDenied is 1045 for a statement: user and account host.
func (h *authHandler) accessDenied(ctx *sql.Context) error {
	_, password := h.cs.client(ctx.Session.ID())
	return mysql.NewSQLError(mysql.ERAccessDeniedError, mysql.SSAccessDeniedError, msgAccessDenied,
		h.user(ctx), ctx.Session.Client().Address, yesNo(password))
}

func (h *authHandler) user(ctx *sql.Context) string { return ctx.Session.Client().User }

// clientHost is the connection's host as MySQL names it (host_or_ip), or
// the account's host for a session without a connection.
func (h *authHandler) clientHost(ctx *sql.Context) string {
	if host, _ := h.cs.client(ctx.Session.ID()); host != "" {
		return host
	}
	return ctx.Session.Client().Address
}

// dbName is db, or the current database when db is empty (the engine's
// auth checks name no database for unqualified tables).
func (h *authHandler) dbName(ctx *sql.Context, db string) string {
	if db == "" {
		db = ctx.GetCurrentDatabase()
	}
	if db == "" {
		db = "unknown" // as MySQL
	}
	return db
}

// has reports whether the user holds every privilege of privs on the
// table (on the database if table is empty).
func (h *authHandler) has(ctx *sql.Context, privs []sql.PrivilegeType, db, table string) bool {
	if h.db == nil {
		return false
	}
	subject := sql.PrivilegeCheckSubject{Database: h.dbName(ctx, db), Table: table}
	return h.db.UserHasPrivileges(ctx, sql.NewPrivilegedOperation(subject, privs...))
}

// missing names the privileges of privs the user lacks on the table, as
// MySQL lists them ("INSERT", "INSERT,DELETE"); "" if none.
func (h *authHandler) missing(ctx *sql.Context, privs []sql.PrivilegeType, db, table string) string {
	var lack []sql.PrivilegeType
	for _, p := range privs {
		if !h.has(ctx, []sql.PrivilegeType{p}, db, table) {
			lack = append(lack, p)
		}
	}
	if len(lack) == 0 && len(privs) > 0 && !h.has(ctx, privs, db, table) {
		lack = privs
	}
	return privilegeNames(lack)
}

// lacking is missing, or all of privs if the user seems to hold them
// (the engine refused for another reason).
func (h *authHandler) lacking(ctx *sql.Context, privs []sql.PrivilegeType, db, table string) string {
	if m := h.missing(ctx, privs, db, table); m != "" {
		return m
	}
	if len(privs) == 0 {
		return "SELECT"
	}
	return privilegeNames(privs)
}

func privilegeNames(privs []sql.PrivilegeType) string {
	names := make([]string, len(privs))
	for i, p := range privs {
		names[i] = p.String()
	}
	return strings.Join(names, ",")
}

// privilegesOf is what go-mysql-server's default handler checks for each
// kind of statement (planbuilder/auth_default.go).
func privilegesOf(t string) []sql.PrivilegeType {
	switch t {
	case ast.AuthType_ALTER:
		return []sql.PrivilegeType{sql.PrivilegeType_Alter}
	case ast.AuthType_ALTER_ROUTINE:
		return []sql.PrivilegeType{sql.PrivilegeType_AlterRoutine}
	case ast.AuthType_CREATE:
		return []sql.PrivilegeType{sql.PrivilegeType_Create}
	case ast.AuthType_CREATE_ROUTINE:
		return []sql.PrivilegeType{sql.PrivilegeType_CreateRoutine}
	case ast.AuthType_CREATE_TEMP:
		return []sql.PrivilegeType{sql.PrivilegeType_CreateTempTable}
	case ast.AuthType_CREATE_USER:
		return []sql.PrivilegeType{sql.PrivilegeType_CreateUser}
	case ast.AuthType_CREATE_VIEW:
		return []sql.PrivilegeType{sql.PrivilegeType_CreateView}
	case ast.AuthType_DELETE:
		return []sql.PrivilegeType{sql.PrivilegeType_Delete}
	case ast.AuthType_DROP:
		return []sql.PrivilegeType{sql.PrivilegeType_Drop}
	case ast.AuthType_EVENT:
		return []sql.PrivilegeType{sql.PrivilegeType_Event}
	case ast.AuthType_FILE:
		return []sql.PrivilegeType{sql.PrivilegeType_File}
	case ast.AuthType_FOREIGN_KEY:
		return []sql.PrivilegeType{sql.PrivilegeType_References}
	case ast.AuthType_INDEX:
		return []sql.PrivilegeType{sql.PrivilegeType_Index}
	case ast.AuthType_INSERT:
		return []sql.PrivilegeType{sql.PrivilegeType_Insert}
	case ast.AuthType_LOCK:
		return []sql.PrivilegeType{sql.PrivilegeType_Select, sql.PrivilegeType_LockTables}
	case ast.AuthType_PROCESS:
		return []sql.PrivilegeType{sql.PrivilegeType_Process}
	case ast.AuthType_RELOAD:
		return []sql.PrivilegeType{sql.PrivilegeType_Reload}
	case ast.AuthType_REPLACE:
		return []sql.PrivilegeType{sql.PrivilegeType_Insert, sql.PrivilegeType_Delete}
	case ast.AuthType_REPLICATION_CLIENT:
		return []sql.PrivilegeType{sql.PrivilegeType_ReplicationClient}
	case ast.AuthType_SELECT:
		return []sql.PrivilegeType{sql.PrivilegeType_Select}
	case ast.AuthType_SUPER:
		return []sql.PrivilegeType{sql.PrivilegeType_Super}
	case ast.AuthType_TRIGGER:
		return []sql.PrivilegeType{sql.PrivilegeType_Trigger}
	case ast.AuthType_UPDATE:
		return []sql.PrivilegeType{sql.PrivilegeType_Update}
	}
	return nil
}

// allDatabaseLevel reports whether every privilege of privs can be held on
// a database (MySQL's DB_ACLS), so MySQL refuses it with 1044.
func allDatabaseLevel(privs []sql.PrivilegeType) bool {
	for _, p := range privs {
		switch p {
		case sql.PrivilegeType_Select, sql.PrivilegeType_Insert, sql.PrivilegeType_Update, sql.PrivilegeType_Delete,
			sql.PrivilegeType_Create, sql.PrivilegeType_Drop, sql.PrivilegeType_GrantOption, sql.PrivilegeType_References,
			sql.PrivilegeType_Index, sql.PrivilegeType_Alter, sql.PrivilegeType_CreateTempTable, sql.PrivilegeType_LockTables,
			sql.PrivilegeType_Execute, sql.PrivilegeType_CreateView, sql.PrivilegeType_ShowView, sql.PrivilegeType_CreateRoutine,
			sql.PrivilegeType_AlterRoutine, sql.PrivilegeType_Event, sql.PrivilegeType_Trigger:
		default:
			return false
		}
	}
	return true
}

// parseStatement is the (first) statement of query, or nil. The auth
// information the engine checks names no database for CREATE DATABASE nor
// a table for CREATE TABLE; the statement does.
func parseStatement(query string) ast.Statement {
	stmt, _, err := ast.ParseOne(context.Background(), query)
	if err != nil {
		return nil
	}
	return stmt
}

// statementTable is the table a CREATE TABLE or CREATE VIEW statement
// makes ("" for other statements).
func statementTable(query string) string {
	d, ok := parseStatement(query).(*ast.DDL)
	if !ok || d.Action != ast.CreateStr {
		return ""
	}
	switch {
	case d.ViewSpec != nil:
		return d.ViewSpec.ViewName.Name.String()
	case d.TriggerSpec != nil || d.ProcedureSpec != nil:
		return ""
	}
	return d.Table.Name.String()
}

// kill answers KILL as MySQL does for a user without the privilege to
// kill any thread: a thread of the same user may be killed (the engine
// refused it), another user's is refused with 1095, an unknown one with
// 1094.
func (h *authHandler) kill(ctx *sql.Context, k *ast.Kill, err error) error {
	v, ok := k.ConnID.(*ast.SQLVal)
	if !ok || v.Type != ast.IntVal || h.processes == nil {
		return err
	}
	id, perr := strconv.ParseUint(string(v.Val), 10, 32)
	if perr != nil {
		return err
	}
	for _, p := range h.processes() {
		if uint64(p.Connection) != id {
			continue
		}
		if p.User == h.user(ctx) {
			return nil
		}
		return mysql.NewSQLError(mysql.ERKillDenied, mysql.SSUnknownSQLState, "You are not owner of thread %d", id)
	}
	return mysql.NewSQLError(mysql.ERNoSuchThread, mysql.SSUnknownSQLState, "Unknown thread id: %d", id)
}
