#!/usr/bin/env bash
# `make demo`: a live screen session on embedded defaults (SQLite, local
# certificates, local recordings folder) in a fresh build/demo/ folder:
# a relay and a demo agent on free loopback ports, a desk user with a fresh
# SSH key, a session for a demo ticket, a self-check through real ssh -L, and
# the exact commands to paste.  Runs until Ctrl-C (or DEMO_SECONDS), then
# stops everything and removes the temporary state.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(cd "${BIN:-bin}" && pwd)
TOOLS=$(cd "${TOOLS:-build/rel/tools}" 2>/dev/null && pwd || true)
DEMO=$(pwd)/build/demo
rm -rf "$DEMO"
mkdir -p "$DEMO"
cd "$DEMO"
pids=()
cleanup() {
	trap - EXIT INT TERM
	echo
	echo "Stopping the demo..."
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	cd / && rm -rf "$DEMO"
	echo "Stopped; temporary state removed."
}
trap cleanup EXIT
trap 'exit 0' INT TERM
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
free_port() {
	local port
	for _ in $(seq 1 200); do
		port=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
	done
	return 1
}
wait_for() { # FILE PATTERN SECONDS
	local deadline=$((SECONDS + $3))
	until grep -Eq -- "$2" "$1" 2>/dev/null; do
		[ $SECONDS -lt $deadline ] || { echo "demo: timed out waiting for '$2' in $1" >&2; tail -5 "$1" >&2; exit 1; }
		sleep 0.1
	done
}

AGENT_PORT=$(free_port)
SSH_PORT=$(free_port)
cat >concierge.conf <<CONF
# Written by make demo: everything else is a built-in default
# (./concierge.db, ./certs, ./recordings).
agent_listen = 127.0.0.1:$AGENT_PORT
ssh_listen = 127.0.0.1:$SSH_PORT
hostname = 127.0.0.1
CONF

step "1. Initialise the relay's state (CA, certificates, SSH host key, database)"
"$BIN/concierge" init

step "2. A desk agent, dana, with a fresh SSH key"
ssh-keygen -q -t ed25519 -N '' -C dana@demo -f dana_key
"$BIN/concierge" user add dana --role desk --key dana_key.pub

step "3. Start the relay (agents on :$AGENT_PORT, staff SSH on :$SSH_PORT)"
"$BIN/concierge-relay" 2>relay.log &
pids+=($!)
wait_for relay.log event=relay_started 10
SSH=(ssh -i "$DEMO/dana_key" -p "$SSH_PORT" -o StrictHostKeyChecking=accept-new
     -o UserKnownHostsFile="$DEMO/known_hosts" -o LogLevel=ERROR)

step "4. dana opens a session for ticket INC0012345 over SSH"
echo "\$ ssh dana@127.0.0.1 -p $SSH_PORT session new --ticket INC0012345"
"${SSH[@]}" dana@127.0.0.1 session new --ticket INC0012345 | tee session.txt
SID=$(sed -n 's/^session \(s[0-9a-f]*\) .*/\1/p' session.txt)
CODE=$(sed -n 's/^code: \([0-9-]*\) .*/\1/p' session.txt)

step "5. The lecturer's side: a demo agent dials in with the code"
echo "(demo mode: consent is given automatically and audited; a real agent asks the person)"
mkfifo agent.in
"$BIN/concierge-agent" --relay "127.0.0.1:$AGENT_PORT" --ca certs/ca.pem --code "$CODE" \
	--screen demo --auto-accept <agent.in >agent.log 2>&1 &
pids+=($!)
exec 9>agent.in
wait_for agent.log "Connected to your IT desk" 10
cat agent.log

if [ -n "$TOOLS" ] && [ -x "$TOOLS/rfb_probe" ]; then
	step "6. Self-check: a real RFB client through ssh -L gets the exact demo pattern"
	LPORT=$(free_port)
	"${SSH[@]}" -N -o ExitOnForwardFailure=yes -L "127.0.0.1:$LPORT:$SID:5901" dana@127.0.0.1 &
	fwd=$!
	for _ in $(seq 1 50); do ss -Hltn "sport = :$LPORT" | grep -q LISTEN && break; sleep 0.1; done
	"$TOOLS/rfb_probe" "127.0.0.1:$LPORT" --expect-demo --timeout 15
	kill "$fwd" 2>/dev/null || true
fi

step "7. Audit trail so far (every decision, chained)"
"$BIN/concierge" audit list --ticket INC0012345
"$BIN/concierge" audit verify

step "8. The session is recorded against its ticket (screen, input, events; signed checkpoints every second)"
"$BIN/concierge" recording list --ticket INC0012345
REC_ID=$("$BIN/concierge" recording list --ticket INC0012345 --json | sed -n 's/^\[{"id":\([0-9]*\).*/\1/p')
if [ -n "$REC_ID" ]; then
	"$BIN/concierge" recording timeline "$REC_ID"
fi

cat <<NEXT

The demo is live. In another terminal, paste:

  ssh -i $DEMO/dana_key -p $SSH_PORT -o UserKnownHostsFile=$DEMO/known_hosts \\
      -N -L 5900:$SID:5900 dana@127.0.0.1

then point any VNC viewer at localhost:5900, for example:

  vncviewer localhost:5900        (TigerVNC; gvncviewer, Remmina and vncsnapshot work too)

Also try:
  ssh -i $DEMO/dana_key -p $SSH_PORT -o UserKnownHostsFile=$DEMO/known_hosts dana@127.0.0.1 sessions
  cd $DEMO && $BIN/concierge audit list --ticket INC0012345

As an auditor (end the session first so the recording gets its signed trailer):
  ssh -i $DEMO/dana_key -p $SSH_PORT -o UserKnownHostsFile=$DEMO/known_hosts dana@127.0.0.1 session end $SID
  cd $DEMO && $BIN/concierge recording list
  cd $DEMO && $BIN/concierge recording verify ${REC_ID:-ID}
  cd $DEMO && $BIN/concierge recording timeline ${REC_ID:-ID}

Press Ctrl-C here to stop the relay and the agent and remove the demo state.
NEXT

if [ -n "${DEMO_SECONDS:-}" ]; then
	sleep "$DEMO_SECONDS"
else
	while :; do sleep 3600; done
fi
