package tree

import (
	"container/list"
	"sync"
	"sync/atomic"

	"github.com/cairndb/cairn/storage/chunk"
)

// DefaultCacheBytes is the node cache size NewNodeCache uses for a
// non-positive size.
const DefaultCacheBytes = 64 << 20

const cacheShards = 16

// NodeCache holds recently used decoded nodes, bounded by their approximate
// size in bytes. It is safe for concurrent use and may be shared by the node
// stores of several databases. Entries are kept per node store: a store is
// never served a node it does not hold because another store holds it, which
// would hide a chunk missing from it (after an incomplete copy, say).
type NodeCache struct {
	shards       [cacheShards]cacheShard
	hits, misses atomic.Uint64
}

type cacheShard struct {
	mu    sync.Mutex
	max   int
	used  int
	items map[cacheKey]*list.Element
	lru   list.List // front: most recently used; values are *cacheEntry
}

// NewNodeCache returns a cache holding about maxBytes of decoded nodes.
func NewNodeCache(maxBytes int) *NodeCache {
	if maxBytes <= 0 {
		maxBytes = DefaultCacheBytes
	}
	c := &NodeCache{}
	for i := range c.shards {
		c.shards[i].max = maxBytes / cacheShards
		c.shards[i].items = make(map[cacheKey]*list.Element)
	}
	return c
}

// cacheKey names a node of one node store.
type cacheKey struct {
	owner *NodeStore
	h     chunk.Hash
}

type cacheEntry struct {
	key cacheKey
	n   *node
}

func (c *NodeCache) shard(h chunk.Hash) *cacheShard { return &c.shards[h[0]%cacheShards] }

func (c *NodeCache) get(owner *NodeStore, h chunk.Hash) *node {
	s := c.shard(h)
	s.mu.Lock()
	e, ok := s.items[cacheKey{owner, h}]
	if ok {
		s.lru.MoveToFront(e)
	}
	s.mu.Unlock()
	if !ok {
		c.misses.Add(1)
		return nil
	}
	c.hits.Add(1)
	return e.Value.(*cacheEntry).n
}

// contains reports whether owner's node h is cached, without counting a
// hit or a miss or refreshing it.
func (c *NodeCache) contains(owner *NodeStore, h chunk.Hash) bool {
	s := c.shard(h)
	s.mu.Lock()
	_, ok := s.items[cacheKey{owner, h}]
	s.mu.Unlock()
	return ok
}

// demote makes owner's node h, if cached, the first to be evicted.
func (c *NodeCache) demote(owner *NodeStore, h chunk.Hash) {
	s := c.shard(h)
	s.mu.Lock()
	if e, ok := s.items[cacheKey{owner, h}]; ok {
		s.lru.MoveToBack(e)
	}
	s.mu.Unlock()
}

func (c *NodeCache) put(owner *NodeStore, n *node) {
	s := c.shard(n.hash)
	key := cacheKey{owner, n.hash}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.items[key]; ok {
		s.lru.MoveToFront(e)
		return
	}
	if n.size > s.max {
		return
	}
	s.items[key] = s.lru.PushFront(&cacheEntry{key, n})
	s.used += n.size
	for s.used > s.max {
		e := s.lru.Back()
		old := e.Value.(*cacheEntry)
		s.lru.Remove(e)
		delete(s.items, old.key)
		s.used -= old.n.size
	}
}

// CacheStats reports a cache's use.
type CacheStats struct {
	Hits, Misses uint64
	Bytes        int
	Nodes        int
}

// Stats returns the cache's counters.
func (c *NodeCache) Stats() CacheStats {
	st := CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load()}
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		st.Bytes += s.used
		st.Nodes += len(s.items)
		s.mu.Unlock()
	}
	return st
}
