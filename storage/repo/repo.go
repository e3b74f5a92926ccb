package repo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
)

// DefaultBranch is the branch Init creates when InitOptions names none.
const DefaultBranch = "main"

// InitCommitMessage is the message of the first commit, as in Dolt.
const InitCommitMessage = "Initialize data repository"

// Repo is the commit graph and refs of one database, over a chunk store. It
// holds no state of its own besides the store, so any number of Repos may
// share a store, in one process or several; every change of refs is a
// compare-and-swap. All methods are safe for concurrent use.
type Repo struct {
	store chunk.Store
}

// InitOptions configures Init.
type InitOptions struct {
	// Name and Email sign the initial commit.
	Name, Email string
	// Time is the initial commit's time; zero means now.
	Time time.Time
	// DefaultBranch is the branch to create; empty means DefaultBranch.
	DefaultBranch string
}

// Init makes store a repository: it writes the empty root value, the initial
// commit (InitCommitMessage), the default branch at that commit and the
// branch's working set. A store that has a branch already gives
// ErrAlreadyInitialized.
func Init(ctx context.Context, store chunk.Store, opts InitOptions) (*Repo, error) {
	branch := opts.DefaultBranch
	if branch == "" {
		branch = DefaultBranch
	}
	if err := CheckBranchName(branch); err != nil {
		return nil, err
	}
	r := Open(store)
	refs, err := store.Refs(ctx)
	if err != nil {
		return nil, fmt.Errorf("repo: init: %w", err)
	}
	for name := range refs {
		if strings.HasPrefix(name, HeadsPrefix) {
			return nil, fmt.Errorf("repo: init: %w", ErrAlreadyInitialized)
		}
	}
	defer r.lease()()
	root, err := r.WriteRoot(ctx, EmptyRoot())
	if err != nil {
		return nil, fmt.Errorf("repo: init: %w", err)
	}
	commit, err := r.writeCommit(ctx, root, nil, 1, CommitMeta{
		Message: InitCommitMessage,
		Author:  Signature{Name: opts.Name, Email: opts.Email, Time: opts.Time},
	})
	if err != nil {
		return nil, fmt.Errorf("repo: init: %w", err)
	}
	ws, err := r.putWorkingSet(ctx, &WorkingSet{Working: root, Staged: root})
	if err != nil {
		return nil, fmt.Errorf("repo: init: %w", err)
	}
	err = store.UpdateRefs(ctx,
		chunk.RefUpdate{Name: BranchRef(branch), New: commit},
		chunk.RefUpdate{Name: WorkingSetRef(branch), Old: refs[WorkingSetRef(branch)], New: ws})
	if err != nil {
		return nil, fmt.Errorf("repo: init: %w", err)
	}
	return r, nil
}

// Open returns the repository in store. It does no I/O: a store that was
// never initialized simply has no branches.
func Open(store chunk.Store) *Repo { return &Repo{store: store} }

// Store returns the chunk store the repository is in.
func (r *Repo) Store() chunk.Store { return r.store }

// leasedRefs reads the refs and leases every chunk they name, in one step no
// garbage collection can fall between, so that what the refs named stays in
// the store until release is called even if they move on meanwhile. The lease
// also covers every chunk put before release, like lease.
func (r *Repo) leasedRefs(ctx context.Context) (refs map[string]chunk.Hash, release func(), err error) {
	if c, ok := r.store.(chunk.Collectable); ok {
		refs, l, err := c.Leases().AcquireRefs(ctx, r.store)
		if err != nil {
			return nil, nil, err
		}
		return refs, l.Release, nil
	}
	refs, err = r.store.Refs(ctx)
	return refs, func() {}, err
}

// lease protects roots, and every chunk put until the returned function is
// called, from a garbage collection running meanwhile, if the store is
// collectable. Every method that puts chunks and then names them in refs
// holds one in between.
func (r *Repo) lease(roots ...chunk.Hash) func() {
	if c, ok := r.store.(chunk.Collectable); ok {
		return c.Leases().Acquire(roots...).Release
	}
	return func() {}
}

