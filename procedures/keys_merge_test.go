package procedures

import "testing"

// Merges across ALTER TABLE … DISABLE KEYS: the merged table's disabled
// index stays empty whichever side disabled it, ENABLE KEYS then builds it
// from the merged rows; and when both sides made the same schema change
// (both enabled the keys again, both added an index) the merged indexes
// are built from the merged rows, the base's being of another schema.
func TestMergeWithDisabledKeys(t *testing.T) {
	s := newTestServer(t)
	s.exec("", "CREATE DATABASE db")
	se := s.session(t, "db")
	q := se.q
	q("CREATE TABLE t (id INT PRIMARY KEY, k INT, KEY k_1 (k))")
	q("INSERT INTO t VALUES (1, 10), (2, 20), (3, 10)")
	q("CALL dolt_commit('-Am', 'base')")
	q("CALL dolt_branch('feature')")
	q("CALL dolt_branch('other')")

	// Ours disables, theirs writes rows.
	q("ALTER TABLE t DISABLE KEYS")
	q("INSERT INTO t VALUES (4, 10)")
	q("CALL dolt_commit('-am', 'main disables keys')")
	q("CALL dolt_checkout('feature')")
	q("INSERT INTO t VALUES (5, 10), (6, 30)")
	q("DELETE FROM t WHERE id = 1")
	q("CALL dolt_commit('-am', 'feature writes')")
	q("CALL dolt_checkout('main')")
	if got := q("CALL dolt_merge('feature')"); !mergeOK(got) {
		t.Fatalf("merge into the side with disabled keys: %q", got)
	}
	if got := q("SELECT id FROM t WHERE k = 10 ORDER BY id"); got != "3,4,5" {
		t.Fatalf("rows with k = 10 after the merge: %q", got)
	}
	q("ALTER TABLE t ENABLE KEYS")
	if got := q("SELECT id FROM t FORCE INDEX (k_1) WHERE k = 10 ORDER BY id"); got != "3,4,5" {
		t.Fatalf("through the index enabled after the merge: %q", got)
	}
	q("CALL dolt_commit('-am', 'main enables keys')")

	// Theirs disables, ours writes rows.
	q("CALL dolt_checkout('other')")
	q("ALTER TABLE t DISABLE KEYS")
	q("INSERT INTO t VALUES (7, 10)")
	q("CALL dolt_commit('-am', 'other disables keys')")
	q("CALL dolt_checkout('main')")
	q("INSERT INTO t VALUES (8, 10)")
	q("CALL dolt_commit('-am', 'main writes')")
	if got := q("CALL dolt_merge('other')"); !mergeOK(got) {
		t.Fatalf("merge of the side with disabled keys: %q", got)
	}
	q("ALTER TABLE t ENABLE KEYS")
	if got := q("SELECT id FROM t FORCE INDEX (k_1) WHERE k = 10 ORDER BY id"); got != "3,4,5,7,8" {
		t.Fatalf("through the index enabled after the second merge: %q", got)
	}
	q("CALL dolt_commit('-am', 'enabled')")

	// Both sides add the same index, and write different rows.
	q("CALL dolt_branch('left')")
	q("CALL dolt_branch('right')")
	for i, b := range []string{"left", "right"} {
		q("CALL dolt_checkout('" + b + "')")
		q("ALTER TABLE t ADD INDEX kv (k, id)")
		if i == 0 {
			q("INSERT INTO t VALUES (9, 10)")
			q("DELETE FROM t WHERE id = 3")
		} else {
			q("INSERT INTO t VALUES (10, 10)")
			q("UPDATE t SET k = 40 WHERE id = 4")
		}
		q("CALL dolt_commit('-am', 'add kv on " + b + "')")
	}
	q("CALL dolt_checkout('main')")
	if got := q("CALL dolt_merge('left')"); !mergeOK(got) {
		t.Fatalf("merge of left: %q", got)
	}
	if got := q("CALL dolt_merge('right')"); !mergeOK(got) {
		t.Fatalf("merge of right, both having added kv: %q", got)
	}
	if got := q("SELECT id FROM t IGNORE INDEX (k_1, kv) WHERE k = 10 ORDER BY id"); got != "5,7,8,9,10" {
		t.Fatalf("rows with k = 10 after merging both: %q", got)
	}
	for _, ix := range []string{"k_1", "kv"} {
		if got := q("SELECT id FROM t FORCE INDEX (" + ix + ") WHERE k = 10 ORDER BY id"); got != "5,7,8,9,10" {
			t.Fatalf("through %s after merging both: %q", ix, got)
		}
	}
}

// mergeOK reports whether a dolt_merge result is a merge without conflicts.
func mergeOK(got string) bool {
	return len(got) > 0 && (hasSuffix(got, "|0|0|merge successful") || hasSuffix(got, "|1|0|merge successful"))
}

func hasSuffix(s, suffix string) bool {
	return len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix
}
