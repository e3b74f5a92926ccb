package procedures

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/cairndb/cairn/storage/sqle"
)

// Benchmarks of issue 6 on a database with one sysbench-like table of
// CAIRN_BENCH_ROWS rows (default 1,000,000): dolt_commit after changing 10
// rows, a dolt_diff_ query for the 10 rows one commit changed, and a point
// select AS OF a commit beside the same select on the working set.

func benchVCRows() int {
	if n, err := strconv.Atoi(os.Getenv("CAIRN_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

func newVCBench(b *testing.B) (*sqle.Engine, *sql.Context, int) {
	b.Helper()
	e, err := sqle.NewEngine(context.Background(), sqle.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close() })
	(&VersionControl{Prov: e.Provider}).Register()
	run := func(ctx *sql.Context, q string) string {
		res, err := e.Query(ctx, q)
		if err != nil {
			b.Fatalf("%s: %v", q, err)
		}
		if len(res.Rows) > 0 && len(res.Rows[0]) > 0 && res.Rows[0][0] != nil {
			return *res.Rows[0][0]
		}
		return ""
	}
	run(e.NewContext(context.Background(), ""), "CREATE DATABASE bench")
	ctx := e.NewContext(context.Background(), "bench")
	run(ctx, "CREATE TABLE sbtest1 (id INT NOT NULL, k INT NOT NULL DEFAULT 0, c CHAR(120) NOT NULL DEFAULT '', pad CHAR(60) NOT NULL DEFAULT '', PRIMARY KEY (id), KEY k_1 (k))")
	rows := benchVCRows()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 1; i <= rows; i += 5000 {
		var sb strings.Builder
		sb.WriteString("INSERT INTO sbtest1 VALUES ")
		for j := i; j < i+5000 && j <= rows; j++ {
			if j > i {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "(%d, %d, '%d-%d-%d', '%d')", j, rng.IntN(rows), rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64())
		}
		run(ctx, sb.String())
	}
	run(ctx, "CALL dolt_commit('-Am', 'load')")
	return e, ctx, rows
}

func BenchmarkVersionControl(b *testing.B) {
	e, ctx, rows := newVCBench(b)
	run := func(q string) string {
		res, err := e.Query(ctx, q)
		if err != nil {
			b.Fatalf("%s: %v", q, err)
		}
		if len(res.Rows) > 0 && len(res.Rows[0]) > 0 && res.Rows[0][0] != nil {
			return *res.Rows[0][0]
		}
		return ""
	}
	rng := rand.New(rand.NewPCG(3, 4))
	change10 := func() {
		for range 10 {
			run(fmt.Sprintf("UPDATE sbtest1 SET c = 'changed %d' WHERE id = %d", rng.Uint64(), 1+rng.IntN(rows)))
		}
	}
	b.Run("Commit10Rows", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			change10()
			b.StartTimer()
			run("CALL dolt_commit('-am', 'ten rows')")
		}
	})
	change10()
	h := run("CALL dolt_commit('-am', 'ten rows for the diff')")
	b.Run("Diff10Rows", func(b *testing.B) {
		for b.Loop() {
			if n := run("SELECT COUNT(*) FROM dolt_diff_sbtest1 WHERE to_commit = '" + h + "'"); n != "10" {
				b.Fatalf("%s changed rows", n)
			}
		}
	})
	id := 1 + rng.IntN(rows)
	b.Run("PointSelect/working", func(b *testing.B) {
		for b.Loop() {
			run(fmt.Sprintf("SELECT c FROM sbtest1 WHERE id = %d", id))
		}
	})
	b.Run("PointSelect/asof", func(b *testing.B) {
		for b.Loop() {
			run(fmt.Sprintf("SELECT c FROM sbtest1 AS OF '%s' WHERE id = %d", h, id))
		}
	})
}

// BenchmarkRemote: on a database of CAIRN_BENCH_ROWS rows (default
// 1,000,000) pushed to a file:// remote, the push of one new commit with 10
// changed rows (time, and bytes added to the remote), and a clone of the
// remote beside `cp -r` of the database's directory.
func BenchmarkRemote(b *testing.B) {
	e, ctx, rows := newVCBench(b)
	run := func(q string) string {
		res, err := e.Query(ctx, q)
		if err != nil {
			b.Fatalf("%s: %v", q, err)
		}
		if len(res.Rows) > 0 && len(res.Rows[0]) > 0 && res.Rows[0][0] != nil {
			return *res.Rows[0][0]
		}
		return ""
	}
	remoteDir := filepath.Join(b.TempDir(), "remote")
	run("CALL dolt_remote('add', 'origin', 'file://" + remoteDir + "')")
	run("CALL dolt_push('-u', 'origin', 'main')")
	rng := rand.New(rand.NewPCG(5, 6))
	b.Run("Push10Rows", func(b *testing.B) {
		var added int64
		for b.Loop() {
			b.StopTimer()
			for range 10 {
				run(fmt.Sprintf("UPDATE sbtest1 SET c = 'pushed %d' WHERE id = %d", rng.Uint64(), 1+rng.IntN(rows)))
			}
			run("CALL dolt_commit('-am', 'ten rows')")
			before := dirBytes(b, remoteDir)
			b.StartTimer()
			run("CALL dolt_push()")
			b.StopTimer()
			added += dirBytes(b, remoteDir) - before
			b.StartTimer()
		}
		b.ReportMetric(float64(added)/float64(b.N)/1024, "KiB-added/op")
	})
	dbDir, err := e.Provider.DatabaseDir("bench")
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	b.Run("Clone", func(b *testing.B) {
		for b.Loop() {
			n++
			run(fmt.Sprintf("CALL dolt_clone('file://%s', 'clone%d')", remoteDir, n))
		}
	})
	b.Run("CopyDir", func(b *testing.B) {
		for b.Loop() {
			n++
			dst := filepath.Join(b.TempDir(), fmt.Sprint("copy", n))
			if out, err := exec.Command("cp", "-r", dbDir, dst).CombinedOutput(); err != nil {
				b.Fatalf("cp: %v %s", err, out)
			}
		}
	})
}

func dirBytes(b *testing.B, dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}