// read reads chunk h and decodes it with decode; what names it in errors.
func read[T any](ctx context.Context, r *Repo, h chunk.Hash, what string, decode func(chunk.Hash, []byte) (T, error)) (T, error) {
	data, err := r.store.Get(ctx, h)
	if err != nil {
		var zero T
		return zero, fmt.Errorf("repo: read %s: %w", what, err)
	}
	return decode(h, data)
}

// ReadCommit reads and decodes commit h.
func (r *Repo) ReadCommit(ctx context.Context, h chunk.Hash) (*Commit, error) {
	return read(ctx, r, h, "commit", DecodeCommit)
}

// ReadRoot reads and decodes root value h.
func (r *Repo) ReadRoot(ctx context.Context, h chunk.Hash) (*RootValue, error) {
	return read(ctx, r, h, "root value", DecodeRootValue)
}

// ReadTable reads and decodes table record h.
func (r *Repo) ReadTable(ctx context.Context, h chunk.Hash) (*TableRecord, error) {
	return read(ctx, r, h, "table", DecodeTableRecord)
}

// ReadTag reads and decodes tag h.
func (r *Repo) ReadTag(ctx context.Context, h chunk.Hash) (*Tag, error) {
	return read(ctx, r, h, "tag", DecodeTag)
}

// ReadWorkingSet reads and decodes working set h.
func (r *Repo) ReadWorkingSet(ctx context.Context, h chunk.Hash) (*WorkingSet, error) {
	return read(ctx, r, h, "working set", DecodeWorkingSet)
}

// WriteRoot puts the chunk of root value v and returns its hash. The caller
// must have put the tables and collections it names, and holds a lease (see
// the package documentation) until a ref reaches it.
func (r *Repo) WriteRoot(ctx context.Context, v *RootValue) (chunk.Hash, error) {
	return r.put(ctx, v.Encode())
}

// WriteTable puts the chunk of table record t and returns its hash, like
// WriteRoot.
func (r *Repo) WriteTable(ctx context.Context, t *TableRecord) (chunk.Hash, error) {
	c, err := t.Encode()
	if err != nil {
		return chunk.Hash{}, err
	}
	return r.put(ctx, c)
}

func (r *Repo) put(ctx context.Context, c chunk.Chunk) (chunk.Hash, error) {
	if err := r.store.Put(ctx, c); err != nil {
		return chunk.Hash{}, fmt.Errorf("repo: put %s: %w", c.Hash, err)
	}
	return c.Hash, nil
}

// userCommit reads commit h, named by a caller: a missing chunk gives an error
// matching chunk.ErrNotFound, a chunk of another kind one matching ErrNotCommit.
func (r *Repo) userCommit(ctx context.Context, h chunk.Hash) (*Commit, error) {
	if h.IsZero() {
		return nil, fmt.Errorf("repo: zero hash: %w", ErrNotCommit)
	}
	data, err := r.store.Get(ctx, h)
	if err != nil {
		return nil, fmt.Errorf("repo: read commit: %w", err)
	}
	if env, err := chunk.Decode(h, data); err == nil && env.Kind != chunk.KindCommit {
		return nil, fmt.Errorf("repo: %s is a %s: %w", h, env.Kind, ErrNotCommit)
	}
	return DecodeCommit(h, data)
}

// CommitMeta is who made a commit, when and why.
type CommitMeta struct {
	Message string
	// Author wrote the change. A zero Time means now.
	Author Signature
	// Committer made the commit. The zero Signature means Author; a zero
	// Time alone means Author's time.
	Committer Signature
}

// signatures returns the author and committer meta describes, normalized.
func (m CommitMeta) signatures() (Signature, Signature, error) {
	a, c := m.Author, m.Committer
	if a.Time.IsZero() {
		a.Time = time.Now()
	}
	if c == (Signature{}) {
		c = a
	} else if c.Time.IsZero() {
		c.Time = a.Time
	}
	// Checked before normalizing, which would wrap a time out of range.
	if err := a.validate(); err != nil {
		return a, c, invalid("commit", fmt.Errorf("author: %w", err))
	}
	if err := c.validate(); err != nil {
		return a, c, invalid("commit", fmt.Errorf("committer: %w", err))
	}
	return a.normalize(), c.normalize(), nil
}

