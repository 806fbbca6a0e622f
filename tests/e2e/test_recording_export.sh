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
GENSCREEN="$TOOLS/../bench/gen_recording"
for t in "$PROBE" "$PNG" "$FBSPLAY" "$GENSHELL" "$GENSCREEN" "$TOOLS/synth_frame"; do
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
expect "the shell recording verifies" 0 "INTACT" C recording verify rec/shell.cncgrec

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
# A character cut by the end of the verified part comes out as U+FFFD at the end.
while t and set(t[-1][2]) == {"\ufffd"}:
    t.pop()
assert 0 < len(t) < len(f) and f[:len(t)] == t, (t, f)
PY

# ---------------------------------------------------------------- screen
# Two legs of 6 s at 5 frames a second with a 2 s gap (synth_recording.h):
# leg 1 shows 0.5-6.5 s, no picture 6.5-8.5 s, leg 2 8.5-14.5 s; END at 14.5 s.
GEN=(--seconds 6 --fps 5 --size 320x200 --legs 2 --gap-ms 2000)
SYNTH="$TOOLS/synth_frame"
CARD=404040           # frame_image.h FRAME_IMAGE_CARD
LEG2_BIT=$((15 * 4 + 1)),1   # frame-number cell of bit 16: white only in leg 2 (synth_frame_number)
"$GENSCREEN" --out rec/screen.cncgrec "${GEN[@]}" --key "$KEY" --quiet 2>gen.err
check "gen_recording writes a screen recording" test -s rec/screen.cncgrec

expect "export --png --contact-sheet --fbs in one run" 0 "png: 16 frames" \
	C recording export rec/screen.cncgrec --png out/png --every 1s --contact-sheet out/sheet.png --fbs out/leg1.fbs
