/*
 * sessions.h on a real database with a desk user "dana": session creation
 * (id and code formats, tickets opened then reused, refusals that leave
 * nothing behind), code claims for every outcome (malformed, unknown, right
 * in any layout, wrong until burned, expired) with their audit rows, that
 * neither the database nor the audit log ever holds a code, resumption,
 * ending, resolution, listing and participant rows.  Every test ends with
 * an intact audit chain, in its own mkdtemp directory, removed afterwards.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "audit.h"
#include "concierge_limits.h"
#include "secrets.h"
#include "sessions.h"
#include "store.h"
#include "support.h"
#include "tickets.h"
#include "users.h"

#define USER "dana"
#define TICKET "INC0012345"
#define SOURCE "192.0.2.7"
#define HOST "lab-pc-17"
#define TTL 600
#define MAX_LISTED 8
#define LOCATOR_SESSIONS 150

struct fixture {
	char dir[64];   /* the mkdtemp directory */
	char db[128];
	struct store *store;
	char err[1024];
};

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc = support_store_dir_close(f->store, f->dir);

	free(f);
	return rc;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (f == NULL || support_store_dir_open(f->dir, sizeof f->dir, "test_sessions", f->db,
	                                        sizeof f->db, &f->store) != 0) {
		free(f);
		return -1;
	}
	*state = f;
	if (users_add(f->store, "local:root", USER, "desk", NULL, f->err, sizeof f->err) != 0) {
		fprintf(stderr, "users_add: %s\n", f->err);
		teardown(state); /* cmocka runs no teardown after a failed setup */
		return -1;
	}
	return 0;
}

static void expect_audit_intact(struct fixture *f)
{
	struct audit_verify_result r;

	assert_int_equal(audit_verify(f->store, NULL, &r, f->err, sizeof f->err), 0);
	assert_int_equal(r.first_bad_seq, 0);
	assert_true(r.rows > 0);
}

/* The first column of the first row of `sql` (?1 = param); NULL reads as "". */
static void query(struct fixture *f, const char *sql, const char *param, char *out, size_t outlen)
{
	const char *params[] = { param };

	if (store_query_text(f->store, "test query", sql, 1, params, out, outlen, f->err,
	                     sizeof f->err) != 1)
		fail_msg("no row for %s (?1 = %s): %s", sql, param, f->err);
}

/* One column of session `id`; NULL reads as "NULL". */
static void session_column(struct fixture *f, const char *id, const char *column, char *out,
                           size_t outlen)
{
	char sql[160];

	snprintf(sql, sizeof sql, "SELECT ifnull(%s, 'NULL') FROM sessions WHERE id = ?1", column);
	query(f, sql, id, out, outlen);
}

static void expect_session_column(struct fixture *f, const char *id, const char *column,
                                  const char *want)
{
	char got[256];

	session_column(f, id, column, got, sizeof got);
	assert_string_equal(got, want);
}

/* Audit rows with this action and ticket (NULL: none) whose object is
 * "session:ID" (ID NULL: any) and whose details contain `details`. */
static long audit_count(struct fixture *f, const char *action, const char *session_id,
                        const char *ticket, const char *details)
{
	char object[32], count[32];
	const char *params[] = { action, ticket, details, session_id ? object : NULL };

	snprintf(object, sizeof object, "session:%s", session_id ? session_id : "");
	assert_int_equal(store_query_text(f->store, "count audit rows",
	                                  "SELECT count(*) FROM audit_log WHERE action = ?1 AND "
	                                  "ticket_id IS ?2 AND instr(details, ?3) > 0 AND "
	                                  "(?4 IS NULL OR object = ?4)",
	                                  4, params, count, sizeof count, f->err, sizeof f->err), 1);
	return atol(count);
}

static void create(struct fixture *f, const char *ticket, struct session_created *s)
{
	if (sessions_create(f->store, USER, ticket, TTL, s, f->err, sizeof f->err) != 0)
		fail_msg("sessions_create %s: %s", ticket, f->err);
}

static enum code_claim claim(struct fixture *f, const char *code, struct session_claimed *c)
{
	return sessions_claim_code(f->store, code, SOURCE, HOST, 0, c, f->err, sizeof f->err);
}

/* Creates a session on `ticket` and claims its code: an active session. */
static void create_active(struct fixture *f, const char *ticket, struct session_created *s,
                          struct session_claimed *c)
{
	create(f, ticket, s);
	assert_int_equal(claim(f, s->code, c), CODE_OK);
}