// CreateCommit writes a commit of root value root with parents (first parent
// first, distinct; none for a new history) and returns its hash. It moves no
// ref: the caller then points a branch at it (UpdateBranch), holding a lease
// until it has (see the package documentation). Parents that are not commits
// give ErrNotCommit; a root that is missing, chunk.ErrNotFound.
func (r *Repo) CreateCommit(ctx context.Context, root chunk.Hash, parents []chunk.Hash, meta CommitMeta) (chunk.Hash, error) {
	if root.IsZero() {
		return chunk.Hash{}, fmt.Errorf("repo: create commit: zero root hash: %w", ErrInvalidValue)
	}
	if ok, err := r.store.Has(ctx, root); err != nil {
		return chunk.Hash{}, fmt.Errorf("repo: create commit: %w", err)
	} else if !ok {
		return chunk.Hash{}, fmt.Errorf("repo: create commit: root %s: %w", root, chunk.ErrNotFound)
	}
	height := uint64(1)
	for _, p := range parents {
		pc, err := r.userCommit(ctx, p)
		if err != nil {
			return chunk.Hash{}, fmt.Errorf("repo: create commit: parent: %w", err)
		}
		height = max(height, pc.Height+1)
	}
	return r.writeCommit(ctx, root, parents, height, meta)
}

// writeCommit puts a commit of root with parents, which the caller has
// checked, and height, 1 + the greatest of theirs.
func (r *Repo) writeCommit(ctx context.Context, root chunk.Hash, parents []chunk.Hash, height uint64, meta CommitMeta) (chunk.Hash, error) {
	c := &Commit{Root: root, Height: height, Message: meta.Message}
	if len(parents) > 0 {
		c.Parents = append([]chunk.Hash(nil), parents...)
	}
	var err error
	if c.Author, c.Committer, err = meta.signatures(); err != nil {
		return chunk.Hash{}, err
	}
	cc, err := c.Encode()
	if err != nil {
		return chunk.Hash{}, err
	}
	return r.put(ctx, cc)
}

// CommitOptions configures Commit.
type CommitOptions struct {
	CommitMeta
	// AllowEmpty makes a commit even when nothing is staged.
	AllowEmpty bool
}

// Commit records the staged root of branch as a new commit whose first parent
// is the branch head, and, if a merge is in progress, whose second parent is
// the merged commit. It moves the head to the new commit and clears the merge
// state of the working set in one atomic step, and returns the commit's hash.
// If the staged root equals the head's root and no merge is in progress it
// returns ErrNothingToCommit, unless opts.AllowEmpty. A concurrent change of
// the branch or its working set gives an error matching chunk.ErrRefConflict
// and changes nothing.
func (r *Repo) Commit(ctx context.Context, branch string, opts CommitOptions) (chunk.Hash, error) {
	refs, release, err := r.leasedRefs(ctx)
	if err != nil {
		return chunk.Hash{}, fmt.Errorf("repo: commit: %w", err)
	}
	defer release()
	st, err := r.branchState(ctx, refs, branch)
	if err != nil {
		return chunk.Hash{}, fmt.Errorf("repo: commit: %w", err)
	}
	head, err := r.ReadCommit(ctx, st.head)
	if err != nil {
		return chunk.Hash{}, fmt.Errorf("repo: commit: %w", err)
	}
	parents := []chunk.Hash{st.head}
	height := head.Height + 1
	if m := st.ws.Merge; m != nil {
		mc, err := r.userCommit(ctx, m.Commit)
		if err != nil {
			return chunk.Hash{}, fmt.Errorf("repo: commit: merged commit: %w", err)
		}
		parents = append(parents, m.Commit)
		height = max(height, mc.Height+1)
	} else if st.ws.Staged == head.Root && !opts.AllowEmpty {
		return chunk.Hash{}, fmt.Errorf("repo: commit to %s: %w", branch, ErrNothingToCommit)
	}
	h, err := r.writeCommit(ctx, st.ws.Staged, parents, height, opts.CommitMeta)
	if err != nil {
		return chunk.Hash{}, err
	}
	// The new working set names the roots of the old one: no need to check
	// they are in the store.
	ws, err := (&WorkingSet{Working: st.ws.Working, Staged: st.ws.Staged}).Encode()
	if err != nil {
		return chunk.Hash{}, err
	}
	if _, err := r.put(ctx, ws); err != nil {
		return chunk.Hash{}, err
	}
	if err := r.swapBranch(ctx, branch, st.head, h, st.wsHash, ws.Hash); err != nil {
		return chunk.Hash{}, fmt.Errorf("repo: commit: %w", err)
	}
	return h, nil
}

