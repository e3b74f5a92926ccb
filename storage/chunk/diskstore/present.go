package diskstore

import (
	"sync"

	"github.com/cairndb/cairn/storage/chunk"
)

// presentCache remembers a few chunks HasMany found in Pebble. Every commit
// of a working set checks that the roots it names are held (repo's
// putWorkingSet): the working root is new, in the overlay, but the staged
// root stays the same for many commits and sat in Pebble, where each check
// cost a new iterator and a seek (3 % of the server's CPU in sysbench's
// oltp_update_index). DeleteChunks, the only way a chunk leaves Pebble,
// forgets everything; a lookup that began before the deletion then adds
// nothing (epoch), so the cache never answers present for a deleted chunk.
type presentCache struct {
	mu    sync.Mutex
	epoch uint64
	m     map[chunk.Hash]struct{}
}

// presentMax bounds the cache; past it, it starts over.
const presentMax = 256

// presentCalls is the most hashes a HasMany call may ask for to use the
// cache: the checks of a commit ask for a few, the copies of backups and
// pushes for thousands, which would only churn it.
const presentCalls = 8

// lacking returns hashes without those known present, and the epoch to pass
// to add.
func (p *presentCache) lacking(hashes []chunk.Hash) ([]chunk.Hash, uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.m) == 0 {
		return hashes, p.epoch
	}
	var out []chunk.Hash
	for i, h := range hashes {
		if _, ok := p.m[h]; ok {
			if out == nil {
				out = append(make([]chunk.Hash, 0, len(hashes)), hashes[:i]...)
			}
			continue
		}
		if out != nil {
			out = append(out, h)
		}
	}
	if out == nil {
		return hashes, p.epoch
	}
	return out, p.epoch
}

// add records hashes as present, found in Pebble after lacking returned
// epoch, unless chunks were deleted since.
func (p *presentCache) add(hashes []chunk.Hash, epoch uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.epoch != epoch {
		return
	}
	if p.m == nil || len(p.m)+len(hashes) > presentMax {
		p.m = make(map[chunk.Hash]struct{}, len(hashes))
	}
	for _, h := range hashes {
		p.m[h] = struct{}{}
	}
}

// forget empties the cache: chunks may have left Pebble.
func (p *presentCache) forget() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.epoch++
	p.m = nil
}
