package tree

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/cairndb/cairn/storage/chunk"
)

// NodeStore reads and writes tree nodes and blobs in a chunk store, through a
// cache of decoded nodes. It is safe for concurrent use.
type NodeStore struct {
	cs    chunk.Store
	cache *NodeCache
	reads atomic.Uint64

	// raMu guards inflight: the nodes a readahead is reading in the
	// background, each with a channel closed when its batch is done.
	raMu     sync.Mutex
	inflight map[chunk.Hash]chan struct{}
}

// NewNodeStore returns a node store over cs. cache may be shared between node
// stores; nil means no caching. Make one node store per chunk store: cached
// nodes are kept per node store.
func NewNodeStore(cs chunk.Store, cache *NodeCache) *NodeStore {
	return &NodeStore{cs: cs, cache: cache}
}

// ChunkStore returns the chunk store under ns.
func (ns *NodeStore) ChunkStore() chunk.Store { return ns.cs }

// Reads returns how many nodes ns has been asked for, from the cache or the
// store. Tests and benchmarks use it to count the nodes an operation visits.
func (ns *NodeStore) Reads() uint64 { return ns.reads.Load() }

func (ns *NodeStore) read(ctx context.Context, h chunk.Hash) (*node, error) {
	ns.reads.Add(1)
	if ns.cache != nil {
		if n := ns.cache.get(ns, h); n != nil {
			return n, nil
		}
		if n := ns.awaitReadahead(ctx, h); n != nil {
			return n, nil
		}
	}
	data, err := ns.cs.Get(ctx, h)
	if err != nil {
		return nil, fmt.Errorf("tree: read node: %w", err)
	}
	n, err := decodeNode(h, data)
	if err != nil {
		return nil, err
	}
	if ns.cache != nil {
		ns.cache.put(ns, n)
	}
	return n, nil
}

// readahead reads the nodes hs in the background into the cache, skipping
// those cached or already being read: in one batch, or in two halves at once
// when there are 8 or more (reading and checking chunks is most of a scan's
// work, and a second core can share it). A reader that needs one of them
// meanwhile waits for its batch (awaitReadahead). Without a cache it does
// nothing. A node a batch cannot read or decode is left out: its reader
// reads it again and reports the error.
func (ns *NodeStore) readahead(ctx context.Context, hs []chunk.Hash) {
	if ns.cache == nil || len(hs) == 0 {
		return
	}
	want := make([]chunk.Hash, 0, len(hs))
	ns.raMu.Lock()
	defer ns.raMu.Unlock()
	if ns.inflight == nil {
		ns.inflight = make(map[chunk.Hash]chan struct{})
	}
	for _, h := range hs {
		if _, ok := ns.inflight[h]; ok || ns.cache.contains(ns, h) {
			continue
		}
		want = append(want, h)
	}
	size := len(want)
	if size >= 8 {
		size = (size + 1) / 2
	}
	for len(want) > 0 {
		batch := want[:min(size, len(want))]
		want = want[len(batch):]
		done := make(chan struct{})
		for _, h := range batch {
			ns.inflight[h] = done
		}
		go ns.readBatch(ctx, batch, done)
	}
}

// readBatch reads the nodes hs into the cache for readahead, then closes
// done and forgets them as in flight.
func (ns *NodeStore) readBatch(ctx context.Context, hs []chunk.Hash, done chan struct{}) {
	defer func() {
		ns.raMu.Lock()
		for _, h := range hs {
			delete(ns.inflight, h)
		}
		ns.raMu.Unlock()
		close(done)
	}()
	_ = ns.cs.GetMany(ctx, hs, func(c chunk.Chunk) error {
		if n, err := decodeNode(c.Hash, c.Data); err == nil {
			ns.cache.put(ns, n)
		}
		return nil
	})
}

// awaitReadahead waits for the readahead batch reading node h, if there is
// one, and returns the node if the batch cached it.
func (ns *NodeStore) awaitReadahead(ctx context.Context, h chunk.Hash) *node {
	ns.raMu.Lock()
	done := ns.inflight[h]
	ns.raMu.Unlock()
	if done == nil {
		return nil
	}
	select {
	case <-done:
	case <-ctx.Done():
		return nil
	}
	return ns.cache.get(ns, h)
}

