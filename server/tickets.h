/*
 * Helpdesk tickets: every session, recording and audit row hangs off one.
 * Ticket ids are validated by the caller (ticket_id.h) before they get here.
 * Each change is one transaction with its audit row.
 *
 * Return convention: 0 done, -1 refused or failed with `err` naming the fix;
 * tickets_get returns 1 found, 0 no such ticket, -1 error.
 */
#ifndef CONCIERGE_TICKETS_H
#define CONCIERGE_TICKETS_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

int tickets_open(struct store *store, const char *actor, const char *id, const char *title,
                 const char *requester, char *err, size_t errlen);
int tickets_close(struct store *store, const char *actor, const char *id, char *err, size_t errlen);

struct ticket_info {
	const char *id, *title, *requester, *state, *opened_at;
	const char *closed_at; /* NULL while open */
	int64_t sessions;      /* sessions held against the ticket */
};

/* Calls `fn` per ticket, newest first; strings live until `fn` returns. */
typedef void (*ticket_info_fn)(const struct ticket_info *ticket, void *ctx);
int tickets_foreach(struct store *store, ticket_info_fn fn, void *ctx, char *err, size_t errlen);
int tickets_get(struct store *store, const char *id, ticket_info_fn fn, void *ctx,
                char *err, size_t errlen);

#endif
