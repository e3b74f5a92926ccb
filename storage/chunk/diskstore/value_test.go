package diskstore

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/cairndb/cairn/storage/chunk"
)

// TestValueRoundTrip ensures stored values decode to the bytes and
// generation they were made from, compressed or not.
func TestValueRoundTrip(t *testing.T) {
	cases := map[string][]byte{
		"empty":      {},
		"short":      []byte("abc"),
		"zeros 1MiB": make([]byte, 1<<20),
		"text":       []byte(strings.Repeat("the quick brown fox ", 100)),
		"hash material": func() []byte {
			var b []byte
			for i := range 100 {
				h := chunk.Of([]byte{byte(i)})
				b = append(b, h[:]...)
			}
			return b
		}(),
	}
	for name, data := range cases {
		for _, gen := range []uint64{0, 1, 1 << 40} {
			v := appendValue(nil, data, gen)
			got, g, err := decodeValue(chunk.Hash{}, v)
			if err != nil || g != gen || !bytes.Equal(got, data) {
				t.Fatalf("%s at generation %d: decoded %d bytes at %d, %v", name, gen, len(got), g, err)
			}
		}
	}
}

// FuzzDecodeValue ensures the decoder of stored values never panics, reports
// every failure as corruption, and that what it decodes survives a round trip.
func FuzzDecodeValue(f *testing.F) {
	f.Add(appendValue(nil, []byte("raw"), 3))
	f.Add(appendValue(nil, []byte(strings.Repeat("snappy ", 40)), 7))
	f.Add([]byte{codecSnappy, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, v []byte) {
		h := chunk.Of(v)
		data, gen, err := decodeValue(h, v)
		if err != nil {
			var ce *chunk.CorruptionError
			if !errors.Is(err, chunk.ErrCorruption) || !errors.As(err, &ce) || ce.Hash != h {
				t.Fatalf("decode error %v is not corruption naming the chunk", err)
			}
			return
		}
		data2, gen2, err := decodeValue(h, appendValue(nil, data, gen))
		if err != nil || gen2 != gen || !bytes.Equal(data2, data) {
			t.Fatalf("round trip of decoded value failed: %v", err)
		}
	})
}
