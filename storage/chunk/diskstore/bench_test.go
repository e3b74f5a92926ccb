package diskstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/chunk/chunktest"
)

// BenchmarkCommit measures durable ref updates: each op puts a small chunk
// and swaps a ref to it. Concurrent committers share fsyncs through group
// commit; commits/sync reports how many.
func BenchmarkCommit(b *testing.B) {
	for _, committers := range []int{1, 8} {
		b.Run(fmt.Sprint("committers=", committers), func(b *testing.B) {
			ctx := context.Background()
			s := openBench(b)
			var next sync.Mutex
			op := 0
			start := time.Now()
			syncs0 := s.commits.syncs.Load()
			b.ResetTimer()
			var wg sync.WaitGroup
			for c := range committers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ref := fmt.Sprint("refs/heads/c", c)
					var cur chunk.Hash
					for i := 0; ; i++ {
						next.Lock()
						more := op < b.N
						op++
						next.Unlock()
						if !more {
							return
						}
						ch := chunktest.Opaque(fmt.Sprint(ref, " ", i))
						if err := s.Put(ctx, ch); err != nil {
							b.Error(err)
							return
						}
						if err := s.UpdateRefs(ctx, chunk.RefUpdate{Name: ref, Old: cur, New: ch.Hash}); err != nil {
							b.Error(err)
							return
						}
						cur = ch.Hash
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			elapsed := time.Since(start)
			syncs := s.commits.syncs.Load() - syncs0
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "commits/s")
			if syncs > 0 {
				b.ReportMetric(float64(b.N)/float64(syncs), "commits/sync")
			}
		})
	}
}

// BenchmarkGet measures reading one 4 KiB chunk, hash check included, from a
// store of 10,000 (mostly in the block cache).
func BenchmarkGet(b *testing.B) {
	for _, kind := range []string{"compressible", "incompressible"} {
		b.Run(kind, func(b *testing.B) {
			ctx := context.Background()
			s := openBench(b)
			rng := rand.New(rand.NewPCG(1, 2))
			hashes := make([]chunk.Hash, 10000)
			for i := range hashes {
				data := make([]byte, 4096)
				for j := range data {
					if kind == "compressible" {
						data[j] = byte(j % 7)
					} else {
						data[j] = byte(rng.Uint32())
					}
				}
				data[0], data[1] = byte(i), byte(i>>8)
				c := chunk.New(data)
				if err := s.Put(ctx, c); err != nil {
					b.Fatal(err)
				}
				hashes[i] = c.Hash
			}
			b.SetBytes(4096)
			b.ResetTimer()
			for i := range b.N {
				if _, err := s.Get(ctx, hashes[i%len(hashes)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGetMany measures reading 256 chunks of 1 KiB in one call.
func BenchmarkGetMany(b *testing.B) {
	ctx := context.Background()
	s := openBench(b)
	var all []chunk.Hash
	for i := range 256 * 20 {
		c := chunktest.Opaque(fmt.Sprintf("%01024d", i))
		if err := s.Put(ctx, c); err != nil {
			b.Fatal(err)
		}
		all = append(all, c.Hash)
	}
	b.ResetTimer()
	for i := range b.N {
		batch := all[(i%20)*256 : (i%20+1)*256]
		n := 0
		if err := s.GetMany(ctx, batch, func(chunk.Chunk) error { n++; return nil }); err != nil || n != 256 {
			b.Fatalf("get many: %d chunks, %v", n, err)
		}
	}
}

func openBench(b *testing.B) *Store {
	b.Helper()
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkLookupInTables measures looking up chunks that are spread over
// many tables, as in a store that has been written for a while: HasMany of
// three present chunks (what a commit checks) and Get of one chunk, with
// the block cache warm.
func BenchmarkLookupInTables(b *testing.B) {
	ctx := context.Background()
	s := openBench(b)
	var all []chunk.Hash
	for t := range 12 {
		for i := range 2000 {
			c := chunktest.Opaque(fmt.Sprintf("%04d %01020d", t, i))
			if err := s.Put(ctx, c); err != nil {
				b.Fatal(err)
			}
			all = append(all, c.Hash)
		}
		if err := s.db.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("HasMany3", func(b *testing.B) {
		for i := range b.N {
			hs := []chunk.Hash{all[i%len(all)], all[(i*7)%len(all)], all[(i*13)%len(all)]}
			if absent, err := s.HasMany(ctx, hs); err != nil || len(absent) != 0 {
				b.Fatalf("has many: %v, %v", absent, err)
			}
		}
	})
	b.Run("Get", func(b *testing.B) {
		for i := range b.N {
			if _, err := s.Get(ctx, all[(i*31)%len(all)]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
