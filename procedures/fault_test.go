package procedures

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairndb/cairn/storage/remote"
)

// Failing and slow destination calls, one kind at a time: the procedure
// fails with the destination's error, queries on the database go on
// meanwhile, the previous backup stays whole, and once the destination
// answers again the next sync and a restore complete.
func TestBackupDestinationFaults(t *testing.T) {
	s := newTestServer(t)
	s.exec("", "CREATE DATABASE db1")
	s.exec("db1", "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))", "INSERT INTO t VALUES (0, 'zero')")
	name := strings.ReplaceAll(t.Name(), "/", "-")
	d := remote.Memory(name)
	s.exec("db1", "CALL dolt_backup('add', 'b1', 'mem://"+name+"')", "CALL dolt_backup('sync', 'b1')")
	n := 1
	for _, c := range []struct{ op, object, call string }{
		{"load", "manifest.json", "sync"},
		{"swap", "lock.json", "sync"},
		{"put", "", "sync"},
		{"swap", "manifest.json", "sync"},
		{"get", "", "restore"},
		{"load", "manifest.json", "restore"},
	} {
		t.Run(c.op+" "+c.object+" "+c.call, func(t *testing.T) {
			s.exec("db1", fmt.Sprintf("INSERT INTO t VALUES (%d, 'row %d')", n, n))
			n++
			remote.SetFault(d, func(op, object string) error {
				time.Sleep(2 * time.Millisecond) // every call is slow
				if op == c.op && (c.object == "" || object == c.object) {
					return errors.New("injected: 503 SlowDown")
				}
				return nil
			})
			// Queries go on while the backup fails.
			var wg sync.WaitGroup
			stop := make(chan struct{})
			var queries int
			var qerr error
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := s.e.Query(s.ctx("db1"), "SELECT COUNT(*) FROM t"); err != nil {
						qerr = err
						return
					}
					queries++
				}
			}()
			q := "CALL dolt_backup('sync', 'b1')"
			if c.call == "restore" {
				q = "CALL dolt_backup('restore', 'mem://" + name + "', 'r" + fmt.Sprint(n) + "')"
			}
			_, err := s.e.Query(s.ctx("db1"), q)
			close(stop)
			wg.Wait()
			remote.SetFault(d, nil)
			if err == nil || !strings.Contains(err.Error(), "injected: 503 SlowDown") {
				t.Fatalf("%s with failing %s %s: %v", c.call, c.op, c.object, err)
			}
			if qerr != nil || queries == 0 {
				t.Fatalf("queries during the failing %s: %d, %v", c.call, queries, qerr)
			}
			if c.call == "restore" {
				if rows := s.rows("", "SHOW DATABASES LIKE 'r%'"); len(rows) != 0 {
					t.Fatalf("a failed restore left %v", rows)
				}
			}
			if _, err := remote.Verify(s.ctx(""), d, nil); err != nil {
				t.Fatalf("the backup after the failure: %v", err)
			}
			s.exec("db1", "CALL dolt_backup('sync', 'b1')")
			s.exec("", "CALL dolt_backup('restore', 'mem://"+name+"', 'ok"+fmt.Sprint(n)+"')")
			want := s.rows("db1", "SELECT COUNT(*) FROM t")
			if got := s.rows("ok"+fmt.Sprint(n), "SELECT COUNT(*) FROM t"); got[0] != want[0] {
				t.Fatalf("restored %v rows, want %v", got, want)
			}
		})
	}
}
