package repo

import (
	"time"

	"github.com/cairndb/cairn/storage/chunk"
)

// Fixed values shared by the encoding, golden-hash and fuzz tests.

// fakeHash returns a hash that depends only on s.
func fakeHash(s string) chunk.Hash { return chunk.Of([]byte(s)) }

var sampleTime = time.Date(2024, 1, 2, 3, 4, 5, 6_000_000, time.UTC)

var sampleSig = Signature{Name: "Ada Lovelace", Email: "ada@example.com", Time: sampleTime}

func sampleTables() map[string]*TableRecord {
	return map[string]*TableRecord{
		"minimal": {Rows: fakeHash("rows")},
		"full": {
			Schema:        []byte("CREATE TABLE t (id INT PRIMARY KEY, v TEXT)"),
			Rows:          fakeHash("rows"),
			Indexes:       []NamedHash{{"by_name", fakeHash("idx1")}, {"by_v", fakeHash("idx2")}},
			AutoIncrement: 42,
			Extra:         []byte{0, 1, 2},
		},
	}
}

func sampleRoots() map[string]*RootValue {
	two := EmptyRoot()
	two, _ = two.PutTable("t2", fakeHash("table2"))
	two, _ = two.PutTable("t1", fakeHash("table1"))
	full, _ := two.PutCollection(CollectionViews, fakeHash("views"))
	full, _ = full.PutCollection(CollectionTriggers, fakeHash("triggers"))
	full = full.WithSettings([]byte("settings"))
	return map[string]*RootValue{"empty": EmptyRoot(), "two-tables": two, "full": full}
}

func sampleCommits() map[string]*Commit {
	later := Signature{Name: "Grace Hopper", Email: "grace@example.com", Time: sampleTime.Add(time.Hour)}
	return map[string]*Commit{
		"initial": {Root: fakeHash("root0"), Height: 1, Author: sampleSig, Committer: sampleSig, Message: "Initialize data repository"},
		"child": {Root: fakeHash("root1"), Parents: []chunk.Hash{fakeHash("c0")}, Height: 2,
			Author: sampleSig, Committer: later, Message: "add table t"},
		"merge": {Root: fakeHash("root2"), Parents: []chunk.Hash{fakeHash("c1"), fakeHash("c2")}, Height: 7,
			Author: sampleSig, Committer: sampleSig, Message: "Merge branch 'feature' into main\n\nwith a body"},
	}
}

func sampleWorkingSets() map[string]*WorkingSet {
	return map[string]*WorkingSet{
		"clean": {Working: fakeHash("root0"), Staged: fakeHash("root0")},
		"dirty": {Working: fakeHash("root1"), Staged: fakeHash("root0")},
		"merging": {Working: fakeHash("root1"), Staged: fakeHash("root2"), Merge: &MergeState{
			Commit: fakeHash("c2"), PreMergeWorking: fakeHash("root3"), Source: "feature"}},
	}
}

func sampleTags() map[string]*Tag {
	return map[string]*Tag{
		"empty-message": {Commit: fakeHash("c0"), Tagger: sampleSig},
		"v1":            {Commit: fakeHash("c1"), Tagger: sampleSig, Message: "release 1.0"},
	}
}

// sampleChunks returns the encoding of every sample of kind, by name.
func sampleChunks(kind chunk.Kind) map[string]chunk.Chunk {
	out := map[string]chunk.Chunk{}
	add := func(name string, c chunk.Chunk, err error) {
		if err != nil {
			panic("sample " + name + " does not encode: " + err.Error())
		}
		out[name] = c
	}
	switch kind {
	case chunk.KindTable:
		for n, v := range sampleTables() {
			c, err := v.Encode()
			add(n, c, err)
		}
	case chunk.KindRootValue:
		for n, v := range sampleRoots() {
			add(n, v.Encode(), nil)
		}
	case chunk.KindCommit:
		for n, v := range sampleCommits() {
			c, err := v.Encode()
			add(n, c, err)
		}
	case chunk.KindWorkingSet:
		for n, v := range sampleWorkingSets() {
			c, err := v.Encode()
			add(n, c, err)
		}
	case chunk.KindTag:
		for n, v := range sampleTags() {
			c, err := v.Encode()
			add(n, c, err)
		}
	}
	return out
}
