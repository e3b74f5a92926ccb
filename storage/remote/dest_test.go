package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// testDestination is the conformance suite every Destination passes: the
// file and memory ones here, the object-store one with a later issue.
func testDestination(t *testing.T, newDest func(t *testing.T) Destination) {
	ctx := context.Background()
	t.Run("PutGet", func(t *testing.T) {
		d := newDest(t)
		data := []byte("hello, destination")
		if err := d.Put(ctx, "packs/a.pack", bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatal(err)
		}
		got, err := d.Get(ctx, "packs/a.pack", 0, -1)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("get = %q, %v", got, err)
		}
		got, err = d.Get(ctx, "packs/a.pack", 7, 5)
		if err != nil || string(got) != "desti" {
			t.Fatalf("ranged get = %q, %v", got, err)
		}
		if _, err := d.Get(ctx, "packs/a.pack", 10, 100); err == nil {
			t.Fatal("a range past the end was read")
		}
		info, err := d.Stat(ctx, "packs/a.pack")
		if err != nil || info.Size != int64(len(data)) || info.Name != "packs/a.pack" {
			t.Fatalf("stat = %+v, %v", info, err)
		}
		if _, err := d.Get(ctx, "packs/none.pack", 0, -1); !errors.Is(err, ErrNotExist) {
			t.Fatalf("get of a missing object = %v, want ErrNotExist", err)
		}
		// An empty object (a base holds empty marker files).
		if err := d.Put(ctx, "base/x/files/empty", bytes.NewReader(nil), 0); err != nil {
			t.Fatal(err)
		}
		if got, err := d.Get(ctx, "base/x/files/empty", 0, -1); err != nil || len(got) != 0 {
			t.Fatalf("get of an empty object = %q, %v", got, err)
		}
		if _, err := d.Stat(ctx, "packs/none.pack"); !errors.Is(err, ErrNotExist) {
			t.Fatalf("stat of a missing object = %v, want ErrNotExist", err)
		}
	})
	t.Run("PutIsAllOrNothing", func(t *testing.T) {
		d := newDest(t)
		r := io.MultiReader(strings.NewReader("half"), failingReader{})
		if err := d.Put(ctx, "packs/b.pack", r, 100); err == nil {
			t.Fatal("a put whose reader failed succeeded")
		}
		if err := d.Put(ctx, "packs/c.pack", strings.NewReader("short"), 100); err == nil {
			t.Fatal("a put shorter than its size succeeded")
		}
		objs, err := d.List(ctx, "")
		if err != nil || len(objs) != 0 {
			t.Fatalf("after failed puts: %v, %v; want nothing", objs, err)
		}
	})
	t.Run("ListDelete", func(t *testing.T) {
		d := newDest(t)
		for _, n := range []string{"packs/2.pack", "packs/1.pack", "other/x"} {
			if err := d.Put(ctx, n, strings.NewReader(n), int64(len(n))); err != nil {
				t.Fatal(err)
			}
		}
		objs, err := d.List(ctx, "packs/")
		if err != nil || len(objs) != 2 || objs[0].Name != "packs/1.pack" || objs[1].Name != "packs/2.pack" {
			t.Fatalf("list = %+v, %v", objs, err)
		}
		if err := d.Delete(ctx, "packs/1.pack"); err != nil {
			t.Fatal(err)
		}
		if err := d.Delete(ctx, "packs/1.pack"); err != nil {
			t.Fatalf("deleting a missing object: %v", err)
		}
		if objs, _ := d.List(ctx, ""); len(objs) != 2 {
			t.Fatalf("after delete: %+v", objs)
		}
	})
	t.Run("BadNames", func(t *testing.T) {
		d := newDest(t)
		for _, n := range []string{"", "../x", "a/../../x", "/abs", "a//b", ".hidden", "a/./b"} {
			if err := d.Put(ctx, n, strings.NewReader("x"), 1); err == nil {
				t.Errorf("put %q succeeded", n)
			}
			if _, err := d.Swap(ctx, n, []byte("x"), ""); err == nil {
				t.Errorf("swap %q succeeded", n)
			}
		}
	})
	t.Run("Swap", func(t *testing.T) {
		d := newDest(t)
		if _, _, err := d.Load(ctx, "manifest.json"); !errors.Is(err, ErrNotExist) {
			t.Fatalf("load of a missing object = %v", err)
		}
		v1, err := d.Swap(ctx, "manifest.json", []byte("one"), "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Swap(ctx, "manifest.json", []byte("two"), ""); !errors.Is(err, ErrVersionMismatch) {
			t.Fatalf("create over an existing object = %v, want ErrVersionMismatch", err)
		}
		if _, err := d.Swap(ctx, "manifest.json", []byte("two"), "bogus"); !errors.Is(err, ErrVersionMismatch) {
			t.Fatalf("swap with a wrong version = %v, want ErrVersionMismatch", err)
		}
		v2, err := d.Swap(ctx, "manifest.json", []byte("two"), v1)
		if err != nil {
			t.Fatal(err)
		}
		data, v, err := d.Load(ctx, "manifest.json")
		if err != nil || string(data) != "two" || v != v2 {
			t.Fatalf("load = %q %q %v, want two %q", data, v, err, v2)
		}
		if err := d.Remove(ctx, "manifest.json", v1); !errors.Is(err, ErrVersionMismatch) {
			t.Fatalf("remove with an old version = %v", err)
		}
		if err := d.Remove(ctx, "manifest.json", v2); err != nil {
			t.Fatal(err)
		}
		if err := d.Remove(ctx, "manifest.json", v2); !errors.Is(err, ErrNotExist) {
			t.Fatalf("remove of a missing object = %v", err)
		}
	})
	t.Run("ConcurrentSwaps", func(t *testing.T) {
		// From one version, exactly one of many concurrent swaps wins.
		d := newDest(t)
		v0, err := d.Swap(ctx, "m", []byte("base"), "")
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := d.Swap(ctx, "m", []byte(fmt.Sprint("writer ", i)), v0)
				if err == nil {
					mu.Lock()
					wins++
					mu.Unlock()
				} else if !errors.Is(err, ErrVersionMismatch) {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d swaps won, want 1", wins)
		}
	})
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestFileDestination(t *testing.T) {
	testDestination(t, func(t *testing.T) Destination {
		d, err := OpenFile(filepath.Join(t.TempDir(), "backup"), true)
		if err != nil {
			t.Fatal(err)
		}
		return d
	})
}

