#!/usr/bin/env bash
# Load test (issue 6), loopback only, bounded in time and count: LOAD_SESSIONS
# recorded shell sessions at once (load_agent plays their agents, load_participant
# one participant each over the relay's SSH port), each streaming the generated
# pattern for LOAD_SECONDS at LOAD_RATE bytes/s.  Then:
#   bytes sent by the agents = bytes received (and verified) by the
#   participants = shell output bytes in the recordings, every recording
#   verifies intact, and the relay's memory stays flat while all sessions
#   stream (see rss_flat in load_lib.sh: after a warm-up, the mean of the last
#   third of the samples is within LOAD_RSS_PCT % of the first third's).
# Prints the figures as "# load:" lines.  `make test` runs it small (200
# sessions, a quarter under the sanitizers); `make load` runs 1000.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screen_lib.sh"
. "$(dirname "$0")/load_lib.sh"
cd "$WORK"
N=${LOAD_SESSIONS:-$(scaled 200)}
SECS=${LOAD_SECONDS:-20}
RATE=${LOAD_RATE:-16K}
BURSTS=${LOAD_BURSTS:-0} # writes per second per session (load_agent --bursts; 0 = every 20 ms tick)
WARMUP=${LOAD_WARMUP:-2}
BATCH=500 # bench_codes: at most ~500 sessions may wait for their agents at once
LIMIT=${LOAD_LIMIT:-$((SECS + 240 + N / 2))} # every wait below is bounded by this many seconds
RSS_FLAT_PCT=${LOAD_RSS_PCT:-10}
# Participants join at JOIN_RATE sessions a second (load_participant --ramp):
# each join costs the relay's event thread about nine synchronous disk flushes
# (SQLite commits of its audit and participant rows, the recording's file and
# directories), and makes the agent dial two TLS streams (the participant's
# and the recorder leg) that must be up within the relay's 10 s deadline.
# Every session streams for SECS from its join, so with RAMP < SECS all of
# them stream at once (checked below).
JOIN_RATE=${LOAD_JOIN_RATE:-40}
RAMP=$(awk -v n="$N" -v r="$JOIN_RATE" 'BEGIN { printf "%.1f", n / r }')
total_of() { sed -n "s/^total .*$2=\([0-9.]*\).*/\1/p" "$1" | head -1; }

echo "# load: sessions=$N seconds=$SECS rate=$RATE/s bursts=$BURSTS/s per session ramp=${RAMP}s fd_limit=$(raise_fd_limit)" \
	"sanitized=$SANITIZED"
if relay_setup; then ok "relay starts"; else not_ok "relay starts"; e2e_done; fi
rss_start "$RELAY_PID" rss.txt

# Agents first (batch by batch: a batch's codes are claimed before the next
# batch is created), then one participant per session.
batches=$(((N + BATCH - 1) / BATCH))
AGENT_PIDS=()
for ((b = 0; b < batches; b++)); do
	count=$((N - b * BATCH < BATCH ? N - b * BATCH : BATCH))
	"$BENCH_CODES" --db state/concierge.db --user dana --ticket INC0100001 --count "$count" >codes.$b ||
		not_ok "bench_codes created batch $b"
	"$LOAD_AGENT" --relay "127.0.0.1:$AGENT_PORT" --ca state/certs/ca.pem --codes codes.$b \
		--seconds "$SECS" --rate "$RATE" --bursts "$BURSTS" --ready-file ready.$b --timeout "$LIMIT" >agent.$b.out 2>agent.$b.err &
	AGENT_PIDS+=($!)
	E2E_PIDS+=($!)
	check "batch $b: $count agents welcomed" wait_for_log agent.$b.err "$count of $count agents welcomed" 120
done
cat ready.* >sessions.txt 2>/dev/null
check "all $N agents connected" test "$(wc -l <sessions.txt)" -eq "$N"

T_JOIN=$(date +%s.%N)
"$LOAD_PARTICIPANT" sink --kind shell --ssh "127.0.0.1:$SSH_PORT" --user dana --key dana.key \
	--sessions sessions.txt --ramp "$RAMP" --timeout "$LIMIT" --idle-timeout 60 >participant.out 2>participant.err &
PART_PID=$!
E2E_PIDS+=($PART_PID)
# Until all joined, or the participants gave up (a join refused fails closed).
wait_for_joins() {
	local deadline=$((SECONDS + LIMIT))
	while [ $SECONDS -lt $deadline ]; do
		[ "$(log_count relay.log "event=participant_joined ")" -ge "$N" ] && return 0
		kill -0 "$PART_PID" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}
