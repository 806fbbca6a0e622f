/*
 * The end user's side of one assistance session: the TLS control link to
 * the relay (HELLO with the code, then RESUME after a relay restart, with
 * backoff), the consent questions (consent.h) for each participant who asks,
 * and one outbound TLS stream per consented participant, spliced to the
 * screen's RFB server (screen.h) through a socketpair.
 *
 * Messages to the person at the machine go to `out`; every participant's
 * arrival and departure is shown there.  The person ends the session with
 * q + Enter or Ctrl-C (assist_end); every participant is cut at once.
 *
 * Ownership: assist_start borrows everything in `opts` (all must outlive the
 * assist) and returns an object freed with assist_free after the event
 * loop stopped.  assist_exit_code says how the loop ended:
 * 0 session ended normally, 1 refused or unreachable, 3 relay not trusted.
 */
#ifndef CONCIERGE_AGENT_ASSIST_H
#define CONCIERGE_AGENT_ASSIST_H

#include <openssl/ssl.h>
#include <stdio.h>

#include "config.h"
#include "screen.h"

struct event_base;
struct assist;

struct assist_options {
	struct host_port relay;
	const char *code;        /* secret: never logged or printed */
	SSL_CTX *tls;            /* pinned-CA client context */
	struct screen *screen;
	const char *screen_kind; /* "demo" or "x11", told to the relay */
	int auto_accept;         /* demo only */
	int consent_timeout_s;   /* 1..CONSENT_TIMEOUT_S; 0 = CONSENT_TIMEOUT_S */
	FILE *out;
	int in_fd;
	int no_shell;            /* refuse every shell request */
	const char *shell_program; /* NULL: the user's login shell */
};

struct assist *assist_start(struct event_base *base, const struct assist_options *opts);
/* The person ended the session (or SIGINT/SIGTERM): BYE, cut streams, stop the loop. */
void assist_end(struct assist *assist, const char *reason);
int assist_exit_code(const struct assist *assist);
void assist_free(struct assist *assist);

#endif
