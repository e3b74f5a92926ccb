package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairndb/cairn/procedures"
	"github.com/cairndb/cairn/server"
	"github.com/cairndb/cairn/storage/dbdir"
	"github.com/cairndb/cairn/storage/remote"
	"github.com/cairndb/cairn/storage/sqle"
)

// Environment variables with the credentials the CLI uses to reach a running
// server.
const (
	envUser     = "CAIRN_USER"
	envPassword = "CAIRN_PASSWORD"
)

func newBackupCmd() *cobra.Command {
	cmd := newCmd("backup [-v] | add NAME URL | remove|rm NAME | sync NAME | sync-url URL | restore [--force] URL DBNAME | verify NAME|URL",
		"list, add, sync, restore and verify backups")
	cmd.Long = `Backup copies the whole database in the current directory (every branch, tag
and working set, with uncommitted changes, and the whole history) to a backup
destination, and brings it back.

  cairn backup [-v]                    list the backups (-v: with URL and params)
  cairn backup add NAME URL            add a backup destination (file://DIR)
  cairn backup remove|rm NAME          forget a backup (its files stay)
  cairn backup sync NAME               copy the database to backup NAME
  cairn backup sync-url URL            copy the database to URL
  cairn backup restore [--force] URL DBNAME
                                       make database ./DBNAME from the backup at URL
  cairn backup verify NAME|URL         check every chunk of a backup
  cairn backup restore-server [--force] URL-TEMPLATE DATA_DIR
                                       rebuild a data directory (every database, the
                                       users and grants) from a server-wide backup

Relative file:// URLs are relative to the current directory. When a cairn
sql-server holds the data directory, the command runs in that server (as
CALL dolt_backup(...)), with --user/--password or $` + envUser + `/$` + envPassword + `.`
	cmd.Example = "  cairn backup add backup1 file://../backups/backup1\n  cairn backup sync backup1\n  cairn backup restore file://./backups/backup1 repo2"
	cmd.Args = cobra.ArbitraryArgs
	verbose := cmd.Flags().BoolP("verbose", "v", false, "list backups with their URL and params")
	c := &backupCLI{}
	cmd.PersistentFlags().StringVarP(&c.user, "user", "u", "", "user for a running server (default $"+envUser+", else root)")
	cmd.PersistentFlags().StringVarP(&c.password, "password", "p", "", "password for a running server (default $"+envPassword+")")
	cmd.PersistentFlags().StringVar(&c.endpoint, "endpoint", "", "s3://: the endpoint of an S3-compatible server (http://host:port)")
	cmd.PersistentFlags().StringVar(&c.region, "region", "", "s3://: the region (default us-east-1)")
	cmd.PersistentFlags().StringVar(&c.pathStyle, "path-style", "", "s3://: path-style addressing, true or false (default true with --endpoint)")
	cmd.PersistentFlags().StringVar(&c.profile, "profile", "", "s3://: the AWS shared-config profile for credentials")
	cmd.PersistentFlags().StringVar(&c.keyFile, "encryption-key-file", "", "encrypt the backup with the 256-bit key in this file (made with `openssl rand -hex 32`); the key is never stored")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usageError(fmt.Sprintf("unknown backup command %q (want add, remove, sync, sync-url, restore or verify)", args[0]))
		}
		if err := c.init(cmd); err != nil {
			return err
		}
		return c.list(*verbose)
	}
	sub := func(use, short string, nargs int, fn func(args []string) error) *cobra.Command {
		s := newCmd(use, short)
		s.Args = cobra.ExactArgs(nargs)
		s.RunE = func(cmd *cobra.Command, args []string) error {
			if err := c.init(cmd); err != nil {
				return err
			}
			return fn(args)
		}
		return s
	}
	add := sub("add NAME URL", "add a backup destination", 2, func(a []string) error { return c.add(a[0], a[1]) })
	remove := sub("remove NAME", "forget a backup", 1, func(a []string) error { return c.remove(a[0]) })
	remove.Aliases = []string{"rm"}
	var prune time.Duration
	syncCmd := sub("sync NAME [--prune-with-grace-period DURATION]", "copy the database to a backup", 1, func(a []string) error { return c.sync(a[0], "", prune) })
	syncCmd.Flags().DurationVar(&prune, "prune-with-grace-period", 0, "after syncing, delete packs of interrupted syncs older than this (at least 10m)")
	syncURL := sub("sync-url URL [--prune-with-grace-period DURATION]", "copy the database to a URL", 1, func(a []string) error { return c.sync("", a[0], prune) })
	syncURL.Flags().DurationVar(&prune, "prune-with-grace-period", 0, "after syncing, delete packs of interrupted syncs older than this (at least 10m)")
	var force bool
	restore := sub("restore [--force] URL DBNAME", "make a database from a backup", 2, func(a []string) error { return c.restore(a[0], a[1], force) })
	restore.Flags().BoolVarP(&force, "force", "f", false, "replace an existing database (once the restored one is complete)")
	verify := sub("verify NAME|URL", "check every chunk of a backup", 1, func(a []string) error { return c.verify(a[0]) })
	var forceServer bool
	restoreServer := sub("restore-server [--force] URL-TEMPLATE DATA_DIR", "rebuild a data directory from a server-wide backup", 2,
		func(a []string) error { return c.restoreServer(a[0], a[1], forceServer) })
	restoreServer.Long = `Restore-server rebuilds a whole data directory, every database and the users
and grants, from a server-wide backup (the backups: list of the server config).
URL-TEMPLATE is the backup's url, with {database} in it, as the config gives it.
DATA_DIR is made if missing; no server may be running on it.`
	restoreServer.Example = "  cairn backup restore-server 'file:///var/backups/cairn/{database}' /var/lib/cairn\n  cairn backup restore-server --endpoint=http://127.0.0.1:7070 's3://bucket/cairn/{database}' ./data"
	restoreServer.Flags().BoolVarP(&forceServer, "force", "f", false, "replace databases and users that exist in DATA_DIR (each once its restored copy is complete)")
	cmd.AddCommand(add, remove, syncCmd, syncURL, restore, verify, restoreServer)
	return cmd
}

