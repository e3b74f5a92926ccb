package integration_test

import (
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// mountTmpfs mounts a tmpfs of size bytes on dir, to give a test a real,
// small file system that fills up. It needs root (CAP_SYS_ADMIN): the test
// is skipped without it, except under CI, where the machine is expected to
// allow it and a refusal fails the test.
func mountTmpfs(t *testing.T, dir string, size int64) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("mounting a tmpfs needs root; CI runs as root")
		}
		t.Skip("mounting a tmpfs needs root")
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount tmpfs: %v: %s", err, out)
		}
		t.Skipf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
}

// A database whose store fills its file system (a real tmpfs, so the
// writes fail with ENOSPC, some of them partly done, as on a full disk): the
// statement that needed the space fails with MySQL's error 3 naming the
// file and the errno, and later writes to that database are refused the
// same way; the server goes on serving the other database, and reads of
// the full one; it does not spin on Pebble's retries nor flood its log.
// Once there is space again and the server has restarted, every
// acknowledged row is there, the store is whole and takes writes again.
func TestDiskFull(t *testing.T) {
	// On 24 MiB a write to the log fills the disk first (the memtable is
	// 16 MiB), on 48 MiB a flush or compaction in the background does.
	for _, mib := range []int64{24, 48} {
		t.Run(fmt.Sprintf("%dMiB", mib), func(t *testing.T) { testDiskFull(t, mib<<20) })
	}
}

func testDiskFull(t *testing.T, size int64) {
	top := t.TempDir()
	s := startServer(t, top)
	root := s.connect(t, "root", "", "")
	mustExec(t, root, "CREATE DATABASE small")
	mustExec(t, root, "CREATE DATABASE other")
	mustExec(t, root, "CREATE TABLE other.t (id INT PRIMARY KEY, v INT)")
	mustExec(t, root, "CREATE TABLE small.blobs (id INT PRIMARY KEY, payload LONGBLOB, KEY by_prefix (payload(16)))")
	s.stop(t)

	// Move small's store onto a tmpfs of size bytes.
	store := filepath.Join(top, "small", ".cairn", "store")
	moved := store + ".disk"
	if err := os.Rename(store, moved); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(store, 0o755); err != nil {
		t.Fatal(err)
	}
	mountTmpfs(t, store, size)
	if out, err := exec.Command("cp", "-a", moved+"/.", store).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}

	s = startServer(t, top)
	small := s.connect(t, "root", "", "small")
	other := s.connect(t, "root", "", "other")
	acked := 0
	var fillErr error
	for i := range 1000 {
		p := make([]byte, 256<<10) // random, so nothing is shared or compressed
		rand.Read(p)
		if _, err := small.Exec("INSERT INTO blobs VALUES (?, ?)", i, p); err != nil {
			fillErr = err
			break
		}
		acked = i + 1
		mustExec(t, other, "REPLACE INTO t VALUES (?, ?)", i%10, i)
	}
	t.Logf("%d rows of 256 KiB acknowledged, then: %v", acked, fillErr)
	if fillErr == nil {
		t.Fatalf("1000 rows of 256 KiB fit in %d MiB", size>>20)
	}
	const want = `Error 3 (HY000): Error writing file '` // then the file, and:
	if msg := fillErr.Error(); !strings.HasPrefix(msg, want) || !strings.Contains(msg, "(errno: 28 - No space left on device)") {
		t.Fatalf("the write that filled the disk: %q, want %s…(errno: 28 - No space left on device)", msg, want)
	}

	// The other database, and reads of this one, go on.
	for i := range 20 {
		mustExec(t, other, "REPLACE INTO t VALUES (?, ?)", 100+i, i)
	}
	var n int
	if err := small.QueryRow("SELECT count(*) FROM blobs").Scan(&n); err != nil || n != acked {
		t.Fatalf("read of the full database: %d rows, %v; want %d", n, err, acked)
	}
	_, err := small.Exec("INSERT INTO blobs VALUES (5000, 'x')")
	if err == nil || !strings.Contains(err.Error(), "the database refuses writes until the server is restarted") ||
		!strings.HasPrefix(err.Error(), want) {
		t.Fatalf("a later write: %v", err)
	}

	// The server is not busy retrying what cannot succeed, nor logging it.
	before := cpuTime(t, s.cmd.Process.Pid)
	time.Sleep(2 * time.Second)
	if busy := cpuTime(t, s.cmd.Process.Pid) - before; busy > 500*time.Millisecond {
		t.Errorf("the idle server used %s of CPU in 2 s after the disk filled", busy)
	}
	logData, err := os.ReadFile(s.log)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(logData), "background error"); lines > 5 {
		t.Errorf("%d lines of background errors in the log in a few seconds", lines)
	}

	// Room again, and a restart: everything acknowledged is there.
	if out, err := exec.Command("mount", "-o", "remount,size=256m", store).CombinedOutput(); err != nil {
		t.Fatalf("remount: %v: %s", err, out)
	}
	s.stop(t)
	s = startServer(t, top)
	small = s.connect(t, "root", "", "small")
	var ids, sum int
	if err := small.QueryRow("SELECT count(*), COALESCE(SUM(id), 0) FROM blobs").Scan(&ids, &sum); err != nil {
		t.Fatal(err)
	}
	if ids != acked || sum != acked*(acked-1)/2 {
		t.Fatalf("after the restart: %d rows, ids summing to %d; want the %d acknowledged", ids, sum, acked)
	}
	var viaIndex int
	if err := small.QueryRow("SELECT count(*) FROM blobs FORCE INDEX (by_prefix) WHERE payload >= ''").Scan(&viaIndex); err != nil || viaIndex != acked {
		t.Fatalf("rows through the secondary index: %d, %v; want %d", viaIndex, err, acked)
	}
	mustExec(t, small, "INSERT INTO blobs VALUES (5000, 'x')")
	dest := "file://" + filepath.Join(t.TempDir(), "full")
	mustExec(t, small, "CALL dolt_backup('sync-url', ?)", dest)
	if out := mustCLI(t, top, "backup", "verify", dest); !strings.Contains(out, ": OK") {
		t.Fatalf("the store after the restart does not verify:\n%s", out)
	}
}

// cpuTime is the user and system CPU time process pid has used.
func cpuTime(t *testing.T, pid int) time.Duration {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// The fields after the command (which is in parentheses, and may
	// hold spaces): state is the first, utime the 12th, stime the 13th.
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // clock ticks of 1/100 s
}
