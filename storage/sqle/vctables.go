package sqle

import (
	"fmt"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/repo"
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
		sch: append(branchColumns(src),
			&sql.Column{Name: "remote", Type: types.Text, Nullable: true, Source: src},
			&sql.Column{Name: "branch", Type: types.Text, Nullable: true, Source: src},
			&sql.Column{Name: "dirty", Type: types.Boolean, Nullable: true, Source: src},
		),
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
				rows = append(rows, append(branchCells(b.Name, b.Head, c), "", "", dirty))
			}
			return rows, nil
		},
	}
}

// branchColumns are the columns dolt_branches and dolt_remote_branches
// share: a branch, its head and that commit's committer and message.
func branchColumns(src string) sql.Schema {
	return sql.Schema{
		{Name: "name", Type: types.Text, PrimaryKey: true, Source: src},
		{Name: "hash", Type: types.Text, Source: src},
		{Name: "latest_committer", Type: types.Text, Nullable: true, Source: src},
		{Name: "latest_committer_email", Type: types.Text, Nullable: true, Source: src},
		{Name: "latest_commit_date", Type: types.Datetime, Nullable: true, Source: src},
		{Name: "latest_commit_message", Type: types.Text, Nullable: true, Source: src},
	}
}

// branchCells are the values of branchColumns of branch name at commit c.
func branchCells(name string, head chunk.Hash, c *repo.Commit) sql.Row {
	return sql.Row{name, head.String(), c.Committer.Name, c.Committer.Email, c.Committer.Time.UTC(), c.Message}
}

// logTable is dolt_log: the commits reachable from the head of the
// database's branch (or revision), newest first.
func logTable(db *Database) *systemTable {
	const src = "dolt_log"
	return &systemTable{
		name: src,
		db:   db.Name(),
		sch: sql.Schema{
			{Name: "commit_hash", Type: types.Text, PrimaryKey: true, Source: src},
			{Name: "committer", Type: types.Text, Source: src},
			{Name: "email", Type: types.Text, Source: src},
			{Name: "date", Type: types.Datetime, Source: src},
			{Name: "message", Type: types.Text, Source: src},
			{Name: "commit_order", Type: types.Uint64, Source: src},
		},
		rows: func(ctx *sql.Context) ([]sql.Row, error) {
			vc, err := db.prov.OpenVC(ctx, db.Name())
			if err != nil {
				return nil, err
			}
			head, err := vc.Head(ctx)
			if err != nil {
				return nil, err
			}
			var rows []sql.Row
			err = db.st.repo.Log(ctx, head, func(h chunk.Hash, c *repo.Commit) error {
				rows = append(rows, sql.Row{h.String(), c.Committer.Name, c.Committer.Email, c.Committer.Time.UTC(), c.Message, c.Height})
				return nil
			})
			return rows, err
		},
	}
}

// tagsTable is dolt_tags.
func tagsTable(db *Database) *systemTable {
	const src = "dolt_tags"
	return &systemTable{
		name: src,
		db:   db.Name(),
		sch: sql.Schema{
			{Name: "tag_name", Type: types.Text, PrimaryKey: true, Source: src},
			{Name: "tag_hash", Type: types.Text, PrimaryKey: true, Source: src},
			{Name: "tagger", Type: types.Text, Source: src},
			{Name: "email", Type: types.Text, Source: src},
			{Name: "date", Type: types.Datetime, Source: src},
			{Name: "message", Type: types.Text, Source: src},
		},
		rows: func(ctx *sql.Context) ([]sql.Row, error) {
			tags, err := db.st.repo.Tags(ctx)
			if err != nil {
				return nil, err
			}
			rows := make([]sql.Row, 0, len(tags))
			for _, t := range tags {
				rows = append(rows, sql.Row{t.Name, t.Commit.String(), t.Tagger.Name, t.Tagger.Email, t.Tagger.Time.UTC(), t.Message})
			}
			return rows, nil
		},
	}
}

// statusTable is dolt_status: the tables whose staged version differs from
// the head's (staged) and whose working version differs from the staged
// one (not staged), with schema objects under dolt_schemas and
// dolt_procedures.
func statusTable(db *Database) *systemTable {
	const src = "dolt_status"
	return &systemTable{
		name: src,
		db:   db.Name(),
		sch: sql.Schema{
			{Name: "table_name", Type: types.Text, PrimaryKey: true, Source: src},
			{Name: "staged", Type: types.Boolean, PrimaryKey: true, Source: src},
			{Name: "status", Type: types.Text, PrimaryKey: true, Source: src},
		},
		rows: func(ctx *sql.Context) ([]sql.Row, error) {
			vc, err := db.prov.OpenVC(ctx, db.Name())
			if err != nil {
				return nil, err
			}
			if vc.ReadOnly() {
				return nil, nil
			}
			// The working root as this session sees it: its own
			// uncommitted changes count.
			_, d, err := db.tx(ctx)
			if err != nil {
				return nil, err
			}
			br, err := vc.readRoots(ctx)
			if err != nil {
				return nil, err
			}
			var rows []sql.Row
			counts, order, err := db.st.conflictCounts(ctx, d.root)
			if err != nil {
				return nil, err
			}
			for _, t := range order {
				if counts[t] > 0 {
					rows = append(rows, sql.Row{t, false, "conflict"})
				}
			}
			for _, c := range rootChanges(br.headRoot, br.staged) {
				rows = append(rows, sql.Row{c.name, true, c.status})
			}
			for _, c := range rootChanges(br.staged, d.root) {
				rows = append(rows, sql.Row{c.name, false, c.status})
			}
			return rows, nil
		},
	}
}