check "all $N participants joined and are recorded" wait_for_joins
[ "$(log_count relay.log "event=participant_joined ")" -ge "$N" ] ||
	echo "# load: $(log_count relay.log "event=participant_joined ") of $N joined;" \
		"$(log_count relay.log "event=recorder_failed ") recorder legs not opened in time"
T_UP=$(epoch_of_log relay.log "event=participant_joined " last)
echo "# load: all $N sessions up $(awk -v a="$T_JOIN" -v b="$T_UP" 'BEGIN { printf "%.1f", b - a }') s after the first join"

wait_exit $PART_PID "$LIMIT"
check "every participant received the whole pattern, verified byte for byte" test "$RC" -eq 0
[ "$RC" -eq 0 ] || show_failures participant.out
for ((b = 0; b < batches; b++)); do
	wait_exit "${AGENT_PIDS[b]}" 60
	check "load_agent of batch $b ended cleanly (every session streamed and said goodbye)" test "$RC" -eq 0
	[ "$RC" -eq 0 ] || show_failures agent.$b.err
done
check "the relay refused no connection (the generators pace their dials)" \
	test "$(grep -c 'event=[a-z]*_refused' relay.log)" -eq 0
T_DOWN=$(epoch_of_log relay.log "event=participant_left ")
rss_stop
check "all $N sessions streamed at once (the last joined before the first ended)" \
	awk -v up="$T_UP" -v down="$T_DOWN" 'BEGIN { exit !(up < down) }'

sent=$(cat agent.*.out | awk '/^total / { for (i = 1; i <= NF; i++) if ($i ~ /^shell_bytes=/) { sub(/.*=/, "", $i); s += $i } } END { print s + 0 }')
received=$(total_of participant.out bytes)
check "participants received every byte the agents sent ($sent)" test "$sent" = "$received"
check "the agents sent at least a second's worth per session" test "$sent" -ge $((N * 1024))

# Recordings: every session's file is closed (the agent said BYE) and holds
# the shell output once.
check "all $N recordings are complete in the database" wait_for_count \
	"SELECT count(*) FROM recordings WHERE state = 'complete'" "$N" 60
find state/recordings -name '*.cncgrec' >files.txt
"$TOOLS/recording_bytes" $(cat files.txt) >recorded.txt
check "recording_bytes read every file" test $? -eq 0
recorded=$(sed -n 's/^total .* shell_output=\([0-9]*\).*/\1/p' recorded.txt)
check "the recordings hold every byte the agents sent, once ($recorded)" test "$recorded" = "$sent"
check "one complete recording per session" grep -q "^total files=$N .* complete=$N\$" recorded.txt
bad=0
while read -r f; do
	"$CONCIERGE" --config "$CONF" recording verify "$f" >/dev/null 2>&1 || bad=$((bad + 1))
done <files.txt
check "every recording verifies intact ($bad not)" test "$bad" -eq 0

# Memory: flat while every session streams (from all up + warm-up to the
# first session's end).
FROM=$(awk -v t="$T_UP" -v w="$WARMUP" 'BEGIN { printf "%.3f", t + w }')
flat=$(rss_flat rss.txt "$FROM" "$T_DOWN")
flat_rc=$?
echo "# load: relay_rss while all sessions streamed ($FROM..$T_DOWN): $flat"
check "the relay's memory stays flat while all sessions stream (within $RSS_FLAT_PCT %)" test $flat_rc -eq 0
# Every 10th sample, seconds since the relay started = MiB.
awk 'NR == 1 { t0 = $1; printf "# load: relay_rss_samples" } NR % 10 == 1 { printf " %.0fs=%.1fMiB", $1 - t0, $2 / 1024 }
     END { print "" }' rss.txt

span=$(total_of participant.out seconds)
echo "# load: sessions=$N agents_sent=$sent participants_received=$received recorded=$recorded" \
	"bytes; participants: $(total_of participant.out mb_per_s) MB/s over ${span}s" \
	"(all sessions together); relay peak rss $(awk '$2 > m { m = $2 } END { printf "%.1f", m / 1024 }' rss.txt) MiB"
check "the relay is still running" kill -0 "$RELAY_PID"
expect "audit chain intact after the load" 0 "intact" "$CONCIERGE" --config "$CONF" audit verify
e2e_done
