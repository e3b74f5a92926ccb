package server

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/sqle"
)

// DefaultGCInterval is how often the server collects garbage.
const DefaultGCInterval = time.Minute

// DefaultGCGrowthFactor: a database whose store takes more than this many
// times its live data (what its refs reach, as its last collection
// measured it) plus gcGrowthFloor is collected at once, without waiting
// for the interval.
const DefaultGCGrowthFactor = 2.0

// gcGrowthFloor is added to the threshold, so that small stores (whose
// write-ahead log alone is several times their data) are not collected
// over and over; gcCheckEvery is how often sizes are looked at. Variables
// for tests.
var (
	gcGrowthFloor uint64 = 16 << 20
	gcCheckEvery         = time.Second
	// gcCompactFor bounds the compaction after a collection the growth
	// triggered (see sqle.Provider.CollectDatabaseGarbage).
	gcCompactFor = 10 * time.Second
)

// collectGarbage runs the stores' garbage collection until ctx ends: every
// interval (if positive) for every database, and for one database as soon
// as its store has grown past factor times its live data (if factor > 0).
// Every write leaves the tree nodes it replaced behind (a sysbench write
// transaction about 15 KB at 100,000 rows), and without collection the data
// directory grows without bound. A collection runs beside queries and
// transactions (see chunk.GC). The live data is measured by each
// collection; a database not yet collected is taken to be all live at
// first sight. Comparing with the size right after a collection instead
// would ratchet: the space a collection frees comes back only as Pebble
// compacts, so that size still holds most of the garbage.
func collectGarbage(ctx context.Context, p *sqle.Provider, interval time.Duration, factor float64, log *zap.Logger) {
	check := gcCheckEvery
	if interval > 0 && interval < check {
		check = interval
	}
	t := time.NewTicker(check)
	defer t.Stop()
	last := time.Now()
	live := p.DiskUsage()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if interval > 0 && time.Since(last) >= interval {
			for db, st := range collectAll(ctx, p, log) {
				live[db] = st.ReachableBytes
			}
			last = time.Now()
			continue
		}
		if factor <= 0 {
			continue
		}
		for db, size := range p.DiskUsage() {
			base, ok := live[db]
			if !ok {
				live[db] = size // a new database: measured from now
				continue
			}
			if float64(size) < factor*float64(base)+float64(gcGrowthFloor) {
				continue
			}
			start := time.Now()
			st, err := p.CollectDatabaseGarbage(ctx, db, gcCompactFor)
			if err != nil {
				if ctx.Err() == nil {
					log.Error("garbage collection failed", zap.String("db", db), zap.Error(err))
				}
				continue
			}
			log.Info("garbage collected: the store had grown", zap.String("db", db), zap.Uint64("bytes", size),
				zap.Uint64("live_bytes", st.ReachableBytes), zap.Int("deleted", st.Deleted),
				zap.Int("reachable", st.Reachable), zap.Duration("duration", time.Since(start)))
			live[db] = st.ReachableBytes
		}
	}
}

// collectAll collects every database's garbage, logs what it did and
// returns it.
func collectAll(ctx context.Context, p *sqle.Provider, log *zap.Logger) map[string]chunk.GCStats {
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
			zap.Int("reachable", st.Reachable), zap.Uint64("live_bytes", st.ReachableBytes), zap.Duration("duration", d))
	}
	return stats
}
