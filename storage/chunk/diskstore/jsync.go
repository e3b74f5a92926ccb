package diskstore

import (
	"fmt"
	"sync"

	"github.com/cairndb/cairn/storage/chunk"
)

// journalSync syncs the journal's records behind the commit leaders, so
// that one group's record is written while the sync of the one before it
// runs (docs/write-path.md, "The journal's sync, pipelined"). Leaders write
// records one after another; a caller waiting for its record starts a sync
// of everything written so far unless one is running, in which case it
// waits for that one and, if it did not reach its record, starts the next.
// At most one sync runs at a time. A sync publishes the refs of the last
// record it covered: the store's refs are always durable ones.
//
// Records are numbered from 1 in the order they were written, across the
// journal's epochs (a checkpoint starts the file over once every record
// is synced), so that a caller still waiting from an earlier epoch finds
// its record synced.
type journalSync struct {
	mu   sync.Mutex
	cond sync.Cond // on mu, signalled when a sync ends
	// last is the number of the last record written, refs the refs after
	// it; synced is the number of the last record synced.
	last    uint64
	refs    map[string]chunk.Hash
	synced  uint64
	syncing bool
	err     error // the failure of a sync: no record after it is durable
}

// written records that a leader wrote a record after which the refs are
// refs, and returns its number.
func (y *journalSync) written(refs map[string]chunk.Hash) uint64 {
	y.mu.Lock()
	defer y.mu.Unlock()
	y.last++
	y.refs = refs
	return y.last
}

// waitAll returns once every record written so far is synced, or a sync
// has failed.
func (y *journalSync) waitAll(s *Store) error {
	y.mu.Lock()
	last := y.last
	y.mu.Unlock()
	return y.wait(s, last)
}

// latest returns the refs after the last record written: what the next
// group's updates apply to. The caller is the commit leader.
func (y *journalSync) latest(s *Store) map[string]chunk.Hash {
	y.mu.Lock()
	refs := y.refs
	if y.synced >= y.last {
		refs = nil // published
	}
	y.mu.Unlock()
	if refs != nil {
		return refs
	}
	return *s.refs.Load()
}

// wait returns once the records up to number n (none if 0) are synced, and
// their refs published, or a sync they needed has failed.
func (y *journalSync) wait(s *Store, n uint64) error {
	y.mu.Lock()
	defer y.mu.Unlock()
	for y.synced < n {
		if y.err != nil {
			return y.err
		}
		if y.syncing {
			y.cond.Wait()
			continue
		}
		target, refs := y.last, y.refs
		y.syncing = true
		y.mu.Unlock()
		err := s.jrnl.f.SyncData()
		if err == nil {
			s.refs.Store(&refs)
			s.commits.syncs.Add(1)
		} else {
			// What reached the disk is unknown: refuse further writes.
			err = fmt.Errorf("sync journal: %w", err)
			s.breakStore(err)
		}
		y.mu.Lock()
		y.syncing = false
		if err != nil {
			y.err = err
		} else {
			y.synced = target
		}
		y.cond.Broadcast()
	}
	return nil
}
