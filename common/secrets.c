#include "secrets.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

#include "log.h"

void secret_to_hex(const unsigned char *bytes, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 15];
	}
	out[2 * len] = '\0';
}

void secret_random_hex(char *out, size_t nbytes)
{
	unsigned char buf[64];

	if (nbytes > sizeof buf || RAND_bytes(buf, (int)nbytes) != 1)
		fatal("event=random_failed bytes=%zu", nbytes);
	secret_to_hex(buf, nbytes, out);
	OPENSSL_cleanse(buf, sizeof buf);
}

void secret_random_digits(char *out, size_t ndigits)
{
	for (size_t i = 0; i < ndigits;) {
		unsigned char b;
		if (RAND_bytes(&b, 1) != 1)
			fatal("event=random_failed what=digit");
		if (b >= 250)
			continue; /* rejection sampling keeps digits uniform */
		out[i++] = (char)('0' + b % 10);
	}
	out[ndigits] = '\0';
}

void secret_sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN])
{
	unsigned char digest[32];
	unsigned int dlen = 0;

	if (EVP_Digest(data, len, digest, &dlen, EVP_sha256(), NULL) != 1)
		fatal("event=digest_failed");
	secret_to_hex(digest, sizeof digest, out);
}

int secret_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	return la == lb && CRYPTO_memcmp(a, b, la) == 0;
}
