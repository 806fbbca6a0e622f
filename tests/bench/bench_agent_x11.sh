#!/usr/bin/env bash
# Benchmark (figures, not pass/fail): the agent's screen against x11vnc on
# the same changing 1920x1080 Xvfb display.  tests/bench/x11_churn repaints
# a 1280x720 area (44% of the screen) X11_FPS times a second; each round
# serves the display with the agent's screen module (screen_harness --x11:
# agent/screen.c + screen_x11.c, libvncserver, no relay, no TLS) and then
# with x11vnc, and a libvncclient viewer (rfb_probe --hold) counts complete
# framebuffer updates and received bytes for X11_SECONDS; the server's CPU
# is utime+stime from /proc/PID/stat over the same time.
#   X11_ROUNDS (default 3)  X11_SECONDS (default 10)  X11_FPS (default 30)
#   X11_ENCODINGS (default "zrle copyrect raw", as the relay's recorder leg asks)
# Progress on stderr; a Markdown section on stdout.  Builds nothing:
# `make bench-tools` first.
BIN=${BIN:-$(dirname "$0")/../../bin}
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/agent_bench_lib.sh"
TOOLS=$(cd "${TOOLS:-$(dirname "$0")/../../build/rel/tools}" && pwd)
HARNESS="$TOOLS/screen_harness" PROBE="$TOOLS/rfb_probe" CHURN="$BENCH_TOOLS/x11_churn"
ROUNDS=${X11_ROUNDS:-3}
SECONDS_HELD=${X11_SECONDS:-10}
FPS=${X11_FPS:-30}
ENCODINGS=${X11_ENCODINGS:-zrle copyrect raw}
for t in "$HARNESS" "$PROBE" "$CHURN"; do
	[ -x "$t" ] || { echo "$t is not built: run 'make bench-tools'" >&2; exit 1; }
done
for c in Xvfb x11vnc; do
	command -v "$c" >/dev/null || { echo "$c is not installed: run 'make deps'" >&2; exit 1; }
done
cd "$WORK"

for n in $(seq 90 140); do [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ] || break; done
export DISPLAY=":$n"
Xvfb "$DISPLAY" -screen 0 1920x1080x24 -nolisten tcp -noreset >xvfb.log 2>&1 &
E2E_PIDS+=($!)
for _ in $(seq 1 50); do xdotool getmouselocation >/dev/null 2>&1 && break; sleep 0.1; done
"$CHURN" --display "$DISPLAY" --fps "$FPS" --area 1280x720 >churn.out 2>&1 &
E2E_PIDS+=($!)
wait_for_log churn.out "x11_churn ready" 10 || { progress "x11_churn did not start: $(cat churn.out)"; exit 1; }

# measure SERVER_PID PORT: sets UPS, KBPS (KB/s), CPU (% of one core) for one viewer.
measure() {
	local pid=$1 port=$2 t0 t1 out
	t0=$(cpu_s "$pid")
	out=$("$PROBE" "127.0.0.1:$port" --encodings "$ENCODINGS" --hold "$SECONDS_HELD" --timeout 20 2>probe.err)
	t1=$(cpu_s "$pid")
	UPS=$(printf '%s\n' "$out" | sed -n "s/^hold ok seconds=[0-9.]* updates=\([0-9]*\).*/\1/p")
	local bytes
	bytes=$(printf '%s\n' "$out" | sed -n 's/^hold ok .* bytes=\([0-9]*\).*/\1/p')
	if [ -z "$UPS" ] || [ -z "$bytes" ]; then
		progress "  viewer failed: $out $(head -3 probe.err)"
		UPS=n/a KBPS=n/a CPU=n/a
		return
	fi
	UPS=$(awk -v u="$UPS" -v s="$SECONDS_HELD" 'BEGIN { printf "%.1f\n", u / s }')
	KBPS=$(awk -v b="$bytes" -v s="$SECONDS_HELD" 'BEGIN { printf "%.0f\n", b / s / 1000 }')
	# The window includes the viewer's connect and first full update (under a second).
	CPU=$(awk -v a="$t0" -v b="$t1" -v s="$SECONDS_HELD" 'BEGIN { printf "%.0f\n", 100 * (b - a) / s }')
}

ours_ups=() ours_kbps=() ours_cpu=() peer_ups=() peer_kbps=() peer_cpu=()
for round in $(seq 1 "$ROUNDS"); do
	if server_start port "$HARNESS" --listen @PORT@ --x11 "$DISPLAY"; then
		measure "$SERVER_PID" "$port"
		progress "round $round/$ROUNDS agent screen: $UPS updates/s, $KBPS KB/s, CPU $CPU%"
		ours_ups+=("$UPS"); ours_kbps+=("$KBPS"); ours_cpu+=("$CPU")
		kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null
	fi
	if server_start port x11vnc -display "$DISPLAY" -rfbport @PORT@ -localhost -shared -forever \
		-nopw -quiet -noipv6; then
		measure "$SERVER_PID" "$port"
		progress "round $round/$ROUNDS x11vnc: $UPS updates/s, $KBPS KB/s, CPU $CPU%"
		peer_ups+=("$UPS"); peer_kbps+=("$KBPS"); peer_cpu+=("$CPU")
		kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null
	fi
done

row() { # LABEL OURS... -- PEER...
	local label=$1 o p; shift
	local -a a=() b=(); while [ "$1" != -- ]; do a+=("$1"); shift; done; shift; b=("$@")
	o=$(median "${a[@]}"); p=$(median "${b[@]}")
	echo "| $label | $o | $p | $(ratio "$o" "$p") |"
}
cat <<MD
## Agent screen against x11vnc

Xvfb 1920x1080x24; tests/bench/x11_churn repaints a 1280x720 area (44% of the screen,
moving colour bands) $FPS times a second. Ours: the agent's screen module
(tests/tools/screen_harness --x11: MIT-SHM capture, XDamage, libvncserver) without relay
or TLS. Peer: $(x11vnc -version 2>/dev/null | head -1 | awk '{print $1, $2}') on the same display
(\`-shared -forever -localhost\`, its defaults otherwise). One libvncclient viewer
(tests/tools/rfb_probe --hold, encodings "$ENCODINGS") for ${SECONDS_HELD} s per
measurement, $ROUNDS rounds alternating; CPU is the server process's utime+stime over
that time, in % of one core.

| (median) | ours (agent screen) | peer (x11vnc) | ours/peer |
|---|---|---|---|
$(row "framebuffer updates/s" "${ours_ups[@]}" -- "${peer_ups[@]}")
$(row "KB/s sent" "${ours_kbps[@]}" -- "${peer_kbps[@]}")
$(row "server CPU (% of a core)" "${ours_cpu[@]}" -- "${peer_cpu[@]}")
MD
