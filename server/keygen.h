/*
 * Relay key material created by `concierge init`, with the OpenSSL and libssh
 * APIs (never by shelling out):
 *
 *   certs_dir/ca.key, ca.pem          development/relay CA (ECDSA P-256, 10 years)
 *   certs_dir/relay.key, relay.pem    relay TLS key + certificate signed by the CA,
 *                                     SANs DNS:<hostname>, DNS:localhost, IP:127.0.0.1
 *   certs_dir/ssh_host_ed25519_key(.pub)  the SSH front door's host key
 *
 * Private keys are written 0600, certificates and public keys 0644, each
 * atomically (atomic_file_create).  An existing file is never overwritten:
 * keygen_ensure() keeps what exists, creates what is missing, and fails with
 * a message naming the fix when a pair is half present (e.g. ca.pem without
 * ca.key) or an existing relay certificate was not signed by the CA.
 *
 * Returns 0 and fills `out` (one entry per file, created or kept), or -1 with
 * a one-line message in `err`.  Nothing secret is ever put in `out` or `err`.
 */
#ifndef CONCIERGE_KEYGEN_H
#define CONCIERGE_KEYGEN_H

#include <stddef.h>

#include "concierge_limits.h"

#define KEYGEN_MAX_FILES 6

struct keygen_file {
	char path[CFG_MAX_PATH];
	char what[64];          /* e.g. "relay CA certificate" */
	char fingerprint[128];  /* "SHA256:..." of the cert or public key; "" for private-key files */
	int created;            /* 1 created now, 0 already existed */
};

struct keygen_result {
	struct keygen_file files[KEYGEN_MAX_FILES];
	size_t count;
};

int keygen_ensure(const char *certs_dir, const char *hostname, struct keygen_result *out,
                  char *err, size_t errlen);

#endif
