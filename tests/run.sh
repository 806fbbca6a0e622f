#!/usr/bin/env bash
# Runs every unit test binary and every end-to-end script, then prints one
# summary line "N passed, N failed".  Exit status 0 only when nothing failed.
#   BIN       folder with the built programs (default bin)
#   UNIT_DIR  folder with the built cmocka binaries (default build/rel/tests)
set -u
cd "$(dirname "$0")/.."
export BIN=$(cd "${BIN:-bin}" && pwd)
UNIT_DIR=${UNIT_DIR:-build/rel/tests}
passed=0 failed=0 failed_names=()

for t in "$UNIT_DIR"/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	echo "=== unit: $name"
	out=$("$t" 2>&1); rc=$?
	echo "$out"
	# cmocka's stdout and stderr interleave, so its totals may sit mid-line.
	p=$(echo "$out" | grep -o '\[  PASSED  \] [0-9]* test' | tail -1 | tr -dc 0-9)
	f=$(echo "$out" | grep -o '\[  FAILED  \] [0-9]* test' | tail -1 | tr -dc 0-9)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	if [ $rc -ne 0 ] && [ "${f:-0}" -eq 0 ]; then failed=$((failed + 1)); fi
	[ $rc -eq 0 ] || failed_names+=("$name")
done

# Fuzz targets replay their seed corpora, so a crash once found stays fixed.
for t in "${FUZZ_DIR:-build/fuzz}"/fuzz_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t"); name=${name#fuzz_}
	echo "=== fuzz replay: $name"
	if out=$("$t" -runs=0 tests/fuzz/corpus/"$name"/* 2>&1); then
		echo "ok - $name corpus ($(ls tests/fuzz/corpus/"$name" | wc -l) inputs)"
		passed=$((passed + 1))
	else
		echo "$out" | tail -20
		echo "not ok - $name corpus"
		failed=$((failed + 1)); failed_names+=("fuzz_$name")
	fi
done

for t in tests/e2e/test_*.sh; do
	name=$(basename "$t" .sh)
	echo "=== e2e: $name"
	out=$(bash "$t" 2>&1); rc=$?
	echo "$out"
	p=$(echo "$out" | grep -c '^ok ')
	f=$(echo "$out" | grep -c '^not ok ')
	passed=$((passed + p))
	failed=$((failed + f))
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then failed=$((failed + 1)); fi
	[ $rc -eq 0 ] || failed_names+=("$name")
done

echo
[ ${#failed_names[@]} -eq 0 ] || echo "failing: ${failed_names[*]}"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ ${#failed_names[@]} -eq 0 ]
