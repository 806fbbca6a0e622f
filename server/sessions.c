#include "sessions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "audit.h"
#include "secrets.h"
#include "session_code.h"

#define LOCATOR_DIGITS 3
#define LOCATOR_ATTEMPTS 32

static void code_digest(const char *session_id, const char *digits, char out[SHA256_HEX_LEN])
{
	char material[SESSION_ID_LEN + SESSION_CODE_DIGITS + 2];

	snprintf(material, sizeof material, "%s:%s", session_id, digits);
	secret_sha256_hex(material, strlen(material), out);
}

static int audit_session(struct store *store, const char *actor, const char *action,
                         const char *session_id, const char *ticket_id, const char *details,
                         char *err, size_t errlen)
{
	char object[SESSION_ID_LEN + 16];

	snprintf(object, sizeof object, "session:%s", session_id ? session_id : "-");
	struct audit_event ev = { actor, action, object, ticket_id, details };
	return audit_append(store, &ev, err, errlen);
}

/* Inside a transaction: makes sure the ticket exists and is open. */
static int ensure_ticket(struct store *store, const char *actor, const char *ticket_id,
                         int *created, char *err, size_t errlen)
{
	const char *find[] = { ticket_id };
	char state[16], now[32];
	int found = store_query_text(store, "cannot look up the ticket",
	                             "SELECT state FROM tickets WHERE id = ?1", 1, find, state,
	                             sizeof state, err, errlen);

	*created = 0;
	if (found < 0)
		return -1;
	if (found) {
		if (strcmp(state, "open") != 0) {
			snprintf(err, errlen, "ticket %s is closed: sessions need an open ticket", ticket_id);
			return -1;
		}
		return 0;
	}
	store_now_utc(now, sizeof now);
	const char *insert[] = { ticket_id, now };
	if (store_run(store, "cannot open the ticket",
	              "INSERT INTO tickets (id, state, opened_at) VALUES (?1, 'open', ?2)", 2, insert,
	              err, errlen) != 1)
		return -1;
	*created = 1;
	struct audit_event ev = { actor, "ticket.open", "", ticket_id, "via=session_new" };
	char object[TICKET_ID_MAX + 8];
	snprintf(object, sizeof object, "ticket:%s", ticket_id);
	ev.object = object;
	return audit_append(store, &ev, err, errlen);
}

/* Inside a transaction: a locator no waiting session uses. */
static int free_locator(struct store *store, char locator[LOCATOR_DIGITS + 1], char *err, size_t errlen)
{
	for (int attempt = 0; attempt < LOCATOR_ATTEMPTS; attempt++) {
		char unused[8];
		const char *params[] = { locator };
		int taken;

		secret_random_digits(locator, LOCATOR_DIGITS);
		taken = store_query_text(store, "cannot pick a session code",
		                         "SELECT 1 FROM sessions WHERE state = 'waiting' AND code_locator = ?1",
		                         1, params, unused, sizeof unused, err, errlen);
		if (taken < 0)
			return -1;
		if (!taken)
			return 0;
	}
	snprintf(err, errlen, "too many sessions are waiting for their end user; end some with "
	         "'session end ID' or wait for their codes to expire");
	return -1;
}