type tableChange struct{ name, status string }

// rootChanges lists what differs from one root to another: tables added,
// modified or deleted, then the schema-object tables.
func rootChanges(from, to *repo.RootValue) []tableChange {
	var out []tableChange
	for _, n := range union(from.TableNames(), to.TableNames()) {
		a, inFrom := from.GetTable(n)
		b, inTo := to.GetTable(n)
		switch {
		case !inFrom:
			out = append(out, tableChange{n, "new table"})
		case !inTo:
			out = append(out, tableChange{n, "deleted"})
		case a != b:
			out = append(out, tableChange{n, "modified"})
		}
	}
	changed := map[string]bool{}
	for _, coll := range []string{repo.CollectionViews, repo.CollectionTriggers, repo.CollectionEvents, repo.CollectionProcedures} {
		a, _ := from.Collection(coll)
		b, _ := to.Collection(coll)
		if a != b {
			changed[collectionTable(coll)] = true
		}
	}
	for _, n := range []string{schemasTableName, proceduresTableName} {
		if changed[n] {
			out = append(out, tableChange{n, "modified"})
		}
	}
	return out
}

// systemTableOf returns the system table called name (any case) of db, or
// nil if name is none.
func systemTableOf(ctx *sql.Context, db *Database, name string) (sql.Table, error) {
	lower := strings.ToLower(name)
	switch lower {
	case "dolt_backups":
		return backupsTable(db), nil
	case "dolt_backup_status":
		return backupStatusTable(db), nil
	case "dolt_branches":
		return branchesTable(db), nil
	case "dolt_log":
		return logTable(db), nil
	case "dolt_status":
		return statusTable(db), nil
	case "dolt_tags":
		return tagsTable(db), nil
	case "dolt_conflicts":
		return conflictsTable(db), nil
	case "dolt_remote_branches":
		return remoteBranchesTable(db), nil
	case "dolt_remotes":
		return remotesTable(db), nil
	}
	if strings.HasPrefix(lower, "dolt_conflicts_") && len(name) > len("dolt_conflicts_") {
		return tableConflicts(ctx, db, name[len("dolt_conflicts_"):])
	}
	var t *systemTable
	var err error
	switch {
	case strings.HasPrefix(lower, historyPrefix) && len(name) > len(historyPrefix):
		t, err = historyTable(ctx, db, name[len(historyPrefix):])
	case strings.HasPrefix(lower, diffPrefix) && len(name) > len(diffPrefix):
		t, err = diffTable(ctx, db, name[len(diffPrefix):])
	}
	if t == nil || err != nil {
		return nil, err
	}
	return t, nil
}

// remoteBranchesTable is dolt_remote_branches: the remote-tracking branches,
// named remotes/REMOTE/BRANCH.
func remoteBranchesTable(db *Database) *systemTable {
	const src = "dolt_remote_branches"
	return &systemTable{
		name: src,
		db:   db.Name(),
		sch:  branchColumns(src),
		rows: func(ctx *sql.Context) ([]sql.Row, error) {
			r := db.st.repo
			branches, err := r.RemoteBranches(ctx)
			if err != nil {
				return nil, err
			}
			rows := make([]sql.Row, 0, len(branches))
			for _, b := range branches {
				c, err := r.ReadCommit(ctx, b.Head)
				if err != nil {
					return nil, err
				}
				rows = append(rows, branchCells("remotes/"+b.Remote+"/"+b.Name, b.Head, c))
			}
			return rows, nil
		},
	}
}

// remotesTable is dolt_remotes(name, url, fetch_specs, params).
func remotesTable(db *Database) *systemTable {
	const src = "dolt_remotes"
	return &systemTable{
		name: src,
		db:   db.Name(),
		sch: sql.Schema{
			{Name: "name", Type: types.Text, PrimaryKey: true, Source: src},
			{Name: "url", Type: types.Text, Source: src},
			{Name: "fetch_specs", Type: types.JSON, Nullable: true, Source: src},
			{Name: "params", Type: types.JSON, Nullable: true, Source: src},
		},
		rows: func(ctx *sql.Context) ([]sql.Row, error) {
			c, err := db.prov.DatabaseConfig(db.st.name)
			if err != nil {
				return nil, err
			}
			rows := make([]sql.Row, 0, len(c.Remotes))
			for _, r := range c.Remotes {
				specs := make([]any, len(r.FetchSpecs))
				for i, s := range r.FetchSpecs {
					specs[i] = s
				}
				rows = append(rows, sql.Row{r.Name, r.URL, types.JSONDocument{Val: specs}, paramsJSON(r.Params)})
			}
			return rows, nil
		},
	}
}