/* dana joins session `id` with control: the participant id, also as text. */
static long long join(struct fixture *f, const char *id, char pid[24])
{
	long long p = participants_join(f->store, id, TICKET, USER, "control", f->err, sizeof f->err);

	if (p <= 0)
		fail_msg("participants_join %s: %s", id, f->err);
	snprintf(pid, 24, "%lld", p);
	return p;
}

static void expect_left(struct fixture *f, const char *pid, const char *reason)
{
	char got[64];

	query(f, "SELECT ifnull(left_reason, 'NULL') || ' ' || typeof(left_at) FROM participants "
	      "WHERE id = ?1", pid, got, sizeof got);
	if (strncmp(got, reason, strlen(reason)) != 0 || strcmp(got + strlen(reason), " text") != 0)
		fail_msg("participant %s: \"%s\", not \"%s\" with a left_at", pid, got, reason);
}

/* The nine digits of "123-456-789". */
static void code_digits(const char *code, char digits[SESSION_CODE_DIGITS + 1])
{
	size_t n = 0;

	for (const char *p = code; *p; p++)
		if (*p != '-')
			digits[n++] = *p;
	digits[n] = '\0';
	assert_int_equal(n, SESSION_CODE_DIGITS);
}

/* `code` with its last digit changed: the same locator, a wrong secret. */
static void wrong_code(const char *code, char *out, size_t outlen)
{
	size_t last = strlen(code) - 1;

	snprintf(out, outlen, "%s", code);
	out[last] = (char)('0' + (out[last] - '0' + 1) % 10);
}

static void expect_session_id(const char *id)
{
	assert_int_equal(strlen(id), SESSION_ID_LEN);
	assert_int_equal(id[0], 's');
	assert_int_equal(strspn(id + 1, "0123456789abcdef"), SESSION_ID_LEN - 1);
}

static void expect_code_format(const char *code)
{
	assert_int_equal(strlen(code), 11);
	for (int i = 0; i < 11; i++) {
		if (i == 3 || i == 7)
			assert_int_equal(code[i], '-');
		else
			assert_true(code[i] >= '0' && code[i] <= '9');
	}
}

/* Fails when any column of any row of `sql` contains one of `needles`;
 * columns named *hash hold digests and are only checked for the first. */
static void expect_absent(struct fixture *f, const char *sql, const char *const needles[3])
{
	sqlite3_stmt *stmt = NULL;
	int step;

	assert_int_equal(sqlite3_prepare_v2(store_db(f->store), sql, -1, &stmt, NULL), SQLITE_OK);
	while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		for (int col = 0; col < sqlite3_column_count(stmt); col++) {
			const char *name = sqlite3_column_name(stmt, col);
			const char *text = (const char *)sqlite3_column_text(stmt, col);
			size_t nlen = strlen(name);
			int n = nlen >= 4 && strcmp(name + nlen - 4, "hash") == 0 ? 1 : 3;

			for (int i = 0; text && i < n; i++)
				if (strstr(text, needles[i]))
					fail_msg("%s holds %s in %s: %s", sql, needles[i], name, text);
		}
	}
	assert_int_equal(step, SQLITE_DONE);
	sqlite3_finalize(stmt);
}

/* Neither the sessions table nor the audit log holds `code`: not its nine
 * digits, not as shown, not its six secret digits. */
static void expect_code_not_stored(struct fixture *f, const char *code)
{
	char digits[SESSION_CODE_DIGITS + 1];
	const char *needles[3] = { digits, code, digits + 3 };

	code_digits(code, digits);
	expect_absent(f, "SELECT * FROM sessions", needles);
	expect_absent(f, "SELECT ts, actor, action, object, ticket_id, details FROM audit_log", needles);
}

