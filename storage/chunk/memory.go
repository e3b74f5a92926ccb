package chunk

import (
	"context"
	"fmt"
	"sync"
)

// MemoryStore is a Store in memory, for tests. Put copies nothing: callers
// must not modify slices they have put. Like every store, it checks bytes
// against their hash when it returns them, so tests can put damaged chunks.
type MemoryStore struct {
	mu     sync.RWMutex
	chunks map[Hash]memChunk
	refs   map[string]Hash
	gen    uint64
	leases *Leases
	closed bool
}

type memChunk struct {
	data []byte
	gen  uint64
}

var (
	_ Store       = (*MemoryStore)(nil)
	_ Collectable = (*MemoryStore)(nil)
)

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{chunks: make(map[Hash]memChunk), refs: make(map[string]Hash), leases: NewLeases(0)}
}

func (m *MemoryStore) rlock() error {
	m.mu.RLock()
	if m.closed {
		m.mu.RUnlock()
		return ErrClosed
	}
	return nil
}

// Get implements Store.
func (m *MemoryStore) Get(ctx context.Context, h Hash) ([]byte, error) {
	if err := m.rlock(); err != nil {
		return nil, err
	}
	c, ok := m.chunks[h]
	m.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("chunk: get %s: %w", h, ErrNotFound)
	}
	if err := Verify(h, c.data); err != nil {
		return nil, err
	}
	return c.data, nil
}

// GetMany implements Store.
func (m *MemoryStore) GetMany(ctx context.Context, hashes []Hash, found func(Chunk) error) error {
	if err := m.rlock(); err != nil {
		return err
	}
	got := make([]Chunk, 0, len(hashes))
	seen := make(HashSet, len(hashes))
	for _, h := range hashes {
		if c, ok := m.chunks[h]; ok && !seen.Has(h) {
			seen.Add(h)
			got = append(got, Chunk{Hash: h, Data: c.data})
		}
	}
	m.mu.RUnlock()
	for _, c := range got {
		if err := Verify(c.Hash, c.Data); err != nil {
			return err
		}
		if err := found(c); err != nil {
			return err
		}
	}
	return nil
}

// Has implements Store.
func (m *MemoryStore) Has(ctx context.Context, h Hash) (bool, error) {
	if err := m.rlock(); err != nil {
		return false, err
	}
	defer m.mu.RUnlock()
	_, ok := m.chunks[h]
	return ok, nil
}

// HasMany implements Store.
func (m *MemoryStore) HasMany(ctx context.Context, hashes []Hash) (HashSet, error) {
	if err := m.rlock(); err != nil {
		return nil, err
	}
	defer m.mu.RUnlock()
	absent := make(HashSet)
	for _, h := range hashes {
		if _, ok := m.chunks[h]; !ok {
			absent.Add(h)
		}
	}
	return absent, nil
}

// Put implements Store.
func (m *MemoryStore) Put(ctx context.Context, chunks ...Chunk) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	for _, c := range chunks {
		m.chunks[c.Hash] = memChunk{data: c.Data, gen: m.gen}
	}
	return nil
}

// Refs implements Store.
func (m *MemoryStore) Refs(ctx context.Context) (map[string]Hash, error) {
	if err := m.rlock(); err != nil {
		return nil, err
	}
	defer m.mu.RUnlock()
	out := make(map[string]Hash, len(m.refs))
	for k, v := range m.refs {
		out[k] = v
	}
	return out, nil
}

// UpdateRefs implements Store.
func (m *MemoryStore) UpdateRefs(ctx context.Context, updates ...RefUpdate) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	targets, err := CheckUpdates(m.refs, updates)
	if err != nil {
		return err
	}
	for _, h := range targets {
		if _, ok := m.chunks[h]; !ok {
			return fmt.Errorf("chunk: update refs: %s: %w", h, ErrMissingChunk)
		}
	}
	for _, u := range updates {
		if u.New.IsZero() {
			delete(m.refs, u.Name)
		} else {
			m.refs[u.Name] = u.New
		}
	}
	return nil
}

// Close implements Store.
func (m *MemoryStore) Close() error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	return nil
}

// Len returns how many chunks the store holds.
func (m *MemoryStore) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.chunks)
}

// Leases implements Collectable.
func (m *MemoryStore) Leases() *Leases { return m.leases }

// ForEachChunk implements Collectable.
func (m *MemoryStore) ForEachChunk(ctx context.Context, fn func(Hash, uint64) error) error {
	if err := m.rlock(); err != nil {
		return err
	}
	type hg struct {
		h   Hash
		gen uint64
	}
	all := make([]hg, 0, len(m.chunks))
	for h, c := range m.chunks {
		all = append(all, hg{h, c.gen})
	}
	m.mu.RUnlock()
	for _, x := range all {
		if err := fn(x.h, x.gen); err != nil {
			return err
		}
	}
	return nil
}

// DeleteChunks implements Collectable.
func (m *MemoryStore) DeleteChunks(ctx context.Context, hashes []Hash, before uint64) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, ErrClosed
	}
	n := 0
	for _, h := range hashes {
		if c, ok := m.chunks[h]; ok && c.gen < before {
			delete(m.chunks, h)
			n++
		}
	}
	return n, nil
}

// AdvanceGeneration implements Collectable.
func (m *MemoryStore) AdvanceGeneration(ctx context.Context) (uint64, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return 0, ErrClosed
	}
	m.gen++
	gen := m.gen
	m.mu.Unlock()
	m.leases.SetGeneration(gen)
	return gen, nil
}
