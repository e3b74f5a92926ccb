package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand"
	"path/filepath"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/chunk/diskstore"
	"github.com/cairndb/cairn/storage/dbdir"
	"github.com/cairndb/cairn/storage/repo"
	"github.com/cairndb/cairn/storage/tree"
	"github.com/spf13/cobra"
)

const demoTable = "demo_rows"

func newDemoCmd() *cobra.Command {
	cmd := newCmd("demo [--data-dir DIR] [--rows N]", "write and commit rows in a demonstration database")
	cmd.Long = `Demo makes (or reopens) the database DIR/demo, writes rows into a table map
through the storage core, commits them on main, and prints the history: the
whole path a SQL write will take, without SQL. Run again, it changes ten rows
and commits again.`
	cmd.Example = "  cairn demo --data-dir /tmp/cairn"
	dataDir := cmd.Flags().String("data-dir", ".", "directory holding the demo database")
	rows := cmd.Flags().Int("rows", 100_000, "rows to write on the first run")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if *rows < 1 {
			return usageError(fmt.Sprintf("--rows must be at least 1, not %d", *rows))
		}
		return runDemo(cmd.Context(), cmd.OutOrStdout(), filepath.Join(*dataDir, "demo"), *rows)
	}
	return cmd
}

// runDemo makes or opens the database in dir, commits rows (or a change to
// them) and prints the latest history.
func runDemo(ctx context.Context, w io.Writer, dir string, rows int) error {
	start := time.Now()
	if !dbdir.IsDatabase(dir) {
		err := dbdir.Init(ctx, dir, repo.InitOptions{Name: "cairn", Email: "cairn@localhost"})
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		fmt.Fprintf(w, "created database %s\n", dir)
	}
	db, err := dbdir.Open(ctx, dir, diskstore.Options{})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer db.Close()
	r := db.Repo

	msg, err := writeRows(ctx, r, db.Store, rows)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	h, err := r.Commit(ctx, repo.DefaultBranch, repo.CommitOptions{CommitMeta: repo.CommitMeta{
		Message: msg,
		Author:  repo.Signature{Name: "cairn demo", Email: "demo@localhost"},
	}})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(w, "committed %s in %v\n\n", h, time.Since(start).Round(time.Millisecond))

	n := 0
	err = r.Log(ctx, h, func(h chunk.Hash, c *repo.Commit) error {
		fmt.Fprintf(w, "commit %s\nDate:   %s\n\n    %s\n\n", h, c.Author.Time.Format(time.RFC1123Z), c.Message)
		if n++; n == 5 {
			return repo.ErrStop
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("demo: log: %w", err)
	}
	if err := db.Store.Check(ctx); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintln(w, "store check: every chunk reachable from every ref is present and intact")
	return db.Close()
}

// writeRows creates the demo table with rows entries, or changes ten rows of
// an existing one, in main's working set, staged for the next commit.
func writeRows(ctx context.Context, r *repo.Repo, cs *diskstore.Store, rows int) (string, error) {
	ns := tree.NewNodeStore(cs, tree.NewNodeCache(0))
	ws, wsHash, err := r.WorkingSet(ctx, repo.DefaultBranch)
	if err != nil {
		return "", err
	}
	lease := cs.Leases().Acquire(ws.Working)
	defer lease.Release()
	root, err := r.ReadRoot(ctx, ws.Working)
	if err != nil {
		return "", err
	}
	var m tree.Map
	var msg string
	tableHash, ok := root.GetTable(demoTable)
	if !ok {
		b := tree.NewBuilder(ns)
		for i := 0; i < rows; i++ {
			if err := b.Add(ctx, rowKey(i), []byte(fmt.Sprintf("row %d, version 0", i))); err != nil {
				return "", err
			}
		}
		if m, err = b.Finish(ctx); err != nil {
			return "", err
		}
		msg = fmt.Sprintf("demo: create %s with %d rows", demoTable, rows)
	} else {
		t, err := r.ReadTable(ctx, tableHash)
		if err != nil {
			return "", err
		}
		if m, err = tree.LoadMap(ctx, ns, t.Rows); err != nil {
			return "", err
		}
		rng := rand.New(rand.NewSource(time.Now().UnixNano()))
		var edits []tree.Edit
		for i := 0; i < 10; i++ {
			k := rng.Intn(int(m.Count()))
			edits = append(edits, tree.Edit{Key: rowKey(k), Value: []byte(fmt.Sprintf("row %d, changed %s", k, time.Now().Format(time.RFC3339Nano)))})
		}
		old := m
		if m, err = m.Edit(ctx, edits); err != nil {
			return "", err
		}
		changed := 0
		if err := tree.Diff(ctx, old, m, func(tree.Difference) error { changed++; return nil }); err != nil {
			return "", err
		}
		msg = fmt.Sprintf("demo: change %d of %d rows", changed, m.Count())
	}
	th, err := r.WriteTable(ctx, &repo.TableRecord{Schema: []byte("demo"), Rows: m.Hash()})
	if err != nil {
		return "", err
	}
	root, err = root.PutTable(demoTable, th)
	if err != nil {
		return "", err
	}
	rh, err := r.WriteRoot(ctx, root)
	if err != nil {
		return "", err
	}
	_, err = r.UpdateWorkingSet(ctx, repo.DefaultBranch, wsHash, &repo.WorkingSet{Working: rh, Staged: rh})
	return msg, err
}

func rowKey(i int) []byte { return binary.BigEndian.AppendUint64(nil, uint64(i)) }
