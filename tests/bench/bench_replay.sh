#!/usr/bin/env bash
# Benchmark (figures, not pass/fail): replay.  Seek times (replay_seek, the
# `make bench-replay` run, on its cached synthetic one-hour recording), then
# `concierge recording export` speed as a multiple of real time on the same
# synthetic hour, signed with a bench relay key so the CLI verifies and
# audits it as for a real recording: PNG frames (--every 10s), FBS, video
# (ffmpeg), and asciicast on a synthetic one-hour shell session
# (gen_shell_hour).  Recordings and the bench state are cached in
# REPLAY_CACHE (default build/bench; generating them takes about a minute once).
#   REPLAY_SECONDS (default 3600)  REPLAY_ROUNDS (default 2)
#   REPLAY_VIDEO_SECONDS (default 300: video encodes 10 frames per recorded
#   second, an hour would take many minutes per round)
# There is no peer program for these exports: the figures stand alone.
# Progress on stderr; a Markdown section on stdout.  Builds nothing:
# `make bench-tools` first.
BIN=${BIN:-$(dirname "$0")/../../bin}
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/agent_bench_lib.sh"
CACHE=$(mkdir -p "${REPLAY_CACHE:-build/bench}" && cd "${REPLAY_CACHE:-build/bench}" && pwd)
SECS=${REPLAY_SECONDS:-3600}
ROUNDS=${REPLAY_ROUNDS:-2}
VIDEO_SECS=${REPLAY_VIDEO_SECONDS:-300}
for t in replay_seek gen_recording gen_shell_hour; do
	[ -x "$BENCH_TOOLS/$t" ] || { echo "$BENCH_TOOLS/$t is not built: run 'make bench-tools'" >&2; exit 1; }
done

progress "seek benchmark (replay_seek --seconds $SECS)"
SEEK_OUT=$("$BENCH_TOOLS/replay_seek" --seconds "$SECS" --cache "$CACHE") ||
	{ progress "replay_seek failed: $SEEK_OUT"; exit 1; }

# The export state: a config, keys and database of its own, made once.
EXP="$CACHE/export"
mkdir -p "$EXP/state"
cat >"$EXP/concierge.conf" <<CONF
# export benchmark state (tests/bench/bench_replay.sh)
database = state/concierge.db
certs_dir = state/certs
recordings_dir = state/recordings
CONF
C() { ( cd "$EXP" && "$CONCIERGE" --config concierge.conf "$@" ); }
[ -f "$EXP/state/certs/relay.key" ] || C init >/dev/null || { progress "concierge init failed"; exit 1; }
SHELLREC="$EXP/shell-${SECS}s.cncgrec"
# screen_recording SECONDS: the path of replay_seek's picture (800x600, 2
# updates/s, a full-screen change every 20) for that long, made once.
screen_recording() {
	local path="$EXP/screen-${1}s-2fps-800x600.cncgrec"
	if [ ! -f "$path" ]; then
		progress "generating $path (once)"
		"$BENCH_TOOLS/gen_recording" --out "$path" --seconds "$1" --fps 2 --size 800x600 \
			--full-every 20 --key "$EXP/state/certs/relay.key" --quiet >&2 || { rm -f "$path"; return 1; }
	fi
	echo "$path"
}
SCREEN=$(screen_recording "$SECS") && VIDEO_SCREEN=$(screen_recording "$VIDEO_SECS") || exit 1
if [ ! -f "$SHELLREC" ]; then
	progress "generating $SHELLREC (once)"
	"$BENCH_TOOLS/gen_shell_hour" --out "$SHELLREC" --seconds "$SECS" --key "$EXP/state/certs/relay.key" ||
		{ rm -f "$SHELLREC"; exit 1; }
fi

# timed NAME RECORDING SECONDS EXPORT-ARGS...: runs the export into $WORK/out, prints
# its speed as a multiple of real time ("n/a" when it failed).
timed() {
	local name=$1 rec=$2 secs=$3 t0 t1; shift 3
	rm -rf "$WORK/out"; mkdir -p "$WORK/out/png"
	t0=$(date +%s.%N)
	if ! C recording export "$rec" "$@" >"$WORK/export.log" 2>&1; then
		progress "  $name export failed: $(tail -2 "$WORK/export.log")"
		echo n/a
		return
	fi
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" -v s="$secs" 'BEGIN { printf "%.0f\n", s / (b - a) }'
}

declare -A X
kinds=(png fbs asciicast)
command -v ffmpeg >/dev/null && kinds+=(video)
for round in $(seq 1 "$ROUNDS"); do
	for k in "${kinds[@]}"; do
		case $k in
		png)       x=$(timed png "$SCREEN" "$SECS" --png "$WORK/out/png" --every 10s) ;;
		fbs)       x=$(timed fbs "$SCREEN" "$SECS" --fbs "$WORK/out/screen.fbs") ;;
		asciicast) x=$(timed asciicast "$SHELLREC" "$SECS" --asciicast "$WORK/out/shell.cast") ;;
		video)     x=$(timed video "$VIDEO_SCREEN" "$VIDEO_SECS" --video "$WORK/out/screen.mp4") ;;
		esac
		progress "round $round/$ROUNDS $k: ${x}x real time"
		X[$k]+=" $x"
	done
done

cat <<MD
## Replay: seeking and export speed

Synthetic recordings of $SECS s made by the real writer (tests/bench/synth_recording:
libvncserver, the relay's recorder_leg, 800x600, 2 updates/s, a full-screen change
every 10 s; tests/bench/gen_shell_hour: a shell session with a coloured output line
every 0.5 s). Seek: tests/bench/replay_seek (\`make bench-replay\`), every sought frame
checked pixel by pixel:

\`\`\`
$SEEK_OUT
\`\`\`

Export: \`concierge recording export\` (verify + audit included) on the same hour signed
with the bench's relay key, $ROUNDS rounds, wall time; speed = recorded time / export time.
No peer program does these exports, so there is no ratio.

| export (median) | speed (x real time) |
|---|---|
| PNG frames, --every 10s ($((SECS / 10 + 1)) pictures) | $(median ${X[png]}) |
| FBS 001.000 | $(median ${X[fbs]}) |
| asciicast v2 (shell hour) | $(median ${X[asciicast]}) |
$(command -v ffmpeg >/dev/null && echo "| video (ffmpeg, 10 fps; a $VIDEO_SECS s recording of the same picture) | $(median ${X[video]}) |" || echo "| video | ffmpeg not installed |")
MD