// branchState is a branch's head and working set, from one reading of the refs.
type branchState struct {
	head   chunk.Hash
	ws     *WorkingSet
	wsHash chunk.Hash // zero if the branch has no working set yet
}

func (r *Repo) branchState(ctx context.Context, refs map[string]chunk.Hash, branch string) (*branchState, error) {
	head, ok := refs[BranchRef(branch)]
	if !ok {
		return nil, fmt.Errorf("branch %q: %w", branch, ErrBranchNotFound)
	}
	st := &branchState{head: head, wsHash: refs[WorkingSetRef(branch)]}
	if st.wsHash.IsZero() {
		// A branch that arrived by fetch or clone has no working set yet:
		// its working and staged roots are its head's.
		c, err := r.ReadCommit(ctx, head)
		if err != nil {
			return nil, err
		}
		st.ws = &WorkingSet{Working: c.Root, Staged: c.Root}
		return st, nil
	}
	ws, err := r.ReadWorkingSet(ctx, st.wsHash)
	if err != nil {
		return nil, err
	}
	st.ws = ws
	return st, nil
}

// BranchUpdate is a change of a branch's head and, optionally, its working
// set, applied by UpdateBranch.
type BranchUpdate struct {
	Branch string
	// OldHead is the head the branch must have; NewHead the head it gets.
	OldHead, NewHead chunk.Hash
	// WorkingSet, if not nil, replaces the branch's working set; the branch
	// must then have the working set OldWorkingSet (as WorkingSet returned
	// it: zero for none). If nil, the working set is neither checked nor
	// changed.
	WorkingSet    *WorkingSet
	OldWorkingSet chunk.Hash
}

// UpdateBranch moves a branch's head, and its working set if u says so, in
// one atomic compare-and-swap. It is how merges, resets and fast-forwards
// publish their result. The branch must exist; NewHead must be a commit. A
// branch whose head or working set is no longer the old one gives an error
// matching chunk.ErrRefConflict, and nothing changes.
func (r *Repo) UpdateBranch(ctx context.Context, u BranchUpdate) error {
	if u.OldHead.IsZero() {
		return fmt.Errorf("repo: update branch %q: zero old head: %w", u.Branch, ErrInvalidValue)
	}
	if _, err := r.userCommit(ctx, u.NewHead); err != nil {
		return fmt.Errorf("repo: update branch %q: %w", u.Branch, err)
	}
	defer r.lease(u.NewHead)()
	var ws chunk.Hash
	if u.WorkingSet != nil {
		var err error
		if ws, err = r.putWorkingSet(ctx, u.WorkingSet); err != nil {
			return fmt.Errorf("repo: update branch %q: %w", u.Branch, err)
		}
	}
	if err := r.swapBranch(ctx, u.Branch, u.OldHead, u.NewHead, u.OldWorkingSet, ws); err != nil {
		return fmt.Errorf("repo: update branch %q: %w", u.Branch, err)
	}
	return nil
}

// swapBranch moves branch from head oldHead to newHead and, unless newWS is
// zero, its working set from oldWS to newWS, in one compare-and-swap.
func (r *Repo) swapBranch(ctx context.Context, branch string, oldHead, newHead, oldWS, newWS chunk.Hash) error {
	updates := []chunk.RefUpdate{{Name: BranchRef(branch), Old: oldHead, New: newHead}}
	if !newWS.IsZero() {
		updates = append(updates, chunk.RefUpdate{Name: WorkingSetRef(branch), Old: oldWS, New: newWS})
	}
	return r.store.UpdateRefs(ctx, updates...)
}

