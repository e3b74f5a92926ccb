package tree

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"
)

// Small batches of edits (inserts, deletes of present and absent keys,
// values replaced by longer or shorter ones, appends after the last key,
// deletes of the last keys) give the map a build from scratch gives, to the
// hash, whether spliceNode or the chunker made the nodes; and spliceNode
// makes most of them.
func TestSpliceNode(t *testing.T) {
	// A small map checked after every batch; a large one, whose internal
	// nodes are not all their level's last, every tenth.
	t.Run("small", func(t *testing.T) { testSpliceNode(t, 3000, 1) })
	t.Run("large", func(t *testing.T) { testSpliceNode(t, 20_000, 10) })
}

func testSpliceNode(t *testing.T, entries, checkEvery int) {
	ctx := context.Background()
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	spliced := 0
	testHookSplice = func() { spliced++ }
	defer func() { testHookSplice = nil }()

	randKey := func() string { return fmt.Sprintf("k%0*d", 1+rng.Intn(30), rng.Intn(1_000_000)) }
	randVal := func() string { return strings.Repeat(string(rune('a'+rng.Intn(26))), rng.Intn(120)) }
	ns, _ := newTestNodeStore(t, rng.Intn(2) == 0)
	o := oracle{}
	for range entries {
		o[randKey()] = randVal()
	}
	m := buildFromOracle(t, ns, o)
	steps := 1000
	if testing.Short() {
		steps = 300
	}
	for step := range steps {
		keys := o.keys()
		var edits []Edit
		for range 1 + rng.Intn(4) {
			switch r := rng.Intn(7); {
			case r == 0 && len(keys) > 0: // delete a present key
				edits = append(edits, Edit{Key: []byte(keys[rng.Intn(len(keys))]), Delete: true})
			case r == 1: // delete a key most likely absent
				edits = append(edits, Edit{Key: []byte(randKey()), Delete: true})
			case r == 2 && len(keys) > 0: // replace a value
				edits = append(edits, Edit{Key: []byte(keys[rng.Intn(len(keys))]), Value: []byte(randVal())})
			case r == 3 && len(keys) > 0: // append after the last key
				edits = append(edits, Edit{Key: []byte(keys[len(keys)-1] + "z"), Value: []byte(randVal())})
			case r == 4 && len(keys) > 0: // delete the last key
				edits = append(edits, Edit{Key: []byte(keys[len(keys)-1]), Delete: true})
			default:
				edits = append(edits, Edit{Key: []byte(randKey()), Value: []byte(randVal())})
			}
		}
		var err error
		if m, err = m.Edit(ctx, edits); err != nil {
			t.Fatal(err)
		}
		o.apply(edits)
		if step%checkEvery != 0 && step != steps-1 {
			continue
		}
		if want := buildFromOracle(t, ns, o).Hash(); m.Hash() != want {
			t.Fatalf("step %d (edits %v): root %s, want %s", step, edits, m.Hash(), want)
		}
	}
	checkMap(t, m, o)
	if spliced < steps/2 {
		t.Errorf("spliceNode made %d nodes in %d steps", spliced, steps)
	}
	t.Logf("%d nodes spliced in %d steps", spliced, steps)
}
