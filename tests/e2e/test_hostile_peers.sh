#!/usr/bin/env bash
# End to end: hostile peers on both relay ports while healthy sessions run.
# Two healthy shell sessions (agent --shell /bin/cat, participant `ssh
# relay shell S` in pipe mode) measure 64-byte ping-pong latency, first
# alone (baseline), then while tests/bench/hostile_peers attacks the agent
# TLS port and the SSH port: garbage, TLS junk lines, slowloris (half a
# ClientHello / SSH banner, a byte a second), oversized first lines and SSH
# packet lengths, wrong codes and SSH auth floods.  Asserts: p99 under
# attack within max(2 x baseline, baseline + 5 ms), the relay still up and
# serving a new session afterwards, every kind of rejection logged with the
# attacker's source address, and the log not flooded (a few lines per
# source and reason, the rest counted in `..._suppressed count=N`).
#
# Each attack comes from its own loopback address (127.0.0.10x: all of
# 127/8 is loopback on Linux), so the relay's per-source limits meet it
# and not the healthy sessions on 127.0.0.1.  Attackers run with nice 10
# and at most 200-300 new connections a second each: on this 2-core
# machine they share the CPUs (and the loopback's kernel work) with the
# relay, the agents and the ssh clients, while an attacker elsewhere costs
# the relay only what the relay does for it.  Bounded: about 40 s, at
# most 40 connections per attacker.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screen_lib.sh"
cd "$WORK"
HOSTILE="$TOOLS/../bench/hostile_peers"

check "relay starts" relay_setup

# healthy SESSION_ID...: a shell session per argument, echoed by /bin/cat.
healthy_agent() { # NAME TICKET -> session id in $SID
	new_session dana "$2" || return 1
	agent_start "$1" --screen demo --code "$CODE" --auto-accept --shell /bin/cat
	wait_for_log "$WORK/$1.out" "Connected to your IT desk" 10
}
check "healthy session 1" healthy_agent h1 INC0090001
S1=$SID
check "healthy session 2" healthy_agent h2 INC0090002
S2=$SID

# The pinger: one `ssh shell` per session (pipe mode), 64-byte lines
# round-robin; "measure SECONDS" on its stdin answers "p50_ms p99_ms count".
cat >pinger.py <<'PY'
import os, select, subprocess, sys, time
cmd, sessions = sys.argv[1].split(), sys.argv[2:]
procs = [subprocess.Popen(cmd + ["shell", s], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, bufsize=0) for s in sessions]
line = b"x" * 63 + b"\n"
def ping(p):
    t = time.perf_counter()
    p.stdin.write(line)
    got = b""
    while len(got) < len(line):
        r, _, _ = select.select([p.stdout], [], [], 5)
        if not r:
            return None
        chunk = os.read(p.stdout.fileno(), 4096)
        if not chunk:
            return None
        got += chunk
    return (time.perf_counter() - t) * 1000
for p in procs:  # warm up: the shell is open and echoing
    if ping(p) is None:
        print("dead", flush=True); sys.exit(1)
print("ready", flush=True)
for req in sys.stdin:
    end, lat = time.monotonic() + float(req.split()[1]), []
    while time.monotonic() < end:
        for p in procs:
            ms = ping(p)
            if ms is None:
                print("dead", flush=True); sys.exit(1)
            lat.append(ms)
    lat.sort()
    print("%.3f %.3f %d" % (lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.99))], len(lat)),
          flush=True)
PY
mkfifo pinger.in
python3 pinger.py "ssh ${SSH_OPTS[*]} -i $WORK/dana.key -p $SSH_PORT dana@127.0.0.1" "$S1" "$S2" \
	<pinger.in >pinger.out 2>pinger.err &
E2E_PIDS+=($!)
exec {PING_FD}>pinger.in
check "healthy sessions echo (pinger ready)" wait_for_log pinger.out "^ready" 20

# measure SECONDS -> "p50 p99 count" of the next answer
measure() {
	local before
	before=$(wc -l <pinger.out)
	echo "measure $1" >&"$PING_FD"
	local deadline=$((SECONDS + $1 + 10))
	while [ $SECONDS -lt $deadline ]; do
		[ "$(wc -l <pinger.out)" -gt "$before" ] && { tail -1 pinger.out; return 0; }
		sleep 0.1
	done
	echo "dead"
}

read -r BASE_P50 BASE_P99 BASE_N <<<"$(measure 2)"
echo "# baseline before the attacks: p50 ${BASE_P50} ms, p99 ${BASE_P99} ms ($BASE_N pings)"
check "baseline measured" test "${BASE_N:-0}" -gt 100 2>/dev/null

