#!/usr/bin/env bash
# Backup benchmarks (issue #5), each figure side by side with its reference
# from the same run, on a database holding one sysbench table of ROWS rows:
#
#   full sync      CALL dolt_backup('sync-url', new dir)  vs  cp -r of the database directory
#   restore        CALL dolt_backup('restore', ...)       vs  the same cp -r
#   first after    the first CALL dolt_backup('sync', 'b1') after the full sync (one changed row)
#   incremental    CALL dolt_backup('sync', 'b1') after changing one row: time and bytes added
#   under load     sysbench oltp_read_only alone, and during each of: a 1-row change and a sync of
#                  the backup every second (continuous incremental backup, the target's case);
#                  syncs back to back in one session; a SELECT 1 loop in one session (what any
#                  back-to-back client loop costs the queries on this machine); full syncs back to back
#   size           the backup's size vs the database directory's
#
#   bench/backup.sh                      # 1,000,000 rows, 3 runs: about 10 minutes
#   ROWS=100000 RUNS=1 TIME=10 bench/backup.sh   # a smoke test
#
# Settings (environment): ROWS=1000000, RUNS=3 (medians of this many), TIME=30 (seconds of
# each sysbench run), THREADS=2 (sysbench threads), CAIRN_BIN= (a prebuilt binary), OUT= (keep
# everything in this directory). Needs Go, sysbench and the mariadb client
# (apt-get install sysbench mariadb-client), and about 4 GB free in $TMPDIR at 1,000,000 rows.
#
# cp reads the same files from the page cache that the sync reads (it runs first, once
# unmeasured, to warm it), and writes to the same file system; neither syncs its files to disk
# except the backup, which fsyncs every pack and its manifest, as a backup must.
set -euo pipefail

ROWS=${ROWS:-1000000}
RUNS=${RUNS:-3}
TIME=${TIME:-30}
THREADS=${THREADS:-2}
CAIRN_BIN=${CAIRN_BIN:-}
OUT=${OUT:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)

die() {
	echo "backup.sh: $*" >&2
	exit 1
}
for tool in sysbench mariadb; do
	command -v "$tool" >/dev/null 2>&1 || die "missing $tool (apt-get install sysbench mariadb-client)"
done
for n in "$ROWS" "$RUNS" "$TIME" "$THREADS"; do
	[[ "$n" =~ ^[1-9][0-9]*$ ]] || die "ROWS, RUNS, TIME and THREADS must be positive whole numbers (got '$n')"
done

