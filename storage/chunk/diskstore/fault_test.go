package diskstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/chunk/chunktest"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
)

// faults is an errorfs injector that fails the operations a test arms.
type faults struct {
	fn atomic.Pointer[func(errorfs.Op) error]
}

func (f *faults) String() string { return "faults" }

func (f *faults) MaybeError(op errorfs.Op) error {
	if p := f.fn.Load(); p != nil {
		return (*p)(op)
	}
	return nil
}

func (f *faults) arm(fn func(errorfs.Op) error) { f.fn.Store(&fn) }
func (f *faults) disarm()                       { f.fn.Store(nil) }

func isSync(k errorfs.OpKind) bool {
	return k == errorfs.OpFileSync || k == errorfs.OpFileSyncData || k == errorfs.OpFileSyncTo
}

// A failed fsync of the journal (or, without one, of Pebble's log): the update that needed it fails, and the store
// refuses every later write, even once the disk answers again, rather than
// pretend what it wrote is durable (PostgreSQL's fsyncgate). Reads go on.
// Reopened, the store holds either the old or the new ref, whole.
func TestFaultFsync(t *testing.T) {
	for _, size := range []int64{0, -1} {
		t.Run(fmt.Sprintf("checkpoint size %d", size), func(t *testing.T) { testFaultFsync(t, size) })
	}
}