int sessions_create(struct store *store, const char *user, const char *ticket_id,
                    unsigned code_ttl, struct session_created *out, char *err, size_t errlen)
{
	char actor[USER_NAME_MAX + 8], locator[LOCATOR_DIGITS + 1], secret[8];
	char digits[SESSION_CODE_DIGITS + 1], digest[SHA256_HEX_LEN], now[32], details[96];

	memset(out, 0, sizeof *out);
	snprintf(actor, sizeof actor, "ssh:%s", user);
	if (store_begin(store, err, errlen) < 0)
		return -1;
	if (ensure_ticket(store, actor, ticket_id, &out->ticket_created, err, errlen) < 0 ||
	    free_locator(store, locator, err, errlen) < 0)
		goto fail;
	out->id[0] = 's';
	secret_random_hex(out->id + 1, (SESSION_ID_LEN - 1) / 2);
	secret_random_digits(secret, SESSION_CODE_DIGITS - LOCATOR_DIGITS);
	memcpy(digits, locator, LOCATOR_DIGITS);
	memcpy(digits + LOCATOR_DIGITS, secret, SESSION_CODE_DIGITS - LOCATOR_DIGITS + 1);
	snprintf(out->code, sizeof out->code, "%.3s-%.3s-%.3s", digits, digits + 3, digits + 6);
	code_digest(out->id, digits, digest);
	store_now_utc(now, sizeof now);
	store_utc_after((long)code_ttl, out->expires_at, sizeof out->expires_at);
	const char *params[] = { out->id, ticket_id, user, digest, locator, out->expires_at, now };
	err[0] = '\0';
	if (store_run(store, "cannot create the session",
	              "INSERT INTO sessions (id, ticket_id, created_by, state, code_hash, code_locator, "
	              "code_expires_at, created_at) SELECT ?1, ?2, id, 'waiting', ?4, ?5, ?6, ?7 "
	              "FROM users WHERE name = ?3", 7, params, err, errlen) != 1) {
		if (!err[0])
			snprintf(err, errlen, "no user %s", user);
		goto fail;
	}
	snprintf(details, sizeof details, "code_expires_at=%s", out->expires_at);
	if (audit_session(store, actor, "session.create", out->id, ticket_id, details, err, errlen) < 0)
		goto fail;
	OPENSSL_cleanse(secret, sizeof secret);
	OPENSSL_cleanse(digits, sizeof digits);
	return store_commit(store, err, errlen);
fail:
	store_rollback(store);
	memset(out, 0, sizeof *out);
	return -1;
}

const char *sessions_claim_message(enum code_claim result)
{
	switch (result) {
	case CODE_OK: return "connected";
	case CODE_MALFORMED: return "that is not a session code: it has 9 digits, like 123-456-789";
	case CODE_UNKNOWN: return "no session is waiting for that code: check the digits with your IT desk";
	case CODE_WRONG: return "that code is not right: check the digits with your IT desk";
	case CODE_BURNED: return "this code no longer works after too many wrong tries: ask your IT desk for a new one";
	case CODE_EXPIRED: return "this code has expired: ask your IT desk for a new one";
	default: return "the relay could not check the code right now: try again in a minute";
	}
}

struct waiting_session {
	char id[SESSION_ID_LEN + 1];
	char ticket_id[TICKET_ID_MAX + 1];
	char created_by[USER_NAME_MAX + 1];
	char code_hash[SHA256_HEX_LEN];
	char expires_at[32];
	int failures;
};

/* Inside a transaction: the waiting session holding `locator`; 1, 0, -1. */
static int find_waiting(struct store *store, const char *locator, struct waiting_session *w,
                        char *err, size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	int rc = -1, step;

	if (sqlite3_prepare_v2(store_db(store),
	                       "SELECT s.id, s.ticket_id, u.name, s.code_hash, s.code_expires_at, "
	                       "s.code_failures FROM sessions s JOIN users u ON u.id = s.created_by "
	                       "WHERE s.state = 'waiting' AND s.code_locator = ?1",
	                       -1, &stmt, NULL) != SQLITE_OK)
		return store_error(store, "cannot look up the code", err, errlen);
	sqlite3_bind_text(stmt, 1, locator, -1, SQLITE_STATIC);
	step = sqlite3_step(stmt);
	if (step == SQLITE_ROW) {
		snprintf(w->id, sizeof w->id, "%s", (const char *)sqlite3_column_text(stmt, 0));
		snprintf(w->ticket_id, sizeof w->ticket_id, "%s", (const char *)sqlite3_column_text(stmt, 1));
		snprintf(w->created_by, sizeof w->created_by, "%s", (const char *)sqlite3_column_text(stmt, 2));
		snprintf(w->code_hash, sizeof w->code_hash, "%s",
		         sqlite3_column_text(stmt, 3) ? (const char *)sqlite3_column_text(stmt, 3) : "");
		snprintf(w->expires_at, sizeof w->expires_at, "%s",
		         sqlite3_column_text(stmt, 4) ? (const char *)sqlite3_column_text(stmt, 4) : "");
		w->failures = sqlite3_column_int(stmt, 5);
		rc = 1;
	} else if (step == SQLITE_DONE) {
		rc = 0;
	} else {
		store_error(store, "cannot look up the code", err, errlen);
	}
	sqlite3_finalize(stmt);
	return rc;
}

