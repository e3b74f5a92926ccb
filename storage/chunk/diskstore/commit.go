package diskstore

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cockroachdb/pebble/v2"
)

// committer queues UpdateRefs calls so that calls made while an fsync is in
// progress are committed together, with one fsync, when it ends.
//
// The first caller to find no leader becomes the leader: it takes every
// queued request, commits them as one group and wakes their callers. If more
// requests queued meanwhile, it hands leadership to the oldest of them before
// it returns, so no caller commits for others indefinitely.
type committer struct {
	mu      sync.Mutex
	queue   []*commitRequest
	leading bool
	syncs   atomic.Uint64 // synced batches written, for benchmarks
}

type commitRequest struct {
	updates []chunk.RefUpdate
	err     error
	// wake is closed when the request is done or has been made leader.
	wake chan struct{}
	lead bool
}

// UpdateRefs implements chunk.Store. It returns once the new refs are synced
// to disk. Once queued, a request is carried out even if ctx is cancelled:
// cancellation only stops a call that has not yet queued.
func (s *Store) UpdateRefs(ctx context.Context, updates ...chunk.RefUpdate) error {
	return s.UpdateRefsQueued(ctx, updates...)()
}

var _ chunk.QueuedRefUpdater = (*Store)(nil)

// UpdateRefsQueued implements chunk.QueuedRefUpdater: it queues the
// updates and returns at once; wait returns what UpdateRefs would, once
// they are synced (or refused). Requests are carried out in the order they
// were queued, each against the refs as the ones before it left them, so a
// caller may queue an update whose Old is the New of one still queued.
func (s *Store) UpdateRefsQueued(ctx context.Context, updates ...chunk.RefUpdate) (wait func() error) {
	s.writes.Add(1)
	if err := s.enter(); err != nil {
		return func() error { return err }
	}
	if err := ctx.Err(); err != nil {
		s.gate.leave()
		return func() error { return err }
	}
	if err := s.writable(); err != nil {
		s.gate.leave()
		return func() error { return err }
	}
	req := &commitRequest{updates: updates, wake: make(chan struct{})}
	c := &s.commits
	c.mu.Lock()
	c.queue = append(c.queue, req)
	lead := !c.leading
	c.leading = true
	c.mu.Unlock()
	return func() error {
		defer s.gate.leave()
		if !lead {
			<-req.wake
			if !req.lead {
				return req.err
			}
		}
		s.leadCommits(req)
		return req.err
	}
}

// leadCommits commits every queued request as one group, as the leader,
// and hands leadership on to the oldest request queued meanwhile.
func (s *Store) leadCommits(req *commitRequest) {
	c := &s.commits
	c.mu.Lock()
	group := c.queue
	c.queue = nil
	c.mu.Unlock()

	s.commitGroup(group)
	for _, r := range group {
		if r != req {
			close(r.wake)
		}
	}

	c.mu.Lock()
	if len(c.queue) > 0 {
		next := c.queue[0]
		next.lead = true
		close(next.wake)
	} else {
		c.leading = false
	}
	c.mu.Unlock()
}

// commitGroup applies the requests of group in order, each as one
// compare-and-swap against the refs as the earlier ones left them, writes
// those that succeed in one synced batch and publishes the result. It sets
// the err of every request.
func (s *Store) commitGroup(group []*commitRequest) {
	// Hold off GC's deletes from the existence check to the write.
	s.putMu.RLock()
	defer s.putMu.RUnlock()

	if err := s.writable(); err != nil {
		for _, r := range group {
			r.err = err
		}
		return
	}
	cur := *s.refs.Load()
	next := make(map[string]chunk.Hash, len(cur)+1)
	for k, v := range cur {
		next[k] = v
	}
	b := s.db.NewBatch()
	defer b.Close()
	var ok []*commitRequest
	for _, r := range group {
		r.err = s.stage(b, next, r.updates)
		if r.err == nil {
			ok = append(ok, r)
		}
	}
	if len(ok) == 0 {
		return
	}
	if b.Empty() {
		// Updates that change nothing still promise that the chunks put
		// before them are durable, and Pebble skips an empty batch: give
		// the log a record to sync.
		if err := b.LogData(nil, nil); err != nil {
			panic(fmt.Sprintf("diskstore: log data in open batch: %v", err))
		}
	}
	if err := s.commit(b, pebble.Sync); err != nil {
		// Pebble may have applied the batch without syncing it: what is on
		// disk is unknown, so refuse further writes.
		s.breakStore(err)
		for _, r := range ok {
			r.err = fmt.Errorf("diskstore: update refs: %w", err)
		}
		return
	}
	s.commits.syncs.Add(1)
	s.refs.Store(&next)
}

// stage checks updates against refs and, if they all apply, applies them to
// refs and adds them to b. Otherwise it changes neither.
func (s *Store) stage(b *pebble.Batch, refs map[string]chunk.Hash, updates []chunk.RefUpdate) error {
	targets, err := chunk.CheckUpdates(refs, updates)
	if err != nil {
		return err
	}
	for _, h := range targets {
		present, err := s.has(h)
		if err != nil {
			return fmt.Errorf("diskstore: update refs: check %s: %w", h, err)
		}
		if !present {
			return fmt.Errorf("diskstore: update refs: %s: %w", h, chunk.ErrMissingChunk)
		}
	}
	for _, u := range updates {
		var err error
		if u.New.IsZero() {
			err = b.Delete(refKey(u.Name), nil)
			delete(refs, u.Name)
		} else {
			err = b.Set(refKey(u.Name), u.New[:], nil)
			refs[u.Name] = u.New
		}
		if err != nil {
			// Only possible if the batch was closed: a broken invariant.
			panic(fmt.Sprintf("diskstore: stage ref update in open batch: %v", err))
		}
	}
	return nil
}