static void test_create(void **state)
{
	struct fixture *f = *state;
	struct session_created a, b;
	char now[32], user_id[16];

	create(f, TICKET, &a);
	expect_session_id(a.id);
	expect_code_format(a.code);
	assert_int_equal(a.ticket_created, 1);
	store_now_utc(now, sizeof now);
	assert_true(strcmp(a.expires_at, now) > 0);
	query(f, "SELECT state FROM tickets WHERE id = ?1", TICKET, now, sizeof now);
	assert_string_equal(now, "open");

	create(f, TICKET, &b);
	expect_session_id(b.id);
	expect_code_format(b.code);
	assert_int_equal(b.ticket_created, 0);
	assert_string_not_equal(a.id, b.id);
	assert_memory_not_equal(a.code, b.code, 3); /* locators differ among waiting sessions */

	query(f, "SELECT id FROM users WHERE name = ?1", USER, user_id, sizeof user_id);
	expect_session_column(f, a.id, "state", "waiting");
	expect_session_column(f, a.id, "ticket_id", TICKET);
	expect_session_column(f, a.id, "created_by", user_id);
	expect_session_column(f, a.id, "code_expires_at", a.expires_at);
	assert_int_equal(support_count_rows(f->store, "sessions"), 2);
	assert_int_equal(support_count_rows(f->store, "tickets"), 1);
	assert_int_equal(audit_count(f, "ticket.open", NULL, TICKET, ""), 1);
	assert_int_equal(audit_count(f, "session.create", a.id, TICKET, a.expires_at), 1);
	assert_int_equal(audit_count(f, "session.create", b.id, TICKET, ""), 1);
	expect_audit_intact(f);
}

/* Locators are unique among waiting sessions: LOCATOR_SESSIONS random ones
 * out of 1000 would collide with near certainty (p > 1 - 1e-4). */
static void test_locators_unique(void **state)
{
	struct fixture *f = *state;
	struct session_created s;
	char seen[1000] = { 0 };

	for (int i = 0; i < LOCATOR_SESSIONS; i++) {
		int locator;

		create(f, TICKET, &s);
		locator = atoi(s.code);
		if (seen[locator]++)
			fail_msg("locator %03d given twice (session %d)", locator, i);
	}
	expect_audit_intact(f);
}

static void test_create_refused(void **state)
{
	struct fixture *f = *state;
	struct session_created s;
	long long sessions, tickets, audit;

	assert_int_equal(tickets_open(f->store, "local:root", "INC0000001", "", "", f->err,
	                              sizeof f->err), 0);
	assert_int_equal(tickets_close(f->store, "local:root", "INC0000001", f->err, sizeof f->err), 0);
	sessions = support_count_rows(f->store, "sessions");
	tickets = support_count_rows(f->store, "tickets");
	audit = support_count_rows(f->store, "audit_log");

	assert_int_equal(sessions_create(f->store, USER, "INC0000001", TTL, &s, f->err,
	                                 sizeof f->err), -1);
	assert_non_null(strstr(f->err, "closed"));
	assert_string_equal(s.id, "");
	assert_string_equal(s.code, "");

	/* An unknown user: the ticket it would have opened is rolled back too. */
	f->err[0] = '\0';
	assert_int_equal(sessions_create(f->store, "nobody", "INC0000002", TTL, &s, f->err,
	                                 sizeof f->err), -1);
	assert_non_null(strstr(f->err, "nobody"));
	assert_string_equal(s.code, "");

	assert_int_equal(support_count_rows(f->store, "sessions"), sessions);
	assert_int_equal(support_count_rows(f->store, "tickets"), tickets);
	assert_int_equal(support_count_rows(f->store, "audit_log"), audit);
	expect_audit_intact(f);
}

static void test_no_plain_code_stored(void **state)
{
	struct fixture *f = *state;
	struct session_created s;
	char digits[SESSION_CODE_DIGITS + 1], material[32], digest[SHA256_HEX_LEN];

	create(f, TICKET, &s);
	expect_code_not_stored(f, s.code);
	/* What is stored is SHA-256(id ":" code) and the public locator. */
	code_digits(s.code, digits);
	snprintf(material, sizeof material, "%s:%s", s.id, digits);
	secret_sha256_hex(material, strlen(material), digest);
	expect_session_column(f, s.id, "code_hash", digest);
	digits[3] = '\0';
	expect_session_column(f, s.id, "code_locator", digits);
	expect_audit_intact(f);
}

