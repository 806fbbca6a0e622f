/*
 * Reading staff SSH public keys (OpenSSH one-line format) for the user
 * database.  Keys are pinned as plain keys: libssh cannot validate OpenSSH
 * certificates, so certificate key types are refused.
 *
 * ssh_pubkey_read_file reads at most PUBKEY_FILE_MAX bytes, skips blank and
 * '#' lines, and requires exactly one key.  Accepted: ssh-ed25519,
 * ecdsa-sha2-nistp256/384/521, and ssh-rsa of at least 2048 bits.
 * Returns 0 and fills `out`, or -1 with a message naming the fix in `err`.
 */
#ifndef CONCIERGE_SSH_PUBKEY_H
#define CONCIERGE_SSH_PUBKEY_H

#include <stddef.h>

#include "concierge_limits.h"

struct ssh_pubkey {
	char type[32];                /* "ssh-ed25519" */
	char base64[PUBKEY_FILE_MAX]; /* the key blob, as in authorized_keys */
	char fingerprint[80];         /* "SHA256:..." as ssh-keygen -l prints it */
	char comment[128];            /* may be empty; trimmed to printable ASCII */
};

int ssh_pubkey_read_file(const char *path, struct ssh_pubkey *out, char *err, size_t errlen);

/* Parses one authorized_keys-style line ("type base64 [comment]"). */
int ssh_pubkey_parse_line(const char *line, struct ssh_pubkey *out, char *err, size_t errlen);

#endif