// backupCLI runs one backup command.
type backupCLI struct {
	user, password string
	// s3:// params
	endpoint, region, pathStyle, profile string
	keyFile                              string

	ctx    context.Context
	out    io.Writer
	errOut io.Writer
	cwd    string
}

func (c *backupCLI) init(cmd *cobra.Command) error {
	c.ctx, c.out, c.errOut = cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr()
	cwd, err := os.Getwd()
	if err != nil {
		return err
	}
	c.cwd = cwd
	if c.user == "" {
		c.user = os.Getenv(envUser)
	}
	if c.password == "" {
		c.password = os.Getenv(envPassword)
	}
	return nil
}

// params returns the destination params the flags give, or nil.
func (c *backupCLI) params() map[string]string {
	var out map[string]string
	for k, v := range map[string]string{remote.ParamEndpoint: c.endpoint, remote.ParamRegion: c.region, remote.ParamPathStyle: c.pathStyle, remote.ParamProfile: c.profile, remote.ParamEncryptionKeyFile: c.keyFile} {
		if v != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return remote.AbsParams(out, c.cwd)
}

// paramArgs returns the params as procedure flags (--endpoint=URL, …).
func (c *backupCLI) paramArgs() []string {
	var out []string
	for k, v := range c.params() {
		out = append(out, "--"+k+"="+v)
	}
	return out
}

// database returns the name of the database in the current directory and
// the running server that serves it, if any.
func (c *backupCLI) database() (string, *server.Lock, error) { return findDatabase(c.cwd) }

// config reads the config of the database in the current directory.
func (c *backupCLI) config() (*dbdir.Config, error) {
	if !dbdir.IsDatabase(c.cwd) {
		return nil, errors.New("the current directory is not a cairn database: run this in a database's directory (see cairn init)")
	}
	return dbdir.ReadConfig(c.cwd)
}

func (c *backupCLI) list(verbose bool) error {
	cfg, err := c.config()
	if err != nil {
		return err
	}
	for _, b := range cfg.Backups {
		if verbose {
			params := "{}"
			if len(b.Params) > 0 {
				var kv []string
				for k, v := range b.Params {
					kv = append(kv, strconv.Quote(k)+": "+strconv.Quote(v))
				}
				params = "{" + strings.Join(kv, ", ") + "}"
			}
			fmt.Fprintf(c.out, "%s %s %s\n", b.Name, b.URL, params)
		} else {
			fmt.Fprintln(c.out, b.Name)
		}
	}
	return nil
}

// local opens the databases of dataDir in this process, for a command that
// no server's running for.
func (c *backupCLI) local(dataDir string) (*procedures.Backups, func(), error) {
	e, err := sqle.NewEngine(c.ctx, sqle.Options{Dir: dataDir})
	if err != nil {
		return nil, nil, err
	}
	b := &procedures.Backups{Prov: e.Provider, Progress: newProgressLine(c.errOut).report}
	return b, func() { e.Close() }, nil
}

// call runs CALL dolt_backup(args...) in the running server l, in database
// db ("" for none).
func (c *backupCLI) call(l *server.Lock, db string, args ...string) error {
	sdb, addr, err := connectServer(l, c.user, c.password, db)
	if err != nil {
		return err
	}
	defer sdb.Close()
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ")
	vals := make([]any, len(args))
	for i, a := range args {
		vals[i] = a
	}
	_, err = sdb.ExecContext(c.ctx, "CALL dolt_backup("+marks+")", vals...)
	return serverError(err, addr, l)
}

func viaServer(l *server.Lock) string {
	return fmt.Sprintf("through the cairn server on port %d (pid %d)", l.Port, l.PID)
}

func (c *backupCLI) add(name, rawURL string) error {
	db, srv, err := c.database()
	if err != nil {
		return err
	}
	u, err := remote.NormalizeURL(rawURL, c.cwd)
	if err != nil {
		return err
	}
	if srv != nil {
		return c.call(srv, db, append([]string{"add", name, u}, c.paramArgs()...)...)
	}
	b, done, err := c.local(c.cwd)
	if err != nil {
		return err
	}
	defer done()
	return b.Add(c.ctx, db, name, u, c.cwd, c.params())
}

func (c *backupCLI) remove(name string) error {
	db, srv, err := c.database()
	if err != nil {
		return err
	}
	if srv != nil {
		return c.call(srv, db, "remove", name)
	}
	b, done, err := c.local(c.cwd)
	if err != nil {
		return err
	}
	defer done()
	return b.Remove(c.ctx, db, name)
}

// sync syncs to backup name, or to rawURL if name is "".
func (c *backupCLI) sync(name, rawURL string, prune time.Duration) error {
	db, srv, err := c.database()
	if err != nil {
		return err
	}
	if rawURL != "" {
		if rawURL, err = remote.NormalizeURL(rawURL, c.cwd); err != nil {
			return err
		}
	}
	if srv != nil {
		args := []string{"sync", name}
		if name == "" {
			args = append([]string{"sync-url", rawURL}, c.paramArgs()...)
		}
		if prune > 0 {
			args = append(args, "--prune-with-grace-period", prune.String())
		}
		start := time.Now()
		if err := c.call(srv, db, args...); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "Synced %s %s in %.1fs\n", strings.TrimSpace(name+" "+rawURL), viaServer(srv), time.Since(start).Seconds())
		return nil
	}
	if prune != 0 && prune < remote.MinPruneGrace {
		return fmt.Errorf("--prune-with-grace-period must be at least %v", remote.MinPruneGrace)
	}
	b, done, err := c.local(c.cwd)
	if err != nil {
		return err
	}
	defer done()
	var st remote.SyncStats
	u := rawURL
	if name != "" {
		st, u, err = b.Sync(c.ctx, db, name, prune)
	} else {
		st, err = b.SyncURL(c.ctx, db, rawURL, c.cwd, c.params(), prune)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(c.out, procedures.SyncSummary(st, u))
	return nil
}

func (c *backupCLI) restore(rawURL, name string, force bool) error {
	u, err := remote.NormalizeURL(rawURL, c.cwd)
	if err != nil {
		return err
	}
	if srv, ok := server.Running(c.cwd); ok {
		args := append([]string{"restore", u, name}, c.paramArgs()...)
		if force {
			args = append(args, "--force")
		}
		start := time.Now()
		if err := c.call(&srv, "", args...); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "Restored database %s from %s %s in %.1fs\n", name, u, viaServer(&srv), time.Since(start).Seconds())
		return nil
	}
	b, done, err := c.local(c.cwd)
	if err != nil {
		return err
	}
	defer done()
	st, err := b.Restore(c.ctx, u, c.cwd, name, c.params(), force)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.out, procedures.RestoreSummary(st, u, name))
	return nil
}

