package crashtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/chunk/chunktest"
	"github.com/cairndb/cairn/storage/chunk/diskstore"
)

var long = flag.Bool("long", false, "run 500 kills per test instead of 50 (also CAIRN_LONG=1)")

// Environment of the child process.
const (
	envMode = "CAIRN_CRASH_CHILD" // "put" or "gc"
	envDir  = "CAIRN_CRASH_DIR"
	envSeed = "CAIRN_CRASH_SEED"
	// envCheckpoint is the child's diskstore.Options.CheckpointSize.
	envCheckpoint = "CAIRN_CRASH_CHECKPOINT"
)

// smallCheckpoints makes the journal checkpoint every few commits, so that
// kills fall during checkpoints too.
const smallCheckpoints = 64 << 10

// writers is how many goroutines of the child commit, each to its own ref.
const writers = 4

func TestMain(m *testing.M) {
	if mode := os.Getenv(envMode); mode != "" {
		seed, _ := strconv.ParseUint(os.Getenv(envSeed), 10, 64)
		if err := runChild(mode, os.Getenv(envDir), seed); err != nil {
			fmt.Fprintf(os.Stderr, "child: %v\n", err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestCrashPut ensures that acknowledged ref updates and the chunks they
// reach survive a process kill at any moment.
func TestCrashPut(t *testing.T) { runCrashes(t, "put", 0) }

// TestCrashGC ensures that garbage collection running while trees are
// committed never leaves a reachable chunk missing after a kill.
func TestCrashGC(t *testing.T) { runCrashes(t, "gc", 0) }

// TestCrashCheckpoints is TestCrashPut and TestCrashGC with a journal that
// checkpoints every few commits, and without a journal.
func TestCrashCheckpoints(t *testing.T) {
	for _, mode := range []string{"put", "gc"} {
		for _, size := range []int64{smallCheckpoints, -1} {
			t.Run(fmt.Sprintf("%s, checkpoint size %d", mode, size), func(t *testing.T) { runCrashes(t, mode, size) })
		}
	}
}

func kills() int {
	if *long || os.Getenv("CAIRN_LONG") == "1" {
		return 500
	}
	return 50
}

// refState is what the parent knows of one ref from the child's output.
type refState struct {
	acked    chunk.Hash // last value acknowledged durable
	inflight chunk.Hash // value of an update started and not acknowledged
}

func runCrashes(t *testing.T, mode string, checkpointSize int64) {
	ctx := context.Background()
	seed := chunktest.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 0))
	dir := t.TempDir()
	state := make(map[string]*refState)
	n := kills()
	acks := 0
	for i := range n {
		lines, err := runAndKill(t, mode, checkpointSize, dir, rng)
		if err != nil {
			t.Fatalf("kill %d (seed %d): %v", i, seed, err)
		}
		for _, line := range lines {
			f := strings.Fields(line)
			if len(f) != 3 || (f[0] != "try" && f[0] != "ack") {
				continue
			}
			h, err := chunk.Parse(f[2])
			if err != nil {
				t.Fatalf("kill %d: child printed %q: %v", i, line, err)
			}
			st := state[f[1]]
			if st == nil {
				st = &refState{}
				state[f[1]] = st
			}
			if f[0] == "try" {
				st.inflight = h
			} else {
				if h != st.inflight {
					t.Fatalf("kill %d: child acknowledged %s without trying it", i, h)
				}
				st.acked, st.inflight = h, chunk.Hash{}
				acks++
			}
		}
		if err := verify(ctx, dir, mode == "gc" || i%10 == 9, state); err != nil {
			t.Fatalf("after kill %d (seed %d): %v", i, seed, err)
		}
	}
	t.Logf("%d kills, %d acknowledged updates", n, acks)
	if acks == 0 {
		t.Fatalf("no update was acknowledged in %d runs: the child never got going", n)
	}
}

// runAndKill starts a child on dir, kills it at a random moment and returns
// the lines it printed.
func runAndKill(t *testing.T, mode string, checkpointSize int64, dir string, rng *rand.Rand) ([]string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envMode+"="+mode, envDir+"="+dir, envSeed+"="+strconv.FormatUint(rng.Uint64(), 10),
		envCheckpoint+"="+strconv.FormatInt(checkpointSize, 10))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	var lines []string
	ready := make(chan struct{})
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "ready" {
				close(ready)
				continue
			}
			lines = append(lines, sc.Text())
		}
	}()
	if rng.IntN(4) == 0 {
		// Early: during start-up, opening and recovery.
		time.Sleep(time.Duration(rng.IntN(30)) * time.Millisecond)
	} else {
		select {
		case <-ready:
		case <-readDone:
		case <-time.After(10 * time.Second):
		}
		time.Sleep(time.Duration(rng.IntN(100)) * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return nil, fmt.Errorf("kill child: %w", err)
	}
	<-readDone
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		return nil, fmt.Errorf("child ended before it was killed (%v): %s", err, stderr.String())
	}
	return lines, nil
}

