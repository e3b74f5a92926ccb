// Package procedures holds cairn's SQL faces of its version-control and
// backup operations: the dolt_* stored procedures, with Dolt's names,
// arguments, results and messages. Each procedure parses its arguments and
// calls an operation that the CLI calls too.
package procedures

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/dbdir"
	"github.com/cairndb/cairn/storage/remote"
	"github.com/cairndb/cairn/storage/sqle"
)

// Backups runs the backup operations on the databases of a provider.
// CALL dolt_backup(...) and `cairn backup` both go through it.
type Backups struct {
	Prov *sqle.Provider
	// Logf, if not nil, receives one line per completed operation (the
	// summary the CLI prints).
	Logf func(format string, args ...any)
	// Progress, if not nil, receives progress reports of syncs and
	// restores.
	Progress remote.ProgressFunc
	// ReadOnly, if not nil, tells whether the server refuses changes:
	// then add, remove and restore are refused; syncs run.
	ReadOnly func() bool
	// Server, if not nil, runs the server-wide backups: sync-all.
	Server *ServerBackups
}

// BackupError is a failure of a backup operation whose text is part of the
// contract (DESIGN.md, "Backup procedure"), as Dolt words it.
type BackupError struct{ msg string }

func (e *BackupError) Error() string { return e.msg }

func backupErrorf(format string, args ...any) error {
	return &BackupError{msg: fmt.Sprintf(format, args...)}
}

// badNameChars are the characters a backup name may not hold.
const badNameChars = " \t\n\r./\\!@#$%^&*(){}[],<>'\"?=+|"

// CheckBackupName checks a backup's name.
func CheckBackupName(name string) error {
	if name == "" || strings.ContainsAny(name, badNameChars) {
		return backupErrorf("backup name '%s' is invalid", name)
	}
	return nil
}

func (b *Backups) refuseReadOnly() error {
	if b.ReadOnly != nil && b.ReadOnly() {
		return sql.ErrReadOnly.New()
	}
	return nil
}

// Add adds backup name at url (normalized against base, see
// remote.NormalizeURL), with params (remote.DestinationParams), to database
// db. A missing file:// directory is made.
func (b *Backups) Add(ctx context.Context, db, name, rawURL, base string, params map[string]string) error {
	if err := b.refuseReadOnly(); err != nil {
		return err
	}
	if err := CheckBackupName(name); err != nil {
		return err
	}
	u, err := remote.NormalizeURL(rawURL, base)
	if err != nil {
		return err
	}
	return b.Prov.UpdateDatabaseConfig(db, func(c *dbdir.Config) error {
		if _, ok := c.Backup(name); ok {
			return backupErrorf("backup '%s' already exists", name)
		}
		for _, o := range c.Backups {
			if o.URL == u {
				return backupErrorf("address conflict with a remote: '%s' -> %s", o.Name, o.URL)
			}
		}
		for _, o := range c.Remotes {
			if o.URL == u {
				return backupErrorf("address conflict with a remote: '%s' -> %s", o.Name, o.URL)
			}
		}
		if _, err := remote.Open(ctx, u, params, true); err != nil {
			return err
		}
		c.Backups = append(c.Backups, dbdir.Backup{Name: name, URL: u, Params: params})
		sort.Slice(c.Backups, func(i, j int) bool { return c.Backups[i].Name < c.Backups[j].Name })
		return nil
	})
}

// Remove removes backup name of database db. The backup's files stay.
func (b *Backups) Remove(ctx context.Context, db, name string) error {
	if err := b.refuseReadOnly(); err != nil {
		return err
	}
	return b.Prov.UpdateDatabaseConfig(db, func(c *dbdir.Config) error {
		for i, o := range c.Backups {
			if o.Name == name {
				c.Backups = append(c.Backups[:i], c.Backups[i+1:]...)
				return nil
			}
		}
		return backupErrorf("backup '%s' not found", name)
	})
}

// List returns the backups of database db.
func (b *Backups) List(db string) ([]dbdir.Backup, error) {
	c, err := b.Prov.DatabaseConfig(db)
	if err != nil {
		return nil, err
	}
	return c.Backups, nil
}

// Of returns backup name of database db.
func (b *Backups) Of(db, name string) (dbdir.Backup, error) {
	c, err := b.Prov.DatabaseConfig(db)
	if err != nil {
		return dbdir.Backup{}, err
	}
	bk, ok := c.Backup(name)
	if !ok {
		return bk, backupErrorf("backup '%s' not found", name)
	}
	return bk, nil
}

