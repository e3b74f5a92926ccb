package repo

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/cairndb/cairn/storage/chunk"
)

// at writes a commit with parents, message msg and committer time initTime
// plus sec seconds.
func (r *testRepo) at(msg string, sec int, parents ...chunk.Hash) chunk.Hash {
	r.t.Helper()
	h, err := r.CreateCommit(context.Background(), emptyRootHash, parents, CommitMeta{
		Message: msg, Author: Signature{Name: "t", Time: initTime.Add(time.Duration(sec) * time.Second)}})
	check(r.t, err)
	return h
}

// logOf returns the messages of the commits Log visits from start.
func (r *testRepo) logOf(start chunk.Hash) []string {
	r.t.Helper()
	var out []string
	check(r.t, r.Log(context.Background(), start, func(_ chunk.Hash, c *Commit) error {
		out = append(out, c.Message)
		return nil
	}))
	return out
}

// graph builds, from a base commit at height 1:
//
//	base - a1 - a2 - m - a3
//	    \           /
//	     b1 ---- b2
//
// with b1 younger than a1 and b2 younger than a2.
func graph(t *testing.T) (*testRepo, map[string]chunk.Hash) {
	r := newRepo(t)
	g := map[string]chunk.Hash{}
	g["base"] = r.at("base", 0)
	g["a1"] = r.at("a1", 10, g["base"])
	g["b1"] = r.at("b1", 20, g["base"])
	g["a2"] = r.at("a2", 30, g["a1"])
	g["b2"] = r.at("b2", 40, g["b1"])
	g["m"] = r.at("m", 50, g["a2"], g["b2"])
	g["a3"] = r.at("a3", 60, g["m"])
	g["other"] = r.at("other", 70) // an unrelated history
	return r, g
}

func TestLog(t *testing.T) {
	r, g := graph(t)
	tests := []struct {
		start string
		want  []string
	}{
		{"a3", []string{"a3", "m", "b2", "a2", "b1", "a1", "base"}},
		{"a2", []string{"a2", "a1", "base"}},
		{"base", []string{"base"}},
		{"other", []string{"other"}},
	}
	for _, tt := range tests {
		t.Run(tt.start, func(t *testing.T) {
			if got := r.logOf(g[tt.start]); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("log %v, want %v", got, tt.want)
			}
		})
	}

	// Height comes before time: an old commit on a long branch is listed
	// before a young one on a short branch.
	x1 := r.at("x1", 1000, g["base"])
	y1 := r.at("y1", 1, g["base"])
	y2 := r.at("y2", 2, y1)
	mm := r.at("mm", 2000, x1, y2)
	if got, want := r.logOf(mm), []string{"mm", "y2", "x1", "y1", "base"}; !reflect.DeepEqual(got, want) {
		t.Errorf("log %v, want %v", got, want)
	}

	ctx := context.Background()
	n := 0
	stop := func(chunk.Hash, *Commit) error {
		n++
		if n == 2 {
			return ErrStop
		}
		return nil
	}
	if err := r.Log(ctx, g["a3"], stop); err != nil || n != 2 {
		t.Errorf("ErrStop: Log returned %v after %d commits, want nil after 2", err, n)
	}
	boom := errors.New("boom")
	if err := r.Log(ctx, g["a3"], func(chunk.Hash, *Commit) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("callback error: Log returned %v", err)
	}
	if err := r.Log(ctx, emptyRootHash, func(chunk.Hash, *Commit) error { return nil }); !errors.Is(err, ErrNotCommit) {
		t.Errorf("Log from a root value: %v", err)
	}
}