. "$ROOT/bench/lib.sh"
workdir backup-bench
CAIRN_PID=
LOOP_PID=
cleanup() {
	local rc=$?
	[ -z "$LOOP_PID" ] || kill "$LOOP_PID" 2>/dev/null || true
	stop "$CAIRN_PID"
	if [ -z "$OUT" ]; then
		[ "$rc" -eq 0 ] || tail -n 30 "$W/cairn.log" >&2 || true
		rm -rf "$W"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

build_cairn
PORT=$(free_port)
start_cairn "$PORT" --loglevel warn
# sql runs the mariadb client against cairn.
sql() { client "$PORT" "$@"; }

SB=(--mysql-host=127.0.0.1 --mysql-port="$PORT" --mysql-user=root --mysql-db=sbtest --tables=1 --table-size="$ROWS" --db-ps-mode=auto)
sql -e 'CREATE DATABASE sbtest'
t0=$(date +%s.%N)
sysbench oltp_read_only "${SB[@]}" prepare >"$W/prepare.txt" 2>&1 || die "sysbench prepare failed: $(tail -n 5 "$W/prepare.txt")"
echo "loaded $ROWS rows in $(echo "$(date +%s.%N) - $t0" | bc | xargs printf '%.0f') s" >&2

DB=$W/cairn-data/sbtest
# now prints the time in seconds, with nanoseconds.
now() { date +%s.%N; }
# since prints the seconds since $1.
since() { echo "$(now) - $1" | bc; }
# call runs CALL dolt_backup(...) and prints how long it took, measured in the server's
# session (no client start-up), in seconds.
call() {
	sql -N sbtest -e "SET @t = NOW(6); CALL dolt_backup($1); SELECT TIMESTAMPDIFF(MICROSECOND, @t, NOW(6)) / 1e6" | tail -n 1
}
bytes() { du -sb "$1" | cut -f1; }
mb() { echo "$1" | awk '{printf "%.1f MB", $1/1e6}'; }

# Wait for the compactions that follow the load: cp must not copy a directory whose
# files come and go (at most two minutes).
settled=0
for _ in $(seq 120); do
	before=$(ls "$DB/.cairn/store")
	sleep 1
	if [ "$before" = "$(ls "$DB/.cairn/store")" ]; then
		settled=$((settled + 1))
		[ "$settled" -lt 5 ] || break
	else
		settled=0
	fi
done
cp -r "$DB" "$W/cp-warm" && rm -rf "$W/cp-warm" # warm the page cache for both
# quiet lets the disk finish what the last step wrote and deleted (this file system discards
# freed blocks), so that each timed step, cp's or cairn's, starts on an idle disk.
quiet() {
	sync
	sleep 2
}
# Three times RUNS: a run takes seconds, and this disk's times vary from one to the next.
: >"$W/cp.txt" >"$W/cpsync.txt" >"$W/sync.txt" >"$W/restore.txt"
for i in $(seq $((RUNS * 3))); do
	quiet
	t=$(now)
	cp -r "$DB" "$W/cp-$i"
	since "$t" >>"$W/cp.txt"
	rm -rf "$W/cp-$i"
	quiet
	t=$(now)
	cp -r "$DB" "$W/cp-$i" && sync -f "$W/cp-$i"
	since "$t" >>"$W/cpsync.txt"
	rm -rf "$W/cp-$i"
	quiet
	call "'sync-url', 'file://$W/full-$i'" >>"$W/sync.txt"
	quiet
	call "'restore', 'file://$W/full-$i', 'restored$i'" >>"$W/restore.txt"
	sql -e "DROP DATABASE restored$i"
	if [ "$i" -gt 1 ]; then rm -rf "$W/full-$i"; fi
	echo "run $i: cp $(tail -n1 "$W/cp.txt") s, sync $(tail -n1 "$W/sync.txt") s, restore $(tail -n1 "$W/restore.txt") s" >&2
done
DB_SIZE=$(bytes "$DB")
BACKUP_SIZE=$(bytes "$W/full-1")

# Incremental: one changed row, then a sync of the configured backup.
sql sbtest -e "CALL dolt_backup('add', 'b1', 'file://$W/full-1')" >/dev/null
# The first sync after the full sync walks the base's refs once (docs/backups.md "The base").
sql -N sbtest -e "UPDATE sbtest1 SET c = 'changed 0' WHERE id = 1" >/dev/null
FIRST_INCR=$(call "'sync', 'b1'")
: >"$W/incr.txt" >"$W/incr-bytes.txt"
for i in $(seq $((RUNS * 3))); do
	changed=$(sql -N sbtest -e "UPDATE sbtest1 SET c = 'changed $i $RANDOM' WHERE id = $(((RANDOM * 32768 + RANDOM) % ROWS + 1)); SELECT ROW_COUNT()")
	[ "$changed" = 1 ] || die "the update changed $changed rows, not 1"
	before=$(bytes "$W/full-1")
	call "'sync', 'b1'" >>"$W/incr.txt"
	echo $(($(bytes "$W/full-1") - before)) >>"$W/incr-bytes.txt"
done

# oltp_read_only alone, and during each kind of sync loop:
#   paced   every second, one changed row and CALL dolt_backup('sync', 'b1'): continuous
#           incremental backup, each sync copying a change
#   b1      CALL dolt_backup('sync', 'b1') back to back in one session (each finds nothing
#           changed: the workload only reads)
#   select1 SELECT 1 back to back in one session: the share of the 2 cores any client loop
#           takes from the queries, whatever it runs (the floor for b1)
#   full    full syncs back to back, each to a new directory (the worst case: every sync
#           copies the whole database)
sync_loop() {
	local n=0
	case $1 in
	b1)
		# One session, CALL after CALL: no client start-up between them.
		yes "CALL dolt_backup('sync', 'b1');" | sql sbtest >/dev/null 2>&1 || true
		;;
	select1)
		yes "SELECT 1;" | sql sbtest >/dev/null 2>&1 || true
		;;
	paced)
		while :; do
			n=$((n + 1))
			sleep 1
			echo "UPDATE sbtest1 SET c = 'paced $n' WHERE id = $(((RANDOM * 32768 + RANDOM) % ROWS + 1)); CALL dolt_backup('sync', 'b1');"
		done | sql sbtest >/dev/null 2>&1 || true
		;;
	full)
		while :; do
			n=$((n + 1))
			sql sbtest -e "CALL dolt_backup('sync-url', 'file://$W/loop-$n')" >/dev/null 2>&1 || true
			rm -rf "$W/loop-$n"
			echo "$n" >"$W/loop-count"
		done
		;;
	esac
}
KINDS="paced b1 select1 full"
: >"$W/ro-alone.txt"
for kind in $KINDS; do : >"$W/ro-$kind.txt"; done
tps() { grep 'transactions:' "$1" | sed 's/.*(\([0-9.]*\) per sec.*/\1/'; }
for i in $(seq "$RUNS"); do
	sysbench oltp_read_only "${SB[@]}" --threads="$THREADS" --time="$TIME" run >"$W/ro-alone-$i.out" 2>&1
	tps "$W/ro-alone-$i.out" >>"$W/ro-alone.txt"
	line="run $i: oltp_read_only $(tail -n1 "$W/ro-alone.txt") tps alone"
	for kind in $KINDS; do
		echo 0 >"$W/loop-count"
		sync_loop "$kind" &
		LOOP_PID=$!
		sysbench oltp_read_only "${SB[@]}" --threads="$THREADS" --time="$TIME" run >"$W/ro-$kind-$i.out" 2>&1
		pkill -P "$LOOP_PID" 2>/dev/null || true
		kill "$LOOP_PID" 2>/dev/null || true
		wait "$LOOP_PID" 2>/dev/null || true
		LOOP_PID=
		tps "$W/ro-$kind-$i.out" >>"$W/ro-$kind.txt"
		line="$line, $(tail -n1 "$W/ro-$kind.txt") during $kind"
	done
	[ "$(cat "$W/loop-count")" -gt 0 ] || die "no full sync finished during the load run"
	echo "$line ($(cat "$W/loop-count") full syncs)" >&2