// putWorkingSet checks that the roots ws names are in the store, puts ws and
// returns its hash.
func (r *Repo) putWorkingSet(ctx context.Context, ws *WorkingSet) (chunk.Hash, error) {
	c, err := ws.Encode()
	if err != nil {
		return chunk.Hash{}, err
	}
	missing, err := r.store.HasMany(ctx, ws.refs())
	if err != nil {
		return chunk.Hash{}, err
	}
	if len(missing) > 0 {
		return chunk.Hash{}, fmt.Errorf("working set names %s: %w", missing.Sorted()[0], chunk.ErrNotFound)
	}
	return r.put(ctx, c)
}

// WorkingSet returns the working set of branch and the hash to pass as old to
// UpdateWorkingSet. A branch without a stored working set (one that arrived by
// fetch or clone) has its head's root as working and staged root, and the zero
// hash. A missing branch gives ErrBranchNotFound.
func (r *Repo) WorkingSet(ctx context.Context, branch string) (*WorkingSet, chunk.Hash, error) {
	refs, err := r.store.Refs(ctx)
	if err != nil {
		return nil, chunk.Hash{}, fmt.Errorf("repo: read working set: %w", err)
	}
	st, err := r.branchState(ctx, refs, branch)
	if err != nil {
		return nil, chunk.Hash{}, fmt.Errorf("repo: read working set: %w", err)
	}
	return st.ws, st.wsHash, nil
}

// UpdateWorkingSet replaces the working set of branch, which must still be
// old (as WorkingSet returned it), with ws, and returns the new working set's
// hash. The roots ws names must be in the store. A working set or branch head
// changed meanwhile gives an error matching chunk.ErrRefConflict, and nothing
// changes; a missing branch gives ErrBranchNotFound.
func (r *Repo) UpdateWorkingSet(ctx context.Context, branch string, old chunk.Hash, ws *WorkingSet) (chunk.Hash, error) {
	h, wait, err := r.UpdateWorkingSetQueued(ctx, branch, old, ws)
	if err != nil {
		return chunk.Hash{}, err
	}
	return h, wait()
}

// UpdateWorkingSetQueued is UpdateWorkingSet in two steps: it writes the
// working set and queues the swap of its ref, returning the new hash at
// once; wait returns once the swap is durable, or why it failed. A caller
// can so queue swaps under its own lock, each with old set to the hash the
// previous one returned, and wait outside it, and the swaps share a sync.
// On a store that cannot queue, the swap is done before it returns.
// wait must be called.
func (r *Repo) UpdateWorkingSetQueued(ctx context.Context, branch string, old chunk.Hash, ws *WorkingSet) (_ chunk.Hash, wait func() error, _ error) {
	head, ok, err := chunk.GetRef(ctx, r.store, BranchRef(branch))
	if err != nil {
		return chunk.Hash{}, nil, fmt.Errorf("repo: update working set: %w", err)
	}
	if !ok {
		return chunk.Hash{}, nil, fmt.Errorf("repo: update working set: branch %q: %w", branch, ErrBranchNotFound)
	}
	release := r.lease(head)
	h, err := r.putWorkingSet(ctx, ws)
	if err != nil {
		release()
		return chunk.Hash{}, nil, fmt.Errorf("repo: update working set of %q: %w", branch, err)
	}
	// The unchanged head in the same step makes sure the branch still exists,
	// so a working set never outlives its branch.
	updates := []chunk.RefUpdate{
		{Name: BranchRef(branch), Old: head, New: head},
		{Name: WorkingSetRef(branch), Old: old, New: h},
	}
	var swap func() error
	if q, ok := r.store.(chunk.QueuedRefUpdater); ok {
		swap = q.UpdateRefsQueued(ctx, updates...)
	} else {
		err := r.store.UpdateRefs(ctx, updates...)
		swap = func() error { return err }
	}
	return h, func() error {
		defer release()
		if err := swap(); err != nil {
			return fmt.Errorf("repo: update working set of %q: %w", branch, err)
		}
		return nil
	}, nil
}
