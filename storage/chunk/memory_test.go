package chunk_test

import (
	"testing"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/chunk/chunktest"
)

// TestMemoryStore runs the store conformance suite against MemoryStore.
func TestMemoryStore(t *testing.T) {
	chunktest.RunStoreTests(t, func(t *testing.T) chunk.Collectable {
		s := chunk.NewMemoryStore()
		t.Cleanup(func() { s.Close() })
		return s
	})
}
