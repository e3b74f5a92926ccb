package repo

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/cairndb/cairn/storage/chunk"
)

// minPrefixLen is the shortest hash prefix Resolve accepts, as in git.
const minPrefixLen = 4

// Resolve returns the commit that revision rev names. head is the current
// branch, which HEAD names; with head empty, HEAD is an error. rev is a base
// followed by any number of suffixes:
//
//	HEAD             the head of branch head (in any case: head, Head)
//	refs/...         a full ref name; a tag is taken to its commit
//	NAME             branch NAME, else tag NAME, else remote-tracking
//	                 branch NAME (origin/main)
//	HASH             a commit's full hash, or a prefix of at least 4
//	                 characters of the hash of a commit reachable from a ref
//	~N, ~            the Nth first-parent ancestor (default 1)
//	^N, ^            the Nth parent (default 1); ^0 is the commit itself
//
// A name that means nothing, or an ancestor that does not exist, gives
// ErrRevisionNotFound; a prefix of several commits' hashes
// ErrAmbiguousRevision; a malformed revision ErrBadRevision.
func (r *Repo) Resolve(ctx context.Context, rev, head string) (chunk.Hash, error) {
	base, suffix := rev, ""
	if i := strings.IndexAny(rev, "~^"); i >= 0 {
		base, suffix = rev[:i], rev[i:]
	}
	if base == "" {
		return chunk.Hash{}, fmt.Errorf("repo: resolve %q: empty name: %w", rev, ErrBadRevision)
	}
	steps, err := parseSuffix(suffix)
	if err != nil {
		return chunk.Hash{}, fmt.Errorf("repo: resolve %q: %w", rev, err)
	}
	refs, err := r.store.Refs(ctx)
	if err != nil {
		return chunk.Hash{}, fmt.Errorf("repo: resolve %q: %w", rev, err)
	}
	h, err := r.resolveBase(ctx, refs, base, head)
	if err != nil {
		return chunk.Hash{}, fmt.Errorf("repo: resolve %q: %w", rev, err)
	}
	c, err := r.userCommit(ctx, h)
	if err != nil {
		return chunk.Hash{}, fmt.Errorf("repo: resolve %q: %w", rev, err)
	}
	for _, s := range steps {
		for range s.repeat {
			if s.parent == 0 {
				break
			}
			if s.parent > len(c.Parents) {
				return chunk.Hash{}, fmt.Errorf("repo: resolve %q: commit %s has %d parents: %w", rev, h, len(c.Parents), ErrRevisionNotFound)
			}
			p := c.Parents[s.parent-1]
			if c, err = r.readParent(ctx, h, c, p); err != nil {
				return chunk.Hash{}, fmt.Errorf("repo: resolve %q: %w", rev, err)
			}
			h = p
		}
	}
	return h, nil
}

// step is one suffix: take parent number parent (1 = first) repeat times.
type step struct{ parent, repeat int }

// parseSuffix parses a run of ~N and ^N.
func parseSuffix(s string) ([]step, error) {
	var steps []step
	for s != "" {
		op := s[0]
		s = s[1:]
		digits := len(s) - len(strings.TrimLeft(s, "0123456789"))
		n := 1
		if digits > 0 {
			var err error
			if n, err = strconv.Atoi(s[:digits]); err != nil {
				return nil, fmt.Errorf("bad number %q after %c: %w", s[:digits], op, ErrBadRevision)
			}
			s = s[digits:]
		}
		switch op {
		case '~':
			steps = append(steps, step{parent: 1, repeat: n})
		case '^':
			steps = append(steps, step{parent: n, repeat: 1})
		default:
			return nil, fmt.Errorf("unexpected %q: %w", op, ErrBadRevision)
		}
	}
	return steps, nil
}

