package sqle

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/repo"
	"github.com/cairndb/cairn/storage/tree"
)

// dolt_history_TABLE and dolt_diff_TABLE: every version of every row of a
// table along the history of the database's branch, and the row-level
// differences commit by commit (and of the working set against the head).
// Their columns follow the table's schema as the session sees it now; rows
// of versions with another schema are matched to it by column name.

const (
	historyPrefix = "dolt_history_"
	diffPrefix    = "dolt_diff_"
)

// historyColumns returns the table's current columns, all nullable, under
// names made by prefix, for system table src.
func historyColumns(td *tableData, prefix, src string) sql.Schema {
	var out sql.Schema
	for _, c := range td.lay.sch.Columns {
		out = append(out, &sql.Column{Name: prefix + c.Name, Type: c.Type, Nullable: true, Source: src})
	}
	return out
}

// projector maps rows of one table version to the current columns by name.
type projector struct {
	cols []string // the current columns, lower-case
	maps map[*layout][]int
}

func newProjector(td *tableData) *projector {
	p := &projector{maps: map[*layout][]int{}}
	for _, c := range td.lay.sch.Columns {
		p.cols = append(p.cols, strings.ToLower(c.Name))
	}
	return p
}

// project decodes v, a row of version td, into the current columns (nil
// where td lacks one).
func (p *projector) project(td *tableData, v []byte) (sql.Row, error) {
	m, ok := p.maps[td.lay]
	if !ok {
		m = make([]int, len(p.cols))
		for i, name := range p.cols {
			m[i] = -1
			for j, c := range td.lay.sch.Columns {
				if strings.ToLower(c.Name) == name {
					m[i] = j
				}
			}
		}
		p.maps[td.lay] = m
	}
	row, err := td.decodeRow(v, nil)
	if err != nil {
		return nil, err
	}
	out := make(sql.Row, len(m))
	for i, j := range m {
		if j >= 0 {
			out[i] = row[j]
		}
	}
	return out, nil
}

// tableAt returns table name (any case) in root, or nil.
func (st *dbState) tableAt(ctx context.Context, root *repo.RootValue, name string) (*tableData, error) {
	stored, ok := findTable(root, name)
	if !ok {
		return nil, nil
	}
	h, _ := root.GetTable(stored)
	return st.readTable(ctx, h)
}

// rootOfCommit reads the root value of commit h.
func (st *dbState) rootOfCommit(ctx context.Context, h chunk.Hash) (*repo.RootValue, *repo.Commit, error) {
	c, err := st.repo.ReadCommit(ctx, h)
	if err != nil {
		return nil, nil, err
	}
	root, err := st.repo.ReadRoot(ctx, c.Root)
	return root, c, err
}

// historyTable is dolt_history_<table>, or nil if the session sees no such
// table.
func historyTable(ctx *sql.Context, db *Database, table string) (*systemTable, error) {
	cur, ok, err := db.tableData(ctx, mustFind(ctx, db, table))
	if err != nil || !ok {
		return nil, err
	}
	src := historyPrefix + table
	sch := historyColumns(cur, "", src)
	sch = append(sch,
		&sql.Column{Name: "commit_hash", Type: types.Text, Source: src},
		&sql.Column{Name: "committer", Type: types.Text, Source: src},
		&sql.Column{Name: "commit_date", Type: types.Datetime, Source: src})
	p := newProjector(cur)
	commitRows := func(ctx *sql.Context, h chunk.Hash, c *repo.Commit) ([]sql.Row, error) {
		root, err := db.st.repo.ReadRoot(ctx, c.Root)
		if err != nil {
			return nil, err
		}
		td, err := db.st.tableAt(ctx, root, table)
		if err != nil || td == nil {
			return nil, err
		}
		it, err := td.rows.Iter(ctx, tree.Range{})
		if err != nil {
			return nil, err
		}
		var rows []sql.Row
		for {
			_, v, err := it.Next(ctx)
			if err == io.EOF {
				return rows, nil
			}
			if err != nil {
				return nil, err
			}
			row, err := p.project(td, v)
			if err != nil {
				return nil, err
			}
			rows = append(rows, append(row, h.String(), c.Committer.Name, c.Committer.Time.UTC()))
		}
	}
	return &systemTable{name: src, db: db.Name(), sch: sch, commitCol: "commit_hash",
		rows: func(ctx *sql.Context) ([]sql.Row, error) {
			head, err := headOf(ctx, db)
			if err != nil {
				return nil, err
			}
			var rows []sql.Row
			err = db.st.repo.Log(ctx, head, func(h chunk.Hash, c *repo.Commit) error {
				r, err := commitRows(ctx, h, c)
				rows = append(rows, r...)
				return err
			})
			return rows, err
		},
		rowsOf: func(ctx *sql.Context, commits []string) ([]sql.Row, error) {
			var rows []sql.Row
			err := forHistoryCommits(ctx, db, commits, func(h chunk.Hash, c *repo.Commit) error {
				r, err := commitRows(ctx, h, c)
				rows = append(rows, r...)
				return err
			})
			return rows, err
		},
	}, nil
}

