#!/usr/bin/env bash
# Benchmark (figures, not pass/fail): connected idle agents and the relay's
# resident memory per agent, against haproxy holding as many idle TLS
# connections.  Each round: a fresh relay, SCALE_AGENTS code-authenticated
# agents (agent_swarm, PING answered), VmRSS before and after / agents; then
# haproxy (same certificate, TLS terminated, connections held in a content
# inspection delay, no backend) with as many TLS-only connections.
#   SCALE_AGENTS (default 10000)  SCALE_ROUNDS (default 3)  SCALE_HOLD_S (default 35)
# haproxy wants two descriptors per allowed connection: where the limit is
# too low for that it holds fewer connections (the table says how many).
# Progress on stderr; a Markdown section on stdout.  Builds nothing:
# `make bench-tools` first.  Needs root or a high enough `ulimit -n`.
BIN=${BIN:-$(dirname "$0")/../../bin}
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/agent_bench_lib.sh"
AGENTS=${SCALE_AGENTS:-10000}
ROUNDS=${SCALE_ROUNDS:-3}
HOLD=${SCALE_HOLD_S:-35} # past the relay's first PING (every 30 s)
GOAL_KIB=40

# One descriptor per connection in the relay, haproxy and the swarm each.
want=$((AGENTS + 256))
[ "$(ulimit -Hn)" -ge "$want" ] || ulimit -Hn "$(cat /proc/sys/fs/nr_open)" 2>/dev/null
ulimit -Sn "$(ulimit -Hn)"
if [ "$(ulimit -Sn)" -lt "$want" ]; then
	echo "bench_scale: $AGENTS agents need 'ulimit -n' >= $want (now $(ulimit -Sn)); run as root or lower SCALE_AGENTS" >&2
	exit 1
fi
PEER_CONNS=$(( ($(ulimit -Sn) - 256) / 2 ))
[ "$PEER_CONNS" -le "$AGENTS" ] || PEER_CONNS=$AGENTS

# swarm_round PID ARGS...: runs agent_swarm ARGS (holding), measures PID's RSS
# once the set-up line is out; sets KIB_PER (per connection), HELD, SETUP_RATE.
swarm_round() {
	local pid=$1 out="$WORK/swarm.out" before after swarm; shift
	before=$(rss_kib "$pid")
	"$SWARM" "$@" --hold "$HOLD" --json >"$out" 2>"$WORK/swarm.err" &
	swarm=$!
	wait_for_log "$out" '"phase":"setup"' 900 || { progress "swarm set-up did not finish"; kill "$swarm"; }
	sleep 2 # let the last connections settle
	after=$(rss_kib "$pid")
	wait "$swarm"
	local setup hold
	setup=$(grep '"phase":"setup"' "$out"); hold=$(grep '"phase":"hold"' "$out")
	SETUP_OK=$(json_field "$setup" ok)
	HELD=$(json_field "$hold" held)
	PONGS=$(json_field "$hold" pongs)
	SETUP_RATE=$(json_field "$setup" per_second)
	KIB_PER=$(awk -v a="$after" -v b="$before" -v n="${SETUP_OK:-0}" 'BEGIN { if (n > 0) printf "%.1f\n", (a - b) / n; else print "n/a" }')
	RSS_BEFORE=$before RSS_AFTER=$after
	[ -s "$WORK/swarm.err" ] && progress "swarm: $(head -3 "$WORK/swarm.err")"
}

haproxy_config() { # FILE: TLS-terminating haproxy that holds idle connections on __PORT__
	cat "$STATE/certs/relay.pem" "$STATE/certs/relay.key" >"$WORK/haproxy.pem"
	cat >"$1" <<CFG
global
	maxconn $((PEER_CONNS + 16))
	nbthread 1
defaults
	mode tcp
	timeout connect 5s
	timeout client 600s
	timeout server 600s
frontend agents
	bind 127.0.0.1:__PORT__ ssl crt $WORK/haproxy.pem
	tcp-request inspect-delay 600s
	tcp-request content accept if WAIT_END
	default_backend nowhere
backend nowhere
	server none 127.0.0.1:9
CFG
}

