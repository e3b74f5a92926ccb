package sqle

import (
	"context"
	"fmt"
	"io"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"testing"

	gms "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"
)

// The benchmarks run the same statements on cairn (on disk) and on
// go-mysql-server's memory engine, in the same run, so their times compare
// side by side (BENCHMARKS.md). The table is sysbench's sbtest; its size is
// CAIRN_BENCH_ROWS (default 100,000).

type benchEngine struct {
	name  string
	e     *gms.Engine
	ctx   func() *sql.Context
	close func()
}

func benchRows() int {
	if n, err := strconv.Atoi(os.Getenv("CAIRN_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

func newBenchEngines(b *testing.B) []*benchEngine {
	b.Helper()
	ce, err := NewEngine(context.Background(), Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	cairn := &benchEngine{name: "cairn", e: ce.SQL, close: func() { ce.Close() }}
	cairn.ctx = func() *sql.Context { return ce.NewContext(context.Background(), "sbtest") }
	if _, err := ce.Query(ce.NewContext(context.Background(), ""), "CREATE DATABASE sbtest"); err != nil {
		b.Fatal(err)
	}

	db := memory.NewDatabase("sbtest")
	// Indexes on, as go-mysql-server's own harness runs it.
	db.EnablePrimaryKeyIndexes()
	pro := memory.NewDBProvider(db)
	me := gms.NewDefault(pro)
	mem := &benchEngine{name: "memory", e: me, close: func() {}}
	mem.ctx = func() *sql.Context {
		c := sql.NewContext(context.Background(), sql.WithSession(memory.NewSession(sql.NewBaseSession(), pro)))
		c.SetCurrentDatabase("sbtest")
		return c
	}
	return []*benchEngine{cairn, mem}
}

func (be *benchEngine) exec(tb testing.TB, ctx *sql.Context, q string) int {
	_, it, _, err := be.e.Query(ctx, q)
	if err != nil {
		tb.Fatalf("%s: %s: %v", be.name, q, err)
	}
	n := 0
	for {
		_, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatalf("%s: %s: %v", be.name, q, err)
		}
		n++
	}
	if err := it.Close(ctx); err != nil {
		tb.Fatal(err)
	}
	return n
}

func sbRow(id int, rng *rand.Rand) string {
	c := make([]byte, 0, 120)
	for len(c) < 119 {
		c = append(c, strconv.Itoa(rng.Intn(100000000000))...)
		c = append(c, '-')
	}
	return fmt.Sprintf("(%d, %d, '%s', '%s')", id, rng.Intn(benchRows()), c[:119], c[:59])
}

func (be *benchEngine) load(b *testing.B, rows int) {
	ctx := be.ctx()
	be.exec(b, ctx, "CREATE TABLE sbtest1 (id INT NOT NULL, k INT NOT NULL DEFAULT 0, c CHAR(120) NOT NULL DEFAULT '', pad CHAR(60) NOT NULL DEFAULT '', PRIMARY KEY (id), KEY k_1 (k))")
	rng := rand.New(rand.NewSource(1))
	for i := 1; i <= rows; i += 1000 {
		var sb strings.Builder
		sb.WriteString("INSERT INTO sbtest1 VALUES ")
		for j := i; j < i+1000 && j <= rows; j++ {
			if j > i {
				sb.WriteByte(',')
			}
			sb.WriteString(sbRow(j, rng))
		}
		be.exec(b, ctx, sb.String())
	}
}

func BenchmarkSQL(b *testing.B) {
	rows := benchRows()
	// One engine at a time, each with only its own data in the heap: the
	// garbage collector of one must not pay for the other's rows.
	for i := range 2 {
		engines := newBenchEngines(b)
		engines[1-i].close()
		be := engines[i]
		be.load(b, rows)
		benchEngineOps(b, be, rows)
		be.close()
	}
}

func benchEngineOps(b *testing.B, be *benchEngine, rows int) {
	engines := []*benchEngine{be}
	for _, be := range engines {
		b.Run("PointSelect/"+be.name, func(b *testing.B) {
			ctx := be.ctx()
			rng := rand.New(rand.NewSource(2))
			for b.Loop() {
				if n := be.exec(b, ctx, fmt.Sprintf("SELECT c FROM sbtest1 WHERE id = %d", rng.Intn(rows)+1)); n != 1 {
					b.Fatalf("%d rows", n)
				}
			}
		})
	}
	for _, be := range engines {
		b.Run("IndexRange100/"+be.name, func(b *testing.B) {
			ctx := be.ctx()
			rng := rand.New(rand.NewSource(3))
			for b.Loop() {
				lo := rng.Intn(rows - 2000)
				// k is random in [0, rows): a window of 100 values holds
				// about 100 rows.
				be.exec(b, ctx, fmt.Sprintf("SELECT id, k FROM sbtest1 WHERE k BETWEEN %d AND %d", lo, lo+99))
			}
		})
	}
	for _, be := range engines {
		b.Run("UpdateRow/"+be.name, func(b *testing.B) {
			ctx := be.ctx()
			rng := rand.New(rand.NewSource(4))
			for b.Loop() {
				be.exec(b, ctx, fmt.Sprintf("UPDATE sbtest1 SET c = 'updated-%d' WHERE id = %d", rng.Int(), rng.Intn(rows)+1))
			}
		})
	}
	for _, be := range engines {
		// 10,000 single-row INSERT statements in one transaction, into a
		// new table each time (the memory engine sorts its whole table on
		// every statement, so a big table would measure only that).
		b.Run("Insert10kTx/"+be.name, func(b *testing.B) {
			ctx := be.ctx()
			rng := rand.New(rand.NewSource(5))
			n := 0
			for b.Loop() {
				n++
				tbl := fmt.Sprintf("ins%d", n)
				be.exec(b, ctx, "CREATE TABLE "+tbl+" (id INT NOT NULL, k INT NOT NULL DEFAULT 0, c CHAR(120) NOT NULL DEFAULT '', pad CHAR(60) NOT NULL DEFAULT '', PRIMARY KEY (id), KEY k_1 (k))")
				be.exec(b, ctx, "START TRANSACTION")
				for i := 1; i <= 10_000; i++ {
					be.exec(b, ctx, "INSERT INTO "+tbl+" VALUES "+sbRow(i, rng))
				}
				be.exec(b, ctx, "COMMIT")
			}
		})
	}
	for _, be := range engines {
		// sysbench-style covering_index_scan: every index entry, nothing
		// but the index needed.
		b.Run("CoveringIndexScan/"+be.name, func(b *testing.B) {
			ctx := be.ctx()
			for b.Loop() {
				be.exec(b, ctx, "SELECT COUNT(id) FROM sbtest1 WHERE k > 0")
			}
		})
	}
	for _, be := range engines {
		b.Run("FullScan/"+be.name, func(b *testing.B) {
			ctx := be.ctx()
			for b.Loop() {
				if n := be.exec(b, ctx, "SELECT * FROM sbtest1"); n < rows {
					b.Fatalf("%d rows", n)
				}
			}
		})
	}
}
