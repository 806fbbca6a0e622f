#include "tls_dial.h"

#include <arpa/inet.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static int is_ip_literal(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

struct bufferevent *tls_dial(struct event_base *base, SSL_CTX *tls, const struct host_port *relay,
                             char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	struct bufferevent *bev = NULL;
	char port[8];
	SSL *ssl;
	int rc;

	snprintf(port, sizeof port, "%u", relay->port);
	rc = getaddrinfo(relay->host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot find the relay %s: %s (check the address your IT desk gave you)",
		         relay->host, gai_strerror(rc));
		return NULL;
	}
	ssl = SSL_new(tls);
	if (ssl == NULL)
		goto fail;
	/* The certificate must be for the name or address we dialled. */
	if (is_ip_literal(relay->host)) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), relay->host);
	} else {
		SSL_set_tlsext_host_name(ssl, relay->host);
		SSL_set1_host(ssl, relay->host);
	}
	bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
	                                     BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL) {
		SSL_free(ssl);
		goto fail;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	if (bufferevent_socket_connect(bev, res->ai_addr, (int)res->ai_addrlen) < 0) {
		bufferevent_free(bev);
		bev = NULL;
		goto fail;
	}
	/* The first line (HELLO, STREAM) follows the handshake's last flight at
	 * once; with Nagle it would wait for the relay's delayed ACK (40 ms). */
	setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	freeaddrinfo(res);
	return bev;
fail:
	snprintf(err, errlen, "cannot connect to the relay %s:%u", relay->host, relay->port);
	freeaddrinfo(res);
	return NULL;
}

int tls_dial_failure(struct bufferevent *bev, const struct host_port *relay, char *msg, size_t msglen)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	long verify = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
	unsigned long tls_error = bufferevent_get_openssl_error(bev);

	if (verify != X509_V_OK) {
		snprintf(msg, msglen,
		         "The server at %s:%u is NOT your IT desk's Concierge relay: its certificate "
		         "could not be verified (%s). Nothing was shared. Check the address with your "
		         "IT desk.", relay->host, relay->port, X509_verify_cert_error_string(verify));
		return 1;
	}
	/* libevent reports socket errors through the OpenSSL queue with library 0. */
	if (tls_error && ERR_GET_LIB(tls_error) != 0) {
		char why[160];
		ERR_error_string_n(tls_error, why, sizeof why);
		snprintf(msg, msglen, "Could not set up a secure connection to %s:%u (%s). Nothing was "
		         "shared. Is this the relay address your IT desk gave you?", relay->host,
		         relay->port, why);
		return 0;
	}
	snprintf(msg, msglen, "Cannot reach the relay at %s:%u. Check your network connection and the "
	         "address your IT desk gave you.", relay->host, relay->port);
	return 0;
}
