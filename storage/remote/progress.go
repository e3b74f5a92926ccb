package remote

import (
	"sync"
	"time"
)

// Progress is how far an operation has come, reported to a callback.
type Progress struct {
	// Phase is what the operation does now: "scanning" (finding what the
	// destination lacks), "uploading", "downloading", "verifying".
	Phase string
	// Chunks and Bytes (of chunk data, before compression) done so far,
	// of TotalChunks and TotalBytes (0 while unknown).
	Chunks, TotalChunks int64
	Bytes, TotalBytes   int64
	Elapsed             time.Duration
}

// ProgressFunc receives progress reports; it must return quickly.
type ProgressFunc func(Progress)

// progressEvery is the least time between two reports of one phase.
const progressEvery = 100 * time.Millisecond

// reporter rate-limits progress reports. It is safe for concurrent use;
// reports reach fn one at a time.
type reporter struct {
	fn    ProgressFunc
	start time.Time
	mu    sync.Mutex
	last  time.Time
}

func newReporter(fn ProgressFunc) *reporter {
	now := time.Now()
	return &reporter{fn: fn, start: now}
}

// report sends p if a report is due, or always if final.
func (r *reporter) report(p Progress, final bool) {
	if r.fn == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if !final && now.Sub(r.last) < progressEvery {
		return
	}
	r.last = now
	p.Elapsed = now.Sub(r.start)
	r.fn(p)
}

// every reports what p returns every progressEvery until stop is called:
// for work that cannot report as it goes (a kernel copy, a file's upload).
func (r *reporter) every(p func() Progress) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				r.report(p(), false)
			}
		}
	}()
	return func() { close(done) }
}
