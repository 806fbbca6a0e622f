#!/usr/bin/env bash
# End to end: a desk agent opens a session over real OpenSSH, a demo agent
# dials in with the code, the person at the machine answers the consent
# questions on the agent's stdin, and a real RFB client (rfb_probe, built on
# libvncclient) behind `ssh -L` receives the exact demo pattern.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screen_lib.sh"
cd "$WORK"
check "relay starts with users dana (desk), dina (desk), vera (vendor)" relay_setup

# --- SSH commands
expect "whoami over ssh" 0 "^dana \(desk\)$" ssh_as dana whoami
expect "login without a command prints help" 0 "session new --ticket" ssh_as dana
check "session new prints a grouped 9-digit code" bash -c \
	"ssh ${SSH_OPTS[*]} -i $WORK/dana.key -p $SSH_PORT dana@127.0.0.1 session new --ticket INC0000001 |
	 grep -Eq '^code: [0-9]{3}-[0-9]{3}-[0-9]{3} '"
expect "session new without --ticket is a usage error" 2 "ticket ID is required" ssh_as dana session new
expect "session new with a bad ticket id" 2 "not a ticket id" ssh_as dana session new --ticket 'x;y'
expect "a vendor cannot open sessions" 1 "only desk agents" ssh_as vera session new --ticket INC0000002
expect "a vendor cannot list sessions" 1 "vendors cannot list sessions" ssh_as vera sessions
ssh-keygen -q -t ed25519 -N '' -f stranger.key
check "an unknown SSH key is refused" bash -c "! ssh ${SSH_OPTS[*]} -i stranger.key -p $SSH_PORT dana@127.0.0.1 whoami 2>/dev/null"
check "the refused key is audited" audit_has "auth.deny .*reason=\"unknown user or key\""
"$CONCIERGE" --config "$CONF" user disable dina >/dev/null
check "a disabled user is refused" bash -c "! ssh ${SSH_OPTS[*]} -i $WORK/dina.key -p $SSH_PORT dina@127.0.0.1 whoami 2>/dev/null"
check "the disabled login is audited" audit_has "auth.deny .*login=dina .*user disabled"

# --- a session end to end
check "session new --json for INC0012345" new_session dana INC0012345
S1=$SID
agent_start a1 --screen demo --code "$CODE" --consent-timeout 8
check "agent connects with the code" wait_for_log a1.out "Connected to your IT desk \(session $S1, ticket INC0012345" 10
expect "sessions lists the live session with the end user's host" 0 "$S1 +INC0012345 +active +dana +$(hostname)" ssh_as dana sessions
check "code cannot be used twice" bash -c "! '$AGENT' --relay 127.0.0.1:$AGENT_PORT --ca state/certs/ca.pem --screen demo --code '$CODE' </dev/null >reuse.out 2>&1; grep -q 'no session is waiting' reuse.out"

check "control forward (5900) by session id" forward dana "$S1" 5900
"$PROBE" "127.0.0.1:$LPORT" --expect-demo --timeout 20 >probe1.out 2>&1 &
P1=$!
check "agent asks to SEE the screen, naming user and ticket" wait_for_log a1.out "dana \(desk agent\) asks to SEE your screen for ticket INC0012345" 10
agent_say a1 y
check "agent then asks for CONTROL separately" wait_for_log a1.out "also asks to CONTROL your mouse and keyboard" 10
agent_say a1 y
wait_exit $P1 25
check "the participant receives the exact demo pattern through ssh -L" test "$RC" -eq 0
check "agent shows who is connected" wait_for_log a1.out "dana \(desk\) is now VIEWING AND CONTROLLING your screen" 5
check "consent and join are audited with the ticket" audit_has "consent.allow +session:$S1 +INC0012345 .*granted=control"
check "participant join is audited" audit_has "participant.join +session:$S1 +INC0012345 +rights=control"
FWD_CONTROL=$FWD_PID; LPORT_CONTROL=$LPORT

