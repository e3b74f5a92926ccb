package tree

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// genKey draws keys from a small space so edits hit existing keys often.
func genKey(t *rapid.T, label string) string {
	return fmt.Sprintf("k%05d", rapid.IntRange(0, 4000).Draw(t, label))
}

// genValue draws values of varied length, some stored out of line.
func genValue(t *rapid.T, label string) string {
	n := rapid.OneOf(rapid.IntRange(0, 40), rapid.IntRange(40, 300), rapid.IntRange(InlineLimit-2, InlineLimit+3000)).Draw(t, label+"-len")
	c := rapid.ByteRange('a', 'z').Draw(t, label+"-fill")
	b := make([]byte, n)
	for i := range b {
		b[i] = c + byte(i%3)
	}
	return string(b)
}

func genEdits(t *rapid.T, label string) []Edit {
	n := rapid.OneOf(rapid.IntRange(0, 5), rapid.IntRange(0, 400)).Draw(t, label+"-n")
	edits := make([]Edit, n)
	for i := range edits {
		k := genKey(t, label+"-key")
		if rapid.IntRange(0, 3).Draw(t, label+"-del") == 0 {
			edits[i] = Edit{Key: []byte(k), Delete: true}
		} else {
			edits[i] = Edit{Key: []byte(k), Value: []byte(genValue(t, label+"-val"))}
		}
	}
	return edits
}

func genOracle(t *rapid.T, label string) oracle {
	o := oracle{}
	n := rapid.OneOf(rapid.IntRange(0, 10), rapid.IntRange(0, 3000)).Draw(t, label+"-size")
	for i := 0; i < n; i++ {
		o[genKey(t, label+"-key")] = genValue(t, label+"-val")
	}
	return o
}

// Every operation of the tree agrees with a sorted-slice model, and the
// result of any sequence of edits is the map built from scratch.
func TestPropertyAgainstOracle(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ctx := context.Background()
		ns, _ := newTestNodeStore(t, rapid.Bool().Draw(t, "cached"))
		o := genOracle(t, "init")
		m := buildFromOracle(t, ns, o)
		checkMap(t, m, o)
		for step := 0; step < 3; step++ {
			edits := genEdits(t, "edits")
			prev, prevO := m, o.clone()
			var err error
			if m, err = m.Edit(ctx, edits); err != nil {
				t.Fatal(err)
			}
			o.apply(edits)
			checkMap(t, m, o)
			if want := buildFromOracle(t, ns, o).Hash(); m.Hash() != want {
				t.Fatalf("edited map %s, built map %s", m.Hash(), want)
			}
			if got, want := mapDiff(t, prev, m, prevO, o), oracleDiff(prevO, o); !slices.Equal(got, want) {
				t.Fatalf("diff:\n got %v\nwant %v", got, want)
			}
			if got, want := mapDiff(t, m, prev, o, prevO), oracleDiff(o, prevO); !slices.Equal(got, want) {
				t.Fatalf("reverse diff:\n got %v\nwant %v", got, want)
			}
		}
		r := Range{Reverse: rapid.Bool().Draw(t, "reverse")}
		if rapid.Bool().Draw(t, "has-start") {
			r.Start, r.StartExclusive = []byte(genKey(t, "start")), rapid.Bool().Draw(t, "start-excl")
		}
		if rapid.Bool().Draw(t, "has-end") {
			r.End, r.EndInclusive = []byte(genKey(t, "end")), rapid.Bool().Draw(t, "end-incl")
		}
		if rapid.Bool().Draw(t, "has-prefix") {
			r.Prefix = []byte(genKey(t, "prefix")[:rapid.IntRange(0, 5).Draw(t, "prefix-len")])
		}
		if got, want := collect(t, m, r), oracleRange(o, r); !slices.Equal(got, want) {
			t.Fatalf("range %+v: got %d entries, want %d", r, len(got), len(want))
		}
	})
}

// A three-way merge takes each side's changes and reports exactly the keys
// both sides changed differently.
func TestPropertyMerge(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ctx := context.Background()
		ns, _ := newTestNodeStore(t, true)
		baseO := genOracle(t, "base")
		base := buildFromOracle(t, ns, baseO)
		leftEdits, rightEdits := genEdits(t, "left"), genEdits(t, "right")
		leftO, rightO := baseO.clone(), baseO.clone()
		leftO.apply(leftEdits)
		rightO.apply(rightEdits)
		left, err := base.Edit(ctx, leftEdits)
		if err != nil {
			t.Fatal(err)
		}
		right, err := base.Edit(ctx, rightEdits)
		if err != nil {
			t.Fatal(err)
		}
		merged, conflicts, err := Merge(ctx, base, left, right, nil)
		if err != nil {
			t.Fatal(err)
		}
		// The model: per key, take the side that changed it; both changed
		// differently is a conflict that keeps left.
		wantO := oracle{}
		var wantConflicts []string
		keys := map[string]bool{}
		for _, o := range []oracle{baseO, leftO, rightO} {
			for k := range o {
				keys[k] = true
			}
		}
		for k := range keys {
			bv, bok := baseO[k]
			lv, lok := leftO[k]
			rv, rok := rightO[k]
			lChanged := lok != bok || lv != bv
			rChanged := rok != bok || rv != bv
			v, ok := lv, lok
			if rChanged && !lChanged {
				v, ok = rv, rok
			}
			if lChanged && rChanged && (lok != rok || lv != rv) {
				wantConflicts = append(wantConflicts, k)
			}
			if ok {
				wantO[k] = v
			}
		}
		checkMap(t, merged, wantO)
		var got []string
		for _, c := range conflicts {
			got = append(got, string(c.Key))
			if string(c.Left) != leftO[string(c.Key)] || string(c.Right) != rightO[string(c.Key)] || string(c.Base) != baseO[string(c.Key)] {
				t.Fatalf("conflict %q has wrong values", c.Key)
			}
		}
		slices.Sort(wantConflicts)
		if !slices.Equal(got, wantConflicts) {
			t.Fatalf("conflicts %v, want %v", got, wantConflicts)
		}
	})
}
