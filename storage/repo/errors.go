package repo

import "errors"

// Errors returned by this package. Callers test for them with errors.Is; the
// returned errors wrap them with the branch, tag, revision or hash concerned.
// Decoders and reads of malformed chunks return errors matching
// chunk.ErrCorruption, and a lost compare-and-swap race returns one matching
// chunk.ErrRefConflict (see the package documentation).
var (
	// ErrAlreadyInitialized is returned by Init on a store that has a branch.
	ErrAlreadyInitialized = errors.New("repository already initialized")
	// ErrBranchNotFound is returned for a branch that does not exist.
	ErrBranchNotFound = errors.New("branch not found")
	// ErrBranchExists is returned when creating a branch whose name is taken.
	ErrBranchExists = errors.New("branch already exists")
	// ErrTagNotFound is returned for a tag that does not exist.
	ErrTagNotFound = errors.New("tag not found")
	// ErrTagExists is returned when creating a tag whose name is taken.
	ErrTagExists = errors.New("tag already exists")
	// ErrInvalidName is returned for a branch, tag or remote name that breaks
	// the naming rules (see CheckBranchName).
	ErrInvalidName = errors.New("invalid name")
	// ErrInvalidValue is returned by an encoder given a value it cannot
	// encode: an empty or repeated name, names out of order, a zero hash, a
	// height that does not fit the parents.
	ErrInvalidValue = errors.New("invalid value")
	// ErrNotCommit is returned when a hash given as a commit names a chunk
	// of another kind.
	ErrNotCommit = errors.New("not a commit")
	// ErrNothingToCommit is returned by Commit when the staged root equals
	// the head commit's root and empty commits were not allowed.
	ErrNothingToCommit = errors.New("nothing to commit")
	// ErrBadRevision is returned for a revision string that does not parse.
	ErrBadRevision = errors.New("invalid revision")
	// ErrRevisionNotFound is returned for a revision that names nothing: an
	// unknown name or hash, or an ancestor that does not exist (main~99).
	ErrRevisionNotFound = errors.New("revision not found")
	// ErrAmbiguousRevision is returned for a hash prefix that more than one
	// commit starts with.
	ErrAmbiguousRevision = errors.New("ambiguous revision")
	// ErrNoMergeBase is returned by MergeBase for commits with no common
	// ancestor (unrelated histories).
	ErrNoMergeBase = errors.New("no common ancestor")
	// ErrStop, returned by a Log callback, ends the walk early; Log then
	// returns nil.
	ErrStop = errors.New("stop walk")
)
