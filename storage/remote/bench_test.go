package remote

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/chunk/diskstore"
	"github.com/cairndb/cairn/storage/remote/remotetest"
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
// destination: "files" copies the store's files as a base (what a first
// sync does), "chunks" walks and packs its chunks (NoBase; what every sync
// did before bases). BenchmarkRestore restores each into a new disk store
// as the server does (placing the base's files first).
func BenchmarkSyncFull(b *testing.B) {
	s := benchStore(b, benchRows())
	ctx := context.Background()
	for _, noBase := range []bool{false, true} {
		b.Run(map[bool]string{false: "files", true: "chunks"}[noBase], func(b *testing.B) {
			var st SyncStats
			for b.Loop() {
				d, err := OpenFile(filepath.Join(b.TempDir(), "b"), true)
				if err != nil {
					b.Fatal(err)
				}
				if st, err = Sync(ctx, s, d, SyncOptions{Leases: s.Leases(), NoBase: noBase}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(st.Bytes)/1e6, "MB-raw")
			b.ReportMetric(float64(st.Uploaded)/1e6, "MB-written")
		})
	}
}

func BenchmarkRestore(b *testing.B) {
	s := benchStore(b, benchRows())
	ctx := context.Background()
	for _, noBase := range []bool{false, true} {
		b.Run(map[bool]string{false: "files", true: "chunks"}[noBase], func(b *testing.B) {
			d, err := OpenFile(filepath.Join(b.TempDir(), "b"), true)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := Sync(ctx, s, d, SyncOptions{NoBase: noBase}); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				dst, _, err := restoreToDisk(ctx, filepath.Join(b.TempDir(), "r"), d)
				if err != nil {
					b.Fatal(err)
				}
				if err := dst.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDestinations compares, on the same 100,000 rows, a full sync,
// an incremental sync of a one-row change and a restore, to file:// and to
// s3:// (versitygw on loopback, its files on the same disk), each without
// and with encryption: `go test ./storage/remote -run - -bench Destinations`.
func BenchmarkDestinations(b *testing.B) {
	s := benchStore(b, benchRows())
	ctx := context.Background()
	key := make([]byte, KeySize)
	var n atomic.Int64
	open := func(b *testing.B, kind string, encrypt bool) Destination {
		var d Destination
		var err error
		switch kind {
		case "file":
			d, err = OpenFile(filepath.Join(b.TempDir(), "b"), true)
		case "s3":
			endpoint := remotetest.S3Endpoint(b)
			d, err = Open(ctx, fmt.Sprintf("s3://%s/bench-%d", remotetest.Bucket, n.Add(1)), map[string]string{ParamEndpoint: endpoint}, true)
		}
		if err == nil && encrypt {
			d, err = Encrypted(d, key)
		}
		if err != nil {
			b.Fatal(err)
		}
		return d
	}
	for _, kind := range []string{"file", "s3"} {
		for _, encrypt := range []bool{false, true} {
			name := kind
			if encrypt {
				name += "+aes"
			}
			b.Run(name+"/full", func(b *testing.B) {
				var st SyncStats
				for b.Loop() {
					var err error
					if st, err = Sync(ctx, s, open(b, kind, encrypt), SyncOptions{Leases: s.Leases()}); err != nil {
						b.Fatal(err)
					}
				}
				b.SetBytes(st.Bytes)
			})
			b.Run(name+"/incremental", func(b *testing.B) {
				d := open(b, kind, encrypt)
				if _, err := Sync(ctx, s, d, SyncOptions{}); err != nil {
					b.Fatal(err)
				}
				ns := tree.NewNodeStore(s, nil)
				for b.Loop() {
					b.StopTimer()
					refs, _ := s.Refs(ctx)
					m, err := tree.LoadMap(ctx, ns, refs["refs/heads/main"])
					if err != nil {
						b.Fatal(err)
					}
					i := int(n.Add(1)) // a new value each time, across runs
					m, err = m.Edit(ctx, []tree.Edit{{Key: fmt.Appendf(nil, "%010d", i*7919%benchRows()), Value: fmt.Appendf(nil, "edit %d", i)}})
					if err != nil {
						b.Fatal(err)
					}
					if err := s.UpdateRefs(ctx, chunk.RefUpdate{Name: "refs/heads/main", Old: refs["refs/heads/main"], New: m.Hash()}); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					if _, err := Sync(ctx, s, d, SyncOptions{}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(name+"/restore", func(b *testing.B) {
				d := open(b, kind, encrypt)
				st, err := Sync(ctx, s, d, SyncOptions{})
				if err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					dst, _, err := restoreToDisk(ctx, filepath.Join(b.TempDir(), "r"), d)
					if err != nil {
						b.Fatal(err)
					}
					dst.Close()
				}
				b.SetBytes(st.Bytes)
			})
		}
	}
}

// BenchmarkCrypt is the cost of encryption alone: a 16 MiB pack put to and
// read back from memory, plain and encrypted.
func BenchmarkCrypt(b *testing.B) {
	ctx := context.Background()
	data := make([]byte, 16<<20)
	for i := range data {
		data[i] = byte(i)
	}
	for _, encrypt := range []bool{false, true} {
		name := "plain"
		if encrypt {
			name = "aes"
		}
		b.Run(name, func(b *testing.B) {
			d := Memory(b.Name())
			if encrypt {
				d, _ = Encrypted(d, make([]byte, KeySize))
			}
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if err := d.Put(ctx, "packs/p.pack", bytes.NewReader(data), int64(len(data))); err != nil {
					b.Fatal(err)
				}
				if _, err := d.Get(ctx, "packs/p.pack", 0, -1); err != nil {
					b.Fatal(err)
				}
				d.Delete(ctx, "packs/p.pack")
			}
		})
	}
}