n=0
attack() { # PORT ARGS...: one hostile_peers run in the background, from its own address
	local port=$1; shift
	n=$((n + 1))
	nice -n 10 "$HOSTILE" --target "127.0.0.1:$port" --source "127.0.0.$((100 + n))" "$@" \
		>>attacks.out 2>&1 &
	ATTACK_PIDS+=($!)
}
# phase NAME SECONDS ATTACKS: starts the attacks (a function), measures
# meanwhile, then waits for them (each is bounded by its --seconds); the
# p99 is judged at the end.
declare -A PHASE_P99 PHASE_SECONDS
PHASES=()
phase() {
	local p50 p99 count
	ATTACK_PIDS=()
	"$3"
	read -r p50 p99 count <<<"$(measure "$2")"
	for pid in "${ATTACK_PIDS[@]}"; do wait "$pid"; done
	echo "# under $1: p50 ${p50} ms, p99 ${p99} ms ($count pings)"
	PHASE_P99[$1]=$p99
	PHASE_SECONDS[$1]=$2
	PHASE_ATTACKS[$1]=$3
}
declare -A PHASE_ATTACKS

garbage_both() {
	attack "$AGENT_PORT" --mode garbage --seconds 3 --connections 8 --rate 300
	attack "$SSH_PORT" --mode garbage --seconds 3 --connections 8 --rate 300
}
tls_junk() { attack "$AGENT_PORT" --mode tls-garbage --seconds 3 --connections 8 --rate 300; }
slowloris_both() {
	attack "$AGENT_PORT" --mode slowloris --seconds 12 --connections 40 --interval-ms 1000 --rate 200
	attack "$SSH_PORT" --mode slowloris --proto ssh --seconds 12 --connections 40 --interval-ms 1000 --rate 200
}
oversized_both() {
	attack "$AGENT_PORT" --mode oversized --seconds 3 --connections 8 --rate 300
	attack "$SSH_PORT" --mode oversized --proto ssh --seconds 3 --connections 8 --rate 300
}
wrong_credentials() {
	attack "$AGENT_PORT" --mode wrong-codes --seconds 3 --connections 8 --rate 300
	attack "$SSH_PORT" --mode ssh-auth-flood --seconds 3 --connections 4 --rate 300
}
# Sources in this order: .101 TLS garbage, .102 SSH garbage, .103 TLS junk,
# .104/.105 slowloris TLS/SSH, .106/.107 oversized TLS/SSH, .108 wrong
# codes, .109 SSH auth flood.
PHASES=("garbage (both ports)" "TLS junk lines" "slowloris (both ports)" "oversized messages (both ports)"
        "wrong codes and SSH auth floods")
phase "${PHASES[0]}" 3 garbage_both
phase "${PHASES[1]}" 3 tls_junk
phase "${PHASES[2]}" 12 slowloris_both
phase "${PHASES[3]}" 3 oversized_both
phase "${PHASES[4]}" 3 wrong_credentials
sed 's/^/# /' attacks.out

# The baseline is measured again after the attacks and the larger p99
# counted: other work on this shared 2-core machine moves the healthy
# latency during the run, and that is not the relay's doing.  Allowed p99
# under attack: twice the baseline, and never less than the baseline +
# 5 ms (a sub-millisecond baseline doubles from one scheduler hiccup).
read -r END_P50 END_P99 END_N <<<"$(measure 2)"
echo "# baseline after the attacks: p50 ${END_P50} ms, p99 ${END_P99} ms ($END_N pings)"
BASE=$(awk -v a="$BASE_P99" -v b="$END_P99" 'BEGIN { print (b + 0 > a + 0) ? b : a }')
# Under ASan+UBSan every connection the attackers open costs the relay
# several times the CPU, on the same two cores as the healthy sessions: the
# latency goal is the release build's; the sanitized run allows 4x and
# baseline + 15 ms while checking everything else the same.
FACTOR=2 FLOOR_MS=5
if ldd "$RELAY" 2>/dev/null | grep -q libasan; then FACTOR=4 FLOOR_MS=15; fi
LIMIT=$(awk -v b="$BASE" -v f="$FACTOR" -v m="$FLOOR_MS" \
	'BEGIN { l = f * b; if (l < b + m) l = b + m; printf "%.3f", l }')
within_limit() { awk -v v="$1" -v l="$LIMIT" 'BEGIN { exit !(v != "" && v + 0 <= l + 0) }'; }
# A phase over the limit runs once more (new source addresses): machine
# noise comes and goes, what the relay does for an attacker does not.
for ph in "${PHASES[@]}"; do
	if ! within_limit "${PHASE_P99[$ph]}"; then
		echo "# ${PHASE_P99[$ph]} ms under $ph is over $LIMIT ms: measuring that phase once more"
		first=${PHASE_P99[$ph]}
		phase "$ph" "${PHASE_SECONDS[$ph]}" "${PHASE_ATTACKS[$ph]}"
		PHASE_P99[$ph]=$(awk -v a="$first" -v b="${PHASE_P99[$ph]}" 'BEGIN { print (b + 0 < a + 0) ? b : a }')
	fi
	check "p99 under $ph (${PHASE_P99[$ph]} ms) within max($FACTOR x, + $FLOOR_MS ms) of baseline p99 $BASE ms (limit $LIMIT)" \
		within_limit "${PHASE_P99[$ph]}"