// resolveBase returns the commit that base, a revision without suffixes,
// names, given refs.
func (r *Repo) resolveBase(ctx context.Context, refs map[string]chunk.Hash, base, head string) (chunk.Hash, error) {
	if strings.EqualFold(base, "HEAD") {
		if head == "" {
			return chunk.Hash{}, fmt.Errorf("HEAD: no current branch: %w", ErrRevisionNotFound)
		}
		h, ok := refs[BranchRef(head)]
		if !ok {
			return chunk.Hash{}, fmt.Errorf("HEAD: branch %q: %w", head, ErrBranchNotFound)
		}
		return h, nil
	}
	if strings.HasPrefix(base, "refs/") {
		h, ok := refs[base]
		if !ok {
			return chunk.Hash{}, fmt.Errorf("no ref %q: %w", base, ErrRevisionNotFound)
		}
		return r.peel(ctx, h)
	}
	for _, name := range []string{BranchRef(base), TagRef(base), RemotesPrefix + base} {
		if h, ok := refs[name]; ok {
			return r.peel(ctx, h)
		}
	}
	if len(base) >= minPrefixLen && chunk.IsHashPrefix(base) {
		return r.resolvePrefix(ctx, refs, base)
	}
	return chunk.Hash{}, fmt.Errorf("no branch, tag or commit %q: %w", base, ErrRevisionNotFound)
}

// peel returns the commit that chunk h is or, if it is a tag, names.
func (r *Repo) peel(ctx context.Context, h chunk.Hash) (chunk.Hash, error) {
	data, err := r.store.Get(ctx, h)
	if err != nil {
		return chunk.Hash{}, err
	}
	env, err := chunk.Decode(h, data)
	if err != nil {
		return chunk.Hash{}, err
	}
	if env.Kind == chunk.KindTag {
		t, err := DecodeTag(h, data)
		if err != nil {
			return chunk.Hash{}, err
		}
		return t.Commit, nil
	}
	return h, nil
}

// maxAmbiguous bounds how many candidates an ambiguous prefix error lists.
const maxAmbiguous = 5

// resolvePrefix finds the commit whose hash starts with prefix. A full hash
// needs only to be in the store. A shorter prefix is looked for among the
// commits reachable from refs: the store has no index of hashes to search.
func (r *Repo) resolvePrefix(ctx context.Context, refs map[string]chunk.Hash, prefix string) (chunk.Hash, error) {
	if len(prefix) == chunk.HashStringLen {
		h, err := chunk.Parse(prefix)
		if err != nil {
			return chunk.Hash{}, fmt.Errorf("%w: %w", err, ErrBadRevision)
		}
		if ok, err := r.store.Has(ctx, h); err != nil {
			return chunk.Hash{}, err
		} else if !ok {
			return chunk.Hash{}, fmt.Errorf("no commit %s: %w", h, ErrRevisionNotFound)
		}
		return h, nil
	}
	var starts []chunk.Hash
	for name, h := range refs {
		if strings.HasPrefix(name, HeadsPrefix) || strings.HasPrefix(name, TagsPrefix) || strings.HasPrefix(name, RemotesPrefix) {
			c, err := r.peel(ctx, h)
			if err != nil {
				return chunk.Hash{}, err
			}
			starts = append(starts, c)
		}
	}
	var found []chunk.Hash
	seen := chunk.NewHashSet()
	for len(starts) > 0 {
		if err := ctx.Err(); err != nil {
			return chunk.Hash{}, err
		}
		h := starts[len(starts)-1]
		starts = starts[:len(starts)-1]
		if seen.Has(h) {
			continue
		}
		seen.Add(h)
		if strings.HasPrefix(h.String(), prefix) {
			found = append(found, h)
		}
		c, err := r.ReadCommit(ctx, h)
		if err != nil {
			return chunk.Hash{}, err
		}
		starts = append(starts, c.Parents...)
	}
	switch len(found) {
	case 0:
		return chunk.Hash{}, fmt.Errorf("no commit with prefix %q: %w", prefix, ErrRevisionNotFound)
	case 1:
		return found[0], nil
	}
	sort.Slice(found, func(i, j int) bool { return found[i].Compare(found[j]) < 0 })
	names := make([]string, 0, maxAmbiguous)
	for _, h := range found[:min(len(found), maxAmbiguous)] {
		names = append(names, h.String())
	}
	more := ""
	if len(found) > maxAmbiguous {
		more = fmt.Sprintf(" and %d more", len(found)-maxAmbiguous)
	}
	return chunk.Hash{}, fmt.Errorf("prefix %q matches %d commits (%s%s): %w",
		prefix, len(found), strings.Join(names, ", "), more, ErrAmbiguousRevision)
}
