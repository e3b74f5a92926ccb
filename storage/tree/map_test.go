package tree

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
)

func key(i int) []byte { return []byte(fmt.Sprintf("key%08d", i)) }
func val(i int) []byte { return []byte(fmt.Sprintf("value-%d-%s", i, strings.Repeat("x", i%50))) }

// A map built from sorted input answers every read like a sorted slice does.
func TestBuildAndRead(t *testing.T) {
	ctx := context.Background()
	for _, n := range []int{0, 1, 2, 100, 5000, 40000} {
		for _, cached := range []bool{false, true} {
			t.Run(fmt.Sprintf("n=%d/cached=%v", n, cached), func(t *testing.T) {
				ns, _ := newTestNodeStore(t, cached)
				o := oracle{}
				for i := 0; i < n; i++ {
					o[string(key(i))] = string(val(i))
				}
				m := buildFromOracle(t, ns, o)
				checkMap(t, m, o)
				if n == 0 && m.Hash() != EmptyMapHash {
					t.Fatalf("empty map hash %s, want %s", m.Hash(), EmptyMapHash)
				}
				if n == 40000 && m.Height() < 2 {
					t.Fatalf("height %d for %d entries", m.Height(), n)
				}
				again, err := LoadMap(ctx, ns, m.Hash())
				if err != nil {
					t.Fatal(err)
				}
				checkMap(t, again, o)
				if _, ok, _ := m.Get(ctx, []byte("zzz")); ok {
					t.Fatal("found absent key")
				}
				if _, ok, _ := m.Get(ctx, []byte("a")); ok {
					t.Fatal("found absent key")
				}
			})
		}
	}
}

// The builder refuses keys that are not strictly ascending.
func TestBuilderUnsorted(t *testing.T) {
	ctx := context.Background()
	ns, _ := newTestNodeStore(t, true)
	b := NewBuilder(ns)
	if err := b.Add(ctx, []byte("b"), nil); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"b", "a"} {
		if err := b.Add(ctx, []byte(k), nil); err == nil {
			t.Fatalf("Add(%q) after \"b\" succeeded", k)
		}
	}
}

// Large values go out of line, come back whole, and are shared when equal.
func TestLargeValues(t *testing.T) {
	ctx := context.Background()
	ns, cs := newTestNodeStore(t, false)
	rng := rand.New(rand.NewSource(1))
	big := make([]byte, 300_000)
	rng.Read(big)
	o := oracle{"a": string(big), "b": "small", "c": string(big[:InlineLimit]), "d": string(big[:InlineLimit+1])}
	m := buildFromOracle(t, ns, o)
	checkMap(t, m, o)
	before := cs.Len()
	// The same big value under another key adds no blob chunks.
	m2, err := m.Edit(ctx, []Edit{{Key: []byte("e"), Value: big}})
	if err != nil {
		t.Fatal(err)
	}
	if added := cs.Len() - before; added > m2.Height()+1 {
		t.Fatalf("re-storing an equal blob added %d chunks", added)
	}
	o["e"] = string(big)
	checkMap(t, m2, o)
	// An edit in the middle of a big value rewrites few blob leaves.
	edited := bytes.Clone(big)
	edited[150_000] ^= 0xff
	before = cs.Len()
	m3, err := m2.Edit(ctx, []Edit{{Key: []byte("a"), Value: edited}})
	if err != nil {
		t.Fatal(err)
	}
	if added := cs.Len() - before; added > 8 {
		t.Fatalf("one-byte change of a 300 KB value added %d chunks", added)
	}
	o["a"] = string(edited)
	checkMap(t, m3, o)
}

// Range iteration honours bounds, exclusivity, prefixes and direction.
func TestRanges(t *testing.T) {
	ns, _ := newTestNodeStore(t, true)
	o := oracle{}
	for i := 0; i < 3000; i++ {
		o[string(key(i*2))] = string(val(i))
	}
	o["\xff\xff"] = "top"
	m := buildFromOracle(t, ns, o)
	ranges := []Range{
		{},
		{Reverse: true},
		{Start: key(100)},
		{Start: key(100), StartExclusive: true},
		{Start: key(101)},
		{End: key(200)},
		{End: key(200), EndInclusive: true},
		{Start: key(100), End: key(200), Reverse: true},
		{Start: key(100), StartExclusive: true, End: key(200), EndInclusive: true, Reverse: true},
		{End: key(201), Reverse: true},
		{Prefix: []byte("key0000")},
		{Prefix: []byte("key0000"), Reverse: true},
		{Prefix: []byte("key00001"), Start: key(150)},
		{Prefix: []byte("\xff")},
		{Prefix: []byte("\xff"), Reverse: true},
		{Start: []byte("zzz")},
		{End: []byte("a"), Reverse: true},
		{Start: key(500), End: key(400)},
	}
	for i, r := range ranges {
		got, want := collect(t, m, r), oracleRange(o, r)
		if !slices.Equal(got, want) {
			t.Errorf("range %d %+v: got %d entries, want %d", i, r, len(got), len(want))
		}
	}
}
