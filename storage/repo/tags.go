package repo

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
)

// NamedTag is a tag ref, the hash of its Tag chunk and the tag.
type NamedTag struct {
	Name string
	Hash chunk.Hash
	*Tag
}

// TagOptions configures CreateTag.
type TagOptions struct {
	// Tagger signs the tag. A zero Time means now.
	Tagger  Signature
	Message string
}

// CreateTag creates tag name on commit and returns the hash of its Tag chunk.
// A taken name gives ErrTagExists, an invalid one ErrInvalidName, a hash that
// is not a commit ErrNotCommit.
func (r *Repo) CreateTag(ctx context.Context, name string, commit chunk.Hash, opts TagOptions) (chunk.Hash, error) {
	if err := CheckTagName(name); err != nil {
		return chunk.Hash{}, err
	}
	refs, release, err := r.leasedRefs(ctx)
	if err != nil {
		return chunk.Hash{}, fmt.Errorf("repo: create tag %q: %w", name, err)
	}
	defer release()
	if _, ok := refs[TagRef(name)]; ok {
		return chunk.Hash{}, fmt.Errorf("repo: create tag %q: %w", name, ErrTagExists)
	}
	defer r.lease(commit)()
	if _, err := r.userCommit(ctx, commit); err != nil {
		return chunk.Hash{}, fmt.Errorf("repo: create tag %q: %w", name, err)
	}
	tagger := opts.Tagger
	if tagger.Time.IsZero() {
		tagger.Time = time.Now()
	}
	if err := tagger.validate(); err != nil { // before normalize wraps it
		return chunk.Hash{}, invalid("tag", fmt.Errorf("tagger: %w", err))
	}
	t := &Tag{Commit: commit, Tagger: tagger.normalize(), Message: opts.Message}
	c, err := t.Encode()
	if err != nil {
		return chunk.Hash{}, err
	}
	if _, err := r.put(ctx, c); err != nil {
		return chunk.Hash{}, err
	}
	if err := r.store.UpdateRefs(ctx, chunk.RefUpdate{Name: TagRef(name), New: c.Hash}); err != nil {
		return chunk.Hash{}, fmt.Errorf("repo: create tag %q: %w", name, err)
	}
	return c.Hash, nil
}

// DeleteTag deletes tag name; a missing tag gives ErrTagNotFound.
func (r *Repo) DeleteTag(ctx context.Context, name string) error {
	h, ok, err := chunk.GetRef(ctx, r.store, TagRef(name))
	if err != nil {
		return fmt.Errorf("repo: delete tag %q: %w", name, err)
	}
	if !ok {
		return fmt.Errorf("repo: delete tag %q: %w", name, ErrTagNotFound)
	}
	if err := r.store.UpdateRefs(ctx, chunk.RefUpdate{Name: TagRef(name), Old: h}); err != nil {
		return fmt.Errorf("repo: delete tag %q: %w", name, err)
	}
	return nil
}

// Tags returns every tag, read, in ascending order of name.
func (r *Repo) Tags(ctx context.Context) ([]NamedTag, error) {
	refs, err := r.store.Refs(ctx)
	if err != nil {
		return nil, fmt.Errorf("repo: list tags: %w", err)
	}
	var out []NamedTag
	for name, h := range refs {
		if t, ok := strings.CutPrefix(name, TagsPrefix); ok {
			out = append(out, NamedTag{Name: t, Hash: h})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	for i := range out {
		if out[i].Tag, err = r.ReadTag(ctx, out[i].Hash); err != nil {
			return nil, fmt.Errorf("repo: list tags: %q: %w", out[i].Name, err)
		}
	}
	return out, nil
}
