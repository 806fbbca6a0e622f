#!/usr/bin/env bash
# Benchmark (figures, not a test): throughput of one stream and of 64 at once.
#   ours:    load_agent (screen updates) -TLS-> relay -SSH channel-> load_participant
#   haproxy: load_agent --direct-tls -TLS-> haproxy -TLS-> load_participant --tls-listen
#   stunnel: the same with stunnel (two chained services) in haproxy's place
# and the one-core bound of the negotiated ciphers from `openssl speed`.
# Rounds alternate ours / haproxy / stunnel; the table gives medians.
#   BENCH_ROUNDS (3), BENCH_BYTES (bytes per run, split over the streams; 256M),
#   BENCH_STREAMS ("1 64"), BENCH_RELAY (relay binary, default bin/concierge-relay)
# Needs: make && make bench-tools.  Progress on stderr, Markdown on stdout.
. "$(dirname "$0")/peers/env.sh"
BYTES=${BENCH_BYTES:-$((256 * 1024 * 1024))}
STREAMS=${BENCH_STREAMS:-1 64}
BENCH_SCREEN=1024x256 # one Raw update = 1 MiB of pattern

bench_tools_check || exit 1
MACHINE=$(machine_line)
progress "throughput: relay ${BENCH_RELAY:-$BIN/concierge-relay}, $ROUNDS rounds, $BYTES bytes per run"
our_relay_start "${BENCH_RELAY:-}" || { echo "bench: the relay did not start: $(tail -3 "$WORK/relay.log")" >&2; exit 1; }
BACKEND=$(free_port) HAPROXY_PORT=$(free_port) STUNNEL_PORT=$(free_port)
haproxy_start "$HAPROXY_PORT" "$BACKEND" || exit 1
stunnel_start "$STUNNEL_PORT" "$BACKEND" || exit 1

TLS_RELAY=$(tls_cipher_of "$AGENT_PORT")
TLS_HAPROXY=$(tls_cipher_of "$HAPROXY_PORT")
TLS_STUNNEL=$(tls_cipher_of "$STUNNEL_PORT")
SSH_RELAY=$(ssh_cipher_of "$WORK/dana.key" "$SSH_PORT" dana whoami)

declare -A RESULT CPU
for n in $STREAMS; do
	per=$((BYTES / n))
	for r in $(seq 1 "$ROUNDS"); do
		for who in ours haproxy stunnel; do
			case $who in
			ours) read -r v c < <(with_cpu "cpu_ticks $RELAY_PID" "$BYTES" ours_screen_run "$n" "$per") ;;
			haproxy) read -r v c < <(with_cpu "cpu_ticks $HAPROXY_PID" "$BYTES" \
			                         peer_raw_run "$n" "$per" "$HAPROXY_PORT" "$BACKEND") ;;
			stunnel) read -r v c < <(with_cpu "cpu_ticks $STUNNEL_PID" "$BYTES" \
			                         peer_raw_run "$n" "$per" "$STUNNEL_PORT" "$BACKEND") ;;
			esac
			RESULT[$who,$n]+="$v " CPU[$who,$n]+="$c "
			progress "round $r/$ROUNDS, $n stream(s): $who $v MB/s, $c CPU s/GB"
		done
	done
done

progress "openssl speed (one core, 16 KiB blocks)"
declare -A SPEED
for c in aes-128-gcm aes-256-gcm chacha20-poly1305; do SPEED[$c]=$(openssl_speed_mbs "$c"); done

table() { # RESULT|CPU: one row per stream count, medians and ratios
	local -n runs=$1
	local n o h s
	echo "| streams | ours | haproxy | stunnel | ours/haproxy | ours/stunnel |"
	echo "|---:|---:|---:|---:|---:|---:|"
	for n in $STREAMS; do
		o=$(tr ' ' '\n' <<<"${runs[ours,$n]}" | grep -v '^-\?$' | median)
		h=$(tr ' ' '\n' <<<"${runs[haproxy,$n]}" | grep -v '^-\?$' | median)
		s=$(tr ' ' '\n' <<<"${runs[stunnel,$n]}" | grep -v '^-\?$' | median)
		echo "| $n | $o | $h | $s | $(ratio "$o" "$h") | $(ratio "$o" "$s") |"
	done
}
echo "## Throughput: relay vs haproxy and stunnel"
echo
echo "One run sends $((BYTES / 1048576)) MiB split over the streams; $ROUNDS rounds alternate ours / haproxy / stunnel"
echo "on loopback; figures are medians in MB/s (10^6 bytes/s) measured at the receiving end, every byte"
echo "verified. Ours: load_agent screen updates ($BENCH_SCREEN Raw, recorded: the relay also reads the"
echo "recorder leg) -> TLS -> relay -> SSH channel -> load_participant (libssh, one SSH connection per"
echo "stream). Peers: load_agent --direct-tls -> TLS -> peer -> TLS -> load_participant --tls-listen."
echo "Negotiated: relay TLS $TLS_RELAY, SSH $SSH_RELAY (OpenSSH client); haproxy $TLS_HAPROXY;"
echo "stunnel $TLS_STUNNEL (both legs). $MACHINE The load generators share the same 2 cores, so"
echo "every figure is an end-to-end figure of the whole machine, not of the proxy alone."
echo
table RESULT
echo
echo "CPU of the proxy process itself (all threads; the relay's figure includes reading and recording"
echo "the recorder leg), seconds per GB delivered, medians; less is better and, unlike MB/s, hardly"
echo "depends on what else runs on the machine:"
echo
table CPU
echo
echo "Cipher bound (\`openssl speed -evp\`, one core, 16 KiB): AES-128-GCM ${SPEED[aes-128-gcm]} MB/s,"
echo "AES-256-GCM ${SPEED[aes-256-gcm]} MB/s, ChaCha20-Poly1305 ${SPEED[chacha20-poly1305]} MB/s. A relayed byte is"
echo "decrypted once (TLS, AES-256-GCM) and encrypted once (SSH, ChaCha20-Poly1305 / TLS for the peers), so"
echo "one core's bound for the proxy alone is about 1 / (1/AES-256-GCM + 1/ChaCha20) ="
echo "$(awk -v a="${SPEED[aes-256-gcm]}" -v c="${SPEED[chacha20-poly1305]}" 'BEGIN { if (a > 0 && c > 0) printf "%.0f", 1 / (1 / a + 1 / c); else print "-" }') MB/s, before any copy or system call; the load generators' own crypto shares the cores."
echo
echo "Raw rounds (MB/s): $(for n in $STREAMS; do printf '%s streams: ours %s/ haproxy %s/ stunnel %s; ' "$n" "${RESULT[ours,$n]}" "${RESULT[haproxy,$n]}" "${RESULT[stunnel,$n]}"; done)"
