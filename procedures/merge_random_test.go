package procedures

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
)

// TestMergeRandom makes random changes on two branches from a common base,
// merges them, and checks the merged table, its index, the conflicts
// recorded and the dolt_diff_ rows of each branch's commit against a model.
func TestMergeRandom(t *testing.T) {
	rounds := 12
	if testing.Short() {
		rounds = 3
	}
	for round := range rounds {
		t.Run(fmt.Sprint("round", round), func(t *testing.T) { mergeRound(t, uint64(round)) })
	}
}

type model map[int]int // id → v

func (m model) clone() model {
	c := model{}
	for k, v := range m {
		c[k] = v
	}
	return c
}

// mutate applies random inserts, updates and deletes to m and returns them
// as SQL.
func mutate(rng *rand.Rand, m model, idBase int) []string {
	var stmts []string
	ids := func() []int {
		var out []int
		for id := range m {
			out = append(out, id)
		}
		sort.Ints(out)
		return out
	}
	for range 5 + rng.IntN(20) {
		switch rng.IntN(4) {
		case 0: // insert a new row (ids may collide with the other side's)
			id := idBase + rng.IntN(30)
			if _, ok := m[id]; ok {
				continue
			}
			v := rng.IntN(50)
			m[id] = v
			stmts = append(stmts, fmt.Sprintf("INSERT INTO t VALUES (%d, %d)", id, v))
		case 1, 2: // update
			all := ids()
			if len(all) == 0 {
				continue
			}
			id := all[rng.IntN(len(all))]
			v := rng.IntN(50)
			m[id] = v
			stmts = append(stmts, fmt.Sprintf("UPDATE t SET v = %d WHERE id = %d", v, id))
		case 3: // delete
			all := ids()
			if len(all) == 0 {
				continue
			}
			id := all[rng.IntN(len(all))]
			delete(m, id)
			stmts = append(stmts, fmt.Sprintf("DELETE FROM t WHERE id = %d", id))
		}
	}
	return stmts
}

func rowsOf(m model) string {
	var ids []int
	for id := range m {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	var out []string
	for _, id := range ids {
		out = append(out, fmt.Sprintf("%d|%d", id, m[id]))
	}
	return strings.Join(out, ",")
}

// diffOf is the model's dolt_diff: id|to_v|from_v|type for each changed id.
func diffOf(from, to model) string {
	ids := map[int]bool{}
	for id := range from {
		ids[id] = true
	}
	for id := range to {
		ids[id] = true
	}
	var sorted []int
	for id := range ids {
		sorted = append(sorted, id)
	}
	sort.Ints(sorted)
	var out []string
	for _, id := range sorted {
		f, inF := from[id]
		v, inT := to[id]
		switch {
		case !inF:
			out = append(out, fmt.Sprintf("%d|%d|NULL|added", id, v))
		case !inT:
			out = append(out, fmt.Sprintf("%d|NULL|%d|removed", id, f))
		case f != v:
			out = append(out, fmt.Sprintf("%d|%d|%d|modified", id, v, f))
		}
	}
	return strings.Join(out, ",")
}

func mergeRound(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	s := newTestServer(t)
	s.exec("", "CREATE DATABASE db")
	se := s.session(t, "db")
	q := se.q
	q("CREATE TABLE t (id INT PRIMARY KEY, v INT, KEY by_v (v))")
	base := model{}
	for id := range 40 {
		base[id] = rng.IntN(50)
		q(fmt.Sprintf("INSERT INTO t VALUES (%d, %d)", id, base[id]))
	}
	q("CALL dolt_commit('-Am', 'base')")
	q("CALL dolt_branch('theirs')")

	ours := base.clone()
	for _, st := range mutate(rng, ours, 100) {
		q(st)
	}
	q("CALL dolt_commit('-Am', 'ours', '--allow-empty')")
	q("CALL dolt_checkout('theirs')")
	theirs := base.clone()
	for _, st := range mutate(rng, theirs, 110) {
		q(st)
	}
	th := q("CALL dolt_commit('-Am', 'theirs', '--allow-empty')")
	if got, want := q("SELECT COALESCE(to_id, from_id), to_v, from_v, diff_type FROM dolt_diff_t WHERE to_commit = '"+th+"' ORDER BY 1"), diffOf(base, theirs); got != want {
		t.Fatalf("dolt_diff_t of theirs' commit:\n got %s\nwant %s", got, want)
	}
	q("CALL dolt_checkout('main')")

	// The model's merge: one side's change wins, equal changes agree,
	// different changes conflict and keep ours.
	merged := model{}
	conflicts := 0
	ids := map[int]bool{}
	for _, m := range []model{base, ours, theirs} {
		for id := range m {
			ids[id] = true
		}
	}
	for id := range ids {
		b, inB := base[id]
		o, inO := ours[id]
		th, inT := theirs[id]
		same := func(v1 int, in1 bool, v2 int, in2 bool) bool { return in1 == in2 && (!in1 || v1 == v2) }
		switch {
		case same(o, inO, b, inB):
			if inT {
				merged[id] = th
			}
		case same(th, inT, b, inB) || same(o, inO, th, inT):
			if inO {
				merged[id] = o
			}
		default:
			conflicts++
			if inO {
				merged[id] = o
			}
		}
	}
	t.Logf("%d rows in the merge, %d conflicts", len(merged), conflicts)
	res := q("CALL dolt_merge('theirs')")
	if conflicts > 0 {
		if res != "|0|1|conflicts found" {
			t.Fatalf("merge with %d conflicts: %q", conflicts, res)
		}
		if got := q("SELECT num_conflicts FROM dolt_conflicts"); got != fmt.Sprint(conflicts) {
			t.Fatalf("dolt_conflicts: %q, want %d", got, conflicts)
		}
	} else if !strings.HasSuffix(res, "merge successful") && !strings.HasSuffix(res, "Everything up-to-date") {
		t.Fatalf("merge without conflicts: %q", res)
	}
	if got, want := q("SELECT id, v FROM t ORDER BY id"), rowsOf(merged); got != want {
		t.Fatalf("merged table:\n got %s\nwant %s", got, want)
	}
	byIndex := q("SELECT id, v FROM t FORCE INDEX (by_v) WHERE v >= 0 ORDER BY id")
	if byIndex != rowsOf(merged) {
		t.Fatalf("the index disagrees with the merged table:\n index %s\n table %s", byIndex, rowsOf(merged))
	}
	if conflicts > 0 {
		q("DELETE FROM dolt_conflicts_t")
		q("CALL dolt_commit('-am', 'merged')")
		if got := q("SELECT COUNT(*) FROM dolt_status"); got != "0" {
			t.Fatalf("status after resolving and committing: %q", got)
		}
	}
}
