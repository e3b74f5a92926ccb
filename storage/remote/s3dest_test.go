package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/remote/remotetest"
)

// The destination conformance suite and the backup flow against a real
// S3-compatible server: versitygw, started here on a free loopback port
// (`go install github.com/versity/versitygw/cmd/versitygw@v1.8.0`; .ci/run
// installs it). Under CI=true a missing versitygw fails the tests.

func TestMain(m *testing.M) {
	code := m.Run()
	remotetest.Stop()
	os.Exit(code)
}

var s3Prefixes atomic.Int64

func newS3Dest(t *testing.T) Destination {
	endpoint := remotetest.S3Endpoint(t)
	u := fmt.Sprintf("s3://%s/%s-%d", remotetest.Bucket, strings.ReplaceAll(t.Name(), "/", "-"), s3Prefixes.Add(1))
	d, err := Open(context.Background(), u, map[string]string{ParamEndpoint: endpoint}, true)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestS3Destination(t *testing.T) {
	testDestination(t, newS3Dest)
}

func TestS3SyncRestoreVerify(t *testing.T) {
	ctx := context.Background()
	db := newTestDB()
	db.build(t, "refs/heads/main", 20000)
	d := newS3Dest(t)
	st, err := Sync(ctx, db.cs, d, SyncOptions{PackSize: 128 << 10})
	if err != nil {
		t.Fatal(err)
	}
	db.edit(t, "refs/heads/main", 7, 1)
	if _, err := Sync(ctx, db.cs, d, SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	want, _ := db.cs.Refs(ctx)
	restored := chunk.NewMemoryStore()
	if _, err := Restore(ctx, d, restored, nil); err != nil {
		t.Fatal(err)
	}
	checkSame(t, want, restored)
	if rep, err := Verify(ctx, d, nil); err != nil || rep.Packs < st.Packs {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
	// The lock is an object too: a live one refuses a second sync.
	if _, err := d.Swap(ctx, lockName, []byte(`{"operation":"sync","host":"elsewhere","pid":1,"token":"t","started":"2026-01-01T00:00:00Z","expires":"2999-01-01T00:00:00Z"}`), ""); err != nil {
		t.Fatal(err)
	}
	db.edit(t, "refs/heads/main", 8, 1)
	var le *LockedError
	if _, err := Sync(ctx, db.cs, d, SyncOptions{}); !errors.As(err, &le) {
		t.Fatalf("sync with a live lock at the destination: %v", err)
	}
}

func TestS3Errors(t *testing.T) {
	endpoint := remotetest.S3Endpoint(t)
	ctx := context.Background()
	// A wrong secret: a clear error about the credentials.
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
	d, err := Open(ctx, "s3://"+remotetest.Bucket+"/x", map[string]string{ParamEndpoint: endpoint}, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Load(ctx, manifestName); err == nil || !strings.Contains(err.Error(), "refused the credentials") {
		t.Fatalf("load with a wrong secret: %v", err)
	}
	t.Setenv("AWS_SECRET_ACCESS_KEY", remotetest.Secret)
	// A missing bucket.
	d, _ = Open(ctx, "s3://no-such-bucket/x", map[string]string{ParamEndpoint: endpoint}, true)
	if _, _, err := d.Load(ctx, manifestName); err == nil || !strings.Contains(err.Error(), "bucket does not exist") {
		t.Fatalf("load from a missing bucket: %v", err)
	}
}

// Objects larger than a part go up in parts, in parallel, and read back
// whole and by ranges across the parts' boundaries.
func TestS3Multipart(t *testing.T) {
	ctx := context.Background()
	d := newS3Dest(t).(*s3Dest)
	d.partSize = 5 << 20 // S3's smallest part
	data := make([]byte, 11<<20+123)
	for i := range data {
		data[i] = byte(i * 7 / 5)
	}
	if err := d.Put(ctx, "packs/big.pack", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	got, err := d.Get(ctx, "packs/big.pack", 0, -1)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, %v", len(got), err)
	}
	got, err = d.Get(ctx, "packs/big.pack", 5<<20-10, 20)
	if err != nil || !bytes.Equal(got, data[5<<20-10:5<<20+10]) {
		t.Fatalf("range across a part boundary: %v", err)
	}
	// A put that fails leaves no object and no upload behind.
	if err := d.Put(ctx, "packs/short.pack", bytes.NewReader(data[:6<<20]), 7<<20); err == nil {
		t.Fatal("a short multipart put succeeded")
	}
	if _, err := d.Stat(ctx, "packs/short.pack"); !errors.Is(err, ErrNotExist) {
		t.Fatalf("after a failed put: %v", err)
	}
	ups, err := d.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &d.bucket, Prefix: aws.String(d.prefix)})
	if err != nil || len(ups.Uploads) != 0 {
		t.Fatalf("uploads left: %v, %v", ups, err)
	}
}

// hookDest calls afterPut after each successful put.
type hookDest struct {
	Destination
	afterPut func(name string)
}

func (h hookDest) Put(ctx context.Context, name string, r io.Reader, size int64) error {
	err := h.Destination.Put(ctx, name, r, size)
	if err == nil {
		h.afterPut(name)
	}
	return err
}

// The object store killed in the middle of a sync's uploads: the sync fails
// with the store's error, the previous backup restores and verifies once
// the store is back, and the next sync completes.
func TestS3ServerKilledMidUpload(t *testing.T) {
	ctx := context.Background()
	srv := remotetest.Private(t)
	u := "s3://" + remotetest.Bucket + "/killed"
	params := map[string]string{ParamEndpoint: srv.Endpoint}
	d, err := Open(ctx, u, params, true)
	if err != nil {
		t.Fatal(err)
	}
	db := newTestDB()
	db.build(t, "refs/heads/main", 5000)
	if _, err := Sync(ctx, db.cs, d, SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	before, _ := db.cs.Refs(ctx)
	db.build(t, "refs/heads/big", 60000)
	var puts atomic.Int64
	killed := hookDest{Destination: d, afterPut: func(string) {
		if puts.Add(1) == 2 {
			srv.Kill()
		}
	}}
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	_, err = Sync(sctx, db.cs, killed, SyncOptions{PackSize: 256 << 10})
	if err == nil || !strings.Contains(err.Error(), "connect") {
		t.Fatalf("sync while the store died: %v", err)
	}
	t.Logf("sync while the store died: %v", err)
	srv.Start(t)
	restored := chunk.NewMemoryStore()
	if _, err := Restore(ctx, d, restored, nil); err != nil {
		t.Fatal(err)
	}
	checkSame(t, before, restored)
	if _, err := Verify(ctx, d, nil); err != nil {
		t.Fatal(err)
	}
	// The lock the killed sync held is this process's, released on its
	// failure; the next sync takes the destination and completes.
	if _, err := Sync(ctx, db.cs, d, SyncOptions{PackSize: 256 << 10}); err != nil {
		t.Fatal(err)
	}
	after, _ := db.cs.Refs(ctx)
	restored = chunk.NewMemoryStore()
	if _, err := Restore(ctx, d, restored, nil); err != nil {
		t.Fatal(err)
	}
	checkSame(t, after, restored)
}

// staleDest lets another writer replace the manifest between a sync's read
// of it and its swap, as a writer that ignores the lock would.
type staleDest struct {
	Destination
	once sync.Once
	m    *Manifest
}

func (s *staleDest) Swap(ctx context.Context, name string, data []byte, ifVersion string) (string, error) {
	if name == manifestName {
		s.once.Do(func() {
			cur, v, _ := s.Destination.Load(ctx, manifestName)
			s.m, _ = decodeManifest(cur)
			s.m.Updated = time.Now().UTC()
			if _, err := s.Destination.Swap(ctx, manifestName, encodeManifest(s.m), v); err != nil {
				panic(err)
			}
		})
	}
	return s.Destination.Swap(ctx, name, data, ifVersion)
}

// A stale manifest ETag: the sync's conditional write loses, the sync is
// refused with a clear message, and the other writer's manifest stands.
func TestS3StaleManifest(t *testing.T) {
	ctx := context.Background()
	d := newS3Dest(t)
	db := newTestDB()
	db.build(t, "refs/heads/main", 2000)
	if _, err := Sync(ctx, db.cs, d, SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	before, _ := db.cs.Refs(ctx)
	db.edit(t, "refs/heads/main", 5, 1)
	_, err := Sync(ctx, db.cs, &staleDest{Destination: d}, SyncOptions{})
	if err == nil || !strings.Contains(err.Error(), "changed during the sync") {
		t.Fatalf("sync that lost the manifest swap: %v", err)
	}
	restored := chunk.NewMemoryStore()
	if _, err := Restore(ctx, d, restored, nil); err != nil {
		t.Fatal(err)
	}
	checkSame(t, before, restored)
	if _, err := Sync(ctx, db.cs, d, SyncOptions{}); err != nil {
		t.Fatalf("the next sync: %v", err)
	}
}
