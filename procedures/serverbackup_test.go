package procedures

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairndb/cairn/storage/remote"
)

func TestScheduleNext(t *testing.T) {
	loc := time.FixedZone("X", 3600)
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	var zero time.Time
	for _, c := range []struct {
		s         Schedule
		last, now string
		want      string
	}{
		// every: the first round at once, then on the interval.
		{Schedule{Every: time.Hour}, "", "2026-11-26 10:17", "2026-11-26 10:17"},
		{Schedule{Every: time.Hour}, "2026-11-26 10:00", "2026-11-26 10:17", "2026-11-26 11:00"},
		{Schedule{Every: time.Hour}, "2026-11-26 07:00", "2026-11-26 10:17", "2026-11-26 10:17"}, // missed while down
		// at: daily at that time, in the clock's zone.
		{Schedule{At: "02:30"}, "", "2026-11-26 10:17", "2026-11-27 02:30"},
		{Schedule{At: "02:30"}, "", "2026-11-26 01:00", "2026-11-26 02:30"},
		{Schedule{At: "02:30"}, "2026-11-26 02:30", "2026-11-26 10:17", "2026-11-27 02:30"},
		{Schedule{At: "02:30"}, "2026-11-24 02:30", "2026-11-26 10:17", "2026-11-26 10:17"}, // missed
		// both: slots at 02:30 plus multiples of 6h.
		{Schedule{At: "02:30", Every: 6 * time.Hour}, "", "2026-11-26 10:17", "2026-11-26 14:30"},
		{Schedule{At: "02:30", Every: 6 * time.Hour}, "", "2026-11-26 01:00", "2026-11-26 02:30"},
		{Schedule{At: "02:30", Every: 6 * time.Hour}, "2026-11-26 08:30", "2026-11-26 10:17", "2026-11-26 14:30"},
		{Schedule{At: "02:30", Every: 6 * time.Hour}, "2026-11-26 09:00", "2026-11-26 10:17", "2026-11-26 14:30"}, // a manual round between slots
	} {
		last := zero
		if c.last != "" {
			last = at(c.last)
		}
		got := c.s.next(last, at(c.now))
		if !got.Equal(at(c.want)) {
			t.Errorf("%+v, last %q, now %s: next %s, want %s", c.s, c.last, c.now, got.In(loc).Format("2006-01-02 15:04"), c.want)
		}
	}
}

