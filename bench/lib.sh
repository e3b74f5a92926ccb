# Shared by the bench/ scripts: their working directory, and starting and stopping the servers
# they measure. Source it after setting ROOT (the checkout) and defining die.

# workdir NAME sets W, the working directory: OUT if set (it must be empty), else a new temporary
# directory cairn-NAME.XXXXXX.
workdir() {
	if [ -n "${OUT:-}" ]; then
		mkdir -p "$OUT"
		W=$(cd "$OUT" && pwd)
		[ -z "$(ls -A "$W")" ] || die "OUT=$OUT is not empty"
	else
		W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-$1.XXXXXX")
	fi
}

# build_cairn builds cairn from the checkout into $W unless CAIRN_BIN names a binary, and sets
# CAIRN_BIN and COMMIT (what the figures are of).
build_cairn() {
	COMMIT=$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
	if [ "$COMMIT" != unknown ] && ! git -C "$ROOT" diff --quiet HEAD -- 2>/dev/null; then
		COMMIT="$COMMIT (with uncommitted changes)"
	fi
	if [ -n "${CAIRN_BIN:-}" ]; then
		COMMIT="$CAIRN_BIN (prebuilt)"
		return
	fi
	echo "building cairn at $COMMIT ..." >&2
	(cd "$ROOT" && go build -o "$W/cairn" ./cmd/cairn)
	CAIRN_BIN=$W/cairn
}

# start_cairn PORT [ARG...] starts cairn sql-server with its data in $W/cairn-data, its output
# in $W/cairn.out and $W/cairn.log, and the further arguments; sets CAIRN_PID once it answers.
start_cairn() {
	local port=$1
	shift
	mkdir -p "$W/cairn-data"
	"$CAIRN_BIN" sql-server --data-dir "$W/cairn-data" -P "$port" "$@" >"$W/cairn.out" 2>"$W/cairn.log" &
	CAIRN_PID=$!
	wait_ready cairn "$port" "$CAIRN_PID" "$W/cairn.log"
}

# stop ends one server a script started: SIGTERM, then SIGKILL after 30 s.
stop() {
	local pid=$1
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 300); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# free_port prints a loopback TCP port nobody listens on now (other than $1).
free_port() {
	local p
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 40000))
		[ "$p" != "${1:-}" ] || continue
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	die "no free port found"
}

# client runs the mariadb command-line client against the server on port $1.
client() {
	local port=$1
	shift
	mariadb --no-defaults -h127.0.0.1 -P"$port" -uroot --skip-ssl "$@"
}

# wait_ready waits until the server on port $2 (process $3, log $4) answers.
wait_ready() {
	local name=$1 port=$2 pid=$3 log=$4
	for _ in $(seq 600); do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "$name exited at start; its log ($log):" >&2
			tail -n 30 "$log" >&2
			exit 1
		fi
		client "$port" -N -e 'SELECT 1' >/dev/null 2>&1 && return
		sleep 0.1
	done
	echo "$name did not answer on port $port within 60 s; its log ($log):" >&2
	tail -n 30 "$log" >&2
	exit 1
}

# start_mariadb starts a private MariaDB with its data in $W/mariadb on port $1, with an
# InnoDB buffer pool of $2, and sets MARIADB_PID and M (its directory). Durable at every
# commit (innodb_flush_log_at_trx_commit=1, the default), no binary log (cairn has none).
start_mariadb() {
	local port=$1 pool=$2
	M=$W/mariadb
	mkdir -p "$M"
	mariadb-install-db --no-defaults --datadir="$M/data" --user=root \
		--auth-root-authentication-method=normal --skip-test-db >"$M/install.log" 2>&1 ||
		{ tail -n 30 "$M/install.log" >&2; die "mariadb-install-db failed"; }
	mariadbd --no-defaults --datadir="$M/data" --user=root --bind-address=127.0.0.1 \
		--port="$port" --socket="$M/sock" --pid-file="$M/pid" --skip-log-bin \
		--innodb-buffer-pool-size="$pool" --max-connections=200 \
		--log-error="$M/err.log" >"$M/stdout.log" 2>&1 &
	MARIADB_PID=$!
	wait_ready MariaDB "$port" "$MARIADB_PID" "$M/err.log"
}

# median prints the median of the numbers on standard input, one per line.
median() {
	sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# quiesce waits (at most 120 s) until each of the processes $@ uses less than 5 % of a core over a
# second, so that a measurement does not share the machine with a server's background work
# (Pebble's compactions, garbage collection) left by the previous step.
quiesce() {
	local pid busy ticks=$(getconf CLK_TCK)
	cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
	for _ in $(seq 120); do
		busy=0
		for pid in "$@"; do
			local a b
			a=$(cpu_ticks "$pid")
			sleep 1
			b=$(cpu_ticks "$pid")
			[ $(((b - a) * 100)) -lt $((ticks * 5)) ] || busy=1
		done
		[ "$busy" -eq 1 ] || return 0
	done
	echo "quiesce: still busy after 120 s: $*" >&2
}
