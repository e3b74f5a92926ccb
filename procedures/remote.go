package procedures

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/dbdir"
	"github.com/cairndb/cairn/storage/remote"
	"github.com/cairndb/cairn/storage/repo"
	"github.com/cairndb/cairn/storage/sqle"
)

// Remotes: dolt_remote, dolt_push, dolt_fetch, dolt_pull, dolt_clone. A
// remote is a destination like a backup's, holding only what is pushed:
// commits and the branches and tags named, never working sets.

var pushSchema = sql.Schema{
	{Name: "status", Type: types.Int64, Nullable: false},
	{Name: "message", Type: types.LongText, Nullable: true},
}

var pullSchema = sql.Schema{
	{Name: "fast_forward", Type: types.Int64, Nullable: false},
	{Name: "conflicts", Type: types.Int64, Nullable: false},
	{Name: "message", Type: types.LongText, Nullable: true},
}

func (vc *VersionControl) registerRemotes() {
	for _, p := range []sql.ExternalStoredProcedureDetails{
		{Name: "dolt_remote", Schema: statusSchema, Function: vc.remoteProc, AdminOnly: true},
		{Name: "dolt_push", Schema: pushSchema, Function: vc.push, AdminOnly: true},
		{Name: "dolt_fetch", Schema: statusSchema, Function: vc.fetch, AdminOnly: true},
		{Name: "dolt_pull", Schema: pullSchema, Function: vc.pull, AdminOnly: true},
		{Name: "dolt_clone", Schema: statusSchema, Function: vc.clone, AdminOnly: true},
	} {
		vc.Prov.RegisterProcedure(p)
	}
}

func remoteNotFound(name string) error { return fmt.Errorf("fatal: remote '%s' not found.", name) }

// remoteOf returns remote name of the database db.
func (vc *VersionControl) remoteOf(db, name string) (dbdir.Remote, error) {
	c, err := vc.Prov.DatabaseConfig(db)
	if err != nil {
		return dbdir.Remote{}, err
	}
	r, ok := c.Remote(name)
	if !ok {
		return r, remoteNotFound(name)
	}
	return r, nil
}

// remoteProc is dolt_remote('add', name, url) and ('remove'|'rm', name).
func (vc *VersionControl) remoteProc(ctx *sql.Context, args ...string) (sql.RowIter, error) {
	v, err := vc.open(ctx)
	if err != nil {
		return nil, err
	}
	if len(args) == 0 {
		return nil, errors.New("use 'dolt_remotes' table to list remotes")
	}
	switch strings.ToLower(args[0]) {
	case "add":
		a, err := remoteAddArgs.parse(args[1:])
		if err != nil {
			return nil, err
		}
		if len(a.pos) != 2 {
			return nil, errors.New("usage: dolt_remote('add', 'name', 'url')")
		}
		if err := vc.addRemote(ctx, v, a.pos[0], a.pos[1], vc.destParams(a)); err != nil {
			return nil, err
		}
	case "remove", "rm":
		if len(args) != 2 {
			return nil, errors.New("usage: dolt_remote('remove', 'name')")
		}
		if err := vc.removeRemote(ctx, v, args[1]); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unrecognized dolt_remote parameter '%s'", args[0])
	}
	return statusRow()
}

var remoteAddArgs = newArgSpec("endpoint=", "region=", "path-style=", "profile=", "encryption-key-file=")

func (vc *VersionControl) addRemote(ctx context.Context, v *sqle.VC, name, rawURL string, params map[string]string) error {
	if err := repo.CheckRemoteName(name); err != nil {
		return fmt.Errorf("remote name '%s' is invalid", name)
	}
	base := v.Dir() // relative file:// URLs: against the database's directory
	u, err := remote.NormalizeURL(rawURL, base)
	if err != nil {
		return err
	}
	return vc.Prov.UpdateDatabaseConfig(v.Name(), func(c *dbdir.Config) error {
		if _, ok := c.Remote(name); ok {
			return fmt.Errorf("remote '%s' already exists.", name)
		}
		for _, o := range c.Remotes {
			if o.URL == u {
				return fmt.Errorf("address conflict with a remote: '%s' -> %s", o.Name, o.URL)
			}
		}
		for _, b := range c.Backups {
			if b.URL == u {
				return fmt.Errorf("address conflict with a remote: '%s' -> %s", b.Name, b.URL)
			}
		}
		c.Remotes = append(c.Remotes, dbdir.Remote{Name: name, URL: u, FetchSpecs: []string{"refs/heads/*:refs/remotes/" + name + "/*"}, Params: params})
		sort.Slice(c.Remotes, func(i, j int) bool { return c.Remotes[i].Name < c.Remotes[j].Name })
		return nil
	})
}