static void test_claim_malformed(void **state)
{
	static const char *const codes[] = {
		"12-34", "abc-def-ghi", "123-456-78x", "1234567890", "12345678", "", "123_456_789",
		"123.456.789", "123\t456\t789", "\xd9\xa1\xd9\xa2\xd9\xa3-456-789",
	};
	struct fixture *f = *state;
	struct session_created s;
	struct session_claimed c;
	size_t n = sizeof codes / sizeof codes[0];

	create(f, TICKET, &s);
	for (size_t i = 0; i < n; i++) {
		memset(&c, 'x', sizeof c);
		if (claim(f, codes[i], &c) != CODE_MALFORMED)
			fail_msg("code \"%s\" was not malformed", codes[i]);
		assert_string_equal(c.id, "");
		assert_string_equal(c.resume_token, "");
	}
	assert_int_equal(audit_count(f, "session.code_deny", NULL, NULL, "reason=malformed"), (long)n);
	/* Malformed tries count against no session. */
	expect_session_column(f, s.id, "state", "waiting");
	expect_session_column(f, s.id, "code_failures", "0");
	assert_int_equal(claim(f, s.code, &c), CODE_OK);
	expect_audit_intact(f);
}

static void test_claim_unknown(void **state)
{
	struct fixture *f = *state;
	struct session_created s;
	struct session_claimed c;
	char other[16];

	create(f, TICKET, &s);
	snprintf(other, sizeof other, "%03d%.8s", (atoi(s.code) + 1) % 1000, s.code + 3);
	assert_int_equal(claim(f, other, &c), CODE_UNKNOWN);
	assert_string_equal(c.id, "");
	assert_int_equal(audit_count(f, "session.code_deny", NULL, NULL, "reason=unknown_code"), 1);
	assert_int_equal(audit_count(f, "session.code_deny", NULL, NULL, "source=" SOURCE), 1);
	expect_session_column(f, s.id, "state", "waiting");
	expect_session_column(f, s.id, "code_failures", "0");
	expect_code_not_stored(f, s.code);
	expect_code_not_stored(f, other);
	expect_audit_intact(f);
}

/* `digits` laid out as `layout`, each 'd' taking the next digit. */
static void lay_out(const char *layout, const char *digits, char *out)
{
	for (; *layout; layout++)
		*out++ = *layout == 'd' ? *digits++ : *layout;
	*out = '\0';
}

static void test_claim_right_code(void **state)
{
	static const char *const layouts[] = {
		"ddd-ddd-ddd", "ddddddddd", "ddd ddd ddd", " d-d d-ddd--dddd ", "ddd - ddd - ddd",
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++) {
		struct session_created s;
		struct session_claimed c;
		char digits[SESSION_CODE_DIGITS + 1], typed[32], digest[SHA256_HEX_LEN];

		create(f, TICKET, &s);
		code_digits(s.code, digits);
		lay_out(layouts[i], digits, typed);
		if (claim(f, typed, &c) != CODE_OK)
			fail_msg("\"%s\" for %s refused: %s", typed, s.code, f->err);
		assert_string_equal(c.id, s.id);
		assert_string_equal(c.ticket_id, TICKET);
		assert_string_equal(c.created_by, USER);
		assert_int_equal(strlen(c.resume_token), RESUME_TOKEN_HEX);
		assert_int_equal(strspn(c.resume_token, "0123456789abcdef"), RESUME_TOKEN_HEX);

		expect_session_column(f, s.id, "state", "active");
		expect_session_column(f, s.id, "endpoint_host", HOST);
		expect_session_column(f, s.id, "code_hash", "NULL");
		expect_session_column(f, s.id, "code_locator", "NULL");
		secret_sha256_hex(c.resume_token, strlen(c.resume_token), digest);
		expect_session_column(f, s.id, "resume_hash", digest);
		assert_int_equal(audit_count(f, "session.start", s.id, TICKET, "source=" SOURCE), 1);

		/* A code works once. */
		assert_int_equal(claim(f, typed, &c), CODE_UNKNOWN);
		assert_int_equal(claim(f, s.code, &c), CODE_UNKNOWN);
		expect_session_column(f, s.id, "state", "active");
		expect_code_not_stored(f, s.code);
	}
	expect_audit_intact(f);
}

