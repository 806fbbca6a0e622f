#!/usr/bin/env bash
# `make demo`: a guided tour on embedded defaults (SQLite, local certs, local
# recordings) in build/demo/, which is created fresh each run.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(cd "${BIN:-bin}" && pwd)
DEMO=build/demo
rm -rf "$DEMO"
mkdir -p "$DEMO"
cd "$DEMO"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "1. Initialise a relay's state on built-in defaults (no config file)"
run "$BIN/concierge" init

step "2. Add a desk agent with a fresh SSH key, and an auditor"
ssh-keygen -q -t ed25519 -N '' -C "desk-demo" -f desk_key
run "$BIN/concierge" user add dana --role desk --key desk_key.pub
run "$BIN/concierge" user add audrey --role auditor
run "$BIN/concierge" user list

step "3. Open the helpdesk ticket that sessions will be recorded against"
run "$BIN/concierge" ticket open INC0012345 --title "Lecture-hall PC shows no screen" --requester "Dr Ada Lovelace"
run "$BIN/concierge" ticket show INC0012345

step "4. Start the relay, check it is up, stop it with SIGTERM"
"$BIN/concierge-relay" 2>relay.log &
relay=$!
for _ in $(seq 1 50); do grep -q event=relay_started relay.log && break; sleep 0.1; done
cat relay.log
kill -TERM "$relay"
wait "$relay"
tail -n 1 relay.log

step "5. The tamper-evident audit log"
run "$BIN/concierge" audit list
run "$BIN/concierge" audit verify
head=$("$BIN/concierge" audit head)
echo "anchor this head elsewhere (ticket, e-mail, notary): $head"

cat <<NEXT

Demo state lives in $(pwd).
What to try next:
  cd $(pwd)
  $BIN/concierge --help                      # every command, with exit codes
  $BIN/concierge audit list --ticket INC0012345 --json
  $BIN/concierge audit verify --head $head
  sqlite3 concierge.db "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET actor='mallory' WHERE seq=3"
  $BIN/concierge audit verify                # exits 3 and names row 3
  make test                                  # the whole suite
NEXT