// headOf returns the head commit of the database's branch or revision.
func headOf(ctx *sql.Context, db *Database) (chunk.Hash, error) {
	vc, err := db.prov.OpenVC(ctx, db.Name())
	if err != nil {
		return chunk.Hash{}, err
	}
	return vc.Head(ctx)
}

// forHistoryCommits calls fn for each of commits (hash strings, each once)
// that is in the history of the database's head; others are skipped.
func forHistoryCommits(ctx *sql.Context, db *Database, commits []string, fn func(chunk.Hash, *repo.Commit) error) error {
	head, err := headOf(ctx, db)
	if err != nil {
		return err
	}
	seen := map[chunk.Hash]bool{}
	for _, s := range commits {
		h, err := chunk.Parse(s)
		if err != nil || seen[h] {
			continue
		}
		seen[h] = true
		if in, err := db.st.repo.IsAncestor(ctx, h, head); err != nil || !in {
			continue // not a commit of this history
		}
		c, err := db.st.repo.ReadCommit(ctx, h)
		if err != nil {
			return err
		}
		if err := fn(h, c); err != nil {
			return err
		}
	}
	return nil
}

// mustFind returns the stored name of table in the session's root, or
// name itself.
func mustFind(ctx *sql.Context, db *Database, table string) string {
	root, err := db.root(ctx)
	if err != nil {
		return table
	}
	if stored, ok := findTable(root, table); ok {
		return stored
	}
	return table
}

// diffTable is dolt_diff_<table>, or nil if the session sees no such table.
func diffTable(ctx *sql.Context, db *Database, table string) (*systemTable, error) {
	cur, ok, err := db.tableData(ctx, mustFind(ctx, db, table))
	if err != nil || !ok {
		return nil, err
	}
	src := diffPrefix + table
	sch := diffSchema(cur, src)
	p := newProjector(cur)
	type side = diffSide
	emit := func(ctx *sql.Context, from, to side, rows *[]sql.Row) error {
		return diffRows(ctx, db.st, p, from, to, rows)
	}
	// working adds the session's working set against the head.
	working := func(ctx *sql.Context, rows *[]sql.Row) error {
		vc, err := db.prov.OpenVC(ctx, db.Name())
		if err != nil || vc.ReadOnly() {
			return err
		}
		head, err := vc.Head(ctx)
		if err != nil {
			return err
		}
		headRoot, headCommit, err := db.st.rootOfCommit(ctx, head)
		if err != nil {
			return err
		}
		headTD, err := db.st.tableAt(ctx, headRoot, table)
		if err != nil {
			return err
		}
		now, ok, err := db.tableData(ctx, mustFind(ctx, db, table))
		if err != nil {
			return err
		}
		if !ok {
			now = nil
		}
		return emit(ctx, side{headTD, head.String(), headCommit.Committer.Time.UTC()}, side{now, "WORKING", nil}, rows)
	}
	// commitDiff adds commit h against its first parent.
	commitDiff := func(ctx *sql.Context, h chunk.Hash, c *repo.Commit, rows *[]sql.Row) error {
		root, err := db.st.repo.ReadRoot(ctx, c.Root)
		if err != nil {
			return err
		}
		td, err := db.st.tableAt(ctx, root, table)
		if err != nil {
			return err
		}
		from := side{}
		if len(c.Parents) > 0 {
			proot, pc, err := db.st.rootOfCommit(ctx, c.Parents[0])
			if err != nil {
				return err
			}
			if from.td, err = db.st.tableAt(ctx, proot, table); err != nil {
				return err
			}
			from.commit, from.date = c.Parents[0].String(), pc.Committer.Time.UTC()
		}
		if td == nil && from.td == nil {
			return nil
		}
		return emit(ctx, from, side{td, h.String(), c.Committer.Time.UTC()}, rows)
	}
	return &systemTable{name: src, db: db.Name(), sch: sch, commitCol: "to_commit",
		rows: func(ctx *sql.Context) ([]sql.Row, error) {
			var rows []sql.Row
			if err := working(ctx, &rows); err != nil {
				return nil, err
			}
			head, err := headOf(ctx, db)
			if err != nil {
				return nil, err
			}
			err = db.st.repo.Log(ctx, head, func(h chunk.Hash, c *repo.Commit) error { return commitDiff(ctx, h, c, &rows) })
			return rows, err
		},
		rowsOf: func(ctx *sql.Context, commits []string) ([]sql.Row, error) {
			var rows []sql.Row
			var hashes []string
			for _, c := range commits {
				if strings.EqualFold(c, "WORKING") {
					if err := working(ctx, &rows); err != nil {
						return nil, err
					}
				} else {
					hashes = append(hashes, c)
				}
			}
			err := forHistoryCommits(ctx, db, hashes, func(h chunk.Hash, c *repo.Commit) error { return commitDiff(ctx, h, c, &rows) })
			return rows, err
		},
	}, nil
}

