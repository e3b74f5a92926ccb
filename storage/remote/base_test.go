package remote

import (
	"context"
	"encoding/json"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/chunk/chunktest"
	"github.com/cairndb/cairn/storage/chunk/diskstore"
	"github.com/cairndb/cairn/storage/tree"
)

// newDiskDB is a testDB on a journaled disk store, which a first sync
// copies as files.
func newDiskDB(t *testing.T) *testDB {
	t.Helper()
	s, err := diskstore.Open(filepath.Join(t.TempDir(), "src"), diskstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &testDB{cs: s, ns: tree.NewNodeStore(s, nil)}
}

// readManifest returns the manifest of d.
func readManifest(t *testing.T, d Destination) *Manifest {
	t.Helper()
	m, v, err := loadManifest(context.Background(), d)
	if err != nil || v == "" {
		t.Fatalf("manifest: %q, %v", v, err)
	}
	return m
}

// restorePlaced restores d the way a restore to disk does: the base's files
// placed in a new store directory, the store opened there, the rest added.
func restorePlaced(t *testing.T, d Destination) (*diskstore.Store, RestoreStats, error) {
	t.Helper()
	s, st, err := restoreToDisk(context.Background(), filepath.Join(t.TempDir(), "restored"), d)
	if s != nil {
		t.Cleanup(func() { s.Close() })
	}
	return s, st, err
}

// restoreToDisk restores d into a new store at dir, as restorePlaced; the
// caller closes the store.
func restoreToDisk(ctx context.Context, dir string, d Destination) (*diskstore.Store, RestoreStats, error) {
	bk, err := OpenBackup(ctx, d)
	if err != nil {
		return nil, RestoreStats{}, err
	}
	if err := bk.PlaceBase(ctx, dir, nil); err != nil {
		return nil, RestoreStats{}, err
	}
	s, err := diskstore.Open(dir, diskstore.Options{CheckpointSize: -1})
	if err != nil {
		return nil, RestoreStats{}, err
	}
	st, err := bk.Restore(ctx, s, nil)
	return s, st, err
}

// TestBaseSyncRestore: the first sync of a disk store copies its files as
// a base; later syncs add packs of what changed, skipping what the base
// holds; a restore places the base and adds the packs, or reads it all chunk
// by chunk into another kind of store; verify and fetch read it too.
func TestBaseSyncRestore(t *testing.T) {
	ctx := context.Background()
	for _, kind := range []string{"file", "encrypted"} {
		t.Run(kind, func(t *testing.T) {
			db := newDiskDB(t)
			db.build(t, "refs/heads/main", 20000)
			db.build(t, "refs/workingsets/heads/main", 5000)
			db.build(t, "refs/tags/v1", 10)
			d := newFileDest(t)
			if kind == "encrypted" {
				var err error
				if d, err = Encrypted(d, testKey(t)); err != nil {
					t.Fatal(err)
				}
			}
			var reports int
			st, err := Sync(ctx, db.cs, d, SyncOptions{Database: "db1", Leases: db.cs.Leases(), Progress: func(Progress) { reports++ }})
			if err != nil {
				t.Fatal(err)
			}
			if st.Files == 0 || st.Packs != 0 || st.Bytes == 0 || st.Refs != 3 || reports == 0 {
				t.Fatalf("first sync: %+v, %d reports; want a base", st, reports)
			}
			m := readManifest(t, d)
			if m.Version != 2 || m.Base == nil || len(m.Base.Files) != st.Files || len(m.Base.Refs) != 3 || m.Base.Reach != nil {
				t.Fatalf("manifest after the first sync: version %d, base %+v", m.Version, m.Base)
			}

			// One changed key: a pack of a few chunks; the sync walks the
			// base's refs once and writes what they reach, which it need
			// not send.
			db.edit(t, "refs/heads/main", 123, 1)
			second, err := Sync(ctx, db.cs, d, SyncOptions{Database: "db1", Leases: db.cs.Leases()})
			if err != nil {
				t.Fatal(err)
			}
			if second.Packs != 1 || second.Files != 0 || second.Chunks > 8 || second.Uploaded > 1<<20 {
				t.Fatalf("one-key change after a base: %+v", second)
			}
			m = readManifest(t, d)
			if m.Base.Reach == nil || m.Base.ReachChunks < 100 {
				t.Fatalf("base after the second sync: %+v", m.Base)
			}
			db.edit(t, "refs/heads/main", 456, 1)
			third, err := Sync(ctx, db.cs, d, SyncOptions{Database: "db1", Leases: db.cs.Leases()})
			if err != nil {
				t.Fatal(err)
			}
			if third.Packs != 1 || third.Chunks > 8 || third.Uploaded > 64<<10 {
				t.Fatalf("one-key change, reach index written: %+v", third)
			}
			// A ref deleted after the base (a sync that writes no pack):
			// the restore must drop it, though the base's files hold it.
			db.setRef(t, "refs/tags/v1", chunk.Hash{})
			if _, err := Sync(ctx, db.cs, d, SyncOptions{Database: "db1"}); err != nil {
				t.Fatal(err)
			}
			want, _ := db.cs.Refs(ctx)
			if len(want) != 2 {
				t.Fatalf("source refs %v", want)
			}

			placed, rst, err := restorePlaced(t, d)
			if err != nil {
				t.Fatal(err)
			}
			if rst.BaseFiles != st.Files || rst.Packs != 2 || rst.SourceName != "db1" {
				t.Fatalf("placed restore: %+v", rst)
			}
			checkSame(t, want, placed)

			mem := chunk.NewMemoryStore()
			if _, err := Restore(ctx, d, mem, nil); err != nil {
				t.Fatal(err)
			}
			checkSame(t, want, mem)

			rep, err := Verify(ctx, d, nil)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Chunks < int64(m.Base.ReachChunks) || rep.Refs != 2 || rep.BaseFiles != st.Files {
				t.Fatalf("verify: %+v", rep)
			}

			// Fetch reads chunks from the base too.
			fetched := chunk.NewMemoryStore()
			refs, _, err := Fetch(ctx, d, fetched, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			var updates []chunk.RefUpdate
			for name, h := range refs {
				updates = append(updates, chunk.RefUpdate{Name: name, New: h})
			}
			if err := fetched.UpdateRefs(ctx, updates...); err != nil {
				t.Fatal(err)
			}
			checkSame(t, want, fetched)
		})
	}
}

// TestBaseNoBase: with NoBase, and from a store that cannot snapshot
// itself as files, a first sync packs chunks as before (a manifest of
// version 1, which cairn before bases reads).
func TestBaseNoBase(t *testing.T) {
	ctx := context.Background()
	db := newDiskDB(t)
	db.build(t, "refs/heads/main", 2000)
	d := newFileDest(t)
	st, err := Sync(ctx, db.cs, d, SyncOptions{NoBase: true})
	if err != nil {
		t.Fatal(err)
	}
	if st.Files != 0 || st.Packs == 0 {
		t.Fatalf("sync with NoBase: %+v", st)
	}
	if m := readManifest(t, d); m.Version != 1 || m.Base != nil {
		t.Fatalf("manifest version %d, base %+v", m.Version, m.Base)
	}
}

// TestBaseDamage: a damaged or missing file of a base, or a damaged index,
// fails a restore (setting no ref) and is reported by verify; a base no
// manifest names is pruned once old.
func TestBaseDamage(t *testing.T) {
	ctx := context.Background()
	db := newDiskDB(t)
	db.build(t, "refs/heads/main", 20000)
	dir := filepath.Join(t.TempDir(), "b")
	d, err := OpenFile(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Sync(ctx, db.cs, d, SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	m := readManifest(t, d)
	biggest := m.Base.Files[0]
	for _, f := range m.Base.Files {
		if f.Size > biggest.Size {
			biggest = f
		}
	}
	path := filepath.Join(dir, filepath.FromSlash(m.Base.fileObject(biggest.Name)))
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), good...)
	bad[len(bad)/2] ^= 1
	os.WriteFile(path, bad, 0o644)

	_, err = Verify(ctx, d, nil)
	var ve *VerifyError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "CRC-32C") || !strings.Contains(err.Error(), biggest.Name) {
		t.Fatalf("verify of a damaged base file = %v", err)
	}
	if _, _, err := restorePlaced(t, d); !errors.Is(err, chunk.ErrCorruption) {
		t.Fatalf("placed restore of a damaged base = %v", err)
	}
	mem := chunk.NewMemoryStore()
	if _, err := Restore(ctx, d, mem, nil); !errors.Is(err, chunk.ErrCorruption) {
		t.Fatalf("restore of a damaged base = %v", err)
	}
	if refs, _ := mem.Refs(ctx); len(refs) != 0 {
		t.Fatalf("a failed restore set refs: %v", refs)
	}

	// Missing.
	os.Remove(path)
	if _, err := Verify(ctx, d, nil); err == nil || !strings.Contains(err.Error(), "the file is missing") {
		t.Fatalf("verify with a base file missing = %v", err)
	}
	os.WriteFile(path, good, 0o644)
	if _, err := Verify(ctx, d, nil); err != nil {
		t.Fatalf("repaired: %v", err)
	}

	// A reach index that names a chunk the files lack, with a manifest to
	// match (a buggy writer): verify finds it; a sync would otherwise
	// skip that chunk for ever.
	db.edit(t, "refs/heads/main", 2, 1)
	if _, err := Sync(ctx, db.cs, d, SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	m = readManifest(t, d)
	reach, err := loadReach(ctx, d, m.Base)
	if err != nil {
		t.Fatal(err)
	}
	var ghost chunk.Hash // after every real hash, as the order requires
	for i := range ghost {
		ghost[i] = 0xff
	}
	forged := encodeBaseIndex(append(reach, ghost))
	os.WriteFile(filepath.Join(dir, filepath.FromSlash(m.Base.reachObject())), forged, 0o644)
	fm := *m
	fb := *m.Base
	fb.ReachChunks++
	fb.Reach = &BaseFile{Name: "reach.idx", Size: int64(len(forged)), CRC32C: crcHex(crc32.Checksum(forged, castagnoli))}
	fm.Base = &fb
	_, v, _ := d.Load(ctx, manifestName)
	if _, err := d.Swap(ctx, manifestName, encodeManifest(&fm), v); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(ctx, d, nil); err == nil || !strings.Contains(err.Error(), "the reach index names a chunk the base's files do not hold") {
		t.Fatalf("verify of a forged reach index = %v", err)
	}

	// A manifest naming a file outside the base's directory is refused.
	fb.Files = append([]BaseFile(nil), fb.Files...)
	fb.Files[0].Name = "../../manifest.json"
	b, _ := json.Marshal(fm)
	if _, err := decodeManifest(b); !errors.Is(err, chunk.ErrCorruption) {
		t.Fatalf("a base file named %q = %v", fb.Files[0].Name, err)
	}

	// Prune: an old base of a sync that died goes, the manifest's stays.
	orphan := basePrefix + "0123456789abcdef01234567/files/000001.sst"
	d.Put(ctx, orphan, strings.NewReader("orphan"), 6)
	past := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(dir, filepath.FromSlash(orphan)), past, past)
	for _, f := range m.Base.Files {
		p := filepath.Join(dir, filepath.FromSlash(m.Base.fileObject(f.Name)))
		os.Chtimes(p, past, past)
	}
	// And a temporary file a killed sync left, which List does not show.
	tmpFile := filepath.Join(dir, "base", "fedcba9876543210fedcba98", "files", ".tmp-000002.sst-123")
	os.MkdirAll(filepath.Dir(tmpFile), 0o755)
	os.WriteFile(tmpFile, []byte("partial"), 0o644)
	os.Chtimes(tmpFile, past, past)
	db.edit(t, "refs/heads/main", 1, 1)
	st, err := Sync(ctx, db.cs, d, SyncOptions{PruneGrace: MinPruneGrace})
	if err != nil {
		t.Fatal(err)
	}
	if st.Pruned != 2 {
		t.Fatalf("pruned %d, want 2", st.Pruned)
	}
	if _, err := d.Stat(ctx, orphan); !errors.Is(err, ErrNotExist) {
		t.Fatal("the orphan base survived")
	}
	for _, gone := range []string{tmpFile, filepath.Join(dir, "base", "fedcba9876543210fedcba98"), filepath.Join(dir, "base", "0123456789abcdef01234567")} {
		if _, err := os.Stat(gone); !os.IsNotExist(err) {
			t.Fatalf("%s survived the prune: %v", gone, err)
		}
	}
	if _, err := d.Stat(ctx, m.Base.fileObject(biggest.Name)); err != nil {
		t.Fatalf("the manifest's base was pruned: %v", err)
	}
}

// TestBaseGarbage: the store's files hold garbage that is not whole (a
// collection deleted a child and kept its parent). When a later commit
// makes that parent reachable again, the next sync must send the child:
// the base's files holding the parent is no proof that they hold what it
// names. (A soak test found backups missing chunks when syncs trusted a
// list of everything the files held.)
func TestBaseGarbage(t *testing.T) {
	ctx := context.Background()
	s, err := diskstore.Open(filepath.Join(t.TempDir(), "src"), diskstore.Options{CheckpointSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db := &testDB{cs: s, ns: tree.NewNodeStore(s, nil)}
	db.build(t, "refs/heads/main", 1000)

	child := chunktest.Opaque("a child " + strings.Repeat("c", 3000))
	parent := chunktest.Node("a parent", child)
	if err := s.Put(ctx, child, parent); err != nil {
		t.Fatal(err)
	}
	// Garbage from the start; the collection takes the child only.
	gen, err := s.AdvanceGeneration(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteChunks(ctx, []chunk.Hash{child.Hash}, gen); err != nil || n != 1 {
		t.Fatalf("delete the child: %d, %v", n, err)
	}

	d := newFileDest(t)
	if _, err := Sync(ctx, s, d, SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	// A writer makes the same chunks again and a ref names the parent.
	if err := s.Put(ctx, child, parent); err != nil {
		t.Fatal(err)
	}
	db.setRef(t, "refs/heads/again", parent.Hash)
	if _, err := Sync(ctx, s, d, SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(ctx, d, nil); err != nil {
		t.Fatal(err)
	}
	want, _ := s.Refs(ctx)
	placed, _, err := restorePlaced(t, d)
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, want, placed)
}

// TestBaseInterrupted: a first sync cancelled while it copies the files
// leaves no manifest, and neither objects nor temporary files behind.
func TestBaseInterrupted(t *testing.T) {
	db := newDiskDB(t)
	db.build(t, "refs/heads/main", 20000)
	dir := filepath.Join(t.TempDir(), "b")
	d, err := OpenFile(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The first progress report comes after the first file is staged.
	_, err = Sync(ctx, db.cs, d, SyncOptions{Progress: func(Progress) { cancel() }})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled sync = %v", err)
	}
	if _, _, err := d.Load(context.Background(), manifestName); !errors.Is(err, ErrNotExist) {
		t.Fatalf("manifest after a cancelled first sync: %v", err)
	}
	filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() && e.Name() != ".swap-lock" {
			t.Errorf("a cancelled sync left %s", path)
		}
		return nil
	})
}
