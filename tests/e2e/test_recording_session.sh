#!/usr/bin/env bash
# End to end, issue 5: a real session is recorded against its ticket.  A demo
# agent, two desk participants over real OpenSSH forwards driven by rfb_probe
# (libvncclient): dana controls and types and clicks, dina only views and her
# input is dropped.  Then the recording verifies, its row and timeline say who
# did what; a recordings folder that cannot be written refuses participants
# (nothing unrecorded); a write failure mid-session cuts the participant; and
# after kill -9 of the relay the recording verifies up to its last checkpoint
# and the restarted relay marks it truncated.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screen_lib.sh"
cd "$WORK"
check "relay starts" relay_setup
REC() { "$CONCIERGE" --config "$CONF" recording "$@"; }
demo_session() { # TICKET AGENT: dana's session -> SID, with an auto-accepting demo agent connected
	new_session dana "$1" || return 1
	agent_start "$2" --screen demo --code "$CODE" --auto-accept
	wait_for_log "$2.out" "Connected to your IT desk" 10
}

# --- a recorded session with two participants
check "session for INC0005001 with a demo agent connected" demo_session INC0005001 a1
S1=$SID
check "control forward for dana" forward dana "$S1" 5900
P_DANA=$LPORT
check "view-only forward for dina" forward dina "$S1" 5901
P_DINA=$LPORT
# Both watch at once; dana types "hi" and clicks at 10,20 (XK_h = 0x68,
# XK_i = 0x69); dina's key and click are dropped (view only).
"$PROBE" "127.0.0.1:$P_DINA" --expect-demo --key 0x78 --click 30,40 --hold 4 --timeout 20 >dina.out 2>&1 &
DINA_PROBE=$!
expect "dana sees the demo pattern while typing and clicking" 0 "" \
	"$PROBE" "127.0.0.1:$P_DANA" --expect-demo --key 0x68 --key 0x69 --click 10,20 --hold 2 --timeout 20
wait_exit $DINA_PROBE 25
check "dina sees the demo pattern at the same time" test "$RC" -eq 0
check "the end user is told the session is recorded" wait_for_log a1.out "This session is recorded for ticket INC0005001" 5
expect "session end" 0 "ended session" ssh_as dana session end "$S1"
sleep 1
check "the recording is closed and audited with its chain head and signature" \
	audit_has "recording.close +recording:[0-9]+ +INC0005001 .*final_chain=[0-9a-f]{64} signature=[0-9a-f]+"
REC list --json >list.json
ID1=$(sed -n 's/.*"id":\([0-9]*\).*"ticket":"INC0005001".*/\1/p' list.json | head -1)
check "recording list names the ticket, state complete and both participants" \
	grep -Eq '"ticket":"INC0005001".*"state":"complete".*"participants":"(dana dina|dina dana)"' list.json
