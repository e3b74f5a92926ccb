package procedures

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cairndb/cairn/storage/dbdir"
	"github.com/cairndb/cairn/storage/remote"
	"github.com/cairndb/cairn/storage/sqle"
)

// Server-wide backups (docs/backups.md, "Server-wide backups"): schedules in
// the server config, each syncing every database to its own destination
// (the URL template's {database}) and the users and grants to the
// destination of ServerDatabase, on an interval or at a time of day.

// DatabasePlaceholder is what a schedule's URL template holds in place of
// each database's name.
const DatabasePlaceholder = "{database}"

// ServerDatabase is the name that takes the placeholder's place for the
// server's own state (users and grants): …/_server.
const ServerDatabase = "_server"

// Schedule is one server-wide backup.
type Schedule struct {
	Name string
	// URL is the destination template: it holds {database}.
	URL string
	// Every is the interval between rounds (0: daily, with At).
	Every time.Duration
	// At is a time of day, "15:04" in the server's time zone, that rounds
	// are anchored to ("" for none).
	At string
	// KeepVerified verifies each destination after it is synced.
	KeepVerified bool
	// Params are the destinations' params (endpoint, key file, …).
	Params map[string]string
}

// CheckSchedule checks a schedule as the config gives it; the error names
// what is wrong.
func CheckSchedule(s Schedule) error {
	if err := CheckBackupName(s.Name); err != nil {
		return fmt.Errorf("name: %w", err)
	}
	if !strings.Contains(s.URL, DatabasePlaceholder) {
		return fmt.Errorf("url: %q has no %s: each database needs its own destination", s.URL, DatabasePlaceholder)
	}
	if _, err := remote.NormalizeURL(ExpandURL(s.URL, "db"), "/"); err != nil {
		return fmt.Errorf("url: %w", err)
	}
	if s.Every < 0 || (s.Every > 0 && s.Every < time.Second) {
		return fmt.Errorf("every: %v is not an interval of at least a second", s.Every)
	}
	if s.At != "" {
		if _, err := time.Parse("15:04", s.At); err != nil {
			return fmt.Errorf("at: %q is not a time of day such as \"02:30\"", s.At)
		}
	}
	if s.Every == 0 && s.At == "" {
		return errors.New("give every (an interval such as 1h), at (a time of day such as \"02:30\"), or both")
	}
	for k := range s.Params {
		if !isDestinationParam(k) {
			return fmt.Errorf("params: unknown param %q (want one of %s)", k, strings.Join(remote.DestinationParams, ", "))
		}
	}
	return nil
}

// isDestinationParam reports whether k names a destination param.
func isDestinationParam(k string) bool { return slices.Contains(remote.DestinationParams, k) }

// ExpandURL returns a schedule's destination for database db.
func ExpandURL(template, db string) string {
	return strings.ReplaceAll(template, DatabasePlaceholder, url.PathEscape(db))
}

// next returns when a schedule's next round is due, given when its last one
// started (zero: never) and now. Rounds fall on At (today's, in now's time
// zone) plus whole multiples of Every (a day without Every); without At, on
// the last round plus Every. A schedule that never ran, or whose round fell
// due while the server was down, is due now.
func (s Schedule) next(last, now time.Time) time.Time {
	if s.At == "" {
		if last.IsZero() || last.Add(s.Every).Before(now) {
			return now
		}
		return last.Add(s.Every)
	}
	period := s.Every
	if period == 0 {
		period = 24 * time.Hour
	}
	at, _ := time.Parse("15:04", s.At)
	y, m, d := now.Date()
	anchor := time.Date(y, m, d, at.Hour(), at.Minute(), 0, 0, now.Location())
	from := last
	if from.IsZero() {
		from = now.Add(-time.Nanosecond) // the first round: at the next slot
	}
	// The first slot after from.
	k := from.Sub(anchor) / period
	t := anchor.Add(k * period)
	for !t.After(from) {
		t = t.Add(period)
	}
	for t.Add(-period).After(from) {
		t = t.Add(-period)
	}
	if !last.IsZero() && t.Before(now) {
		return now // missed while down
	}
	return t
}

// BackupStatus is the state of one database's backup of a schedule, as
// dolt_backup_status shows it.
type BackupStatus = sqle.BackupStatus

