package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/tree"
)

// testDB is a store holding prolly maps under refs, as a database does.
type testDB struct {
	cs interface {
		chunk.Collectable
		Leases() *chunk.Leases
	}
	ns *tree.NodeStore
}

func newTestDB() *testDB {
	cs := chunk.NewMemoryStore()
	return &testDB{cs: cs, ns: tree.NewNodeStore(cs, nil)}
}

func testValue(i, gen int) []byte {
	return []byte(fmt.Sprintf("row %08d generation %d %s", i, gen, strings.Repeat("x", 100)))
}

// build writes a map of n entries and sets ref to it.
func (db *testDB) build(t *testing.T, ref string, n int) tree.Map {
	t.Helper()
	ctx := context.Background()
	b := tree.NewBuilder(db.ns)
	for i := range n {
		if err := b.Add(ctx, []byte(fmt.Sprintf("key%08d", i)), testValue(i, 0)); err != nil {
			t.Fatal(err)
		}
	}
	m, err := b.Finish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	db.setRef(t, ref, m.Hash())
	return m
}

func (db *testDB) setRef(t *testing.T, ref string, h chunk.Hash) {
	t.Helper()
	ctx := context.Background()
	refs, _ := db.cs.Refs(ctx)
	if err := db.cs.UpdateRefs(ctx, chunk.RefUpdate{Name: ref, Old: refs[ref], New: h}); err != nil {
		t.Fatal(err)
	}
}

// edit changes key i of the map at ref.
func (db *testDB) edit(t *testing.T, ref string, i, gen int) {
	t.Helper()
	ctx := context.Background()
	refs, _ := db.cs.Refs(ctx)
	m, err := tree.LoadMap(ctx, db.ns, refs[ref])
	if err != nil {
		t.Fatal(err)
	}
	m, err = m.Edit(ctx, []tree.Edit{{Key: []byte(fmt.Sprintf("key%08d", i)), Value: testValue(i, gen)}})
	if err != nil {
		t.Fatal(err)
	}
	db.setRef(t, ref, m.Hash())
}

// checkSame checks that restored holds exactly the refs of want and that
// every chunk they reach is present and whole.
func checkSame(t *testing.T, want map[string]chunk.Hash, restored chunk.Store) {
	t.Helper()
	ctx := context.Background()
	got, err := restored.Refs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("restored refs %v, want %v", got, want)
	}
	for name, h := range want {
		if got[name] != h {
			t.Fatalf("restored ref %s = %s, want %s", name, got[name], h)
		}
	}
	if err := chunk.Walk(ctx, restored, refRoots(got), nil, func(h chunk.Hash, data []byte) error {
		return chunk.Verify(h, data)
	}); err != nil {
		t.Fatalf("restored store: %v", err)
	}
}