done

CP=$(median <"$W/cp.txt")
CPSYNC=$(median <"$W/cpsync.txt")
SYNC=$(median <"$W/sync.txt")
RESTORE=$(median <"$W/restore.txt")
INCR=$(median <"$W/incr.txt")
INCR_BYTES=$(median <"$W/incr-bytes.txt")
RO=$(median <"$W/ro-alone.txt")
RO_PACED=$(median <"$W/ro-paced.txt")
RO_B1=$(median <"$W/ro-b1.txt")
RO_SELECT1=$(median <"$W/ro-select1.txt")
RO_FULL=$(median <"$W/ro-full.txt")
ratio() { echo "$1 $2" | awk '{printf "%.2f", $1/$2}'; }

cat <<TABLE
cairn backup benchmark: $ROWS rows (sysbench sbtest1), medians of $RUNS runs ($((RUNS * 3)) for full syncs, restores and incremental syncs), $(nproc) cores
database directory $(mb "$DB_SIZE"), backup $(mb "$BACKUP_SIZE") (ratio $(ratio "$BACKUP_SIZE" "$DB_SIZE"))

| measure | cairn | reference | ratio | target |
|---|---|---|---|---|
| full sync | $(printf '%.2f' "$SYNC") s | cp -r $(printf '%.2f' "$CP") s | $(ratio "$SYNC" "$CP") | ≤ 2 (issue 10; 5 in issue 5) |
| full sync | $(printf '%.2f' "$SYNC") s | cp -r, then sync -f (durable, as the backup is) $(printf '%.2f' "$CPSYNC") s | $(ratio "$SYNC" "$CPSYNC") | |
| restore | $(printf '%.2f' "$RESTORE") s | cp -r $(printf '%.2f' "$CP") s | $(ratio "$RESTORE" "$CP") | ≤ 2 (issue 10; 5 in issue 5) |
| first sync after the full sync, 1 row changed (walks the base's refs once) | $(printf '%.2f' "$FIRST_INCR") s | | | |
| incremental sync, 1 row changed | $(echo "$INCR" | awk '{printf "%.1f ms", $1*1000}') | | | ≤ 50 ms |
| bytes added by it | $(echo "$INCR_BYTES" | awk '{printf "%.1f KiB", $1/1024}') | | | ≤ 64 KiB |
| oltp_read_only ($THREADS threads) during a 1-row change and a sync of b1 every second | $(printf '%.0f' "$RO_PACED") tps | alone $(printf '%.0f' "$RO") tps | $(ratio "$RO_PACED" "$RO") | ≥ 0.90 |
| oltp_read_only ($THREADS threads) during syncs of b1 back to back | $(printf '%.0f' "$RO_B1") tps | alone $(printf '%.0f' "$RO") tps | $(ratio "$RO_B1" "$RO") | |
| oltp_read_only ($THREADS threads) during syncs of b1 back to back | $(printf '%.0f' "$RO_B1") tps | during SELECT 1 back to back $(printf '%.0f' "$RO_SELECT1") tps | $(ratio "$RO_B1" "$RO_SELECT1") | |
| oltp_read_only ($THREADS threads) during a loop of full syncs | $(printf '%.0f' "$RO_FULL") tps | alone $(printf '%.0f' "$RO") tps | $(ratio "$RO_FULL" "$RO") | |
TABLE
