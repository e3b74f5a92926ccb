#!/usr/bin/env bash
# Runs every check CI runs: formatting, vet, the unit and integration tests,
# and the race detector on the packages with concurrency. Installs nothing yet:
# the storage core needs only Go and the module proxy.
set -euo pipefail
cd "$(dirname "$0")/.."

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:" >&2
	echo "$unformatted" >&2
	exit 1
fi
go vet ./...
go test ./...
go test -race ./storage/chunk/... ./storage/repo/... ./storage/dbdir/...
go test -race -run 'TestConcurrent|TestSmoke' ./storage/sqle/
go test -race -short ./storage/tree/...
