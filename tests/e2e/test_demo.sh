#!/usr/bin/env bash
# End to end: `make demo`'s script brings up a live session, checks it with a
# real RFB client through ssh -L, prints the commands to paste, and cleans up.
. "$(dirname "$0")/lib.sh"
TOOLS=$(cd "${TOOLS:?set TOOLS}" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$WORK/demo.out"
# Relative paths, as `make demo` passes them.
cd "$root"
BIN="$(realpath --relative-to="$root" "$BIN")" TOOLS="$(realpath --relative-to="$root" "$TOOLS")" DEMO_SECONDS=1 timeout 120 bash "$root/scripts/demo.sh" >"$out" 2>&1
check "demo script exits 0" test $? -eq 0
check "demo prints the session code" grep -Eq "^code: [0-9]{3}-[0-9]{3}-[0-9]{3}" "$out"
check "demo's self-check received the exact demo pattern" grep -Eq "^demo ok frame=[0-9]+ width=640 height=480" "$out"
check "demo prints the ssh -L command to paste" grep -Eq -- "-N -L 5900:s[0-9a-f]{8}:5900 dana@127.0.0.1" "$out"
check "demo prints the viewer command" grep -q "vncviewer localhost:5900" "$out"
check "demo audit chain verifies" grep -q "audit log intact" "$out"
check "demo shows the session's recording against its ticket" grep -Eq "INC0012345 +s[0-9a-f]{8} +recording" "$out"
check "demo shows the recording's timeline with the self-check's join" grep -Eq "dana .*joined" "$out"
check "demo prints the auditor's commands" grep -q "recording verify" "$out"
check "demo removes its temporary state" test ! -e "$root/build/demo"
demo_processes() { # relay or agent processes still running in the demo folder
	local p
	for p in $(pgrep -x concierge-relay) $(pgrep -x concierge-agent); do
		readlink "/proc/$p/cwd" 2>/dev/null
	done | grep -c "build/demo"
}
check "demo leaves no relay or agent running" test "$(demo_processes)" -eq 0
e2e_done
