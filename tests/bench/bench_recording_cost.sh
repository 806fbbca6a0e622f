#!/usr/bin/env bash
# Benchmark (figures, not a test): what recording costs in throughput.
# Recording is mandatory and has no runtime switch, so "off" is a bench-only
# build (make bench-relay-unrecorded: build/bench/concierge-relay-unrecorded,
# one #ifdef in relay_record.c) that opens no recorder leg; events and input
# are still recorded.  Both relays run the same screen load as
# bench_throughput.sh (load_agent -> relay -> SSH -> load_participant),
# alternating, one fresh relay state per run.
#   BENCH_ROUNDS (3), BENCH_BYTES (256M per run), BENCH_STREAMS ("1 64")
# Needs: make && make bench-tools.
. "$(dirname "$0")/peers/env.sh"
UNRECORDED=${BENCH_UNRECORDED:-build/bench/concierge-relay-unrecorded}
BYTES=${BENCH_BYTES:-$((256 * 1024 * 1024))}
STREAMS=${BENCH_STREAMS:-1 64}
BENCH_SCREEN=1024x256

bench_tools_check "$UNRECORDED" || exit 1
MACHINE=$(machine_line)
UNRECORDED=$(cd "$(dirname "$UNRECORDED")" && pwd)/$(basename "$UNRECORDED")

declare -A RESULT CPU CORE SSHT
for n in $STREAMS; do
	per=$((BYTES / n))
	for r in $(seq 1 "$ROUNDS"); do
		for variant in recorded unrecorded; do
			binary=$BIN/concierge-relay
			[ "$variant" = unrecorded ] && binary=$UNRECORDED
			our_relay_start "$binary" || { echo "bench: $binary did not start" >&2; exit 1; }
			thread_cpu_start "$RELAY_PID"
			read -r v c < <(with_cpu "cpu_ticks $RELAY_PID" "$BYTES" ours_screen_run "$n" "$per")
			thread_cpu_stop
			CORE[$variant,$n]+="$(cpu_per_gb "$THREAD_MAIN" "$BYTES") " SSHT[$variant,$n]+="$(cpu_per_gb "$THREAD_OTHERS" "$BYTES") "
			RESULT[$variant,$n]+="$v " CPU[$variant,$n]+="$c "
			progress "round $r/$ROUNDS, $n stream(s): $variant $v MB/s, relay $c CPU s/GB"
		done
	done
done

med() { tr ' ' '\n' <<<"${RESULT[$1,$2]}" | grep -v '^-\?$' | median; }
cpu() { tr ' ' '\n' <<<"${CPU[$1,$2]}" | grep -v '^-\?$' | median; }
split() { local -n runs=$1; tr ' ' '\n' <<<"${runs[$2,$3]}" | grep -v '^-\?$' | median; }
echo "## Recording cost: recorder leg on and off"
echo
echo "The screen load of the throughput benchmark ($((BYTES / 1048576)) MiB of $BENCH_SCREEN Raw updates per run, split over"
echo "the streams, load_agent -> relay -> SSH -> load_participant, every byte verified) through the"
echo "shipped relay (recorded: the agent sends every update twice, to the participant and to the"
echo "recorder leg, and the relay frames, hashes, writes and checkpoints it) and through a bench-only"
echo "build without recorder legs (\`make bench-relay-unrecorded\`; never installed; the product has no"
echo "switch). $ROUNDS alternating rounds, medians in MB/s. $MACHINE"
echo
echo "| streams | MB/s recorded | unrecorded | ratio | relay CPU s/GB recorded | unrecorded | core thread recorded | unrecorded | SSH threads recorded | unrecorded |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in $STREAMS; do
	a=$(med recorded "$n") b=$(med unrecorded "$n") c=$(cpu recorded "$n") d=$(cpu unrecorded "$n")
	echo "| $n | $a | $b | $(ratio "$a" "$b") | $c | $d | $(split CORE recorded "$n") | $(split CORE unrecorded "$n") | $(split SSHT recorded "$n") | $(split SSHT unrecorded "$n") |"
done
echo
echo "CPU in seconds per GB delivered: the whole relay, its libevent core thread (TLS of the agent's"
echo "streams, splices, the recorder leg's framing, hashing and writing) and its SSH threads (libssh)."
echo
echo "Raw rounds (MB/s): $(for n in $STREAMS; do printf '%s streams: recorded %s/ unrecorded %s; ' "$n" "${RESULT[recorded,$n]}" "${RESULT[unrecorded,$n]}"; done)"
