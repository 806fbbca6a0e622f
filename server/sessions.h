/*
 * Remote-assistance sessions in the database: creation with a one-time code,
 * code claims by end users' agents, resumption after a relay restart, end,
 * listing, and participant rows.  Every decision is audited with the
 * session's ticket id, in the same transaction as the change.
 *
 * Codes: SESSION_CODE_DIGITS digits shown as 123-456-789.  The first three
 * are a public locator (unique among waiting sessions) so a wrong try counts
 * against one session; the rest are secret.  Only SHA-256(session id ":"
 * code) is stored; comparison is constant-time.  A code works once, expires
 * after code_ttl, and is burned after SESSION_CODE_MAX_FAILURES wrong tries.
 *
 * Safe to use from any thread with that thread's own store connection.
 * Return convention: 0 / -1 with `err`, unless stated.
 */
#ifndef CONCIERGE_SESSIONS_H
#define CONCIERGE_SESSIONS_H

#include <stddef.h>

#include "concierge_limits.h"
#include "store.h"

struct session_created {
	char id[SESSION_ID_LEN + 1];
	char code[SESSION_CODE_DIGITS + 3]; /* "123-456-789" */
	char expires_at[32];
	int ticket_created;                 /* 1 when the ticket was opened for it */
};

/* Creates a waiting session for `ticket_id` (opened if it does not exist)
 * on behalf of staff user `user`. */
int sessions_create(struct store *store, const char *user, const char *ticket_id,
                    unsigned code_ttl, struct session_created *out, char *err, size_t errlen);

enum code_claim {
	CODE_OK, CODE_MALFORMED, CODE_UNKNOWN, CODE_WRONG, CODE_BURNED, CODE_EXPIRED, CODE_ERROR,
};

struct session_claimed {
	char id[SESSION_ID_LEN + 1];
	char ticket_id[TICKET_ID_MAX + 1];
	char created_by[USER_NAME_MAX + 1];
	char resume_token[RESUME_TOKEN_HEX + 1]; /* secret: give it to the agent only */
};

/* An agent presents `code` (digits, dashes and spaces allowed) from `source`.
 * On CODE_OK the session becomes active, the code is spent and a resume
 * token is issued.  Every outcome but CODE_ERROR is audited. */
enum code_claim sessions_claim_code(struct store *store, const char *code, const char *source,
                                    const char *endpoint_host, int auto_accept,
                                    struct session_claimed *out, char *err, size_t errlen);
/* Human text for a claim result, fit to show a lecturer. */
const char *sessions_claim_message(enum code_claim result);

/* An agent resumes `session_id` with its resume token after a relay restart.
 * Returns 1 resumed (fills out, without a new token), 0 refused (`err` says
 * why, for the agent), -1 error. */
int sessions_resume(struct store *store, const char *session_id, const char *token,
                    const char *source, struct session_claimed *out, char *err, size_t errlen);

/* Ends a session (idempotent: 0 when already ended).  Marks open
 * participant rows left with the same reason. */
/* The ticket of session `session_id` (any state): 1 found, 0 none ("no
 * session ..." in err), -1 error.  Runs inside the caller's transaction. */
int sessions_ticket_of(struct store *store, const char *session_id, char ticket_id[TICKET_ID_MAX + 1],
                       char *err, size_t errlen);
int sessions_end(struct store *store, const char *actor, const char *session_id, const char *reason,
                 char *err, size_t errlen);

/* Resolves "s1234abcd" or a ticket id with exactly one active or waiting
 * session to a session id and its ticket.  1 found, 0 not (err says why), -1 error. */
int sessions_resolve(struct store *store, const char *ref, char *session_id, char *ticket_id,
                     char *err, size_t errlen);

struct session_info {
	const char *id, *ticket_id, *state, *created_by, *endpoint_host, *created_at, *ended_at,
	    *end_reason;
	const char *participants; /* "alice(control) bob(view)", "" when none */
};
typedef void (*session_info_fn)(const struct session_info *info, void *ctx);
/* Lists sessions, newest first; with active_only, only waiting/active ones. */
int sessions_foreach(struct store *store, int active_only, session_info_fn fn, void *ctx,
                     char *err, size_t errlen);

/* Participant rows, audited as participant.join / participant.leave:
 * join returns the row id (> 0) or -1. */
long long participants_join(struct store *store, const char *session_id, const char *ticket_id,
                            const char *user, const char *rights, char *err, size_t errlen);
int participants_leave(struct store *store, long long participant_id, const char *reason,
                       char *err, size_t errlen);

#endif
