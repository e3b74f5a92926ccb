package tree

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/cairndb/cairn/storage/chunk"
)

// Blobs hold values longer than InlineLimit. The bytes are cut into leaves at
// content-defined points (a gear rolling hash, so an edit in the middle of a
// large value rewrites only the leaves around it), and the leaves are indexed
// by internal nodes of up to blobFanout children:
//
//	leaf:     envelope(KindBlobLeaf, no refs, bytes)
//	internal: envelope(KindBlobInternal, children, uvarint n, n × uvarint bytes under child)
const (
	blobMinLeaf = 1024
	blobMaxLeaf = 16384
	blobMask    = 1<<12 - 1 // about 4 KiB between cut points on average
	blobFanout  = 128
)

// gear is the table of the rolling hash: fixed pseudo-random words.
var gear = func() (t [256]uint64) {
	x := uint64(0x2545f4914f6cdd1d)
	for i := range t {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		t[i] = x
	}
	return t
}()

type blobRefLen struct {
	h chunk.Hash
	n uint64
}

// writeBlob stores data as a blob tree and returns its root.
func writeBlob(ctx context.Context, w *writer, data []byte) (chunk.Hash, error) {
	var level []blobRefLen
	for len(data) > 0 {
		cut := blobCut(data)
		c := chunk.New(chunk.Encode(chunk.KindBlobLeaf, nil, data[:cut]))
		if err := w.add(ctx, c); err != nil {
			return chunk.Hash{}, err
		}
		level = append(level, blobRefLen{c.Hash, uint64(cut)})
		data = data[cut:]
	}
	for len(level) > 1 {
		var up []blobRefLen
		for len(level) > 0 {
			n := min(len(level), blobFanout)
			group := level[:n]
			level = level[n:]
			refs := make([]chunk.Hash, n)
			p := binary.AppendUvarint(nil, uint64(n))
			var total uint64
			for i, g := range group {
				refs[i] = g.h
				p = binary.AppendUvarint(p, g.n)
				total += g.n
			}
			c := chunk.New(chunk.Encode(chunk.KindBlobInternal, refs, p))
			if err := w.add(ctx, c); err != nil {
				return chunk.Hash{}, err
			}
			up = append(up, blobRefLen{c.Hash, total})
		}
		level = up
	}
	return level[0].h, nil
}

// blobCut returns the length of the next blob leaf at the front of data.
func blobCut(data []byte) int {
	if len(data) <= blobMinLeaf {
		return len(data)
	}
	var h uint64
	end := min(len(data), blobMaxLeaf)
	for i := 0; i < end; i++ {
		h = h<<1 + gear[data[i]]
		if i >= blobMinLeaf && h&blobMask == 0 {
			return i + 1
		}
	}
	return end
}

// readBlob returns the bytes of the blob rooted at h, which must be size long.
func readBlob(ctx context.Context, cs chunk.Store, h chunk.Hash, size uint64) ([]byte, error) {
	out := make([]byte, 0, min(size, 1<<26))
	out, err := appendBlob(ctx, cs, h, out, size, 0)
	if err != nil {
		return nil, err
	}
	if uint64(len(out)) != size {
		return nil, chunk.Corruptf(h, "blob is %d bytes, want %d", len(out), size)
	}
	return out, nil
}

// appendBlob appends the bytes of the blob tree rooted at h to out, which
// they must not take beyond limit bytes: a corrupt index whose parts add up
// to more than the value's length (repeating a child, say) is refused before
// it is read, so a small value never costs more than its length to read.
func appendBlob(ctx context.Context, cs chunk.Store, h chunk.Hash, out []byte, limit uint64, depth int) ([]byte, error) {
	if depth > 16 {
		return nil, chunk.Corruptf(h, "blob tree too deep")
	}
	data, err := cs.Get(ctx, h)
	if err != nil {
		return nil, fmt.Errorf("tree: read blob: %w", err)
	}
	env, err := chunk.Decode(h, data)
	if err != nil {
		return nil, err
	}
	switch env.Kind {
	case chunk.KindBlobLeaf:
		if env.NumRefs() != 0 {
			return nil, chunk.Corruptf(h, "blob leaf with refs")
		}
		if uint64(len(out))+uint64(len(env.Payload)) > limit {
			return nil, chunk.Corruptf(h, "blob longer than its value")
		}
		return append(out, env.Payload...), nil
	case chunk.KindBlobInternal:
		p := env.Payload
		n, w := uvarint(p)
		if w <= 0 || n != uint64(env.NumRefs()) || n == 0 {
			return nil, chunk.Corruptf(h, "blob index: bad child count")
		}
		p = p[w:]
		for i := 0; i < int(n); i++ {
			l, w := uvarint(p)
			if w <= 0 || l == 0 || l > limit-uint64(len(out)) {
				return nil, chunk.Corruptf(h, "blob index: bad length")
			}
			p = p[w:]
			before := len(out)
			out, err = appendBlob(ctx, cs, env.Ref(i), out, uint64(before)+l, depth+1)
			if err != nil {
				return nil, err
			}
			if uint64(len(out)-before) != l {
				return nil, chunk.Corruptf(env.Ref(i), "blob part is %d bytes, index says %d", len(out)-before, l)
			}
		}
		if len(p) != 0 {
			return nil, chunk.Corruptf(h, "blob index: trailing bytes")
		}
		return out, nil
	}
	return nil, chunk.Corruptf(h, "not a blob chunk: %s", env.Kind)
}