func newFileDest(t *testing.T) Destination {
	d, err := OpenFile(filepath.Join(t.TempDir(), "backup"), true)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestSyncRestoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	db := newTestDB()
	db.build(t, "refs/heads/main", 20000)
	db.build(t, "refs/workingsets/heads/main", 5000)
	db.build(t, "refs/tags/v1", 10)
	d := newFileDest(t)
	var reports atomic.Int64
	// Packs fill to PackSize compressed: 32 KiB makes several even from one
	// worker (the data compresses about 15×).
	st, err := Sync(ctx, db.cs, d, SyncOptions{Database: "db1", Leases: db.cs.Leases(), PackSize: 32 << 10, Progress: func(Progress) { reports.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	if st.UpToDate || st.Chunks == 0 || st.Packs < 2 || st.Refs != 3 {
		t.Fatalf("first sync: %+v; want chunks in several packs", st)
	}
	if reports.Load() == 0 {
		t.Error("no progress reported")
	}
	want, _ := db.cs.Refs(ctx)
	restored := chunk.NewMemoryStore()
	rst, err := Restore(ctx, d, restored, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rst.Chunks != st.Chunks || rst.SourceName != "db1" {
		t.Fatalf("restore: %+v, sync: %+v", rst, st)
	}
	checkSame(t, want, restored)
	rep, err := Verify(ctx, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Chunks != st.Chunks || rep.Refs != 3 || rep.Database != "db1" {
		t.Fatalf("verify: %+v", rep)
	}
	// The lock is gone.
	if _, _, err := d.Load(ctx, lockName); !errors.Is(err, ErrNotExist) {
		t.Fatalf("lock after the sync: %v", err)
	}
}

func TestSyncIncremental(t *testing.T) {
	ctx := context.Background()
	db := newTestDB()
	db.build(t, "refs/heads/main", 50000)
	d := newFileDest(t)
	first, err := Sync(ctx, db.cs, d, SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	db.edit(t, "refs/heads/main", 12345, 1)
	second, err := Sync(ctx, db.cs, d, SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := tree.LoadMap(ctx, db.ns, func() chunk.Hash { r, _ := db.cs.Refs(ctx); return r["refs/heads/main"] }())
	if second.Chunks > int64(m.Height()) || second.Uploaded > 64<<10 || second.Packs != 1 {
		t.Fatalf("one-key change: %+v (first sync %d chunks); want at most %d chunks and 64 KiB", second, first.Chunks, m.Height())
	}
	want, _ := db.cs.Refs(ctx)
	restored := chunk.NewMemoryStore()
	if _, err := Restore(ctx, d, restored, nil); err != nil {
		t.Fatal(err)
	}
	checkSame(t, want, restored)
}

func TestSyncUnchangedWritesNothing(t *testing.T) {
	ctx := context.Background()
	db := newTestDB()
	db.build(t, "refs/heads/main", 1000)
	d := Memory(t.Name())
	if _, err := Sync(ctx, db.cs, d, SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	var writes []string
	SetFault(d, func(op, name string) error {
		if op == "put" || op == "swap" || op == "remove" || op == "delete" {
			writes = append(writes, op+" "+name)
		}
		return nil
	})
	st, err := Sync(ctx, db.cs, d, SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !st.UpToDate || len(writes) > 0 {
		t.Fatalf("second sync of an unchanged database: %+v, writes %v", st, writes)
	}
}

func TestSyncInterruptedKeepsPreviousBackup(t *testing.T) {
	ctx := context.Background()
	db := newTestDB()
	db.build(t, "refs/heads/main", 20000)
	d := Memory(t.Name())
	if _, err := Sync(ctx, db.cs, d, SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	before, _ := db.cs.Refs(ctx)
	for i := range 200 {
		db.edit(t, "refs/heads/main", i*97, 1)
	}
	db.build(t, "refs/heads/other", 3000)
	for _, failOn := range []string{"put", "swap manifest.json"} {
		SetFault(d, func(op, name string) error {
			if op == failOn || op+" "+name == failOn {
				return errors.New("injected failure")
			}
			return nil
		})
		_, err := Sync(ctx, db.cs, d, SyncOptions{PackSize: 64 << 10})
		SetFault(d, nil)
		if err == nil || !strings.Contains(err.Error(), "injected failure") {
			t.Fatalf("sync failing on %s = %v", failOn, err)
		}
		restored := chunk.NewMemoryStore()
		if _, err := Restore(ctx, d, restored, nil); err != nil {
			t.Fatalf("restore after a failed sync: %v", err)
		}
		checkSame(t, before, restored)
		if _, err := Verify(ctx, d, nil); err != nil {
			t.Fatal(err)
		}
	}
	// The lock of the failed syncs was released; the next sync completes.
	if _, err := Sync(ctx, db.cs, d, SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	want, _ := db.cs.Refs(ctx)
	restored := chunk.NewMemoryStore()
	if _, err := Restore(ctx, d, restored, nil); err != nil {
		t.Fatal(err)
	}
	checkSame(t, want, restored)
}

func TestSyncLock(t *testing.T) {
	ctx := context.Background()
	db := newTestDB()
	db.build(t, "refs/heads/main", 100)
	d := Memory(t.Name())
	host, _ := os.Hostname()

	setLock := func(l LockInfo) {
		data, _ := json.Marshal(l)
		_, v, err := d.Load(ctx, lockName)
		if errors.Is(err, ErrNotExist) {
			v = ""
		}
		if _, err := d.Swap(ctx, lockName, data, v); err != nil {
			t.Fatal(err)
		}
	}
	// A live holder on another host: refused, naming the holder.
	setLock(LockInfo{Operation: "sync", Database: "other", Host: "elsewhere", PID: 42, Token: "t", Started: time.Now(), Expires: time.Now().Add(time.Minute)})
	_, err := Sync(ctx, db.cs, d, SyncOptions{Database: "db1"})
	var le *LockedError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "locked by a sync of database 'other' on host elsewhere (pid 42)") {
		t.Fatalf("sync with the destination locked = %v", err)
	}
	// Expired: taken over.
	setLock(LockInfo{Operation: "sync", Host: "elsewhere", PID: 42, Token: "t", Started: time.Now().Add(-time.Hour), Expires: time.Now().Add(-time.Minute)})
	if _, err := Sync(ctx, db.cs, d, SyncOptions{}); err != nil {
		t.Fatalf("sync over an expired lock: %v", err)
	}
	// Left by a dead process on this host: taken over at once.
	db.edit(t, "refs/heads/main", 1, 1)
	setLock(LockInfo{Operation: "sync", Host: host, PID: deadPID(t), Token: "t", Started: time.Now(), Expires: time.Now().Add(time.Minute)})
	if _, err := Sync(ctx, db.cs, d, SyncOptions{}); err != nil {
		t.Fatalf("sync over a dead process's lock: %v", err)
	}
	// Naming this process but not held by it (an earlier process with the
	// same pid): stale.
	db.edit(t, "refs/heads/main", 2, 1)
	setLock(LockInfo{Operation: "sync", Host: host, PID: os.Getpid(), Token: "not-held", Started: time.Now(), Expires: time.Now().Add(time.Minute)})
	if _, err := Sync(ctx, db.cs, d, SyncOptions{}); err != nil {
		t.Fatalf("sync over a stale lock of this pid: %v", err)
	}
	// Two syncs at once in this process: one fails with a clear error or
	// both succeed one after the other; the backup stays valid.
	db.build(t, "refs/heads/big", 30000)
	errs := make(chan error, 2)
	for range 2 {
		go func() { _, err := Sync(ctx, db.cs, d, SyncOptions{PackSize: 32 << 10}); errs <- err }()
	}
	for range 2 {
		if err := <-errs; err != nil && !errors.As(err, &le) {
			t.Fatalf("concurrent sync: %v", err)
		}
	}
	if _, err := Verify(ctx, d, nil); err != nil {
		t.Fatal(err)
	}
}

// deadPID returns the pid of a process that has exited.
func deadPID(t *testing.T) int {
	p, err := os.StartProcess("/bin/true", []string{"true"}, &os.ProcAttr{})
	if err != nil {
		t.Fatal(err)
	}
	p.Wait()
	return p.Pid
}

func TestSyncLostLock(t *testing.T) {
	// A sync whose lock is taken over (it stalled past the lock's
	// lifetime) stops before it writes the manifest.
	ctx := context.Background()
	db := newTestDB()
	db.build(t, "refs/heads/main", 20000)
	d := Memory(t.Name())
	stolen := false
	SetFault(d, func(op, name string) error {
		if op == "put" && !stolen {
			stolen = true
			// Another process takes the lock over behind our back.
			go func() {
				m := d.(*memDest)
				m.mu.Lock()
				m.objects[lockName] = memObject{data: []byte(`{"operation":"sync","host":"thief","pid":1,"token":"x"}`)}
				m.mu.Unlock()
			}()
			time.Sleep(300 * time.Millisecond)
		}
		return nil
	})
	_, err := Sync(ctx, db.cs, d, SyncOptions{LockTTL: 150 * time.Millisecond, PackSize: 32 << 10})
	if err == nil || !strings.Contains(err.Error(), "lost the lock") {
		t.Fatalf("sync that lost its lock = %v", err)
	}
	if _, _, err := d.Load(ctx, manifestName); !errors.Is(err, ErrNotExist) {
		t.Fatalf("the sync that lost its lock wrote a manifest: %v", err)
	}
}

func TestVerifyAndRestoreFindDamage(t *testing.T) {
	ctx := context.Background()
	db := newTestDB()
	db.build(t, "refs/heads/main", 20000)
	dir := filepath.Join(t.TempDir(), "b")
	d, _ := OpenFile(dir, true)
	if _, err := Sync(ctx, db.cs, d, SyncOptions{PackSize: 128 << 10}); err != nil {
		t.Fatal(err)
	}
	packs, _ := filepath.Glob(filepath.Join(dir, "packs", "*.pack"))
	if len(packs) < 2 {
		t.Fatalf("%d packs", len(packs))
	}
	// A flipped byte inside a record: the pack's checksum fails.
	b, _ := os.ReadFile(packs[0])
	b[packHeaderLen+10] ^= 1
	os.WriteFile(packs[0], b, 0o644)
	_, err := Verify(ctx, d, nil)
	var ve *VerifyError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "checksum mismatch") || !strings.Contains(err.Error(), filepath.Base(packs[0])) {
		t.Fatalf("verify of a damaged pack = %v", err)
	}
	// The closure check also reports the chunks that pack held.
	if !strings.Contains(err.Error(), "is missing") {
		t.Fatalf("verify did not report missing chunks: %v", err)
	}
	restored := chunk.NewMemoryStore()
	if _, err := Restore(ctx, d, restored, nil); !errors.Is(err, chunk.ErrCorruption) {
		t.Fatalf("restore of a damaged backup = %v", err)
	}
	if refs, _ := restored.Refs(ctx); len(refs) != 0 {
		t.Fatalf("a failed restore set refs: %v", refs)
	}
	// A missing pack.
	b[packHeaderLen+10] ^= 1
	os.WriteFile(packs[0], b, 0o644)
	if _, err := Verify(ctx, d, nil); err != nil {
		t.Fatalf("repaired: %v", err)
	}
	os.Remove(packs[1])
	if _, err := Verify(ctx, d, nil); err == nil || !strings.Contains(err.Error(), "the pack is missing") {
		t.Fatalf("verify with a pack missing = %v", err)
	}
}

func TestChunkDamageNamesTheChunk(t *testing.T) {
	// A pack whose checksum was recomputed after damage (a hostile or
	// buggy writer): each chunk's own hash still catches it.
	db := newTestDB()
	db.build(t, "refs/heads/main", 100)
	pw := newPackWriter()
	var first chunk.Hash
	chunk.Walk(context.Background(), db.cs, []chunk.Hash{mustRef(t, db, "refs/heads/main")}, nil, func(h chunk.Hash, data []byte) error {
		if first.IsZero() {
			first = h
		}
		pw.add(h, append([]byte(nil), data...))
		return nil
	})
	_, data := pw.finish()
	ix, err := parsePack("x.pack", data)
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	for ; ix.entries[i].hash != first; i++ {
	}
	e := ix.entries[i]
	data[e.offset+uint64(e.length)-1] ^= 0xff // the last byte of its record
	_, err = ix.chunkAt(data, i)
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Chunk != first {
		t.Fatalf("damaged chunk = %v, want a corruption naming %s", err, first)
	}
}

func mustRef(t *testing.T, db *testDB, name string) chunk.Hash {
	refs, err := db.cs.Refs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return refs[name]
}

func TestPrune(t *testing.T) {
	ctx := context.Background()
	db := newTestDB()
	db.build(t, "refs/heads/main", 2000)
	dir := filepath.Join(t.TempDir(), "b")
	d, _ := OpenFile(dir, true)
	if _, err := Sync(ctx, db.cs, d, SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	// Packs of syncs that died: one old, one recent.
	old, recent := "packs/"+strings.Repeat("a", 40)+".pack", "packs/"+strings.Repeat("b", 40)+".pack"
	for _, n := range []string{old, recent} {
		d.Put(ctx, n, strings.NewReader("orphan"), 6)
	}
	past := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(dir, old), past, past)
	if _, err := Sync(ctx, db.cs, d, SyncOptions{PruneGrace: time.Minute}); err == nil {
		t.Fatal("a grace period under 10 minutes was accepted")
	}
	st, err := Sync(ctx, db.cs, d, SyncOptions{PruneGrace: MinPruneGrace})
	if err != nil {
		t.Fatal(err)
	}
	if st.Pruned != 1 {
		t.Fatalf("pruned %d, want 1", st.Pruned)
	}
	if _, err := d.Stat(ctx, old); !errors.Is(err, ErrNotExist) {
		t.Fatal("the old orphan survived")
	}
	if _, err := d.Stat(ctx, recent); err != nil {
		t.Fatal("the recent orphan was pruned")
	}
	if _, err := Verify(ctx, d, nil); err != nil {
		t.Fatal(err)
	}
}

func TestSyncUnderGC(t *testing.T) {
	// The sync leases what it copies: a collection running meanwhile,
	// after the refs moved on, keeps the chunks of the captured refs.
	ctx := context.Background()
	db := newTestDB()
	db.build(t, "refs/heads/main", 20000)
	d := Memory(t.Name())
	rng := rand.New(rand.NewPCG(1, 2))
	gcs := 0
	SetFault(d, func(op, name string) error {
		if op == "put" {
			// Move the ref on and collect, in the middle of the sync.
			db.build(t, "refs/heads/main", 100+rng.IntN(100))
			if _, err := chunk.GC(ctx, db.cs); err != nil {
				t.Error(err)
			}
			gcs++
		}
		return nil
	})
	if _, err := Sync(ctx, db.cs, d, SyncOptions{Leases: db.cs.Leases(), PackSize: 32 << 10}); err != nil {
		t.Fatal(err)
	}
	SetFault(d, nil)
	if gcs == 0 {
		t.Fatal("no collection ran during the sync")
	}
	if _, err := Verify(ctx, d, nil); err != nil {
		t.Fatal(err)
	}
}
