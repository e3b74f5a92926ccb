package sqle

import (
	"fmt"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// Version-control system tables (Dolt's dolt_* tables): read-only, made from
// the refs and commits of the database. They are not listed by SHOW TABLES,
// and a user table may not take a dolt_ name.

// systemTablePrefix starts the names reserved for system tables.
const systemTablePrefix = "dolt_"

// isSystemTableName reports whether name is reserved for system tables.
func isSystemTableName(name string) bool {
	return len(name) >= len(systemTablePrefix) && strings.EqualFold(name[:len(systemTablePrefix)], systemTablePrefix)
}

// errReservedTableName is Dolt's error for a user table with a dolt_ name.
func errReservedTableName(name string) error {
	return fmt.Errorf("Invalid table name %s. Table names beginning with `dolt_` are reserved for internal use", name)
}

// branchesTable is dolt_branches: one row per branch.
func branchesTable(db *Database) *systemTable {
	const src = "dolt_branches"
	return &systemTable{
		name: src,
		db:   db.Name(),
		sch: sql.Schema{
			{Name: "name", Type: types.Text, PrimaryKey: true, Source: src},
			{Name: "hash", Type: types.Text, Source: src},
			{Name: "latest_committer", Type: types.Text, Nullable: true, Source: src},
			{Name: "latest_committer_email", Type: types.Text, Nullable: true, Source: src},
			{Name: "latest_commit_date", Type: types.Datetime, Nullable: true, Source: src},
			{Name: "latest_commit_message", Type: types.Text, Nullable: true, Source: src},
			{Name: "remote", Type: types.Text, Nullable: true, Source: src},
			{Name: "branch", Type: types.Text, Nullable: true, Source: src},
			{Name: "dirty", Type: types.Boolean, Nullable: true, Source: src},
		},
		rows: func(ctx *sql.Context) ([]sql.Row, error) {
			r := db.st.repo
			branches, err := r.Branches(ctx)
			if err != nil {
				return nil, err
			}
			rows := make([]sql.Row, 0, len(branches))
			for _, b := range branches {
				c, err := r.ReadCommit(ctx, b.Head)
				if err != nil {
					return nil, err
				}
				ws, _, err := r.WorkingSet(ctx, b.Name)
				if err != nil {
					return nil, err
				}
				dirty := ws.Working != ws.Staged || ws.Staged != c.Root
				rows = append(rows, sql.Row{b.Name, b.Head.String(), c.Committer.Name, c.Committer.Email,
					c.Committer.Time.UTC(), c.Message, "", "", dirty})
			}
			return rows, nil
		},
	}
}
