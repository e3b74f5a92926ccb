package enginetest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestConformanceReport is not a test of its own: scripts/conformance.sh
// runs it to turn the `go test -json` output of the suite runs into
// storage/sqle/CONFORMANCE.md. Environment:
//
//	CAIRN_CONFORMANCE_REPORT  directory of <engine>/<suite>.json outputs and
//	                          <engine>/<suite>.meta files ("exit=N secs=S timeout=T")
//	CAIRN_CONFORMANCE_OUT     the markdown file to write
//	CAIRN_CONFORMANCE_CMD     the command line to print in it
//	CAIRN_CONFORMANCE_COMMIT  the commit the run was made at
//
// It also writes <engine>-failures.txt into the report directory: every
// failed test with its output, for finding out why.
func TestConformanceReport(t *testing.T) {
	dir := os.Getenv("CAIRN_CONFORMANCE_REPORT")
	if dir == "" {
		t.Skip("only for scripts/conformance.sh")
	}
	out := os.Getenv("CAIRN_CONFORMANCE_OUT")
	engines := []string{"cairn", "memory"}
	results := map[string]map[string]*suiteResult{}
	for _, eng := range engines {
		results[eng] = map[string]*suiteResult{}
		var fails strings.Builder
		for _, s := range suites {
			r, err := readSuite(filepath.Join(dir, eng, s.name))
			if err != nil {
				if os.IsNotExist(err) {
					continue
				}
				t.Fatal(err)
			}
			results[eng][s.name] = r
			for _, f := range r.failures {
				fmt.Fprintf(&fails, "=== %s\n%s\n", f.name, f.output)
			}
			if r.crash != "" {
				fmt.Fprintf(&fails, "=== %s: RUN ENDED: %s\n%s\n", s.name, r.crash, r.crashOutput)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, eng+"-failures.txt"), []byte(fails.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	md := renderReport(results)
	if out == "" {
		fmt.Print(md)
		return
	}
	if err := os.WriteFile(out, []byte(md), 0o644); err != nil {
		t.Fatal(err)
	}
}

type suiteResult struct {
	pass, fail, skip int
	secs             float64
	exit             int
	// crash says how the run ended early: a timeout or a panic that
	// escaped the harness ("" if it ran to the end).
	crash       string
	crashOutput string
	failures    []failure
}

type failure struct {
	name, output string
}

// testEvent is one line of `go test -json` (cmd/test2json).
type testEvent struct {
	Action string
	Test   string
	Output string
}

type testNode struct {
	name     string
	parent   *testNode
	children int
	status   string // pass, fail, skip; "" if it never finished
	output   strings.Builder
	// badBelow: a descendant failed or never finished.
	badBelow bool
}

// readSuite reads base+".json" and base+".meta". A suite's count is over
// its leaf tests (a script with assertions counts its assertions, a script
// whose setup failed counts once), plus tests that failed on their own
// while none of their subtests did; tests that never finished (the run
// ended) count as failures.
func readSuite(base string) (*suiteResult, error) {
	r := &suiteResult{}
	meta, err := os.ReadFile(base + ".meta")
	if err != nil {
		return nil, err
	}
	for _, f := range strings.Fields(string(meta)) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "exit":
			r.exit, _ = strconv.Atoi(v)
		case "secs":
			r.secs, _ = strconv.ParseFloat(v, 64)
		}
	}
	f, err := os.Open(base + ".json")
	if err != nil {
		return nil, err
	}
	defer f.Close()

	var order []*testNode
	byName := map[string]*testNode{}
	var running []*testNode // started and not finished, in start order
	var loose strings.Builder
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var ev testEvent
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		if ev.Test == "" {
			if ev.Action == "output" {
				loose.WriteString(ev.Output)
			}
			continue
		}
		n := byName[ev.Test]
		switch ev.Action {
		case "run":
			n = &testNode{name: ev.Test}
			// The parent is the innermost running test whose name is a
			// prefix: subtest names may themselves contain "/".
			for i := len(running) - 1; i >= 0; i-- {
				if strings.HasPrefix(ev.Test, running[i].name+"/") {
					n.parent = running[i]
					n.parent.children++
					break
				}
			}
			byName[ev.Test] = n
			order = append(order, n)
			running = append(running, n)
		case "output":
			if n != nil {
				n.output.WriteString(ev.Output)
			}
		case "pass", "fail", "skip":
			if n == nil {
				continue
			}
			n.status = ev.Action
			for i := len(running) - 1; i >= 0; i-- {
				if running[i] == n {
					running = append(running[:i], running[i+1:]...)
					break
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, n := range order {
		if n.status == "fail" || n.status == "" {
			for p := n.parent; p != nil; p = p.parent {
				p.badBelow = true
			}
		}
	}
	for _, n := range order {
		if n.parent == nil || n.parent.parent == nil {
			continue // TestCairn and the suite's own test are not counted
		}
		r.count(n)
	}
	// The suite's own test counts only if it failed with nothing below
	// it failing, or has no subtests at all.
	for _, n := range order {
		if n.parent != nil && n.parent.parent == nil {
			r.count(n)
		}
	}
	var text strings.Builder
	text.WriteString(loose.String())
	for _, n := range order {
		text.WriteString(n.output.String())
	}
	r.crash, r.crashOutput = crashOf(text.String(), r.exit, order)
	return r, nil
}

func (r *suiteResult) count(n *testNode) {
	switch {
	case n.children == 0 && n.status == "pass":
		r.pass++
	case n.children == 0 && n.status == "skip":
		r.skip++
	case n.children == 0 || (n.status != "pass" && n.status != "skip" && !n.badBelow):
		r.fail++
		r.failures = append(r.failures, failure{n.name, cleanOutput(n.output.String())})
	}
}

// crashOf tells how a run that did not end normally ended, and the
// output from the fatal panic on (at most 100 lines).
func crashOf(text string, exit int, order []*testNode) (string, string) {
	if exit == 0 || (exit == 1 && !hasUnfinished(order)) {
		return "", ""
	}
	lines := strings.Split(text, "\n")
	at := -1
	for i, l := range lines {
		// Fatal panics print at column 0; the harness's recovered ones
		// are inside indented test failure messages.
		if strings.HasPrefix(l, "panic: ") {
			at = i
			break
		}
	}
	var out string
	if at >= 0 {
		end := min(at+100, len(lines))
		out = strings.Join(lines[at:end], "\n")
	}
	where := firstRunning(order)
	switch {
	case at >= 0 && strings.HasPrefix(lines[at], "panic: test timed out"):
		return strings.TrimPrefix(lines[at], "panic: ") + where, out
	case exit == 124:
		return "killed after the script's time limit" + where, out
	case at >= 0:
		return strings.TrimSpace(lines[at]) + where, out
	default:
		return fmt.Sprintf("exit status %d", exit) + where, out
	}
}

func hasUnfinished(order []*testNode) bool {
	for _, n := range order {
		if n.status == "" {
			return true
		}
	}
	return false
}

// firstRunning names the innermost test that had not finished.
func firstRunning(order []*testNode) string {
	var last *testNode
	for _, n := range order {
		if n.status == "" {
			last = n
		}
	}
	if last == nil {
		return ""
	}
	return " in " + last.name
}

// cleanOutput drops the "=== RUN" and "--- FAIL" framing lines.
func cleanOutput(s string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		tl := strings.TrimSpace(l)
		if strings.HasPrefix(tl, "=== ") || strings.HasPrefix(tl, "--- ") {
			continue
		}
		b.WriteString(l)
	}
	return strings.TrimRight(b.String(), "\n")
}

func renderReport(results map[string]map[string]*suiteResult) string {
	var b strings.Builder
	b.WriteString("# go-mysql-server conformance\n\n")
	b.WriteString("go-mysql-server v0.20.0's own engine test suites (`enginetest`) run against cairn's storage engine\n")
	b.WriteString("(storage/sqle, in memory) and, in the same run, against go-mysql-server's memory engine. Counts are of\n")
	b.WriteString("leaf subtests: each query or script assertion, a script once if its setup failed, a suite once if it\n")
	b.WriteString("has no subtests. The harness and the list of suites are in storage/sqle/enginetest; see the notes\n")
	b.WriteString("below the table.\n\n")
	cmd := os.Getenv("CAIRN_CONFORMANCE_CMD")
	if cmd == "" {
		cmd = "scripts/conformance.sh"
	}
	fmt.Fprintf(&b, "Generated by `%s` on %s", cmd, time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	if c := os.Getenv("CAIRN_CONFORMANCE_COMMIT"); c != "" {
		fmt.Fprintf(&b, " at commit %s", c)
	}
	b.WriteString(".\n\n")
	b.WriteString("| suite | cairn pass | fail | skip | memory pass | fail | skip | notes |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|---|\n")
	var tot [2][3]int
	var secs [2]float64
	for _, s := range suites {
		c, m := results["cairn"][s.name], results["memory"][s.name]
		if c == nil && m == nil {
			continue
		}
		fmt.Fprintf(&b, "| %s ", s.name)
		var notes []string
		for i, r := range []*suiteResult{c, m} {
			if r == nil {
				b.WriteString("| – | – | – ")
				continue
			}
			fmt.Fprintf(&b, "| %d | %d | %d ", r.pass, r.fail, r.skip)
			tot[i][0] += r.pass
			tot[i][1] += r.fail
			tot[i][2] += r.skip
			secs[i] += r.secs
			if r.crash != "" {
				crash := strings.ReplaceAll(r.crash, "|", "\\|")
				notes = append(notes, fmt.Sprintf("%s: run ended early (%s)", []string{"cairn", "memory"}[i], crash))
			}
		}
		fmt.Fprintf(&b, "| %s |\n", strings.Join(notes, "; "))
	}
	fmt.Fprintf(&b, "| **total** | **%d** | **%d** | **%d** | **%d** | **%d** | **%d** | |\n\n",
		tot[0][0], tot[0][1], tot[0][2], tot[1][0], tot[1][1], tot[1][2])
	fmt.Fprintf(&b, "Run time: cairn %.0f s, memory %.0f s.\n\n", secs[0], secs[1])
	b.WriteString(reportNotes)
	return b.String()
}

const reportNotes = `Notes:

- Each suite is the go-mysql-server enginetest function of the same name (` + "`enginetest.Test<suite>`" + `),
  except AddAutoIncrementColumn, ExternalProcedures and CollationCoercion, which repeat loops of
  go-mysql-server's memory_engine_test.go / engine_only_test.go over the exported ` + "`queries`" + ` tables.
- The memory column uses ` + "`enginetest.NewDefaultMemoryHarness()`" + ` for every suite (go-mysql-server's own
  memory tests add an extra index driver to a few suites, and run some with other partition counts) and keeps
  its one skip: the stored procedure script "FETCH captures state at OPEN". go-mysql-server skips every
  TransactionScripts test for memory (it runs them with a harness that skips everything); here they run, so
  memory's failures there (and in RollbackTriggers: memory has no savepoints) are expected.
- The cairn harness drops ` + "`CREATE VECTOR INDEX`" + ` statements from setup scripts (cairn has no vector
  indexes; without this ComplexIndexQueries and IndexQueryPlans would fail in setup and run nothing). Its
  query skip list is empty. See storage/sqle/enginetest/harness_test.go.
- A panic inside a query is turned into that query's error by both harnesses (with its stack in the test
  output), so it fails one test; a suite marked "run ended early" lost the rest of its tests to a timeout or a
  panic outside a query.
- VersionedQueries and VersionedQueriesPrepared make their table history through the harness: for cairn,
  each snapshot commits the working set and tags the commit with its AS OF label ("2019-01-01"). Their skips
  are go-mysql-server's own (two AS OF a date before any version; the prepared suite's user-variable scripts).
- Suites that need a real ` + "`*sqle.Engine`" + ` (ConcurrentTransactions, ReadOnly, and the *Wire suites, which
  start a MySQL server on a local port) run without that panic recovery.
- Most QueryPlans, IndexQueryPlans and JoinPlanning differences are expected while cairn's tables report
  ` + "`PreciseMatch() == false`" + `: the engine then keeps a Filter above every index lookup.
`