/* Inside a transaction: ends a session without touching participants. */
static int mark_ended(struct store *store, const char *session_id, const char *reason, char *err,
                      size_t errlen)
{
	char now[32];
	const char *params[] = { session_id, now, reason };

	store_now_utc(now, sizeof now);
	return store_run(store, "cannot end the session",
	                 "UPDATE sessions SET state = 'ended', ended_at = ?2, end_reason = ?3, "
	                 "code_hash = NULL, code_locator = NULL, resume_hash = NULL "
	                 "WHERE id = ?1 AND state != 'ended'", 3, params, err, errlen) < 0 ? -1 : 0;
}

static enum code_claim wrong_code(struct store *store, const struct waiting_session *w,
                                  const char *source, char *err, size_t errlen)
{
	const char *params[] = { w->id };
	char details[128];
	int failures = w->failures + 1;
	int burned = failures >= SESSION_CODE_MAX_FAILURES;

	if (store_run(store, "cannot count the wrong try",
	              "UPDATE sessions SET code_failures = code_failures + 1 WHERE id = ?1", 1, params,
	              err, errlen) < 0)
		return CODE_ERROR;
	if (burned && mark_ended(store, w->id, "code burned after too many wrong tries", err, errlen) < 0)
		return CODE_ERROR;
	snprintf(details, sizeof details, "reason=%s failures=%d source=%s",
	         burned ? "burned" : "wrong_code", failures, source);
	if (audit_session(store, "agent", "session.code_deny", w->id, w->ticket_id, details, err, errlen) < 0)
		return CODE_ERROR;
	return burned ? CODE_BURNED : CODE_WRONG;
}

static enum code_claim accept_code(struct store *store, const struct waiting_session *w,
                                   const char *source, const char *endpoint_host, int auto_accept,
                                   struct session_claimed *out, char *err, size_t errlen)
{
	char digest[SHA256_HEX_LEN], now[32], details[256];

	secret_random_hex(out->resume_token, RESUME_TOKEN_HEX / 2);
	secret_sha256_hex(out->resume_token, strlen(out->resume_token), digest);
	store_now_utc(now, sizeof now);
	const char *params[] = { w->id, endpoint_host, now, digest, auto_accept ? "1" : "0" };
	if (store_run(store, "cannot start the session",
	              "UPDATE sessions SET state = 'active', code_hash = NULL, code_locator = NULL, "
	              "endpoint_host = ?2, started_at = ?3, resume_hash = ?4, auto_accept = ?5 "
	              "WHERE id = ?1", 5, params, err, errlen) != 1)
		return CODE_ERROR;
	snprintf(details, sizeof details, "source=%s endpoint_host=%s auto_accept=%d", source,
	         endpoint_host, auto_accept);
	if (audit_session(store, "agent", "session.start", w->id, w->ticket_id, details, err, errlen) < 0)
		return CODE_ERROR;
	snprintf(out->id, sizeof out->id, "%s", w->id);
	snprintf(out->ticket_id, sizeof out->ticket_id, "%s", w->ticket_id);
	snprintf(out->created_by, sizeof out->created_by, "%s", w->created_by);
	return CODE_OK;
}

enum code_claim sessions_claim_code(struct store *store, const char *code, const char *source,
                                    const char *endpoint_host, int auto_accept,
                                    struct session_claimed *out, char *err, size_t errlen)
{
	char digits[SESSION_CODE_DIGITS + 1], locator[LOCATOR_DIGITS + 1], digest[SHA256_HEX_LEN];
	char details[128], now[32];
	struct waiting_session w;
	enum code_claim result;
	int found;

