#!/usr/bin/env bash
# End to end: the agent survives a relay crash (kill -9) and resumes its
# session; a session ended while the relay was down is reported as ended;
# SIGTERM at the agent ends its session; wrong codes are rate-limited per
# source address.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screen_lib.sh"
cd "$WORK"
check "relay starts" relay_setup

check "session for the crash test" new_session dana INC0070001
S1=$SID
agent_start r1 --screen demo --code "$CODE" --auto-accept
check "agent connects" wait_for_log r1.out "Connected to your IT desk" 10
kill -9 $RELAY_PID
wait $RELAY_PID 2>/dev/null
check "agent notices the lost relay and says it reconnects" wait_for_log r1.out "Lost the connection to the relay" 5
relay_start
check "agent resumes the same session after the relay restarts" wait_for_log r1.out "Reconnected to the relay; the session goes on" 20
check "the resume is audited" audit_has "session.resume +session:$S1 +INC0070001"
check "participants can join the resumed session" forward dana "$S1" 5901
"$PROBE" "127.0.0.1:$LPORT" --expect-demo --timeout 20 >resumed.out 2>&1
check "the demo pattern arrives after the restart" test $? -eq 0
expect "sessions shows the resumed session as active" 0 "$S1 .*active" ssh_as dana sessions

# A session ended while its agent was away: the agent says it ended.
kill -9 $RELAY_PID
wait $RELAY_PID 2>/dev/null
wait_for_log r1.out "Lost the connection" 5
sqlite3 state/concierge.db "UPDATE sessions SET state = 'ended', end_reason = 'ended by dana' WHERE id = '$S1'"
relay_start
eval "wait_exit \$AGENT_PID_r1 40"
check "agent whose session ended meanwhile exits 0" test "$RC" -eq 0
check "and says the session has ended" grep -q "The session has ended" r1.out

# SIGTERM at the agent (the lecturer closes it): the relay ends the session.
check "session for agent SIGTERM" new_session dana INC0070002
agent_start r2 --screen demo --code "$CODE" --auto-accept
wait_for_log r2.out "Connected to your IT desk" 10
eval "kill -TERM \$AGENT_PID_r2"
eval "wait_exit \$AGENT_PID_r2 5"
check "agent exits 0 on SIGTERM" test "$RC" -eq 0
sleep 0.5
check "the relay ends the session the agent left" audit_has "session.end +session:$SID +INC0070002 .*ended by the end user"

# Wrong codes from one address are rate-limited.
for i in $(seq 1 10); do
	"$AGENT" --relay "127.0.0.1:$AGENT_PORT" --ca state/certs/ca.pem --screen demo --code "9$(printf '%02d' $i)000000" \
		</dev/null >/dev/null 2>&1
done
expect "the 11th wrong code within a minute is refused as rate-limited" 1 "too many wrong codes" \
	"$AGENT" --relay "127.0.0.1:$AGENT_PORT" --ca state/certs/ca.pem --screen demo --code 999-000-000
check "the rate limit is audited" audit_has "session.code_deny .*reason=rate_limited source=127.0.0.1"
check "audit chain intact" "$CONCIERGE" --config "$CONF" audit verify
e2e_done
