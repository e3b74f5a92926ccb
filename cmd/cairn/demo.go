package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/chunk/diskstore"
	"github.com/cairndb/cairn/storage/repo"
	"github.com/cairndb/cairn/storage/tree"
)

const demoTable = "demo_rows"

// runDemo makes (or reopens) the database DATA_DIR/demo, writes rows into a
// table map through the storage core, commits them on main, and prints the
// history: the whole path a SQL write will take, without SQL.
func runDemo(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	dataDir := fs.String("data-dir", ".", "directory holding the demo database")
	rows := fs.Int("rows", 100_000, "rows to write on the first run")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 || *rows < 1 {
		return usageError("usage: cairn demo [--data-dir DIR] [--rows N] (e.g. cairn demo --data-dir /tmp/cairn)")
	}
	storeDir := filepath.Join(*dataDir, "demo", ".cairn", "store")
	if err := os.MkdirAll(storeDir, 0o755); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	start := time.Now()
	cs, err := diskstore.Open(storeDir, diskstore.Options{})
	if err != nil {
		return fmt.Errorf("demo: open store: %w", err)
	}
	defer cs.Close()

	r, err := repo.Init(ctx, cs, repo.InitOptions{Name: "cairn", Email: "cairn@localhost"})
	switch {
	case errors.Is(err, repo.ErrAlreadyInitialized):
		r = repo.Open(cs)
	case err != nil:
		return fmt.Errorf("demo: %w", err)
	default:
		fmt.Printf("created database %s\n", filepath.Dir(filepath.Dir(storeDir)))
	}

	msg, err := writeRows(ctx, r, cs, *rows)
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
	fmt.Printf("committed %s in %v\n\n", h, time.Since(start).Round(time.Millisecond))

	n := 0
	err = r.Log(ctx, h, func(h chunk.Hash, c *repo.Commit) error {
		fmt.Printf("commit %s\nDate:   %s\n\n    %s\n\n", h, c.Author.Time.Format(time.RFC1123Z), c.Message)
		if n++; n == 5 {
			return repo.ErrStop
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("demo: log: %w", err)
	}
	if err := cs.Check(ctx); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Println("store check: every chunk reachable from every ref is present and intact")
	return nil
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
