#!/usr/bin/env bash
# Fault tests (issue 6), loopback only, bounded in time and count:
#  - a participant that vanishes mid-stream (kill -9 of its ssh: its TCP
#    connection to the relay is reset) leaves its session cleanly: its
#    participant row is closed, the stream close is audited, the session goes on;
#  - an agent that vanishes mid-stream (kill -9) is audited, its participants
#    are cut and audited, its session stays resumable and can still be ended;
#  - kill -9 of the relay with FAULT_SESSIONS (100; 25 under the sanitizers)
#    recorded shell sessions streaming (load_agent --resume, load_participant):
#    every recording verifies up to its last checkpoint (exit 4, or 0),
#    never tampered (3), and every agent is back within 5 s of the restart.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screen_lib.sh"
. "$(dirname "$0")/load_lib.sh"
cd "$WORK"
F=${FAULT_SESSIONS:-$(scaled 100)}
echo "# faults: kill -9 with $F sessions, fd_limit=$(raise_fd_limit) sanitized=$SANITIZED"
if relay_setup; then ok "relay starts"; else not_ok "relay starts"; e2e_done; fi
REC() { "$CONCIERGE" --config "$CONF" recording "$@"; }
db() { sqlite3 state/concierge.db "$1"; }
audit_count() { "$CONCIERGE" --config "$CONF" audit list | grep -Ec -- "$1"; }
open_rows() { db "SELECT count(*) FROM participants WHERE session_id='$1' AND left_at IS NULL"; }

check "session for INC0090001 with a demo agent connected" new_session dana INC0090001
S1=$SID
agent_start f1 --screen demo --code "$CODE" --auto-accept
check "agent connects" wait_for_log f1.out "Connected to your IT desk" 10

# --- a participant vanishes mid-stream
check "control forward for dana" forward dana "$S1" 5900
GONE_FWD=$FWD_PID
"$PROBE" "127.0.0.1:$LPORT" --hold 30 --timeout 40 >gone.out 2>&1 &
GONE_PROBE=$!
E2E_PIDS+=($GONE_PROBE)
check "dana streams the screen" wait_for_log relay.log "event=participant_joined session=$S1 .*user=dana" 15
sleep 1
pkill -KILL -P "$GONE_FWD" # the ssh client itself (forward runs it in a subshell)
check "the relay sees the participant gone within 5 s" \
	wait_for_log relay.log "event=participant_left session=$S1 user=dana" 5
check "the stream close is audited" audit_has "stream.close +session:$S1 +INC0090001 +participant=dana "
check "the participant row is closed with a reason" \
	test "$(open_rows "$S1"):$(db "SELECT count(*) FROM participants WHERE session_id='$S1' AND left_reason <> ''")" = 0:1
wait_exit $GONE_PROBE 10
check "the session goes on: another participant sees the screen" forward dana "$S1" 5901
expect "the demo pattern still arrives" 0 "" "$PROBE" "127.0.0.1:$LPORT" --expect-demo --timeout 20

# --- the agent vanishes mid-stream
check "forward for the agent crash" forward dana "$S1" 5901
"$PROBE" "127.0.0.1:$LPORT" --hold 30 --timeout 40 >cut.out 2>&1 &
CUT_PROBE=$!
E2E_PIDS+=($CUT_PROBE)
joins=$(log_count relay.log "event=participant_joined session=$S1 .*user=dana")
check "dana streams again" wait_for_more relay.log "event=participant_joined session=$S1 .*user=dana" "$joins" 15
# Seen failing once in a full `make test` (not reproduced in 7 runs alone): say what the relay did.
[ "$(log_count relay.log "event=participant_joined session=$S1 .*user=dana")" -gt "$joins" ] ||
	{ tail -8 relay.log | cut -c1-240 | sed 's/^/# relay: /'; tail -3 cut.out | sed 's/^/# probe: /'; }
sleep 1
closes=$(audit_count "stream.close +session:$S1 ")
eval "kill -KILL \$AGENT_PID_f1"
check "the relay sees the agent gone within 5 s" wait_for_log relay.log "event=agent_lost session=$S1" 5
check "the agent's loss is audited" audit_has "session.agent_lost +session:$S1 +INC0090001 .*resumable_for_s=[0-9]+"
# The agent's stream or its control link may be seen closing first.
check "its participant is cut, the stream close audited" \
	test "$(audit_count "stream.close +session:$S1 +INC0090001 +participant=dana ")" -gt "$closes"
wait_exit $CUT_PROBE 10
check "the participant's viewer is cut off (well before its 30 s hold)" test "$RC" -ne 124
check "no participant row is left open" test "$(open_rows "$S1")" = 0
expect "the session stays resumable (active) as designed" 0 "$S1 .*active" ssh_as dana sessions
check "forward while the agent is away" forward dana "$S1" 5900
expect "a join meanwhile is refused: the agent is reconnecting" 1 "reconnecting" \
	"$PROBE" "127.0.0.1:$LPORT" --verbose --timeout 10
