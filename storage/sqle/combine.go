package sqle

import (
	"context"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/cairndb/cairn/storage/repo"
)

// Combined commits (docs/write-path.md, "Combined commits"). Concurrent
// COMMITs of one database publish one after another under its publish
// lock, and each edits the trees on the root the one before it published:
// four inserts at the end of a table rewrite the same leaf, its parents and
// the root four times. A COMMIT whose changes are all deferred row edits
// (deferred.go) instead queues them; whoever holds the lock next publishes
// every queued transaction of a branch with one edit of each tree and one
// working set, which the journal then syncs as one group.
//
// The result is the one publishing them one by one would give. Their edits
// are applied together only if no two of them edit one key; each is
// checked against the root they build on as its own publication would be
// (schema, rows changed since its snapshot) and, after the edit, its unique
// index entries. Any overlap, conflict or error sends the whole group down
// the one-by-one path, which fails exactly the transactions that conflict.

// combineReq is a transaction waiting to be published with others.
type combineReq struct {
	d *txDB
	// Set by the publish lock's holder that published it, under the lock.
	done bool
	p    *prepared
	err  error
}

// combinable reports whether a transaction that changed only d may be
// published with others: all its changes are deferred row edits.
func combinable(d *txDB) bool {
	return d.root == d.base.root && len(d.deferred) > 0
}

// combine publishes d, alone or with transactions queued with it, and
// returns what was queued for it (nil if nothing was): the caller finishes
// it.
func (st *dbState) combine(ctx *sql.Context, d *txDB) (*prepared, error) {
	req := &combineReq{d: d}
	st.combineMu.Lock()
	st.combineQueue = append(st.combineQueue, req)
	st.combineMu.Unlock()

	st.publish.Lock()
	defer st.publish.Unlock()
	if !req.done {
		// Whoever took the queue before us published req before
		// unlocking; it has not, so req is in the queue.
		st.combineMu.Lock()
		batch := st.combineQueue
		st.combineQueue = nil
		st.combineMu.Unlock()
		// The work is the others' too: the caller's cancellation must
		// not fail their commits halfway.
		st.publishBatch(ctx.WithContext(context.WithoutCancel(ctx)), batch)
	}
	return req.p, req.err
}

// publishBatch publishes every request of batch, those of each branch
// together when it can; the caller holds st.publish.
func (st *dbState) publishBatch(ctx *sql.Context, batch []*combineReq) {
	for len(batch) > 0 {
		branch := batch[0].d.branch
		var same, rest []*combineReq
		for _, r := range batch {
			if r.d.branch == branch {
				same = append(same, r)
			} else {
				rest = append(rest, r)
			}
		}
		if len(same) == 1 || !st.publishTogether(ctx, same) {
			for _, r := range same {
				r.p, r.err = st.publishOne(ctx, r.d)
			}
		}
		for _, r := range same {
			r.done = true
		}
		batch = rest
	}
}

// publishOne prepares and queues the publication of d alone, as publish
// does for a transaction that changed one database.
func (st *dbState) publishOne(ctx *sql.Context, d *txDB) (*prepared, error) {
	p, err := d.prepare(ctx)
	if err != nil {
		return nil, err
	}
	if err := p.queue(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// publishTogether publishes the requests rs, all of one branch, as one
// working set, and reports whether it did; if not, nothing was published
// and the caller publishes them one by one. The caller holds st.publish.
func (st *dbState) publishTogether(ctx *sql.Context, rs []*combineReq) bool {
	branch := rs[0].d.branch
	cur, err := st.head(ctx, branch)
	if err != nil {
		return false
	}
	// The writers of each table, in the order the requests came.
	var names []string
	byTable := map[string][]*tableWriter{}
	for _, r := range rs {
		for _, w := range r.d.deferred {
			if _, ok := byTable[w.t.name]; !ok {
				names = append(names, w.t.name)
			}
			byTable[w.t.name] = append(byTable[w.t.name], w)
		}
	}
	root := cur.root
	for _, name := range names {
		ws := byTable[name]
		if overlap(ws) {
			return false
		}
		if root, err = st.applyTable(ctx, root, name, ws); err != nil {
			return false
		}
	}
	h, err := st.repo.WriteRoot(ctx, root)
	if err != nil {
		return false
	}
	shared := &prepared{d: rs[0].d, cur: cur, root: root}
	if h != cur.ws.Working {
		shared.ws = &repo.WorkingSet{Working: h, Staged: cur.ws.Staged, Merge: cur.ws.Merge}
	}
	if err := shared.queue(ctx); err != nil {
		// Nothing was queued: every request fails as its own would have.
		for _, r := range rs {
			r.err = err
		}
		return true
	}
	if shared.wait != nil {
		shared.wait = sync.OnceValue(shared.wait) // each request waits for it
	}
	for _, r := range rs {
		p := *shared
		p.d = r.d
		r.p = &p
	}
	return true
}

// overlap reports whether two of ws edit one key of a table's rows or of
// one of its indexes.
func overlap(ws []*tableWriter) bool {
	if len(ws) < 2 {
		return false
	}
	seen := map[string]bool{}
	for _, w := range ws {
		for k := range w.rows {
			if seen[k] {
				return true
			}
			seen[k] = true
		}
	}
	for i := range ws[0].idx {
		clear(seen)
		for _, w := range ws {
			if len(w.idx) != len(ws[0].idx) {
				return true // different layouts: let the checks say
			}
			for k := range w.idx[i] {
				if seen[k] {
					return true
				}
				seen[k] = true
			}
		}
	}
	return false
}
