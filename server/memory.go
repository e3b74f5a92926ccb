package server

import (
	"context"
	"time"

	"github.com/cairndb/cairn/storage/chunk/diskstore"
)

// Freed C memory (docs/server.md, "Memory"): the block cache and the
// memtables of every database live in C memory, and what they free stays
// in the C library's malloc until a trim gives it back. Once a second, a
// trim runs if more than freedMemorySlack is held free.
const (
	freedMemoryEvery       = time.Second
	freedMemorySlack int64 = 16 << 20
)

// releaseFreedMemory trims the C library's free memory until ctx ends.
func releaseFreedMemory(ctx context.Context) {
	t := time.NewTicker(freedMemoryEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			diskstore.ReleaseFreedMemory(freedMemorySlack)
		}
	}
}