// Sync syncs database db to its backup name.
func (b *Backups) Sync(ctx context.Context, db, name string, prune time.Duration) (remote.SyncStats, string, error) {
	bk, err := b.Of(db, name)
	if err != nil {
		return remote.SyncStats{}, "", err
	}
	st, err := b.SyncURL(ctx, db, bk.URL, "", bk.Params, prune)
	return st, bk.URL, err
}

// SyncURL syncs database db to the destination at rawURL (normalized
// against base), which need not be a configured backup.
func (b *Backups) SyncURL(ctx context.Context, db, rawURL, base string, params map[string]string, prune time.Duration) (remote.SyncStats, error) {
	u, err := remote.NormalizeURL(rawURL, base)
	if err != nil {
		return remote.SyncStats{}, err
	}
	store, leases, err := b.Prov.DatabaseStore(db)
	if err != nil {
		return remote.SyncStats{}, err
	}
	d, err := remote.Open(ctx, u, params, true)
	if err != nil {
		return remote.SyncStats{}, err
	}
	st, err := remote.Sync(ctx, store, d, remote.SyncOptions{Database: db, Leases: leases, Progress: b.Progress, PruneGrace: prune})
	if err != nil {
		return st, err
	}
	b.logf("%s", SyncSummary(st, u))
	return st, nil
}

// Restore makes database name from the backup at rawURL (normalized
// against base). With force an existing database of that name is replaced,
// once the new one is complete and verified.
func (b *Backups) Restore(ctx context.Context, rawURL, base, name string, params map[string]string, force bool) (remote.RestoreStats, error) {
	var st remote.RestoreStats
	if err := b.refuseReadOnly(); err != nil {
		return st, err
	}
	u, err := remote.NormalizeURL(rawURL, base)
	if err != nil {
		return st, err
	}
	// Refuse before reading anything: the name, and an existing database
	// without --force.
	if err := b.Prov.CheckRestoreTarget(name, force); err != nil {
		return st, err
	}
	d, err := remote.Open(ctx, u, params, false)
	if err != nil {
		return st, err
	}
	bk, err := remote.OpenBackup(ctx, d)
	if err != nil {
		return st, err
	}
	place := func(ctx context.Context, dir string) error { return bk.PlaceBase(ctx, dir, b.Progress) }
	err = b.Prov.RestoreDatabase(ctx, name, force, place, func(ctx context.Context, s chunk.Store) error {
		var err error
		st, err = bk.Restore(ctx, s, b.Progress)
		return err
	})
	if err != nil {
		return st, err
	}
	b.logf("%s", RestoreSummary(st, u, name))
	return st, nil
}

func (b *Backups) logf(format string, args ...any) {
	if b.Logf != nil {
		b.Logf(format, args...)
	}
}

// SyncSummary is the line that reports a sync.
func SyncSummary(st remote.SyncStats, url string) string {
	if st.UpToDate && st.Pruned == 0 {
		return fmt.Sprintf("Backup at %s is up to date (%d refs)", url, st.Refs)
	}
	what := fmt.Sprintf("%d chunks", st.Chunks)
	if st.Files > 0 {
		what = fmt.Sprintf("%d files of the database", st.Files)
	}
	s := fmt.Sprintf("Uploaded %s in %s to %s in %s", FormatBytes(st.Uploaded), what, url, formatDuration(st.Duration))
	if st.Pruned > 0 {
		s += fmt.Sprintf("; pruned %d unreferenced pack(s)", st.Pruned)
	}
	return s
}

// RestoreSummary is the line that reports a restore.
func RestoreSummary(st remote.RestoreStats, url, name string) string {
	return fmt.Sprintf("Restored database %s from %s: %s in %d chunks, %d refs, in %s", name, url, FormatBytes(st.Bytes), st.Chunks, st.Refs, formatDuration(st.Duration))
}

// FormatBytes prints a byte count in decimal units: 12.3 MB.
func FormatBytes(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	case n < 1000*1000*1000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	default:
		return fmt.Sprintf("%.2f GB", float64(n)/1e9)
	}
}

func formatDuration(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.0fms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}

// backupSchema is the result of dolt_backup: one row, status 0.
var backupSchema = sql.Schema{{Name: "status", Type: types.Int64, Nullable: false}}

// Register registers dolt_backup with the provider.
func (b *Backups) Register() {
	b.Prov.RegisterProcedure(sql.ExternalStoredProcedureDetails{
		Name:      "dolt_backup",
		Schema:    backupSchema,
		Function:  b.procedure,
		AdminOnly: true,
		// Syncs are reads of the database: a read-only server may run
		// them; add, remove and restore check for themselves.
		ReadOnly: true,
	})
}