// diffSide is one side of a row diff: a table version (nil: absent) and
// the commit and date shown for it.
type diffSide struct {
	td     *tableData
	commit any // hash string, "WORKING", "STAGED", or nil
	date   any
}

// diffRows appends to rows the differences from one table version to
// another, in dolt_diff_T's columns: to_ columns, to_commit, to_commit_date,
// from_ columns, from_commit, from_commit_date, diff_type. Rows whose
// projected values did not change are left out.
func diffRows(ctx context.Context, st *dbState, p *projector, from, to diffSide, rows *[]sql.Row) error {
	empty, err := st.emptyMap(ctx)
	if err != nil {
		return err
	}
	fm, tm := empty, empty
	if from.td != nil {
		fm = from.td.rows
	}
	if to.td != nil {
		tm = to.td.rows
	}
	return tree.Diff(ctx, fm, tm, func(d tree.Difference) error {
		toRow := make(sql.Row, len(p.cols))
		fromRow := make(sql.Row, len(p.cols))
		var err error
		if d.To != nil {
			if toRow, err = p.project(to.td, d.To); err != nil {
				return err
			}
		}
		if d.From != nil {
			if fromRow, err = p.project(from.td, d.From); err != nil {
				return err
			}
		}
		if d.Type == tree.Modified && rowsEqual(fromRow, toRow) {
			return nil // a change only in columns the table no longer has, or in encoding
		}
		out := make(sql.Row, 0, 2*len(p.cols)+5)
		out = append(out, toRow...)
		out = append(out, to.commit, to.date)
		out = append(out, fromRow...)
		out = append(out, from.commit, from.date, d.Type.String())
		*rows = append(*rows, out)
		return nil
	})
}

// diffSchema is the schema of dolt_diff_T and DOLT_DIFF() for table td,
// named src.
func diffSchema(td *tableData, src string) sql.Schema {
	sch := historyColumns(td, "to_", src)
	sch = append(sch,
		&sql.Column{Name: "to_commit", Type: types.Text, Nullable: true, Source: src},
		&sql.Column{Name: "to_commit_date", Type: types.Datetime, Nullable: true, Source: src})
	sch = append(sch, historyColumns(td, "from_", src)...)
	return append(sch,
		&sql.Column{Name: "from_commit", Type: types.Text, Nullable: true, Source: src},
		&sql.Column{Name: "from_commit_date", Type: types.Datetime, Nullable: true, Source: src},
		&sql.Column{Name: "diff_type", Type: types.Text, Source: src})
}

// rowsEqual reports whether two projected rows hold the same values.
func rowsEqual(a, b sql.Row) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if fmt.Sprint(a[i]) != fmt.Sprint(b[i]) {
			return false
		}
	}
	return true
}
