package diskstore

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/cairndb/cairn/storage/chunk/chunktest"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestEmptyUpdateRefsIsDurable ensures that an UpdateRefs that changes no
// ref still makes the chunks put before it durable, as chunk.Store promises
// of every successful UpdateRefs.
func TestEmptyUpdateRefsIsDurable(t *testing.T) {
	ctx := context.Background()
	fs := vfs.NewCrashableMem()
	const dir = "/store"
	s, err := Open(dir, Options{fs: fs})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := chunktest.Opaque("put before an empty update")
	if err := s.Put(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateRefs(ctx); err != nil {
		t.Fatal(err)
	}
	crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0, RNG: rand.New(rand.NewPCG(1, 2))})
	s2, err := Open(dir, Options{fs: crashed})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if ok, err := s2.Has(ctx, c.Hash); err != nil || !ok {
		t.Fatalf("chunk put before a successful UpdateRefs, after a crash: has = %v, %v; want true", ok, err)
	}
}
