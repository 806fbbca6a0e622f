#include "ssh_pubkey.h"

#include <errno.h>
#include <fcntl.h>
#include <libssh/libssh.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xmalloc.h"

static int accepted_type(enum ssh_keytypes_e type)
{
	return type == SSH_KEYTYPE_ED25519 || type == SSH_KEYTYPE_RSA ||
	       type == SSH_KEYTYPE_ECDSA_P256 || type == SSH_KEYTYPE_ECDSA_P384 ||
	       type == SSH_KEYTYPE_ECDSA_P521;
}

/* Reads one SSH wire string (u32 BE length + bytes) from [*p, end). */
static int next_wire_string(const unsigned char **p, const unsigned char *end,
                            const unsigned char **data, uint32_t *len)
{
	if (end - *p < 4)
		return -1;
	*len = (uint32_t)(*p)[0] << 24 | (uint32_t)(*p)[1] << 16 | (uint32_t)(*p)[2] << 8 | (*p)[3];
	*p += 4;
	if ((size_t)(end - *p) < *len)
		return -1;
	*data = *p;
	*p += *len;
	return 0;
}

/* Modulus size of an ssh-rsa key blob (type, e, n); libssh 0.10 has no
 * public call for it.  Returns bits, or -1 when the blob is malformed. */
static int rsa_modulus_bits(const char *base64)
{
	size_t b64len = strlen(base64);
	unsigned char *blob = xmalloc(b64len / 4 * 3 + 3);
	const unsigned char *p = blob, *end, *field = NULL;
	uint32_t len = 0;
	int decoded = EVP_DecodeBlock(blob, (const unsigned char *)base64, (int)b64len), bits = -1;

	if (decoded < 0)
		goto out;
	end = blob + decoded;
	for (int i = 0; i < 3; i++)
		if (next_wire_string(&p, end, &field, &len) < 0)
			goto out;
	while (len > 0 && field[0] == 0) { /* mpint sign padding */
		field++;
		len--;
	}
	bits = (int)len * 8;
	for (unsigned char top = len ? field[0] : 0x80; top && !(top & 0x80); top <<= 1)
		bits--;
out:
	free(blob);
	return bits;
}

/* 1 when the imported key really is of the line's `type` (libssh takes an
 * ECDSA key's curve from the blob, whatever the line says). */
static int blob_is_type(ssh_key key, const char *type)
{
	enum ssh_keytypes_e t = ssh_key_type(key);
	const char *name = t == SSH_KEYTYPE_ECDSA_P256 || t == SSH_KEYTYPE_ECDSA_P384 ||
	                   t == SSH_KEYTYPE_ECDSA_P521 ? ssh_pki_key_ecdsa_name(key) : ssh_key_type_to_char(t);

	return name != NULL && strcmp(name, type) == 0;
}

static int fingerprint_of(ssh_key key, char *out, size_t outlen)
{
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *text;

	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) != SSH_OK)
		return -1;
	text = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	ssh_clean_pubkey_hash(&hash);
	if (text == NULL)
		return -1;
	snprintf(out, outlen, "%s", text);
	ssh_string_free_char(text);
	return 0;
}

