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
ROUNDS=${BENCH_ROUNDS:-3}
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
