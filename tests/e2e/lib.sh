# Helpers for end-to-end tests: each test script sources this, gets a fresh
# temporary work folder ($WORK, removed on exit) and reports TAP-style lines
# ("ok - ..." / "not ok - ...") that tests/run.sh counts.
set -u
BIN=$(cd "${BIN:?set BIN to the folder with the built programs}" && pwd)
CONCIERGE="$BIN/concierge"
RELAY="$BIN/concierge-relay"
AGENT="$BIN/concierge-agent"
WORK=$(mktemp -d /tmp/concierge-e2e.XXXXXX)
E2E_FAILED=0
E2E_PIDS=()

e2e_cleanup() {
	for pid in "${E2E_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${E2E_KEEP:-}" ] || rm -rf "$WORK"
}
trap e2e_cleanup EXIT

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; E2E_FAILED=1; }

# check NAME CONDITION...: runs the condition (a command), reports ok/not ok.
check() {
	local name=$1; shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# run_cmd CMD...: runs it, keeping stdout in $OUT, stderr in $ERR, status in $RC.
run_cmd() {
	"$@" >"$WORK/.out" 2>"$WORK/.err"
	RC=$?
	OUT=$(cat "$WORK/.out")
	ERR=$(cat "$WORK/.err")
}

# expect NAME EXIT_CODE PATTERN CMD...: status must equal EXIT_CODE and
# stdout+stderr must match the extended regex PATTERN ("" matches anything).
expect() {
	local name=$1 code=$2 pattern=$3; shift 3
	run_cmd "$@"
	if [ "$RC" -ne "$code" ]; then
		not_ok "$name (exit $RC, wanted $code; stderr: ${ERR:0:300})"
	elif [ -n "$pattern" ] && ! printf '%s\n%s\n' "$OUT" "$ERR" | grep -Eq -- "$pattern"; then
		not_ok "$name (output lacks /$pattern/: ${OUT:0:200} ${ERR:0:300})"
	else
		ok "$name"
	fi
}

# A TCP port on 127.0.0.1 that nothing listens on now.  Picked below the
# kernel's ephemeral range: a port there may be the local end of some
# outgoing connection (thousands in the load tests), which a listener
# cannot bind although nothing listens on it.
free_port() {
	local port low
	low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
	[ "${low:-0}" -gt 12000 ] || low=61000
	for _ in $(seq 1 200); do
		port=$((10000 + RANDOM % (low - 10000)))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return 0
		fi
	done
	return 1
}

# wait_for_log FILE PATTERN SECONDS: waits until FILE has a line matching PATTERN.
wait_for_log() {
	local file=$1 pattern=$2 deadline=$((SECONDS + $3))
	while [ $SECONDS -lt $deadline ]; do
		grep -Eq -- "$pattern" "$file" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# wait_exit PID SECONDS: waits for a background child; its status in $RC (124 on timeout).
wait_exit() {
	local pid=$1 deadline=$((SECONDS + $2))
	while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then RC=124; kill -9 "$pid"; wait "$pid" 2>/dev/null; return 1; fi
	wait "$pid"; RC=$?
	return 0
}

# write_config FILE: a config keeping all state under $WORK/state with free ports.
write_config() {
	mkdir -p "$WORK/state"
	cat >"$1" <<CONF
# end-to-end test config
database = state/concierge.db
certs_dir = state/certs
recordings_dir = state/recordings
agent_listen = 127.0.0.1:$(free_port)
ssh_listen = 127.0.0.1:$(free_port)
hostname = relay.test.example
code_ttl = 120
CONF
}

e2e_done() { exit $E2E_FAILED; }
