#!/usr/bin/env bash
# End to end: the load generators (tests/bench/) through a real relay.
# bench_codes makes waiting sessions, load_agent plays their agents (3 shell
# sessions and 1 screen session streaming the pattern), load_participant
# joins them over SSH and verifies every byte; the recordings verify and hold
# the same bytes (the screen leg's RFB via --fbs, the shell output via
# --asciicast); a ping-pong run through an echoing agent prints latencies.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screen_lib.sh"
cd "$WORK"
BENCH=$(cd "$TOOLS/../bench" && pwd)
BYTES=$((2 * 1024 * 1024))
TICKET=INC0090001

rec_id() { # SESSION: its recording id from recs.json
	grep -o "{\"id\":[0-9]*,\"ticket\":\"$TICKET\",\"session\":\"$1\"" recs.json | sed 's/{"id":\([0-9]*\),.*/\1/'
}

check "relay starts" relay_setup
"$BENCH/bench_codes" --db state/concierge.db --user dana --ticket "$TICKET" --count 4 >codes.txt 2>codes.err
check "bench_codes prints 4 'SESSION_ID CODE' lines" \
	test "$(grep -cE '^s[0-9a-f]{8} [0-9]{3}-[0-9]{3}-[0-9]{3}$' codes.txt)" -eq 4
expect "bench_codes refuses more than 1000 waiting sessions, naming the limit" 1 "1000.*locator" \
	"$BENCH/bench_codes" --db state/concierge.db --user dana --ticket "$TICKET" --count 1001

"$BENCH/load_agent" --relay "127.0.0.1:$AGENT_PORT" --ca state/certs/ca.pem --codes codes.txt \
	--bytes "$BYTES" --chunk 4000 --screen 200x50 --ready-file ready.txt --timeout 40 --json \
	>agent.json 2>agent.err &
AGENT_PID=$!; E2E_PIDS+=($AGENT_PID)
check "load_agent writes the ready file once all 4 agents are welcomed" \
	wait_for_log ready.txt "^s[0-9a-f]{8}$" 10
sleep 0.2
head -3 ready.txt >shell.txt
tail -1 ready.txt >screen.txt
"$BENCH/load_participant" sink --kind shell --ssh "127.0.0.1:$SSH_PORT" --user dana --key dana.key \
	--sessions shell.txt --per-connection 2 --timeout 30 --json >shell.json 2>shell.err &
SHELL_PID=$!; E2E_PIDS+=($SHELL_PID)
"$BENCH/load_participant" sink --kind screen --ssh "127.0.0.1:$SSH_PORT" --user dana --key dana.key \
	--sessions screen.txt --timeout 30 --json >screen.json 2>screen.err
SCREEN_RC=$?
wait_exit "$SHELL_PID" 30; SHELL_RC=$RC
wait_exit "$AGENT_PID" 30; AGENT_RC=$RC
check "the shell participants verified every byte and the end marker (exit 0)" test "$SHELL_RC" -eq 0
check "the screen participant verified every pixel byte and the end marker (exit 0)" test "$SCREEN_RC" -eq 0
check "load_agent ends by itself once the participants left (exit 0)" test "$AGENT_RC" -eq 0
[ "$SHELL_RC$SCREEN_RC$AGENT_RC" = 000 ] || { cat agent.err shell.err screen.err shell.json screen.json agent.json | head -40; }

SENT_SCREEN=$(sed -n 's/.*"total":{[^}]*"screen_bytes":\([0-9]*\).*/\1/p' agent.json)
SENT_SHELL=$(sed -n 's/.*"total":{[^}]*"shell_bytes":\([0-9]*\).*/\1/p' agent.json)
GOT_SHELL=$(sed -n 's/.*"total":{[^}]*"bytes":\([0-9]*\).*/\1/p' shell.json)
GOT_SCREEN=$(sed -n 's/.*"total":{[^}]*"bytes":\([0-9]*\).*/\1/p' screen.json)
check "the agent sent 3 x $BYTES shell bytes" test "${SENT_SHELL:-0}" -eq $((3 * BYTES))
check "bytes sent by the agent = bytes received by the shell participants ($SENT_SHELL)" \
	test "${SENT_SHELL:-0}" -eq "${GOT_SHELL:--1}"
