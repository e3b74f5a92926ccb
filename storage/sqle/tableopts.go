package sqle

import (
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/mysql_db"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
)

// createTableComment gives CREATE TABLE's table COMMENT to the database
// that makes the table. The engine passes it only to
// sql.TableCreator.CreateTable; a table whose primary key is a clause of
// its own (`PRIMARY KEY (id)`, as every dump writes it) is made through
// sql.IndexedTableCreator.CreateIndexedTable, and a temporary table through
// sql.TemporaryTableCreator.CreateTemporaryTable, neither of which has a
// comment, so the comment was lost. The statement's database is replaced by
// one that makes its table with the comment.
func createTableComment(ctx *sql.Context, a *analyzer.Analyzer, n sql.Node, scope *plan.Scope, sel analyzer.RuleSelector, qFlags *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
	return transform.Node(n, func(n sql.Node) (sql.Node, transform.TreeIdentity, error) {
		ct, ok := n.(*plan.CreateTable)
		if !ok {
			return n, transform.SameTree, nil
		}
		comment, _ := ct.TableOpts["comment"].(string)
		if comment == "" {
			return n, transform.SameTree, nil
		}
		db := ct.Db
		if p, ok := db.(mysql_db.PrivilegedDatabase); ok {
			db = p.Unwrap()
		}
		cdb, ok := db.(*Database)
		if !ok {
			return n, transform.SameTree, nil
		}
		nn, err := ct.WithDatabase(&commentedCreate{Database: cdb, comment: comment})
		if err != nil {
			return nil, transform.SameTree, err
		}
		return nn, transform.NewTree, nil
	})
}

// commentedCreate is a database for one CREATE TABLE statement: it makes
// the table with the statement's comment however the engine asks.
type commentedCreate struct {
	*Database
	comment string
}

// CreateIndexedTable implements sql.IndexedTableCreator.
func (d *commentedCreate) CreateIndexedTable(ctx *sql.Context, name string, sch sql.PrimaryKeySchema, idx sql.IndexDef, collation sql.CollationID) error {
	return d.createTable(ctx, name, sch, &idx, collation, d.comment)
}

// CreateTemporaryTable implements sql.TemporaryTableCreator.
func (d *commentedCreate) CreateTemporaryTable(ctx *sql.Context, name string, sch sql.PrimaryKeySchema, collation sql.CollationID) error {
	return d.createTemporaryTable(ctx, name, sch, collation, d.comment)
}