# A second participant does not disconnect the first; view only by ticket id.
"$PROBE" "127.0.0.1:$LPORT_CONTROL" --hold 8 --timeout 20 >hold.out 2>&1 &
PH=$!
wait_for_log a1.out "asks to SEE" 1
sleep 0.5
# The hold probe asks again (each connection is its own participant).
agent_say a1 y; sleep 0.3; agent_say a1 n
check "view-only forward (5901) by ticket id" forward dana INC0012345 5901
LPORT_VIEW=$LPORT
asked=$(log_count a1.out "asks to SEE")
"$PROBE" "127.0.0.1:$LPORT_VIEW" --expect-demo --timeout 20 >probe2.out 2>&1 &
P2=$!
answer_next a1 "asks to SEE" "$asked" y
wait_exit $P2 25
check "second participant receives the demo pattern" test "$RC" -eq 0
wait_exit $PH 20
check "first participant was not disconnected by the second" test "$RC" -eq 0

# A participant that stops reading does not stall another.
# Each answer waits for its question: an answer typed before the agent asks
# is not taken (and a slow, sanitized run may ask later than a fixed sleep).
asked=$(log_count a1.out "asks to SEE")
"$PROBE" "127.0.0.1:$LPORT_VIEW" --stall 10 --timeout 20 >stall.out 2>&1 &
PS=$!
answer_next a1 "asks to SEE" "$asked" y
sleep 2
asked=$(log_count a1.out "asks to SEE")
"$PROBE" "127.0.0.1:$LPORT_VIEW" --expect-demo --hold 3 --timeout 20 >probe3.out 2>&1 &
P3=$!
answer_next a1 "asks to SEE" "$asked" y
wait_exit $P3 25
check "a stalled participant does not stall another" test "$RC" -eq 0
wait_exit $PS 20

# Consent denied and consent timed out: clear refusals in the viewer.
asked=$(log_count a1.out "asks to SEE")
"$PROBE" "127.0.0.1:$LPORT_VIEW" --verbose --expect-demo --timeout 20 >denied.out 2>&1 &
PD=$!
answer_next a1 "asks to SEE" "$asked" n
wait_exit $PD 25
check "consent denied: the forward is refused" test "$RC" -ne 0
check "consent denied: the viewer is told why" grep -q "declined to share" denied.out
check "consent denial is audited" audit_has "consent.deny +session:$S1 .*reason=declined"
"$PROBE" "127.0.0.1:$LPORT_VIEW" --verbose --expect-demo --timeout 30 >timeout.out 2>&1 &
PT=$!
wait_exit $PT 35
check "consent timed out: the forward is refused" test "$RC" -ne 0
check "consent timed out: the viewer is told why" grep -q "did not answer" timeout.out
check "the agent says no answer means refused" grep -q "No answer in time: refused" a1.out

# Vendors cannot join in this issue.
check "vendor forward" forward vera "$S1" 5900
"$PROBE" "127.0.0.1:$LPORT" --verbose --expect-demo --timeout 10 >vendor.out 2>&1
check "a vendor is refused with a reason" grep -q "Only desk agents may join" vendor.out
check "the vendor refusal is audited" audit_has "participant.deny +session:$S1 .*user=vera"

# The end user ends the session: participants are cut within a second.
asked=$(log_count a1.out "asks to SEE") control_asked=$(log_count a1.out "asks to CONTROL")
"$PROBE" "127.0.0.1:$LPORT_CONTROL" --hold 20 --timeout 30 >cut.out 2>&1 &
PC=$!
answer_next a1 "asks to SEE" "$asked" y
answer_next a1 "asks to CONTROL" "$control_asked" y
wait_for_log a1.out "VIEWING AND CONTROLLING" 5
sleep 1
t0=$(date +%s%N)
agent_say a1 q
wait_exit $PC 5
t1=$(date +%s%N)
check "ending at the agent cuts the participant (probe saw the disconnect)" test "$RC" -ne 0
check "within 1 s" test $(( (t1 - t0) / 1000000 )) -lt 1500
eval "wait_exit \$AGENT_PID_a1 5"
check "agent exits 0 after the person ends the session" test "$RC" -eq 0
check "the end is audited with the ticket" audit_has "session.end +session:$S1 +INC0012345 .*ended by the end user"