// verify opens the store the child left and checks it against what the
// child acknowledged. A ref holds its last acknowledged value, or the value
// that was in flight when the child died; verify then takes that value as
// acknowledged. With gc, it then collects garbage and checks again.
func verify(ctx context.Context, dir string, gc bool, state map[string]*refState) error {
	s, err := diskstore.Open(dir, diskstore.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	refs, err := s.Refs(ctx)
	if err != nil {
		return err
	}
	for name, st := range state {
		got := refs[name]
		switch {
		case got == st.acked:
		case !st.inflight.IsZero() && got == st.inflight:
			st.acked = got
		default:
			return fmt.Errorf("ref %s = %s, want acknowledged %s or in-flight %s", name, got, st.acked, st.inflight)
		}
		st.inflight = chunk.Hash{}
	}
	for name := range refs {
		if state[name] == nil {
			return fmt.Errorf("ref %s was never written", name)
		}
	}
	if err := s.Check(ctx); err != nil {
		return err
	}
	if gc {
		if _, err := chunk.GC(ctx, s); err != nil {
			return fmt.Errorf("gc after restart: %w", err)
		}
		if err := s.Check(ctx); err != nil {
			return fmt.Errorf("after gc after restart: %w", err)
		}
	}
	return s.Close()
}

// runChild is the child process: it commits trees to its refs, and in "gc"
// mode collects garbage concurrently, until it is killed.
func runChild(mode, dir string, seed uint64) error {
	ctx := context.Background()
	size, _ := strconv.ParseInt(os.Getenv(envCheckpoint), 10, 64)
	s, err := diskstore.Open(dir, diskstore.Options{CheckpointSize: size})
	if err != nil {
		return err
	}
	refs, err := s.Refs(ctx)
	if err != nil {
		return err
	}
	var outMu sync.Mutex
	say := func(format string, args ...any) {
		line := fmt.Sprintf(format+"\n", args...)
		outMu.Lock()
		os.Stdout.WriteString(line) // one write: the line reaches the pipe whole
		outMu.Unlock()
	}
	say("ready")
	errs := make(chan error, writers+1)
	for w := range writers {
		name := fmt.Sprint("refs/heads/w", w)
		rng := rand.New(rand.NewPCG(seed, uint64(w)))
		go func() { errs <- commitLoop(ctx, s, mode, name, refs[name], rng, say) }()
	}
	if mode == "gc" {
		go func() {
			for {
				if _, err := chunk.GC(ctx, s); err != nil {
					errs <- fmt.Errorf("gc: %w", err)
					return
				}
			}
		}()
	}
	return <-errs
}

// commitLoop commits new trees to ref forever. In "put" mode most trees refer
// to the one before, so a chain of them is reachable; in "gc" mode it
// keeps some leaves of the one before and the rest becomes garbage. It holds
// a lease from before its first Put to after its UpdateRefs, as GC's
// contract asks: the journal's checkpoints collect too.
func commitLoop(ctx context.Context, s *diskstore.Store, mode, ref string, cur chunk.Hash, rng *rand.Rand, say func(string, ...any)) error {
	for i := 0; ; i++ {
		lease := s.Leases().Acquire(cur)
		var refs []chunk.Hash
		if !cur.IsZero() {
			if mode == "put" {
				// Chains of about 16 trees: deep enough to walk, short
				// enough that a check after every kill stays quick.
				if rng.IntN(16) != 0 {
					refs = append(refs, cur)
				}
			} else {
				data, err := s.Get(ctx, cur)
				if err != nil {
					return fmt.Errorf("%s: read root: %w", ref, err)
				}
				env, err := chunk.Decode(cur, data)
				if err != nil {
					return err
				}
				for _, h := range env.Refs() {
					if rng.IntN(3) == 0 {
						refs = append(refs, h)
					}
				}
			}
		}
		var leaves []chunk.Chunk
		for range 1 + rng.IntN(4) {
			c := chunk.New(chunk.Encode(chunk.KindOpaque, nil, leafPayload(rng)))
			leaves = append(leaves, c)
			refs = append(refs, c.Hash)
		}
		root := chunk.New(chunk.Encode(chunk.KindTreeInternal, refs, []byte(fmt.Sprint(ref, " ", i, " ", rng.Uint64()))))
		if err := s.Put(ctx, leaves...); err != nil {
			return err
		}
		if err := s.Put(ctx, root); err != nil {
			return err
		}
		say("try %s %s", ref, root.Hash)
		err := s.UpdateRefs(ctx, chunk.RefUpdate{Name: ref, Old: cur, New: root.Hash})
		lease.Release()
		if err != nil {
			return fmt.Errorf("%s: update: %w", ref, err)
		}
		say("ack %s %s", ref, root.Hash)
		cur = root.Hash
	}
}

// leafPayload returns up to 2 KiB, sometimes compressible, sometimes not.
func leafPayload(rng *rand.Rand) []byte {
	b := make([]byte, rng.IntN(2048))
	if rng.IntN(2) == 0 {
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
	} else {
		for i := range b {
			b[i] = "cairn"[i%5]
		}
		if len(b) > 0 {
			b[0] = byte(rng.Uint32())
		}
	}
	return b
}

// TestLockedAcrossProcesses ensures that a store another process has open
// cannot be opened, with an error that says so.
func TestLockedAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envMode+"=put", envDir+"="+dir, envSeed+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	sc := bufio.NewScanner(out)
	if !sc.Scan() || sc.Text() != "ready" {
		t.Fatalf("child did not start: %q, %v", sc.Text(), sc.Err())
	}
	go func() {
		for sc.Scan() {
		}
	}()
	_, err = diskstore.Open(dir, diskstore.Options{})
	if !errors.Is(err, diskstore.ErrLocked) {
		t.Fatalf("open while another process has the store = %v, want ErrLocked", err)
	}
	t.Logf("error: %v", err)
}
