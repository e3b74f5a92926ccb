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
	"strings"

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
			s.pruneOverlay()
		}
		// Without the journal every commit writes its refs to Pebble.
		refs = maps.Clone(*s.refs.Load())
		return s.db.Checkpoint(dir, pebble.WithFlushedWAL())
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("diskstore: snapshot: %w", err)
	}
	snap := &chunk.FileSnapshot{Dir: dir, Refs: refs, Release: func() error { return os.RemoveAll(dir) }}
	ents, err := os.ReadDir(dir)
	if err != nil {
		snap.Release()
		return nil, fmt.Errorf("diskstore: snapshot: %w", err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			snap.Release()
			return nil, fmt.Errorf("diskstore: snapshot: %s is not a file", e.Name())
		}
		if strings.HasPrefix(e.Name(), "MANIFEST-") {
			// Open flushes so that this cannot happen (see load); a
			// snapshot that would not open must never be taken for one.
			if fi, err := e.Info(); err != nil || fi.Size() == 0 {
				snap.Release()
				return nil, fmt.Errorf("diskstore: snapshot: Pebble copied an empty %s (%v)", e.Name(), err)
			}
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
