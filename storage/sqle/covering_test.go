package sqle

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// A lookup on a secondary index that holds every column the query needs
// (integer columns, the primary key included) builds its rows from the
// index keys: the same rows as a scan of the table, NULLs, negative and
// unsigned values included, without reading the rows themselves.
func TestCoveringIndexLookups(t *testing.T) {
	e := newTestEngine(t, t.TempDir())
	ctx := e.NewContext(context.Background(), "")
	query(t, e, ctx, "CREATE DATABASE db")
	query(t, e, ctx, "USE db")
	query(t, e, ctx, "CREATE TABLE t (id BIGINT UNSIGNED PRIMARY KEY, k INT, s SMALLINT NOT NULL, c VARCHAR(10), KEY k_s (k, s), KEY c_idx (c))")
	rng := rand.New(rand.NewPCG(1, 2))
	var sb strings.Builder
	sb.WriteString("INSERT INTO t VALUES ")
	for i := range 2000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		k := "NULL"
		if rng.IntN(10) > 0 {
			k = fmt.Sprint(rng.IntN(200) - 100)
		}
		fmt.Fprintf(&sb, "(%d, %s, %d, 'c%d')", uint64(i)*9_000_000_000_000_000, k, rng.IntN(60000)-30000, rng.IntN(50))
	}
	query(t, e, ctx, sb.String())
	for _, where := range []string{"k > 5", "k BETWEEN -20 AND 20", "k IS NULL", "k = -3", "k < -90 OR k > 90", "k >= 0 AND s < 0"} {
		for _, cols := range []string{"id", "k, id", "s, k", "id, s, k", "COUNT(id)", "SUM(s)", "c, id"} {
			q := fmt.Sprintf("SELECT %s FROM t %%s WHERE %s", cols, where)
			got := query(t, e, ctx, fmt.Sprintf(q, "FORCE INDEX (k_s)"))
			want := query(t, e, ctx, fmt.Sprintf(q, "IGNORE INDEX (k_s)"))
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("%s: through the index %d rows, by a scan %d; first %v, %v", q, len(got), len(want), head(got), head(want))
			}
		}
	}

	// The covering lookup reads index nodes only; the same rows with a
	// column the index lacks read a row per entry.
	st, _ := e.Provider.state("db")
	reads := func(q string) uint64 {
		before := st.ns.Reads()
		query(t, e, ctx, q)
		return st.ns.Reads() - before
	}
	covering := reads("SELECT id FROM t FORCE INDEX (k_s) WHERE k BETWEEN 0 AND 50")
	rows := reads("SELECT c FROM t FORCE INDEX (k_s) WHERE k BETWEEN 0 AND 50")
	t.Logf("covering %d, rows %d", covering, rows)
	if covering*10 > rows {
		t.Errorf("the covering lookup read %d nodes, the one that reads rows %d", covering, rows)
	}
}

func head(rows []string) []string { return rows[:min(len(rows), 5)] }
