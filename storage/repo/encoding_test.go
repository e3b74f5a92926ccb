package repo

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
)

// decoders decode a chunk of each kind this package writes, to any.
var decoders = map[chunk.Kind]func(chunk.Hash, []byte) (any, error){
	chunk.KindTable:      func(h chunk.Hash, b []byte) (any, error) { return DecodeTableRecord(h, b) },
	chunk.KindRootValue:  func(h chunk.Hash, b []byte) (any, error) { return DecodeRootValue(h, b) },
	chunk.KindCommit:     func(h chunk.Hash, b []byte) (any, error) { return DecodeCommit(h, b) },
	chunk.KindWorkingSet: func(h chunk.Hash, b []byte) (any, error) { return DecodeWorkingSet(h, b) },
	chunk.KindTag:        func(h chunk.Hash, b []byte) (any, error) { return DecodeTag(h, b) },
}

// Every sample value decodes back to itself.
func TestEncodingRoundTrip(t *testing.T) {
	check := func(t *testing.T, kind chunk.Kind, name string, want any, c chunk.Chunk) {
		t.Helper()
		got, err := decoders[kind](c.Hash, c.Data)
		if err != nil {
			t.Fatalf("%s %s: decode: %v", kind, name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s %s: decoded\n%#v\nwant\n%#v", kind, name, got, want)
		}
	}
	for name, v := range sampleTables() {
		c, _ := v.Encode()
		check(t, chunk.KindTable, name, v, c)
	}
	for name, v := range sampleRoots() {
		check(t, chunk.KindRootValue, name, v, v.Encode())
	}
	for name, v := range sampleCommits() {
		c, _ := v.Encode()
		check(t, chunk.KindCommit, name, v, c)
	}
	for name, v := range sampleWorkingSets() {
		c, _ := v.Encode()
		check(t, chunk.KindWorkingSet, name, v, c)
	}
	for name, v := range sampleTags() {
		c, _ := v.Encode()
		check(t, chunk.KindTag, name, v, c)
	}
}

// The encodings are pinned: a change of format must change these hashes, and
// so be deliberate (bump the payload version, update docs/format.md).
func TestGoldenHashes(t *testing.T) {
	golden := map[chunk.Kind]map[string]string{
		chunk.KindTable: {
			"minimal": "upopf9jqi9e4fc63k7k6cp9l2qjqkvhg",
			"full":    "14rn7k7p64j0p8kt2tovjjpu7dboe1b4",
		},
		chunk.KindRootValue: {
			"empty":      "8pi8tn2cicos21rtfrte1a3adefi1ei6",
			"two-tables": "gng9h97lsks32b0f6kg5kaufnm24pfb4",
			"full":       "es2t05uhnscp1vh19fbkme5dgrgsn7qt",
		},
		chunk.KindCommit: {
			"initial": "etbd5h3b1dndp0r8fmtlfb9rhm2lfifs",
			"child":   "06gg85rnm6aonpvn5bidvg0gq9g5f8ee",
			"merge":   "fmo709tg8urufn55umjoi5e31uma8fg7",
		},
		chunk.KindWorkingSet: {
			"clean":   "inmdag2vn2n310k1gc3d5bl5qr9sup74",
			"dirty":   "rlcfmhf1h13h0edm0r2qg1d6nrnarjhv",
			"merging": "72mp7b1cn364t0rdcf4rmg7b2p20aj1m",
		},
		chunk.KindTag: {
			"empty-message": "4tbd0o2vqnk1igdp7fgvlhdfl284pc5m",
			"v1":            "0du4to6cv1ljmj4frdb7cnsisd1endve",
		},
	}
	for kind, want := range golden {
		got := sampleChunks(kind)
		if len(got) != len(want) {
			t.Errorf("%s: %d samples, %d golden hashes", kind, len(got), len(want))
		}
		for name, c := range got {
			if c.Hash.String() != want[name] {
				t.Errorf("%s %s: hash %s, golden %q", kind, name, c.Hash, want[name])
			}
		}
	}
}

// Decoding what was encoded with sub-millisecond times and other zones gives
// UTC milliseconds.
func TestSignatureTimeIsUTCMillis(t *testing.T) {
	zone := time.FixedZone("X", 5*3600)
	sig := Signature{Name: "n", Email: "e", Time: time.Date(2030, 6, 1, 12, 0, 0, 123_456_789, zone)}
	c, err := (&Tag{Commit: fakeHash("c"), Tagger: sig}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	tag, err := DecodeTag(c.Hash, c.Data)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2030, 6, 1, 7, 0, 0, 123_000_000, time.UTC)
	if tag.Tagger.Time != want {
		t.Errorf("time %v, want %v", tag.Tagger.Time, want)
	}
	if tag.Tagger != sig.normalize() {
		t.Errorf("signature %+v, want normalize() = %+v", tag.Tagger, sig.normalize())
	}
	// Times before the epoch encode too.
	old := Signature{Time: time.Date(1901, 1, 1, 0, 0, 0, 0, time.UTC)}
	c, _ = (&Tag{Commit: fakeHash("c"), Tagger: old}).Encode()
	if tag, err := DecodeTag(c.Hash, c.Data); err != nil || tag.Tagger.Time != old.Time {
		t.Errorf("time before the epoch: %v, %v", tag, err)
	}
}

// Encoders refuse values that have no canonical encoding.
func TestEncodeRejectsInvalid(t *testing.T) {
	h := fakeHash("x")
	tests := []struct {
		name   string
		encode func() (chunk.Chunk, error)
	}{
		{"table without rows", (&TableRecord{}).Encode},
		{"table index empty name", (&TableRecord{Rows: h, Indexes: []NamedHash{{"", h}}}).Encode},
		{"table index zero hash", (&TableRecord{Rows: h, Indexes: []NamedHash{{"i", chunk.Hash{}}}}).Encode},
		{"table indexes unsorted", (&TableRecord{Rows: h, Indexes: []NamedHash{{"b", h}, {"a", h}}}).Encode},
		{"table indexes repeated", (&TableRecord{Rows: h, Indexes: []NamedHash{{"a", h}, {"a", h}}}).Encode},
		{"commit zero root", (&Commit{Height: 1}).Encode},
		{"commit height 0", (&Commit{Root: h}).Encode},
		{"commit height 2 without parents", (&Commit{Root: h, Height: 2}).Encode},
		{"commit height 1 with parent", (&Commit{Root: h, Height: 1, Parents: []chunk.Hash{h}}).Encode},
		{"commit zero parent", (&Commit{Root: h, Height: 2, Parents: []chunk.Hash{{}}}).Encode},
		{"commit repeated parent", (&Commit{Root: h, Height: 2, Parents: []chunk.Hash{h, h}}).Encode},
		{"working set zero working", (&WorkingSet{Staged: h}).Encode},
		{"working set zero staged", (&WorkingSet{Working: h}).Encode},
		{"working set zero merge commit", (&WorkingSet{Working: h, Staged: h, Merge: &MergeState{PreMergeWorking: h}}).Encode},
		{"tag zero commit", (&Tag{}).Encode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.encode(); !errors.Is(err, ErrInvalidValue) {
				t.Errorf("encode: %v, want ErrInvalidValue", err)
			}
		})
	}
}

