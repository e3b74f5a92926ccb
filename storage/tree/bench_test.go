package tree

import (
	"bytes"
	"context"
	"encoding/binary"
	"math/rand"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/chunk/diskstore"
	"github.com/google/btree"
)

// The benchmarks use 1M entries of a 16-byte key and a 24-byte value, the
// shape of a narrow SQL table's rows.
const benchN = 1_000_000

func benchKey(i int) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, uint64(i)*2654435761%(1<<40))
	binary.BigEndian.PutUint64(k[8:], uint64(i))
	return k
}

func benchVal(i int) []byte {
	v := make([]byte, 24)
	binary.BigEndian.PutUint64(v, uint64(i)*31)
	return v
}

var (
	benchOnce sync.Once
	benchKeys [][]byte
)

// sortedBenchKeys returns the benchmark keys in ascending order.
func sortedBenchKeys() [][]byte {
	keys := make([][]byte, benchN)
	for i := range keys {
		keys[i] = benchKey(i)
	}
	slices.SortFunc(keys, bytes.Compare)
	return keys
}

// benchSetup returns the 1M-entry benchmark map in a fresh memory store, so
// that versions written by earlier benchmarks (which a memory store keeps in
// the Go heap) do not slow the garbage collector down for later ones.
func benchSetup(b *testing.B) Map {
	setupKeys()
	b.StopTimer()
	defer b.StartTimer()
	runtime.GC()
	return buildBenchMap(b, NewNodeStore(chunk.NewMemoryStore(), NewNodeCache(256<<20)))
}

// benchVals returns the benchmark values, made up front so that building
// them is not timed.
func benchVals() [][]byte {
	vals := make([][]byte, benchN)
	for i := range vals {
		vals[i] = benchVal(i)
	}
	return vals
}

// setupKeys makes the sorted benchmark keys once.
func setupKeys() { benchOnce.Do(func() { benchKeys = sortedBenchKeys() }) }

// buildBenchMap builds the 1M-entry benchmark map in ns.
func buildBenchMap(b *testing.B, ns *NodeStore) Map {
	ctx := context.Background()
	bl := NewBuilder(ns)
	for i, k := range benchKeys {
		if err := bl.Add(ctx, k, benchVal(i)); err != nil {
			b.Fatal(err)
		}
	}
	m, err := bl.Finish(ctx)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkGet is a point lookup in a 1M-entry map with a warm cache.
func BenchmarkGet(b *testing.B) {
	ctx := context.Background()
	m := benchSetup(b)
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < benchN; i++ { // warm the cache
		m.Get(ctx, benchKeys[i])
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ok, err := m.Get(ctx, benchKeys[rng.Intn(benchN)]); !ok || err != nil {
			b.Fatal("miss", err)
		}
	}
}

type btreeItem struct{ k, v []byte }

func btreeLess(a, b btreeItem) bool { return bytes.Compare(a.k, b.k) < 0 }

// BenchmarkBTreeGet is the same lookup in github.com/google/btree, in memory.
func BenchmarkBTreeGet(b *testing.B) {
	setupKeys()
	bt := btree.NewG(32, btreeLess)
	for i, k := range benchKeys {
		bt.ReplaceOrInsert(btreeItem{k, benchVal(i)})
	}
	rng := rand.New(rand.NewSource(1))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ok := bt.Get(btreeItem{k: benchKeys[rng.Intn(benchN)]}); !ok {
			b.Fatal("miss")
		}
	}
}

// BenchmarkBuild builds a 1M-entry map from sorted input; one op is one map.
func BenchmarkBuild(b *testing.B) {
	ctx := context.Background()
	setupKeys()
	vals := benchVals()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ns := NewNodeStore(chunk.NewMemoryStore(), NewNodeCache(64<<20))
		bl := NewBuilder(ns)
		for j, k := range benchKeys {
			if err := bl.Add(ctx, k, vals[j]); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := bl.Finish(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(benchN)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkBTreeBuild loads the same sorted entries into google/btree.
func BenchmarkBTreeBuild(b *testing.B) {
	setupKeys()
	vals := benchVals()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bt := btree.NewG(32, btreeLess)
		for j, k := range benchKeys {
			bt.ReplaceOrInsert(btreeItem{k, vals[j]})
		}
	}
	b.ReportMetric(float64(benchN)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

var updateSerial int

// runUpdates sets b.N random keys of m, one Edit each, to values made by
// value from a serial number no earlier run used (so no chunk is a
// duplicate), and returns the last map.
func runUpdates(b *testing.B, m Map, value func(serial int) []byte) Map {
	ctx := context.Background()
	rng := rand.New(rand.NewSource(1))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := rng.Intn(benchN)
		updateSerial++
		var err error
		if m, err = m.Edit(ctx, []Edit{{Key: benchKeys[j], Value: value(updateSerial)}}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	return m
}

// BenchmarkUpdate changes the value of one random key of a 1M-entry map to
// one of the same length (in a memory store: no sync) and reports the chunks
// each update writes.
func BenchmarkUpdate(b *testing.B) {
	m := benchSetup(b)
	cs := m.ns.cs.(*chunk.MemoryStore)
	before := cs.Len()
	m = runUpdates(b, m, func(serial int) []byte { return benchVal(benchN + serial) })
	b.ReportMetric(float64(cs.Len()-before)/float64(b.N), "chunks/op")
	b.ReportMetric(float64(m.Height()), "depth")
}

// BenchmarkUpdateResize is BenchmarkUpdate with values one byte longer,
// which moves entries within their nodes, and may move node boundaries.
func BenchmarkUpdateResize(b *testing.B) {
	runUpdates(b, benchSetup(b), func(serial int) []byte {
		return append(benchVal(benchN+serial), byte(serial))
	})
}

// BenchmarkInsert adds one new key to a 1M-entry map per op.
func BenchmarkInsert(b *testing.B) {
	ctx := context.Background()
	m := benchSetup(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		updateSerial++
		k := benchKey(benchN + updateSerial) // not among the map's keys
		var err error
		if m, err = m.Edit(ctx, []Edit{{Key: k, Value: benchVal(updateSerial)}}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateDisk is BenchmarkUpdate on the Pebble store that cairn runs
// on (puts are not synced: a ref update would sync them), where chunks live
// outside the Go heap.
func BenchmarkUpdateDisk(b *testing.B) {
	setupKeys()
	cs, err := diskstore.Open(b.TempDir(), diskstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer cs.Close()
	m := buildBenchMap(b, NewNodeStore(cs, NewNodeCache(64<<20)))
	runUpdates(b, m, func(serial int) []byte { return benchVal(benchN + serial) })
}

// BenchmarkDiff diffs two 1M-entry maps that differ in 10 keys and reports
// the nodes it visits.
func BenchmarkDiff(b *testing.B) {
	ctx := context.Background()
	m := benchSetup(b)
	rng := rand.New(rand.NewSource(3))
	var edits []Edit
	for i := 0; i < 10; i++ {
		j := rng.Intn(benchN)
		edits = append(edits, Edit{Key: benchKeys[j], Value: []byte("changed")})
	}
	m2, err := m.Edit(ctx, edits)
	if err != nil {
		b.Fatal(err)
	}
	reads := m.ns.Reads()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 0
		if err := Diff(ctx, m, m2, func(Difference) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		if n != 10 {
			b.Fatalf("diff found %d changes, want 10", n)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(m.ns.Reads()-reads)/float64(b.N), "nodes/op")
}
