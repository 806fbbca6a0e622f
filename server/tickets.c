#include "tickets.h"

#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "concierge_limits.h"

static int audit_ticket_change(struct store *store, const char *actor, const char *action,
                               const char *id, const char *details, char *err, size_t errlen)
{
	char object[TICKET_ID_MAX + 8];

	snprintf(object, sizeof object, "ticket:%s", id);
	struct audit_event ev = { actor, action, object, id, details };
	return audit_append(store, &ev, err, errlen);
}

/* Inside a transaction: copies the ticket's state; 1 found, 0 not, -1 error. */
static int ticket_state(struct store *store, const char *id, char *state, size_t statelen,
                        char *err, size_t errlen)
{
	const char *params[] = { id };

	return store_query_text(store, "cannot look up the ticket",
	                        "SELECT state FROM tickets WHERE id = ?1", 1, params, state, statelen,
	                        err, errlen);
}

int tickets_open(struct store *store, const char *actor, const char *id, const char *title,
                 const char *requester, char *err, size_t errlen)
{
	char state[16], now[32];
	int found;

	if (strlen(title) > TICKET_TITLE_MAX || strlen(requester) > REQUESTER_MAX) {
		snprintf(err, errlen, "title is limited to %d bytes and requester to %d", TICKET_TITLE_MAX,
		         REQUESTER_MAX);
		return -1;
	}
	if (store_begin(store, err, errlen) < 0)
		return -1;
	found = ticket_state(store, id, state, sizeof state, err, errlen);
	if (found < 0)
		goto fail;
	if (found) {
		snprintf(err, errlen, "ticket %s already exists (%s); 'concierge ticket show %s' shows it",
		         id, state, id);
		goto fail;
	}
	store_now_utc(now, sizeof now);
	const char *params[] = { id, title, requester, now };
	if (store_run(store, "cannot open the ticket",
	              "INSERT INTO tickets (id, title, requester, state, opened_at) "
	              "VALUES (?1, ?2, ?3, 'open', ?4)", 4, params, err, errlen) != 1)
		goto fail;
	/* Title and requester are free text: the audit row keeps their sizes,
	 * the tickets table keeps the text. */
	char details[96];
	snprintf(details, sizeof details, "title_bytes=%zu requester_bytes=%zu", strlen(title),
	         strlen(requester));
	if (audit_ticket_change(store, actor, "ticket.open", id, details, err, errlen) < 0)
		goto fail;
	return store_commit(store, err, errlen);
fail:
	store_rollback(store);
	return -1;
}

int tickets_close(struct store *store, const char *actor, const char *id, char *err, size_t errlen)
{
	char state[16], now[32];
	int found;

	if (store_begin(store, err, errlen) < 0)
		return -1;
	found = ticket_state(store, id, state, sizeof state, err, errlen);
	if (found < 0)
		goto fail;
	if (!found) {
		snprintf(err, errlen, "no ticket %s ('concierge ticket list' shows the tickets)", id);
		goto fail;
	}
	if (strcmp(state, "closed") == 0) {
		snprintf(err, errlen, "ticket %s is already closed", id);
		goto fail;
	}
	store_now_utc(now, sizeof now);
	const char *params[] = { id, now };
	if (store_run(store, "cannot close the ticket",
	              "UPDATE tickets SET state = 'closed', closed_at = ?2 WHERE id = ?1", 2, params,
	              err, errlen) != 1)
		goto fail;
	if (audit_ticket_change(store, actor, "ticket.close", id, "", err, errlen) < 0)
		goto fail;
	return store_commit(store, err, errlen);
fail:
	store_rollback(store);
	return -1;
}

/* Runs the ticket query with an optional id filter; returns rows seen or -1. */
static int query_tickets(struct store *store, const char *id, ticket_info_fn fn, void *ctx,
                         char *err, size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	int rows = 0, step;

	if (sqlite3_prepare_v2(store_db(store),
	                       "SELECT t.id, t.title, t.requester, t.state, t.opened_at, t.closed_at, "
	                       "(SELECT count(*) FROM sessions s WHERE s.ticket_id = t.id) "
	                       "FROM tickets t WHERE ?1 IS NULL OR t.id = ?1 "
	                       "ORDER BY t.opened_at DESC, t.id",
	                       -1, &stmt, NULL) != SQLITE_OK)
		return store_error(store, "cannot read tickets", err, errlen);
	if (id)
		sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct ticket_info t = {
			.id = (const char *)sqlite3_column_text(stmt, 0),
			.title = (const char *)sqlite3_column_text(stmt, 1),
			.requester = (const char *)sqlite3_column_text(stmt, 2),
			.state = (const char *)sqlite3_column_text(stmt, 3),
			.opened_at = (const char *)sqlite3_column_text(stmt, 4),
			.closed_at = (const char *)sqlite3_column_text(stmt, 5),
			.sessions = sqlite3_column_int64(stmt, 6),
		};
		fn(&t, ctx);
		rows++;
	}
	if (step != SQLITE_DONE)
		rows = store_error(store, "cannot read tickets", err, errlen);
	sqlite3_finalize(stmt);
	return rows;
}

int tickets_foreach(struct store *store, ticket_info_fn fn, void *ctx, char *err, size_t errlen)
{
	return query_tickets(store, NULL, fn, ctx, err, errlen) < 0 ? -1 : 0;
}

int tickets_get(struct store *store, const char *id, ticket_info_fn fn, void *ctx,
                char *err, size_t errlen)
{
	int rows = query_tickets(store, id, fn, ctx, err, errlen);

	return rows < 0 ? -1 : rows > 0;
}