// rechunk re-encodes the envelope of c with its refs and payload changed.
func rechunk(t *testing.T, c chunk.Chunk, edit func(kind chunk.Kind, refs []chunk.Hash, payload []byte) (chunk.Kind, []chunk.Hash, []byte)) []byte {
	t.Helper()
	env, err := chunk.Decode(c.Hash, c.Data)
	if err != nil {
		t.Fatal(err)
	}
	kind, refs, payload := edit(env.Kind, env.Refs(), append([]byte(nil), env.Payload...))
	return chunk.Encode(kind, refs, payload)
}

// Decoders refuse every kind of malformed chunk with a corruption error that
// names the chunk, and never panic.
func TestDecodeRejectsCorrupt(t *testing.T) {
	type mutation struct {
		name string
		edit func(t *testing.T, c chunk.Chunk) []byte
	}
	mutations := []mutation{
		{"empty", func(*testing.T, chunk.Chunk) []byte { return nil }},
		{"trailing byte", func(_ *testing.T, c chunk.Chunk) []byte { return append(append([]byte(nil), c.Data...), 0) }},
		{"unknown payload version", func(t *testing.T, c chunk.Chunk) []byte {
			return rechunk(t, c, func(k chunk.Kind, r []chunk.Hash, p []byte) (chunk.Kind, []chunk.Hash, []byte) {
				p[0] = 99
				return k, r, p
			})
		}},
		{"no payload", func(t *testing.T, c chunk.Chunk) []byte {
			return rechunk(t, c, func(k chunk.Kind, r []chunk.Hash, p []byte) (chunk.Kind, []chunk.Hash, []byte) {
				return k, r, nil
			})
		}},
		{"wrong kind", func(t *testing.T, c chunk.Chunk) []byte {
			return rechunk(t, c, func(k chunk.Kind, r []chunk.Hash, p []byte) (chunk.Kind, []chunk.Hash, []byte) {
				return chunk.KindOpaque, r, p
			})
		}},
		{"extra reference", func(t *testing.T, c chunk.Chunk) []byte {
			return rechunk(t, c, func(k chunk.Kind, r []chunk.Hash, p []byte) (chunk.Kind, []chunk.Hash, []byte) {
				return k, append(r, fakeHash("extra")), p
			})
		}},
		{"missing reference", func(t *testing.T, c chunk.Chunk) []byte {
			return rechunk(t, c, func(k chunk.Kind, r []chunk.Hash, p []byte) (chunk.Kind, []chunk.Hash, []byte) {
				if len(r) == 0 {
					return k, r, append(p, 0)
				}
				return k, r[:len(r)-1], p
			})
		}},
		{"zero reference", func(t *testing.T, c chunk.Chunk) []byte {
			return rechunk(t, c, func(k chunk.Kind, r []chunk.Hash, p []byte) (chunk.Kind, []chunk.Hash, []byte) {
				if len(r) == 0 {
					return k, []chunk.Hash{{}}, p
				}
				r[0] = chunk.Hash{}
				return k, r, p
			})
		}},
		{"reference count not shortest", func(_ *testing.T, c chunk.Chunk) []byte {
			// Rewrite the one-byte count n as the two bytes n|0x80, 0.
			out := append([]byte(nil), c.Data[:2]...)
			out = append(out, c.Data[2]|0x80, 0)
			return append(out, c.Data[3:]...)
		}},
	}
	for _, kind := range []chunk.Kind{chunk.KindTable, chunk.KindRootValue, chunk.KindCommit, chunk.KindWorkingSet, chunk.KindTag} {
		for name, c := range sampleChunks(kind) {
			for _, m := range mutations {
				if kind == chunk.KindCommit && strings.HasSuffix(m.name, " reference") && m.name != "zero reference" {
					continue // the parents are the references after the root: another commit
				}
				t.Run(kind.String()+"/"+name+"/"+m.name, func(t *testing.T) {
					data := m.edit(t, c)
					h := chunk.Of(data)
					_, err := decoders[kind](h, data)
					if !errors.Is(err, chunk.ErrCorruption) {
						t.Fatalf("decode: %v, want corruption", err)
					}
					if !strings.Contains(err.Error(), h.String()) {
						t.Errorf("error %q does not name chunk %s", err, h)
					}
				})
			}
			// Every strict prefix of the chunk is refused.
			for n := range len(c.Data) {
				if _, err := decoders[kind](c.Hash, c.Data[:n]); !errors.Is(err, chunk.ErrCorruption) {
					t.Errorf("%s %s truncated to %d bytes: %v, want corruption", kind, name, n, err)
				}
			}
		}
	}
}

