package remote

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
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
	rng := rand.New(rand.NewPCG(1, 2))
	var v []byte
	for i := range n {
		// Like sysbench's c and pad columns: groups of random digits.
		v = v[:0]
		for len(v) < 180 {
			v = strconv.AppendUint(v, rng.Uint64()%100_000_000_000, 10)
			v = append(v, '-')
		}
		if err := bld.Add(ctx, fmt.Appendf(nil, "%010d", i), v); err != nil {
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

// benchRows is CAIRN_BENCH_ROWS, or 100,000.
func benchRows() int {
	if n, err := strconv.Atoi(os.Getenv("CAIRN_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// BenchmarkSyncFull is a full sync of 100,000 rows to a new file://
// destination; BenchmarkRestore restores it into a new disk store.
func BenchmarkSyncFull(b *testing.B) {
	s := benchStore(b, benchRows())
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
	s := benchStore(b, benchRows())
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
