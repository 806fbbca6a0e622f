# Sourced by tests/bench/bench_*.sh after tests/e2e/lib.sh: starts the
# relay's peers (haproxy, stunnel, OpenSSH's sshd) from the templates next to
# this file on free loopback ports inside $WORK, and small helpers the
# benchmarks share (medians, ratios, negotiated ciphers, openssl speed).
# Every process started here is added to E2E_PIDS, so lib.sh's exit trap
# ends it.  Progress goes to stderr; stdout is left for the Markdown section.
PEERS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

progress() { echo "bench: $*" >&2; }

# Replaces lib.sh's free_port for the benchmarks: other load runs on this
# machine hold thousands of connections, and a port of the ephemeral range
# (ip_local_port_range) that is connected rather than listening still fails
# a bind.  Ports are picked below that range, unused in any TCP state.
free_port() {
	local low port
	low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
	low=${low:-32768}
	for _ in $(seq 1 200); do
		port=$((10000 + RANDOM % (low - 10000)))
		if [ -z "$(ss -Htan "( sport = :$port or dport = :$port )")" ]; then
			echo "$port"
			return 0
		fi
	done
	return 1
}

# peers_render TEMPLATE OUT NAME=VALUE...: copies TEMPLATE to OUT with every
# @NAME@ replaced by VALUE (values are paths and ports: no '|' in them).
peers_render() {
	local template=$1 out=$2 sub=() pair
	shift 2
	for pair in "$@"; do sub+=(-e "s|@${pair%%=*}@|${pair#*=}|g"); done
	sed "${sub[@]}" "$template" >"$out"
	! grep -q '@[A-Z_]*@' "$out"
}

# wait_listen PORT SECONDS: until something listens on 127.0.0.1:PORT.
wait_listen() {
	local deadline=$((SECONDS + $2))
	while [ $SECONDS -lt $deadline ]; do
		ss -Hltn "sport = :$1" | grep -q LISTEN && return 0
		sleep 0.1
	done
	echo "bench: nothing listens on 127.0.0.1:$1 after $2 s" >&2
	return 1
}

# launch_daemon PIDVAR PORT LOG CMD...: CMD in the background (output to
# LOG), its pid in the variable PIDVAR and in E2E_PIDS; waits for PORT.
launch_daemon() {
	local var=$1 port=$2 log=$3
	shift 3
	"$@" >>"$log" 2>&1 &
	printf -v "$var" '%s' "$!"
	E2E_PIDS+=($!)
	wait_listen "$port" 10
}

# haproxy_start LISTEN_PORT BACKEND_PORT: TLS in, TLS out to the backend,
# with the relay's certificate and CA (state/certs from `concierge init`).
haproxy_start() {
	local certs="$WORK/state/certs" cfg="$WORK/haproxy.cfg"
	cat "$certs/relay.pem" "$certs/relay.key" >"$WORK/haproxy-cert.pem"
	chmod 600 "$WORK/haproxy-cert.pem"
	peers_render "$PEERS_DIR/haproxy.cfg.in" "$cfg" LISTEN_PORT="$1" BACKEND_PORT="$2" \
		CERT_WITH_KEY="$WORK/haproxy-cert.pem" CA_FILE="$certs/ca.pem" || return 1
	launch_daemon HAPROXY_PID "$1" "$WORK/haproxy.log" haproxy -db -f "$cfg"
}

# stunnel_start LISTEN_PORT BACKEND_PORT: the same work as haproxy_start
# (two chained services, see stunnel.conf.in).
stunnel_start() {
	local certs="$WORK/state/certs" cfg="$WORK/stunnel.conf"
	peers_render "$PEERS_DIR/stunnel.conf.in" "$cfg" LISTEN_PORT="$1" BACKEND_PORT="$2" \
		INNER_PORT="$(free_port)" CERT_FILE="$certs/relay.pem" KEY_FILE="$certs/relay.key" \
		CA_FILE="$certs/ca.pem" LOG_FILE="$WORK/stunnel.log" || return 1
	launch_daemon STUNNEL_PID "$1" "$WORK/stunnel.log" stunnel "$cfg"
}

# stunnel_client_start LISTEN_PORT AGENT_PORT: plain in, TLS out to the
# agent's side (stunnel-client.conf.in), for the standard-parts SSH path.
stunnel_client_start() {
	local cfg="$WORK/stunnel-client.conf"
	peers_render "$PEERS_DIR/stunnel-client.conf.in" "$cfg" LISTEN_PORT="$1" AGENT_PORT="$2" \
		CA_FILE="$WORK/state/certs/ca.pem" LOG_FILE="$WORK/stunnel-client.log" || return 1
	launch_daemon STUNNEL_CLIENT_PID "$1" "$WORK/stunnel-client.log" stunnel "$cfg"
}