	memset(out, 0, sizeof *out);
	if (store_begin(store, err, errlen) < 0)
		return CODE_ERROR;
	if (!session_code_normalise(code, digits)) {
		snprintf(details, sizeof details, "reason=malformed source=%s", source);
		result = audit_session(store, "agent", "session.code_deny", NULL, NULL, details, err,
		                       errlen) < 0 ? CODE_ERROR : CODE_MALFORMED;
		goto done;
	}
	memcpy(locator, digits, LOCATOR_DIGITS);
	locator[LOCATOR_DIGITS] = '\0';
	found = find_waiting(store, locator, &w, err, errlen);
	if (found <= 0) {
		snprintf(details, sizeof details, "reason=unknown_code source=%s", source);
		result = found < 0 || audit_session(store, "agent", "session.code_deny", NULL, NULL,
		                                    details, err, errlen) < 0 ? CODE_ERROR : CODE_UNKNOWN;
		goto done;
	}
	store_now_utc(now, sizeof now);
	if (strcmp(now, w.expires_at) > 0) {
		snprintf(details, sizeof details, "reason=expired source=%s", source);
		result = mark_ended(store, w.id, "code expired", err, errlen) < 0 ||
		         audit_session(store, "agent", "session.code_deny", w.id, w.ticket_id, details, err,
		                       errlen) < 0 ? CODE_ERROR : CODE_EXPIRED;
		goto done;
	}
	code_digest(w.id, digits, digest);
	if (!secret_equal(digest, w.code_hash))
		result = wrong_code(store, &w, source, err, errlen);
	else
		result = accept_code(store, &w, source, endpoint_host, auto_accept, out, err, errlen);
done:
	OPENSSL_cleanse(digits, sizeof digits);
	if (result == CODE_ERROR) {
		store_rollback(store);
		memset(out, 0, sizeof *out);
		return CODE_ERROR;
	}
	if (store_commit(store, err, errlen) < 0)
		return CODE_ERROR;
	return result;
}

int sessions_resume(struct store *store, const char *session_id, const char *token,
                    const char *source, struct session_claimed *out, char *err, size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	char digest[SHA256_HEX_LEN], details[128], ticket[TICKET_ID_MAX + 1] = "";
	int rc = -1, step;

	memset(out, 0, sizeof *out);
	if (sqlite3_prepare_v2(store_db(store),
	                       "SELECT s.state, coalesce(s.resume_hash, ''), s.ticket_id, u.name, "
	                       "coalesce(s.end_reason, '') FROM sessions s JOIN users u ON u.id = s.created_by "
	                       "WHERE s.id = ?1", -1, &stmt, NULL) != SQLITE_OK)
		return store_error(store, "cannot look up the session", err, errlen);
	sqlite3_bind_text(stmt, 1, session_id, -1, SQLITE_STATIC);
	step = sqlite3_step(stmt);
	if (step == SQLITE_DONE) {
		snprintf(err, errlen, "the session no longer exists");
		rc = 0;
		goto out;
	}
	if (step != SQLITE_ROW) {
		store_error(store, "cannot look up the session", err, errlen);
		goto out;
	}
	snprintf(ticket, sizeof ticket, "%s", (const char *)sqlite3_column_text(stmt, 2));
	secret_sha256_hex(token, strlen(token), digest);
	if (strcmp((const char *)sqlite3_column_text(stmt, 0), "active") != 0) {
		snprintf(err, errlen, "the session has ended (%s)", (const char *)sqlite3_column_text(stmt, 4));
		rc = 0;
		goto out;
	}
	if (!secret_equal(digest, (const char *)sqlite3_column_text(stmt, 1))) {
		snprintf(err, errlen, "the relay did not recognise this session");
		rc = 0;
		goto out;
	}
	snprintf(out->id, sizeof out->id, "%s", session_id);
	snprintf(out->ticket_id, sizeof out->ticket_id, "%s", ticket);
	snprintf(out->created_by, sizeof out->created_by, "%s", (const char *)sqlite3_column_text(stmt, 3));
	rc = 1;
out:
	sqlite3_finalize(stmt);
	if (rc >= 0) {
		char why[256];
		snprintf(details, sizeof details, "source=%s result=%s", source, rc ? "resumed" : "refused");
		if (audit_session(store, "agent", rc ? "session.resume" : "session.resume_deny", session_id,
		                  ticket[0] ? ticket : NULL, details, why, sizeof why) < 0) {
			snprintf(err, errlen, "%s", why);
			return -1;
		}
	}
	return rc;
}

int sessions_ticket_of(struct store *store, const char *session_id, char ticket_id[TICKET_ID_MAX + 1],
                       char *err, size_t errlen)
{
	const char *find[] = { session_id };
	int found = store_query_text(store, "cannot look up the session",
	                             "SELECT ticket_id FROM sessions WHERE id = ?1", 1, find, ticket_id,
	                             TICKET_ID_MAX + 1, err, errlen);

	if (found == 0)
		snprintf(err, errlen, "no session %.64s", session_id);
	return found;
}

