#!/usr/bin/env bash
# sysbench's OLTP workloads against cairn and against MariaDB, side by side in
# one run (issue #4). The script builds cairn, starts it and a private MariaDB
# on free loopback ports with their own temporary data directories, loads the
# same sysbench table into both, runs every workload at every thread count
# RUNS times on each server, alternating the servers, and prints a Markdown
# table of the medians.
#
#   bench/sysbench.sh                    # 100,000 rows, 1 and 4 threads, 3 runs of 30 s: about an hour
#   ROWS=1000000 bench/sysbench.sh       # the long mode of issue 10
#   TIME=5 RUNS=1 bench/sysbench.sh      # a smoke test: about 5 minutes
#
# Settings (environment):
#   ROWS=100000       rows in the one table, sbtest1 (--tables=1 --table-size=ROWS)
#   TIME=30           seconds each measured run lasts
#   THREADS="1 4"     the thread counts
#   RUNS=3            runs per workload, thread count and server; the table shows medians
#   WORKLOADS="oltp_point_select oltp_read_only select_random_ranges covering_index_scan table_scan
#              oltp_write_only oltp_read_write oltp_insert oltp_update_index"
#                     sysbench's own workloads, and covering_index_scan and table_scan from
#                     bench/lua/ (after Dolt's benchmarks of those names; sysbench 1.0.20 has none)
#   WARMUP=10         seconds of oltp_read_only on each server after loading, not measured (0: none)
#   BUFFER_POOL=256M  MariaDB's innodb_buffer_pool_size and cairn's --cache-size, the same budget
#                     (the table is about 25 MB at 100,000 rows)
#   PS_MODE=auto      sysbench's --db-ps-mode: auto uses server-side prepared statements
#                     (COM_STMT_PREPARE/EXECUTE) on both servers, disable sends plain text queries
#   CAIRN_BIN=        a cairn binary to run instead of building one from this checkout
#   OUT=              keep results.tsv, results.md, every sysbench output and both servers'
#                     data directories and logs in this directory (default: a temporary
#                     directory, removed at exit)
#
# Needs Go, sysbench 1.0 and MariaDB (apt-get install sysbench mariadb-server mariadb-client),
# and about 2 GB free in $TMPDIR (or OUT) for the default run (the server collects the tree nodes
# that write transactions replace, but a collection trails the writes).
#
# Fairness: both servers are durable at every COMMIT (cairn syncs each commit; MariaDB runs with
# its default innodb_flush_log_at_trx_commit=1), MariaDB's binary log is off (cairn has none),
# both are reached over TCP on 127.0.0.1 with the same sysbench options, and sysbench runs on the
# same machine as the servers, so it takes CPU from both alike.
#
# Errors: sysbench 1.0.20 restarts a transaction that fails with 1213 (deadlock), 1205 (lock wait
# timeout) or 1020 (record changed) by default (--mysql-ignore-errors=1213,1020,1205) and counts
# it as an "ignored error"; the table shows those per second as "retries/s". cairn reports a
# write-write conflict between concurrent transactions as 1213 at COMMIT, so with several threads
# its write workloads retry; MariaDB's row locks make them wait instead. No other error is
# ignored: any other failure stops the script with sysbench's output and the server's log.
#
# Warm-up: sysbench's own `prewarm` command cannot be used, as cairn's SQL parser rejects its
# query, SELECT AVG(id) FROM (SELECT * FROM sbtest1 FORCE KEY (PRIMARY) LIMIT n) t (error 1105,
# syntax error near 'KEY': the parser knows only {USE|IGNORE|FORCE} INDEX (names), and PRIMARY
# is not accepted as a name there). A short oltp_read_only run on each server warms both instead.
set -euo pipefail

ROWS=${ROWS:-100000}
TIME=${TIME:-30}
THREADS=${THREADS:-"1 4"}
RUNS=${RUNS:-3}
WORKLOADS=${WORKLOADS:-"oltp_point_select oltp_read_only select_random_ranges covering_index_scan table_scan oltp_write_only oltp_read_write oltp_insert oltp_update_index"}
WARMUP=${WARMUP:-10}
BUFFER_POOL=${BUFFER_POOL:-256M}
PS_MODE=${PS_MODE:-auto}
CAIRN_BIN=${CAIRN_BIN:-}
OUT=${OUT:-}

ROOT=$(cd "$(dirname "$0")/.." && pwd)

die() {
	echo "sysbench.sh: $*" >&2
	exit 1
}

# --- tools ---------------------------------------------------------------------------------

missing=()
for tool in sysbench mariadbd mariadb-install-db mariadb; do
	command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ -z "$CAIRN_BIN" ] && ! command -v go >/dev/null 2>&1; then
	missing+=(go)
