#!/usr/bin/env bash
# Benchmark (figures, not a test): the whole path a participant uses, ours
# against the same path assembled from standard parts, with the real OpenSSH
# client (`ssh -N -L`, one per stream, as participants have) on both:
#   ours:     load_agent -TLS-> relay -SSH-> ssh -L -> load_participant --plain
#   standard: tls_pattern_server -TLS-> stunnel (client) -> sshd -SSH-> ssh -L
#             -> load_participant --plain
# (in the standard world nobody dials out, so the agent's side is a TLS
# server that stunnel dials when sshd opens the -L target).  Throughput of 1
# and 64 streams, then ping-pong (see the note in the output).
#   BENCH_ROUNDS (3), BENCH_BYTES (256M per run), BENCH_STREAMS ("1 64"),
#   BENCH_PINGS (2000), BENCH_RELAY (relay binary)
# Needs: make && make bench-tools.
. "$(dirname "$0")/peers/env.sh"
BYTES=${BENCH_BYTES:-$((256 * 1024 * 1024))}
STREAMS=${BENCH_STREAMS:-1 64}
PINGS=${BENCH_PINGS:-2000}
BENCH_SCREEN=1024x256

bench_tools_check "$BENCH/tls_pattern_server" || exit 1
MACHINE=$(machine_line)
our_relay_start "${BENCH_RELAY:-}" || { echo "bench: the relay did not start" >&2; exit 1; }
sshd_start || { echo "bench: sshd did not start: $(tail -3 "$WORK/sshd.log")" >&2; exit 1; }
AGENT_SIDE=$(free_port) STUNNEL_PLAIN=$(free_port)
stunnel_client_start "$STUNNEL_PLAIN" "$AGENT_SIDE" || exit 1
SSH_RELAY=$(ssh_cipher_of "$WORK/dana.key" "$SSH_PORT" dana whoami)
SSH_SSHD=$(ssh_cipher_of "$WORK/peer-client.key" "$SSHD_PORT" root true)

# sum_reports FILES...: total MB/s of parallel load_participant reports
# (all bytes over the longest stream's time), "-" if any failed.
sum_reports() {
	local f line bytes=0 secs=0 b s
	for f in "$@"; do
		[ "$(total_mbps "$f")" = - ] && { echo "-"; return; }
		line=$(grep '^total ' "$f")
		b=$(sed -n 's/.* bytes=\([0-9]*\).*/\1/p' <<<"$line") s=$(sed -n 's/.* seconds=\([0-9.]*\).*/\1/p' <<<"$line")
		bytes=$((bytes + b)); secs=$(awk -v a="$secs" -v b="$s" 'BEGIN { print (b > a) ? b : a }')
	done
	awk -v b="$bytes" -v s="$secs" 'BEGIN { if (s > 0) printf "%.2f\n", b / s / 1e6; else print "-" }'
}

# end_forwards PIDS...: the ssh -L clients of a run.
end_forwards() { kill "$@" 2>/dev/null; wait "$@" 2>/dev/null; }

ours_path_run() { # N BYTES
	local i=0 sid fwd=() parts=() files=()
	ours_start_agents "$1" --bytes "$2" --screen "$BENCH_SCREEN" || { echo "-"; return; }
	local ports=()
	for sid in $(cat "$WORK/ready.txt"); do
		peer_forward "$WORK/dana.key" "$SSH_PORT" dana "$sid:5900" || { echo "-"; return; }
		fwd+=($FWD_PID) ports+=($LPORT)
	done
	# Every forward is up: the participants start together.
	for sid in $(cat "$WORK/ready.txt"); do
		"$BENCH/load_participant" sink --kind screen --plain "127.0.0.1:${ports[$i]}" --connections 1 \
			--session "$sid" --timeout "$BENCH_TIMEOUT" >"$WORK/part-$i.out" 2>"$WORK/part-$i.err" &
		parts+=($!) files+=("$WORK/part-$i.out"); i=$((i + 1))
	done
	wait "${parts[@]}"
	end_forwards "${fwd[@]}"
	ours_stop_agents
	sum_reports "${files[@]}"
	rm -rf "$WORK/state/recordings/$BENCH_TICKET" "$WORK"/part-*
}

standard_path_run() { # N BYTES
	local i fwd=() parts=() files=() server
	"$BENCH/tls_pattern_server" --port "$AGENT_SIDE" --certs "$WORK/state/certs" --bytes "$2" \
		--connections "$1" --timeout "$BENCH_TIMEOUT" 2>"$WORK/server.err" &
	server=$!
	wait_listen "$AGENT_SIDE" 10 || { echo "-"; return; }
	local ports=()
	for i in $(seq 1 "$1"); do
		peer_forward "$WORK/peer-client.key" "$SSHD_PORT" root "127.0.0.1:$STUNNEL_PLAIN" || { echo "-"; return; }
		fwd+=($FWD_PID) ports+=($LPORT)
	done
	for i in $(seq 1 "$1"); do
		"$BENCH/load_participant" sink --kind raw --plain "127.0.0.1:${ports[$((i - 1))]}" --connections 1 \
			--expect-bytes "$2" --timeout "$BENCH_TIMEOUT" >"$WORK/part-$i.out" 2>"$WORK/part-$i.err" &
		parts+=($!) files+=("$WORK/part-$i.out")
	done
	wait "${parts[@]}"
	end_forwards "${fwd[@]}"
	wait "$server"
	sleep 1 # sshd reaps its per-connection processes (their CPU counts then)
	sum_reports "${files[@]}"
	rm -f "$WORK"/part-*
}

