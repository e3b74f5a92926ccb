package server

import (
	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
	"regexp"
	"strings"
)

// The mysql database of go-mysql-server holds the grant tables only, a
// fixed set that cannot be dropped, created or extended, and that
// information_schema does not list. mariadb-dump --all-databases dumps it
// like any other database, and always asks for the structure of the log
// tables general_log and slow_log; its output, when loaded, drops and
// creates the grant tables and inserts their rows. mysqlDBShim answers those
// statements, on the mysql database only, so that such a dump is made and
// loads:
//
//   - SHOW CREATE TABLE general_log / slow_log as MySQL 8 prints them (they
//     are empty: cairn logs to its own log), and the engine and table type
//     mariadb-dump reads from information_schema.tables before it dumps a
//     table;
//   - DROP TABLE IF EXISTS, CREATE TABLE [IF NOT EXISTS] and ALTER TABLE
//     … DISABLE/ENABLE KEYS of a grant or log table succeed and do nothing;
//   - so does INSERT INTO `grant_table` VALUES … (rows as mariadb-dump
//     writes them: an INSERT with a column list still runs).
//
// So a dump carries the structure of the mysql tables but no users or
// grants (information_schema lists no columns for them, and mariadb-dump
// dumps no rows then), and loading a dump leaves the server's users and
// grants as they are, also a dump of MySQL whose mysql.user rows have other
// columns. Users and grants live in DATA_DIR/.cairn/users.db; restoring the
// engine's grant rows by INSERT fails in go-mysql-server v0.20.0 anyway (a
// db row before its user row is refused, and REPLACE panics).
//
// It returns the result to send instead of running query, or nil.
func mysqlDBShim(query string) *sqltypes.Result {
	stmt := strings.TrimSpace(stripVersionComment(strings.TrimSpace(query)))
	stmt = strings.TrimSpace(strings.TrimSuffix(stmt, ";"))
	if m := showCreateLog.FindStringSubmatch(stmt); m != nil {
		name := strings.ToLower(m[1])
		return &sqltypes.Result{
			Fields: []*querypb.Field{textField("Table"), textField("Create Table")},
			Rows:   [][]sqltypes.Value{{sqltypes.NewVarChar(name), sqltypes.NewVarChar(logTables[name])}},
		}
	}
	if m := tableType.FindStringSubmatch(stmt); m != nil && isSystemTable(m[1]) {
		engine := "InnoDB"
		if _, ok := logTables[strings.ToLower(m[1])]; ok {
			engine = "CSV"
		}
		return &sqltypes.Result{
			Fields: []*querypb.Field{textField("engine"), textField("table_type")},
			Rows:   [][]sqltypes.Value{{sqltypes.NewVarChar(engine), sqltypes.NewVarChar("BASE TABLE")}},
		}
	}
	for _, re := range []*regexp.Regexp{dropTable, createTable, keysTable} {
		if m := re.FindStringSubmatch(stmt); m != nil && isSystemTable(m[1]) {
			return &sqltypes.Result{}
		}
	}
	if m := insertInto.FindStringSubmatch(stmt); m != nil && grantTables[strings.ToLower(unquote(m[1]))] {
		return &sqltypes.Result{}
	}
	return nil
}

const ident = "(`(?:[^`]|``)+`|[A-Za-z0-9_$]+)"

var (
	showCreateLog = regexp.MustCompile("(?i)^SHOW\\s+CREATE\\s+TABLE\\s+(?:`mysql`\\.|mysql\\.)?`?(general_log|slow_log)`?$")
	tableType     = regexp.MustCompile("(?i)^SELECT\\s+engine\\s*,\\s*table_type\\s+FROM\\s+INFORMATION_SCHEMA\\.TABLES\\s+WHERE\\s+table_schema\\s*=\\s*DATABASE\\(\\)\\s+AND\\s+table_name\\s*=\\s*'([a-z_]+)'$")
	dropTable     = regexp.MustCompile("(?is)^DROP\\s+TABLE\\s+IF\\s+EXISTS\\s+" + ident + "$")
	createTable   = regexp.MustCompile("(?is)^CREATE\\s+TABLE\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?" + ident + "\\s*\\(")
	keysTable     = regexp.MustCompile("(?is)^ALTER\\s+TABLE\\s+" + ident + "\\s+(?:DISABLE|ENABLE)\\s+KEYS$")
	// As mariadb-dump writes rows: a quoted name and no column list.
	insertInto = regexp.MustCompile("(?is)^INSERT\\s+INTO\\s+(`(?:[^`]|``)+`)\\s+VALUES\\b")
)

// grantTables are go-mysql-server's mysql tables.
var grantTables = map[string]bool{
	"user": true, "db": true, "tables_priv": true, "procs_priv": true, "role_edges": true,
	"slave_master_info": true, "help_topic": true, "help_keyword": true, "help_category": true,
	"help_relation": true,
}

// logTables are MySQL 8's log tables, as SHOW CREATE TABLE prints them.
var logTables = map[string]string{
	"general_log": "CREATE TABLE `general_log` (\n" +
		"  `event_time` timestamp(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),\n" +
		"  `user_host` mediumtext NOT NULL,\n" +
		"  `thread_id` bigint unsigned NOT NULL,\n" +
		"  `server_id` int unsigned NOT NULL,\n" +
		"  `command_type` varchar(64) NOT NULL,\n" +
		"  `argument` mediumblob NOT NULL\n" +
		") ENGINE=CSV DEFAULT CHARSET=utf8mb3 COMMENT='General log'",
	"slow_log": "CREATE TABLE `slow_log` (\n" +
		"  `start_time` timestamp(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),\n" +
		"  `user_host` mediumtext NOT NULL,\n" +
		"  `query_time` time(6) NOT NULL,\n" +
		"  `lock_time` time(6) NOT NULL,\n" +
		"  `rows_sent` int NOT NULL,\n" +
		"  `rows_examined` int NOT NULL,\n" +
		"  `db` varchar(512) NOT NULL,\n" +
		"  `last_insert_id` int NOT NULL,\n" +
		"  `insert_id` int NOT NULL,\n" +
		"  `server_id` int unsigned NOT NULL,\n" +
		"  `sql_text` mediumblob NOT NULL,\n" +
		"  `thread_id` bigint unsigned NOT NULL\n" +
		") ENGINE=CSV DEFAULT CHARSET=utf8mb3 COMMENT='Slow log'",
}

func isSystemTable(quoted string) bool {
	name := strings.ToLower(unquote(quoted))
	_, log := logTables[name]
	return log || grantTables[name]
}

func unquote(name string) string {
	if strings.HasPrefix(name, "`") && strings.HasSuffix(name, "`") && len(name) >= 2 {
		return strings.ReplaceAll(name[1:len(name)-1], "``", "`")
	}
	return name
}

// stripVersionComment returns the statement inside a /*!NNNNN … */
// wrapper (mariadb-dump writes /*!40000 ALTER TABLE … DISABLE KEYS */).
func stripVersionComment(s string) string {
	if !strings.HasPrefix(s, "/*!") || !strings.HasSuffix(s, "*/") {
		return s
	}
	s = strings.TrimSuffix(s[3:], "*/")
	return strings.TrimLeft(s, "0123456789")
}

func textField(name string) *querypb.Field {
	return &querypb.Field{Name: name, Type: querypb.Type_VARCHAR, Charset: uint32(mysql.CharacterSetUtf8), ColumnLength: 1024}
}
