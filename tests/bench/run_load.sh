#!/usr/bin/env bash
# make load: runs tests/e2e/test_load.sh at full size (LOAD_* from the
# Makefile), shows its output as it goes, and writes what it printed -- every
# check and every "# load:" figure -- with the machine's details and the
# parameters to tests/bench/LOAD_RESULTS.md (RESULTS=path to write elsewhere).
#   --from-log FILE  write the results from a saved run's output instead of
#                    running (give the same LOAD_* settings)
# Exit status: the load test's (with --from-log: 0 if it printed no "not ok").
set -u
cd "$(dirname "$0")/../.."
results=${RESULTS:-tests/bench/LOAD_RESULTS.md}
log=build/bench/logs/load.log
mkdir -p "$(dirname "$log")"
if [ "${1:-}" = --from-log ] && [ -r "${2:-}" ]; then
	started=$(date -u -r "$2" +%Y-%m-%dT%H:%MZ)
	cp "$2" "$log"
	rc=0
	! grep -q '^not ok' "$log" || rc=1
elif [ $# -eq 0 ]; then
	started=$(date -u +%Y-%m-%dT%H:%MZ)
	bash tests/e2e/test_load.sh 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
else
	echo "usage: run_load.sh [--from-log FILE]   (FILE: a readable saved test_load.sh output)" >&2
	exit 2
fi
{
	echo "# Load test results"
	echo
	echo "Written by \`make load\` ($started, commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)," \
		"exit status $rc): tests/e2e/test_load.sh with LOAD_SESSIONS=${LOAD_SESSIONS:-} LOAD_SECONDS=${LOAD_SECONDS:-}" \
		"LOAD_RATE=${LOAD_RATE:-} LOAD_BURSTS=${LOAD_BURSTS:-} LOAD_JOIN_RATE=${LOAD_JOIN_RATE:-}."
	echo "Machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
		"$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)."
	echo "The relay, the agents (load_agent), the participants (load_participant) and the checks all"
	echo "share that machine."
	echo
	echo '```'
	# The RSS samples line is long: every 10th sample is enough here.
	grep -E '^(ok|not ok|# )' "$log" | cut -c1-600
	echo '```'
} >"$results"
echo "load: results written to $results" >&2
exit "$rc"
