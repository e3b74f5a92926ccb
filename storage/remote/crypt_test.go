package remote

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairndb/cairn/storage/chunk"
)

func testKey(t testing.TB) []byte {
	k := make([]byte, KeySize)
	rand.Read(k)
	return k
}

func TestEncryptedDestination(t *testing.T) {
	t.Run("Memory", func(t *testing.T) {
		testDestination(t, func(t *testing.T) Destination {
			d, err := Encrypted(Memory(t.Name()), testKey(t))
			if err != nil {
				t.Fatal(err)
			}
			return d
		})
	})
	t.Run("File", func(t *testing.T) {
		testDestination(t, func(t *testing.T) Destination {
			f, err := OpenFile(filepath.Join(t.TempDir(), "backup"), true)
			if err != nil {
				t.Fatal(err)
			}
			d, err := Encrypted(f, testKey(t))
			if err != nil {
				t.Fatal(err)
			}
			return d
		})
	})
}

func TestS3EncryptedDestination(t *testing.T) {
	testDestination(t, func(t *testing.T) Destination {
		d, err := Encrypted(newS3Dest(t), testKey(t))
		if err != nil {
			t.Fatal(err)
		}
		return d
	})
}

// Ranges across block boundaries read what was written, for sizes around
// the block size.
func TestEncryptedRanges(t *testing.T) {
	ctx := context.Background()
	d, _ := Encrypted(Memory(t.Name()), testKey(t))
	for _, size := range []int{0, 1, cryptBlock - 1, cryptBlock, cryptBlock + 1, 3*cryptBlock + 17} {
		data := make([]byte, size)
		rand.Read(data)
		name := "packs/" + strings.Repeat("x", size%7+1)
		d.Delete(ctx, name)
		if err := d.Put(ctx, name, bytes.NewReader(data), int64(size)); err != nil {
			t.Fatal(err)
		}
		inner, _ := d.(*cryptDest).Destination.Stat(ctx, name)
		if inner.Size != cipherSize(int64(size)) || plainSize(inner.Size) != int64(size) {
			t.Fatalf("size %d: stored %d bytes, cipherSize %d, plainSize %d", size, inner.Size, cipherSize(int64(size)), plainSize(inner.Size))
		}
		if info, _ := d.Stat(ctx, name); info.Size != int64(size) {
			t.Fatalf("size %d: stat says %d", size, info.Size)
		}
		for _, r := range [][2]int{{0, size}, {0, min(size, 1)}, {size / 2, size - size/2}, {max(0, size-cryptBlock-3), min(size, cryptBlock+3)}, {max(0, cryptBlock-1), 0}} {
			off, n := r[0], r[1]
			if off+n > size {
				continue
			}
			got, err := d.Get(ctx, name, int64(off), int64(n))
			if err != nil || !bytes.Equal(got, data[off:off+n]) {
				t.Fatalf("size %d: get %d+%d: %d bytes, %v", size, off, n, len(got), err)
			}
		}
		got, err := d.Get(ctx, name, int64(size/3), -1)
		if err != nil || !bytes.Equal(got, data[size/3:]) {
			t.Fatalf("size %d: get from %d to the end: %v", size, size/3, err)
		}
		if _, err := d.Get(ctx, name, int64(size), 1); err == nil {
			t.Fatalf("size %d: a range past the end was read", size)
		}
	}
}

