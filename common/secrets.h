/*
 * Random secrets and their digests: session codes, stream and resume
 * tokens.  Randomness comes from OpenSSL's CSPRNG; a failure is fatal (no
 * secret is ever made from a weak source).  Secrets are compared only as
 * digests, in constant time.
 */
#ifndef CONCIERGE_SECRETS_H
#define CONCIERGE_SECRETS_H

#include <stddef.h>

#define SHA256_HEX_LEN 65 /* 64 hex digits + NUL */

/* `nbytes` random bytes as 2*nbytes lowercase hex digits + NUL in `out`. */
void secret_random_hex(char *out, size_t nbytes);
/* `ndigits` uniformly random decimal digits + NUL in `out`. */
void secret_random_digits(char *out, size_t ndigits);
/* SHA-256 of `len` bytes as lowercase hex. */
void secret_sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN]);
/* Lowercase hex of `len` bytes; `out` holds 2*len+1. */
void secret_to_hex(const unsigned char *bytes, size_t len, char *out);
/* 1 when two NUL-terminated strings are equal, in time independent of
 * where they differ (lengths are not secret). */
int secret_equal(const char *a, const char *b);

#endif