check "bytes sent by the agent = bytes received by the screen participant ($SENT_SCREEN)" \
	test "${SENT_SCREEN:-0}" -ge "$BYTES" -a "${SENT_SCREEN:-0}" -eq "${GOT_SCREEN:--1}"
grep -o '"mb_per_s":[0-9.]*' shell.json | tail -1 | sed 's/^/shell total /'

# The recordings: one per session, each verifies and holds the bytes.
"$CONCIERGE" --config "$CONF" recording list --ticket "$TICKET" --json >recs.json
verified=0
for sid in $(cat ready.txt); do
	id=$(rec_id "$sid")
	"$CONCIERGE" --config "$CONF" recording verify "${id:-none}" >/dev/null 2>&1 && verified=$((verified + 1))
done
check "all 4 recordings verify" test "$verified" -eq 4
S=$(cat screen.txt)
"$CONCIERGE" --config "$CONF" recording export "$(rec_id "$S")" --fbs screen.fbs >/dev/null 2>export.err
# FBS blocks -> the leg's raw RFB bytes, checked by the same verifier as a live stream.
python3 - screen.fbs screen.rfb <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
assert data[:12] == b'FBS 001.000\n'
out, i = bytearray(), 12
while i < len(data):
    n = struct.unpack('>I', data[i:i + 4])[0]
    out += data[i + 4:i + 4 + n]
    i += 4 + (n + 3) // 4 * 4 + 4
open(sys.argv[2], 'wb').write(out)
PY
check "the screen recording holds every pattern byte and the end marker" \
	"$BENCH/load_participant" sink --kind screen --file screen.rfb --session "$S"
S1=$(head -1 shell.txt)
"$CONCIERGE" --config "$CONF" recording export "$(rec_id "$S1")" --asciicast shell.cast >/dev/null 2>>export.err
python3 - shell.cast shell.out <<'PY'
import json, sys
lines = open(sys.argv[1], encoding='utf-8').read().splitlines()
text = ''.join(e[2] for e in map(json.loads, lines[1:]) if e[1] == 'o')
open(sys.argv[2], 'wb').write(text.encode('utf-8'))
PY
check "the shell recording's output (asciicast) is the pattern the participant saw, once" \
	"$BENCH/load_participant" sink --kind shell --file shell.out --session "$S1" --expect-bytes "$BYTES"

# Ping-pong: an echoing agent, 64-byte round trips through the relay.
"$BENCH/bench_codes" --db state/concierge.db --user dana --ticket "$TICKET" --count 1 >codes2.txt
"$BENCH/load_agent" --relay "127.0.0.1:$AGENT_PORT" --ca state/certs/ca.pem --codes codes2.txt --echo \
	--ready-file ready2.txt --timeout 30 >agent2.out 2>agent2.err &
AGENT2_PID=$!; E2E_PIDS+=($AGENT2_PID)
wait_for_log ready2.txt "^s" 10
run_cmd "$BENCH/load_participant" pingpong --kind shell --size 64 --count 200 --ssh "127.0.0.1:$SSH_PORT" \
	--user dana --key dana.key --sessions ready2.txt --timeout 20
echo "$OUT" | grep pingpong
check "ping-pong completes 200 verified 64-byte round trips (exit 0)" test "$RC" -eq 0
check "ping-pong prints p50/p90/p99/max latencies in microseconds" \
	grep -Eq 'rounds=200 size=64 p50_us=[0-9.]+ p90_us=[0-9.]+ p99_us=[0-9.]+ max_us=[0-9.]+' <<<"$OUT"
wait_exit "$AGENT2_PID" 15
check "the echoing agent echoed exactly the 201 x 64 bytes sent (warm-up included)" \
	grep -q "echoed_bytes=$((201 * 64)) " agent2.out

e2e_done