# sshd_start: OpenSSH's sshd on a free port with its own host key and an
# authorized_keys holding $WORK/peer-client.key (created here).  Sets SSHD_PORT.
sshd_start() {
	local dir="$WORK/sshd"
	mkdir -p "$dir"
	# sshd checks for its privilege-separation folder even with UsePAM no.
	[ -d /run/sshd ] || mkdir -p /run/sshd || return 1
	ssh-keygen -q -t ed25519 -N '' -f "$dir/ssh_host_ed25519_key" || return 1
	ssh-keygen -q -t ed25519 -N '' -f "$WORK/peer-client.key" || return 1
	cp "$WORK/peer-client.key.pub" "$dir/authorized_keys"
	SSHD_PORT=$(free_port)
	peers_render "$PEERS_DIR/sshd_config.in" "$dir/sshd_config" PORT="$SSHD_PORT" DIR="$dir" || return 1
	launch_daemon SSHD_PID "$SSHD_PORT" "$WORK/sshd.log" /usr/sbin/sshd -D -e -f "$dir/sshd_config"
}

# peer_forward KEY PORT USER REMOTE_HOST:REMOTE_PORT -> sets LPORT: a real
# `ssh -N -L` to any SSH server (the relay or sshd) in the background (FWD_PID).
peer_forward() {
	LPORT=$(free_port)
	ssh "${SSH_OPTS[@]}" -i "$1" -p "$2" -N -L "127.0.0.1:$LPORT:$4" "$3@127.0.0.1" \
		2>>"$WORK/forward.err" &
	FWD_PID=$!; E2E_PIDS+=($FWD_PID)
	wait_listen "$LPORT" 10
}

# tls_cipher_of PORT: the TLS version and cipher a default client negotiates.
tls_cipher_of() {
	openssl s_client -connect "127.0.0.1:$1" -CAfile "$WORK/state/certs/ca.pem" </dev/null 2>/dev/null |
		sed -n 's/^New, \(TLSv[0-9.]*\), Cipher is \(.*\)$/\1 \2/p' | head -1
}

# ssh_cipher_of KEY PORT USER COMMAND: server->client cipher and MAC the stock
# OpenSSH client negotiates with that server while running COMMAND there
# ("chacha20-poly1305@openssh.com (MAC <implicit>)").
ssh_cipher_of() {
	timeout 20 ssh -v -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -i "$1" -p "$2" "$3@127.0.0.1" "$4" 2>&1 </dev/null |
		sed -n 's/.*kex: server->client cipher: \([^ ]*\) MAC: \([^ ]*\).*/\1 (MAC \2)/p' | head -1
}

# openssl_speed_mbs CIPHER: one core's EVP throughput on 16 KiB blocks
# (the TLS record size), in MB/s (10^6 bytes).
openssl_speed_mbs() {
	nice openssl speed -seconds 2 -bytes 16384 -evp "$1" 2>/dev/null |
		awk -v c="$1" 'tolower($1) == tolower(c) { v = $NF; sub(/k$/, "", v); printf "%.0f\n", v * 1000 / 1e6 }'
}

