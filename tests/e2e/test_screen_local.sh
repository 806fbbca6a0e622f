#!/usr/bin/env bash
# End to end, without the relay: agent/screen.c served through
# tests/tools/screen_harness (each accepted TCP connection handed to
# screen_add_client, as the agent hands over a participant's stream) and
# checked with tests/tools/rfb_probe, a real libvncclient viewer.
#   demo: pixel-exact frames, two viewers at once, a viewer that stops
#         reading does not stall the others, disconnect-all is prompt,
#         libvncserver opens no listening socket of its own;
#   X11 (Xvfb): root colour, click moves the pointer, view-only cannot.
. "$(dirname "$0")/lib.sh"
TOOLS=$(cd "${TOOLS:-$(dirname "$0")/../../build/rel/tools}" && pwd)
PROBE="$TOOLS/rfb_probe"
HARNESS="$TOOLS/screen_harness"
cd "$WORK"
if [ ! -x "$PROBE" ] || [ ! -x "$HARNESS" ]; then
	not_ok "rfb_probe and screen_harness are built in $TOOLS"
	e2e_done
fi

# start_harness LOG ARGS...: starts the harness on a free port; sets $HPORT
# and $HPID, waits for its ready line.
start_harness() {
	local log=$1; shift
	HPORT=$(free_port)
	"$HARNESS" --listen "$HPORT" "$@" >"$log.out" 2>"$log.err" &
	HPID=$!
	E2E_PIDS+=($HPID)
	wait_for_log "$log.out" "^screen_harness ready port=$HPORT" 10
}

# listening_ports PID: the TCP ports PID listens on, one a line (from /proc,
# so it needs neither ss nor netstat).
listening_ports() {
	local inodes
	inodes=$(ls -l "/proc/$1/fd" 2>/dev/null | sed -n 's/.*socket:\[\([0-9]*\)\]$/\1/p' | tr '\n' ' ')
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v inodes=" $inodes" '
		$4 == "0A" && index(inodes, " " $10 " ") { split($2, a, ":"); print a[2] }' |
		while read -r hex; do printf '%d\n' "0x$hex"; done | sort -u
}

# ---- demo pattern ----
check "harness starts with the demo pattern" start_harness demo --demo 640x480
DEMO=127.0.0.1:$HPORT
expect "probe sees a pixel-exact demo frame" 0 "^demo ok frame=[0-9]+ width=640 height=480" \
	"$PROBE" "$DEMO" --expect-demo
expect "demo frame in JSON" 0 '^\{"check":"demo","ok":true,"frame":[0-9]+,"width":640,"height":480\}' \
	"$PROBE" "$DEMO" --expect-demo --json