expect "the desk can still end it" 0 "ended session" ssh_as dana session end "$S1"
check "the end is audited" audit_has "session.end +session:$S1 +INC0090001"
check "its recording is closed complete" \
	test "$(db "SELECT group_concat(state) FROM recordings WHERE session_id='$S1'")" = complete
ID1=$(db "SELECT id FROM recordings WHERE session_id='$S1'")
expect "and verifies intact" 0 "INTACT" REC verify "$ID1"

# --- kill -9 of the relay while F recorded sessions stream
TICKET=INC0090100
"$BENCH_CODES" --db state/concierge.db --user dana --ticket $TICKET --count "$F" >kill.codes ||
	not_ok "bench_codes created $F sessions"
# The pattern outlasts the test: the relay dies mid-stream.
"$LOAD_AGENT" --relay "127.0.0.1:$AGENT_PORT" --ca state/certs/ca.pem --codes kill.codes --seconds 600 \
	--rate 16K --resume --ready-file kill.ready --timeout 900 >kill-agent.out 2>kill-agent.err &
KAGENT=$!
E2E_PIDS+=($KAGENT)
check "$F agents connected" wait_for_log kill-agent.err "$F of $F agents welcomed" 120
"$LOAD_PARTICIPANT" sink --kind shell --ssh "127.0.0.1:$SSH_PORT" --user dana --key dana.key \
	--sessions kill.ready --timeout 300 --idle-timeout 60 >kill-part.out 2>kill-part.err &
KPART=$!
E2E_PIDS+=($KPART)
check "$F participants joined and are recorded" \
	wait_for_more relay.log "event=participant_joined session=s[0-9a-f]+ ticket=$TICKET " $((F - 1)) 180
sleep 3 # a few checkpoints into every recording
kill -KILL "$RELAY_PID"
wait "$RELAY_PID" 2>/dev/null
T_KILL=$(date +%s.%N)
resumed_before=$(log_count relay.log "event=session_resumed ")
relay_start
T_STARTED=$(epoch_of_log relay.log "event=relay_started" last)
check "the relay restarts after kill -9" test -n "$T_STARTED"
check "all $F agents resume" wait_for_more relay.log "event=session_resumed " $((resumed_before + F - 1)) 40
T_BACK=$(epoch_of_log relay.log "event=session_resumed " last)
back=$(awk -v a="$T_STARTED" -v b="$T_BACK" 'BEGIN { printf "%.2f", b - a }')
echo "# faults: relay restarted $(awk -v a="$T_KILL" -v b="$T_STARTED" 'BEGIN { printf "%.2f", b - a }') s" \
	"after kill -9; the last of $F agents resumed $back s after the restart"
check "every agent is back within 5 s of the restart ($back s)" awk -v s="$back" 'BEGIN { exit !(s <= 5) }'
wait_exit $KPART 30
check "the participants saw their connections cut" test "$RC" -ne 0

# Every recording verifies up to its last checkpoint: 4 (truncated) or 0,
# never 3 (tampered).
find state/recordings/$TICKET -name '*.cncgrec' | sort >kill.files
intact=0 truncated=0 other=0
while read -r f; do
	"$CONCIERGE" --config "$CONF" recording verify "$f" >verify.out 2>&1
	case $? in
	0) intact=$((intact + 1)) ;;
	4) grep -Eq "TRUNCATED: [0-9]+ records, [0-9]+ bytes verified" verify.out && truncated=$((truncated + 1)) ||
		other=$((other + 1)) ;;
	*) other=$((other + 1)); echo "# faults: $f: $(head -3 verify.out)" ;;
	esac
done <kill.files
echo "# faults: $F recordings after kill -9: $truncated truncated at their last checkpoint, $intact intact, $other failed"
check "$F recordings, each verified up to its last checkpoint ($truncated truncated, $intact intact)" \
	test "$(wc -l <kill.files):$((truncated + intact)):$other" = "$F:$F:0"
check "the restarted relay marked them all truncated" \
	test "$(db "SELECT count(*) FROM recordings WHERE ticket_id='$TICKET' AND state='truncated'")" = "$F"
check "each truncation is audited" test "$(audit_count "recording.truncated .*$TICKET")" -eq "$F"
kill -TERM $KAGENT
wait_exit $KAGENT 30
check "the resumed agents end their sessions cleanly" test "$RC" -eq 0
check "the $F sessions ended" wait_for_count \
	"SELECT count(*) FROM sessions WHERE ticket_id='$TICKET' AND state='ended'" "$F" 30

expect "audit chain intact after everything" 0 "intact" "$CONCIERGE" --config "$CONF" audit verify
e2e_done
