#!/usr/bin/env bash
# Benchmark (figures, not a test): added latency, 64-byte ping-pong, p50/p99.
#   direct:  load_participant (TLS server) <-TLS-> load_agent --direct-tls --echo
#   haproxy / stunnel: the same with the peer in between (TLS -> TLS)
#   ours:    load_participant (libssh) -SSH shell channel-> relay -TLS-> load_agent --echo
# Rounds alternate; each gives p50 and p99 of BENCH_PINGS round trips; the
# table gives the medians over rounds.  Goal: ours p99 <= haproxy p99.
#   BENCH_ROUNDS (3), BENCH_PINGS (2000)
# Needs: make && make bench-tools.
. "$(dirname "$0")/peers/env.sh"
PINGS=${BENCH_PINGS:-2000}

bench_tools_check || exit 1
MACHINE=$(machine_line)
our_relay_start "${BENCH_RELAY:-}" || { echo "bench: the relay did not start" >&2; exit 1; }
BACKEND=$(free_port) HAPROXY_PORT=$(free_port) STUNNEL_PORT=$(free_port)
haproxy_start "$HAPROXY_PORT" "$BACKEND" || exit 1
stunnel_start "$STUNNEL_PORT" "$BACKEND" || exit 1
SSH_RELAY=$(ssh_cipher_of "$WORK/dana.key" "$SSH_PORT" dana whoami)

declare -A P50 P99
record() { # NAME: keeps p50/p99 of $WORK/part.out
	local a b
	a=$(pingpong_field "$WORK/part.out" p50_us) b=$(pingpong_field "$WORK/part.out" p99_us)
	[ "$a" = - ] && echo "bench: $1: no ping-pong report: $(tail -2 "$WORK/part.err")" >&2
	P50[$1]+="$a " P99[$1]+="$b "
	progress "round $r/$ROUNDS: $1 p50 $a us, p99 $b us"
}
for r in $(seq 1 "$ROUNDS"); do
	peer_pingpong "$BACKEND" "$BACKEND" "$PINGS"; record direct
	ours_pingpong "$PINGS"; record ours
	peer_pingpong "$HAPROXY_PORT" "$BACKEND" "$PINGS"; record haproxy
	peer_pingpong "$STUNNEL_PORT" "$BACKEND" "$PINGS"; record stunnel
done

med() { tr ' ' '\n' <<<"$1" | grep -v '^-\?$' | median; }
echo "## Added latency: 64-byte ping-pong"
echo
echo "$PINGS round trips of 64 bytes per run, $ROUNDS alternating rounds; medians over the rounds of each"
echo "run's p50 and p99, in microseconds. Direct: TLS between the two load generators, no proxy."
echo "haproxy/stunnel: TLS -> peer -> TLS. Ours: the participant's bytes go over an SSH shell channel"
echo "($SSH_RELAY) to the relay and over TLS to the agent, which echoes them as"
echo "shell output (shell frames add 4 bytes each way; the shell recorder leg records the echo)."
echo "Added latency = figure - direct. $MACHINE"
echo
echo "| path | p50 µs | p99 µs | p50 added | p99 added | p99 / haproxy p99 |"
echo "|---|---:|---:|---:|---:|---:|"
d50=$(med "${P50[direct]}") d99=$(med "${P99[direct]}") h99=$(med "${P99[haproxy]}")
for name in direct ours haproxy stunnel; do
	a=$(med "${P50[$name]}") b=$(med "${P99[$name]}")
	echo "| $name | $a | $b | $(awk -v x="$a" -v y="$d50" 'BEGIN { if (x == "-" || y == "-") print "-"; else printf "%.0f", x - y }') | $(awk -v x="$b" -v y="$d99" 'BEGIN { if (x == "-" || y == "-") print "-"; else printf "%.0f", x - y }') | $(ratio "$b" "$h99") |"
done
echo
echo "Where ours spends the added time: a round trip crosses two threads each way (the SSH thread and"
echo "the libevent core, over a socketpair: four wake-ups where haproxy has two), and the core writes"
echo "two recording records per round trip (the typed bytes, and the echo from the shell recorder leg;"
echo "one writev() each). The SSH socket has TCP_NODELAY (as sshd sets for interactive sessions);"
echo "a strict ping-pong never has two small packets in flight, so that shows no change here."
echo
echo "Raw rounds p50/p99 (µs): $(for n in direct ours haproxy stunnel; do printf '%s %s/ %s; ' "$n" "${P50[$n]}" "${P99[$n]}"; done)"
