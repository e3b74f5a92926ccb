package chunk_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/cairndb/cairn/storage/chunk"
)

// TestEnvelopeRoundTrip ensures Decode returns what Encode was given.
func TestEnvelopeRoundTrip(t *testing.T) {
	a, b := chunk.Of([]byte("a")), chunk.Of([]byte("b"))
	cases := []struct {
		name    string
		kind    chunk.Kind
		refs    []chunk.Hash
		payload []byte
	}{
		{"empty opaque", chunk.KindOpaque, nil, nil},
		{"payload only", chunk.KindBlobLeaf, nil, []byte("bytes")},
		{"refs only", chunk.KindTreeInternal, []chunk.Hash{a, b}, nil},
		{"refs and payload", chunk.KindCommit, []chunk.Hash{a, b, a}, []byte("message")},
		{"first kind", chunk.KindTreeLeaf, []chunk.Hash{a}, []byte{0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := chunk.Encode(tc.kind, tc.refs, tc.payload)
			env, err := chunk.DecodeKind(chunk.Of(data), data, tc.kind)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if env.Kind != tc.kind || !bytes.Equal(env.Payload, tc.payload) || env.NumRefs() != len(tc.refs) {
				t.Fatalf("decoded kind %v, %d refs, payload %q; want %v, %d, %q",
					env.Kind, env.NumRefs(), env.Payload, tc.kind, len(tc.refs), tc.payload)
			}
			for i, r := range env.Refs() {
				if r != tc.refs[i] || env.Ref(i) != tc.refs[i] {
					t.Fatalf("ref %d = %s, want %s", i, r, tc.refs[i])
				}
			}
			other := chunk.KindTag
			if tc.kind == other {
				other = chunk.KindOpaque
			}
			if _, err := chunk.DecodeKind(chunk.Hash{}, data, other); !errors.Is(err, chunk.ErrCorruption) {
				t.Fatalf("decode as %v = %v, want ErrCorruption", other, err)
			}
		})
	}
}

// TestEnvelopeGolden pins the envelope encoding: changing it changes every
// hash, and must be deliberate.
func TestEnvelopeGolden(t *testing.T) {
	leaf := chunk.Encode(chunk.KindOpaque, nil, []byte("leaf"))
	root := chunk.Encode(chunk.KindTreeInternal, []chunk.Hash{chunk.Of(leaf)}, []byte("root"))
	for _, tc := range []struct {
		data []byte
		want string
	}{
		{leaf, "isvhjejt3rbtrln240le4ecj85sg0me1"},
		{root, "1dp1n9adt1p7450lv173v9oal5kkvs6b"},
	} {
		if got := chunk.Of(tc.data).String(); got != tc.want {
			t.Errorf("envelope %x hashes to %s, want %s: the encoding changed", tc.data, got, tc.want)
		}
	}
}

// TestDecodeCorrupt ensures that malformed envelopes give ErrCorruption
// naming the chunk.
func TestDecodeCorrupt(t *testing.T) {
	h := chunk.Of([]byte("the chunk"))
	good := chunk.Encode(chunk.KindTreeInternal, []chunk.Hash{h}, []byte("p"))
	cases := map[string][]byte{
		"nil":              nil,
		"two bytes":        good[:2],
		"version 0":        append([]byte{0}, good[1:]...),
		"version 2":        append([]byte{2}, good[1:]...),
		"kind 0":           {chunk.FormatVersion, 0, 0},
		"kind 11":          {chunk.FormatVersion, 11, 0},
		"kind 255":         {chunk.FormatVersion, 255, 0},
		"refs truncated":   good[:len(good)-5],
		"count overflows":  {chunk.FormatVersion, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"count too large":  binary.AppendUvarint([]byte{chunk.FormatVersion, 1}, 1<<40),
		"count unfinished": {chunk.FormatVersion, 1, 0x80},
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := chunk.Decode(h, data)
			if !errors.Is(err, chunk.ErrCorruption) {
				t.Fatalf("decode = %v, want ErrCorruption", err)
			}
			var ce *chunk.CorruptionError
			if !errors.As(err, &ce) || ce.Hash != h {
				t.Fatalf("decode error %v does not name the chunk", err)
			}
		})
	}
}

// TestVerify ensures Verify accepts matching bytes and reports others as
// corruption.
func TestVerify(t *testing.T) {
	data := []byte("content")
	if err := chunk.Verify(chunk.Of(data), data); err != nil {
		t.Fatalf("verify matching bytes: %v", err)
	}
	if err := chunk.Verify(chunk.Of(data), []byte("other")); !errors.Is(err, chunk.ErrCorruption) {
		t.Fatalf("verify other bytes = %v, want ErrCorruption", err)
	}
}

// FuzzDecode ensures Decode never panics, reports every failure as
// corruption, and that what it decodes encodes to an envelope that decodes
// the same way.
func FuzzDecode(f *testing.F) {
	h := chunk.Of([]byte("x"))
	f.Add(chunk.Encode(chunk.KindOpaque, nil, []byte("hello")))
	f.Add(chunk.Encode(chunk.KindTreeInternal, []chunk.Hash{h, h}, []byte("payload")))
	f.Add([]byte{chunk.FormatVersion, 1, 0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := chunk.Decode(chunk.Hash{}, data)
		if err != nil {
			if !errors.Is(err, chunk.ErrCorruption) {
				t.Fatalf("decode error %v is not corruption", err)
			}
			return
		}
		again := chunk.Encode(env.Kind, env.Refs(), env.Payload)
		env2, err := chunk.Decode(chunk.Hash{}, again)
		if err != nil {
			t.Fatalf("re-encoded envelope does not decode: %v", err)
		}
		if env2.Kind != env.Kind || env2.NumRefs() != env.NumRefs() || !bytes.Equal(env2.Payload, env.Payload) {
			t.Fatalf("re-encoded envelope decodes differently")
		}
		for i := range env.NumRefs() {
			if env.Ref(i) != env2.Ref(i) {
				t.Fatalf("re-encoded envelope: ref %d differs", i)
			}
		}
	})
}
