/*
 * Outbound TLS to the relay for the agent: resolves HOST:PORT, connects
 * without blocking, and verifies the relay certificate against the pinned
 * CA and HOST (DNS name or IP address).  Completion arrives as the
 * bufferevent's BEV_EVENT_CONNECTED (or ERROR) event.
 *
 * tls_dial returns a bufferevent the caller owns (free with
 * bufferevent_free), or NULL with `err`.  tls_dial_failure explains a failed
 * connection in words a lecturer understands and returns 1 when the relay's
 * certificate failed verification (an impostor: never retry), else 0.
 */
#ifndef CONCIERGE_AGENT_TLS_DIAL_H
#define CONCIERGE_AGENT_TLS_DIAL_H

#include <openssl/ssl.h>
#include <stddef.h>

#include "config.h"

struct bufferevent;
struct event_base;

struct bufferevent *tls_dial(struct event_base *base, SSL_CTX *tls, const struct host_port *relay,
                             char *err, size_t errlen);

int tls_dial_failure(struct bufferevent *bev, const struct host_port *relay, char *msg, size_t msglen);

#endif
