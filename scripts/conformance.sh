#!/usr/bin/env bash
# Runs go-mysql-server's conformance suites (storage/sqle/enginetest) against
# cairn and against go-mysql-server's memory engine, one suite and engine at a
# time, and writes the pass/fail/skip counts to storage/sqle/CONFORMANCE.md.
#
#   scripts/conformance.sh                  every suite
#   scripts/conformance.sh Queries Views    only these (the table then has only them)
#
# Environment: SUITE_TIMEOUT (seconds, default 240) bounds each suite run; a suite that
# hangs is killed with a goroutine dump and marked in the table. OUT_DIR keeps
# the raw `go test -json` outputs and <engine>-failures.txt (every failed test
# with its output); by default a temporary directory that is kept and printed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
pkg=github.com/cairndb/cairn/storage/sqle/enginetest
suite_timeout=${SUITE_TIMEOUT:-240}
out_dir=${OUT_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/cairn-conformance.XXXXXX")}
mkdir -p "$out_dir/cairn" "$out_dir/memory"

bin="$out_dir/enginetest.test"
go test -c -o "$bin" ./storage/sqle/enginetest

if [ $# -gt 0 ]; then
	suites=("$@")
else
	# The suite table of the test package, in order.
	mapfile -t suites < <(grep -oE '^	\{name: "[A-Za-z]+"' storage/sqle/enginetest/suites_test.go | sed -E 's/.*"(.*)"/\1/')
fi

# The tests read ./testdata from the package directory.
cd storage/sqle/enginetest
start=$(date +%s)
for suite in "${suites[@]}"; do
	for engine in cairn memory; do
		test=TestCairn
		[ "$engine" = memory ] && test=TestMemory
		t0=$(date +%s%N)
		set +e
		# -test.timeout makes a hung suite panic with every goroutine's
		# stack; timeout(1) is the backstop if even that does not end it.
		CAIRN_CONFORMANCE=1 timeout --kill-after=30s "$((suite_timeout + 60))" \
			"$bin" -test.v=test2json -test.count=1 -test.timeout "${suite_timeout}s" \
			-test.run "^$test\$/^$suite\$" >"$out_dir/$engine/$suite.out" 2>&1
		code=$?
		set -e
		ms=$((($(date +%s%N) - t0) / 1000000))
		go tool test2json -t -p "$pkg" <"$out_dir/$engine/$suite.out" >"$out_dir/$engine/$suite.json"
		secs=$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))
		echo "exit=$code secs=$secs" >"$out_dir/$engine/$suite.meta"
		printf '%-40s %-7s exit=%-4s %8ss\n' "$suite" "$engine" "$code" "$secs"
	done
done
echo "all suites: $(($(date +%s) - start))s"

cmd="scripts/conformance.sh${*:+ $*}"
commit=$(git rev-parse --short HEAD 2>/dev/null || true)
# Other work in progress in the engine is part of what ran: say so.
if [ -n "$commit" ] && [ -n "$(git status --porcelain -- "$root/storage" "$root/go.mod" ":!$root/storage/sqle/enginetest" ":!$root/storage/sqle/CONFORMANCE.md" 2>/dev/null)" ]; then
	commit="$commit plus uncommitted changes under storage/"
fi
CAIRN_CONFORMANCE_REPORT="$out_dir" CAIRN_CONFORMANCE_OUT="$root/storage/sqle/CONFORMANCE.md" \
	CAIRN_CONFORMANCE_CMD="$cmd" CAIRN_CONFORMANCE_COMMIT="$commit" \
	"$bin" -test.run '^TestConformanceReport$' -test.count=1 >/dev/null
echo "wrote storage/sqle/CONFORMANCE.md; raw outputs and failure details in $out_dir"
