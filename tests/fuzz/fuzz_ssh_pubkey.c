/*
 * libFuzzer target for OpenSSH public-key lines (server/ssh_pubkey.c), the
 * text an admin pastes from a staff member's .pub file.  The input, cut at
 * its first NUL, is one line.
 * Invariants: a refusal says why; an accepted key has an accepted type,
 * a "SHA256:" fingerprint, a printable comment, and its canonical line
 * ("type base64 comment") parses back to the same key and fingerprint.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssh_pubkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int accepted_type_name(const char *type)
{
	return strcmp(type, "ssh-ed25519") == 0 || strcmp(type, "ssh-rsa") == 0 ||
	       strcmp(type, "ecdsa-sha2-nistp256") == 0 || strcmp(type, "ecdsa-sha2-nistp384") == 0 ||
	       strcmp(type, "ecdsa-sha2-nistp521") == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ssh_pubkey key, again;
	static char canonical[sizeof key.type + sizeof key.base64 + sizeof key.comment + 2];
	char *line, err[512];

	if (size > PUBKEY_FILE_MAX)
		return 0;
	line = malloc(size + 1);
	memcpy(line, data, size);
	line[size] = '\0';
	err[0] = '\0';
	if (ssh_pubkey_parse_line(line, &key, err, sizeof err) == 0) {
		if (!accepted_type_name(key.type) || strncmp(key.fingerprint, "SHA256:", 7) != 0)
			abort();
		for (const char *c = key.comment; *c; c++)
			if (*c < ' ' || *c > '~')
				abort();
		snprintf(canonical, sizeof canonical, "%s %s %s", key.type, key.base64, key.comment);
		if (ssh_pubkey_parse_line(canonical, &again, err, sizeof err) != 0 ||
		    strcmp(again.type, key.type) != 0 || strcmp(again.base64, key.base64) != 0 ||
		    strcmp(again.fingerprint, key.fingerprint) != 0)
			abort();
	} else if (err[0] == '\0') {
		abort();
	}
	free(line);
	return 0;
}
