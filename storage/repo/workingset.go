package repo

import (
	"errors"

	"github.com/cairndb/cairn/storage/chunk"
)

// workingSetVersion is the version byte of a WorkingSet payload.
const workingSetVersion = 1

// WorkingSet is the uncommitted state of a branch: the root its sessions
// read and write, the root staged for the next commit, and, during a merge
// with conflicts, what is being merged.
type WorkingSet struct {
	// Working is the hash of the working RootValue.
	Working chunk.Hash
	// Staged is the hash of the staged RootValue, which Commit records.
	Staged chunk.Hash
	// Merge is not nil while a merge is in progress.
	Merge *MergeState
}

// MergeState is a merge in progress on a branch.
type MergeState struct {
	// Commit is the commit being merged in; Commit makes it the second parent.
	Commit chunk.Hash
	// PreMergeWorking is the working root before the merge began, to which
	// an aborted merge returns.
	PreMergeWorking chunk.Hash
	// Source is how the user named Commit (a branch name, a revision), for
	// messages.
	Source string
}

// Working set flags.
const wsHasMerge = 1

func (w *WorkingSet) validate() error {
	if w.Working.IsZero() || w.Staged.IsZero() {
		return errors.New("zero root hash")
	}
	if m := w.Merge; m != nil && (m.Commit.IsZero() || m.PreMergeWorking.IsZero()) {
		return errors.New("merge state with a zero hash")
	}
	return nil
}

// Encode returns the chunk of w. Its references are the working root, the
// staged root, then during a merge the merged commit and the pre-merge root.
func (w *WorkingSet) Encode() (chunk.Chunk, error) {
	if err := w.validate(); err != nil {
		return chunk.Chunk{}, invalid("working set", err)
	}
	e := encoder{}
	e.byte(workingSetVersion)
	if m := w.Merge; m != nil {
		e.byte(wsHasMerge)
		e.str(m.Source)
	} else {
		e.byte(0)
	}
	return chunk.New(chunk.Encode(chunk.KindWorkingSet, w.refs(), e.buf)), nil
}

// refs returns the hashes w names, in the order of its encoding.
func (w *WorkingSet) refs() []chunk.Hash {
	refs := []chunk.Hash{w.Working, w.Staged}
	if m := w.Merge; m != nil {
		refs = append(refs, m.Commit, m.PreMergeWorking)
	}
	return refs
}

// DecodeWorkingSet decodes chunk h holding data. Malformed data gives an error
// matching chunk.ErrCorruption that names h.
func DecodeWorkingSet(h chunk.Hash, data []byte) (*WorkingSet, error) {
	refs, d, err := open(h, data, chunk.KindWorkingSet, "working set", workingSetVersion)
	if err != nil {
		return nil, err
	}
	w := &WorkingSet{}
	want := 2
	switch flags := d.byte(); flags {
	case 0:
	case wsHasMerge:
		w.Merge = &MergeState{Source: d.str()}
		want = 4
	default:
		d.fail("unknown flags %#x", flags)
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	if len(refs) != want {
		return nil, chunk.Corruptf(h, "decode working set: %d references, want %d", len(refs), want)
	}
	w.Working, w.Staged = refs[0], refs[1]
	if w.Merge != nil {
		w.Merge.Commit, w.Merge.PreMergeWorking = refs[2], refs[3]
	}
	return w, nil
}