standard_pingpong() { # COUNT: raw ping-pong through ssh -L -> sshd -> stunnel -> echo server
	"$BENCH/tls_pattern_server" --port "$AGENT_SIDE" --certs "$WORK/state/certs" --echo \
		--connections 1 --timeout "$BENCH_TIMEOUT" 2>"$WORK/server.err" &
	local server=$!
	wait_listen "$AGENT_SIDE" 10 || return 1
	peer_forward "$WORK/peer-client.key" "$SSHD_PORT" root "127.0.0.1:$STUNNEL_PLAIN" || return 1
	"$BENCH/load_participant" pingpong --kind raw --size 64 --count "$1" --plain "127.0.0.1:$LPORT" \
		--connections 1 --timeout "$BENCH_TIMEOUT" >"$WORK/part.out" 2>"$WORK/part.err"
	end_forwards "$FWD_PID"
	wait "$server"
}

standard_ticks() { # stunnel + sshd and its ended per-connection processes
	echo $(($(cpu_ticks_tree "$SSHD_PID") + $(cpu_ticks "$STUNNEL_CLIENT_PID")))
}

declare -A RESULT CPU P50 P99
for n in $STREAMS; do
	per=$((BYTES / n))
	for r in $(seq 1 "$ROUNDS"); do
		read -r v c < <(with_cpu "cpu_ticks $RELAY_PID" "$BYTES" ours_path_run "$n" "$per")
		RESULT[ours,$n]+="$v " CPU[ours,$n]+="$c "
		progress "round $r/$ROUNDS, $n stream(s): ours $v MB/s, relay $c CPU s/GB"
		read -r v c < <(with_cpu standard_ticks "$BYTES" standard_path_run "$n" "$per")
		RESULT[standard,$n]+="$v " CPU[standard,$n]+="$c "
		progress "round $r/$ROUNDS, $n stream(s): stunnel+sshd $v MB/s, $c CPU s/GB"
	done
done
for r in $(seq 1 "$ROUNDS"); do
	ours_pingpong "$PINGS"
	P50[ours]+="$(pingpong_field "$WORK/part.out" p50_us) " P99[ours]+="$(pingpong_field "$WORK/part.out" p99_us) "
	standard_pingpong "$PINGS"
	P50[standard]+="$(pingpong_field "$WORK/part.out" p50_us) " P99[standard]+="$(pingpong_field "$WORK/part.out" p99_us) "
	progress "round $r/$ROUNDS ping-pong p50/p99: ours ${P50[ours]}/ ${P99[ours]}; standard ${P50[standard]}/ ${P99[standard]}"
done

med() { tr ' ' '\n' <<<"$1" | grep -v '^-\?$' | median; }
echo "## The participant's whole path: relay vs stunnel + OpenSSH sshd"
echo
echo "Each stream has its own real \`ssh -N -L\` client and a load_participant on its local port (all forwards"
echo "up first, then every participant starts at once; MB/s = all bytes / the longest stream's time); one run"
echo "moves $((BYTES / 1048576)) MiB split over the streams, every byte verified. Ours: load_agent -> TLS -> relay -> SSH"
echo "($SSH_RELAY) -> ssh -L. Standard parts: tls_pattern_server -> TLS -> stunnel"
echo "(client mode) -> sshd -> SSH ($SSH_SSHD) -> ssh -L. $ROUNDS alternating rounds,"
echo "medians. Ours also records (recorder leg). $MACHINE"
echo
echo "| streams | ours MB/s | stunnel+sshd MB/s | ours/standard | relay CPU s/GB | stunnel+sshd CPU s/GB | ours/standard |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
for n in $STREAMS; do
	a=$(med "${RESULT[ours,$n]}") b=$(med "${RESULT[standard,$n]}")
	c=$(med "${CPU[ours,$n]}") d=$(med "${CPU[standard,$n]}")
	echo "| $n | $a | $b | $(ratio "$a" "$b") | $c | $d | $(ratio "$c" "$d") |"
done
echo
echo "CPU: the relay process (all threads, recording included) against stunnel plus sshd with its"
echo "per-connection processes, seconds per GB delivered (medians; less sensitive to the machine's load than MB/s)."
echo
echo "Why: the relay's SSH threads (libssh) are a small share of its CPU (bench_throughput.sh and"
echo "bench_recording_cost.sh print the split); what limits is the single libevent core thread, which"
echo "decrypts every agent stream twice (participant and recorder leg) and writes every recording, while"
echo "sshd runs a process per connection on both cores and records nothing. Compare the CPU columns:"
echo "per GB the relay spends more than stunnel plus sshd on one long stream (the recording's share, see"
echo "bench_recording_cost.sh), while with many short sessions sshd's per-connection processes cost it"
echo "about as much."
echo
echo "Ping-pong, 64 bytes, $PINGS round trips per run. Standard parts: through ssh -L -> sshd -> stunnel -> an"
echo "echoing TLS server. Ours: screen forwards carry RFB, which cannot echo, so the relay's figure is"
echo "the shell channel's (libssh client, the same SSH and TLS hops, shell frames, recorded)."
echo
echo "| path | p50 µs | p99 µs |"
echo "|---|---:|---:|"
for name in ours standard; do echo "| $name | $(med "${P50[$name]}") | $(med "${P99[$name]}") |"; done
echo
echo "Raw rounds (MB/s): $(for n in $STREAMS; do printf '%s streams: ours %s/ standard %s; ' "$n" "${RESULT[ours,$n]}" "${RESULT[standard,$n]}"; done)"
