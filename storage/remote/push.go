package remote

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
)

// Pushing refs to a remote: the chunks the new values reach that the remote
// lacks are packed and put, then the remote's manifest is swapped with the
// new ref values, by compare-and-swap against the manifest read at the
// start. Two pushes to one remote never both win; the loser reads the
// remote again and is judged anew (its update may now be a non-fast-forward).

// RefPush is one ref to set at a remote.
type RefPush struct {
	Ref string     // the remote's ref, refs/heads/NAME or refs/tags/NAME
	New chunk.Hash // zero: delete the ref
	// Force allows an update that is not a fast-forward.
	Force bool
}

// RefPushResult is what happened to one ref.
type RefPushResult struct {
	Ref      string
	Old, New chunk.Hash
	// Status: "new", "fast-forward", "forced", "deleted", "up-to-date",
	// "rejected" (not a fast-forward), "no such ref" (delete of a missing
	// ref).
	Status string
}

// PushOptions configures Push.
type PushOptions struct {
	// Leases of the source store, to keep what is pushed from collection.
	Leases *chunk.Leases
	// IsAncestor reports whether commit a is an ancestor of (or equal to)
	// commit b in the source store; it is false when a is not there.
	IsAncestor func(ctx context.Context, a, b chunk.Hash) (bool, error)
	Progress   ProgressFunc
	PackSize   int
}

// PushStats is what a push did.
type PushStats struct {
	Results  []RefPushResult
	Chunks   int64
	Uploaded int64
	Duration time.Duration
}

// ErrNotRemote refuses a push to a destination that holds a backup.
var ErrNotRemote = errors.New("the destination holds a backup, not a remote")

// Push sets refs at the remote d. A ref whose update is rejected is left
// as it was, and so are all others then: the push changes the remote only
// if no update is rejected (the caller reports the rejection).
func Push(ctx context.Context, src chunk.Store, d Destination, refs []RefPush, o PushOptions) (PushStats, error) {
	start := time.Now()
	var st PushStats
	if o.PackSize <= 0 {
		o.PackSize = DefaultPackSize
	}
	if o.Leases != nil {
		var roots []chunk.Hash
		for _, r := range refs {
			roots = append(roots, r.New)
		}
		lease := o.Leases.Acquire(roots...)
		defer lease.Release()
	}
	for attempt := 0; ; attempt++ {
		m, v, err := loadManifest(ctx, d)
		if err != nil {
			return st, err
		}
		if v != "" && m.Kind == "backup" {
			return st, ErrNotRemote
		}
		cur := m.refHashes()
		st.Results = st.Results[:0]
		rejected := false
		changed := map[string]chunk.Hash{}
		for _, r := range refs {
			old, had := cur[r.Ref]
			res := RefPushResult{Ref: r.Ref, Old: old, New: r.New}
			switch {
			case r.New.IsZero() && !had:
				res.Status = "no such ref"
			case r.New.IsZero():
				res.Status = "deleted"
				changed[r.Ref] = chunk.Hash{}
			case had && old == r.New:
				res.Status = "up-to-date"
			case !had:
				res.Status = "new"
				changed[r.Ref] = r.New
			default:
				ff := false
				if o.IsAncestor != nil {
					if ff, err = o.IsAncestor(ctx, old, r.New); err != nil {
						return st, err
					}
				}
				switch {
				case ff:
					res.Status = "fast-forward"
					changed[r.Ref] = r.New
				case r.Force:
					res.Status = "forced"
					changed[r.Ref] = r.New
				default:
					res.Status = "rejected"
					rejected = true
				}
			}
			st.Results = append(st.Results, res)
		}
		if rejected || len(changed) == 0 {
			st.Duration = time.Since(start)
			return st, nil
		}
		roots := map[string]chunk.Hash{}
		for name, h := range changed {
			if !h.IsZero() {
				roots[name] = h
			}
		}
		if len(roots) > 0 {
			have, err := loadHave(ctx, d, m)
			if err != nil {
				return st, err
			}
			var sst SyncStats
			packs, err := copyMissing(ctx, src, d, roots, have, o.PackSize, newReporter(o.Progress), &sst)
			if err != nil {
				return st, err
			}
			st.Chunks += sst.Chunks
			st.Uploaded += sst.Uploaded
			m.Packs = append(m.Packs, packs...)
		}
		if m.Refs == nil {
			m.Refs = map[string]string{}
		}
		for name, h := range changed {
			if h.IsZero() {
				delete(m.Refs, name)
			} else {
				m.Refs[name] = h.String()
			}
		}
		m.Kind, m.Updated = "remote", time.Now().UTC()
		data := encodeManifest(m)
		_, err = d.Swap(ctx, manifestName, data, v)
		if err == nil {
			st.Uploaded += int64(len(data))
			st.Duration = time.Since(start)
			return st, nil
		}
		if !errors.Is(err, ErrVersionMismatch) || attempt >= 10 {
			return st, fmt.Errorf("push to %s: %w", d.URL(), err)
		}
		// Another push won: judge ours again against what it left.
	}
}