func testFaultFsync(t *testing.T, checkpointSize int64) {
	ctx := context.Background()
	mem := vfs.NewMem()
	var f faults
	fs := errorfs.Wrap(mem, &f)
	s, err := Open("/store", Options{fs: fs, CheckpointSize: checkpointSize})
	if err != nil {
		t.Fatal(err)
	}
	a := chunktest.Opaque("a")
	b := chunktest.Opaque("b")
	if err := s.Put(ctx, a, b); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateRefs(ctx, chunk.RefUpdate{Name: "refs/heads/main", New: a.Hash}); err != nil {
		t.Fatal(err)
	}
	f.arm(func(op errorfs.Op) error {
		if isSync(op.Kind) && (strings.HasSuffix(op.Path, ".log") || strings.HasSuffix(op.Path, journalName)) {
			return fmt.Errorf("injected: %w", syscall.EIO)
		}
		return nil
	})
	err = s.UpdateRefs(ctx, chunk.RefUpdate{Name: "refs/heads/main", Old: a.Hash, New: b.Hash})
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("update with a failing fsync: %v", err)
	}
	f.disarm()
	err = s.UpdateRefs(ctx, chunk.RefUpdate{Name: "refs/heads/other", New: a.Hash})
	if err == nil || !strings.Contains(err.Error(), "refuses writes after a failed write or sync") {
		t.Fatalf("update after a failed fsync: %v", err)
	}
	if err := s.Put(ctx, chunktest.Opaque("c")); err == nil {
		t.Fatal("a put after a failed fsync succeeded")
	}
	if _, err := s.AdvanceGeneration(ctx); err == nil {
		t.Fatal("a new generation after a failed fsync")
	}
	if got, err := s.Get(ctx, a.Hash); err != nil || len(got) == 0 {
		t.Fatalf("read after a failed fsync: %v", err)
	}
	refs, _ := s.Refs(ctx)
	if refs["refs/heads/main"] != a.Hash {
		t.Fatalf("the unacknowledged update shows: %v", refs)
	}
	s.Close()
	s, err = Open("/store", Options{fs: mem})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	refs, _ = s.Refs(ctx)
	if h := refs["refs/heads/main"]; h != a.Hash && h != b.Hash {
		t.Fatalf("after reopen: main = %s", h)
	}
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// A full disk (ENOSPC) and a failing disk (EIO) on writes: puts and updates
// fail with the error; once the disk has room again, the store works on
// without a restart if no sync failed, and nothing acknowledged is lost.
func TestFaultWrites(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		errno          syscall.Errno
		checkpointSize int64
	}{{syscall.ENOSPC, 0}, {syscall.EIO, 0}, {syscall.ENOSPC, -1}, {syscall.EIO, -1}} {
		errno := tc.errno
		t.Run(fmt.Sprintf("%v, checkpoint size %d", errno, tc.checkpointSize), func(t *testing.T) {
			mem := vfs.NewMem()
			var f faults
			s, err := Open("/store", Options{fs: errorfs.Wrap(mem, &f), CheckpointSize: tc.checkpointSize})
			if err != nil {
				t.Fatal(err)
			}
			base := chunktest.Opaque("base")
			if err := s.Put(ctx, base); err != nil {
				t.Fatal(err)
			}
			if err := s.UpdateRefs(ctx, chunk.RefUpdate{Name: "refs/heads/main", New: base.Hash}); err != nil {
				t.Fatal(err)
			}
			f.arm(func(op errorfs.Op) error {
				if op.Kind == errorfs.OpFileWrite || op.Kind == errorfs.OpFileWriteAt || op.Kind == errorfs.OpCreate {
					return fmt.Errorf("injected: %w", errno)
				}
				return nil
			})
			big := chunktest.Opaque(strings.Repeat("x", 1<<20))
			perr := s.Put(ctx, big)
			uerr := s.UpdateRefs(ctx, chunk.RefUpdate{Name: "refs/heads/main", Old: base.Hash, New: big.Hash})
			t.Logf("put: %v; update: %v", perr, uerr)
			if perr == nil && uerr == nil {
				t.Fatal("writes on a failing disk succeeded")
			}
			f.disarm()
			s.Close()
			s, err = Open("/store", Options{fs: mem})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			refs, _ := s.Refs(ctx)
			if h := refs["refs/heads/main"]; h != base.Hash && (uerr != nil || h != big.Hash) {
				t.Fatalf("after reopen: main = %s", h)
			}
			if err := s.Check(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A full disk met by a flush in the background, not by a write of the
// store's own: the store breaks (its next write would stall or fail), its
// writes are refused at once with the disk's error, reads go on, and the
// flush Pebble would retry without end waits parked instead of spinning.
// Close ends the parked work; reopened, the store holds what was
// acknowledged.
//
// With a journal, the flushes come from checkpoints, which a small
// checkpoint size makes frequent.
func TestFaultBackground(t *testing.T) {
	for _, size := range []int64{256 << 10, -1} {
		t.Run(fmt.Sprintf("checkpoint size %d", size), func(t *testing.T) { testFaultBackground(t, size) })
	}
}

func testFaultBackground(t *testing.T, checkpointSize int64) {
	ctx := context.Background()
	mem := vfs.NewMem()
	var f faults
	s, err := Open("/store", Options{fs: errorfs.Wrap(mem, &f), MemTableSize: 1 << 20, CheckpointSize: checkpointSize})
	if err != nil {
		t.Fatal(err)
	}
	var tables atomic.Int64
	f.arm(func(op errorfs.Op) error {
		if op.Kind == errorfs.OpCreate && strings.HasSuffix(op.Path, ".sst") {
			tables.Add(1)
			return fmt.Errorf("injected: %w", syscall.ENOSPC)
		}
		return nil
	})
	var last chunk.Hash
	var werr error
	for i := 0; i < 1000 && werr == nil; i++ {
		c := chunktest.Opaque(fmt.Sprintf("%d%s", i, strings.Repeat("x", 64<<10)))
		if werr = s.Put(ctx, c); werr == nil {
			if werr = s.UpdateRefs(ctx, chunk.RefUpdate{Name: "refs/heads/main", Old: last, New: c.Hash}); werr == nil {
				last = c.Hash
			}
		}
	}
	if !errors.Is(werr, syscall.ENOSPC) || !strings.Contains(werr.Error(), "refuses writes") {
		t.Fatalf("writes while flushes fail: %v", werr)
	}
	if _, err := s.Get(ctx, last); err != nil {
		t.Fatalf("read once the store broke: %v", err)
	}
	before := tables.Load()
	time.Sleep(300 * time.Millisecond)
	if n := tables.Load() - before; n > 2 {
		t.Errorf("%d more tables tried in 300 ms after the store broke", n)
	}
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hangs on the parked flush")
	}
	f.disarm()
	s, err = Open("/store", Options{fs: mem})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if refs, _ := s.Refs(ctx); refs["refs/heads/main"] != last {
		t.Fatalf("after reopen: main = %s, want the last acknowledged %s", refs["refs/heads/main"], last)
	}
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
}
