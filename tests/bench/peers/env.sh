# Sourced first by every tests/bench/bench_*.sh: from the repository root,
# the built programs (BIN, TOOLS, BENCH = the load generators' folder), the
# end-to-end helpers (lib.sh: $WORK, cleanup; screen_lib.sh: the relay
# setup), the peers (peers.sh) and the common knobs.
#   BIN (bin), TOOLS (build/rel/tools), BENCH_DIR (build/rel/bench), BENCH_ROUNDS (3)
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
export BIN=${BIN:-bin} TOOLS=${TOOLS:-build/rel/tools}
BENCH=$(cd "${BENCH_DIR:-build/rel/bench}" 2>/dev/null && pwd) || BENCH=build/rel/bench
. tests/e2e/lib.sh
. tests/e2e/screen_lib.sh
. tests/bench/peers/peers.sh
# Every benchmark peer is 127.0.0.1: the relay's per-address pre-auth limits
# (server/peer_guard, for hostile peers) would throttle the measurement.
RELAY_CONFIG_EXTRA=$'preauth_per_source = 256\npreauth_failures_per_source = 1000000\n'
ROUNDS=${BENCH_ROUNDS:-3}
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
