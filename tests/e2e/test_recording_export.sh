#!/usr/bin/env bash
# End to end: `concierge recording export` and `concierge recording play` on
# real recordings: a synthetic screen recording from tests/bench/gen_recording
# (it knows what it drew) and a shell recording from gen_shell_recording.
# Checks PNG pixels, the contact sheet grid, asciicast (parsed, and accepted
# by asciinema), FBS replayed through libvncclient (fbs_play) equal to the
# replay's last frame, video through ffmpeg (and the error without it), the
# audit rows, refusals (tampered, existing files, bad values), the truncated
# warning, and playback to a real RFB client (rfb_probe) with the timeline.
. "$(dirname "$0")/lib.sh"
TOOLS=$(cd "${TOOLS:-$(dirname "$0")/../../build/rel/tools}" && pwd)
PROBE="$TOOLS/rfb_probe"
PNG="$TOOLS/png_probe"
FBSPLAY="$TOOLS/fbs_play"
GENSHELL="$TOOLS/gen_shell_recording"
GENSCREEN="$TOOLS/gen_recording"
for t in "$PROBE" "$PNG" "$FBSPLAY" "$GENSHELL" "$GENSCREEN"; do
	[ -x "$t" ] || { not_ok "test tool $t is built"; e2e_done; }
done
cd "$WORK"
CONF="$WORK/concierge.conf"
write_config "$CONF"
C() { "$CONCIERGE" --config "$CONF" "$@"; }
expect "init" 0 "" C init
KEY=state/certs/relay.key
mkdir -p rec out

# ---------------------------------------------------------------- shell / asciicast
"$GENSHELL" "$KEY" rec/shell.cncgrec INC0000042 s0000abcd >shell.expected 2>shell.err
check "gen_shell_recording writes a recording" test -s rec/shell.cncgrec
expect "the shell recording verifies" 0 "intact" C recording verify rec/shell.cncgrec

expect "export --asciicast" 0 "asciicast: out/shell.cast" C recording export rec/shell.cncgrec --asciicast out/shell.cast
check "asciicast is private (0600)" test "$(stat -c %a out/shell.cast)" = 600
check "asciicast header: version 2, the first resize's size, the start time" python3 - out/shell.cast <<'PY'
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
h = json.loads(lines[0])
assert h["version"] == 2 and h["width"] == 100 and h["height"] == 30, h
assert isinstance(h["timestamp"], int) and h["timestamp"] > 1600000000, h
PY
check "asciicast events parse; output joins to what was recorded (U+FFFD for bad bytes); resize kept" \
	python3 - out/shell.cast shell.expected <<'PY'
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
events = [json.loads(l) for l in lines[1:]]
out = "".join(e[2] for e in events if e[1] == "o")
want = json.loads('"' + open(sys.argv[2], encoding="utf-8").read().rstrip("\n") + '"')
assert out == want, (out, want)
times = [e[0] for e in events]
assert times == sorted(times) and abs(times[0] - 0.5) < 1e-6, times
assert [e[1:] for e in events if e[1] == "r"] == [["r", "120x40"]], events
PY
# asciinema reads its input through /dev/tty: give it one with script(1).
check "asciinema cat accepts the file and prints the session" \
	bash -c "script -qec 'asciinema cat out/shell.cast' /dev/null | tr -d '\r' | grep -q 'héllo'"
check "asciinema play accepts the file (speed 50)" \
	bash -c "timeout 30 script -qec 'asciinema play -s 50 out/shell.cast' /dev/null | tr -d '\r' | grep -q 'exit'"
expect "export refuses to overwrite, naming the file" 1 "refusing to overwrite out/shell.cast" \
	C recording export rec/shell.cncgrec --asciicast out/shell.cast
expect "no shell output: --fbs on a shell recording fails clearly" 1 "no screen recording" \
	C recording export rec/shell.cncgrec --fbs out/none.fbs
check "the failed export left no file" test ! -e out/none.fbs
check "every export is audited with its formats and the verification" \
	bash -c "C() { \"$CONCIERGE\" --config \"$CONF\" \"\$@\"; }; C audit list --ticket INC0000042 |
	         grep 'recording.export' | grep -q 'formats=asciicast verify=intact'"

# ---------------------------------------------------------------- usage errors
expect "export without a format is a usage error" 2 "nothing to export" C recording export rec/shell.cncgrec
expect "--every without --png" 2 "give --png DIR too" C recording export rec/shell.cncgrec --every 5s --asciicast x.cast
for bad in 0 5x -1s 1.5.5s 99999999999s; do
	expect "--every $bad is refused" 2 "interval like 500ms, 5s or 1m" \
		C recording export rec/shell.cncgrec --png out/x --every "$bad"
done
expect "--stream outside screen legs is refused" 2 "screen leg" C recording export rec/shell.cncgrec --fbs x.fbs --stream 2001
expect "--speed out of range" 2 "0.1 to 100" C recording play rec/shell.cncgrec --speed 1000
expect "--from malformed" 2 "position like 01:30" C recording play rec/shell.cncgrec --from 1:99
expect "--listen on a non-loopback address is refused" 2 "only listens on loopback" \
	C recording play rec/shell.cncgrec --listen 0.0.0.0:5999
check "usage errors wrote nothing" test ! -e out/x -a ! -e x.cast -a ! -e x.fbs

# ---------------------------------------------------------------- tampered and truncated
cp rec/shell.cncgrec rec/tampered.cncgrec
size=$(stat -c %s rec/tampered.cncgrec)
printf 'X' | dd of=rec/tampered.cncgrec bs=1 seek=$((size / 2)) conv=notrunc status=none
expect "tampered: export refused with exit 3" 3 "TAMPERED" C recording export rec/tampered.cncgrec --asciicast out/t.cast
check "tampered: nothing written" test ! -e out/t.cast
check "tampered: the refused attempt is audited" \
	bash -c "\"$CONCIERGE\" --config \"$CONF\" audit list | grep 'recording.export' | grep -q 'verify=tampered refused=tampered'"
# Cut it at 60 %: the verified part is what the checkpoints before the cut cover.
head -c $((size * 6 / 10)) rec/shell.cncgrec >rec/truncated.cncgrec
expect "truncated: exported with a warning, exit 4" 4 "truncated" \
	C recording export rec/truncated.cncgrec --asciicast out/trunc.cast
check "truncated: the asciicast holds only verified events (a prefix of the full one)" \
	python3 - out/trunc.cast out/shell.cast <<'PY'
import json, sys
t = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8").read().splitlines()[1:]]
f = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8").read().splitlines()[1:]]
assert len(t) < len(f) and f[:len(t)] == t, (len(t), len(f))
PY

# ---------------------------------------------------------------- screen
. "$(dirname "$0")/recording_export_screen.sh"

e2e_done
