# Sourced by tests/bench/bench_*.sh after tests/e2e/lib.sh: starts the
# relay's peers (haproxy, stunnel, OpenSSH's sshd) from the templates next to
# this file on free loopback ports inside $WORK, and small helpers the
# benchmarks share (medians, ratios, negotiated ciphers, openssl speed).
# Every process started here is added to E2E_PIDS, so lib.sh's exit trap
# ends it.  Progress goes to stderr; stdout is left for the Markdown section.
PEERS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

progress() { echo "bench: $*" >&2; }

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

# haproxy_start LISTEN_PORT BACKEND_PORT: TLS in, TLS out to the backend,
# with the relay's certificate and CA (state/certs from `concierge init`).
haproxy_start() {
	local certs="$WORK/state/certs" cfg="$WORK/haproxy.cfg"
	cat "$certs/relay.pem" "$certs/relay.key" >"$WORK/haproxy-cert.pem"
	chmod 600 "$WORK/haproxy-cert.pem"
	peers_render "$PEERS_DIR/haproxy.cfg.in" "$cfg" LISTEN_PORT="$1" BACKEND_PORT="$2" \
		CERT_WITH_KEY="$WORK/haproxy-cert.pem" CA_FILE="$certs/ca.pem" || return 1
	haproxy -db -f "$cfg" >>"$WORK/haproxy.log" 2>&1 &
	HAPROXY_PID=$!; E2E_PIDS+=($HAPROXY_PID)
	wait_listen "$1" 10
}

# stunnel_start LISTEN_PORT BACKEND_PORT: the same work as haproxy_start
# (two chained services, see stunnel.conf.in).
stunnel_start() {
	local certs="$WORK/state/certs" cfg="$WORK/stunnel.conf"
	peers_render "$PEERS_DIR/stunnel.conf.in" "$cfg" LISTEN_PORT="$1" BACKEND_PORT="$2" \
		INNER_PORT="$(free_port)" CERT_FILE="$certs/relay.pem" KEY_FILE="$certs/relay.key" \
		CA_FILE="$certs/ca.pem" LOG_FILE="$WORK/stunnel.log" || return 1
	stunnel "$cfg" >>"$WORK/stunnel.log" 2>&1 &
	STUNNEL_PID=$!; E2E_PIDS+=($STUNNEL_PID)
	wait_listen "$1" 10
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
	/usr/sbin/sshd -D -e -f "$dir/sshd_config" 2>>"$WORK/sshd.log" &
	SSHD_PID=$!; E2E_PIDS+=($SSHD_PID)
	wait_listen "$SSHD_PORT" 10
}

# peer_forward KEY PORT USER REMOTE_HOST:REMOTE_PORT -> sets LPORT: a real
# `ssh -N -L` to any SSH server (the relay or sshd) in the background.
peer_forward() {
	LPORT=$(free_port)
	ssh "${SSH_OPTS[@]}" -i "$1" -p "$2" -N -L "127.0.0.1:$LPORT:$4" "$3@127.0.0.1" \
		2>>"$WORK/forward.err" &
	E2E_PIDS+=($!)
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