fi
if [ ${#missing[@]} -gt 0 ]; then
	echo "sysbench.sh: missing ${missing[*]}." >&2
	echo "  On Debian or Ubuntu: apt-get install sysbench mariadb-server mariadb-client" >&2
	echo "  (and Go 1.26 from https://go.dev/dl/ to build cairn, or CAIRN_BIN=path/to/cairn)" >&2
	exit 1
fi
for n in "$ROWS" "$TIME" "$RUNS" "$WARMUP" $THREADS; do
	[[ "$n" =~ ^[0-9]+$ ]] || die "ROWS, TIME, RUNS, WARMUP and THREADS must be whole numbers (got '$n')"
done
[ "$RUNS" -ge 1 ] && [ "$TIME" -ge 1 ] || die "RUNS and TIME must be at least 1"

# --- working directory and cleanup ---------------------------------------------------------

. "$ROOT/bench/lib.sh"
workdir sysbench

CAIRN_PID=
MARIADB_PID=

cleanup() {
	local rc=$?
	stop "$CAIRN_PID"
	stop "$MARIADB_PID"
	CAIRN_PID= MARIADB_PID=
	if [ -z "$OUT" ] && [ "$rc" -ne 0 ]; then
		# Keep what explains the failure, not the data.
		rm -rf "$W/cairn-data" "$W/mariadb/data" "$W/cairn"
		echo "sysbench outputs and server logs kept in $W" >&2
	elif [ -z "$OUT" ]; then
		rm -rf "$W"
	else
		echo "results, sysbench outputs and server logs kept in $W" >&2
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- cairn ---------------------------------------------------------------------------------

build_cairn
CAIRN_PORT=$(free_port)
start_cairn "$CAIRN_PORT" --cache-size "$BUFFER_POOL"

# --- MariaDB -------------------------------------------------------------------------------

MARIADB_PORT=$(free_port "$CAIRN_PORT")
start_mariadb "$MARIADB_PORT" "$BUFFER_POOL"

MARIADB_VERSION=$(client "$MARIADB_PORT" -N -e 'SELECT VERSION()')
SYSBENCH_VERSION=$(sysbench --version)

# --- sysbench ------------------------------------------------------------------------------

port_of() { if [ "$1" = cairn ]; then echo "$CAIRN_PORT"; else echo "$MARIADB_PORT"; fi; }
pid_of() { if [ "$1" = cairn ]; then echo "$CAIRN_PID"; else echo "$MARIADB_PID"; fi; }
log_of() { if [ "$1" = cairn ]; then echo "$W/cairn.log"; else echo "$M/err.log"; fi; }

# sb runs sysbench against server $1 with output to file $2 and the remaining arguments;
# on failure it shows the output and the server's log and stops the script.
sb() {
	local server=$1 out=$2
	shift 2
	# A workload of ours (bench/lua/NAME.lua) is given to sysbench as a path.
	if [ -f "$ROOT/bench/lua/$1.lua" ]; then
		set -- "$ROOT/bench/lua/$1.lua" "${@:2}"
	fi
	if ! sysbench "$@" --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$(port_of "$server")" \
		--mysql-user=root --mysql-password= --mysql-db=sbtest \
		--tables=1 --table-size="$ROWS" --db-ps-mode="$PS_MODE" >"$out" 2>&1; then
		echo "sysbench.sh: sysbench $* failed against $server; its output ($out):" >&2
		tail -n 20 "$out" >&2
		echo "--- $server's log ($(log_of "$server")):" >&2
		tail -n 20 "$(log_of "$server")" >&2
		exit 1
	fi
	kill -0 "$(pid_of "$server")" 2>/dev/null || die "$server is gone after sysbench $*; see $(log_of "$server")"
}

mkdir -p "$W/runs"
for server in cairn mariadb; do
	client "$(port_of "$server")" -e 'CREATE DATABASE sbtest'
	start=$(date +%s.%N)
	sb "$server" "$W/runs/prepare-$server.txt" oltp_read_write --threads=1 prepare
	end=$(date +%s.%N)
	awk -v r="$ROWS" -v s="$server" -v a="$start" -v b="$end" 'BEGIN { printf "loaded %s rows into %s in %.1f s\n", r, s, b - a }' >&2
	if [ "$WARMUP" -gt 0 ]; then
		sb "$server" "$W/runs/warmup-$server.txt" oltp_read_only --threads=1 --time="$WARMUP" run
	fi
done

# parse prints "tps p95_ms retries_per_s" from one sysbench run's output.
parse() {
	awk '
		/^ *transactions:/   { tps = $3; gsub(/[()]/, "", tps) }
		/^ *ignored errors:/ { err = $4; gsub(/[()]/, "", err) }
		/^ *95th percentile:/ { p95 = $3 }
		END { if (tps == "" || p95 == "") exit 1; print tps, p95, (err == "" ? 0 : err) }
	' "$1"
}

nw=$(echo $WORKLOADS | wc -w)
nt=$(echo $THREADS | wc -w)
total=$((nw * nt * RUNS * 2))
echo "$total runs of $TIME s: about $(((total * (TIME + 2) + 59) / 60)) minutes" >&2
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

printf 'workload\tthreads\tserver\trun\ttps\tp95_ms\tretries_per_s\n' >"$W/results.tsv"
i=0
for workload in $WORKLOADS; do
	for threads in $THREADS; do
		for run in $(seq "$RUNS"); do
			# Alternate which server goes first, so neither always follows the other's writes.
			if [ $((run % 2)) -eq 1 ]; then order="cairn mariadb"; else order="mariadb cairn"; fi
			for server in $order; do
				i=$((i + 1))
				out="$W/runs/$workload-$threads-$server-$run.txt"
				sb "$server" "$out" "$workload" --threads="$threads" --time="$TIME" --events=0 \
					--report-interval=0 --percentile=95 run
				read -r tps p95 err < <(parse "$out") || die "cannot read the figures in $out"
				printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$workload" "$threads" "$server" "$run" \
					"$tps" "$p95" "$err" >>"$W/results.tsv"
				printf '[%d/%d] %s, %s threads, %s, run %d: %s tps, p95 %s ms, %s retries/s\n' \
					"$i" "$total" "$workload" "$threads" "$server" "$run" "$tps" "$p95" "$err" >&2
			done
		done
	done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the table -----------------------------------------------------------------------------

# cell prints the median of column $3 of results.tsv for workload $1, threads $2, server $4.
cell() {
	awk -F'\t' -v w="$1" -v t="$2" -v s="$4" -v c="$3" 'NR > 1 && $1 == w && $2 == t && $3 == s { print $c }' \
		"$W/results.tsv" | median
}

{
	echo "$SYSBENCH_VERSION against cairn $COMMIT and MariaDB $MARIADB_VERSION"
	echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(date -u +%Y-%m-%d)"
	echo "settings: ROWS=$ROWS TIME=$TIME THREADS=\"$THREADS\" RUNS=$RUNS WARMUP=$WARMUP BUFFER_POOL=$BUFFER_POOL PS_MODE=$PS_MODE"
	echo "load average before the runs: $load_before, after: $load_after"
	echo "medians of $RUNS runs; targets (issue 10): cairn/MariaDB ≥ 1/2 for read workloads, ≥ 2/5 for write workloads"
	echo
	echo "| workload | threads | cairn tps | MariaDB tps | cairn/MariaDB | target | met | cairn p95 ms | MariaDB p95 ms | retries/s cairn / MariaDB |"
	echo "| --- | --: | --: | --: | --: | --: | --- | --: | --: | --: |"
	for workload in $WORKLOADS; do
		case $workload in
		oltp_point_select | oltp_read_only | select_random_points | select_random_ranges | covering_index_scan | table_scan) target=1/2 ;;
		oltp_write_only | oltp_read_write | oltp_update_index | oltp_update_non_index | oltp_insert | oltp_delete) target=2/5 ;;
		*) target=- ;;
		esac
		for threads in $THREADS; do
			ctps=$(cell "$workload" "$threads" 5 cairn)
			mtps=$(cell "$workload" "$threads" 5 mariadb)
			cp95=$(cell "$workload" "$threads" 6 cairn)
			mp95=$(cell "$workload" "$threads" 6 mariadb)
			cerr=$(cell "$workload" "$threads" 7 cairn)
			merr=$(cell "$workload" "$threads" 7 mariadb)
			awk -v w="$workload" -v t="$threads" -v ct="$ctps" -v mt="$mtps" -v cp="$cp95" -v mp="$mp95" \
				-v ce="$cerr" -v me="$merr" -v tg="$target" 'BEGIN {
				r = mt > 0 ? ct / mt : 0
				if (tg == "-") met = "-"
				else { split(tg, f, "/"); met = (r >= f[1] / f[2]) ? "yes" : "**no**" }
				printf "| %s | %d | %.0f | %.0f | %.2f | %s | %s | %.2f | %.2f | %.1f / %.1f |\n",
					w, t, ct, mt, r, tg, met, cp, mp, ce, me
			}'
		done
	done
	echo
	echo "data directories after the runs: cairn $(du -sh "$W/cairn-data" | cut -f1), MariaDB $(du -sh "$M/data" | cut -f1)"
	# Every failed statement is in cairn's log: show them by statement and error code.
	failed=$(grep -o '"statement": "[^"]*", "code": [0-9]*' "$W/cairn.log" | sort | uniq -c | sort -rn | head -n 10 || true)
	if [ -n "$failed" ]; then
		echo "statements that failed on cairn (count, statement, code):"
		echo "$failed" | sed 's/^/    /'
	else
		echo "no statement failed on cairn"
	fi
} | tee "$W/results.md"