static void test_claim_wrong_until_burned(void **state)
{
	struct fixture *f = *state;
	struct session_created s;
	struct session_claimed c;
	char wrong[16], failures[16], reason[128];

	create(f, TICKET, &s);
	wrong_code(s.code, wrong, sizeof wrong);
	for (int i = 1; i < SESSION_CODE_MAX_FAILURES; i++) {
		assert_int_equal(claim(f, wrong, &c), CODE_WRONG);
		assert_string_equal(c.id, "");
		snprintf(failures, sizeof failures, "%d", i);
		expect_session_column(f, s.id, "code_failures", failures);
		expect_session_column(f, s.id, "state", "waiting");
	}
	assert_int_equal(claim(f, wrong, &c), CODE_BURNED);
	expect_session_column(f, s.id, "state", "ended");
	session_column(f, s.id, "end_reason", reason, sizeof reason);
	assert_non_null(strstr(reason, "wrong tries"));
	expect_session_column(f, s.id, "code_hash", "NULL");

	/* The right code no longer opens it. */
	assert_int_equal(claim(f, s.code, &c), CODE_UNKNOWN);
	assert_string_equal(c.resume_token, "");
	expect_session_column(f, s.id, "state", "ended");

	assert_int_equal(audit_count(f, "session.code_deny", s.id, TICKET, "reason=wrong_code"),
	                 SESSION_CODE_MAX_FAILURES - 1);
	assert_int_equal(audit_count(f, "session.code_deny", s.id, TICKET, "reason=burned failures=5"), 1);
	assert_int_equal(audit_count(f, "session.start", NULL, TICKET, ""), 0);
	expect_code_not_stored(f, s.code);
	expect_code_not_stored(f, wrong);
	expect_audit_intact(f);
}

static void test_claim_expired(void **state)
{
	struct fixture *f = *state;
	struct session_created s;
	struct session_claimed c;
	const char *params[1];
	char reason[128];

	create(f, TICKET, &s);
	params[0] = s.id;
	assert_int_equal(store_run(f->store, "expire", "UPDATE sessions SET code_expires_at = "
	                           "'2000-01-01T00:00:00.000Z' WHERE id = ?1", 1, params, f->err,
	                           sizeof f->err), 1);
	assert_int_equal(claim(f, s.code, &c), CODE_EXPIRED);
	assert_string_equal(c.resume_token, "");
	expect_session_column(f, s.id, "state", "ended");
	session_column(f, s.id, "end_reason", reason, sizeof reason);
	assert_non_null(strstr(reason, "expired"));
	assert_int_equal(audit_count(f, "session.code_deny", s.id, TICKET, "reason=expired"), 1);
	assert_int_equal(claim(f, s.code, &c), CODE_UNKNOWN);
	expect_code_not_stored(f, s.code);
	expect_audit_intact(f);
}

static void test_claim_messages(void **state)
{
	(void)state;
	for (int r = CODE_OK; r <= CODE_ERROR; r++) {
		const char *m = sessions_claim_message((enum code_claim)r);

		assert_non_null(m);
		assert_true(strlen(m) > 0);
	}
	assert_string_not_equal(sessions_claim_message(CODE_WRONG), sessions_claim_message(CODE_BURNED));
	assert_string_not_equal(sessions_claim_message(CODE_OK), sessions_claim_message(CODE_EXPIRED));
}

static void test_resume(void **state)
{
	struct fixture *f = *state;
	struct session_created s;
	struct session_claimed c, r;
	char bad[RESUME_TOKEN_HEX + 1];

	create_active(f, TICKET, &s, &c);
	assert_int_equal(sessions_resume(f->store, s.id, c.resume_token, SOURCE, &r, f->err,
	                                 sizeof f->err), 1);
	assert_string_equal(r.id, s.id);
	assert_string_equal(r.ticket_id, TICKET);
	assert_string_equal(r.created_by, USER);
	assert_string_equal(r.resume_token, ""); /* no new token */
	assert_int_equal(audit_count(f, "session.resume", s.id, TICKET, "source=" SOURCE), 1);

	wrong_code(c.resume_token, bad, sizeof bad);
	f->err[0] = '\0';
	assert_int_equal(sessions_resume(f->store, s.id, bad, SOURCE, &r, f->err, sizeof f->err), 0);
	assert_true(f->err[0] != '\0');
	assert_string_equal(r.id, "");
	assert_int_equal(sessions_resume(f->store, s.id, "", SOURCE, &r, f->err, sizeof f->err), 0);
	assert_int_equal(sessions_resume(f->store, "s00000000", c.resume_token, SOURCE, &r, f->err,
	                                 sizeof f->err), 0);
	/* Refusals of a known session are audited against its ticket. */
	assert_int_equal(audit_count(f, "session.resume_deny", s.id, TICKET, ""), 2);
	assert_int_equal(audit_count(f, "session.resume_deny", "s00000000", NULL, ""), 1);

	assert_int_equal(sessions_end(f->store, "ssh:" USER, s.id, "fixed the printer", f->err,
	                              sizeof f->err), 0);
	assert_int_equal(sessions_resume(f->store, s.id, c.resume_token, SOURCE, &r, f->err,
	                                 sizeof f->err), 0);
	assert_non_null(strstr(f->err, "ended"));
	assert_non_null(strstr(f->err, "fixed the printer"));
	assert_int_equal(audit_count(f, "session.resume", NULL, TICKET, ""), 1);
	expect_audit_intact(f);
}

