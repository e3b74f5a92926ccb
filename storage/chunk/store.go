package chunk

import (
	"context"
	"fmt"
)

// Chunk is a chunk's bytes with their hash.
type Chunk struct {
	Hash Hash
	Data []byte
}

// New returns the chunk holding data.
func New(data []byte) Chunk { return Chunk{Hash: Of(data), Data: data} }

// RefUpdate is one compare-and-swap of a ref: if the ref now holds Old (the
// zero Hash meaning "absent"), it is set to New (the zero Hash deleting it).
type RefUpdate struct {
	Name     string
	Old, New Hash
}

// MaxRefNameLen bounds ref names.
const MaxRefNameLen = 1024

// QueuedRefUpdater is a Store that can queue a ref update and be waited on
// later, so that a caller can queue its update while holding a lock and
// wait for the sync after releasing it: updates queued by several callers
// then share one sync.
type QueuedRefUpdater interface {
	// UpdateRefsQueued queues updates and returns at once. The updates are
	// carried out in the order they were queued, each checked against the
	// refs as the ones queued before it left them. wait returns what
	// UpdateRefs would have; it must be called, promptly: a queued request
	// may be the one that commits the others.
	UpdateRefsQueued(ctx context.Context, updates ...RefUpdate) (wait func() error)
}

// Store holds chunks and named refs. All methods are safe for concurrent use.
type Store interface {
	// Get returns the bytes of chunk h. A miss returns an error matching
	// ErrNotFound; bytes that do not match h return one matching ErrCorruption.
	Get(ctx context.Context, h Hash) ([]byte, error)
	// GetMany calls found once for each of hashes the store holds, in no
	// particular order and never concurrently. Hashes it does not hold are
	// skipped: callers that need all of them compare what they received.
	GetMany(ctx context.Context, hashes []Hash, found func(Chunk) error) error
	// Has reports whether the store holds chunk h.
	Has(ctx context.Context, h Hash) (bool, error)
	// HasMany returns the subset of hashes the store does not hold.
	HasMany(ctx context.Context, hashes []Hash) (HashSet, error)
	// Put stores chunks. It is idempotent. Put alone promises no
	// durability: a later successful UpdateRefs makes durable every chunk
	// the refs it sets reach. (A store may make other chunks durable too;
	// after a crash, those no ref reaches are garbage.) Each chunk's Hash
	// must be the hash of its Data.
	Put(ctx context.Context, chunks ...Chunk) error
	// Refs returns every ref and its value, read in one atomic step.
	Refs(ctx context.Context) (map[string]Hash, error)
	// UpdateRefs applies all updates in one atomic, durable step, or none.
	// If any ref does not hold its Old value it returns an error matching
	// ErrRefConflict; if any New names a chunk the store does not hold, one
	// matching ErrMissingChunk. On success the change is on stable storage.
	UpdateRefs(ctx context.Context, updates ...RefUpdate) error
	// Close releases the store. Later calls return ErrClosed.
	Close() error
}

// OwnedPutter is a Store that can take chunks whose Data nobody changes
// after the call: PutOwned is Put, but the store may keep the slices
// instead of copying them. The tree's writer puts its nodes this way (a
// node's bytes never change once made).
type OwnedPutter interface {
	PutOwned(ctx context.Context, chunks ...Chunk) error
}

// GetRef returns the value of one ref and whether it exists.
func GetRef(ctx context.Context, s Store, name string) (Hash, bool, error) {
	refs, err := s.Refs(ctx)
	if err != nil {
		return Hash{}, false, err
	}
	h, ok := refs[name]
	return h, ok, nil
}

// CheckRefName validates a ref name.
func CheckRefName(name string) error {
	if name == "" || len(name) > MaxRefNameLen {
		return fmt.Errorf("chunk: ref %q: %w", name, ErrBadRefName)
	}
	return nil
}

// CheckUpdates validates updates against the current refs, which it does not
// modify: names must be valid, each ref updated once and holding its Old value.
// It returns the hashes the new values name, which the caller must check are
// present. Store implementations share it.
func CheckUpdates(current map[string]Hash, updates []RefUpdate) ([]Hash, error) {
	seen := make(map[string]bool, len(updates))
	var targets []Hash
	for _, u := range updates {
		if err := CheckRefName(u.Name); err != nil {
			return nil, err
		}
		if seen[u.Name] {
			return nil, fmt.Errorf("chunk: ref %q updated twice in one batch: %w", u.Name, ErrBadRefName)
		}
		seen[u.Name] = true
		if cur := current[u.Name]; cur != u.Old {
			return nil, fmt.Errorf("chunk: update ref %s: holds %s, expected %s: %w", u.Name, cur, u.Old, ErrRefConflict)
		}
		if !u.New.IsZero() {
			targets = append(targets, u.New)
		}
	}
	return targets, nil
}

// FileSnapshot is a consistent copy of a store as files, in a directory of
// its own: the store's refs and every chunk they reach, in the store's own
// format, so that the directory can be opened as the store. The files do not
// change until Release, which removes them.
type FileSnapshot struct {
	Dir     string
	Files   []string        // the names of every file in Dir, sorted
	Refs    map[string]Hash // the refs the copy holds
	Release func() error
}

// FileSnapshotter is a Store that can copy itself as files (see
// FileSnapshot) without stopping writers for longer than a commit.
type FileSnapshotter interface {
	SnapshotFiles(ctx context.Context) (*FileSnapshot, error)
}
