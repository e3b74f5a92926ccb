package remote

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"

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