// restoreServer rebuilds data directory dataDir from the server-wide backup
// at template: every database the backup lists, then the users and grants.
// A database that fails does not stop the others; the error names them.
func (c *backupCLI) restoreServer(template, dataDir string, force bool) error {
	if !strings.Contains(template, procedures.DatabasePlaceholder) {
		return usageError(fmt.Sprintf("the URL template %q has no %s (give the url of the server config's backup)", template, procedures.DatabasePlaceholder))
	}
	dir, err := filepath.Abs(dataDir)
	if err != nil {
		return err
	}
	if l, ok := server.Running(dir); ok {
		return fmt.Errorf("a cairn server (pid %d, %s:%d) is running on %s: stop it first", l.PID, l.Host, l.Port, dir)
	}
	params := c.params()
	su, err := remote.NormalizeURL(procedures.ExpandURL(template, procedures.ServerDatabase), c.cwd)
	if err != nil {
		return err
	}
	d, err := remote.Open(c.ctx, su, params, false)
	if err != nil {
		return err
	}
	m, _, err := procedures.LoadServerManifest(c.ctx, d)
	if err != nil {
		return err
	}
	users, err := procedures.ReadServerUsers(c.ctx, d, m)
	if err != nil {
		return err
	}
	usersPath := server.UsersFile(dir)
	if _, err := os.Stat(usersPath); err == nil && users != nil && !force {
		return fmt.Errorf("%s already has users and grants (%s): give --force to replace them", dir, usersPath)
	}
	if err := os.MkdirAll(filepath.Join(dir, dbdir.CairnDir), 0o755); err != nil {
		return err
	}
	b, done, err := c.local(dir)
	if err != nil {
		return err
	}
	defer done()
	fmt.Fprintf(c.out, "Restoring %d database(s) and the users of the server backup at %s (written %s)\n",
		len(m.Databases), su, m.Updated.Format(time.RFC3339))
	var failed []string
	for _, db := range m.Databases {
		u := procedures.ExpandURL(template, db)
		st, err := b.Restore(c.ctx, u, c.cwd, db, params, force)
		if err != nil {
			fmt.Fprintf(c.errOut, "error: database %s: %v\n", db, err)
			failed = append(failed, db)
			continue
		}
		nu, _ := remote.NormalizeURL(u, c.cwd)
		fmt.Fprintln(c.out, procedures.RestoreSummary(st, nu, db))
	}
	if users != nil {
		if err := dbdir.WriteFileDurably(usersPath, users, 0o600); err != nil {
			return fmt.Errorf("write the users and grants: %w", err)
		}
		fmt.Fprintf(c.out, "Restored the users and grants (%s)\n", procedures.FormatBytes(int64(len(users))))
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d database(s) were not restored: %s", len(failed), len(m.Databases), strings.Join(failed, ", "))
	}
	return nil
}

