# Helpers for the agent benchmarks (bench_scale.sh, bench_setup.sh), sourced
# after tests/e2e/lib.sh (temporary $WORK, free_port, write_config,
# wait_for_log).  Builds nothing: `make bench-tools` first.
#   BENCH_TOOLS  folder with agent_swarm and bench_codes (default build/rel/bench)
# A benchmark runs for minutes: it keeps its files in a folder of its own
# rather than one a sweep of stale /tmp/concierge-e2e.* folders may remove.
rmdir "$WORK" && WORK=$(mktemp -d --tmpdir --suffix=.concierge-bench) || exit 1
BENCH_TOOLS=$(cd "${BENCH_TOOLS:-$(dirname "${BASH_SOURCE[0]}")/../../build/rel/bench}" && pwd)
SWARM="$BENCH_TOOLS/agent_swarm"
CODES="$BENCH_TOOLS/bench_codes"
for t in "$SWARM" "$CODES" "$CONCIERGE" "$RELAY"; do
	[ -x "$t" ] || { echo "$t is not built: run 'make bench-tools'" >&2; exit 1; }
done
BENCH_PIDS=()
bench_cleanup() { # relays die at once: a SIGTERM would end thousands of sessions one by one
	for pid in "${BENCH_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
	e2e_cleanup
}
trap bench_cleanup EXIT

progress() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# relay_fresh NAME: a new state folder $WORK/NAME (init, desk user "bench"),
# a relay on free ports; sets RELAY_PID, AGENT_PORT, STATE, CA.
relay_fresh() {
	local dir="$WORK/$1" try
	mkdir -p "$dir/state"
	( cd "$dir" && write_config "$dir/concierge.conf" ) || return 1
	sed -i -e 's/^hostname = .*/hostname = 127.0.0.1/' -e 's/^code_ttl = .*/code_ttl = 3600/' \
		"$dir/concierge.conf"
	# Every benchmark connection comes from 127.0.0.1, and TLS-only ones end
	# without a code: lift the per-address abuse limits (peer_guard), which
	# are for hostile peers, not for measuring capacity.
	printf 'preauth_per_source = 256\npreauth_failures_per_source = 1000000\n' >>"$dir/concierge.conf"
	STATE="$dir/state"
	CA="$STATE/certs/ca.pem"
	( cd "$dir" && "$CONCIERGE" --config concierge.conf init >/dev/null &&
	  "$CONCIERGE" --config concierge.conf user add bench --role desk >/dev/null ) || return 1
	for try in 1 2 3; do # an SSH port taken after the agent port accepted ends the relay
		server_start AGENT_PORT bash -c 'cd "$1" && sed -i -e "s/^agent_listen = .*/agent_listen = 127.0.0.1:$2/" \
			-e "s/^ssh_listen = .*/ssh_listen = 127.0.0.1:$3/" concierge.conf &&
			exec "$4" --config concierge.conf 2>>relay.log' relay "$dir" @PORT@ @PORT2@ "$RELAY" || return 1
		RELAY_PID=$SERVER_PID
		wait_for_log "$dir/relay.log" "event=relay_started" 10 && kill -0 "$RELAY_PID" 2>/dev/null && return 0
		kill -9 "$RELAY_PID" 2>/dev/null
		: >"$dir/relay.log"
	done
	return 1
}

# server_start PORTVAR CMD...: runs CMD in the background, @PORT@ and @PORT2@
# in its words replaced by free ports, until it accepts on @PORT@; sets
# SERVER_PID and the variable PORTVAR.  A port picked free may be taken by
# the time the server binds it (other tests' outgoing connections use the
# same range): then it tries other ports, 5 times.
server_start() {
	local _var=$1 _try _port _port2 _i; shift
	for _try in 1 2 3 4 5; do
		_port=$(free_port); _port2=$(free_port)
		local -a _cmd=("${@//@PORT@/$_port}")
		"${_cmd[@]//@PORT2@/$_port2}" >>"$WORK/server.log" 2>&1 </dev/null &
		SERVER_PID=$!
		BENCH_PIDS+=("$SERVER_PID")
		for _i in $(seq 1 50); do
			kill -0 "$SERVER_PID" 2>/dev/null || break
			if (exec 3<>"/dev/tcp/127.0.0.1/$_port") 2>/dev/null; then
				printf -v "$_var" '%s' "$_port"
				return 0
			fi
			sleep 0.1
		done
		kill -9 "$SERVER_PID" 2>/dev/null
		progress "$1 start $_try failed: $(tail -1 "$WORK/server.log")"
	done
	return 1
}

relay_stop() { kill -9 "$RELAY_PID" 2>/dev/null; wait "$RELAY_PID" 2>/dev/null; }

# codes_for N: N codes for the current relay on stdout, in claimable batches.
codes_for() {
	local batch=()
	# More than can wait at once: batches, each once the previous one is
	# claimed (the reader must be an agent swarm on a pipe).
	[ "$1" -le 900 ] || batch=(--batch 500)
	"$CODES" --db "$STATE/concierge.db" --user bench --ticket INC0000001 --count "$1" "${batch[@]}"
}

rss_kib() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
# CPU seconds (user + system) a process has used so far.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.2f\n", ($12 + $13) / hz }' "/proc/$1/stat"; }

# median V...: the median of numbers (the mean of the middle two for an even count).
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a";
		else if (NR % 2) print v[(NR + 1) / 2]; else { m = (v[NR / 2] + v[NR / 2 + 1]) / 2;
		if (m == int(m)) print m; else printf "%.2f\n", m } }'
}

# ratio A B: A / B with two decimals ("n/a" when either is missing or B is 0).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0 || a == "n/a") print "n/a";
	else printf "%.2f\n", a / b }'; }

# json_field LINE KEY: a number field of agent_swarm's --json output.
json_field() { printf '%s\n' "$1" | sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p"; }
