package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cairndb/cairn/storage/chunk"
)

// A destination is untrusted input: whatever bytes a pack or a manifest
// holds, reading them must give a result or an error, never a panic, an
// allocation out of proportion, or a path outside the destination.

// samplePack returns a small valid pack and its name.
func samplePack() (string, []byte) {
	pw := newPackWriter()
	for i := range 5 {
		c := chunk.New(chunk.Encode(chunk.KindOpaque, nil, bytes.Repeat([]byte{byte('a' + i)}, 100+i*50)))
		pw.add(c.Hash, c.Data)
	}
	return pw.finish()
}

func FuzzParsePack(f *testing.F) {
	name, data := samplePack()
	f.Add(name, data)
	f.Add(name, data[:len(data)-1])
	f.Add("packs/x.pack", []byte("cairnpak"))
	bad := append([]byte(nil), data...)
	bad[20] ^= 0xff
	f.Add(name, bad)
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		ix, err := parsePack(name, data)
		if err != nil {
			if !errors.Is(err, chunk.ErrCorruption) {
				t.Fatalf("parsePack error that is not corruption: %v", err)
			}
			return
		}
		for i := range ix.entries {
			if c, err := ix.chunkAt(data, i); err == nil {
				if chunk.Of(c.Data) != c.Hash {
					t.Fatal("a chunk that does not match its hash was accepted")
				}
			}
		}
	})
}

func FuzzReadPackIndex(f *testing.F) {
	name, data := samplePack()
	f.Add(data, int64(len(data)))
	f.Add(data, int64(len(data))-3)
	f.Add([]byte{}, int64(0))
	f.Fuzz(func(t *testing.T, data []byte, size int64) {
		d := Memory(fmt.Sprint("fuzz-index-", len(data)))
		ctx := context.Background()
		d.Delete(ctx, name)
		if err := d.Put(ctx, name, bytes.NewReader(data), int64(len(data))); err != nil {
			return
		}
		ix, err := readPackIndex(ctx, d, name, size)
		if err != nil {
			return
		}
		for _, e := range ix.entries {
			if e.rawLen > maxChunkLen {
				t.Fatalf("an index entry of %d bytes was accepted", e.rawLen)
			}
		}
	})
}

func FuzzDecodeManifest(f *testing.F) {
	m := &Manifest{Kind: "backup", Refs: map[string]string{"refs/heads/main": chunk.Of([]byte("x")).String()},
		Packs: []PackRef{{Name: "packs/" + fmt.Sprintf("%040x", 1) + ".pack", Size: 100, Chunks: 1}}}
	f.Add(encodeManifest(m))
	f.Add([]byte(`{"format":"cairn-destination","version":1,"packs":[{"name":"../../etc/passwd","size":100}]}`))
	f.Add([]byte(`{"format":"cairn-destination","version":3}`))
	f.Add([]byte(`not json`))
	m.Base = &BaseRef{ID: fmt.Sprintf("%024x", 7), Files: []BaseFile{{Name: "000001.sst", Size: 10, CRC32C: "0a0b0c0d"}},
		Refs: m.Refs, Reach: &BaseFile{Name: "reach.idx", Size: baseIndexHeader + 20, CRC32C: "01020304"}, ReachChunks: 1}
	f.Add(encodeManifest(m))
	f.Add([]byte(`{"format":"cairn-destination","version":2,"base":{"id":"00000000","files":[{"name":"../x","size":1,"crc32c":"00000000"}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeManifest(b)
		if err != nil {
			return
		}
		for _, p := range m.Packs {
			if !isPackName(p.Name) || !validObjectName(p.Name) {
				t.Fatalf("a manifest naming %q was accepted", p.Name)
			}
		}
		if b := m.Base; b != nil {
			for _, f := range b.Files {
				if !validObjectName(b.fileObject(f.Name)) || strings.ContainsAny(f.Name, "/\\") {
					t.Fatalf("a base file named %q was accepted", f.Name)
				}
			}
			if !validObjectName(b.reachObject()) {
				t.Fatalf("a base id %q was accepted", b.ID)
			}
		}
		for name, h := range m.Refs {
			if chunk.CheckRefName(name) != nil {
				t.Fatalf("a ref named %q was accepted", name)
			}
			if _, err := chunk.Parse(h); err != nil {
				t.Fatalf("a ref hash %q was accepted", h)
			}
		}
	})
}

func FuzzNormalizeURL(f *testing.F) {
	for _, s := range []string{"file:///a/b", "file://../x", "s3://bucket/p", "", "file://", "mem://x", "file:///%zz", "::", "file://localhost/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := NormalizeURL(raw, "/base")
		if err != nil {
			return
		}
		// A normalized URL normalizes to itself.
		if again, err := NormalizeURL(u, "/elsewhere"); err != nil || again != u {
			t.Fatalf("NormalizeURL(%q) = %q, which normalizes to %q, %v", raw, u, again, err)
		}
	})
}

// FuzzEncryptedObject feeds arbitrary bytes, as an encrypted destination's
// object, to whole and ranged reads and to Stat: each gives bytes or an
// error, never a panic; nothing decrypts that was not sealed with the key.
func FuzzEncryptedObject(f *testing.F) {
	ctx := context.Background()
	key := bytes.Repeat([]byte{7}, KeySize)
	seal := func(plain []byte) []byte {
		d, _ := Encrypted(Memory("fuzz-seed"), key)
		c, err := d.(*cryptDest).seal("packs/p.pack", plain)
		if err != nil {
			f.Fatal(err)
		}
		return c
	}
	good := seal(bytes.Repeat([]byte("chunk data "), 20)) // small: the fuzzer mutates it
	f.Add(good, int64(0), int64(-1))
	f.Add(good, int64(100), int64(10))
	f.Add(good[:len(good)-1], int64(0), int64(-1))
	f.Add(seal(nil), int64(0), int64(0))
	f.Add([]byte(cryptMagic), int64(0), int64(1))
	f.Add([]byte("{\"format\":\"cairn-destination\"}"), int64(0), int64(-1))
	f.Fuzz(func(t *testing.T, data []byte, off, length int64) {
		inner := Memory("fuzz-encrypted")
		if err := inner.Put(ctx, "packs/p.pack", bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatal(err)
		}
		d, _ := Encrypted(inner, key)
		whole, err := d.Get(ctx, "packs/p.pack", 0, -1)
		if err == nil && !bytes.Equal(data, good) && len(data) > cryptHeaderLen && !bytes.Equal(data[:cryptHeaderLen], good[:cryptHeaderLen]) {
			// Only objects sealed under the key decrypt; a fuzzer
			// cannot forge a GCM tag.
			if !bytes.HasPrefix(data, []byte(cryptMagic)) {
				t.Fatalf("unencrypted bytes decrypted to %d bytes", len(whole))
			}
		}
		if length > 1<<20 {
			length = 1 << 20
		}
		if off > 1<<40 || off < -1<<40 {
			off = 0
		}
		d.Get(ctx, "packs/p.pack", off, length)
		d.Stat(ctx, "packs/p.pack")
		inner.Delete(ctx, "packs/p.pack")
	})
}