func (vc *VersionControl) removeRemote(ctx context.Context, v *sqle.VC, name string) error {
	err := vc.Prov.UpdateDatabaseConfig(v.Name(), func(c *dbdir.Config) error {
		for i, r := range c.Remotes {
			if r.Name == name {
				c.Remotes = append(c.Remotes[:i], c.Remotes[i+1:]...)
				for b, up := range c.Upstreams {
					if up.Remote == name {
						delete(c.Upstreams, b)
					}
				}
				return nil
			}
		}
		return fmt.Errorf("error: unknown remote: '%s'", name)
	})
	if err != nil {
		return err
	}
	return v.SetRemoteRefs(ctx, name, nil, true)
}

var pushArgs = newArgSpec("f,force", "u,set-upstream", "all")

// push is dolt_push([--force] [--set-upstream] [--all] [remote [refspec…]]).
func (vc *VersionControl) push(ctx *sql.Context, args ...string) (sql.RowIter, error) {
	a, err := pushArgs.parse(args)
	if err != nil {
		return nil, err
	}
	v, err := vc.open(ctx)
	if err != nil {
		return nil, err
	}
	cfg, err := vc.Prov.DatabaseConfig(v.Name())
	if err != nil {
		return nil, err
	}
	branch := v.Branch()
	remoteName := ""
	var specs []string
	switch {
	case len(a.pos) == 0:
		up, ok := cfg.Upstreams[branch]
		if !ok {
			if len(cfg.Remotes) == 1 && a.has("set-upstream") {
				remoteName = cfg.Remotes[0].Name
				specs = []string{branch}
				break
			}
			return nil, fmt.Errorf("fatal: The current branch %s has no upstream branch.\nTo push the current branch and set the remote as upstream, use\n\n\tdolt push --set-upstream origin %s\n\nTo have this happen automatically for branches without a tracking\nupstream, see 'push.autoSetupRemote' in 'dolt config --help'.", branch, branch)
		}
		remoteName, specs = up.Remote, []string{branch + ":" + up.Branch}
	default:
		remoteName, specs = a.pos[0], a.pos[1:]
	}
	r, ok := cfg.Remote(remoteName)
	if !ok {
		return nil, remoteNotFound(remoteName)
	}
	heads, err := v.BranchHeads(ctx)
	if err != nil {
		return nil, err
	}
	if a.has("all") {
		specs = nil
		for b := range heads {
			specs = append(specs, b)
		}
		sort.Strings(specs)
	} else if len(specs) == 0 {
		if branch == "" {
			return nil, sqle.ErrReadOnlyRevision
		}
		specs = []string{branch}
	}
	var refs []remote.RefPush
	var pairs [][2]string // local name, remote branch
	for _, spec := range specs {
		force := a.has("force")
		if strings.HasPrefix(spec, "+") {
			force, spec = true, spec[1:]
		}
		src, dst, hasDst := strings.Cut(spec, ":")
		if !hasDst {
			dst = src
		}
		dst = strings.TrimPrefix(dst, repo.HeadsPrefix)
		src = strings.TrimPrefix(src, repo.HeadsPrefix)
		if src == "" { // :branch deletes
			refs = append(refs, remote.RefPush{Ref: repo.BranchRef(dst)})
			pairs = append(pairs, [2]string{"", dst})
			continue
		}
		h, ok := heads[src]
		if !ok {
			return nil, fmt.Errorf("error: src refspec %s does not match any", src)
		}
		refs = append(refs, remote.RefPush{Ref: repo.BranchRef(dst), New: h, Force: force})
		pairs = append(pairs, [2]string{src, dst})
	}
	d, err := remote.Open(ctx, r.URL, r.Params, true)
	if err != nil {
		return nil, err
	}
	store, leases := v.Store()
	if err := v.CommitTransaction(ctx); err != nil {
		return nil, err
	}
	st, err := remote.Push(ctx, store, d, refs, remote.PushOptions{Leases: leases, IsAncestor: v.IsAncestor, Progress: vc.Progress})
	if err != nil {
		return nil, err
	}
	var lines []string
	rejected := false
	tracking := map[string]chunk.Hash{}
	deleted := false
	for i, res := range st.Results {
		src, dst := pairs[i][0], pairs[i][1]
		switch res.Status {
		case "new":
			lines = append(lines, fmt.Sprintf(" * [new branch]          %s -> %s", src, dst))
		case "fast-forward":
			lines = append(lines, fmt.Sprintf("   %s..%s  %s -> %s", short(res.Old), short(res.New), src, dst))
		case "forced":
			lines = append(lines, fmt.Sprintf(" + %s...%s %s -> %s (forced update)", short(res.Old), short(res.New), src, dst))
		case "deleted":
			lines = append(lines, fmt.Sprintf(" - [deleted]             %s", dst))
			deleted = true
		case "no such ref":
			return nil, fmt.Errorf("error: unable to delete '%s': remote ref does not exist\nerror: failed to push some refs to '%s'", dst, r.URL)
		case "rejected":
			lines = append(lines, fmt.Sprintf(" ! [rejected]            %s -> %s (non-fast-forward)", src, dst))
			rejected = true
		}
		if res.Status != "rejected" && res.Status != "deleted" {
			tracking[dst] = res.New
		}
	}
	if rejected {
		return nil, fmt.Errorf("To %s\n%s\nerror: failed to push some refs to '%s'\nhint: Updates were rejected because the tip of your current branch is behind\nhint: its remote counterpart. Integrate the remote changes (e.g.\nhint: 'dolt pull ...') before pushing again.\nhint: See the 'Note about fast-forwards' in 'git push --help' for details.",
			r.URL, strings.Join(lines, "\n"), r.URL)
	}
	// The remote-tracking branches follow what was pushed.
	cur, err := remoteTracking(ctx, v, remoteName)
	if err != nil {
		return nil, err
	}
	for b, h := range tracking {
		cur[b] = h
	}
	if deleted {
		for _, p := range pairs {
			if p[0] == "" {
				delete(cur, p[1])
			}
		}
	}
	if err := v.SetRemoteRefs(ctx, remoteName, cur, true); err != nil {
		return nil, err
	}
	if a.has("set-upstream") {
		err := vc.Prov.UpdateDatabaseConfig(v.Name(), func(c *dbdir.Config) error {
			if c.Upstreams == nil {
				c.Upstreams = map[string]dbdir.Upstream{}
			}
			for _, p := range pairs {
				if p[0] != "" {
					c.Upstreams[p[0]] = dbdir.Upstream{Remote: remoteName, Branch: p[1]}
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(lines) == 0 {
		return sql.RowsToRowIter(sql.Row{int64(0), "Everything up-to-date"}), nil
	}
	return sql.RowsToRowIter(sql.Row{int64(0), "To " + r.URL + "\n" + strings.Join(lines, "\n")}), nil
}

func short(h chunk.Hash) string { return h.String()[:8] }

// remoteTracking returns the remote-tracking branches of remote.
func remoteTracking(ctx context.Context, v *sqle.VC, remoteName string) (map[string]chunk.Hash, error) {
	store, _ := v.Store()
	refs, err := store.Refs(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]chunk.Hash{}
	prefix := repo.RemotesPrefix + remoteName + "/"
	for name, h := range refs {
		if b, ok := strings.CutPrefix(name, prefix); ok {
			out[b] = h
		}
	}
	return out, nil
}

var fetchArgs = newArgSpec("prune", "p")

// fetch is dolt_fetch([remote [refspec…]] [--prune]).
func (vc *VersionControl) fetch(ctx *sql.Context, args ...string) (sql.RowIter, error) {
	a, err := fetchArgs.parse(args)
	if err != nil {
		return nil, err
	}
	v, err := vc.open(ctx)
	if err != nil {
		return nil, err
	}
	name := "origin"
	if len(a.pos) > 0 {
		name = a.pos[0]
	}
	if _, err := vc.fetchRemote(ctx, v, name, a.pos[min(1, len(a.pos)):], a.has("prune") || a.has("p")); err != nil {
		return nil, err
	}
	return statusRow()
}

// fetchRemote copies the remote's branches (all, or those named) into the
// store and sets the remote-tracking branches; it returns the remote's
// branch heads.
func (vc *VersionControl) fetchRemote(ctx *sql.Context, v *sqle.VC, name string, branches []string, prune bool) (map[string]chunk.Hash, error) {
	r, err := vc.remoteOf(v.Name(), name)
	if err != nil {
		return nil, err
	}
	d, err := remote.Open(ctx, r.URL, r.Params, false)
	if err != nil {
		return nil, err
	}
	wanted := map[string]bool{}
	for _, b := range branches {
		wanted[strings.TrimPrefix(b, repo.HeadsPrefix)] = true
	}
	store, _ := v.Store()
	release := v.Lease()
	defer release()
	refs, _, err := remote.Fetch(ctx, d, store, func(ref string) bool {
		b, ok := strings.CutPrefix(ref, repo.HeadsPrefix)
		return ok && (len(wanted) == 0 || wanted[b])
	}, vc.Progress)
	if err != nil {
		return nil, err
	}
	heads := map[string]chunk.Hash{}
	for ref, h := range refs {
		heads[strings.TrimPrefix(ref, repo.HeadsPrefix)] = h
	}
	for b := range wanted {
		if _, ok := heads[b]; !ok {
			return nil, fmt.Errorf("invalid refspec: branch '%s' not found on remote '%s'", b, name)
		}
	}
	tracking := heads
	if len(wanted) > 0 || !prune {
		cur, err := remoteTracking(ctx, v, name)
		if err != nil {
			return nil, err
		}
		for b, h := range heads {
			cur[b] = h
		}
		tracking = cur
	}
	if err := v.SetRemoteRefs(ctx, name, tracking, prune && len(wanted) == 0); err != nil {
		return nil, err
	}
	return heads, nil
}

var pullArgs = newArgSpec("ff-only", "no-ff", "f,force", "squash", "no-commit")

// pull is dolt_pull([remote [branch]]): fetch, then merge into the current
// branch.
func (vc *VersionControl) pull(ctx *sql.Context, args ...string) (sql.RowIter, error) {
	a, err := pullArgs.parse(args)
	if err != nil {
		return nil, err
	}
	v, err := vc.open(ctx)
	if err != nil {
		return nil, err
	}
	if v.ReadOnly() {
		return nil, sqle.ErrReadOnlyRevision
	}
	cfg, err := vc.Prov.DatabaseConfig(v.Name())
	if err != nil {
		return nil, err
	}
	remoteName, branch := "", ""
	switch len(a.pos) {
	case 0:
		up, ok := cfg.Upstreams[v.Branch()]
		if !ok {
			if _, has := cfg.Remote("origin"); !has {
				return nil, remoteNotFound("origin")
			}
			up = dbdir.Upstream{Remote: "origin", Branch: v.Branch()}
		}
		remoteName, branch = up.Remote, up.Branch
	case 1:
		remoteName, branch = a.pos[0], v.Branch()
		if up, ok := cfg.Upstreams[v.Branch()]; ok && up.Remote == remoteName {
			branch = up.Branch
		}
	case 2:
		remoteName, branch = a.pos[0], a.pos[1]
	default:
		return nil, errors.New("dolt pull takes at most a remote and a branch")
	}
	if err := v.CommitTransaction(ctx); err != nil {
		return nil, err
	}
	if _, err := vc.fetchRemote(ctx, v, remoteName, []string{branch}, false); err != nil {
		return nil, err
	}
	author, err := authorOf(ctx, parsedArgs{flags: map[string]string{}})
	if err != nil {
		return nil, err
	}
	res, err := v.Merge(ctx, "refs/remotes/"+remoteName+"/"+branch, sqle.MergeOptions{NoFF: a.has("no-ff"), FFOnly: a.has("ff-only"), Author: author,
		Message: fmt.Sprintf("Merge branch '%s' of %s into %s", branch, remoteName, v.Branch())})
	if err != nil {
		return nil, err
	}
	ff, conflicts := int64(0), int64(0)
	if res.FastForward {
		ff = 1
	}
	if res.Conflicts > 0 {
		conflicts = 1
	}
	return sql.RowsToRowIter(sql.Row{ff, conflicts, res.Message}), nil
}

var cloneArgs = newArgSpec("b,branch=", "remote=", "depth=", "endpoint=", "region=", "path-style=", "profile=", "encryption-key-file=")

// destParams returns the destination params among parsed flags (a relative
// key file is relative to the data directory).
func (vc *VersionControl) destParams(a parsedArgs) map[string]string {
	return remote.AbsParams(paramsOf(a), vc.Prov.Dir())
}

// paramsOf returns the destination params among parsed flags.
func paramsOf(a parsedArgs) map[string]string {
	var out map[string]string
	for _, p := range remote.DestinationParams {
		if v, ok := a.flags[strings.ReplaceAll(p, "_", "-")]; ok {
			if out == nil {
				out = map[string]string{}
			}
			out[p] = v
		}
	}
	return out
}

// clone is dolt_clone(url [, name] [, '-b', branch] [, '--remote', name]).
func (vc *VersionControl) clone(ctx *sql.Context, args ...string) (sql.RowIter, error) {
	a, err := cloneArgs.parse(args)
	if err != nil {
		return nil, err
	}
	if len(a.pos) == 0 || len(a.pos) > 2 {
		return nil, errors.New("usage: dolt_clone('url' [, 'name'] [, '-b', 'branch'] [, '--remote', 'name'])")
	}
	u, err := remote.NormalizeURL(a.pos[0], vc.Prov.Dir())
	if err != nil {
		return nil, err
	}
	name := ""
	if len(a.pos) == 2 {
		name = a.pos[1]
	} else {
		name = strings.TrimSuffix(filepath.Base(strings.TrimSuffix(u, "/")), ".git")
	}
	remoteName := "origin"
	if a.has("remote") {
		remoteName = a.value("remote")
	}
	if err := repo.CheckRemoteName(remoteName); err != nil {
		return nil, fmt.Errorf("remote name '%s' is invalid", remoteName)
	}
	if err := Clone(ctx, vc.Prov, u, name, a.value("branch"), remoteName, vc.destParams(a), vc.Progress); err != nil {
		return nil, err
	}
	return statusRow()
}

// Clone makes database name from the remote (or backup) at url: every
// branch of it as a remote-tracking branch of remoteName, its tags, and a
// local branch for branch (the remote's main, or its only branch, if "")
// that the database starts on and that tracks the remote's. The database
// is served at once.
func Clone(ctx *sql.Context, prov *sqle.Provider, url, name, branch, remoteName string, params map[string]string, progress remote.ProgressFunc) error {
	if err := prov.CheckRestoreTarget(name, false); err != nil {
		var exists *sqle.ErrRestoreExists
		if errors.As(err, &exists) {
			return fmt.Errorf("error: database '%s' already exists", name)
		}
		return err
	}
	d, err := remote.Open(ctx, url, params, false)
	if err != nil {
		return err
	}
	var local string
	err = prov.RestoreDatabase(ctx, name, false, nil, func(ctx context.Context, s chunk.Store) error {
		// The store is new: every pack is read whole, in parallel, as a
		// restore reads them (of a backup, that includes its working sets,
		// which no ref will name: collected later).
		all, _, err := remote.CopyAll(ctx, d, s, progress)
		if err != nil {
			return err
		}
		refs := map[string]chunk.Hash{}
		for ref, h := range all {
			if strings.HasPrefix(ref, repo.HeadsPrefix) || strings.HasPrefix(ref, repo.TagsPrefix) {
				refs[ref] = h
			}
		}
		heads := map[string]chunk.Hash{}
		var updates []chunk.RefUpdate
		for ref, h := range refs {
			if b, ok := strings.CutPrefix(ref, repo.HeadsPrefix); ok {
				heads[b] = h
				updates = append(updates, chunk.RefUpdate{Name: repo.RemoteRef(remoteName, b), New: h})
			} else {
				updates = append(updates, chunk.RefUpdate{Name: ref, New: h})
			}
		}
		if len(heads) == 0 {
			return fmt.Errorf("%s has no branch to clone", url)
		}
		local = branch
		if local == "" {
			local = repo.DefaultBranch
			if _, ok := heads[local]; !ok {
				var names []string
				for b := range heads {
					names = append(names, b)
				}
				sort.Strings(names)
				local = names[0]
			}
		}
		start, ok := heads[local]
		if !ok {
			return fmt.Errorf("fatal: Remote branch %s not found in upstream %s", local, remoteName)
		}
		if err := s.UpdateRefs(ctx, updates...); err != nil {
			return err
		}
		return repo.Open(s).CreateBranch(ctx, local, start)
	})
	if err != nil {
		return err
	}
	err = prov.UpdateDatabaseConfig(name, func(c *dbdir.Config) error {
		c.Remotes = []dbdir.Remote{{Name: remoteName, URL: url, FetchSpecs: []string{"refs/heads/*:refs/remotes/" + remoteName + "/*"}, Params: params}}
		c.Upstreams = map[string]dbdir.Upstream{local: {Remote: remoteName, Branch: local}}
		return nil
	})
	if err != nil {
		return err
	}
	return prov.SetDefaultBranch(ctx, name, local)
}