expect "raw encoding is pixel-exact too" 0 "^demo ok" "$PROBE" "$DEMO" --expect-demo --encodings raw
expect "the demo pattern moves (two frames differ in row 0)" 0 "" bash -c "
	a=\$('$PROBE' '$DEMO' --expect-demo | sed -n 's/.*frame=\([0-9]*\).*/\1/p'); sleep 0.5
	b=\$('$PROBE' '$DEMO' --expect-demo | sed -n 's/.*frame=\([0-9]*\).*/\1/p')
	[ -n \"\$a\" ] && [ -n \"\$b\" ] && [ \"\$b\" -gt \"\$a\" ]"
expect "a pixel that is not there times out with what it has" 1 "^pixel FAIL x=5 y=100 expected=123456 got=[0-9a-f]{6}" \
	"$PROBE" "$DEMO" --pixel 5,100=123456 --timeout 1
expect "a pixel outside the framebuffer fails" 1 "outside the 640x480 framebuffer" \
	"$PROBE" "$DEMO" --pixel 700,10=000000 --timeout 1
expect "input on the demo is accepted" 0 "^key ok keysym=0xff0d" "$PROBE" "$DEMO" --click 10,10 --key Return

# A peer that speaks first with a WebSockets upgrade (libvncserver's own
# ws/wss path, never to be served) is hung up on.
ws_request() {
	exec 3<>"/dev/tcp/127.0.0.1/$HPORT" || return 1
	printf 'GET / HTTP/1.1\r\nHost: x\r\nOrigin: http://x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: binary\r\n\r\n' >&3
	timeout 5 cat <&3 >ws.out 2>/dev/null
	local rc=$?
	exec 3<&-
	[ $rc -ne 124 ] # closed by the server, not by the timeout
}
check "a WebSockets upgrade is hung up on" ws_request
check "and logged as refused" wait_for_log demo.err "event=screen_client_refused reason=websocket" 5

ports=$(listening_ports "$HPID" | tr '\n' ' ')
check "libvncserver opens no listening socket (only the harness's $HPORT: '$ports')" \
	test "$ports" = "$HPORT "

# demo_suite LABEL: viewers sharing the screen at $DEMO (harness $HPID, log $LOG).
demo_suite() {
	local l=$1 a s d1 d2 rc1 rc2 t0 ms
	# Two viewers at once: the first holds while the second connects unshared.
	"$PROBE" "$DEMO" --expect-demo --hold 3 >two-a.out 2>two-a.err &
	a=$!
	sleep 0.5
	expect "$l: second viewer (not shared) sees the pattern" 0 "^demo ok" \
		"$PROBE" "$DEMO" --expect-demo --no-share
	wait_exit $a 15
	check "$l: first viewer was not disconnected by the second" test "$RC" -eq 0
	check "$l: first viewer kept receiving updates" \
		grep -Eq "^hold ok seconds=3 updates=([5-9]|[1-9][0-9]+) " two-a.out

	# A viewer that stops reading must not stall the others.
	"$PROBE" "$DEMO" --stall 6 >stall.out 2>stall.err &
	s=$!
	sleep 1.5
	expect "$l: a viewer sees fresh frames while another stalls" 0 "^demo ok" \
		"$PROBE" "$DEMO" --expect-demo --timeout 3
	expect "$l: and keeps receiving them" 0 "^hold ok seconds=2 updates=([5-9]|[1-9][0-9]+) " \
		"$PROBE" "$DEMO" --hold 2
	wait_exit $s 15
	check "$l: the stalled viewer ran its course" grep -q "^stall ok seconds=6" stall.out

	# screen_disconnect_all (SIGUSR1 in the harness) ends every viewer at once,
	# a stalled one included.
	"$PROBE" "$DEMO" --stall 30 >stall2.out 2>stall2.err &
	s=$!
	"$PROBE" "$DEMO" --hold 20 >dc1.out 2>dc1.err &
	d1=$!
	"$PROBE" "$DEMO" --hold 20 >dc2.out 2>dc2.err &
	d2=$!
	sleep 1.5
	t0=$(date +%s%N)
	kill -USR1 "$HPID"
	wait_exit $d1 5
	rc1=$RC
	wait_exit $d2 5
	rc2=$RC
	ms=$((($(date +%s%N) - t0) / 1000000))
	check "$l: disconnect-all ends both viewers (exit $rc1/$rc2)" test "$rc1" -eq 1 -a "$rc2" -eq 1
	check "$l: disconnect-all is prompt (${ms} ms < 1000)" test "$ms" -lt 1000
	check "$l: the disconnected viewer reports it" grep -q "^hold FAIL .*alive=0" dc1.out
	expect "$l: new viewers are served after disconnect-all" 0 "^demo ok" \
		"$PROBE" "$DEMO" --expect-demo

	# screen_stop with a viewer that stopped reading still connected.
	"$PROBE" "$DEMO" --stall 30 >stall3.out 2>stall3.err &
	E2E_PIDS+=($!)
	sleep 1.5
	t0=$(date +%s%N)
	kill -TERM "$HPID"
	wait_exit "$HPID" 15
	ms=$((($(date +%s%N) - t0) / 1000000))
	check "$l: harness stops cleanly with a stalled viewer (exit $RC)" test "$RC" -eq 0
	check "$l: screen_stop is prompt (${ms} ms < 2000)" test "$ms" -lt 2000
	check "$l: screen_stop completed" grep -q "event=screen_stopped" "$LOG"
	kill $s 2>/dev/null
}

LOG=demo.err
demo_suite "tcp"

HARNESS_DEBUG=1 check "socketpair harness starts" start_harness pair --demo 320x200 --socketpair
DEMO=127.0.0.1:$HPORT
LOG=pair.err
expect "socketpair: pixel-exact demo frame" 0 "^demo ok frame=[0-9]+ width=320 height=200" \
	"$PROBE" "$DEMO" --expect-demo
demo_suite "socketpair"
check "socketpair: TCP_NODELAY on a socketpair is not a warning" \
	bash -c "grep -q 'level=debug.*TCP_NODELAY' pair.err && ! grep -q 'level=warn.*TCP_NODELAY' pair.err"

expect "demo size out of range is refused" 1 "out of range" "$HARNESS" --listen "$(free_port)" --demo 10x10
expect "rfb_probe usage error" 2 "usage" "$PROBE"
expect "rfb_probe bad pixel argument" 2 "bad argument" "$PROBE" 127.0.0.1:1 --pixel 1,2
expect "rfb_probe --stall goes alone" 2 "goes alone" "$PROBE" 127.0.0.1:1 --stall 1 --expect-demo
expect "rfb_probe reports a refused connection" 1 "cannot connect" "$PROBE" "127.0.0.1:$(free_port)" --timeout 2

# ---- X11 (Xvfb) ----
if ! command -v Xvfb >/dev/null 2>&1; then
	ok "# SKIP X11 screen tests: Xvfb is not installed"
	e2e_done
fi
dnum=""
for n in $(seq 60 199); do
	if [ ! -e "/tmp/.X11-unix/X$n" ] && [ ! -e "/tmp/.X$n-lock" ]; then dnum=$n; break; fi
done
check "a free X display number" test -n "$dnum"
Xvfb ":$dnum" -screen 0 800x600x24 -nolisten tcp >xvfb.log 2>&1 &
xpid=$!
E2E_PIDS+=($xpid)
check "Xvfb starts on :$dnum" bash -c "for i in \$(seq 100); do [ -e /tmp/.X11-unix/X$dnum ] && exit 0; sleep 0.1; done; exit 1"

expect "harness on a display that does not exist explains itself" 1 \
	"cannot open X display :$((dnum + 1000)): is DISPLAY right\? \(use --screen demo" \
	"$HARNESS" --listen "$(free_port)" --x11 ":$((dnum + 1000))"

check "harness starts on the X display" start_harness x11 --x11 ":$dnum"
X11=127.0.0.1:$HPORT
check "capture uses MIT-SHM, XDamage, XTest and XFixes" \
	grep -q "event=x11_started display=:$dnum width=800 height=600 shm=1 damage=1 xtest=1 cursor=1" x11.err
# After the harness connects (Xvfb resets when its last client leaves).
xsetroot -display ":$dnum" -solid '#3366cc'
expect "viewer sees the root colour" 0 "^pixel ok x=10 y=10 rgb=3366cc" "$PROBE" "$X11" --pixel 10,10=3366cc
expect "viewer gets the cursor shape and stays connected" 0 "^hold ok seconds=1 updates=[0-9]+ cursor_shapes=[1-9]" \
	"$PROBE" "$X11" --hold 1
xsetroot -display ":$dnum" -solid '#c0ffee'
expect "a change on the display reaches the viewer" 0 "^pixel ok x=799 y=599 rgb=c0ffee" \
	"$PROBE" "$X11" --pixel 799,599=c0ffee --timeout 5
expect "click is sent" 0 "^click ok x=123 y=45" "$PROBE" "$X11" --click 123,45
pointer_at() {
	local want=$1
	for _ in $(seq 30); do
		DISPLAY=":$dnum" xdotool getmouselocation 2>/dev/null | grep -q "^$want " && return 0
		sleep 0.1
	done
	DISPLAY=":$dnum" xdotool getmouselocation >&2
	return 1
}
check "the click moved the X pointer to 123,45" pointer_at "x:123 y:45"
caps_state() { xset -display ":$dnum" q | grep -o 'Caps Lock: *[a-z]*' | awk '{print $3}'; }
caps_is() {
	for _ in $(seq 30); do [ "$(caps_state)" = "$1" ] && return 0; sleep 0.1; done
	return 1
}
check "Caps Lock starts off" caps_is off
expect "key is sent" 0 "^key ok keysym=0xffe5" "$PROBE" "$X11" --key Caps_Lock
check "the key reached the X server (Caps Lock on)" caps_is on
ports=$(listening_ports "$HPID" | tr '\n' ' ')
check "no listening socket besides the harness's with X11 ('$ports')" test "$ports" = "$HPORT "
kill -TERM "$HPID"
wait_exit "$HPID" 15
check "X11 harness stops cleanly (exit $RC)" test "$RC" -eq 0

check "view-only harness starts" start_harness x11ro --x11 ":$dnum" --view-only
# (Xvfb may have reset, re-centring the pointer, when the last harness left.)
before=$(DISPLAY=":$dnum" xdotool getmouselocation | awk '{print $1, $2}')
check "the pointer is not at 300,300 yet ($before)" test "$before" != "x:300 y:300"
expect "view-only click is sent" 0 "^click ok x=300 y=300" "$PROBE" "127.0.0.1:$HPORT" --click 300,300
sleep 0.5
check "a view-only click does not move the pointer (still $before)" pointer_at "$before"
caps_before=$(caps_state)
expect "view-only key is sent" 0 "^key ok" "$PROBE" "127.0.0.1:$HPORT" --key Caps_Lock
sleep 0.5
check "a view-only key does not reach the X server (Caps Lock still $caps_before)" \
	test "$(caps_state)" = "$caps_before"
kill -TERM "$HPID"
wait_exit "$HPID" 15
check "view-only harness stops cleanly (exit $RC)" test "$RC" -eq 0

kill "$xpid" 2>/dev/null
wait "$xpid" 2>/dev/null

# Fallbacks: 16-bit colour, no XDamage (polling), no MIT-SHM (XGetImage);
# then the X server goes away under a running screen.
dnum2=""
for n in $(seq $((dnum + 1)) 199); do
	if [ ! -e "/tmp/.X11-unix/X$n" ] && [ ! -e "/tmp/.X$n-lock" ]; then dnum2=$n; break; fi
done
Xvfb ":$dnum2" -screen 0 640x480x16 -nolisten tcp -extension DAMAGE -extension MIT-SHM \
	>xvfb2.log 2>&1 &
xpid=$!
E2E_PIDS+=($xpid)
check "Xvfb (16-bit, no DAMAGE, no MIT-SHM) starts on :$dnum2" \
	bash -c "for i in \$(seq 100); do [ -e /tmp/.X11-unix/X$dnum2 ] && exit 0; sleep 0.1; done; exit 1"
check "harness starts on the reduced display" start_harness x11b --x11 ":$dnum2"
check "it falls back to XGetImage and polling" \
	grep -q "event=x11_started display=:$dnum2 width=640 height=480 shm=0 damage=0" x11b.err
xsetroot -display ":$dnum2" -solid '#3366cc'
# 0x3366cc in RGB565, widened back to 8 bits a channel.
expect "16-bit pixels are converted (3366cc -> 3165cd)" 0 "^pixel ok x=639 y=479 rgb=3165cd" \
	"$PROBE" "127.0.0.1:$HPORT" --pixel 639,479=3165cd --timeout 5
kill "$xpid"
wait "$xpid" 2>/dev/null
check "losing the X server is logged" wait_for_log x11b.err "event=x11_connection_lost" 5
expect "the screen survives its X server and keeps serving" 0 "^hold ok" \
	"$PROBE" "127.0.0.1:$HPORT" --hold 1
kill -TERM "$HPID"
wait_exit "$HPID" 15
check "harness stops cleanly after losing X (exit $RC)" test "$RC" -eq 0
e2e_done
