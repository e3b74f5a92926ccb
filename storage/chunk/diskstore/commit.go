package diskstore

import (
	"context"
	"fmt"
	"slices"
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
	// exclusive, if set, makes this a request to run exclusive as the
	// leader, after the requests queued before it, instead of updating refs.
	exclusive func() error
	err       error
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
	queued := s.enqueue(&commitRequest{updates: updates, wake: make(chan struct{})})
	return func() error {
		defer s.gate.leave()
		return queued()
	}
}

// enqueue queues req; wait returns its error once it is carried out, by
// this caller if it finds no leader or is made leader, or by another.
func (s *Store) enqueue(req *commitRequest) (wait func() error) {
	c := &s.commits
	c.mu.Lock()
	c.queue = append(c.queue, req)
	lead := !c.leading
	c.leading = true
	c.mu.Unlock()
	return func() error {
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

// exclusive runs fn as the commit leader: after every UpdateRefs queued
// before it is done, and before any queued after it starts, so the refs do
// not change while fn runs.
func (s *Store) exclusive(ctx context.Context, fn func() error) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.gate.leave()
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.enqueue(&commitRequest{exclusive: fn, wake: make(chan struct{})})()
}

// testHookPipelined, if set, runs in a leader that handed off before it
// waits for its record's sync: tests delay it there.
var testHookPipelined func()

// leadCommits commits every queued request as one group, as the leader,
// and hands leadership on to the oldest request queued meanwhile.
func (s *Store) leadCommits(req *commitRequest) {
	c := &s.commits
	c.mu.Lock()
	group := c.queue
	c.queue = nil
	c.mu.Unlock()

	// An exclusive request ends the group: it runs once the requests
	// before it are committed, and those after it go back to the head of
	// the queue for the next leader.
	var excl *commitRequest
	for i, r := range group {
		if r.exclusive != nil {
			excl = r
			c.mu.Lock()
			c.queue = append(slices.Clone(group[i+1:]), c.queue...)
			c.mu.Unlock()
			group = group[:i]
			break
		}
	}
	var rec uint64
	if len(group) > 0 {
		rec = s.commitGroup(group)
	}
	// Once the record is written, the next group may write its own while
	// this one's sync runs, and be synced right after it.
	pipelined := rec > 0 && excl == nil && !s.needCheckpoint()
	if pipelined {
		s.handOff()
		if testHookPipelined != nil {
			testHookPipelined()
		}
	}
	s.finishGroup(group, req, s.jsync.wait(s, rec))
	if pipelined {
		return
	}
	if excl != nil {
		// Exclusive work sees the refs as durable: every record
		// written is synced first.
		if err := s.jsync.waitAll(s); err != nil {
			excl.err = err
		} else {
			excl.err = excl.exclusive()
		}
		if excl != req {
			close(excl.wake)
		}
	}
	if s.needCheckpoint() && s.gate.enter() {
		// Checkpoint as the leader, so no commit changes the refs under
		// it, but without holding up req's caller: the commits queued
		// meanwhile wait for it instead.
		go func() {
			defer s.gate.leave()
			var gen uint64
			if s.writable() == nil && s.jsync.waitAll(s) == nil {
				// A failure breaks the store, which the next commit reports.
				s.checkpoint(true)
				s.checkpoints.Add(1)
				gen = s.gen.Load()
			}
			s.handOff()
			// Commits go on while the overlay drops what the checkpoint
			// made garbage or wrote to Pebble.
			s.awaitLeasesFrom(gen)
			s.pruneOverlay()
		}()
		return
	}
	s.handOff()
}

// finishGroup wakes the callers of group's requests but req, the
// leader's own, once their record is durable; syncErr is the error of its
// sync, which fails every request that had none.
func (s *Store) finishGroup(group []*commitRequest, req *commitRequest, syncErr error) {
	for _, r := range group {
		if r.err == nil && syncErr != nil {
			r.err = fmt.Errorf("diskstore: update refs: %w", syncErr)
		}
		if r != req {
			close(r.wake)
		}
	}
}

// handOff ends a leader's turn: it makes the oldest queued request leader,
// or leaves the committer without one.
func (s *Store) handOff() {
	c := &s.commits
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
// compare-and-swap against the refs as the earlier ones left them, and
// writes those that succeed in one batch. Without a journal the batch is
// synced and the result published; with one, commitGroup returns the number
// of the journal record it wrote (0 if none), which is durable and published
// once jsync.wait reaches it. It sets the err of every request that fails
// before that.
func (s *Store) commitGroup(group []*commitRequest) (rec uint64) {
	// Hold off GC's deletes from the existence check to the write.
	s.putMu.RLock()
	defer s.putMu.RUnlock()

	if err := s.writable(); err != nil {
		for _, r := range group {
			r.err = err
		}
		return 0
	}
	cur := s.jsync.latest(s)
	next := make(map[string]chunk.Hash, len(cur)+1)
	for k, v := range cur {
		next[k] = v
	}
	if s.journaling() {
		return s.journalGroup(group, next)
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
	return 0
}

// journalGroup is commitGroup for a journaling store: it appends one record
// holding the chunks the successful requests made reachable that the
// journal and Pebble lack, and their new ref values, and returns its number
// (0 if it wrote none). next is a copy of the latest refs.
func (s *Store) journalGroup(group []*commitRequest, next map[string]chunk.Hash) (rec uint64) {
	var ok []*commitRequest
	var roots []chunk.Hash
	changed := make(map[string]bool)
	for _, r := range group {
		targets, err := s.check(next, r.updates)
		if r.err = err; err != nil {
			continue
		}
		ok = append(ok, r)
		roots = append(roots, targets...)
		for _, u := range r.updates {
			changed[u.Name] = true
			if u.New.IsZero() {
				delete(next, u.Name)
			} else {
				next[u.Name] = u.New
			}
		}
	}
	if len(ok) == 0 {
		return 0
	}
	fail := func(err error) {
		for _, r := range ok {
			r.err = fmt.Errorf("diskstore: update refs: %w", err)
		}
	}
	chunks := s.ov.collect(roots, false)
	if pendingBytes(chunks) > min(s.opts.CheckpointSize/2, maxJournaledCommit) {
		// A large commit (a bulk load) goes to Pebble now: journaled, it
		// would be written twice, and a bulk load's new rows stay live
		// until the checkpoint writes them again.
		if err := s.moveToPebble(nil, roots); err != nil {
			fail(err)
			return 0
		}
		chunks = nil
	}
	if s.pebbleDirty.Swap(false) {
		// Chunks written through to Pebble must be durable before a
		// record that references them.
		b := s.db.NewBatch()
		b.LogData(nil, nil)
		err := s.commit(b, pebble.Sync)
		b.Close()
		if err != nil {
			s.breakStore(err)
			fail(err)
			return 0
		}
	}
	refs := make([]chunk.RefUpdate, 0, len(changed))
	for name := range changed {
		refs = append(refs, chunk.RefUpdate{Name: name, New: next[name]})
	}
	if err := s.jrnl.write(chunks, refs); err != nil {
		// What reached the file is unknown: refuse further writes.
		s.breakStore(err)
		fail(err)
		return 0
	}
	// Later groups find these chunks journaled, as they are once this
	// record is synced; if its sync fails, the store takes no more.
	s.ov.markJournaled(chunks)
	return s.jsync.written(next)
}

// check checks updates against refs and that the chunks they newly name
// are present, and returns every chunk they name.
func (s *Store) check(refs map[string]chunk.Hash, updates []chunk.RefUpdate) ([]chunk.Hash, error) {
	targets, err := chunk.CheckUpdates(refs, updates)
	if err != nil {
		return nil, err
	}
	for _, u := range updates {
		h := u.New
		if h.IsZero() || h == u.Old {
			// Unchanged (a branch head asserted with its working set):
			// a ref's chunk is present for as long as the ref holds it.
			continue
		}
		present, err := s.has(h)
		if err != nil {
			return nil, fmt.Errorf("diskstore: update refs: check %s: %w", h, err)
		}
		if !present {
			return nil, fmt.Errorf("diskstore: update refs: %s: %w", h, chunk.ErrMissingChunk)
		}
	}
	return targets, nil
}

// stage checks updates against refs and, if they all apply, applies them to
// refs and adds them to b. Otherwise it changes neither.
func (s *Store) stage(b *pebble.Batch, refs map[string]chunk.Hash, updates []chunk.RefUpdate) error {
	if _, err := s.check(refs, updates); err != nil {
		return err
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
