package diskstore

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairndb/cairn/storage/chunk"
)

var updateLayout = flag.Bool("update-layout", false, "rewrite testdata/layout.golden")

// TestLayoutGolden pins every key and value the store writes for a known
// history: the format and generation keys, a raw and a compressed chunk, and
// refs. A change to the on-disk layout must be deliberate and come with a new
// format version; rewrite the file with -update-layout.
func TestLayoutGolden(t *testing.T) {
	ctx := context.Background()
	// Without a journal, so that every write reaches Pebble at once
	// (journal_test.go pins the journal's layout).
	s, err := Open(t.TempDir(), Options{CheckpointSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	small := chunk.New(chunk.Encode(chunk.KindOpaque, nil, []byte("small")))
	big := chunk.New(chunk.Encode(chunk.KindOpaque, []chunk.Hash{small.Hash}, []byte(strings.Repeat("compressible ", 20))))
	if err := s.Put(ctx, small, big); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateRefs(ctx, chunk.RefUpdate{Name: "refs/heads/main", New: big.Hash}, chunk.RefUpdate{Name: "refs/tags/v1", New: small.Hash}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AdvanceGeneration(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, small); err != nil { // re-stamped with generation 1
		t.Fatal(err)
	}
	var b strings.Builder
	it, err := s.db.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	for it.First(); it.Valid(); it.Next() {
		fmt.Fprintf(&b, "%q = %q\n", it.Key(), it.Value())
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "layout.golden")
	if *updateLayout {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Fatalf("on-disk layout changed:\n got:\n%s\nwant:\n%s", b.String(), want)
	}
}
