#!/usr/bin/env bash
# Benchmark (figures, not pass/fail): session set-up rate.  Code-authenticated
# agent connections per second through the relay (full TLS handshake,
# `HELLO code=`, the code claimed in the database, WELCOME) against
# `openssl s_server`'s full-handshake rate with the same ECDSA P-256
# certificate and key; the relay's bare handshake rate (TLS only, closed
# unauthenticated) is shown too.  All measured by tests/bench/agent_swarm,
# one connection at a time and SETUP_PARALLEL at once, rounds alternating.
#   SETUP_CONNECTIONS (default 400, at most 800: one batch of codes)
#   SETUP_ROUNDS (default 3)  SETUP_PARALLEL (default 4)
# Progress on stderr; a Markdown section on stdout.  Builds nothing:
# `make bench-tools` first.
BIN=${BIN:-$(dirname "$0")/../../bin}
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/agent_bench_lib.sh"
N=${SETUP_CONNECTIONS:-400}
ROUNDS=${SETUP_ROUNDS:-3}
PAR=${SETUP_PARALLEL:-4}
[ "$N" -le 800 ] || { echo "bench_setup: SETUP_CONNECTIONS is at most 800 (one batch of codes)" >&2; exit 2; }

relay_fresh relay || { progress "relay did not start"; exit 1; }
server_start SS_PORT openssl s_server -cert "$STATE/certs/relay.pem" -key "$STATE/certs/relay.key" \
	-accept "127.0.0.1:@PORT@" -quiet -naccept 100000000 || { progress "s_server did not start"; exit 1; }

# rate ARGS...: agent_swarm's connections/s for ARGS ("n/a" when any failed).
rate() {
	local line
	line=$("$SWARM" --ca "$CA" --connections "$N" --json "$@" 2>"$WORK/swarm.err" | grep '"phase":"setup"')
	if [ "$(json_field "$line" failed)" != "0" ]; then
		progress "  failed: $(head -2 "$WORK/swarm.err")"
		echo n/a
		return
	fi
	json_field "$line" per_second
}

declare -A R
for round in $(seq 1 "$ROUNDS"); do
	for par in 1 "$PAR"; do
		codes_for "$N" >"$WORK/codes" || { progress "bench_codes failed"; exit 1; }
		hello=$(rate --relay "127.0.0.1:$AGENT_PORT" --codes "$WORK/codes" --parallel "$par")
		peer=$(rate --relay "127.0.0.1:$SS_PORT" --tls-only --parallel "$par")
		tls=$(rate --relay "127.0.0.1:$AGENT_PORT" --tls-only --parallel "$par")
		progress "round $round/$ROUNDS, $par in parallel: relay HELLO->WELCOME $hello/s, s_server $peer/s, relay TLS only $tls/s"
		R[hello$par]+=" $hello"; R[peer$par]+=" $peer"; R[tls$par]+=" $tls"
	done
done

row() { # PAR LABEL
	local h p t
	h=$(median ${R[hello$1]}); p=$(median ${R[peer$1]}); t=$(median ${R[tls$1]})
	echo "| $2 | $h | $p | $(ratio "$h" "$p") | $t | $(ratio "$t" "$p") |"
}
cat <<MD
## Session set-up rate

$N connections per measurement, $ROUNDS rounds alternating, loopback, release build,
one relay process. Each connection is a new TCP connection and a full TLS 1.3 handshake
(no resumption) made by tests/bench/agent_swarm, the agent's own dialler (pinned CA,
address checked). Ours: \`HELLO code=\` (codes from tests/bench/bench_codes), the code
claimed in the database (one SQLite transaction with its audit row, synchronous=FULL),
WELCOME received. Peer: \`$(openssl version | cut -d' ' -f1-2) s_server\` with the relay's own
ECDSA P-256 certificate and key, connection closed after the handshake. "Relay TLS
only": the same handshake-and-close against the relay's agent port.

| connections/s (median) | ours: HELLO->WELCOME | peer: s_server handshake | ours/peer | relay TLS only | TLS only/peer |
|---|---|---|---|---|---|
$(row 1 "one at a time")
$(row "$PAR" "$PAR in parallel")

Where the gap is: the relay's TLS handshake alone keeps pace with s_server; a session set-up
also claims the code, which is one SQLite transaction (the claim and its audit row) committed
with synchronous=FULL, i.e. at least one fsync, on the relay's event thread: a few ms on this
disk, and every other session waits meanwhile. What it would take: claims made on a database
thread (the core already defers recording fsyncs to server/fsync_pool), or the claims of one
loop turn committed in one transaction; both keep "a code works once" because the claim still
commits before WELCOME is sent.
MD