// serverState is what ServerBackups keeps on disk between runs.
type serverState struct {
	Rounds map[string]time.Time `json:"rounds"` // schedule → start of its last round
	Status []BackupStatus       `json:"status"`
}

// ServerBackups runs the schedules of a server.
type ServerBackups struct {
	Backups   *Backups
	Schedules []Schedule
	// UsersFile is the users and grants' file (DATA_DIR/.cairn/users.db).
	UsersFile string
	// StateFile keeps the rounds' times and status across restarts.
	StateFile string
	// Logf receives a line per database synced and per round; Warnf (Logf
	// if nil) one per failure.
	Logf, Warnf func(format string, args ...any)
	// Now is the clock (time.Now if nil).
	Now func() time.Time

	round sync.Mutex // one round at a time
	mu    sync.Mutex
	state serverState
	wake  chan struct{}
}

// Load reads the state a previous run left.
func (sb *ServerBackups) Load() error {
	sb.state = serverState{Rounds: map[string]time.Time{}}
	sb.wake = make(chan struct{}, 1)
	data, err := os.ReadFile(sb.StateFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, &sb.state); err != nil {
		sb.logf("server backups: ignoring the unreadable state file %s: %v", sb.StateFile, err)
		sb.state = serverState{}
	}
	if sb.state.Rounds == nil {
		sb.state.Rounds = map[string]time.Time{}
	}
	return nil
}

func (sb *ServerBackups) now() time.Time {
	if sb.Now != nil {
		return sb.Now()
	}
	return time.Now()
}

func (sb *ServerBackups) logf(format string, args ...any) {
	if sb.Logf != nil {
		sb.Logf(format, args...)
	}
}

func (sb *ServerBackups) warnf(format string, args ...any) {
	if sb.Warnf != nil {
		sb.Warnf(format, args...)
		return
	}
	sb.logf(format, args...)
}

// Status returns the status of every database of every schedule, by
// schedule and database.
func (sb *ServerBackups) Status() []BackupStatus {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	out := append([]BackupStatus(nil), sb.state.Status...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Database < out[j].Database
	})
	return out
}

// update changes the status of one database of a schedule (in memory:
// finish saves it).
func (sb *ServerBackups) update(name, db string, fn func(*BackupStatus)) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	fn(sb.statusLocked(name, db))
}

// statusLocked returns the status of one database of a schedule, adding it
// if there is none yet.
func (sb *ServerBackups) statusLocked(name, db string) *BackupStatus {
	for i := range sb.state.Status {
		if st := &sb.state.Status[i]; st.Name == name && st.Database == db {
			return st
		}
	}
	sb.state.Status = append(sb.state.Status, BackupStatus{Name: name, Database: db})
	return &sb.state.Status[len(sb.state.Status)-1]
}

func (sb *ServerBackups) saveLocked() {
	if sb.StateFile == "" {
		return
	}
	data, err := json.MarshalIndent(sb.state, "", " ")
	if err == nil {
		err = dbdir.WriteFileDurably(sb.StateFile, data, 0o600)
	}
	if err != nil {
		sb.logf("server backups: save state: %v", err)
	}
}

// Run runs the schedules until ctx ends.
func (sb *ServerBackups) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, s := range sb.Schedules {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sb.runSchedule(ctx, s)
		}()
	}
	wg.Wait()
}

