package chunk_test

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/chunk/chunktest"
)

// TestHashString ensures that a hash prints as 32 characters that parse back
// to it, and that printed hashes sort as the hashes do.
func TestHashString(t *testing.T) {
	rng := rand.New(rand.NewPCG(chunktest.Seed(t), 0))
	random := func() chunk.Hash {
		var h chunk.Hash
		for i := range h {
			h[i] = byte(rng.Uint32())
		}
		return h
	}
	hashes := []chunk.Hash{{}, chunk.Of(nil), chunk.Of([]byte("hello"))}
	var ones chunk.Hash
	for i := range ones {
		ones[i] = 0xff
	}
	hashes = append(hashes, ones)
	for range 1000 {
		hashes = append(hashes, random())
	}
	for _, h := range hashes {
		s := h.String()
		if len(s) != chunk.HashStringLen || !chunk.IsHashPrefix(s) {
			t.Fatalf("%x prints as %q: want %d characters of [0-9a-v]", h[:], s, chunk.HashStringLen)
		}
		back, err := chunk.Parse(s)
		if err != nil || back != h {
			t.Fatalf("parse %q = %x, %v; want %x", s, back[:], err, h[:])
		}
	}
	for i := 1; i < len(hashes); i++ {
		a, b := hashes[i-1], hashes[i]
		if a.Compare(b) != strings.Compare(a.String(), b.String()) {
			t.Fatalf("%s and %s: hash order and string order differ", a, b)
		}
	}
	if got := chunk.Of([]byte("hello")).String(); got != "5jp4reivm2hgs9n87clcbef2jodhc7is" {
		t.Fatalf("hash of %q = %s: the hash function or its printing changed", "hello", got)
	}
}

// TestParseErrors ensures that Parse rejects anything but the printable form.
func TestParseErrors(t *testing.T) {
	good := chunk.Of([]byte("x")).String()
	cases := map[string]string{
		"empty":      "",
		"short":      good[:31],
		"long":       good + "0",
		"upper case": strings.ToUpper(good),
		"past v":     "w" + good[1:],
		"padding":    good[:31] + "=",
		"space":      " " + good[1:],
	}
	for name, s := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := chunk.Parse(s); !errors.Is(err, chunk.ErrBadHash) {
				t.Fatalf("parse %q = %v, want ErrBadHash", s, err)
			}
		})
	}
}

// TestIsHashPrefix ensures prefixes of printable hashes are recognized.
func TestIsHashPrefix(t *testing.T) {
	good := chunk.Of([]byte("x")).String()
	cases := []struct {
		s    string
		want bool
	}{
		{"", false},
		{"0", true},
		{good[:7], true},
		{good, true},
		{good + "0", false},
		{"abcw", false},
		{"ABC", false},
	}
	for _, tc := range cases {
		if got := chunk.IsHashPrefix(tc.s); got != tc.want {
			t.Errorf("IsHashPrefix(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

// TestHashSet ensures Sorted returns the members in ascending order.
func TestHashSet(t *testing.T) {
	s := chunk.NewHashSet(chunk.Of([]byte("a")), chunk.Of([]byte("b")), chunk.Of([]byte("c")), chunk.Of([]byte("a")))
	got := s.Sorted()
	if len(got) != 3 {
		t.Fatalf("sorted = %v, want 3 members", got)
	}
	for i := 1; i < len(got); i++ {
		if got[i-1].Compare(got[i]) >= 0 {
			t.Fatalf("sorted = %v: not ascending", got)
		}
	}
}