func TestMemoryDestination(t *testing.T) {
	testDestination(t, func(t *testing.T) Destination {
		return Memory(t.Name())
	})
}

func TestOpenFileMissing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nope")
	if _, err := OpenFile(dir, false); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("open of a missing directory = %v", err)
	}
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	if _, err := OpenFile(f, true); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("open of a file = %v", err)
	}
}

func TestNormalizeURL(t *testing.T) {
	base := "/data/db1"
	for _, c := range []struct{ in, want, err string }{
		{"file:///var/backups/b1", "file:///var/backups/b1", ""},
		{"file://../backups/b1", "file:///data/backups/b1", ""},
		{"file://./backups/b1", "file:///data/db1/backups/b1", ""},
		{"file://b1", "file:///data/db1/b1", ""},
		{"file://localhost/var/b", "file:///var/b", ""},
		{"FILE:///x", "file:///x", ""},
		{"file:///with%20space", "file:///with%20space", ""},
		{"", "", "backup URL '' is invalid"},
		{"   ", "", "backup URL '   ' is invalid"},
		{"file://", "", "backup URL 'file://' is invalid: it names no directory"},
		{"ftp://host/x", "", "unknown url scheme: 'ftp'"},
		{"noscheme", "", "backup URL 'noscheme' is invalid: it needs a scheme, such as file://"},
	} {
		got, err := NormalizeURL(c.in, base)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("NormalizeURL(%q) = %q, %v; want error %q", c.in, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("NormalizeURL(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}
