package chunk

import (
	"context"
	"fmt"
)

// walkBatch is how many chunks Walk asks the store for at once. Large: a
// store reads a batch in hash order, and the closer together the hashes of
// a batch, the more of them one block read of the store serves (a full
// sync of 1,000,000 rows went from 3.4 to 2.2 s when it grew from 256).
const walkBatch = 16384

// Walk visits every chunk reachable from roots once, parents before children
// within each branch, reading the references of each from its envelope. skip,
// if not nil, prunes the walk: a chunk for which it returns true is neither
// visited nor descended into. A reachable chunk the store lacks is an error
// matching ErrNotFound that names it; a malformed one matches ErrCorruption.
// Zero hashes among roots are ignored.
func Walk(ctx context.Context, s Store, roots []Hash, skip func(Hash) bool, visit func(h Hash, data []byte) error) error {
	seen := make(HashSet)
	var queue []Hash
	for _, r := range roots {
		if !r.IsZero() && !seen.Has(r) {
			seen.Add(r)
			queue = append(queue, r)
		}
	}
	for len(queue) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(len(queue), walkBatch)
		batch := queue[:n]
		queue = queue[n:]
		if skip != nil {
			kept := batch[:0:0]
			for _, h := range batch {
				if !skip(h) {
					kept = append(kept, h)
				}
			}
			batch = kept
		}
		got := make(HashSet, len(batch))
		err := s.GetMany(ctx, batch, func(c Chunk) error {
			got.Add(c.Hash)
			env, err := Decode(c.Hash, c.Data)
			if err != nil {
				return err
			}
			if err := visit(c.Hash, c.Data); err != nil {
				return err
			}
			for i := 0; i < env.NumRefs(); i++ {
				r := env.Ref(i)
				if !seen.Has(r) {
					seen.Add(r)
					queue = append(queue, r)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(got) != len(batch) {
			for _, h := range batch {
				if !got.Has(h) {
					return fmt.Errorf("chunk: walk: reachable chunk %s: %w", h, ErrNotFound)
				}
			}
		}
	}
	return nil
}