# cpu_ticks PID: user + system CPU of a process and all its threads, in
# clock ticks (getconf CLK_TCK a second).
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# cpu_ticks_tree PID: cpu_ticks plus what its children that ended used
# (sshd: the per-connection processes, once it reaped them).
cpu_ticks_tree() {
	awk '{ print $14 + $15 + $16 + $17 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# cpu_per_gb TICKS BYTES: CPU seconds per 10^9 bytes relayed.
cpu_per_gb() {
	awk -v t="$1" -v b="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN { if (b > 0) printf "%.2f\n", t / hz / (b / 1e9); else print "-" }'
}

# with_cpu TICKS_FN BYTES CMD...: runs CMD (it prints MB/s or "-") and prints
# "MBPS CPU_S_PER_GB", the CPU being the growth of `TICKS_FN` (a command
# printing clock ticks, e.g. "cpu_ticks $RELAY_PID") over the run.
with_cpu() {
	local ticks=$1 bytes=$2 t0 v c
	shift 2
	t0=$($ticks)
	v=$("$@")
	c=$(cpu_per_gb $(($($ticks) - t0)) "$bytes")
	[ "$v" = - ] && c=-
	echo "$v $c"
}

# thread_cpu_start PID / thread_cpu_stop: samples the CPU ticks of every
# thread of PID every 0.2 s in between (the relay's SSH threads come and go
# with their connections); stop sets the ticks the main thread
# (the relay's libevent core: TLS, splices, recording) and all other
# threads (the relay's libssh threads) used meanwhile, in THREAD_MAIN and
# THREAD_OTHERS (call it in the shell that started the sampler: it waits
# for it).
thread_cpu_start() {
	local dir="$WORK/threads"
	rm -rf "$dir"; mkdir -p "$dir/first"
	THREAD_CPU_PID=$1
	( while kill -0 "$1" 2>/dev/null && [ ! -e "$dir/stop" ]; do
		for t in /proc/"$1"/task/*; do
			v=$(awk '{ print $14 + $15 }' "$t/stat" 2>/dev/null) || continue
			# Threads born during the run started from 0.
			[ -e "$dir/first/${t##*/}" ] || { [ -e "$dir/started" ] && echo 0 || echo "$v"; } >"$dir/first/${t##*/}"
			echo "$v" >"$dir/.${t##*/}" && mv "$dir/.${t##*/}" "$dir/${t##*/}" # never read half-written
		done
		touch "$dir/started"
		sleep 0.2
	done ) &
	THREAD_SAMPLER=$!
	sleep 0.3 # the first sample holds the threads' start values
}

thread_cpu_stop() {
	local dir="$WORK/threads" f tid d
	touch "$dir/stop"; wait "$THREAD_SAMPLER" 2>/dev/null
	THREAD_MAIN=0 THREAD_OTHERS=0
	for f in "$dir"/[0-9]*; do
		tid=${f##*/}
		d=$(($(cat "$f") - $(cat "$dir/first/$tid")))
		if [ "$tid" = "$THREAD_CPU_PID" ]; then THREAD_MAIN=$((THREAD_MAIN + d)); else THREAD_OTHERS=$((THREAD_OTHERS + d)); fi
	done
}

# median: of the numbers on stdin, one a line ("-" when there are none).
median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "-"; exit }
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf (m >= 100 ? "%.0f\n" : "%.3g\n"), m }'
}

# ratio A B: A/B with two decimals ("-" when either is missing or B is 0).
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f\n", a / b }'
}

# machine_line: one sentence on where the figures come from.
machine_line() {
	echo "Machine: $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), load average $(cut -d' ' -f1-3 /proc/loadavg) at the start, shared with other builds; loopback only."
}

# ---- our side: the relay and the load generators (tests/bench/README.md) ----

# bench_tools_check: the built programs the benchmarks need, or how to build them.
bench_tools_check() {
	local t
	for t in "$BENCH/load_agent" "$BENCH/load_participant" "$BENCH/bench_codes" "$@"; do
		[ -x "$t" ] || { echo "bench: $t is missing: run 'make bench-tools' (see tests/bench/README.md)" >&2; return 1; }
	done
}

# our_relay_start [BINARY]: fresh state (users dana, ...) and the relay from
# BINARY (default bin/concierge-relay) on free ports.  A second call starts a
# second, independent relay state after stopping the first.
our_relay_start() {
	[ -n "${RELAY_PID:-}" ] && { kill "$RELAY_PID" 2>/dev/null; wait "$RELAY_PID" 2>/dev/null; }
	rm -rf "$WORK/state" "$WORK"/*.key "$WORK"/*.key.pub
	RELAY=${1:-$BIN/concierge-relay}
	relay_setup
}

BENCH_TICKET=INC0099001
BENCH_TIMEOUT=${BENCH_TIMEOUT:-180}

# ours_start_agents N ARGS...: N fresh waiting sessions claimed by one
# load_agent (extra ARGS: --bytes, --echo, ...); returns once every agent is
# welcomed (sessions in $WORK/ready.txt).  Sets AGENT_PID.
ours_start_agents() {
	local n=$1; shift
	rm -f "$WORK/ready.txt"
	"$BENCH/bench_codes" --db "$WORK/state/concierge.db" --user dana --ticket "$BENCH_TICKET" \
		--count "$n" >"$WORK/codes.txt" || return 1
	"$BENCH/load_agent" --relay "127.0.0.1:$AGENT_PORT" --ca "$WORK/state/certs/ca.pem" \
		--codes "$WORK/codes.txt" --ready-file "$WORK/ready.txt" --timeout "$BENCH_TIMEOUT" "$@" \
		>"$WORK/agent.out" 2>"$WORK/agent.err" &
	AGENT_PID=$!; E2E_PIDS+=($AGENT_PID)
	wait_for_log "$WORK/ready.txt" "^s[0-9a-f]{8}" 30 &&
		[ "$(grep -c . "$WORK/ready.txt")" -eq "$n" ] || { echo "bench: load_agent: $(tail -3 "$WORK/agent.err")" >&2; return 1; }
}

# ours_stop_agents: waits for load_agent (it ends once its participants left).
ours_stop_agents() {
	wait_exit "$AGENT_PID" 30 || echo "bench: load_agent did not end by itself" >&2
}

# total_mbps FILE: the total MB/s a load_participant report gives ("-" when
# the run did not verify every stream).
total_mbps() {
	local line
	line=$(grep '^total ' "$1")
	if [ -z "$line" ] || [ "$(sed -n 's/.* streams=\([0-9]*\) ok=\([0-9]*\) .*/\1 \2/p' <<<"$line" | awk '{print ($1 == $2)}')" != 1 ]; then
		echo "bench: incomplete run: ${line:-no report} $(tail -2 "${1%.out}.err" 2>/dev/null)" >&2
		echo "-"
		return
	fi
	sed -n 's/.* mb_per_s=\([0-9.]*\).*/\1/p' <<<"$line"
}

