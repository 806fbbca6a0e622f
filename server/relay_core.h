/*
 * The relay's event-driven core (libevent, one thread): the TLS listener
 * for end users' agents, the live sessions, consent, and the splices that
 * join each participant's SSH channel to the agent stream opened for them.
 *
 * An agent connection starts with one line (WIRE_MAX_LINE_PREAUTH, within
 * PREAUTH_TIMEOUT_S): HELLO (a code: becomes the session's control link),
 * RESUME (reattach after a relay restart) or STREAM (a single-use token the
 * core handed out in a JOIN: becomes one participant's screen stream).
 *
 * SSH threads never touch core state: they post requests, which the core
 * picks up on its own thread.  relay_core_post_* may be called from any
 * thread; everything else only from the thread running the event base.
 *
 * Ownership: relay_core_new borrows base, cfg, store and tls (they must
 * outlive the core) and returns a core freed with relay_core_free; it
 * returns NULL with `err` when the listener cannot be bound.
 */
#ifndef CONCIERGE_RELAY_CORE_H
#define CONCIERGE_RELAY_CORE_H

#include <openssl/ssl.h>
#include <stddef.h>

#include "concierge_limits.h"
#include "config.h"
#include "store.h"

struct event_base;
struct relay_core;

struct join_request {
	char session_ref[TICKET_ID_MAX + 1]; /* session id or ticket id, as typed in ssh -L */
	char user[USER_NAME_MAX + 1];
	char role[16];
	int want_control;                     /* 5900 / shell: input; 5901 / shell --view-only: none */
	int shell;                            /* 1: a shell stream (shell_frame.h), 0: screen (RFB) */
	int tty;                              /* shell: the participant asked for a PTY */
	unsigned cols, rows;                  /* shell: initial window size */
	char source[64];                      /* participant's address, for the audit log */
	int fd;                               /* the core's end of a socketpair; the core owns it */
	int notice_fd;                        /* screen forwards: where the core may write why it cut
	                                         the participant (FORWARD_NOTICE_MAX bytes); the core
	                                         owns it; -1 for none */
};

struct relay_core *relay_core_new(struct event_base *base, const struct concierge_config *cfg,
                                  struct store *store, SSL_CTX *tls, char *err, size_t errlen);

/* A participant's channel asks to join.  Refusals reach the participant as
 * an RFB failure reason their viewer shows, or for shells as a NOTICE frame
 * and exit status 1. */
void relay_core_post_join(struct relay_core *core, const struct join_request *request);

/* Cuts a session's live connections (after `session end` ended it in the
 * database); the agent is told `reason`. */
void relay_core_post_end(struct relay_core *core, const char *session_id, const char *reason);

/* Ends every live session with `reason` (SIGTERM), then lets goodbyes flush. */
void relay_core_shutdown(struct relay_core *core, const char *reason);

void relay_core_free(struct relay_core *core);

#endif
