/*
 * Filling the caller's error buffer (`char *err, size_t errlen`), the error
 * convention of every module that can fail on outside input.
 *
 * errbuf_set formats into err (nothing when err is NULL or errlen is 0).
 * errbuf_openssl writes the reason of OpenSSL's oldest queued error into buf
 * ("unknown OpenSSL error" when the queue is empty), clears the queue and
 * returns buf; OpenSSL reasons never contain key material.
 */
#ifndef CONCIERGE_ERRBUF_H
#define CONCIERGE_ERRBUF_H

#include <stddef.h>

void errbuf_set(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *errbuf_openssl(char *buf, size_t buflen);

#endif
