package repo

import (
	"container/heap"
	"context"
	"errors"
	"fmt"

	"github.com/cairndb/cairn/storage/chunk"
)

// The walks of the commit graph rely on heights: a commit is higher than each
// of its parents, so taking commits highest first visits every descendant of
// a commit before the commit itself. Each walk checks the heights of the edges
// it follows and reports a parent that is not lower than its child as
// corruption, rather than giving a wrong answer.

// queued is a commit waiting in a walk.
type queued struct {
	h chunk.Hash
	c *Commit
}

// commitQueue is a max-heap of commits: highest first, then latest committer
// time, then lowest hash, so that walks are deterministic.
type commitQueue []queued

func (q commitQueue) Len() int { return len(q) }
func (q commitQueue) Less(i, j int) bool {
	a, b := q[i], q[j]
	if a.c.Height != b.c.Height {
		return a.c.Height > b.c.Height
	}
	if !a.c.Committer.Time.Equal(b.c.Committer.Time) {
		return a.c.Committer.Time.After(b.c.Committer.Time)
	}
	return a.h.Compare(b.h) < 0
}
func (q commitQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *commitQueue) Push(x any)   { *q = append(*q, x.(queued)) }
func (q *commitQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// readParent reads parent p of commit child (hash h) and checks that it is
// lower.
func (r *Repo) readParent(ctx context.Context, h chunk.Hash, child *Commit, p chunk.Hash) (*Commit, error) {
	pc, err := r.ReadCommit(ctx, p)
	if err != nil {
		return nil, err
	}
	if err := checkEdge(h, child, p, pc.Height); err != nil {
		return nil, err
	}
	return pc, nil
}

// checkEdge checks that parent p, of height height, of commit child (hash h)
// is lower than it. The walks check every edge they follow, also to a parent
// already read through another child, whose height they remember.
func checkEdge(h chunk.Hash, child *Commit, p chunk.Hash, height uint64) error {
	if height >= child.Height {
		return chunk.Corruptf(h, "commit of height %d has parent %s of height %d", child.Height, p, height)
	}
	return nil
}

// Log calls fn for start and each of its ancestors, once each, newest first:
// highest first, then latest committer time, then lowest hash. Every commit
// comes before its parents, and a linear history comes in order. If fn
// returns ErrStop, Log stops and returns nil; any other error stops it and is
// returned. The commit passed to fn is fn's to keep.
func (r *Repo) Log(ctx context.Context, start chunk.Hash, fn func(h chunk.Hash, c *Commit) error) error {
	c, err := r.userCommit(ctx, start)
	if err != nil {
		return fmt.Errorf("repo: log: %w", err)
	}
	q := commitQueue{{start, c}}
	seen := map[chunk.Hash]uint64{start: c.Height} // height of each commit read
	for q.Len() > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		e := heap.Pop(&q).(queued)
		if err := fn(e.h, e.c); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
		for _, p := range e.c.Parents {
			if height, ok := seen[p]; ok {
				if err := checkEdge(e.h, e.c, p, height); err != nil {
					return fmt.Errorf("repo: log: %w", err)
				}
				continue
			}
			pc, err := r.readParent(ctx, e.h, e.c, p)
			if err != nil {
				return fmt.Errorf("repo: log: %w", err)
			}
			seen[p] = pc.Height
			heap.Push(&q, queued{p, pc})
		}
	}
	return nil
}

// IsAncestor reports whether commit a is an ancestor of commit b or b itself:
// whether moving a branch from a to b is a fast-forward. It visits only
// commits higher than a.
func (r *Repo) IsAncestor(ctx context.Context, a, b chunk.Hash) (bool, error) {
	ca, err := r.userCommit(ctx, a)
	if err != nil {
		return false, fmt.Errorf("repo: is ancestor: %w", err)
	}
	cb, err := r.userCommit(ctx, b)
	if err != nil {
		return false, fmt.Errorf("repo: is ancestor: %w", err)
	}
	if a == b {
		return true, nil
	}
	stack := []queued{{b, cb}}
	seen := map[chunk.Hash]uint64{b: cb.Height} // height of each commit read
	for len(stack) > 0 {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		e := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if e.c.Height <= ca.Height {
			continue
		}
		for _, p := range e.c.Parents {
			if p == a {
				return true, nil // e is higher than a: the edge is sound
			}
			if height, ok := seen[p]; ok {
				if err := checkEdge(e.h, e.c, p, height); err != nil {
					return false, fmt.Errorf("repo: is ancestor: %w", err)
				}
				continue
			}
			pc, err := r.readParent(ctx, e.h, e.c, p)
			if err != nil {
				return false, fmt.Errorf("repo: is ancestor: %w", err)
			}
			seen[p] = pc.Height
			stack = append(stack, queued{p, pc})
		}
	}
	return false, nil
}