// A backup synced with a key restores and verifies with it; without it, or
// with another key, every operation fails clearly; nothing of the data is
// readable at the destination; a damaged object is detected.
func TestEncryptedBackup(t *testing.T) {
	ctx := context.Background()
	db := newTestDB()
	db.build(t, "refs/heads/main", 5000)
	dir := filepath.Join(t.TempDir(), "backup")
	keyFile := filepath.Join(t.TempDir(), "key")
	key := testKey(t)
	os.WriteFile(keyFile, []byte(hex.EncodeToString(key)+"\n"), 0o600)
	u := FileURL(dir)
	withKey := map[string]string{ParamEncryptionKeyFile: keyFile}
	d, err := Open(ctx, u, withKey, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Sync(ctx, db.cs, d, SyncOptions{PackSize: 64 << 10}); err != nil {
		t.Fatal(err)
	}
	db.edit(t, "refs/heads/main", 3, 1)
	if _, err := Sync(ctx, db.cs, d, SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	want, _ := db.cs.Refs(ctx)
	d2, _ := Open(ctx, u, withKey, false)
	restored := chunk.NewMemoryStore()
	if _, err := Restore(ctx, d2, restored, nil); err != nil {
		t.Fatal(err)
	}
	checkSame(t, want, restored)
	if _, err := Verify(ctx, d2, nil); err != nil {
		t.Fatal(err)
	}

	// No plaintext at the destination: not the manifest's JSON, not a
	// chunk's bytes.
	err = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() || strings.HasPrefix(fi.Name(), ".") {
			return err // .swap-lock: the file destination's own, empty
		}
		b, _ := os.ReadFile(p)
		if !IsEncrypted(b) || bytes.Contains(b, []byte("refs/heads")) || bytes.Contains(b, []byte(`"format"`)) {
			t.Errorf("%s is not encrypted", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Without a key.
	plain, _ := Open(ctx, u, nil, false)
	if _, err := Restore(ctx, plain, chunk.NewMemoryStore(), nil); !errors.Is(err, ErrEncrypted) {
		t.Fatalf("restore without the key: %v", err)
	}
	if _, err := Verify(ctx, plain, nil); !errors.Is(err, ErrEncrypted) {
		t.Fatalf("verify without the key: %v", err)
	}
	if _, err := Sync(ctx, db.cs, plain, SyncOptions{}); !errors.Is(err, ErrEncrypted) {
		t.Fatalf("sync without the key: %v", err)
	}
	// With another key.
	other, _ := Encrypted(plain, testKey(t))
	var wk *WrongKeyError
	_, err = Restore(ctx, other, chunk.NewMemoryStore(), nil)
	if !errors.As(err, &wk) {
		t.Fatalf("restore with another key: %v", err)
	}
	if !strings.Contains(err.Error(), "another key") {
		t.Fatalf("message: %v", err)
	}
	// A key on an unencrypted destination.
	pdir := FileURL(filepath.Join(t.TempDir(), "plain"))
	pd, _ := Open(ctx, pdir, nil, true)
	if _, err := Sync(ctx, db.cs, pd, SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	kd, _ := Open(ctx, pdir, withKey, false)
	var ne *NotEncryptedError
	if _, err := Sync(ctx, db.cs, kd, SyncOptions{}); !errors.As(err, &ne) {
		t.Fatalf("sync with a key to an unencrypted destination: %v", err)
	}

	// A flipped byte in a pack: verify names the damage.
	var pack string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".pack") && pack == "" {
			pack = p
		}
		return nil
	})
	b, _ := os.ReadFile(pack)
	b[cryptHeaderLen+10] ^= 1
	os.Chmod(pack, 0o644)
	if err := os.WriteFile(pack, b, 0o644); err != nil {
		t.Fatal(err)
	}
	d3, _ := Open(ctx, u, withKey, false)
	if _, err := Verify(ctx, d3, nil); !errors.Is(err, chunk.ErrCorruption) {
		t.Fatalf("verify of a damaged encrypted pack: %v", err)
	}
}

func TestReadKeyFile(t *testing.T) {
	dir := t.TempDir()
	key := testKey(t)
	for name, content := range map[string][]byte{
		"raw": key,
		"hex": []byte(hex.EncodeToString(key) + "\n"),
		"b64": []byte(" " + base64.StdEncoding.EncodeToString(key) + "\n"),
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, content, 0o600)
		got, err := ReadKeyFile(p)
		if err != nil || !bytes.Equal(got, key) {
			t.Fatalf("%s: %x, %v", name, got, err)
		}
	}
	p := filepath.Join(dir, "short")
	os.WriteFile(p, []byte("abcd\n"), 0o600)
	if _, err := ReadKeyFile(p); err == nil || !strings.Contains(err.Error(), "not a 256-bit key") {
		t.Fatalf("short key: %v", err)
	}
	if _, err := ReadKeyFile(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("a missing key file was read")
	}
}
