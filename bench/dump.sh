#!/usr/bin/env bash
# mariadb-dump and memory benchmarks (issue 10), cairn side by side with a private MariaDB in
# one run, on one sysbench table of ROWS rows loaded into both:
#
#   dump     mariadb-dump of the database from each server, to a file (RUNS times, alternating)
#   load     each server's dump loaded into a new database on the same server (cairn's dump
#            names MySQL 8's collation utf8mb4_0900_bin, which MariaDB does not know)
#   memory   the servers' resident memory while sysbench serves CONNS connections on the table:
#            oltp_read_only, then oltp_read_write, TIME seconds each; the peak (VmHWM, reset
#            before each run) and the largest of the once-a-second samples of VmRSS
#
#   bench/dump.sh                        # 1,000,000 rows, 3 runs: about 15 minutes
#   ROWS=100000 RUNS=1 TIME=5 bench/dump.sh   # a smoke test
#
# Settings (environment): ROWS=1000000, RUNS=3 (medians of this many), TIME=30 (seconds of each
# memory run), CONNS=16, BUFFER_POOL=1G (MariaDB's innodb_buffer_pool_size and cairn's
# --cache-size, the same budget: the table is about 240 MB in InnoDB and 280 MB in cairn at
# 1,000,000 rows, so both hold it whole),
# CAIRN_BIN= (a prebuilt binary), OUT= (keep everything in this directory).
# Needs Go, sysbench, mariadb-server and mariadb-client, and about 3 GB free at 1,000,000 rows.
#
# Both dumps are checked to hold the same rows (their INSERT lines hash alike), and every load
# is checked to hold ROWS rows. Both servers are durable at every commit; mariadb-dump and the
# mariadb client run with their defaults (--opt: extended inserts, LOCK TABLES) on the same
# machine as the servers.
set -euo pipefail

ROWS=${ROWS:-1000000}
RUNS=${RUNS:-3}
TIME=${TIME:-30}
CONNS=${CONNS:-16}
BUFFER_POOL=${BUFFER_POOL:-1G}
CAIRN_BIN=${CAIRN_BIN:-}
OUT=${OUT:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)

die() {
	echo "dump.sh: $*" >&2
	exit 1
}
for tool in sysbench mariadbd mariadb-install-db mariadb mariadb-dump; do
	command -v "$tool" >/dev/null 2>&1 || die "missing $tool (apt-get install sysbench mariadb-server mariadb-client)"
done
for n in "$ROWS" "$RUNS" "$TIME" "$CONNS"; do
	[[ "$n" =~ ^[1-9][0-9]*$ ]] || die "ROWS, RUNS, TIME and CONNS must be positive whole numbers (got '$n')"
done

. "$ROOT/bench/lib.sh"
workdir dump-bench