int ssh_pubkey_parse_line(const char *line, struct ssh_pubkey *out, char *err, size_t errlen)
{
	char type[sizeof out->type];
	const char *p = line, *blob, *comment;
	size_t tlen, blen;
	enum ssh_keytypes_e key_type;
	ssh_key key = NULL;
	char *canonical = NULL;
	int rc = -1;

	memset(out, 0, sizeof *out);
	while (*p == ' ' || *p == '\t')
		p++;
	tlen = strcspn(p, " \t");
	if (tlen == 0 || p[tlen] == '\0') {
		snprintf(err, errlen, "expected 'TYPE BASE64 [COMMENT]' as in id_ed25519.pub");
		goto out;
	}
	/* Longer than any accepted type, e.g. ssh-ed25519-cert-v01@openssh.com. */
	if (tlen >= sizeof type) {
		snprintf(err, errlen, "key type '%.*s' is not accepted (use ssh-ed25519, ecdsa-sha2-*, or "
		         "ssh-rsa of 2048+ bits; certificates are not supported)", tlen > 48 ? 48 : (int)tlen, p);
		goto out;
	}
	memcpy(type, p, tlen);
	type[tlen] = '\0';
	blob = p + tlen + strspn(p + tlen, " \t");
	blen = strcspn(blob, " \t\r\n");
	if (blen == 0 || blen >= sizeof out->base64) {
		snprintf(err, errlen, "the key data after '%s' is missing or too long", type);
		goto out;
	}
	key_type = ssh_key_type_from_name(type);
	if (!accepted_type(key_type)) {
		snprintf(err, errlen, "key type '%.31s' is not accepted (use ssh-ed25519, ecdsa-sha2-*, or "
		         "ssh-rsa of 2048+ bits; certificates are not supported)", type);
		goto out;
	}
	memcpy(out->base64, blob, blen);
	out->base64[blen] = '\0';
	/* libssh ignores the type inside the blob, trailing bytes and unused
	 * base64 bits: keep only keys of the named type, and store the
	 * canonical encoding so one key is always one text (the "each key logs
	 * in one user" check in users.c compares texts). */
	if (ssh_pki_import_pubkey_base64(out->base64, key_type, &key) != SSH_OK ||
	    !blob_is_type(key, type) || ssh_pki_export_pubkey_base64(key, &canonical) != SSH_OK ||
	    strlen(canonical) >= sizeof out->base64) {
		snprintf(err, errlen, "the %s key data is malformed (copy the whole .pub line again)", type);
		goto out;
	}
	snprintf(out->base64, sizeof out->base64, "%s", canonical);
	if (key_type == SSH_KEYTYPE_RSA && rsa_modulus_bits(out->base64) < 2048) {
		snprintf(err, errlen, "RSA key of %d bits is too weak; use ssh-ed25519 or RSA of 2048+ bits",
		         rsa_modulus_bits(out->base64));
		goto out;
	}
	if (fingerprint_of(key, out->fingerprint, sizeof out->fingerprint) < 0) {
		snprintf(err, errlen, "cannot compute the key fingerprint");
		goto out;
	}
	snprintf(out->type, sizeof out->type, "%s", type);
	comment = blob + blen + strspn(blob + blen, " \t");
	for (size_t i = 0, j = 0; comment[i] && j + 1 < sizeof out->comment; i++) {
		unsigned char c = (unsigned char)comment[i];
		if (c == '\r' || c == '\n')
			break;
		if (c >= 0x20 && c < 0x7f)
			out->comment[j++] = (char)c;
	}
	rc = 0;
out:
	ssh_string_free_char(canonical);
	ssh_key_free(key);
	return rc;
}

int ssh_pubkey_read_file(const char *path, struct ssh_pubkey *out, char *err, size_t errlen)
{
	char *buf = xmalloc(PUBKEY_FILE_MAX + 1), *line, *save = NULL;
	char why[256];
	int fd, keys = 0, rc = -1;
	ssize_t n;
	size_t total = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot read public key %s: %s (give the path of a .pub file)", path,
		         strerror(errno));
		goto out;
	}
	while (total <= PUBKEY_FILE_MAX && (n = read(fd, buf + total, PUBKEY_FILE_MAX + 1 - total)) > 0)
		total += (size_t)n;
	close(fd);
	if (total > PUBKEY_FILE_MAX) {
		snprintf(err, errlen, "%s is larger than %d bytes: not a public key file (give the .pub file)",
		         path, PUBKEY_FILE_MAX);
		goto out;
	}
	buf[total] = '\0';
	if (strlen(buf) != total) {
		snprintf(err, errlen, "%s contains NUL bytes: not a public key (did you give the private key?)",
		         path);
		goto out;
	}
	if (strstr(buf, "PRIVATE KEY") != NULL) {
		snprintf(err, errlen, "%s is a private key: give the matching .pub file instead", path);
		goto out;
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *p = line + strspn(line, " \t\r");
		if (*p == '\0' || *p == '#')
			continue;
		if (++keys > 1) {
			snprintf(err, errlen, "%s holds more than one key: give one key per file", path);
			goto out;
		}
		if (ssh_pubkey_parse_line(p, out, why, sizeof why) < 0) {
			snprintf(err, errlen, "%s: %s", path, why);
			goto out;
		}
	}
	if (keys == 0) {
		snprintf(err, errlen, "%s holds no public key", path);
		goto out;
	}
	rc = 0;
out:
	free(buf);
	return rc;
}
