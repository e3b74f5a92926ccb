package remote

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/chunk/diskstore"
	"github.com/cairndb/cairn/storage/tree"
)

// benchStore returns a disk store holding a map of n sysbench-sized rows
// (about 200 bytes each) under refs/heads/main.
func benchStore(b *testing.B, n int) *diskstore.Store {
	b.Helper()
	ctx := context.Background()
	s, err := diskstore.Open(filepath.Join(b.TempDir(), "store"), diskstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	bld := tree.NewBuilder(tree.NewNodeStore(s, nil))
	pad := strings.Repeat("0123456789-", 17)
	for i := range n {
		if err := bld.Add(ctx, fmt.Appendf(nil, "%010d", i), fmt.Appendf(nil, "%d %s %d", i*7919, pad, i)); err != nil {
			b.Fatal(err)
		}
	}
	m, err := bld.Finish(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.UpdateRefs(ctx, chunk.RefUpdate{Name: "refs/heads/main", New: m.Hash()}); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkSyncFull is a full sync of 100,000 rows to a new file://
// destination; BenchmarkRestore restores it into a new disk store.
func BenchmarkSyncFull(b *testing.B) {
	s := benchStore(b, 100_000)
	ctx := context.Background()
	var st SyncStats
	for b.Loop() {
		d, err := OpenFile(filepath.Join(b.TempDir(), "b"), true)
		if err != nil {
			b.Fatal(err)
		}
		if st, err = Sync(ctx, s, d, SyncOptions{Leases: s.Leases()}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(st.Bytes)/1e6, "MB-raw")
	b.ReportMetric(float64(st.Uploaded)/1e6, "MB-packed")
}

func BenchmarkRestore(b *testing.B) {
	s := benchStore(b, 100_000)
	ctx := context.Background()
	d, err := OpenFile(filepath.Join(b.TempDir(), "b"), true)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := Sync(ctx, s, d, SyncOptions{}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		dst, err := diskstore.Open(filepath.Join(b.TempDir(), "r"), diskstore.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Restore(ctx, d, dst, nil); err != nil {
			b.Fatal(err)
		}
		dst.Close()
	}
}
