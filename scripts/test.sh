#!/usr/bin/env bash
# Runs every check CI runs: formatting, vet, the unit and integration tests,
# and the race detector on the packages with concurrency.
#
# It installs what the integration tests need and is missing: Debian's
# mariadb-client (mariadb, mariadb-dump) and mariadb-server (a private
# MariaDB the dump tests load into; the tests start it themselves), and
# Node.js with npm (the mysql2 driver test installs its package from npm),
# and versitygw, an S3-compatible server the s3:// tests start themselves
# (built with go install from the module proxy).
# Under CI=true a test whose tool is missing fails instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v mariadb >/dev/null || missing+=(mariadb-client)
command -v mariadb-dump >/dev/null || missing+=(mariadb-client)
{ command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ]; } || missing+=(mariadb-server)
# Node.js with its own npm (machines of this kind ship Node 20 and npm 11;
# Debian's npm package would conflict with that).
command -v node >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
		echo "scripts/test.sh: needs ${missing[*]} (apt-get install them as root)" >&2
		exit 1
	fi
	SUDO=""
	[ "$(id -u)" -ne 0 ] && SUDO=sudo
	echo "scripts/test.sh: installing ${missing[*]}" >&2
	$SUDO apt-get update -qq
	# policy-rc.d keeps the packaged MariaDB service from starting: the
	# tests start their own servers on free ports.
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v versitygw >/dev/null && [ ! -x "$(go env GOPATH)/bin/versitygw" ]; then
	echo "scripts/test.sh: installing versitygw v1.8.0 (go install)" >&2
	go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
fi

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:" >&2
	echo "$unformatted" >&2
	exit 1
fi
go vet ./...
go test ./...
go test -race ./storage/chunk/... ./storage/repo/... ./storage/dbdir/... ./storage/remote/... ./procedures/...
go test -race -run 'TestConcurrent|TestSmoke' ./storage/sqle/
go test -race -short ./storage/tree/...
