package sqle

import (
	"bytes"
	"testing"
)

func FuzzDecodeConflict(f *testing.F) {
	f.Add(encodeConflict([]byte("base"), nil, []byte("theirs")))
	f.Add(encodeConflict(nil, nil, nil))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		base, ours, theirs, err := decodeConflict(b)
		if err != nil {
			return
		}
		// What decodes encodes to bytes that decode to the same values
		// (the input may hold a longer varint for a length).
		b2, o2, t2, err := decodeConflict(encodeConflict(base, ours, theirs))
		if err != nil || !bytes.Equal(b2, base) || !bytes.Equal(o2, ours) || !bytes.Equal(t2, theirs) || (b2 == nil) != (base == nil) || (o2 == nil) != (ours == nil) || (t2 == nil) != (theirs == nil) {
			t.Fatalf("decode(%x) = %q %q %q, which does not survive a round trip: %q %q %q %v", b, base, ours, theirs, b2, o2, t2, err)
		}
	})
}
