package repo

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cairndb/cairn/storage/chunk"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the seed corpora under testdata/fuzz from the sample values")

// fuzzDecode checks a decoder on arbitrary bytes: it never panics, refuses
// with a corruption error naming the chunk, and what it accepts re-encodes to
// the very same bytes (the encoding is canonical).
func fuzzDecode[T any](f *testing.F, kind chunk.Kind, decode func(chunk.Hash, []byte) (T, error), encode func(T) (chunk.Chunk, error)) {
	for _, c := range sampleChunks(kind) {
		f.Add(c.Data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h := chunk.Of(data)
		v, err := decode(h, data)
		if err != nil {
			if !errors.Is(err, chunk.ErrCorruption) {
				t.Fatalf("decode: %v, not corruption", err)
			}
			if !strings.Contains(err.Error(), h.String()) {
				t.Fatalf("error %q does not name chunk %s", err, h)
			}
			return
		}
		c, err := encode(v)
		if err != nil {
			t.Fatalf("decoded %#v but it does not encode: %v", v, err)
		}
		if !bytes.Equal(c.Data, data) {
			t.Fatalf("decoded %#v re-encodes to\n%x\nnot\n%x", v, c.Data, data)
		}
	})
}

func FuzzDecodeTableRecord(f *testing.F) {
	fuzzDecode(f, chunk.KindTable, DecodeTableRecord, (*TableRecord).Encode)
}

func FuzzDecodeRootValue(f *testing.F) {
	fuzzDecode(f, chunk.KindRootValue, DecodeRootValue, func(r *RootValue) (chunk.Chunk, error) { return r.Encode(), nil })
}

func FuzzDecodeCommit(f *testing.F) {
	fuzzDecode(f, chunk.KindCommit, DecodeCommit, (*Commit).Encode)
}

func FuzzDecodeWorkingSet(f *testing.F) {
	fuzzDecode(f, chunk.KindWorkingSet, DecodeWorkingSet, (*WorkingSet).Encode)
}

func FuzzDecodeTag(f *testing.F) {
	fuzzDecode(f, chunk.KindTag, DecodeTag, (*Tag).Encode)
}

// The committed seed corpora hold the sample encodings; with -update-corpus
// this test rewrites them. Inputs the fuzzer finds are added beside them.
func TestSeedCorpus(t *testing.T) {
	targets := map[string]chunk.Kind{
		"FuzzDecodeTableRecord": chunk.KindTable,
		"FuzzDecodeRootValue":   chunk.KindRootValue,
		"FuzzDecodeCommit":      chunk.KindCommit,
		"FuzzDecodeWorkingSet":  chunk.KindWorkingSet,
		"FuzzDecodeTag":         chunk.KindTag,
	}
	for target, kind := range targets {
		dir := filepath.Join("testdata", "fuzz", target)
		samples := sampleChunks(kind)
		names := make([]string, 0, len(samples))
		for name := range samples {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", samples[name].Data)
			path := filepath.Join(dir, "sample-"+name)
			if *updateCorpus {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("%v (run go test -run TestSeedCorpus -update-corpus)", err)
				continue
			}
			if string(got) != want {
				t.Errorf("%s is not the encoding of sample %q (run go test -run TestSeedCorpus -update-corpus)", path, name)
			}
		}
	}
}
