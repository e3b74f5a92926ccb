package diskstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"github.com/cairndb/cairn/storage/chunk"
)

// snapshotsDir is the directory, inside the store's, that holds the file
// snapshots in use. Pebble ignores it; Open removes what a crash left there.
const snapshotsDir = "snapshots"

var _ chunk.FileSnapshotter = (*Store)(nil)

// SnapshotFiles implements chunk.FileSnapshotter with a Pebble checkpoint:
// as the commit leader, so that no commit runs meanwhile, it checkpoints the
// journal (Pebble then holds the refs and every chunk they reach), then has
// Pebble hard-link its tables and copy its small files into a new directory
// under the store's. Commits wait for the two steps, a few milliseconds;
// the snapshot takes no space until compactions replace the tables it links.
func (s *Store) SnapshotFiles(ctx context.Context) (*chunk.FileSnapshot, error) {
	parent := filepath.Join(s.dir, snapshotsDir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("diskstore: snapshot: %w", err)
	}
	dir := filepath.Join(parent, rand.Text())
	var refs map[string]chunk.Hash
	err := s.exclusive(ctx, func() error {
		if err := s.writable(); err != nil {
			return err
		}
		if s.journaling() {
			if err := s.checkpoint(false); err != nil {
				return err
			}
		}
		// Without the journal every commit writes its refs to Pebble.
		refs = maps.Clone(*s.refs.Load())
		return s.db.Checkpoint(dir, pebble.WithFlushedWAL())
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("diskstore: snapshot: %w", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("diskstore: snapshot: %w", err)
	}
	snap := &chunk.FileSnapshot{Dir: dir, Refs: refs, Release: func() error { return os.RemoveAll(dir) }}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("diskstore: snapshot: %s is not a file", e.Name())
		}
		snap.Files = append(snap.Files, e.Name())
	}
	slices.Sort(snap.Files)
	return snap, nil
}

// removeSnapshots removes the file snapshots a crash left behind.
func removeSnapshots(dir string) error {
	err := os.RemoveAll(filepath.Join(dir, snapshotsDir))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove old snapshots: %w", err)
	}
	return nil
}

// ListChunks returns the hash of every chunk held by the store in dir,
// sorted, reading it without writing anything: dir may be a FileSnapshot's
// directory while its files are being copied. No process may be writing to
// the store.
func ListChunks(ctx context.Context, dir string) ([]chunk.Hash, error) {
	cache := NewCache(16 << 20)
	defer cache.Close()
	db, err := pebble.Open(dir, &pebble.Options{ReadOnly: true, Cache: cache.c, Logger: quietLogger{}})
	if err != nil {
		if pebble.IsCorruptionError(err) {
			return nil, &chunk.CorruptionError{File: dir, Detail: err.Error()}
		}
		return nil, fmt.Errorf("diskstore: open %s: %w", dir, err)
	}
	defer db.Close()
	if v, closer, err := db.Get(keyFormat); err != nil {
		return nil, fmt.Errorf("diskstore: %s: read format: %w", dir, err)
	} else {
		format := string(v)
		closer.Close()
		if format != formatValue && format != formatValueV1 {
			return nil, fmt.Errorf("diskstore: %s: format %q: %w", dir, format, ErrUnknownFormat)
		}
	}
	lower, upper := prefixBounds(prefixChunk)
	it, err := db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, err
	}
	var out []chunk.Hash
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if len(k) != 1+chunk.HashSize {
			it.Close()
			return nil, &chunk.CorruptionError{File: dir, Detail: fmt.Sprintf("chunk key of %d bytes", len(k))}
		}
		out = append(out, chunk.Hash(k[1:]))
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("diskstore: list chunks of %s: %w", dir, err)
	}
	return out, nil
}