int sessions_end(struct store *store, const char *actor, const char *session_id, const char *reason,
                 char *err, size_t errlen)
{
	char ticket[TICKET_ID_MAX + 1], state[16], now[32], details[160];
	const char *find[] = { session_id };

	if (store_begin(store, err, errlen) < 0)
		return -1;
	if (sessions_ticket_of(store, session_id, ticket, err, errlen) <= 0)
		goto fail;
	if (store_query_text(store, "cannot look up the session",
	                     "SELECT state FROM sessions WHERE id = ?1", 1, find, state, sizeof state,
	                     err, errlen) < 0)
		goto fail;
	if (strcmp(state, "ended") == 0) {
		store_rollback(store);
		return 0;
	}
	store_now_utc(now, sizeof now);
	const char *leave[] = { session_id, now, reason };
	if (mark_ended(store, session_id, reason, err, errlen) < 0 ||
	    store_run(store, "cannot close the participants",
	              "UPDATE participants SET left_at = ?2, left_reason = ?3 "
	              "WHERE session_id = ?1 AND left_at IS NULL", 3, leave, err, errlen) < 0)
		goto fail;
	snprintf(details, sizeof details, "reason=\"%.120s\"", reason);
	if (audit_session(store, actor, "session.end", session_id, ticket, details, err, errlen) < 0)
		goto fail;
	return store_commit(store, err, errlen);
fail:
	store_rollback(store);
	return -1;
}

