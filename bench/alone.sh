#!/usr/bin/env bash
# Cairn alone: one sysbench workload against one or more cairn binaries, alternating, each run on a
# fresh copy of the same loaded database, printing each run's transactions a second and the server's
# CPU time per transaction. For comparing two builds of cairn while optimizing: on a 2-core machine
# runs vary by 10-15 %, and the CPU per transaction (user + system time of the server process over the
# run, from /proc) varies less than the throughput when the workload is bound by CPU.
#
#   BINS="/tmp/cairn-before /tmp/cairn-after" bench/alone.sh oltp_update_index 4
#   PROF=1 BINS=/tmp/cairn-after RUNS=1 bench/alone.sh oltp_write_only 4   # with a CPU profile
#
# Settings (environment):
#   BINS=             the cairn binaries, alternated run by run (default: one built from this checkout)
#   RUNS=3            runs of each binary
#   TIME=15           seconds each measured run lasts
#   ROWS=100000       rows in sbtest1
#   PRE= PRETIME=40   a workload run at 4 threads for PRETIME seconds before each measured run, not
#                     measured (oltp_insert grows the table as the full benchmark does before
#                     oltp_update_index)
#   PROF=             1: a CPU profile of the measured run's middle, cpu.pprof in the run's directory
#   OUT=              keep every run's data directory, logs, sysbench output and profile here
#
# Needs Go, sysbench 1.0 and the mariadb client (apt-get install sysbench mariadb-client), and curl
# for PROF. The database is loaded once, with the first binary, and copied for each run; binaries
# whose storage formats differ cannot share it.
set -euo pipefail

RUNS=${RUNS:-3}
TIME=${TIME:-15}
ROWS=${ROWS:-100000}
PRE=${PRE:-}
PRETIME=${PRETIME:-40}
PROF=${PROF:-}
OUT=${OUT:-}
BINS=${BINS:-}

ROOT=$(cd "$(dirname "$0")/.." && pwd)

die() {
	echo "alone.sh: $*" >&2
	exit 1
}

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

[ $# -eq 2 ] || die "usage: [BINS=\"BIN...\"] bench/alone.sh WORKLOAD THREADS"
WORKLOAD=$1
THREADS=$2
for tool in sysbench mariadb; do
	command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install sysbench mariadb-client)"
done
[ -z "$PROF" ] || command -v curl >/dev/null || die "PROF=1 needs curl"

workdir alone
if [ -z "$OUT" ]; then
	trap '[ -n "${CAIRN_PID:-}" ] && stop "$CAIRN_PID"; rm -rf "$W"' EXIT
else
	trap '[ -n "${CAIRN_PID:-}" ] && stop "$CAIRN_PID"' EXIT
fi
if [ -z "$BINS" ]; then
	build_cairn
	BINS=$CAIRN_BIN
fi
read -r -a bins <<<"$BINS"
for b in "${bins[@]}"; do
	[ -x "$b" ] || die "$b is not an executable"
done

PORT=$(free_port)
PPORT=$(free_port "$PORT")

sb() {
	local workload=$1
	shift
	if [ -f "$ROOT/bench/lua/$workload.lua" ]; then
		workload=$ROOT/bench/lua/$workload.lua
	fi
	sysbench "$workload" --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$PORT" \
		--mysql-user=root --mysql-password= --mysql-db=sbtest --tables=1 --table-size="$ROWS" \
		--db-ps-mode=auto "$@"
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# Load the database once.
CAIRN_BIN=${bins[0]}
start_cairn "$PORT"
client "$PORT" -e 'CREATE DATABASE sbtest'
sb oltp_read_write --threads=1 prepare >"$W/prepare.txt" 2>&1 || die "prepare failed; see $W/prepare.txt"
stop "$CAIRN_PID"
CAIRN_PID=
mv "$W/cairn-data" "$W/template"

ticks=$(getconf CLK_TCK)
echo "$WORKLOAD, $THREADS threads, $TIME s, $ROWS rows${PRE:+, after $PRETIME s of $PRE}"
for run in $(seq "$RUNS"); do
	for i in "${!bins[@]}"; do
		CAIRN_BIN=${bins[$i]}
		R=$W/run-$run-$i
		mkdir -p "$R"
		cp -r "$W/template" "$W/cairn-data"
		args=()
		[ -z "$PROF" ] || args=(--pprof "127.0.0.1:$PPORT")
		start_cairn "$PORT" "${args[@]}"
		if [ -n "$PRE" ]; then
			sb "$PRE" --threads=4 --time="$PRETIME" run >"$R/pre.txt" 2>&1 || die "$PRE failed; see $R/pre.txt"
		fi
		quiesce "$CAIRN_PID"
		prof=
		if [ -n "$PROF" ]; then
			curl -s -o "$R/cpu.pprof" "http://127.0.0.1:$PPORT/debug/pprof/profile?seconds=$((TIME * 2 / 3))" &
			prof=$!
		fi
		t0=$(cpu_ticks "$CAIRN_PID")
		sb "$WORKLOAD" --threads="$THREADS" --time="$TIME" run >"$R/sysbench.txt" 2>&1 ||
			die "$WORKLOAD failed; see $R/sysbench.txt"
		t1=$(cpu_ticks "$CAIRN_PID")
		[ -z "$prof" ] || wait "$prof"
		stop "$CAIRN_PID"
		CAIRN_PID=
		mv "$W/cairn.log" "$R/"
		rm -rf "$W/cairn-data"
		awk -v bin="$CAIRN_BIN" -v run="$run" -v t0="$t0" -v t1="$t1" -v hz="$ticks" '
			/^ *transactions:/ { n = $2; tps = $3; gsub(/[(]/, "", tps) }
			END { printf "run %d  %-30s %10.1f tps  %6.0f us of server CPU a transaction\n", run, bin, tps, (t1 - t0) / hz * 1e6 / n }
		' "$R/sysbench.txt"
	done
done
