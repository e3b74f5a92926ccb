package tree

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"

	"github.com/cairndb/cairn/storage/chunk"
)

// tb is what the helpers need of a test: met by *testing.T and *rapid.T.
type tb interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// newTestNodeStore returns a node store over a fresh memory store. Half the
// callers get no cache, so that reads of nodes not yet put are caught.
func newTestNodeStore(t interface{ Helper() }, cached bool) (*NodeStore, *chunk.MemoryStore) {
	t.Helper()
	cs := chunk.NewMemoryStore()
	var cache *NodeCache
	if cached {
		cache = NewNodeCache(32 << 20)
	}
	return NewNodeStore(cs, cache), cs
}

// oracle is the model a map is checked against: a sorted slice of entries.
type oracle map[string]string

func (o oracle) keys() []string {
	ks := make([]string, 0, len(o))
	for k := range o {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func (o oracle) clone() oracle {
	c := make(oracle, len(o))
	for k, v := range o {
		c[k] = v
	}
	return c
}

func (o oracle) apply(edits []Edit) {
	for _, e := range edits {
		if e.Delete {
			delete(o, string(e.Key))
		} else {
			o[string(e.Key)] = string(e.Value)
		}
	}
}

func buildFromOracle(t tb, ns *NodeStore, o oracle) Map {
	t.Helper()
	ctx := context.Background()
	b := NewBuilder(ns)
	for _, k := range o.keys() {
		if err := b.Add(ctx, []byte(k), []byte(o[k])); err != nil {
			t.Fatal(err)
		}
	}
	m, err := b.Finish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func collect(t tb, m Map, r Range) [][2]string {
	t.Helper()
	ctx := context.Background()
	it, err := m.Iter(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	var out [][2]string
	for {
		k, v, err := it.Next(ctx)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, [2]string{string(k), string(v)})
	}
}

// checkMap compares every read operation of m with the oracle.
func checkMap(t tb, m Map, o oracle) {
	t.Helper()
	ctx := context.Background()
	keys := o.keys()
	if m.Count() != uint64(len(keys)) {
		t.Fatalf("Count = %d, want %d", m.Count(), len(keys))
	}
	got := collect(t, m, Range{})
	if len(got) != len(keys) {
		t.Fatalf("iteration gave %d entries, want %d", len(got), len(keys))
	}
	for i, k := range keys {
		if got[i][0] != k || got[i][1] != o[k] {
			t.Fatalf("entry %d = %q, want %q", i, got[i][0], k)
		}
	}
	for i, k := range keys {
		if i%7 != 0 && i != len(keys)-1 {
			continue
		}
		v, ok, err := m.Get(ctx, []byte(k))
		if err != nil || !ok || string(v) != o[k] {
			t.Fatalf("Get(%q) = %q %v %v, want %q", k, v, ok, err, o[k])
		}
		ak, av, ok, err := m.At(ctx, uint64(i))
		if err != nil || !ok || string(ak) != k || string(av) != o[k] {
			t.Fatalf("At(%d) = %q %v %v, want %q", i, ak, ok, err, k)
		}
		ord, err := m.Ordinal(ctx, []byte(k))
		if err != nil || ord != uint64(i) {
			t.Fatalf("Ordinal(%q) = %d %v, want %d", k, ord, err, i)
		}
	}
	if _, _, ok, _ := m.At(ctx, uint64(len(keys))); ok {
		t.Fatalf("At(Count) found an entry")
	}
}

// oracleRange returns the oracle's entries selected by r.
func oracleRange(o oracle, r Range) [][2]string {
	var out [][2]string
	for _, k := range o.keys() {
		kb := []byte(k)
		if r.Start != nil {
			if c := bytes.Compare(kb, r.Start); c < 0 || c == 0 && r.StartExclusive {
				continue
			}
		}
		if r.End != nil {
			if c := bytes.Compare(kb, r.End); c > 0 || c == 0 && !r.EndInclusive {
				continue
			}
		}
		if !bytes.HasPrefix(kb, r.Prefix) {
			continue
		}
		out = append(out, [2]string{k, o[k]})
	}
	if r.Reverse {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out
}

func oracleDiff(from, to oracle) []string {
	var out []string
	for _, k := range from.keys() {
		if v, ok := to[k]; !ok {
			out = append(out, fmt.Sprintf("removed %q", k))
		} else if v != from[k] {
			out = append(out, fmt.Sprintf("modified %q", k))
		}
	}
	for k := range to {
		if _, ok := from[k]; !ok {
			out = append(out, fmt.Sprintf("added %q", k))
		}
	}
	sort.Strings(out)
	return out
}

func mapDiff(t tb, from, to Map, fromO, toO oracle) []string {
	t.Helper()
	var out []string
	var last []byte
	err := Diff(context.Background(), from, to, func(d Difference) error {
		if last != nil && bytes.Compare(d.Key, last) <= 0 {
			t.Fatalf("diff out of order: %q after %q", d.Key, last)
		}
		last = bytes.Clone(d.Key)
		k := string(d.Key)
		switch d.Type {
		case Removed:
			if string(d.From) != fromO[k] || d.To != nil {
				t.Fatalf("removed %q: from %q to %q", k, d.From, d.To)
			}
		case Added:
			if string(d.To) != toO[k] || d.From != nil {
				t.Fatalf("added %q: to %q", k, d.To)
			}
		case Modified:
			if string(d.From) != fromO[k] || string(d.To) != toO[k] {
				t.Fatalf("modified %q: %q -> %q", k, d.From, d.To)
			}
		}
		out = append(out, fmt.Sprintf("%s %q", d.Type, k))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}
