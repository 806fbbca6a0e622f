#include "tls_context.h"

#include <openssl/err.h>
#include <stdio.h>

#include "concierge_limits.h"
#include "errbuf.h"

static SSL_CTX *base_context(const SSL_METHOD *method, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(method);

	if (ctx == NULL) {
		snprintf(err, errlen, "cannot create a TLS context (out of memory?)");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	                         SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* TLS 1.2 fallback: forward-secret AEAD suites only. */
	SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20");
	/* An idle connection (an agent's control link) gives its ~34 KiB of
	 * record buffers back until the next record: the relay holds thousands. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	/* Elliptic-curve key exchange only: no finite-field groups (testssl.sh
	 * lists ffdhe2048 as offered otherwise). */
	if (SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") != 1) {
		snprintf(err, errlen, "this OpenSSL lacks X25519/P-256/P-384");
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

SSL_CTX *tls_server_context_new(const char *certs_dir, char *err, size_t errlen)
{
	char cert[CFG_MAX_PATH + 16], key[CFG_MAX_PATH + 16], why[256];
	SSL_CTX *ctx = base_context(TLS_server_method(), err, errlen);

	if (ctx == NULL)
		return NULL;
	/* No resumption: agents connect once per session, so tickets would only
	 * add a long-lived ticket key that weakens forward secrecy, and TLS 1.3
	 * would spend time issuing tickets on every handshake. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	snprintf(cert, sizeof cert, "%s/relay.pem", certs_dir);
	snprintf(key, sizeof key, "%s/relay.key", certs_dir);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		errbuf_openssl(why, sizeof why);
		snprintf(err, errlen, "cannot load the relay certificate %s (%s): run 'concierge init'",
		         cert, why);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		errbuf_openssl(why, sizeof why);
		snprintf(err, errlen, "cannot load the relay key %s or it does not match %s (%s): "
		         "run 'concierge init'", key, cert, why);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *tls_client_context_new(const char *ca_file, char *err, size_t errlen)
{
	char why[256];
	SSL_CTX *ctx = base_context(TLS_client_method(), err, errlen);

	if (ctx == NULL)
		return NULL;
	if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
		errbuf_openssl(why, sizeof why);
		snprintf(err, errlen, "cannot load the relay CA %s (%s): ask your IT desk for the "
		         "Concierge ca.pem and pass it with --ca", ca_file, why);
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}