static void test_end(void **state)
{
	struct fixture *f = *state;
	struct session_created s;
	struct session_claimed c;
	char pid[24];
	long long p;

	create_active(f, TICKET, &s, &c);
	p = join(f, s.id, pid);

	assert_int_equal(sessions_end(f->store, "ssh:" USER, s.id, "fixed", f->err, sizeof f->err), 0);
	expect_session_column(f, s.id, "state", "ended");
	expect_session_column(f, s.id, "end_reason", "fixed");
	expect_session_column(f, s.id, "resume_hash", "NULL");
	expect_session_column(f, s.id, "typeof(ended_at)", "text");
	expect_left(f, pid, "fixed");
	assert_int_equal(audit_count(f, "session.end", s.id, TICKET, "fixed"), 1);

	/* Again: nothing changes, nothing more is audited. */
	assert_int_equal(sessions_end(f->store, "ssh:" USER, s.id, "again", f->err, sizeof f->err), 0);
	expect_session_column(f, s.id, "end_reason", "fixed");
	assert_int_equal(audit_count(f, "session.end", NULL, TICKET, ""), 1);
	/* Its participant already left with the session. */
	assert_int_equal(participants_leave(f->store, p, "late", f->err, sizeof f->err), 0);
	assert_int_equal(audit_count(f, "participant.leave", NULL, TICKET, ""), 0);

	f->err[0] = '\0';
	assert_int_equal(sessions_end(f->store, "ssh:" USER, "s00000000", "x", f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "s00000000"));
	expect_audit_intact(f);
}

static void expect_resolves(struct fixture *f, const char *ref, const char *want_id)
{
	char id[SESSION_ID_LEN + 1], ticket[TICKET_ID_MAX + 1];

	if (sessions_resolve(f->store, ref, id, ticket, f->err, sizeof f->err) != 1)
		fail_msg("%s did not resolve: %s", ref, f->err);
	assert_string_equal(id, want_id);
	assert_string_equal(ticket, TICKET);
}

static void expect_unresolved(struct fixture *f, const char *ref, const char *why)
{
	char id[SESSION_ID_LEN + 1], ticket[TICKET_ID_MAX + 1];

	f->err[0] = '\0';
	assert_int_equal(sessions_resolve(f->store, ref, id, ticket, f->err, sizeof f->err), 0);
	if (strstr(f->err, why) == NULL)
		fail_msg("resolving %s: \"%s\" does not say \"%s\"", ref, f->err, why);
}

static void test_resolve(void **state)
{
	struct fixture *f = *state;
	struct session_created a, b;

	create(f, TICKET, &a);
	expect_resolves(f, a.id, a.id);
	expect_resolves(f, TICKET, a.id);

	create(f, TICKET, &b);
	expect_unresolved(f, TICKET, "sessions");
	expect_resolves(f, a.id, a.id);
	expect_resolves(f, b.id, b.id);
	expect_unresolved(f, "INC7654321", "INC7654321");
	expect_unresolved(f, "s00000000", "s00000000");

	assert_int_equal(sessions_end(f->store, "ssh:" USER, a.id, "done", f->err, sizeof f->err), 0);
	expect_unresolved(f, a.id, a.id);
	expect_resolves(f, TICKET, b.id);
	expect_audit_intact(f);
}

struct listed {
	int n;
	struct {
		char id[SESSION_ID_LEN + 1], state[16], host[64], participants[64], reason[64];
	} row[MAX_LISTED];
};

static void collect(const struct session_info *info, void *ctx)
{
	struct listed *l = ctx;

	assert_true(l->n < MAX_LISTED);
	snprintf(l->row[l->n].id, sizeof l->row[l->n].id, "%s", info->id);
	snprintf(l->row[l->n].state, sizeof l->row[l->n].state, "%s", info->state);
	snprintf(l->row[l->n].host, sizeof l->row[l->n].host, "%s",
	         info->endpoint_host ? info->endpoint_host : "NULL");
	snprintf(l->row[l->n].participants, sizeof l->row[l->n].participants, "%s", info->participants);
	snprintf(l->row[l->n].reason, sizeof l->row[l->n].reason, "%s",
	         info->end_reason ? info->end_reason : "NULL");
	l->n++;
}