func TestIsAncestor(t *testing.T) {
	ctx := context.Background()
	r, g := graph(t)
	tests := []struct {
		a, b string
		want bool
	}{
		{"base", "a3", true},
		{"b1", "a3", true},
		{"m", "a3", true},
		{"a3", "a3", true},
		{"a3", "base", false},
		{"b1", "a2", false},
		{"a2", "b2", false},
		{"other", "a3", false},
		{"a3", "other", false},
	}
	for _, tt := range tests {
		t.Run(tt.a+"-"+tt.b, func(t *testing.T) {
			got, err := r.IsAncestor(ctx, g[tt.a], g[tt.b])
			if err != nil || got != tt.want {
				t.Errorf("IsAncestor(%s, %s) = %v, %v; want %v", tt.a, tt.b, got, err, tt.want)
			}
		})
	}
	if _, err := r.IsAncestor(ctx, emptyRootHash, g["a3"]); !errors.Is(err, ErrNotCommit) {
		t.Errorf("IsAncestor of a root value: %v", err)
	}
	if _, err := r.IsAncestor(ctx, g["a3"], fakeHash("x")); !errors.Is(err, chunk.ErrNotFound) {
		t.Errorf("IsAncestor of a missing commit: %v", err)
	}
}

func TestMergeBase(t *testing.T) {
	ctx := context.Background()
	r, g := graph(t)
	// Criss-cross: x2 and y2 each merge x1 and y1, so both are best.
	g["x1"] = r.at("x1", 100, g["a3"])
	g["y1"] = r.at("y1", 110, g["a3"])
	g["x2"] = r.at("x2", 120, g["x1"], g["y1"])
	g["y2"] = r.at("y2", 130, g["y1"], g["x1"])
	tests := []struct {
		a, b string
		want []string // every best common ancestor, MergeBase's first
	}{
		{"a2", "b2", []string{"base"}},
		{"a1", "b2", []string{"base"}},
		{"a3", "b2", []string{"b2"}},
		{"b2", "a3", []string{"b2"}},
		{"m", "m", []string{"m"}},
		{"a2", "m", []string{"a2"}},
		{"x2", "y2", []string{"y1", "x1"}},
		{"x2", "a1", []string{"a1"}},
		{"a3", "other", nil},
	}
	names := map[chunk.Hash]string{}
	for n, h := range g {
		names[h] = n
	}
	for _, tt := range tests {
		t.Run(tt.a+"-"+tt.b, func(t *testing.T) {
			bases, err := r.MergeBases(ctx, g[tt.a], g[tt.b])
			base, err1 := r.MergeBase(ctx, g[tt.a], g[tt.b])
			if tt.want == nil {
				if !errors.Is(err, ErrNoMergeBase) || !errors.Is(err1, ErrNoMergeBase) {
					t.Errorf("unrelated: %v, %v; want ErrNoMergeBase", err, err1)
				}
				return
			}
			check(t, err)
			check(t, err1)
			var got []string
			for _, h := range bases {
				got = append(got, names[h])
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("MergeBases = %v, want %v", got, tt.want)
			}
			if names[base] != tt.want[0] {
				t.Errorf("MergeBase = %s, want %s", names[base], tt.want[0])
			}
		})
	}
	if _, err := r.MergeBase(ctx, g["a1"], emptyRootHash); !errors.Is(err, ErrNotCommit) {
		t.Errorf("MergeBase with a root value: %v", err)
	}
}

// A commit whose parent is not lower than itself is reported as corruption,
// not walked into a wrong answer.
func TestBadHeightIsCorruption(t *testing.T) {
	ctx := context.Background()
	r, g := graph(t)
	bad := &Commit{Root: emptyRootHash, Parents: []chunk.Hash{g["a3"]}, Height: 2, Message: "bad"}
	c, err := bad.Encode()
	check(t, err)
	check(t, r.store.Put(ctx, c))
	if err := r.Log(ctx, c.Hash, func(chunk.Hash, *Commit) error { return nil }); !errors.Is(err, chunk.ErrCorruption) {
		t.Errorf("Log: %v, want corruption", err)
	}
	if _, err := r.IsAncestor(ctx, g["base"], c.Hash); !errors.Is(err, chunk.ErrCorruption) {
		t.Errorf("IsAncestor: %v, want corruption", err)
	}
	if _, err := r.MergeBase(ctx, g["b2"], c.Hash); !errors.Is(err, chunk.ErrCorruption) {
		t.Errorf("MergeBase: %v, want corruption", err)
	}
}

