//go:build cgo && linux && !race

package diskstore

import (
	"context"
	"crypto/rand"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/cairndb/cairn/storage/chunk"
)

// rssBytes returns the process's resident memory.
func rssBytes(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return pages * int64(os.Getpagesize())
}

// The blocks a block cache frees stay resident in the C library's malloc
// until ReleaseFreedMemory gives them back. The test runs in a process of
// its own: what other tests of the package leave running allocates and
// frees C memory too. (Not under the race detector, whose runtime replaces
// the C library's malloc.)
func TestReleaseFreedMemory(t *testing.T) {
	if os.Getenv("CAIRN_TRIM_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestReleaseFreedMemory$", "-test.v", "-test.count", "1")
		cmd.Env = append(os.Environ(), "CAIRN_TRIM_CHILD=1")
		out, err := cmd.CombinedOutput()
		t.Logf("%s", out)
		if err != nil {
			t.Fatalf("the test's own process: %v", err)
		}
		return
	}
	ctx := context.Background()
	debug.FreeOSMemory()
	base := rssBytes(t)
	cache := NewCache(512 << 20)
	s, err := Open(t.TempDir(), Options{Cache: cache, CheckpointSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	const n, size = 4096, 16 << 10 // 64 MiB of incompressible chunks
	var hashes []chunk.Hash
	for i := 0; i < n; i++ {
		buf := make([]byte, size)
		rand.Read(buf)
		c := chunk.New(buf)
		hashes = append(hashes, c.Hash)
		if err := s.Put(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	// Reading them fills the cache with their blocks (all but the last
	// memtable's are in tables by now).
	for _, h := range hashes {
		if _, err := s.Get(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	cache.Close() // the last reference: the blocks are freed
	hashes = nil
	debug.FreeOSMemory() // the Go heap's garbage (the chunks' buffers) out of the way
	ReleaseFreedMemory(1 << 62)
	before := rssBytes(t)
	if !ReleaseFreedMemory(0) {
		t.Fatal("ReleaseFreedMemory did not trim")
	}
	after := rssBytes(t)
	t.Logf("resident memory %d MiB at the start, %d MiB before the trim, %d MiB after", base>>20, before>>20, after>>20)
	// glibc's free gives back some memory by itself (the top of an arena's
	// heap), so how much the trim gives back varies from run to run: it must
	// give back a good part of the freed cache, and leave the process near
	// where it started.
	if before-after < 16<<20 {
		t.Errorf("a trim gave back %d MiB of a 64 MiB cache freed, want at least 16", (before-after)>>20)
	}
	if after-base > 32<<20 {
		t.Errorf("resident memory %d MiB above the start after the trim, want at most 32", (after-base)>>20)
	}
}