done

# Slowloris: the relay closed the dribblers at the pre-auth deadline, not later.
check "TLS slowloris connections closed by the relay within PREAUTH_TIMEOUT_S" \
	grep -Eq "mode=slowloris proto=tls .* closed_by_relay=[1-9][0-9]* .*hold_max_ms=(1[0-1][0-9]{3}|[0-9]{1,4})( |$)" attacks.out
check "SSH slowloris connections closed by the relay within its key-exchange timeout" \
	grep -Eq "mode=slowloris proto=ssh .* closed_by_relay=[1-9][0-9]* .*hold_max_ms=(1[0-1][0-9]{3}|[0-9]{1,4})( |$)" attacks.out

rejected() { # EVENT ADDRESS REASON: the relay logged this rejection with the source
	grep -Eq "event=$1 source=127\.0\.0\.$2 reason=$3( |$)" relay.log
}
check "garbage on the TLS port logged (tls_error, source)" rejected agent_refused 101 tls_error
check "garbage on the SSH port logged (kex_failed, source)" rejected ssh_refused 102 kex_failed
check "TLS junk lines logged (malformed_first_line)" rejected agent_refused 103 malformed_first_line
check "TLS slowloris logged (preauth_timeout)" rejected agent_refused 104 preauth_timeout
check "TLS slowloris over the per-source cap logged" rejected agent_refused 104 too_many_preauth_from_source
check "SSH slowloris logged (kex_failed)" rejected ssh_refused 105 kex_failed
check "SSH slowloris over the per-source cap logged" rejected ssh_refused 105 too_many_preauth_from_source
check "oversized TLS first line logged (over_long_first_line)" rejected agent_refused 106 over_long_first_line
check "oversized SSH packet logged (kex_failed: packet length)" \
	grep -Eq "event=ssh_refused source=127\.0\.0\.107 reason=kex_failed detail=\"[^\"]*[Pp]acket len" relay.log
check "wrong codes logged (wrong_code)" rejected agent_refused 108 wrong_code
check "wrong codes beyond the rate limit logged" rejected agent_refused 108 wrong_codes_rate_limited
check "a source that keeps failing is refused at accept (TLS)" rejected agent_refused 108 too_many_failures_from_source
check "SSH wrong keys logged (auth_denied)" rejected ssh_refused 109 auth_denied
check "SSH password attempts logged (auth_method_refused)" rejected ssh_refused 109 auth_method_refused
check "SSH connections cut after too many auth failures" rejected ssh_refused 109 too_many_auth_failures
check "a source that keeps failing is refused at accept (SSH)" rejected ssh_refused 109 too_many_failures_from_source

# Tens of thousands of rejected connections, a bounded log: at most
# REJECT_LOG_PER_WINDOW (3) lines per source, reason and 10 s window.
sum_of() { grep -o " $1=[0-9]*" attacks.out | awk -F= '{ s += $2 } END { print s + 0 }'; }
OPENED=$(sum_of opened)
REFUSED=$(sum_of refused)
LINES=$(grep -c "_refused" relay.log)
echo "# attackers: $OPENED connections opened, $REFUSED refused at connect; relay log: $LINES rejection lines"
check "more than 1000 hostile connections were made" test "${OPENED:-0}" -gt 1000
check "the rejection log stays small (< 300 lines)" test "$LINES" -lt 300
# The attacks last about 25 s: at most 4 windows of 3 lines per key.
check "at most 12 lines per source and reason" \
	awk '/event=(agent|ssh)_refused / { match($0, /source=[^ ]* reason=[^ ]*/);
	     if (++c[substr($0, RSTART, RLENGTH)] > 12) bad = 1 } END { exit bad }' relay.log
check "suppressed lines are counted in a summary line" \
	grep -Eq "event=(agent|ssh)_refused_suppressed source=127\.0\.0\.[0-9]+ reason=[a-z_]+ count=[1-9]" relay.log
check "log lines carry no raw peer bytes" bash -c "! LC_ALL=C grep -q '[^[:print:]]' relay.log"

# The relay survived and serves: healthy sessions still echo, a new one works.
read -r P50 P99 N <<<"$(measure 1)"
check "healthy sessions still answer after the attacks" test "${N:-0}" -gt 10 2>/dev/null
check "relay process still running" kill -0 "$RELAY_PID"
check "a new session after the attacks" healthy_agent h3 INC0090003
expect "and its shell echoes" 0 "^after-attack$" bash -c "echo after-attack | ssh ${SSH_OPTS[*]} -i $WORK/dana.key -p $SSH_PORT dana@127.0.0.1 shell $SID"
check "audit chain intact" "$CONCIERGE" --config "$CONF" audit verify
exec {PING_FD}>&-
e2e_done