// Payload fields that are individually malformed are refused.
func TestDecodeRejectsBadFields(t *testing.T) {
	h := fakeHash("x")
	env := func(kind chunk.Kind, refs []chunk.Hash, payload ...byte) []byte {
		return chunk.Encode(kind, refs, payload)
	}
	tests := []struct {
		name string
		kind chunk.Kind
		data []byte
	}{
		{"commit without refs", chunk.KindCommit, env(chunk.KindCommit, nil, 1, 1, 0, 0, 0, 0, 0, 0, 0)},
		{"commit height 0", chunk.KindCommit, env(chunk.KindCommit, []chunk.Hash{h}, 1, 0, 0, 0, 0, 0, 0, 0, 0)},
		{"commit non-shortest height", chunk.KindCommit, env(chunk.KindCommit, []chunk.Hash{h}, 1, 0x81, 0, 0, 0, 0, 0, 0, 0, 0)},
		{"commit non-shortest time", chunk.KindCommit, env(chunk.KindCommit, []chunk.Hash{h}, 1, 1, 0, 0, 0x80, 0, 0, 0, 0, 0)},
		{"commit string past end", chunk.KindCommit, env(chunk.KindCommit, []chunk.Hash{h}, 1, 1, 0, 0, 0, 0, 0, 0, 9)},
		{"commit huge string", chunk.KindCommit, env(chunk.KindCommit, []chunk.Hash{h}, 1, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)},
		{"commit repeated parent", chunk.KindCommit, env(chunk.KindCommit, []chunk.Hash{h, fakeHash("p"), fakeHash("p")}, 1, 2, 0, 0, 0, 0, 0, 0, 0)},
		{"root huge table count", chunk.KindRootValue, env(chunk.KindRootValue, nil, 1, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0)},
		{"root unsorted tables", chunk.KindRootValue, env(chunk.KindRootValue, []chunk.Hash{h, h}, 1, 2, 1, 'b', 1, 'a', 0, 0)},
		{"root repeated table", chunk.KindRootValue, env(chunk.KindRootValue, []chunk.Hash{h, h}, 1, 2, 1, 'a', 1, 'a', 0, 0)},
		{"root empty table name", chunk.KindRootValue, env(chunk.KindRootValue, []chunk.Hash{h}, 1, 1, 0, 0, 0)},
		{"root more names than refs", chunk.KindRootValue, env(chunk.KindRootValue, []chunk.Hash{h}, 1, 2, 1, 'a', 1, 'b', 0, 0)},
		{"table without refs", chunk.KindTable, env(chunk.KindTable, nil, 1, 0, 0, 0, 0)},
		{"table index count mismatch", chunk.KindTable, env(chunk.KindTable, []chunk.Hash{h}, 1, 0, 0, 1, 1, 'i', 0)},
		{"working set unknown flags", chunk.KindWorkingSet, env(chunk.KindWorkingSet, []chunk.Hash{h, h}, 1, 2)},
		{"working set merge without refs", chunk.KindWorkingSet, env(chunk.KindWorkingSet, []chunk.Hash{h, h}, 1, 1, 0)},
		{"working set one ref", chunk.KindWorkingSet, env(chunk.KindWorkingSet, []chunk.Hash{h}, 1, 0)},
		{"tag two refs", chunk.KindTag, env(chunk.KindTag, []chunk.Hash{h, h}, 1, 0, 0, 0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := chunk.Of(tt.data)
			v, err := decoders[tt.kind](ch, tt.data)
			if !errors.Is(err, chunk.ErrCorruption) {
				t.Fatalf("decode: %#v, %v; want corruption", v, err)
			}
			if !strings.Contains(err.Error(), ch.String()) {
				t.Errorf("error %q does not name chunk %s", err, ch)
			}
		})
	}
	// The same bytes, fixed, decode: the tests above fail for the reason named.
	ok := env(chunk.KindCommit, []chunk.Hash{h}, 1, 1, 0, 0, 0, 0, 0, 0, 0)
	if _, err := DecodeCommit(chunk.Of(ok), ok); err != nil {
		t.Errorf("well-formed commit: %v", err)
	}
	ok = env(chunk.KindRootValue, []chunk.Hash{h, h}, 1, 2, 1, 'a', 1, 'b', 0, 0)
	if _, err := DecodeRootValue(chunk.Of(ok), ok); err != nil {
		t.Errorf("well-formed root: %v", err)
	}
}