// procedure is dolt_backup(args...).
func (b *Backups) procedure(ctx *sql.Context, args ...string) (sql.RowIter, error) {
	if err := b.call(ctx, args); err != nil {
		return nil, err
	}
	return sql.RowsToRowIter(sql.Row{int64(0)}), nil
}

// backupArgs are dolt_backup's arguments: flags anywhere, the rest
// positional.
type backupArgs struct {
	pos    []string
	force  bool
	prune  time.Duration
	params map[string]string // --endpoint=…, --region=…, --path-style=…, --profile=…
}

func parseBackupArgs(args []string) (backupArgs, error) {
	var a backupArgs
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case arg == "--force" || arg == "-f":
			a.force = true
		case arg == "--prune-with-grace-period" || strings.HasPrefix(arg, "--prune-with-grace-period="):
			v, ok := strings.CutPrefix(arg, "--prune-with-grace-period=")
			if !ok {
				if i+1 >= len(args) {
					return a, backupErrorf("error: --prune-with-grace-period needs a duration, such as 1h")
				}
				i++
				v = args[i]
			}
			d, err := time.ParseDuration(v)
			if err != nil || d < remote.MinPruneGrace {
				return a, backupErrorf("error: --prune-with-grace-period '%s' is invalid: give a duration of at least %v, such as 1h", v, remote.MinPruneGrace)
			}
			a.prune = d
		case destinationParam(arg) != "":
			k, v, ok := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
			k = strings.ReplaceAll(k, "-", "_")
			if !ok {
				if i+1 >= len(args) {
					return a, backupErrorf("error: --%s needs a value", k)
				}
				i++
				v = args[i]
			}
			if a.params == nil {
				a.params = map[string]string{}
			}
			a.params[k] = v
		case strings.HasPrefix(arg, "--") && len(arg) > 2:
			return a, backupErrorf("error: unknown option '%s'", strings.TrimPrefix(arg, "--"))
		default:
			a.pos = append(a.pos, arg)
		}
	}
	return a, nil
}

// destinationParam returns the param a flag like --endpoint=URL sets, or "".
func destinationParam(arg string) string {
	name, _, _ := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
	if !strings.HasPrefix(arg, "--") {
		return ""
	}
	if name = strings.ReplaceAll(name, "-", "_"); isDestinationParam(name) {
		return name
	}
	return ""
}

var backupUsage = map[string]string{
	"add":      "usage: dolt_backup('add', 'name', 'url')",
	"remove":   "usage: dolt_backup('remove', 'name')",
	"rm":       "usage: dolt_backup('remove', 'name')",
	"sync":     "usage: dolt_backup('sync', 'name')",
	"sync-url": "usage: dolt_backup('sync-url', 'url')",
	"restore":  "usage: dolt_backup('restore', 'url', 'name')",
	"sync-all": "usage: dolt_backup('sync-all'[, 'server backup name'])",
}

var backupArgCount = map[string]int{"add": 3, "remove": 2, "rm": 2, "sync": 2, "sync-url": 2, "restore": 3, "sync-all": 1}

func (b *Backups) call(ctx *sql.Context, args []string) error {
	a, err := parseBackupArgs(args)
	if err != nil {
		return err
	}
	if len(a.pos) == 0 {
		return backupErrorf("use 'dolt_backups' table to list backups")
	}
	op := strings.ToLower(a.pos[0])
	want, known := backupArgCount[op]
	if !known {
		return backupErrorf("unrecognized dolt_backup parameter '%s'", a.pos[0])
	}
	if op == "sync-all" {
		// A round of the server-wide backups, now.
		if len(a.pos) > 2 {
			return backupErrorf("%s", backupUsage[op])
		}
		name := ""
		if len(a.pos) == 2 {
			name = a.pos[1]
		}
		return b.Server.Round(ctx, name)
	}
	db := ctx.GetCurrentDatabase()
	if db == "" && op != "restore" {
		return backupErrorf("empty database name")
	}
	if len(a.pos) != want {
		return backupErrorf("%s", backupUsage[op])
	}
	base := b.Prov.Dir()
	a.params = remote.AbsParams(a.params, base)
	switch op {
	case "add":
		return b.Add(ctx, db, a.pos[1], a.pos[2], base, a.params)
	case "remove", "rm":
		return b.Remove(ctx, db, a.pos[1])
	case "sync":
		_, _, err := b.Sync(ctx, db, a.pos[1], a.prune)
		return err
	case "sync-url":
		_, err := b.SyncURL(ctx, db, a.pos[1], base, a.params, a.prune)
		return err
	case "restore":
		_, err := b.Restore(ctx, a.pos[1], base, a.pos[2], a.params, a.force)
		return err
	}
	return errors.New("unreachable")
}
