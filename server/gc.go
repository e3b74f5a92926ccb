package server

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/cairndb/cairn/storage/sqle"
)

// DefaultGCInterval is how often the server collects garbage.
const DefaultGCInterval = time.Minute

// collectGarbage runs the stores' garbage collection every interval until
// ctx ends: every write leaves the tree nodes it replaced behind (sysbench's
// write transactions left about 58 KB each), and without collection the
// data directory grows without bound. A collection runs beside queries and
// transactions (see chunk.GC); the next one waits a full interval after it.
func collectGarbage(ctx context.Context, p *sqle.Provider, interval time.Duration, log *zap.Logger) {
	t := time.NewTimer(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
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
		t.Reset(interval)
	}
}