static int find_listed(const struct listed *l, const char *id)
{
	for (int i = 0; i < l->n; i++)
		if (strcmp(l->row[i].id, id) == 0)
			return i;
	return -1;
}

static void list(struct fixture *f, int active_only, struct listed *l)
{
	memset(l, 0, sizeof *l);
	assert_int_equal(sessions_foreach(f->store, active_only, collect, l, f->err, sizeof f->err), 0);
}

static void test_foreach(void **state)
{
	struct fixture *f = *state;
	struct session_created active, waiting, ended;
	struct session_claimed c;
	struct listed l;
	char pid[24];
	int i;

	create_active(f, TICKET, &active, &c);
	join(f, active.id, pid);
	create(f, "INC0000002", &waiting);
	create(f, "INC0000003", &ended);
	assert_int_equal(sessions_end(f->store, "ssh:" USER, ended.id, "no answer", f->err,
	                              sizeof f->err), 0);

	list(f, 1, &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(find_listed(&l, ended.id), -1);
	i = find_listed(&l, active.id);
	assert_true(i >= 0);
	assert_string_equal(l.row[i].state, "active");
	assert_string_equal(l.row[i].host, HOST);
	assert_string_equal(l.row[i].participants, "dana(control)");
	i = find_listed(&l, waiting.id);
	assert_true(i >= 0);
	assert_string_equal(l.row[i].state, "waiting");
	assert_string_equal(l.row[i].host, "NULL");
	assert_string_equal(l.row[i].participants, "");

	list(f, 0, &l);
	assert_int_equal(l.n, 3);
	i = find_listed(&l, ended.id);
	assert_true(i >= 0);
	assert_string_equal(l.row[i].state, "ended");
	assert_string_equal(l.row[i].reason, "no answer");
	expect_audit_intact(f);
}

static void test_participants(void **state)
{
	struct fixture *f = *state;
	struct session_created s;
	struct session_claimed c;
	struct listed l;
	char pid[24], left_at[8];
	long long p;

	create_active(f, TICKET, &s, &c);
	p = join(f, s.id, pid);
	query(f, "SELECT typeof(left_at) FROM participants WHERE id = ?1", pid, left_at, sizeof left_at);
	assert_string_equal(left_at, "null");
	assert_int_equal(audit_count(f, "participant.join", s.id, TICKET, "rights=control"), 1);
	list(f, 1, &l);
	assert_string_equal(l.row[0].participants, "dana(control)");

	assert_int_equal(participants_leave(f->store, p, "viewer closed", f->err, sizeof f->err), 0);
	assert_int_equal(audit_count(f, "participant.leave", s.id, TICKET, "viewer closed"), 1);
	expect_left(f, pid, "viewer closed");
	list(f, 1, &l);
	assert_string_equal(l.row[0].participants, "");
	/* Leaving twice changes and audits nothing. */
	assert_int_equal(participants_leave(f->store, p, "again", f->err, sizeof f->err), 0);
	assert_int_equal(audit_count(f, "participant.leave", NULL, TICKET, ""), 1);

	/* A refusal says why. */
	f->err[0] = '\0';
	assert_int_equal(participants_join(f->store, s.id, TICKET, "ghost", "view", f->err,
	                                   sizeof f->err), -1);
	assert_true(f->err[0] != '\0');
	assert_int_equal(support_count_rows(f->store, "participants"), 1);
	assert_int_equal(audit_count(f, "participant.join", NULL, TICKET, ""), 1);
	expect_audit_intact(f);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_create),
		T(test_locators_unique),
		T(test_create_refused),
		T(test_no_plain_code_stored),
		T(test_claim_malformed),
		T(test_claim_unknown),
		T(test_claim_right_code),
		T(test_claim_wrong_until_burned),
		T(test_claim_expired),
		cmocka_unit_test(test_claim_messages),
		T(test_resume),
		T(test_end),
		T(test_resolve),
		T(test_foreach),
		T(test_participants),
	};
#undef T

	return cmocka_run_group_tests_name("sessions", tests, NULL, NULL);
}
