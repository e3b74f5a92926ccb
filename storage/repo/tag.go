package repo

import (
	"errors"
	"fmt"

	"github.com/cairndb/cairn/storage/chunk"
)

// tagVersion is the version byte of a Tag payload.
const tagVersion = 1

// Tag is an annotated tag: a commit, who tagged it, when and why. A tag ref
// names a Tag chunk, never a commit directly.
type Tag struct {
	Commit  chunk.Hash
	Tagger  Signature
	Message string
}

// Encode returns the chunk of t. Its one reference is the commit.
func (t *Tag) Encode() (chunk.Chunk, error) {
	if t.Commit.IsZero() {
		return chunk.Chunk{}, invalid("tag", errors.New("zero commit hash"))
	}
	if err := t.Tagger.validate(); err != nil {
		return chunk.Chunk{}, invalid("tag", fmt.Errorf("tagger: %w", err))
	}
	e := encoder{}
	e.byte(tagVersion)
	e.signature(t.Tagger)
	e.str(t.Message)
	return chunk.New(chunk.Encode(chunk.KindTag, []chunk.Hash{t.Commit}, e.buf)), nil
}

// DecodeTag decodes chunk h holding data. Malformed data gives an error
// matching chunk.ErrCorruption that names h.
func DecodeTag(h chunk.Hash, data []byte) (*Tag, error) {
	refs, d, err := open(h, data, chunk.KindTag, "tag", tagVersion)
	if err != nil {
		return nil, err
	}
	t := &Tag{Tagger: d.signature(), Message: d.str()}
	if err := d.finish(); err != nil {
		return nil, err
	}
	if len(refs) != 1 {
		return nil, chunk.Corruptf(h, "decode tag: %d references, want 1", len(refs))
	}
	t.Commit = refs[0]
	return t, nil
}
