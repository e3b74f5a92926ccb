package diskstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/chunk/chunktest"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestPowerLoss ensures that what UpdateRefs acknowledged, and every chunk it
// reaches, survives a power failure at any moment, whatever part of the
// unsynced writes the disk kept. It runs writers and GC on an in-memory file
// system that remembers what was synced, takes crash images of it while they
// run (each keeping a random share of unsynced data), and opens each image:
// with the default journal, with one that checkpoints every few commits, and
// without one.
func TestPowerLoss(t *testing.T) {
	for _, size := range []int64{0, 2 << 10, -1} {
		t.Run(fmt.Sprintf("checkpoint size %d", size), func(t *testing.T) { testPowerLoss(t, size) })
	}
}

func testPowerLoss(t *testing.T, checkpointSize int64) {
	ctx := context.Background()
	seed := chunktest.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 0))
	rounds := 40
	if testing.Short() {
		rounds = 10
	}
	fs := vfs.NewCrashableMem()
	const dir = "/store"
	history := make(map[string][]chunk.Hash) // values each ref may hold
	var checkpoints uint64
	for round := range rounds {
		s, err := Open(dir, Options{fs: fs, CheckpointSize: checkpointSize})
		if err != nil {
			t.Fatalf("round %d (seed %d): open: %v", round, seed, err)
		}
		if err := checkHistory(ctx, s, history); err != nil {
			t.Fatalf("round %d (seed %d): %v", round, seed, err)
		}
		crashed, err := runUntilCrash(ctx, s, fs, history, rng)
		if err != nil {
			t.Fatalf("round %d (seed %d): %v", round, seed, err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("round %d: close: %v", round, err)
		}
		checkpoints += s.checkpoints.Load()
		fs = crashed
	}
	if checkpointSize > 0 && checkpoints < uint64(rounds)/4 {
		t.Errorf("%d checkpoints in %d rounds: the test wants them during many rounds", checkpoints, rounds)
	}
}

// checkHistory checks that each ref holds one of the values its history
// allows, then makes that value the only one, and checks that everything
// reachable is present and intact.
func checkHistory(ctx context.Context, s *Store, history map[string][]chunk.Hash) error {
	refs, err := s.Refs(ctx)
	if err != nil {
		return err
	}
	for name, allowed := range history {
		got := refs[name]
		if !slices.Contains(allowed, got) {
			return fmt.Errorf("ref %s = %s after crash; want one of %v", name, got, allowed)
		}
		history[name] = []chunk.Hash{got}
	}
	return s.Check(ctx)
}

// refLog is what one writer tried and had acknowledged in a round.
type refLog struct {
	mu    sync.Mutex
	tried []chunk.Hash // tried[0] is the durable value the round started from
	acked int          // index in tried of the last value acknowledged
}

// runUntilCrash runs writers and GC on s, and after a random time takes a
// crash image of fs. It sets each ref's history to the values the image may
// hold: the last one acknowledged before the image, and every one tried after it.
func runUntilCrash(ctx context.Context, s *Store, fs *vfs.MemFS, history map[string][]chunk.Hash, rng *rand.Rand) (*vfs.MemFS, error) {
	stop := make(chan struct{})
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	logs := make(map[string]*refLog)
	for w := range 3 {
		name := fmt.Sprint("refs/heads/w", w)
		var cur chunk.Hash
		if h := history[name]; len(h) > 0 {
			cur = h[0]
		}
		log := &refLog{tried: []chunk.Hash{cur}}
		logs[name] = log
		wrng := rand.New(rand.NewPCG(rng.Uint64(), 1))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				lease := s.Leases().Acquire(cur)
				var refs []chunk.Hash
				if !cur.IsZero() {
					data, err := s.Get(ctx, cur)
					if err != nil {
						errs <- err
						return
					}
					env, _ := chunk.Decode(cur, data)
					for _, h := range env.Refs() {
						if wrng.IntN(2) == 0 {
							refs = append(refs, h)
						}
					}
				}
				var leaves []chunk.Chunk
				for range 1 + wrng.IntN(3) {
					c := chunktest.Opaque(fmt.Sprint(name, i, " ", wrng.Uint64()))
					leaves = append(leaves, c)
					refs = append(refs, c.Hash)
				}
				root := chunk.New(chunk.Encode(chunk.KindTreeInternal, refs, []byte(name)))
				if err := s.Put(ctx, append(leaves, root)...); err != nil {
					errs <- err
					return
				}
				log.mu.Lock()
				log.tried = append(log.tried, root.Hash)
				log.mu.Unlock()
				err := s.UpdateRefs(ctx, chunk.RefUpdate{Name: name, Old: cur, New: root.Hash})
				lease.Release()
				if err != nil {
					errs <- err
					return
				}
				log.mu.Lock()
				log.acked = len(log.tried) - 1
				log.mu.Unlock()
				cur = root.Hash
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := chunk.GC(ctx, s); err != nil {
				errs <- err
				return
			}
		}
	}()

	time.Sleep(time.Duration(rng.IntN(40)) * time.Millisecond)
	// Every update acknowledged by now is synced, so in the image; updates
	// in flight or started later may or may not be.
	ackedAt := make(map[string]int)
	for name, log := range logs {
		log.mu.Lock()
		ackedAt[name] = log.acked
		log.mu.Unlock()
	}
	crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: rng.IntN(101), RNG: rand.New(rand.NewPCG(rng.Uint64(), 3))})
	close(stop)
	wg.Wait()
	select {
	case err := <-errs:
		return nil, err
	default:
	}
	for name, log := range logs {
		history[name] = log.tried[ackedAt[name]:]
	}
	return crashed, nil
}
