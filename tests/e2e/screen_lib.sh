# Helpers for screen-session end-to-end tests (sourced after lib.sh): a relay
# on free loopback ports with a fresh state, staff users with real SSH keys,
# agents whose stdin is a FIFO the test answers through, `ssh -L` forwards
# and the rfb_probe RFB client.
TOOLS=$(cd "${TOOLS:?set TOOLS to the folder with rfb_probe}" && pwd)
PROBE="$TOOLS/rfb_probe"
CONF="$WORK/concierge.conf"

# relay_setup: init state, users dana (desk) and vera (vendor), start the
# relay; RELAY_CONFIG_EXTRA (lines ending in newlines) is added to its config.
relay_setup() {
	write_config "$CONF"
	AGENT_PORT=$(sed -n 's/^agent_listen = 127.0.0.1://p' "$CONF")
	SSH_PORT=$(sed -n 's/^ssh_listen = 127.0.0.1://p' "$CONF")
	printf 'hostname = 127.0.0.1\n%s' "${RELAY_CONFIG_EXTRA:-}" >>"$CONF"
	sed -i '/^hostname = relay.test.example$/d' "$CONF"
	"$CONCIERGE" --config "$CONF" init >/dev/null || return 1
	for u in dana:desk dina:desk vera:vendor; do
		ssh-keygen -q -t ed25519 -N '' -f "$WORK/${u%%:*}.key" || return 1
		"$CONCIERGE" --config "$CONF" user add "${u%%:*}" --role "${u##*:}" --key "$WORK/${u%%:*}.key.pub" >/dev/null || return 1
	done
	relay_start
}

relay_start() { # waits for this start's own "relay_started" (the log is appended to)
	local before
	before=$(log_count "$WORK/relay.log" "event=relay_started")
	"$RELAY" --config "$CONF" 2>>"$WORK/relay.log" &
	RELAY_PID=$!; E2E_PIDS+=($RELAY_PID)
	wait_for_more "$WORK/relay.log" "event=relay_started" "$before" 10
}

SSH_OPTS=(-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes
          -o LogLevel=ERROR -o ConnectTimeout=5 -o ExitOnForwardFailure=yes)

ssh_as() { # USER ARGS... : ssh to the relay as USER
	local user=$1; shift
	ssh "${SSH_OPTS[@]}" -i "$WORK/$user.key" -p "$SSH_PORT" "$user@127.0.0.1" "$@"
}

new_session() { # USER TICKET -> sets SID and CODE
	local json
	json=$(ssh_as "$1" session new --ticket "$2" --json) || return 1
	SID=$(printf '%s' "$json" | sed -n 's/.*"session":"\([^"]*\)".*/\1/p')
	CODE=$(printf '%s' "$json" | sed -n 's/.*"code":"\([^"]*\)".*/\1/p')
	[ -n "$SID" ] && [ -n "$CODE" ]
}

# agent_start NAME ARGS...: runs concierge-agent with stdin from FIFO $WORK/NAME.in
# (kept open on an fd stored in FD_NAME), stdout/stderr to $WORK/NAME.out.
agent_start() {
	local name=$1; shift
	mkfifo "$WORK/$name.in"
	"$AGENT" --relay "127.0.0.1:$AGENT_PORT" --ca "$WORK/state/certs/ca.pem" "$@" \
		<"$WORK/$name.in" >"$WORK/$name.out" 2>&1 &
	eval "AGENT_PID_$name=$!"
	E2E_PIDS+=($!)
	exec {fd}>"$WORK/$name.in"
	eval "FD_$name=$fd"
}

agent_say() { # NAME LINE: types LINE + Enter at the agent's terminal
	local fd; eval "fd=\$FD_$1"
	printf '%s\n' "$2" >&"$fd"
}

# forward USER SESSION REMOTEPORT -> sets LPORT; ssh -N -L runs in the background,
# its messages in $FWD_ERR
forward() {
	LPORT=$(free_port)
	FWD_ERR="$WORK/forward-$LPORT.err"
	ssh_as "$1" -N -L "127.0.0.1:$LPORT:$2:$3" 2>"$FWD_ERR" &
	FWD_PID=$!; E2E_PIDS+=($FWD_PID)
	# Wait for the listener without connecting (a connection would be a join).
	local deadline=$((SECONDS + 10))
	while [ $SECONDS -lt $deadline ]; do
		ss -Hltn "sport = :$LPORT" | grep -q LISTEN && return 0
		sleep 0.1
	done
	return 1
}

audit_has() { # PATTERN: the audit list has a matching line
	"$CONCIERGE" --config "$CONF" audit list | grep -Eq -- "$1"
}

# Consent questions accumulate in the agent's output, so waiting for "the
# next one" means counting: mark before triggering, then wait for more.
log_count() { local n; n=$(grep -Ec -- "$2" "$1" 2>/dev/null); echo "${n:-0}"; }
wait_for_more() { # FILE PATTERN BEFORE SECONDS: waits until PATTERN occurs more than BEFORE times
	local deadline=$((SECONDS + $4))
	while [ $SECONDS -lt $deadline ]; do
		[ "$(log_count "$1" "$2")" -gt "$3" ] && return 0
		sleep 0.1
	done
	return 1
}
# answer_next NAME PATTERN BEFORE ANSWER: waits for the next matching question, answers it.
answer_next() {
	wait_for_more "$WORK/$1.out" "$2" "$3" 15 && agent_say "$1" "$4"
}