func (c *backupCLI) verify(nameOrURL string) error {
	u := nameOrURL
	params := c.params()
	if !strings.Contains(nameOrURL, "://") {
		cfg, err := c.config()
		if err != nil {
			return err
		}
		b, ok := cfg.Backup(nameOrURL)
		if !ok {
			return fmt.Errorf("backup '%s' not found", nameOrURL)
		}
		u, params = b.URL, b.Params
	} else {
		var err error
		if u, err = remote.NormalizeURL(nameOrURL, c.cwd); err != nil {
			return err
		}
	}
	d, err := remote.Open(c.ctx, u, params, false)
	if err != nil {
		return err
	}
	r, err := remote.Verify(c.ctx, d, newProgressLine(c.errOut).report)
	if err != nil {
		return err
	}
	where := fmt.Sprintf("%d packs", r.Packs)
	if r.BaseFiles > 0 {
		where = fmt.Sprintf("a base of %d files and %d packs", r.BaseFiles, r.Packs)
	}
	fmt.Fprintf(c.out, "Verified %s: %d refs, %d chunks in %s (%s), backup of database %s written %s: OK (%.1fs)\n",
		u, r.Refs, r.Chunks, where, procedures.FormatBytes(r.Bytes), r.Database, r.Updated.Format(time.RFC3339), r.Duration.Seconds())
	return nil
}

// progressLine shows progress on one terminal line, rewritten in place; on
// anything but a terminal it shows nothing.
type progressLine struct {
	w     io.Writer
	tty   bool
	shown bool
}

func newProgressLine(w io.Writer) *progressLine {
	p := &progressLine{w: w}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progressLine) report(pr remote.Progress) {
	if !p.tty {
		return
	}
	line := fmt.Sprintf("%s: %d chunks, %s", pr.Phase, pr.Chunks, procedures.FormatBytes(pr.Bytes))
	if pr.TotalChunks > 0 {
		line = fmt.Sprintf("%s: %d/%d chunks, %s/%s", pr.Phase, pr.Chunks, pr.TotalChunks, procedures.FormatBytes(pr.Bytes), procedures.FormatBytes(pr.TotalBytes))
	}
	if secs := pr.Elapsed.Seconds(); secs > 0 {
		rate := float64(pr.Bytes) / secs
		line += fmt.Sprintf(", %s/s", procedures.FormatBytes(int64(rate)))
		if pr.TotalBytes > 0 && rate > 0 && pr.Bytes < pr.TotalBytes {
			line += fmt.Sprintf(", ETA %.0fs", float64(pr.TotalBytes-pr.Bytes)/rate)
		}
	}
	fmt.Fprintf(p.w, "\r\033[K%s", line)
	p.shown = true
	if pr.TotalChunks > 0 && pr.Chunks == pr.TotalChunks {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}