// MergeBase returns the best common ancestor of commits a and b: one that is
// not an ancestor of another common ancestor, and of those the highest (then
// the latest, then the lowest hash). Unrelated commits give ErrNoMergeBase.
func (r *Repo) MergeBase(ctx context.Context, a, b chunk.Hash) (chunk.Hash, error) {
	bases, err := r.mergeBases(ctx, a, b, false)
	if err != nil {
		return chunk.Hash{}, err
	}
	return bases[0], nil
}

// MergeBases returns every common ancestor of commits a and b that is not an
// ancestor of another: one, except after criss-cross merges. They come in the
// order Log would visit them, so the first is MergeBase's. Unrelated commits
// give ErrNoMergeBase.
func (r *Repo) MergeBases(ctx context.Context, a, b chunk.Hash) ([]chunk.Hash, error) {
	return r.mergeBases(ctx, a, b, true)
}

// Flags of the merge-base walk.
const (
	fromA = 1 << iota // reachable from a
	fromB             // reachable from b
	stale             // an ancestor of a common ancestor already found
)

// mergeBases paints the ancestors of a and b, highest first, as git's
// paint_down_to_common does with generation numbers. Because every child of a
// commit is taken before it, a commit's flags are final when it is taken: the
// first commit reachable from both is a best common ancestor, and each later
// one that is not stale is another. The walk ends when every commit waiting
// is stale, or, unless all, at the first.
func (r *Repo) mergeBases(ctx context.Context, a, b chunk.Hash, all bool) ([]chunk.Hash, error) {
	ca, err := r.userCommit(ctx, a)
	if err != nil {
		return nil, fmt.Errorf("repo: merge base: %w", err)
	}
	cb, err := r.userCommit(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("repo: merge base: %w", err)
	}
	if a == b {
		return []chunk.Hash{a}, nil
	}
	type mark struct {
		flags  uint8
		height uint64
	}
	marks := map[chunk.Hash]mark{a: {fromA, ca.Height}, b: {fromB, cb.Height}}
	q := commitQueue{{a, ca}, {b, cb}}
	heap.Init(&q)
	live := 2 // waiting commits that are not stale
	var bases []chunk.Hash
	for live > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		e := heap.Pop(&q).(queued)
		f := marks[e.h].flags
		if f&stale == 0 {
			live--
			if f&(fromA|fromB) == fromA|fromB {
				bases = append(bases, e.h)
				if !all {
					break
				}
				f |= stale
			}
		}
		for _, p := range e.c.Parents {
			m, seen := marks[p]
			old := m.flags
			nf := old | f
			if !seen {
				pc, err := r.readParent(ctx, e.h, e.c, p)
				if err != nil {
					return nil, fmt.Errorf("repo: merge base: %w", err)
				}
				m.height = pc.Height
				heap.Push(&q, queued{p, pc})
				if nf&stale == 0 {
					live++
				}
			} else {
				// A parent read through another child may already have been
				// taken: its flags are final only if it is lower than e.
				if err := checkEdge(e.h, e.c, p, m.height); err != nil {
					return nil, fmt.Errorf("repo: merge base: %w", err)
				}
				if old&stale == 0 && nf&stale != 0 {
					live--
				}
			}
			m.flags = nf
			marks[p] = m
		}
	}
	if len(bases) == 0 {
		return nil, fmt.Errorf("repo: merge base of %s and %s: %w", a, b, ErrNoMergeBase)
	}
	return bases, nil
}