// readChild reads child i of internal node n and checks that it fits there:
// one level below n, holding the entries n counts under it, its keys above
// key i-1 of n and its last key key i. A corrupt store that breaks these
// (a node naming itself or skipping a level, an empty child) is reported as
// corruption instead of making readers loop or index out of range.
func (ns *NodeStore) readChild(ctx context.Context, n *node, i int) (*node, error) {
	child, err := ns.read(ctx, n.child(i))
	if err != nil {
		return nil, err
	}
	switch {
	case child.level != n.level-1:
		return nil, chunk.Corruptf(n.hash, "tree node: child %d is at level %d under level %d", i, child.level, n.level)
	case child.treeCount() != n.childCount(i):
		return nil, chunk.Corruptf(n.hash, "tree node: child %d holds %d entries, parent counts %d", i, child.treeCount(), n.childCount(i))
	case !bytes.Equal(child.lastKey(), n.key(i)) || i > 0 && bytes.Compare(child.key(0), n.key(i-1)) <= 0:
		return nil, chunk.Corruptf(n.hash, "tree node: child %d keys out of range", i)
	}
	return child, nil
}

// writer collects the chunks of one operation and puts them in one batch.
type writer struct {
	ns     *NodeStore
	chunks []chunk.Chunk
	bytes  int
}

// entryBufs holds the entry buffers of finished chunkers for the next ones.
// An edit makes a chunker per level it rewrites, and a chunker's buffer
// grows to a node's entries (about 300 in a leaf of short index keys):
// made afresh for each edit, the buffers were two thirds of the bytes an
// autocommit INSERT allocated.
var entryBufs = sync.Pool{New: func() any { b := make([]entry, 0, 128); return &b }}

// entryBuf returns an empty entry buffer for a chunker.
func entryBuf() []entry {
	return (*entryBufs.Get().(*[]entry))[:0]
}

// releaseEntryBuf gives a chunker's buffer back. It clears the entries so
// the buffer keeps no node's bytes alive.
func releaseEntryBuf(b []entry) {
	clear(b)
	b = b[:0]
	entryBufs.Put(&b)
}

// writerFlushBytes is how much a writer buffers before putting.
const writerFlushBytes = 4 << 20

// node encodes, caches and buffers a node; it returns the decoded node.
func (w *writer) node(ctx context.Context, level int, entries []entry) (*node, error) {
	n := makeNode(level, entries)
	return n, w.put(ctx, n)
}

// put caches and buffers a node made by this writer.
func (w *writer) put(ctx context.Context, n *node) error {
	if w.ns.cache != nil {
		w.ns.cache.put(w.ns, n)
	}
	return w.add(ctx, chunk.Chunk{Hash: n.hash, Data: n.data})
}

// replaced tells the cache that n is no longer in the tree being edited:
// it goes to the cold end, so that the nodes replaced by a stream of
// commits do not push the live ones out. (Readers of older roots may still
// want it, and bring it back if they do. A new node equal to it, put
// afterwards in the same edit, goes back to the front.)
func (w *writer) replaced(n *node) {
	if w.ns.cache != nil {
		w.ns.cache.demote(w.ns, n.hash)
	}
}

func (w *writer) add(ctx context.Context, c chunk.Chunk) error {
	w.chunks = append(w.chunks, c)
	w.bytes += len(c.Data)
	if w.bytes >= writerFlushBytes {
		return w.flush(ctx)
	}
	return nil
}

func (w *writer) flush(ctx context.Context) error {
	if len(w.chunks) == 0 {
		return nil
	}
	var err error
	if op, ok := w.ns.cs.(chunk.OwnedPutter); ok {
		err = op.PutOwned(ctx, w.chunks...) // a node's bytes never change
	} else {
		err = w.ns.cs.Put(ctx, w.chunks...)
	}
	w.chunks, w.bytes = nil, 0
	if err != nil {
		return fmt.Errorf("tree: write nodes: %w", err)
	}
	return nil
}

// read reads a node, which may be one this writer has not put yet.
func (w *writer) read(ctx context.Context, h chunk.Hash) (*node, error) {
	if err := w.flush(ctx); err != nil {
		return nil, err
	}
	return w.ns.read(ctx, h)
}