// On random commit graphs, IsAncestor, MergeBase, MergeBases and Log agree
// with a brute-force oracle built from the parent lists. rapid prints the
// seed of a failing run and shrinks it to a small graph.
func TestGraphProperties(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		ctx := context.Background()
		r := newRepo(rt)
		n := rapid.IntRange(1, 24).Draw(rt, "commits")
		hashes := make([]chunk.Hash, n)
		index := map[chunk.Hash]int{}
		anc := make([][]bool, n) // anc[i][j]: j is an ancestor of i or i itself
		for i := range n {
			var parents []int
			if i > 0 {
				k := rapid.IntRange(0, min(i, 3)).Draw(rt, fmt.Sprintf("parent count %d", i))
				parents = rapid.SliceOfNDistinct(rapid.IntRange(0, i-1), k, k, rapid.ID[int]).Draw(rt, fmt.Sprintf("parents %d", i))
			}
			sec := rapid.IntRange(0, 5).Draw(rt, fmt.Sprintf("time %d", i))
			ph := make([]chunk.Hash, len(parents))
			anc[i] = make([]bool, n)
			anc[i][i] = true
			for j, p := range parents {
				ph[j] = hashes[p]
				for x := range n {
					anc[i][x] = anc[i][x] || anc[p][x]
				}
			}
			hashes[i] = r.at(fmt.Sprint(i), sec, ph...)
			index[hashes[i]] = i
		}

		for a := range n {
			for b := range n {
				got, err := r.IsAncestor(ctx, hashes[a], hashes[b])
				check(rt, err)
				if got != anc[b][a] {
					rt.Fatalf("IsAncestor(%d, %d) = %v, want %v", a, b, got, anc[b][a])
				}

				var best []int // common ancestors that are not ancestors of another
				for c := range n {
					if !anc[a][c] || !anc[b][c] {
						continue
					}
					dominated := false
					for d := range n {
						if d != c && anc[a][d] && anc[b][d] && anc[d][c] {
							dominated = true
						}
					}
					if !dominated {
						best = append(best, c)
					}
				}
				bases, err := r.MergeBases(ctx, hashes[a], hashes[b])
				base, err1 := r.MergeBase(ctx, hashes[a], hashes[b])
				if len(best) == 0 {
					if !errors.Is(err, ErrNoMergeBase) || !errors.Is(err1, ErrNoMergeBase) {
						rt.Fatalf("MergeBase(%d, %d): %v, %v; want ErrNoMergeBase", a, b, err, err1)
					}
					continue
				}
				check(rt, err)
				check(rt, err1)
				var got2 []int
				for _, h := range bases {
					got2 = append(got2, index[h])
				}
				if base != bases[0] {
					rt.Fatalf("MergeBase(%d, %d) = %d, MergeBases %v", a, b, index[base], got2)
				}
				slices.Sort(got2)
				if !slices.Equal(got2, best) {
					rt.Fatalf("MergeBases(%d, %d) = %v, want %v", a, b, got2, best)
				}
			}
		}

		for s := range n {
			var order []int
			pos := map[int]int{}
			check(rt, r.Log(ctx, hashes[s], func(h chunk.Hash, c *Commit) error {
				pos[index[h]] = len(order)
				order = append(order, index[h])
				return nil
			}))
			for x := range n {
				if _, ok := pos[x]; ok != anc[s][x] {
					rt.Fatalf("Log(%d) = %v: has %d: %v, want %v", s, order, x, ok, anc[s][x])
				}
			}
			if len(order) != len(pos) {
				rt.Fatalf("Log(%d) = %v visits a commit twice", s, order)
			}
			for _, x := range order {
				for _, p := range r.commit(hashes[x]).Parents {
					if pos[index[p]] < pos[x] {
						rt.Fatalf("Log(%d) = %v: %d before its child %d", s, order, index[p], x)
					}
				}
			}
		}
	})
}
