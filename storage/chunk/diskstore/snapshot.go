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
	"sync/atomic"

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
//
// With Puts and deletions held off too, it takes a Pebble snapshot of the
// store at the same instant, which Chunks reads: the same chunks as the
// files hold, read through the store's block cache, which usually holds
// most of them, where reading the files would read them all from the page
// cache again.
func (s *Store) SnapshotFiles(ctx context.Context) (*chunk.FileSnapshot, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.gate.leave()
	parent := filepath.Join(s.dir, snapshotsDir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("diskstore: snapshot: %w", err)
	}
	dir := filepath.Join(parent, rand.Text())
	var refs map[string]chunk.Hash
	var view *pebble.Snapshot
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
		// No chunk reaches Pebble or leaves it from here (Puts that write
		// to it directly, and deletions, hold putMu), so the checkpoint and
		// the view hold the same chunks.
		s.putMu.Lock()
		defer s.putMu.Unlock()
		if err := s.db.Checkpoint(dir, pebble.WithFlushedWAL()); err != nil {
			return err
		}
		view = s.db.NewSnapshot()
		s.views.Store(view, struct{}{})
		return nil
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("diskstore: snapshot: %w", err)
	}
	var released atomic.Bool
	release := func() error {
		if released.Swap(true) {
			return nil
		}
		if _, open := s.views.LoadAndDelete(view); open {
			view.Close()
		}
		return os.RemoveAll(dir)
	}
	snap := &chunk.FileSnapshot{Dir: dir, Refs: refs, Release: release}
	snap.Chunks = func(ctx context.Context) ([]chunk.Hash, error) {
		if released.Load() {
			return nil, fmt.Errorf("diskstore: the snapshot is released")
		}
		return s.listChunks(ctx, view)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		release()
		return nil, fmt.Errorf("diskstore: snapshot: %w", err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			release()
			return nil, fmt.Errorf("diskstore: snapshot: %s is not a file", e.Name())
		}
		snap.Files = append(snap.Files, e.Name())
	}
	slices.Sort(snap.Files)
	return snap, nil
}

// listChunks returns the hash of every chunk view holds, sorted.
func (s *Store) listChunks(ctx context.Context, view *pebble.Snapshot) ([]chunk.Hash, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.gate.leave()
	lower, upper := prefixBounds(prefixChunk)
	it, err := view.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, err
	}
	var out []chunk.Hash
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if len(k) != 1+chunk.HashSize {
			it.Close()
			return nil, &chunk.CorruptionError{File: s.dir, Detail: fmt.Sprintf("chunk key of %d bytes", len(k))}
		}
		out = append(out, chunk.Hash(k[1:]))
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("diskstore: list chunks: %w", err)
	}
	return out, nil
}

// closeViews closes the views of the snapshots not released: Pebble
// refuses to close with a snapshot open.
func (s *Store) closeViews() {
	s.views.Range(func(k, _ any) bool {
		if _, open := s.views.LoadAndDelete(k); open {
			k.(*pebble.Snapshot).Close()
		}
		return true
	})
}

// removeSnapshots removes the file snapshots a crash left behind.
func removeSnapshots(dir string) error {
	err := os.RemoveAll(filepath.Join(dir, snapshotsDir))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove old snapshots: %w", err)
	}
	return nil
}