ours_kib=() peer_kib=() ours_held=() peer_held=() ours_rss=() peer_rss=()
for round in $(seq 1 "$ROUNDS"); do
	progress "round $round/$ROUNDS: relay with $AGENTS agents"
	relay_fresh "relay$round" || { progress "relay did not start"; exit 1; }
	swarm_round "$RELAY_PID" --relay "127.0.0.1:$AGENT_PORT" --ca "$CA" \
		--codes <(codes_for "$AGENTS") --connections "$AGENTS" --parallel 8
	progress "  relay: RSS $RSS_BEFORE -> $RSS_AFTER KiB, $KIB_PER KiB/agent, $HELD held after ${HOLD}s ($PONGS PINGs answered), set-up $SETUP_RATE/s"
	ours_kib+=("$KIB_PER"); ours_held+=("${HELD:-0}"); ours_rss+=("$RSS_BEFORE")
	relay_stop

	progress "round $round/$ROUNDS: haproxy with $PEER_CONNS idle TLS connections"
	haproxy_config "$WORK/haproxy.cfg.in"
	# haproxy reads the port from its file: a wrapper puts it there.
	server_start port bash -c 'sed "s/__PORT__/$1/" "$2" >"$2.cfg" && exec haproxy -f "$2.cfg" -db' \
		haproxy @PORT@ "$WORK/haproxy.cfg.in" || { progress "haproxy did not start"; exit 1; }
	HAPROXY_PID=$SERVER_PID
	swarm_round "$HAPROXY_PID" --relay "127.0.0.1:$port" --ca "$CA" --tls-only \
		--connections "$PEER_CONNS" --parallel 8
	progress "  haproxy: RSS $RSS_BEFORE -> $RSS_AFTER KiB, $KIB_PER KiB/connection, $HELD held"
	peer_kib+=("$KIB_PER"); peer_held+=("${HELD:-0}"); peer_rss+=("$RSS_BEFORE")
	kill -9 "$HAPROXY_PID"; wait "$HAPROXY_PID" 2>/dev/null
done

o=$(median "${ours_kib[@]}"); p=$(median "${peer_kib[@]}")
cat <<MD
## Scale: idle agents and memory per agent

$AGENTS agents ($PEER_CONNS connections for haproxy, see below) per round, $ROUNDS rounds
alternating, loopback, release build.
Ours: a fresh \`concierge-relay\`, $AGENTS agents (tests/bench/agent_swarm: TLS 1.3
handshake, \`HELLO code=\` with codes from tests/bench/bench_codes, WELCOME, then idle,
answering PING) held ${HOLD} s. Peer: haproxy $(haproxy -v | sed -n 's/^HAProxy version \([^ ]*\).*/\1/p')
(same ECDSA P-256 certificate, TLS terminated, each connection held idle by a
content-inspection delay, one thread; it reserves two descriptors per allowed connection,
so with a descriptor limit of $(ulimit -Sn) it holds $PEER_CONNS). Memory: VmRSS of the server process after the
set-up minus before it, divided by the connections.

| | ours (relay) | peer (haproxy) | ours/peer |
|---|---|---|---|
| resident memory per idle connection (KiB, median) | $o | $p | $(ratio "$o" "$p") |
| connections still held after ${HOLD} s (median) | $(median "${ours_held[@]}") of $AGENTS | $(median "${peer_held[@]}") of $PEER_CONNS | |
| idle process RSS before (KiB, median) | $(median "${ours_rss[@]}") | $(median "${peer_rss[@]}") | |

Goal: at most $GOAL_KIB KiB per agent: $(awk -v o="$o" -v g="$GOAL_KIB" 'BEGIN { print (o != "n/a" && o + 0 <= g) ? "met" : "NOT met" }').
MD
