package repo

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
)

// commitVersion is the version byte of a Commit payload.
const commitVersion = 1

// Signature says who did something and when. Time is stored in UTC to the
// millisecond (milliseconds since the Unix epoch, as Dolt stores it); finer
// precision and the time zone are dropped when it is encoded. A time more
// than some 292 million years from 1970, whose milliseconds do not fit an
// int64, cannot be encoded (ErrInvalidValue).
type Signature struct {
	Name  string
	Email string
	Time  time.Time
}

// The times an encoding can hold: those whose milliseconds since the epoch fit
// an int64, some 292 million years either side of 1970. UnixMilli wraps
// others silently into another time.
var (
	minTime = time.UnixMilli(math.MinInt64)
	maxTime = time.UnixMilli(math.MaxInt64).Add(time.Millisecond - time.Nanosecond)
)

// validate refuses a signature whose time an encoding cannot hold.
func (s Signature) validate() error {
	if s.Time.Before(minTime) || s.Time.After(maxTime) {
		return fmt.Errorf("time %v out of range", s.Time)
	}
	return nil
}

// normalize returns s with its time in UTC truncated to the millisecond, the
// form it has after a round trip through an encoding. s must be valid.
func (s Signature) normalize() Signature {
	s.Time = time.UnixMilli(s.Time.UnixMilli()).UTC()
	return s
}

// Commit is one node of the history: a root value, its parents and who made
// it, when and why.
type Commit struct {
	// Root is the hash of the RootValue chunk the commit records.
	Root chunk.Hash
	// Parents are the commits this one follows, first parent first (for a
	// merge, the branch merged into). They are distinct.
	Parents []chunk.Hash
	// Height is 1 for a commit without parents, otherwise 1 + the greatest
	// height of its parents: a commit is always higher than its ancestors,
	// which bounds merge-base and ancestry walks.
	Height uint64
	// Author wrote the change; Committer made the commit.
	Author, Committer Signature
	// Message is the commit message.
	Message string
}

func (c *Commit) validate() error {
	if c.Root.IsZero() {
		return errors.New("zero root hash")
	}
	// A set, not a comparison of every pair: a corrupt chunk may hold up to
	// a million parents.
	seen := make(chunk.HashSet, len(c.Parents))
	for i, p := range c.Parents {
		if p.IsZero() {
			return fmt.Errorf("parent %d: zero hash", i)
		}
		if seen.Has(p) {
			return fmt.Errorf("parent %s repeated", p)
		}
		seen.Add(p)
	}
	switch {
	case c.Height == 0:
		return errors.New("height 0")
	case len(c.Parents) == 0 && c.Height != 1:
		return fmt.Errorf("height %d without parents", c.Height)
	case len(c.Parents) > 0 && c.Height == 1:
		return errors.New("height 1 with parents")
	}
	if err := c.Author.validate(); err != nil {
		return fmt.Errorf("author: %w", err)
	}
	if err := c.Committer.validate(); err != nil {
		return fmt.Errorf("committer: %w", err)
	}
	return nil
}

// Encode returns the chunk of c. Its references are the root, then the parents
// in order.
func (c *Commit) Encode() (chunk.Chunk, error) {
	if err := c.validate(); err != nil {
		return chunk.Chunk{}, invalid("commit", err)
	}
	e := encoder{}
	e.byte(commitVersion)
	e.uvarint(c.Height)
	e.signature(c.Author)
	e.signature(c.Committer)
	e.str(c.Message)
	refs := append([]chunk.Hash{c.Root}, c.Parents...)
	return chunk.New(chunk.Encode(chunk.KindCommit, refs, e.buf)), nil
}

// DecodeCommit decodes chunk h holding data. Malformed data gives an error
// matching chunk.ErrCorruption that names h.
func DecodeCommit(h chunk.Hash, data []byte) (*Commit, error) {
	refs, d, err := open(h, data, chunk.KindCommit, "commit", commitVersion)
	if err != nil {
		return nil, err
	}
	if len(refs) == 0 {
		return nil, chunk.Corruptf(h, "decode commit: no root reference")
	}
	c := &Commit{Root: refs[0]}
	if len(refs) > 1 {
		c.Parents = refs[1:]
	}
	c.Height = d.uvarint()
	c.Author = d.signature()
	c.Committer = d.signature()
	c.Message = d.str()
	if err := d.finish(); err != nil {
		return nil, err
	}
	d.check(c.validate())
	if d.err != nil {
		return nil, d.err
	}
	return c, nil
}