# --- codes: wrong relay certificate, expiry, burning after 5 wrong tries
mkdir other && (cd other && "$CONCIERGE" init >/dev/null)
check "session for the certificate test" new_session dana INC0012346
expect "agent refuses a relay whose certificate the pinned CA did not sign" 3 "NOT your IT desk's Concierge relay" \
	"$AGENT" --relay "127.0.0.1:$AGENT_PORT" --ca other/certs/ca.pem --screen demo --code "$CODE"
sqlite3 state/concierge.db "UPDATE sessions SET code_expires_at = '2000-01-01T00:00:00.000Z' WHERE id = '$SID'"
expect "an expired code is refused" 1 "has expired" \
	"$AGENT" --relay "127.0.0.1:$AGENT_PORT" --ca state/certs/ca.pem --screen demo --code "$CODE"

check "session for the burn test" new_session dana INC0012347
digits=${CODE//-/}
last=${digits:8:1}
wrong="${digits:0:8}$(( (last + 1) % 10 ))"
for i in 1 2 3 4; do
	expect "wrong code try $i is refused" 1 "code is not right" \
		"$AGENT" --relay "127.0.0.1:$AGENT_PORT" --ca state/certs/ca.pem --screen demo --code "$wrong"
done
expect "the 5th wrong try burns the code" 1 "no longer works" \
	"$AGENT" --relay "127.0.0.1:$AGENT_PORT" --ca state/certs/ca.pem --screen demo --code "$wrong"
expect "the right code no longer works after burning" 1 "no session is waiting" \
	"$AGENT" --relay "127.0.0.1:$AGENT_PORT" --ca state/certs/ca.pem --screen demo --code "$CODE"
check "the burn is audited" audit_has "session.code_deny +session:$SID .*reason=burned failures=5"

# --- session end from ssh, and SIGTERM
check "session for session end" new_session dana INC0012348
agent_start a2 --screen demo --code "$CODE" --auto-accept
check "auto-accept agent connects and says DEMO MODE" wait_for_log a2.out "DEMO MODE" 10
wait_for_log a2.out "Connected to your IT desk" 10
check "auto-accept is audited" audit_has "session.start +session:$SID .*auto_accept=1"
expect "session end by ticket id" 0 "ended session $SID" ssh_as dana session end INC0012348
eval "wait_exit \$AGENT_PID_a2 5"
check "agent learns the session ended and exits 0" test "$RC" -eq 0
check "agent says who ended it" grep -q "ended by dana" a2.out

check "session for SIGTERM" new_session dana INC0012349
agent_start a3 --screen demo --code "$CODE" --auto-accept
wait_for_log a3.out "Connected to your IT desk" 10
check "control forward for SIGTERM" forward dana "$SID" 5900
"$PROBE" "127.0.0.1:$LPORT" --expect-demo --hold 30 --timeout 40 >term.out 2>&1 &
PTERM=$!
wait_for_log a3.out "is now VIEWING AND CONTROLLING" 10
sleep 1
kill -TERM $RELAY_PID
wait_exit $RELAY_PID 10
check "relay exits 0 on SIGTERM with live sessions" test "$RC" -eq 0
eval "wait_exit \$AGENT_PID_a3 5"
check "agent is told the relay shut down and exits 0" test "$RC" -eq 0
check "agent shows the reason" grep -q "relay is shutting down" a3.out
wait_exit $PTERM 5
check "the participant is cut off" test "$RC" -ne 0
check "SIGTERM ended the session in the audit log" audit_has "session.end +session:$SID .*relay is shutting down"
check "audit chain intact after everything" "$CONCIERGE" --config "$CONF" audit verify
e2e_done