// A round syncs every database to its own destination and the users to
// _server, records each in dolt_backup_status, and goes on past a database
// that fails; sync-all runs one; the state survives a restart.
func TestServerBackupRound(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	for _, db := range []string{"db1", "db2", "db3"} {
		s.exec("", "CREATE DATABASE "+db)
		s.exec(db, "CREATE TABLE t (id INT PRIMARY KEY)", "INSERT INTO t VALUES (1), (2)")
	}
	root := t.TempDir()
	// db2's destination cannot be made: a file is in its way.
	os.WriteFile(filepath.Join(root, "db2"), []byte("in the way"), 0o644)
	users := filepath.Join(t.TempDir(), "users.db")
	os.WriteFile(users, []byte("users and grants"), 0o600)
	state := filepath.Join(t.TempDir(), "backups.json")
	b := &Backups{Prov: s.e.Provider}
	sb := &ServerBackups{Backups: b, UsersFile: users, StateFile: state,
		Schedules: []Schedule{{Name: "nightly", URL: "file://" + root + "/{database}", Every: time.Hour, KeepVerified: true}}}
	if err := sb.Load(); err != nil {
		t.Fatal(err)
	}
	b.Server = sb
	b.Register()
	s.e.Provider.SetBackupStatus(sb.Status)

	_, err := s.e.Query(s.ctx("db1"), "CALL dolt_backup('sync-all')")
	if err == nil || !strings.Contains(err.Error(), "server backup 'nightly' failed for db2") {
		t.Fatalf("sync-all with a failing database: %v", err)
	}
	rows := s.rows("db1", "SELECT name, `database`, last_success IS NOT NULL, bytes > 0, last_error IS NULL FROM dolt_backup_status ORDER BY 2")
	want := []string{"nightly|_server|1|1|1", "nightly|db1|1|1|1", "nightly|db2|0|0|0", "nightly|db3|1|1|1"}
	if strings.Join(rows, " ") != strings.Join(want, " ") {
		t.Fatalf("dolt_backup_status:\n%v\nwant\n%v", rows, want)
	}
	for _, db := range []string{"db1", "db3"} {
		d, _ := remote.OpenFile(filepath.Join(root, db), false)
		if _, err := remote.Verify(ctx, d, nil); err != nil {
			t.Fatalf("%s: %v", db, err)
		}
	}
	d, _ := remote.OpenFile(filepath.Join(root, ServerDatabase), false)
	m, _, err := LoadServerManifest(ctx, d)
	if err != nil || strings.Join(m.Databases, ",") != "db1,db2,db3" {
		t.Fatalf("server manifest: %+v, %v", m, err)
	}
	if u, err := ReadServerUsers(ctx, d, m); err != nil || string(u) != "users and grants" {
		t.Fatalf("users: %q, %v", u, err)
	}

	// Fixed, the next round backs db2 up, and only the changes of the
	// others (nothing): the status clears its error.
	os.Remove(filepath.Join(root, "db2"))
	s.exec("db1", "CALL dolt_backup('sync-all', 'nightly')")
	rows = s.rows("db1", "SELECT `database`, last_error IS NULL, bytes FROM dolt_backup_status WHERE `database` IN ('db1', 'db2')")
	if len(rows) != 2 || rows[0] != "db1|1|0" || !strings.HasPrefix(rows[1], "db2|1|") || rows[1] == "db2|1|0" {
		t.Fatalf("after the fix: %v", rows)
	}
	s.fails("db1", "CALL dolt_backup('sync-all', 'weekly')", "server backup 'weekly' not found")
	s.fails("db1", "CALL dolt_backup('sync-all', 'a', 'b')", "usage: dolt_backup('sync-all'[, 'server backup name'])")

	// The users changed: the new ones replace the old object.
	os.WriteFile(users, []byte("more users and grants"), 0o600)
	if err := sb.Round(ctx, ""); err != nil {
		t.Fatal(err)
	}
	m2, _, _ := LoadServerManifest(ctx, d)
	if u, _ := ReadServerUsers(ctx, d, m2); string(u) != "more users and grants" {
		t.Fatalf("users after a change: %q", u)
	}
	if objs, _ := d.List(ctx, "users/"); len(objs) != 1 {
		t.Fatalf("old users objects left: %v", objs)
	}

	// A restart reads the state back.
	sb2 := &ServerBackups{Backups: b, UsersFile: users, StateFile: state, Schedules: sb.Schedules}
	if err := sb2.Load(); err != nil {
		t.Fatal(err)
	}
	if got := sb2.Status(); len(got) != 4 || got[1].LastSuccess.IsZero() || sb2.state.Rounds["nightly"].IsZero() {
		t.Fatalf("state after restart: %+v", got)
	}

	// Without schedules sync-all says so.
	b.Server = nil
	s.fails("db1", "CALL dolt_backup('sync-all')", "no server backups are configured: add a backups: list to the server config")
}

// The scheduler runs a round at once when one is due, then waits for the
// next; it stops with its context.
func TestServerBackupScheduler(t *testing.T) {
	s := newTestServer(t)
	s.exec("", "CREATE DATABASE db1")
	root := t.TempDir()
	sb := &ServerBackups{Backups: &Backups{Prov: s.e.Provider}, StateFile: filepath.Join(t.TempDir(), "state.json"),
		UsersFile: filepath.Join(t.TempDir(), "none"),
		Schedules: []Schedule{{Name: "often", URL: "file://" + root + "/{database}", Every: 200 * time.Millisecond}}}
	sb.Load()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sb.Run(ctx); close(done) }()
	deadline := time.Now().Add(20 * time.Second)
	rounds := 0
	var last time.Time
	for time.Now().Before(deadline) && rounds < 3 {
		for _, st := range sb.Status() {
			if st.Database == "db1" && st.LastSuccess.After(last) {
				last = st.LastSuccess
				rounds++
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	if rounds < 3 {
		t.Fatalf("%d rounds seen", rounds)
	}
	if _, err := os.Stat(filepath.Join(root, "db1", "manifest.json")); err != nil {
		t.Fatal(err)
	}
}