func (sb *ServerBackups) runSchedule(ctx context.Context, s Schedule) {
	for {
		sb.mu.Lock()
		last := sb.state.Rounds[s.Name]
		sb.mu.Unlock()
		now := sb.now()
		due := s.next(last, now)
		if !due.After(now) {
			if err := sb.Round(ctx, s.Name); err != nil && ctx.Err() == nil {
				sb.warnf("server backup %s: %v", s.Name, err)
			}
			if ctx.Err() != nil {
				return
			}
			continue
		}
		t := time.NewTimer(due.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// ErrNoServerBackups: sync-all without a schedule in the server config.
var ErrNoServerBackups = backupErrorf("no server backups are configured: add a backups: list to the server config")

// Round runs one round of schedule name ("" for every schedule) now: every
// database, then the users and grants. One database's failure does not
// stop the others; the error returned names every failure.
func (sb *ServerBackups) Round(ctx context.Context, name string) error {
	if sb == nil || len(sb.Schedules) == 0 {
		return ErrNoServerBackups
	}
	var run []Schedule
	for _, s := range sb.Schedules {
		if name == "" || s.Name == name {
			run = append(run, s)
		}
	}
	if len(run) == 0 {
		return backupErrorf("server backup '%s' not found", name)
	}
	sb.round.Lock()
	defer sb.round.Unlock()
	var errs []error
	for _, s := range run {
		if err := sb.runRound(ctx, s); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (sb *ServerBackups) runRound(ctx context.Context, s Schedule) error {
	start := sb.now()
	sb.mu.Lock()
	sb.state.Rounds[s.Name] = start
	sb.mu.Unlock()
	dbs := sb.Backups.Prov.DatabaseNames()
	var failed []string
	for _, db := range dbs {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := sb.syncDatabase(ctx, s, db); err != nil {
			failed = append(failed, db)
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := sb.syncServer(ctx, s, dbs); err != nil {
		failed = append(failed, ServerDatabase)
	}
	sb.logf("server backup %s: round of %d database(s) done in %s, %d failed", s.Name, len(dbs), formatDuration(sb.now().Sub(start)), len(failed))
	if len(failed) > 0 {
		return backupErrorf("server backup '%s' failed for %s (see dolt_backup_status)", s.Name, strings.Join(failed, ", "))
	}
	return nil
}

// syncDatabase syncs one database and records how it went.
func (sb *ServerBackups) syncDatabase(ctx context.Context, s Schedule, db string) error {
	start := sb.now()
	u := ExpandURL(s.URL, db)
	sb.update(s.Name, db, func(st *BackupStatus) { st.URL = u; st.LastStart = start })
	bytes, err := func() (int64, error) {
		if strings.EqualFold(db, ServerDatabase) {
			return 0, fmt.Errorf("a database named %s collides with the server's own backup at that name; rename the database", ServerDatabase)
		}
		st, err := sb.Backups.SyncURL(ctx, db, u, sb.Backups.Prov.Dir(), s.Params, 0)
		if err != nil {
			return 0, err
		}
		if s.KeepVerified {
			if err := sb.verify(ctx, u, s.Params); err != nil {
				return 0, err
			}
		}
		return st.Uploaded, nil
	}()
	sb.finish(s.Name, db, start, bytes, err)
	return err
}

func (sb *ServerBackups) verify(ctx context.Context, u string, params map[string]string) error {
	nu, err := remote.NormalizeURL(u, sb.Backups.Prov.Dir())
	if err != nil {
		return err
	}
	d, err := remote.Open(ctx, nu, params, false)
	if err != nil {
		return err
	}
	_, err = remote.Verify(ctx, d, nil)
	return err
}

// finish records how one database's backup of a round went (bytes
// uploaded, if it succeeded) and saves the state.
func (sb *ServerBackups) finish(name, db string, start time.Time, bytes int64, err error) {
	end := sb.now()
	sb.mu.Lock()
	st := sb.statusLocked(name, db)
	st.Duration = end.Sub(start)
	if err != nil {
		st.LastError = err.Error()
	} else {
		st.LastError, st.LastSuccess, st.Bytes = "", start, bytes
	}
	sb.saveLocked()
	sb.mu.Unlock()
	if err != nil {
		sb.warnf("server backup %s of %s failed: %v", name, db, err)
	}
}

// The server's own destination holds serverManifestName, naming the users
// and grants' object and the databases of the round.
const (
	serverManifestName    = "server.json"
	serverManifestFormat  = "cairn-server-backup"
	serverManifestVersion = 1
)

// ServerManifest is the content of a server backup's server.json.
type ServerManifest struct {
	Format  string    `json:"format"`
	Version int       `json:"version"`
	Updated time.Time `json:"updated"`
	// Databases are the databases of the server when the round ran: each
	// has its backup at the template's destination for its name.
	Databases []string `json:"databases"`
	// Users is the object holding the users and grants ("" if the server
	// had none stored), with its size and SHA-256.
	Users       string `json:"users,omitempty"`
	UsersSize   int64  `json:"users_size,omitempty"`
	UsersSHA256 string `json:"users_sha256,omitempty"`
}

// syncServer writes the users and grants and the list of databases to the
// server's own destination.
func (sb *ServerBackups) syncServer(ctx context.Context, s Schedule, dbs []string) error {
	start := sb.now()
	u := ExpandURL(s.URL, ServerDatabase)
	sb.update(s.Name, ServerDatabase, func(st *BackupStatus) { st.URL = u; st.LastStart = start })
	var uploaded int64
	err := func() error {
		nu, err := remote.NormalizeURL(u, sb.Backups.Prov.Dir())
		if err != nil {
			return err
		}
		d, err := remote.Open(ctx, nu, s.Params, true)
		if err != nil {
			return err
		}
		m := ServerManifest{Databases: dbs}
		users, err := os.ReadFile(sb.UsersFile)
		switch {
		case err == nil:
			sum := sha256.Sum256(users)
			m.UsersSHA256 = hex.EncodeToString(sum[:])
			m.Users = "users/" + m.UsersSHA256 + ".db"
			m.UsersSize = int64(len(users))
		case !errors.Is(err, os.ErrNotExist):
			return err
		}
		old, version, err := LoadServerManifest(ctx, d)
		if err != nil && !errors.Is(err, remote.ErrNotExist) {
			return err
		}
		if old != nil && old.Users == m.Users && strings.Join(old.Databases, "\x00") == strings.Join(m.Databases, "\x00") {
			return nil // up to date
		}
		if m.Users != "" {
			if _, err := d.Stat(ctx, m.Users); errors.Is(err, remote.ErrNotExist) {
				if err := d.Put(ctx, m.Users, bytes.NewReader(users), m.UsersSize); err != nil {
					return err
				}
				uploaded = m.UsersSize
			} else if err != nil {
				return err
			}
		}
		m.Format, m.Version, m.Updated = serverManifestFormat, serverManifestVersion, sb.now().UTC()
		data, _ := json.MarshalIndent(m, "", " ")
		if _, err := d.Swap(ctx, serverManifestName, data, version); err != nil {
			return fmt.Errorf("%s: %w", serverManifestName, err)
		}
		if old != nil && old.Users != "" && old.Users != m.Users {
			d.Delete(ctx, old.Users) // best effort: the new one is in place
		}
		return nil
	}()
	sb.finish(s.Name, ServerDatabase, start, uploaded, err)
	return err
}

// LoadServerManifest reads a server backup's server.json and its version.
func LoadServerManifest(ctx context.Context, d remote.Destination) (*ServerManifest, string, error) {
	data, version, err := d.Load(ctx, serverManifestName)
	if err != nil {
		if errors.Is(err, remote.ErrNotExist) {
			return nil, "", fmt.Errorf("%s holds no server backup (no %s): %w", d.URL(), serverManifestName, err)
		}
		return nil, "", err
	}
	if remote.IsEncrypted(data) {
		return nil, "", fmt.Errorf("%s: %w", d.URL(), remote.ErrEncrypted)
	}
	var m ServerManifest
	if err := json.Unmarshal(data, &m); err != nil || m.Format != serverManifestFormat {
		return nil, "", fmt.Errorf("%s/%s is not a cairn server backup", d.URL(), serverManifestName)
	}
	if m.Version != serverManifestVersion {
		return nil, "", fmt.Errorf("%s/%s is of version %d; this cairn reads version %d (a newer cairn wrote it)", d.URL(), serverManifestName, m.Version, serverManifestVersion)
	}
	for _, db := range m.Databases {
		if err := dbdir.CheckName(db); err != nil {
			return nil, "", fmt.Errorf("%s/%s: %w", d.URL(), serverManifestName, err)
		}
	}
	if m.Users != "" && (m.Users != "users/"+m.UsersSHA256+".db" || len(m.UsersSHA256) != 64 || m.UsersSize < 0 || m.UsersSize > 1<<30) {
		return nil, "", fmt.Errorf("%s/%s: bad users entry", d.URL(), serverManifestName)
	}
	return &m, version, nil
}

// ReadServerUsers returns the users and grants a server manifest names,
// checked against their hash; nil if it names none.
func ReadServerUsers(ctx context.Context, d remote.Destination, m *ServerManifest) ([]byte, error) {
	if m.Users == "" {
		return nil, nil
	}
	data, err := d.Get(ctx, m.Users, 0, m.UsersSize)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != m.UsersSHA256 {
		return nil, fmt.Errorf("%s/%s is damaged: its hash is not the one recorded", d.URL(), m.Users)
	}
	return data, nil
}
