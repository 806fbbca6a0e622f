#!/usr/bin/env bash
# End to end: concierge-relay and concierge-agent start, read their config,
# refuse to run without their state, and stop cleanly on SIGTERM.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
CONF="$WORK/concierge.conf"
write_config "$CONF"

expect "relay --help" 0 "usage: concierge-relay" "$RELAY" --help
expect "agent --help" 0 "usage: concierge-agent" "$AGENT" --help
expect "relay: unknown option is a usage error" 2 "usage" "$RELAY" --bogus
expect "relay refuses to start before init" 1 "run 'concierge init'" "$RELAY" --config "$CONF"
printf 'ssh_listen = nowhere\n' >bad.conf
expect "relay reports a bad config line" 1 "bad.conf:1: bad value for ssh_listen" "$RELAY" --config bad.conf

"$CONCIERGE" --config "$CONF" init >/dev/null
expect "relay --check passes after init" 0 "relay ready" "$RELAY" --config "$CONF" --check

# Start, wait for the start event, SIGTERM, expect exit 0 and a stop event.
"$RELAY" --config "$CONF" 2>relay.log &
pid=$!; E2E_PIDS+=($pid)
check "relay logs its start as key=value" wait_for_log relay.log "event=relay_started .*agent_listen=127.0.0.1:[0-9]+" 10
kill -TERM $pid
wait_exit $pid 10
check "relay exits 0 on SIGTERM" test "$RC" -eq 0
check "relay logs its stop" grep -q "event=relay_stopped signal=TERM" relay.log
"$CONCIERGE" --config "$CONF" audit list >audit.txt
check "relay start is audited" grep -Eq "^[0-9]+ .* relay +relay.start +relay " audit.txt
check "relay stop is audited with the signal" grep -Eq "^[0-9]+ .* relay +relay.stop +relay .*signal=TERM" audit.txt
check "audit chain intact after the relay ran" "$CONCIERGE" --config "$CONF" audit verify

# Agent: option errors, pinned CA, clean stop; the code is a secret and never logged.
expect "agent without --code is a usage error" 2 "--relay HOST:PORT --code CODE" "$AGENT" --config "$CONF" --relay 127.0.0.1:9
expect "agent with a bad --relay is a usage error" 2 "not HOST:PORT" "$AGENT" --config "$CONF" --relay nowhere --code 1
echo "not a certificate" >bogus-ca.pem
expect "agent refuses an unusable CA file" 1 "cannot load the relay CA" "$AGENT" --config "$CONF" --relay 127.0.0.1:9 --code 1 --ca bogus-ca.pem --screen demo
code=482913756
expect "agent without DISPLAY or --screen says what to do" 2 "screen demo" \
	env -u DISPLAY "$AGENT" --config "$CONF" --relay 127.0.0.1:9 --code $code
expect "--auto-accept is refused for a real screen" 2 "only allowed with --screen demo" \
	"$AGENT" --config "$CONF" --relay 127.0.0.1:9 --code $code --screen x11 --auto-accept
port=$(free_port)
expect "agent reports an unreachable relay in plain words" 1 "Cannot reach the relay at 127.0.0.1:$port" \
	"$AGENT" --config "$CONF" --relay 127.0.0.1:$port --code $code --ca state/certs/ca.pem --screen demo
if printf '%s\n%s\n' "$OUT" "$ERR" | grep -q "$code"; then
	not_ok "agent never prints or logs the session code"
else
	ok "agent never prints or logs the session code"
fi
e2e_done