FILE1=$(ls state/recordings/INC0005001/"$S1"/*.cncgrec 2>/dev/null | head -1)
check "the file lies under recordings/<ticket>/<session>/" test -f "$FILE1"
check "the file is private (0600)" test "$(stat -c %a "$FILE1")" = 600
expect "the recording verifies intact" 0 "INTACT" REC verify "$ID1"
REC timeline "$ID1" >timeline.txt
check "timeline: dana joined with control" grep -Eq "dana.*join.*control" timeline.txt
# dina's dropped input may fall between dana's keys and split her typing.
REC timeline "$ID1" --json >timeline.json
dana_typed=$(grep -o '"participant":"dana","kind":"typed","text":"[^"]*"' timeline.json | sed 's/.*"text":"//; s/"$//' | tr -d '\n')
check "timeline: dana typed hi" test "$dana_typed" = hi
check "timeline: dana clicked at 10,20" grep -Eq "dana.*click.*10,20" timeline.txt
check "timeline: dina's input is marked dropped" grep -Eq "dina.*dropped" timeline.txt
check "timeline: the session end and its reason" grep -Eq "end.*ended by dana" timeline.txt
check "the timeline access is audited" audit_has "recording.timeline .*INC0005001"
# The screen as recorded: frames every 250 ms, each the exact demo pattern.
expect "export PNG frames every 250 ms" 0 "" REC export "$ID1" --png pngs --every 250ms
for t in 00m01.000s 00m01.500s 00m02.000s; do
	expect "the PNG at $t is an exact frame of the demo pattern" 0 "demo frame=[0-9]+" \
		"$TOOLS/png_probe" "pngs/frame-$t.png" --size 640x480 --expect-demo
done
check "the export is audited" audit_has "recording.export .*INC0005001"

# --- a recordings folder that cannot be written: nobody joins
check "session for INC0005002 with a demo agent connected" demo_session INC0005002 a2
S2=$SID
# A file where the ticket's folder must go: even root cannot create it.
: >state/recordings/INC0005002
check "forward for the unrecordable session" forward dana "$S2" 5900
expect "the participant is refused: the viewer shows why" 1 "" \
	bash -c "'$PROBE' 127.0.0.1:$LPORT --verbose --timeout 10 >refused.out 2>&1"
check "the refusal names the recording" grep -q "cannot record this session" refused.out
check "the refusal is audited" audit_has "participant.deny +session:$S2 .*cannot record this session"
check "the failed open is audited" audit_has "recording.open_failed +session:$S2"
check "no participant time: no join in the database" \
	test "$(sqlite3 state/concierge.db "SELECT count(*) FROM participants WHERE session_id='$S2'")" = 0
rm -f state/recordings/INC0005002
agent_say a2 q

# --- the disk fills mid-session: the participant is cut off, audited
kill -TERM $RELAY_PID; wait $RELAY_PID 2>/dev/null
CONCIERGE_RECORDING_FAIL_AFTER_BYTES=200000 relay_start
check "relay restarted with a disk that fills after 200 kB" test -n "$RELAY_PID"
check "session for INC0005003 with a demo agent connected" demo_session INC0005003 a3
S3=$SID
check "forward for the filling disk" forward dana "$S3" 5900
"$PROBE" "127.0.0.1:$LPORT" --hold 30 --timeout 40 >full.out 2>&1 &
FULL_PROBE=$!
check "the relay fails closed when the recording cannot be written" \
	wait_for_log relay.log "event=recording_broken session=$S3" 20
wait_exit $FULL_PROBE 10
check "the participant is cut off (well before its 30 s hold)" test "$RC" -ne 124
wait_exit $FWD_PID 5
check "the participant's ssh is told why (its disconnect message)" \
	grep -q "could not write this session's recording" "$FWD_ERR"
check "the cut is audited with why" audit_has "session.recording_failed +session:$S3 .*No space left on device"
check "the recording row says failed" \
	test "$(sqlite3 state/concierge.db "SELECT state FROM recordings WHERE session_id='$S3'")" = failed
check "the participant leaves because the recording failed" \
	wait_for_log relay.log "event=participant_left session=$S3 user=dana reason=\"recording failed\"" 5
agent_say a3 q
kill -TERM $RELAY_PID; wait $RELAY_PID 2>/dev/null
relay_start

# --- kill -9 of the relay mid-session: verified up to the last checkpoint
check "session for INC0005004 with a demo agent connected" demo_session INC0005004 a4
S4=$SID
check "forward for the crash" forward dana "$S4" 5900
"$PROBE" "127.0.0.1:$LPORT" --hold 20 --timeout 30 >crash.out 2>&1 &
sleep 3
kill -KILL $RELAY_PID; wait $RELAY_PID 2>/dev/null
FILE4=$(ls state/recordings/INC0005004/"$S4"/*.cncgrec | head -1)
expect "after kill -9 the recording verifies up to its last checkpoint (exit 4: truncated)" 4 \
	"TRUNCATED: [0-9]+ records, [0-9]+ bytes verified \(to the last signed checkpoint\)" REC verify "$FILE4"
relay_start
check "the restarted relay marks it truncated in the database" \
	test "$(sqlite3 state/concierge.db "SELECT state FROM recordings WHERE session_id='$S4'")" = truncated
check "the truncation is audited" audit_has "recording.truncated .*INC0005004"
check "the agent is back within 5 s of the restart" wait_for_log a4.out "Reconnected to the relay" 8
agent_say a4 q
expect "audit chain intact after everything" 0 "intact" "$CONCIERGE" --config "$CONF" audit verify