# pingpong_field FILE KEY: p50_us / p99_us of a load_participant ping-pong report.
pingpong_field() {
	local v
	v=$(sed -n "s/^pingpong .* $2=\([0-9.]*\).*/\1/p" "$1")
	echo "${v:--}"
}

# ours_screen_run N BYTES: N sessions, each streaming BYTES of screen updates
# through the relay to a load_participant screen sink over SSH (one SSH
# connection per participant, as real participants have).  Prints MB/s.
ours_screen_run() {
	ours_start_agents "$1" --bytes "$2" --screen "$BENCH_SCREEN" || { echo "-"; return; }
	"$BENCH/load_participant" sink --kind screen --ssh "127.0.0.1:$SSH_PORT" --user dana \
		--key "$WORK/dana.key" --sessions "$WORK/ready.txt" --per-connection 1 \
		--timeout "$BENCH_TIMEOUT" >"$WORK/part.out" 2>"$WORK/part.err"
	ours_stop_agents
	total_mbps "$WORK/part.out"
	rm -rf "$WORK/state/recordings/$BENCH_TICKET" # the bytes are verified: keep the disk free
}

# peer_raw_run N BYTES PEER_PORT BACKEND_PORT: N TLS connections of BYTES raw
# pattern each, load_agent -> peer on PEER_PORT -> TLS -> load_participant
# listening on BACKEND_PORT.  Prints MB/s.
peer_raw_run() {
	local certs="$WORK/state/certs" part
	"$BENCH/load_participant" sink --kind raw --tls-listen "$4" --cert "$certs/relay.pem" \
		--cert-key "$certs/relay.key" --connections "$1" --expect-bytes "$2" \
		--timeout "$BENCH_TIMEOUT" >"$WORK/part.out" 2>"$WORK/part.err" &
	part=$!
	wait_listen "$4" 10 || { echo "-"; return; }
	"$BENCH/load_agent" --direct-tls "127.0.0.1:$3" --ca "$certs/ca.pem" --connections "$1" \
		--bytes "$2" --timeout "$BENCH_TIMEOUT" >"$WORK/agent.out" 2>"$WORK/agent.err"
	wait "$part"
	total_mbps "$WORK/part.out"
}

# peer_pingpong AGENT_TARGET_PORT BACKEND_PORT COUNT: 64-byte ping-pong, the
# pinging side is load_participant listening on BACKEND_PORT (TLS), the echo
# is load_agent --direct-tls dialling AGENT_TARGET_PORT (a peer forwarding
# to BACKEND_PORT, or BACKEND_PORT itself for a direct connection).  Leaves
# the report in $WORK/part.out.
peer_pingpong() {
	local certs="$WORK/state/certs" part
	"$BENCH/load_participant" pingpong --kind raw --size 64 --count "$3" --tls-listen "$2" \
		--cert "$certs/relay.pem" --cert-key "$certs/relay.key" --connections 1 \
		--timeout "$BENCH_TIMEOUT" >"$WORK/part.out" 2>"$WORK/part.err" &
	part=$!
	wait_listen "$2" 10 || return 1
	"$BENCH/load_agent" --direct-tls "127.0.0.1:$1" --ca "$certs/ca.pem" --connections 1 --echo \
		--timeout "$BENCH_TIMEOUT" >"$WORK/agent.out" 2>"$WORK/agent.err" &
	AGENT_PID=$!; E2E_PIDS+=($AGENT_PID)
	wait "$part"
	kill "$AGENT_PID" 2>/dev/null; wait "$AGENT_PID" 2>/dev/null
}

# ours_pingpong COUNT: 64-byte ping-pong through the relay: load_participant
# (libssh) types into a shell stream, load_agent --echo echoes it back as the
# shell's output.  Leaves the report in $WORK/part.out.
ours_pingpong() {
	ours_start_agents 1 --echo || return 1
	"$BENCH/load_participant" pingpong --kind shell --size 64 --count "$1" --ssh "127.0.0.1:$SSH_PORT" \
		--user dana --key "$WORK/dana.key" --sessions "$WORK/ready.txt" --per-connection 1 \
		--timeout "$BENCH_TIMEOUT" >"$WORK/part.out" 2>"$WORK/part.err"
	ours_stop_agents
}
