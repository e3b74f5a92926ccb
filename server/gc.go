package server

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/cairndb/cairn/storage/sqle"
)

// DefaultGCInterval is how often the server collects garbage.
const DefaultGCInterval = time.Minute

// DefaultGCGrowthFactor: a database whose store has grown to this many
// times its size after its last collection (and by at least gcGrowthFloor)
// is collected at once, without waiting for the interval.
const DefaultGCGrowthFactor = 2.0

// gcGrowthFloor is the least growth that triggers a collection early, so
// that small stores are not collected over and over; gcCheckEvery is how
// often sizes are looked at. Variables for tests.
var (
	gcGrowthFloor uint64 = 64 << 20
	gcCheckEvery         = 5 * time.Second
)

// collectGarbage runs the stores' garbage collection until ctx ends: every
// interval (if positive) for every database, and for one database as soon
// as its store has grown past factor times its size after its last
// collection (if factor > 0). Every write leaves the tree nodes it replaced
// behind (sysbench's write transactions left about 58 KB each), and without
// collection the data directory grows without bound. A collection runs
// beside queries and transactions (see chunk.GC).
func collectGarbage(ctx context.Context, p *sqle.Provider, interval time.Duration, factor float64, log *zap.Logger) {
	check := gcCheckEvery
	if interval > 0 && interval < check {
		check = interval
	}
	t := time.NewTicker(check)
	defer t.Stop()
	last := time.Now()
	baseline := p.DiskUsage()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if interval > 0 && time.Since(last) >= interval {
			collectAll(ctx, p, log)
			last = time.Now()
			baseline = p.DiskUsage()
			continue
		}
		if factor <= 0 {
			continue
		}
		for db, size := range p.DiskUsage() {
			base, ok := baseline[db]
			if !ok {
				baseline[db] = size // a new database: measured from now
				continue
			}
			if float64(size) < factor*float64(base) || size-base < gcGrowthFloor {
				continue
			}
			start := time.Now()
			st, err := p.CollectDatabaseGarbage(ctx, db)
			if err != nil {
				if ctx.Err() == nil {
					log.Error("garbage collection failed", zap.String("db", db), zap.Error(err))
				}
				continue
			}
			after := p.DiskUsage()[db]
			log.Info("garbage collected: the store had grown", zap.String("db", db), zap.Uint64("bytes_before", size),
				zap.Uint64("bytes_after", after), zap.Uint64("baseline", base), zap.Int("deleted", st.Deleted),
				zap.Int("reachable", st.Reachable), zap.Duration("duration", time.Since(start)))
			baseline[db] = after
		}
	}
}

// collectAll collects every database's garbage and logs what it did.
func collectAll(ctx context.Context, p *sqle.Provider, log *zap.Logger) {
	start := time.Now()
	stats, err := p.CollectGarbage(ctx)
	d := time.Since(start)
	if err != nil && ctx.Err() == nil {
		log.Error("garbage collection failed", zap.Error(err), zap.Duration("duration", d))
	}
	for db, st := range stats {
		lvl := log.Debug
		if st.Deleted > 0 {
			lvl = log.Info
		}
		lvl("garbage collected", zap.String("db", db), zap.Int("deleted", st.Deleted),
			zap.Int("reachable", st.Reachable), zap.Duration("duration", d))
	}
}