check "PNG names carry the time" test -f out/png/frame-00m04.000s.png -a -f out/png/frame-00m14.500s.png
# Every frame: the generator's picture at that time, or the no-picture card.
png_frames_ok() {
	local f ms name
	for f in out/png/frame-*.png; do
		name=${f##*/frame-}; name=${name%s.png}
		ms=${name#*m}; ms=${ms/./}
		ms=$(( 10#${name%%m*} * 60000 + 10#$ms ))
		if "$SYNTH" --at-ms "$ms" --png "expected.png" "${GEN[@]}" >/dev/null; then
			"$PNG" "$f" --same-as expected.png || { echo "frame $f differs" >&2; return 1; }
			rm -f expected.png
		else
			"$PNG" "$f" --size 320x200 --pixel 0,100=$CARD || { echo "frame $f is no card" >&2; return 1; }
		fi
	done
}
check "every PNG frame shows what the generator drew then (or the no-picture card)" png_frames_ok
sheet_ok() {
	# 14.5 s -> 1 s steps, 15 tiles, 5 columns, 3 rows; tiles 256x160 (320x200), label 24, gaps 8
	"$PNG" out/sheet.png --size $((8 + 5 * (256 + 8)))x$((8 + 3 * (160 + 24 + 8))) &&
	"$PNG" out/sheet.png --pixel 8,8=000000 --pixel $((8 + 264 * 2 + 100)),$((8 + 192 + 80))=$CARD
}
check "contact sheet: a PNG of the expected grid (15 tiles, 5 columns); tile 8 (00:08) is the card" sheet_ok

# FBS of leg 1 through libvncclient ends on the replay's frame at 6.4 s (leg 1's last update).
expect "export --png every 200ms" 0 "png: 74 frames" C recording export rec/screen.cncgrec --png out/fine --every 200ms
expect "fbs_play replays the FBS export through libvncclient" 0 "fbs ok blocks=[0-9]+ .* 320x200" \
	"$FBSPLAY" out/leg1.fbs out/leg1-final.png
check "FBS final framebuffer equals the replay engine's last frame of leg 1" \
	"$PNG" out/leg1-final.png --same-as out/fine/frame-00m06.400s.png
expect "export --fbs --stream 2" 0 "stream 1002" C recording export rec/screen.cncgrec --fbs out/leg2.fbs --stream 2
expect "fbs_play replays leg 2" 0 "fbs ok" "$FBSPLAY" out/leg2.fbs out/leg2-final.png
check "leg 2's FBS ends on the replay's frame at 14.4 s" \
	"$PNG" out/leg2-final.png --same-as out/fine/frame-00m14.400s.png
expect "--stream of a leg that does not exist" 1 "no screen leg with stream 1005" \
	C recording export rec/screen.cncgrec --fbs out/none.fbs --stream 5

# Video through ffmpeg, and the error when ffmpeg is not in PATH.
expect "export --video" 0 "video: out/s.mp4" C recording export rec/screen.cncgrec --video out/s.mp4
check "ffprobe shows the recording's duration (14.5 s, 10 fps)" bash -c \
	"d=\$(ffprobe -v error -show_entries format=duration -of csv=p=0 out/s.mp4); awk -v d=\"\$d\" 'BEGIN{exit !(d > 14.3 && d < 14.8)}'"
mkdir -p nopath
ln -sf "$(command -v dirname)" nopath/dirname
expect "no ffmpeg: a clear error naming apt-get install ffmpeg, exit 1" 1 "apt-get install ffmpeg" \
	env PATH="$WORK/nopath" "$CONCIERGE" --config "$CONF" recording export rec/screen.cncgrec --video out/nf.mp4
check "no ffmpeg: nothing written" test ! -e out/nf.mp4

# ---------------------------------------------------------------- play
play_start() { # play_start OUTFILE ARGS...: starts playback on a free port, sets PLAY_PID, PORT
	local out=$1; shift
	PORT=$(free_port)
	# Not through C(): $! must be the player itself, for the signal tests.
	"$CONCIERGE" --config "$CONF" recording play "$@" --listen "127.0.0.1:$PORT" >"$out" 2>"$out.err" &
	PLAY_PID=$!
	E2E_PIDS+=("$PLAY_PID")
	wait_for_log "$out" "VNC playback" 20
}
play_start play1.out rec/screen.cncgrec --speed 20
check "play prints the viewer command" grep -q "vncviewer 127.0.0.1::$PORT" play1.out
wait_exit "$PLAY_PID" 30
check "play at speed 20 ends by itself at the end with exit 0" test "$RC" -eq 0
check "play prints the timeline as it plays" grep -q "screen recorder (stream 1002) started" play1.out
check "play shows the no-picture state between legs" grep -q "no picture (screen not shared)" play1.out
check "play prints a summary" grep -q "playback ended at 00:14 of 00:14" play1.out

play_start play2.out rec/screen.cncgrec --speed 0.1 --from 00:09.9
expect "--from 00:09.9 lands on leg 2, frame 7 (a real viewer sees it)" 0 "pixel ok" \
	"$PROBE" "127.0.0.1:$PORT" --timeout 10 --pixel "$LEG2_BIT=ffffff" --pixel 125,1=ffffff --pixel 113,1=000000
check "--from: the timeline starts at the position, the picture is leg 2" \
	bash -c "grep -q 'picture: screen leg 2' play2.out && ! grep -q 'stream 1001' play2.out"
kill -TERM "$PLAY_PID"; wait_exit "$PLAY_PID" 10
check "SIGTERM stops playback with a summary, exit 0" bash -c "[ $RC -eq 0 ] && grep -q 'playback stopped' play2.out"

play_start play3.out rec/screen.cncgrec --speed 0.1 --from 7
expect "between legs a viewer sees the no-picture card" 0 "pixel ok" \
	"$PROBE" "127.0.0.1:$PORT" --timeout 10 --pixel 5,100=$CARD
kill -INT "$PLAY_PID"; wait_exit "$PLAY_PID" 10
check "Ctrl-C stops playback, exit 0" test "$RC" -eq 0

play_start play4.out rec/shell.cncgrec --speed 20
wait_exit "$PLAY_PID" 30
check "playing a shell recording prints attributed input" grep -q "dana shell input: echo" play4.out
check "play is audited" bash -c "\"$CONCIERGE\" --config \"$CONF\" audit list | grep 'recording.play' | grep -q 'speed=0.1 from_ms=9900 verify=intact'"
expect "--from past the end" 2 "past the end" C recording play rec/screen.cncgrec --from 1:00

e2e_done
