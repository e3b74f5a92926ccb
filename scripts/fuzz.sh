#!/usr/bin/env bash
# Runs every fuzz target of the module for FUZZTIME each (issue 9's long
# mode: 1 minute per target), one after another, and prints a summary. A
# failing input is written by Go under the package's testdata/fuzz/, where
# it stays as a seed that every `go test` runs; the script exits non-zero.
#
#   scripts/fuzz.sh                 # every target, 1m each (about 20 minutes)
#   FUZZTIME=10s scripts/fuzz.sh    # a quick pass
#   scripts/fuzz.sh FuzzParsePack   # only the targets whose names match
set -uo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-1m}
filter=${1:-.}

failed=()
ran=0
while read -r file name; do
	pkg=./$(dirname "$file")
	echo "== $name ($pkg, $FUZZTIME)"
	# Minimizing each new interesting input may take 60 s by default, and
	# the node decoder's inputs (4 KB nodes) spent whole minutes on it.
	out=$(go test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 5s "$pkg" 2>&1)
	status=$?
	ran=$((ran + 1))
	# The last progress line says how many inputs were tried.
	echo "$out" | grep -E '^fuzz: elapsed' | tail -1
	if [ $status -ne 0 ]; then
		echo "$out" | tail -30
		failed+=("$name")
	fi
done < <(grep -rEo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+' . | sed 's|^\./||; s|:func | |' | grep -E "$filter" | sort)

echo "$ran targets fuzzed for $FUZZTIME each; ${#failed[@]} failed${failed:+: ${failed[*]}}"
[ ${#failed[@]} -eq 0 ]