CAIRN_PID=
MARIADB_PID=
cleanup() {
	local rc=$?
	stop "$CAIRN_PID"
	stop "$MARIADB_PID"
	if [ -z "$OUT" ]; then
		[ "$rc" -eq 0 ] || tail -n 30 "$W/cairn.log" >&2 || true
		rm -rf "$W"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

build_cairn
CAIRN_PORT=$(free_port)
start_cairn "$CAIRN_PORT" --loglevel warn --cache-size "$BUFFER_POOL"
MARIADB_PORT=$(free_port "$CAIRN_PORT")
start_mariadb "$MARIADB_PORT" "$BUFFER_POOL"

port_of() { if [ "$1" = cairn ]; then echo "$CAIRN_PORT"; else echo "$MARIADB_PORT"; fi; }
pid_of() { if [ "$1" = cairn ]; then echo "$CAIRN_PID"; else echo "$MARIADB_PID"; fi; }
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
sb() {
	local server=$1
	shift
	sysbench "$@" --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$(port_of "$server")" \
		--mysql-user=root --mysql-password= --mysql-db=sbtest --tables=1 --table-size="$ROWS" --db-ps-mode=auto
}

for server in cairn mariadb; do
	client "$(port_of "$server")" -e 'CREATE DATABASE sbtest'
	t=$(now)
	sb "$server" oltp_read_write --threads=1 prepare >"$W/prepare-$server.txt" 2>&1 ||
		die "sysbench prepare failed on $server: $(tail -n 5 "$W/prepare-$server.txt")"
	echo "loaded $ROWS rows into $server in $(since "$t" | xargs printf '%.1f') s" >&2
done

# dump writes server $1's sbtest with mariadb-dump to file $2 and prints the seconds it took.
dump() {
	local t
	t=$(now)
	mariadb-dump --no-defaults -h127.0.0.1 -P"$(port_of "$1")" -uroot --skip-ssl sbtest >"$2" ||
		die "mariadb-dump failed against $1"
	since "$t"
}
# rows_hash prints a hash of the INSERT lines of dump file $1: the rows, in order.
rows_hash() { grep '^INSERT INTO' "$1" | sha256sum | cut -c1-16; }

# Once each, unmeasured: both servers' caches hold the table, as they will for every run.
for server in cairn mariadb; do dump "$server" "$W/dump-$server.sql" >/dev/null; done
[ "$(rows_hash "$W/dump-cairn.sql")" = "$(rows_hash "$W/dump-mariadb.sql")" ] ||
	die "the dumps of cairn and MariaDB hold different rows: see $W/dump-*.sql"
DUMP_BYTES=$(stat -c %s "$W/dump-cairn.sql")

: >"$W/dump-cairn.txt" >"$W/dump-mariadb.txt" >"$W/load-cairn.txt" >"$W/load-mariadb.txt"
# Dumps first, then loads: a load leaves both servers busy in the background for a while (and the
# dropped database's space to collect), and each measurement starts on a quiet machine (quiesce).
for i in $(seq "$RUNS"); do
	if [ $((i % 2)) -eq 1 ]; then order="cairn mariadb"; else order="mariadb cairn"; fi
	for server in $order; do
		quiesce "$CAIRN_PID" "$MARIADB_PID"
		dump "$server" "$W/dump-$server.sql" >>"$W/dump-$server.txt"
	done
	[ "$(rows_hash "$W/dump-cairn.sql")" = "$(rows_hash "$W/dump-mariadb.sql")" ] ||
		die "run $i: the dumps of cairn and MariaDB hold different rows"
	echo "run $i: dump cairn $(tail -n1 "$W/dump-cairn.txt") s, MariaDB $(tail -n1 "$W/dump-mariadb.txt") s" >&2
done
for i in $(seq "$RUNS"); do
	if [ $((i % 2)) -eq 1 ]; then order="cairn mariadb"; else order="mariadb cairn"; fi
	for server in $order; do
		port=$(port_of "$server")
		client "$port" -e 'DROP DATABASE IF EXISTS sbload; CREATE DATABASE sbload'
		quiesce "$CAIRN_PID" "$MARIADB_PID"
		t=$(now)
		client "$port" sbload <"$W/dump-$server.sql" || die "loading the dump into $server failed"
		since "$t" >>"$W/load-$server.txt"
		n=$(client "$port" -N sbload -e 'SELECT COUNT(*) FROM sbtest1')
		[ "$n" = "$ROWS" ] || die "run $i: $server holds $n rows after loading the dump, not $ROWS"
	done
	echo "run $i: load cairn $(tail -n1 "$W/load-cairn.txt") s, MariaDB $(tail -n1 "$W/load-mariadb.txt") s" >&2
done
client "$CAIRN_PORT" -e 'DROP DATABASE sbload'
client "$MARIADB_PORT" -e 'DROP DATABASE sbload'

# mem runs sysbench workload $2 with CONNS threads against server $1 and prints
# "peak_kib max_sampled_kib tps": VmHWM is reset first (clear_refs 5).
mem() {
	local server=$1 workload=$2 pid sbpid max=0 rss
	pid=$(pid_of "$server")
	echo 5 >"/proc/$pid/clear_refs"
	sb "$server" "$workload" --threads="$CONNS" --time="$TIME" run >"$W/mem-$server-$workload.txt" 2>&1 &
	sbpid=$!
	while kill -0 "$sbpid" 2>/dev/null; do
		rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
		[ "$rss" -le "$max" ] || max=$rss
		sleep 1
	done
	wait "$sbpid" || die "sysbench $workload failed on $server: $(tail -n 5 "$W/mem-$server-$workload.txt")"
	echo "$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status") $max $(grep 'transactions:' "$W/mem-$server-$workload.txt" | sed 's/.*(\([0-9.]*\) per sec.*/\1/')"
}
for server in cairn mariadb; do
	for workload in oltp_read_only oltp_read_write; do
		quiesce "$CAIRN_PID" "$MARIADB_PID"
		read -r peak sampled tps < <(mem "$server" "$workload")
		echo "$server $workload $peak $sampled $tps" >>"$W/mem.txt"
		echo "memory: $server, $workload with $CONNS connections: peak $((peak / 1024)) MiB, $tps tps" >&2
	done
done

ratio() { echo "$1 $2" | awk '{printf "%.2f", $1/$2}'; }
secs() { printf '%.2f s' "$1"; }
DC=$(median <"$W/dump-cairn.txt")
DM=$(median <"$W/dump-mariadb.txt")
LC=$(median <"$W/load-cairn.txt")
LM=$(median <"$W/load-mariadb.txt")
mib() { awk -v k="$1" 'BEGIN { printf "%.0f MiB", k / 1024 }'; }
memrow() {
	local c m
	c=$(awk -v w="$1" '$1 == "cairn" && $2 == w' "$W/mem.txt")
	m=$(awk -v w="$1" '$1 == "mariadb" && $2 == w' "$W/mem.txt")
	set -- $c $m
	echo "| RSS, $2 with $CONNS connections (peak; largest sample) | $(mib "$3"); $(mib "$4") ($5 tps) | $(mib "$8"); $(mib "$9") (${10} tps) | $(ratio "$3" "$8") | < 1 GiB (cairn) |"
}

cat <<TABLE
mariadb-dump and memory: $ROWS rows (sysbench sbtest1), cairn $COMMIT against MariaDB $(client "$MARIADB_PORT" -N -e 'SELECT VERSION()')
$(mariadb-dump --version); medians of $RUNS runs; $(nproc) cores; dump file $(awk -v b="$DUMP_BYTES" 'BEGIN { printf "%.1f MB", b / 1e6 }')

| measure | cairn | MariaDB | cairn/MariaDB | target |
|---|--:|--:|--:|--:|
| mariadb-dump | $(secs "$DC") | $(secs "$DM") | $(ratio "$DC" "$DM") | ≤ 1.2 |
| loading the dump (mariadb < dump) | $(secs "$LC") | $(secs "$LM") | $(ratio "$LC" "$LM") | ≤ 1.5 |
$(memrow oltp_read_only)
$(memrow oltp_read_write)
TABLE
