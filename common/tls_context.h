/*
 * OpenSSL contexts for the agent<->relay TLS link.  Both sides: TLS 1.2
 * minimum (1.3 preferred by OpenSSL's negotiation), no compression, no
 * renegotiation, AEAD suites with ECDHE (X25519, P-256, P-384) only; the
 * server issues no session tickets and keeps no session cache.
 *
 * tls_server_context_new loads the relay certificate and key (relay.pem,
 * relay.key in certs_dir) and checks they match.  tls_client_context_new
 * trusts only `ca_file` (the pinned relay CA) and verifies the peer.
 * Both return a context the caller frees with SSL_CTX_free, or NULL with a
 * message naming the fix in `err`.
 */
#ifndef CONCIERGE_TLS_CONTEXT_H
#define CONCIERGE_TLS_CONTEXT_H

#include <openssl/ssl.h>
#include <stddef.h>

SSL_CTX *tls_server_context_new(const char *certs_dir, char *err, size_t errlen);
SSL_CTX *tls_client_context_new(const char *ca_file, char *err, size_t errlen);

#endif
