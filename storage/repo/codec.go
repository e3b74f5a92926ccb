package repo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
)

// The payload of every chunk this package writes starts with its own version
// byte, so that one kind can change its layout without touching the envelope.
// Every hash a value points to is in the envelope's reference list, at a
// position the layout fixes; payloads hold no hashes. See docs/format.md.

// encoder appends the fields of a payload.
type encoder struct{ buf []byte }

func (e *encoder) byte(b byte)      { e.buf = append(e.buf, b) }
func (e *encoder) uvarint(v uint64) { e.buf = binary.AppendUvarint(e.buf, v) }
func (e *encoder) varint(v int64)   { e.buf = binary.AppendVarint(e.buf, v) }
func (e *encoder) bytes(b []byte)   { e.uvarint(uint64(len(b))); e.buf = append(e.buf, b...) }
func (e *encoder) str(s string)     { e.uvarint(uint64(len(s))); e.buf = append(e.buf, s...) }
func (e *encoder) time(t time.Time) { e.varint(t.UnixMilli()) }
func (e *encoder) signature(s Signature) {
	e.str(s.Name)
	e.str(s.Email)
	e.time(s.Time)
}

// invalid reports a value an encoder refuses.
func invalid(what string, err error) error {
	return fmt.Errorf("repo: encode %s: %v: %w", what, err, ErrInvalidValue)
}

// decoder reads the fields of a payload. The first malformed field sets err
// and every later read returns a zero value, so a decode function reads all
// its fields and checks err once.
type decoder struct {
	h    chunk.Hash
	what string
	buf  []byte
	err  error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = chunk.Corruptf(d.h, "decode %s: %s", d.what, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.buf) == 0 {
		d.fail("truncated")
		return 0
	}
	b := d.buf[0]
	d.buf = d.buf[1:]
	return b
}

// uvarint reads a varint and insists on its shortest form, so that each value
// has exactly one encoding and re-encoding a decoded chunk gives its bytes.
func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	if n != uvarintLen(v) {
		d.fail("varint not in shortest form")
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.buf)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	if n != len(binary.AppendVarint(nil, v)) {
		d.fail("varint not in shortest form")
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

// bytes reads a length-prefixed byte string into a new slice (nil if empty),
// so decoded values never alias the chunk.
func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.buf)) {
		d.fail("truncated: field of %d bytes, %d left", n, len(d.buf))
		return nil
	}
	var out []byte
	if n > 0 {
		out = append([]byte(nil), d.buf[:n]...)
	}
	d.buf = d.buf[n:]
	return out
}

func (d *decoder) str() string { return string(d.bytes()) }

