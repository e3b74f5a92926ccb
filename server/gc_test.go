package server

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/cairndb/cairn/storage/chunk/diskstore"
	"github.com/cairndb/cairn/storage/sqle"
)

// A store that grows past the factor is collected without waiting for the
// interval (here: none), and only that database; one that does not grow is
// left alone.
func TestGCOnGrowth(t *testing.T) {
	floor, every := gcGrowthFloor, gcCheckEvery
	gcGrowthFloor, gcCheckEvery = 1<<20, 50*time.Millisecond
	defer func() { gcGrowthFloor, gcCheckEvery = floor, every }()

	// Small checkpoints: with the default size, rows rewritten over and over
	// never reach Pebble (the journal drops the replaced versions), and the
	// store does not grow at all.
	e, err := sqle.NewEngine(context.Background(), sqle.Options{Dir: t.TempDir(), Store: diskstore.Options{CheckpointSize: 32 << 10}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	run := func(db, q string) {
		t.Helper()
		if _, err := e.Query(e.NewContext(context.Background(), db), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	run("", "CREATE DATABASE busy")
	run("", "CREATE DATABASE quiet")
	run("busy", "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(200))")
	run("quiet", "CREATE TABLE t (id INT PRIMARY KEY)")
	logs := &lockedBuffer{}
	log := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(logs), zap.InfoLevel))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { collectGarbage(ctx, e.Provider, -1, 2, log); close(done) }()
	time.Sleep(100 * time.Millisecond) // the baseline
	// Rewrite the same 200 rows over and over: the live data stays small,
	// the garbage grows.
	pad := strings.Repeat("x", 150)
	deadline := time.Now().Add(60 * time.Second)
	for i := 0; !strings.Contains(logs.String(), "the store had grown"); i++ {
		if time.Now().After(deadline) {
			t.Fatalf("no collection on growth; sizes %v", e.Provider.DiskUsage())
		}
		run("busy", fmt.Sprintf("REPLACE INTO t VALUES (%d, '%s%d')", i%200, pad, i))
	}
	cancel()
	<-done
	out := logs.String()
	if !strings.Contains(out, `"db":"busy"`) || strings.Contains(out, `"db":"quiet"`) {
		t.Fatalf("log:\n%s", out)
	}
}

// lockedBuffer is a log sink safe to read while the collector writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
