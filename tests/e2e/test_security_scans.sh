#!/usr/bin/env bash
# The relay's two public ports, scanned with the standard tools: ssh-audit on
# the SSH port and testssl.sh on the agent TLS port.  Neither may report a
# weak protocol, cipher, key exchange or MAC.  SCAN_FULL=1 (make scan) runs
# testssl.sh's whole battery (vulnerabilities, client simulations) too.
#
# Findings accepted on purpose (docs/SECURITY_SCANS.md says why):
#   ssh-audit  kex-strict-s-v00@openssh.com "unknown algorithm" (the Terrapin
#              countermeasure; ssh-audit 2.5 predates it)
#   testssl    cert_revocation (agents pin a private CA: no CRL/OCSP), and
#              DNS_CAArecord (loopback has no DNS)
. "$(dirname "$0")/lib.sh"

for tool in ssh-audit testssl; do
	if ! command -v "$tool" >/dev/null; then
		not_ok "$tool is installed (run: make deps)"
		e2e_done
	fi
done

cd "$WORK"
write_config concierge.conf
# testssl.sh makes hundreds of handshakes from 127.0.0.1 that end without a
# code; the relay rightly shuts such an address out after
# preauth_failures_per_source of them, which would cut the scan short.
echo "preauth_failures_per_source = 100000" >>concierge.conf
AGENT_PORT=$(sed -n 's/^agent_listen = 127.0.0.1://p' concierge.conf)
SSH_PORT=$(sed -n 's/^ssh_listen = 127.0.0.1://p' concierge.conf)
"$CONCIERGE" --config concierge.conf init >/dev/null 2>&1
"$RELAY" --config concierge.conf >relay.log 2>&1 &
E2E_PIDS+=($!)
if ! wait_for_log relay.log 'event=relay_started' 10; then
	not_ok "relay starts"; cat relay.log; e2e_done
fi

# ---- SSH port: ssh-audit marks weak algorithms [fail] or [warn] ----------
timeout 120 ssh-audit --no-colors -p "$SSH_PORT" 127.0.0.1 >ssh-audit.txt 2>&1
check "ssh-audit reached the SSH port" grep -q '^(kex) curve25519-sha256' ssh-audit.txt
grep -E '^\((kex|key|enc|mac|gen|cve)\).*\[(fail|warn)\]' ssh-audit.txt |
	grep -v 'kex-strict-s-v00@openssh.com' >ssh-findings.txt
if ! grep -q '^(enc) ' ssh-audit.txt; then
	not_ok "ssh-audit finds no weak key exchange, host key, cipher or MAC (no report: $(tail -c 400 ssh-audit.txt))"
elif [ -s ssh-findings.txt ]; then
	not_ok "ssh-audit finds no weak key exchange, host key, cipher or MAC: $(head -c 600 ssh-findings.txt)"
else
	ok "ssh-audit finds no weak key exchange, host key, cipher or MAC"
fi
check "the SSH banner does not advertise the library version" \
	grep -q '^(gen) banner: SSH-2.0-Concierge_' ssh-audit.txt
check "only Ed25519 host keys are offered" \
	bash -c '[ "$(grep -c "^(key) " ssh-audit.txt)" -eq 1 ] && grep -q "^(key) ssh-ed25519" ssh-audit.txt'

# ---- TLS port: testssl.sh's JSON findings by severity ---------------------
testssl_checks=(-p -s -f)
[ -n "${SCAN_FULL:-}" ] && testssl_checks=()
timeout 900 testssl --quiet --color 0 --ip one --warnings off "${testssl_checks[@]}" \
	--add-ca state/certs/ca.pem --jsonfile testssl.json "127.0.0.1:$AGENT_PORT" >testssl.txt 2>&1
# One "ID<TAB>SEVERITY<TAB>FINDING" line per testssl.sh finding.
python3 -c 'import json, sys
for f in json.load(open(sys.argv[1])):
    print("%s\t%s\t%s" % (f.get("id"), f.get("severity"), f.get("finding")))' testssl.json >testssl.tsv
awk -F'\t' '$2 != "OK" && $2 != "INFO" && $2 != "DEBUG" &&
	$1 != "cert_revocation" && $1 != "DNS_CAArecord"' testssl.tsv >tls-findings.txt
check "testssl.sh reached the TLS port" grep -q '^TLS1_3	OK	offered' testssl.tsv
if ! [ -s testssl.tsv ]; then
	not_ok "testssl.sh finds no weak protocol, cipher or key exchange (no findings file: $(tail -c 400 testssl.txt))"
elif [ -s tls-findings.txt ]; then
	not_ok "testssl.sh finds no weak protocol, cipher or key exchange: $(head -c 600 tls-findings.txt)"
else
	ok "testssl.sh finds no weak protocol, cipher or key exchange"
fi
check "TLS 1.0 and 1.1 are not offered" \
	bash -c 'grep -q "^TLS1	.*	not offered" testssl.tsv && grep -q "^TLS1_1	.*	not offered" testssl.tsv'
check "no finite-field or weak curves: X25519, P-256, P-384 only" \
	grep -q '^PFS_ECDHE_curves	OK	prime256v1 secp384r1 X25519$' testssl.tsv
if [ -n "${SCAN_FULL:-}" ]; then
	check "no session tickets (no long-lived ticket key)" grep -q 'Session Resumption *Tickets no' testssl.txt
	echo "--- ssh-audit"; cat ssh-audit.txt
	echo "--- testssl.sh"; cat testssl.txt
fi

e2e_done