func (d *decoder) time() time.Time {
	ms := d.varint()
	if d.err != nil {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func (d *decoder) signature() Signature {
	return Signature{Name: d.str(), Email: d.str(), Time: d.time()}
}

// count reads an element count, refusing one that cannot fit in what is left
// when each element takes at least minSize bytes, so corrupt input cannot make
// the caller allocate without limit.
func (d *decoder) count(minSize int) int {
	n := d.uvarint()
	if d.err != nil {
		return 0
	}
	if n > uint64(len(d.buf)/minSize) {
		d.fail("count %d does not fit in %d bytes", n, len(d.buf))
		return 0
	}
	return int(n)
}

// finish returns the first error, or one about bytes left over.
func (d *decoder) finish() error {
	if d.err == nil && len(d.buf) != 0 {
		d.fail("%d trailing bytes", len(d.buf))
	}
	return d.err
}

// check turns a failed validation of a decoded value into corruption.
func (d *decoder) check(err error) {
	if err != nil {
		d.fail("%v", err)
	}
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// open decodes the envelope of a chunk that must be of kind and whose payload
// must start with version. It refuses an envelope with a zero reference or a
// reference count not in shortest form, and returns the references and a
// decoder positioned after the version byte.
func open(h chunk.Hash, data []byte, kind chunk.Kind, what string, version byte) ([]chunk.Hash, *decoder, error) {
	env, err := chunk.DecodeKind(h, data, kind)
	if err != nil {
		return nil, nil, err
	}
	n := env.NumRefs()
	if header := len(data) - len(env.Payload) - n*chunk.HashSize; header != 2+uvarintLen(uint64(n)) {
		return nil, nil, chunk.Corruptf(h, "decode %s: reference count not in shortest form", what)
	}
	refs := env.Refs()
	for i, r := range refs {
		if r.IsZero() {
			return nil, nil, chunk.Corruptf(h, "decode %s: reference %d is the zero hash", what, i)
		}
	}
	d := &decoder{h: h, what: what, buf: env.Payload}
	if v := d.byte(); d.err == nil && v != version {
		d.fail("unknown version %d", v)
	}
	if d.err != nil {
		return nil, nil, d.err
	}
	return refs, d, nil
}

// NamedHash is a name and the hash it maps to: a table in a RootValue, a
// collection, a secondary index in a TableRecord.
type NamedHash struct {
	Name string
	Hash chunk.Hash
}

// checkNamed checks that names are non-empty and strictly increasing (so
// unique) and hashes non-zero: the one order a list may be encoded in.
func checkNamed(list []NamedHash) error {
	for i, e := range list {
		if e.Name == "" {
			return errors.New("empty name")
		}
		if e.Hash.IsZero() {
			return fmt.Errorf("%q: zero hash", e.Name)
		}
		if i > 0 && list[i-1].Name >= e.Name {
			return fmt.Errorf("names %q, %q not strictly increasing", list[i-1].Name, e.Name)
		}
	}
	return nil
}

// encodeNamed appends the names of list to the payload and its hashes to refs.
func encodeNamed(e *encoder, refs []chunk.Hash, list []NamedHash) []chunk.Hash {
	e.uvarint(uint64(len(list)))
	for _, x := range list {
		e.str(x.Name)
		refs = append(refs, x.Hash)
	}
	return refs
}

// decodeNamed reads a list written by encodeNamed, taking its hashes from the
// front of refs, and returns the list and the references left.
func decodeNamed(d *decoder, refs []chunk.Hash) ([]NamedHash, []chunk.Hash) {
	n := d.count(2) // a length byte and at least one byte of name
	if d.err != nil {
		return nil, refs
	}
	if n > len(refs) {
		d.fail("%d names but %d references left", n, len(refs))
		return nil, refs
	}
	var list []NamedHash
	if n > 0 {
		list = make([]NamedHash, n)
	}
	for i := range list {
		list[i] = NamedHash{Name: d.str(), Hash: refs[i]}
	}
	return list, refs[n:]
}

// findNamed returns the index of name in the sorted list, or where it would go.
func findNamed(list []NamedHash, name string) (int, bool) {
	lo, hi := 0, len(list)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if list[m].Name < name {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(list) && list[lo].Name == name
}

// putNamed returns a copy of the sorted list with name mapped to h.
func putNamed(list []NamedHash, name string, h chunk.Hash) []NamedHash {
	i, found := findNamed(list, name)
	out := make([]NamedHash, 0, len(list)+1)
	out = append(out, list[:i]...)
	out = append(out, NamedHash{Name: name, Hash: h})
	if found {
		i++
	}
	return append(out, list[i:]...)
}

// deleteNamed returns a copy of the sorted list without name, and whether it
// was there (if not, the list itself).
func deleteNamed(list []NamedHash, name string) ([]NamedHash, bool) {
	i, found := findNamed(list, name)
	if !found {
		return list, false
	}
	out := make([]NamedHash, 0, len(list)-1)
	out = append(out, list[:i]...)
	return append(out, list[i+1:]...), true
}

// checkPut validates an entry about to be added to a named list.
func checkPut(what, name string, h chunk.Hash) error {
	if name == "" {
		return fmt.Errorf("repo: put %s: empty name: %w", what, ErrInvalidValue)
	}
	if h.IsZero() {
		return fmt.Errorf("repo: put %s %q: zero hash: %w", what, name, ErrInvalidValue)
	}
	return nil
}
