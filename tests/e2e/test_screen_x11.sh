#!/usr/bin/env bash
# End to end under Xvfb: the agent shares a real X display through the relay.
# A colour set on the root window reaches the participant; a click from the
# control participant moves the X pointer; the same from a view-only
# participant has no effect.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screen_lib.sh"
cd "$WORK"
if ! command -v Xvfb >/dev/null || ! command -v xdotool >/dev/null; then
	echo "ok - # SKIP Xvfb or xdotool not installed (make deps installs them)"
	e2e_done
fi
for n in $(seq 90 140); do [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ] || break; done
export DISPLAY=":$n"
Xvfb "$DISPLAY" -screen 0 800x600x24 -nolisten tcp -noreset >xvfb.log 2>&1 &
E2E_PIDS+=($!)
for _ in $(seq 1 50); do xdotool getmouselocation >/dev/null 2>&1 && break; sleep 0.1; done
check "Xvfb is up on $DISPLAY" bash -c "xdotool getmouselocation >/dev/null"
xsetroot -solid '#3366cc'

check "relay starts" relay_setup
check "session for ticket INC0054321" new_session dana INC0054321
agent_start x --screen x11 --code "$CODE"
check "x11 agent connects" wait_for_log x.out "Connected to your IT desk" 10

pointer() { xdotool getmouselocation --shell | tr '\n' ' '; }
xdotool mousemove 5 5
check "control forward" forward dana "$SID" 5900
CONTROL_PORT=$LPORT
"$PROBE" "127.0.0.1:$CONTROL_PORT" --pixel 10,10=3366cc --click 123,45 --timeout 20 >control.out 2>&1 &
P=$!
wait_for_log x.out "asks to SEE" 10; agent_say x y
wait_for_log x.out "asks to CONTROL" 10; agent_say x y
wait_exit $P 30
check "the participant sees the root window colour" test "$RC" -eq 0
sleep 0.5
check "the control participant's click moved the X pointer to 123,45" bash -c "[[ \"\$(xdotool getmouselocation --shell | tr '\n' ' ')\" == *'X=123 Y=45 '* ]]"

xdotool mousemove 7 7
check "view-only forward" forward dana "$SID" 5901
"$PROBE" "127.0.0.1:$LPORT" --pixel 10,10=3366cc --click 300,300 --timeout 20 >view.out 2>&1 &
P=$!
wait_for_log x.out "asks to SEE.*\n?" 10; sleep 0.3; agent_say x y
wait_exit $P 30
check "the view-only participant sees the screen" test "$RC" -eq 0
sleep 0.5
check "the view-only participant's click did not move the pointer" bash -c "[[ \"\$(xdotool getmouselocation --shell | tr '\n' ' ')\" == *'X=7 Y=7 '* ]]"
check "the dropped input is counted in the audit log" audit_has "stream.close .*participant=dana .*dropped_pointer=[1-9]"

# The control participant granted only viewing cannot click either.
xdotool mousemove 9 9
"$PROBE" "127.0.0.1:$CONTROL_PORT" --pixel 10,10=3366cc --click 200,200 --timeout 20 >partial.out 2>&1 &
P=$!
wait_for_log x.out "asks to SEE" 10; sleep 0.3; agent_say x y
sleep 0.5; agent_say x n
wait_exit $P 30
check "asked for control but granted view: sees the screen" test "$RC" -eq 0
sleep 0.5
check "asked for control but granted view: click has no effect" bash -c "[[ \"\$(xdotool getmouselocation --shell | tr '\n' ' ')\" == *'X=9 Y=9 '* ]]"

agent_say x q
eval "wait_exit \$AGENT_PID_x 5"
check "x11 agent ends cleanly" test "$RC" -eq 0
e2e_done
