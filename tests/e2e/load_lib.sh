# Helpers for the load and fault tests (sourced after lib.sh and
# screen_lib.sh): the load generators of tests/bench/, a relay allowed as many
# descriptors as the machine gives, and its resident memory sampled over time.
BENCH=$(cd "$TOOLS/../bench" && pwd)
LOAD_AGENT="$BENCH/load_agent"
LOAD_PARTICIPANT="$BENCH/load_participant"
BENCH_CODES="$BENCH/bench_codes"

# Under ASan+UBSan (build/san) everything runs several times slower: the
# defaults shrink by this factor so the sanitized suite stays within CI's time.
if [[ $BIN == */build/san/* ]]; then SANITIZED=1; else SANITIZED=0; fi
scaled() { # DEFAULT: the default, divided by 4 under the sanitizers (at least 10)
	local n=$1
	[ "$SANITIZED" = 1 ] && n=$((n / 4 < 10 ? 10 : n / 4))
	echo "$n"
}

# Hundreds of agents and their streams all come from 127.0.0.1: lift the
# per-address pre-authentication limits (server/peer_guard), which are for
# hostile peers (tests/e2e/test_hostile_peers.sh keeps them).  The limit on
# all pending connections of a port (PREAUTH_MAX_CONNECTIONS) stays, so the
# generators pace their dials (load_agent and load_participant --parallel).
RELAY_CONFIG_EXTRA=$'preauth_per_source = 256\npreauth_failures_per_source = 1000000\n'

# Every relay, agent and participant needs several descriptors per session:
# take the hard limit (the relay started from here inherits it).
raise_fd_limit() {
	ulimit -n "$(ulimit -Hn)" 2>/dev/null
	ulimit -n
}

# rss_start PID FILE: samples the process's VmRSS (KiB) every RSS_INTERVAL
# seconds into FILE as "SECONDS_SINCE_EPOCH KIB" until it exits; sets RSS_PID.
rss_start() {
	local pid=$1 file=$2
	(
		while [ -r "/proc/$pid/status" ]; do
			kib=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
			[ -n "$kib" ] && echo "$(date +%s.%N) $kib"
			sleep "${RSS_INTERVAL:-0.5}"
		done
	) >"$file" &
	RSS_PID=$!
	E2E_PIDS+=($RSS_PID)
}

rss_stop() { kill "$RSS_PID" 2>/dev/null; wait "$RSS_PID" 2>/dev/null; }

# rss_flat FILE FROM TO: the samples taken between FROM and TO (epoch
# seconds) split in thirds; prints "samples first_mean last_mean max growth%"
# and succeeds when the last third's mean is within RSS_FLAT_PCT (default 10)
# percent of the first third's, plus RSS_SLACK_KIB (default 4096) for
# allocator noise when the relay is small.  Fails with too few samples.
rss_flat() {
	awk -v from="$2" -v to="$3" -v pct="${RSS_FLAT_PCT:-10}" -v slack="${RSS_SLACK_KIB:-4096}" '
		$1 >= from && $1 <= to { v[n++] = $2; if ($2 > max) max = $2 }
		END {
			if (n < 6) { printf "samples=%d (too few)\n", n; exit 1 }
			t = int(n / 3)
			for (i = 0; i < t; i++) { a += v[i]; b += v[n - t + i] }
			a /= t; b /= t
			printf "samples=%d first_third_mean_kib=%.0f last_third_mean_kib=%.0f max_kib=%d growth_pct=%.1f\n",
			       n, a, b, max, (b - a) * 100 / a
			exit !(b <= a * (1 + pct / 100) + slack)
		}' "$1"
}

# json_num FILE KEY: the first number after "KEY": in a JSON file.
json_num() { grep -o "\"$2\": *[0-9.]*" "$1" | head -1 | sed 's/.*: *//'; }

# wait_for_count SQL N SECONDS: until the query's number reaches N.
wait_for_count() {
	local deadline=$((SECONDS + $3)) n
	while [ $SECONDS -lt $deadline ]; do
		n=$(sqlite3 state/concierge.db "$1" 2>/dev/null)
		[ "${n:-0}" -ge "$2" ] && return 0
		sleep 0.5
	done
	return 1
}

# epoch_of_log FILE PATTERN [last]: epoch seconds of the first (or last)
# matching line of a relay log (its ts= field).
epoch_of_log() {
	local line
	if [ "${3:-}" = last ]; then line=$(grep -E -- "$2" "$1" | tail -1); else line=$(grep -m1 -E -- "$2" "$1"); fi
	[ -n "$line" ] || return 1
	line=${line#ts=}
	date -d "${line%% *}" +%s.%N
}

# show_failures FILE [N]: the first N (default 5) lines of a generator's
# stderr or report that name a failure, as "# " comments for the CI log.
show_failures() {
	grep -m "${2:-5}" -E 'fail|could not|refus|denied|timeout|not ' "$1" 2>/dev/null | sed 's/^/# /'
}
