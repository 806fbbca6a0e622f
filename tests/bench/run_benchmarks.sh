#!/usr/bin/env bash
# make bench: runs every tests/bench/bench_<name>.sh (each prints one Markdown
# section on stdout, progress on stderr) and writes tests/bench/RESULTS.md:
# the machine's details, then every section in name order.  Figures, not
# pass/fail: a benchmark that fails leaves a note in its section and the
# others still run.
#   BENCH_ONLY="throughput latency"  run only these (names without bench_/.sh);
#                                     the others keep their section from their
#                                     last run (build/bench/logs/<name>.md), dated
#   RESULTS=path                      write elsewhere (default tests/bench/RESULTS.md)
set -u
cd "$(dirname "$0")/../.."
results=${RESULTS:-tests/bench/RESULTS.md}
logs=build/bench/logs
mkdir -p "$logs"
tmp=$(mktemp --tmpdir --suffix=.concierge-results)
trap 'rm -f "$tmp"' EXIT

version_of() { "$@" 2>&1 | head -1; }
{
	echo "# Benchmark results"
	echo
	echo "Written by \`make bench\` ($(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown))."
	echo "Figures, not pass/fail: each benchmark runs ours and its peer side by side on loopback,"
	echo "alternating, several rounds, and reports medians and our/peer ratios."
	echo
	echo "## Machine"
	echo
	echo "| | |"
	echo "|---|---|"
	echo "| CPU | $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1) |"
	echo "| memory | $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) |"
	echo "| kernel | $(uname -sr) |"
	echo "| system | $(. /etc/os-release && echo "$PRETTY_NAME") |"
	echo "| compiler | $(version_of cc --version) |"
	echo "| OpenSSL | $(version_of openssl version) |"
	echo "| libssh | $(pkg-config --modversion libssh 2>/dev/null) |"
	echo "| libevent | $(pkg-config --modversion libevent 2>/dev/null) |"
	echo "| haproxy | $(version_of haproxy -v) |"
	echo "| stunnel | $(stunnel4 -version 2>&1 | grep -m1 -o 'stunnel [0-9.]*') |"
	echo "| OpenSSH | $(version_of ssh -V) |"
	echo
	echo "The machine is small (2 cores) and may be shared: read ratios of alternating rounds, not absolute figures."
	echo
} >"$tmp"

failed=0
for script in tests/bench/bench_*.sh; do
	name=$(basename "$script" .sh); name=${name#bench_}
	if [ -n "${BENCH_ONLY:-}" ] && ! [[ " $BENCH_ONLY " == *" $name "* ]]; then
		if [ -s "$logs/$name.md" ]; then
			{ cat "$logs/$name.md"; echo
			  echo "_(This section is from an earlier \`make bench\` run on the same machine, $(date -u -r "$logs/$name.md" +%Y-%m-%dT%H:%MZ).)_"
			  echo; } >>"$tmp"
		fi
		continue
	fi
	echo "bench: $name (log $logs/$name.log)" >&2
	start=$SECONDS
	if bash "$script" >"$logs/$name.md" 2>"$logs/$name.log"; then
		cat "$logs/$name.md" >>"$tmp"
		echo "bench: $name done in $((SECONDS - start)) s" >&2
	else
		rc=$?
		failed=$((failed + 1))
		{ cat "$logs/$name.md"; echo; echo "**bench_$name.sh failed (exit $rc); last lines of its log:**"; echo
		  echo '```'; tail -15 "$logs/$name.log"; echo '```'; echo; } >>"$tmp"
		echo "bench: $name FAILED (exit $rc), see $logs/$name.log" >&2
	fi
	echo >>"$tmp"
done
cp "$tmp" "$results"
echo "bench: wrote $results ($failed failed)" >&2