static int looks_like_session_id(const char *ref)
{
	if (strlen(ref) != SESSION_ID_LEN || ref[0] != 's')
		return 0;
	for (const char *p = ref + 1; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

int sessions_resolve(struct store *store, const char *ref, char *session_id, char *ticket_id,
                     char *err, size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	int rows = 0, step, by_id = looks_like_session_id(ref);

	if (sqlite3_prepare_v2(store_db(store),
	                       by_id ? "SELECT id, ticket_id FROM sessions WHERE id = ?1 AND state != 'ended'"
	                             : "SELECT id, ticket_id FROM sessions WHERE ticket_id = ?1 AND state != 'ended'",
	                       -1, &stmt, NULL) != SQLITE_OK)
		return store_error(store, "cannot look up the session", err, errlen);
	sqlite3_bind_text(stmt, 1, ref, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (rows++ == 0) {
			snprintf(session_id, SESSION_ID_LEN + 1, "%s", (const char *)sqlite3_column_text(stmt, 0));
			snprintf(ticket_id, TICKET_ID_MAX + 1, "%s", (const char *)sqlite3_column_text(stmt, 1));
		}
	}
	sqlite3_finalize(stmt);
	if (step != SQLITE_DONE)
		return store_error(store, "cannot look up the session", err, errlen);
	if (rows == 1)
		return 1;
	if (rows == 0)
		snprintf(err, errlen, "no active session %s %.64s ('sessions' lists them)",
		         by_id ? "with id" : "for ticket", ref);
	else
		snprintf(err, errlen, "ticket %.64s has %d active sessions: name one by its session id",
		         ref, rows);
	return 0;
}

int sessions_foreach(struct store *store, int active_only, session_info_fn fn, void *ctx,
                     char *err, size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	int rc = -1, step;

	if (sqlite3_prepare_v2(store_db(store),
	                       "SELECT s.id, s.ticket_id, s.state, u.name, s.endpoint_host, s.created_at, "
	                       "s.ended_at, s.end_reason, coalesce((SELECT group_concat(pu.name || '(' || "
	                       "p.rights || ')', ' ') FROM participants p JOIN users pu ON pu.id = p.user_id "
	                       "WHERE p.session_id = s.id AND p.left_at IS NULL), '') "
	                       "FROM sessions s JOIN users u ON u.id = s.created_by "
	                       "WHERE ?1 = 0 OR s.state != 'ended' ORDER BY s.created_at DESC",
	                       -1, &stmt, NULL) != SQLITE_OK)
		return store_error(store, "cannot list sessions", err, errlen);
	sqlite3_bind_int(stmt, 1, active_only);
	while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct session_info info = {
			.id = (const char *)sqlite3_column_text(stmt, 0),
			.ticket_id = (const char *)sqlite3_column_text(stmt, 1),
			.state = (const char *)sqlite3_column_text(stmt, 2),
			.created_by = (const char *)sqlite3_column_text(stmt, 3),
			.endpoint_host = (const char *)sqlite3_column_text(stmt, 4),
			.created_at = (const char *)sqlite3_column_text(stmt, 5),
			.ended_at = (const char *)sqlite3_column_text(stmt, 6),
			.end_reason = (const char *)sqlite3_column_text(stmt, 7),
			.participants = (const char *)sqlite3_column_text(stmt, 8),
		};
		fn(&info, ctx);
	}
	if (step != SQLITE_DONE)
		store_error(store, "cannot list sessions", err, errlen);
	else
		rc = 0;
	sqlite3_finalize(stmt);
	return rc;
}

long long participants_join(struct store *store, const char *session_id, const char *ticket_id,
                            const char *user, const char *rights, char *err, size_t errlen)
{
	char now[32], actor[USER_NAME_MAX + 8], details[64];
	long long id;

	snprintf(actor, sizeof actor, "ssh:%s", user);
	store_now_utc(now, sizeof now);
	if (store_begin(store, err, errlen) < 0)
		return -1;
	const char *params[] = { session_id, user, rights, now };
	err[0] = '\0';
	if (store_run(store, "cannot record the participant",
	              "INSERT INTO participants (session_id, user_id, rights, joined_at) "
	              "SELECT ?1, id, ?3, ?4 FROM users WHERE name = ?2", 4, params, err, errlen) != 1) {
		if (!err[0])
			snprintf(err, errlen, "cannot record the participant: no user %s", user);
		goto fail;
	}
	id = sqlite3_last_insert_rowid(store_db(store));
	snprintf(details, sizeof details, "rights=%s participant=%lld", rights, id);
	if (audit_session(store, actor, "participant.join", session_id, ticket_id, details, err, errlen) < 0)
		goto fail;
	if (store_commit(store, err, errlen) < 0)
		return -1;
	return id;
fail:
	store_rollback(store);
	return -1;
}

int participants_leave(struct store *store, long long participant_id, const char *reason,
                       char *err, size_t errlen)
{
	char now[32], idtext[24], details[192], session[SESSION_ID_LEN + 1], ticket[TICKET_ID_MAX + 1];
	char user[USER_NAME_MAX + 1], actor[USER_NAME_MAX + 8];
	const char *params[] = { idtext, now, reason };
	int found;

	snprintf(idtext, sizeof idtext, "%lld", participant_id);
	store_now_utc(now, sizeof now);
	if (store_begin(store, err, errlen) < 0)
		return -1;
	found = store_query_text(store, "cannot look up the participant",
	                         "SELECT p.session_id FROM participants p WHERE p.id = ?1 AND p.left_at IS NULL",
	                         1, params, session, sizeof session, err, errlen);
	if (found <= 0) {
		store_rollback(store);
		return found; /* already left (e.g. the session ended first) */
	}
	if (store_query_text(store, "cannot look up the participant",
	                     "SELECT s.ticket_id FROM participants p JOIN sessions s ON s.id = p.session_id "
	                     "WHERE p.id = ?1", 1, params, ticket, sizeof ticket, err, errlen) < 0 ||
	    store_query_text(store, "cannot look up the participant",
	                     "SELECT u.name FROM participants p JOIN users u ON u.id = p.user_id "
	                     "WHERE p.id = ?1", 1, params, user, sizeof user, err, errlen) < 0 ||
	    store_run(store, "cannot record the leave",
	              "UPDATE participants SET left_at = ?2, left_reason = ?3 WHERE id = ?1", 3, params,
	              err, errlen) < 0)
		goto fail;
	snprintf(actor, sizeof actor, "ssh:%s", user);
	snprintf(details, sizeof details, "participant=%lld reason=\"%.120s\"", participant_id, reason);
	if (audit_session(store, actor, "participant.leave", session, ticket, details, err, errlen) < 0)
		goto fail;
	return store_commit(store, err, errlen);
fail:
	store_rollback(store);
	return -1;
}
