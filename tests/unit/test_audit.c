/*
 * audit.h: appending, the hash chain as documented (checked against an
 * independent SHA-256 of the canonical encoding), ticket filtering,
 * transactions, field limits, and detection of every kind of tampering with
 * the right first bad row.  Tampering first drops the append-only triggers,
 * as an attacker with the database file would.  Every test works in its own
 * mkdtemp directory, removed afterwards.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "audit.h"
#include "concierge_limits.h"
#include "store.h"
#include "support.h"

#define N_ROWS 6
#define MAX_ROWS 64

static const char zero64[] = "0000000000000000000000000000000000000000000000000000000000000000";

/* An owned copy of one audit row. */
struct saved_row {
	int64_t seq;
	char *ts, *actor, *action, *object, *ticket_id, *details, *prev_hash, *hash;
};

struct rows {
	int n;
	struct saved_row row[MAX_ROWS];
};

struct fixture {
	char dir[64];   /* the mkdtemp directory */
	char db[128];
	struct store *store;
	char err[1024];
	struct rows rows;
};

static char *dup_or_null(const char *s)
{
	char *copy;

	if (s == NULL)
		return NULL;
	copy = strdup(s);
	assert_non_null(copy);
	return copy;
}

static void rows_free(struct rows *rows)
{
	for (int i = 0; i < rows->n; i++) {
		struct saved_row *r = &rows->row[i];
		free(r->ts);
		free(r->actor);
		free(r->action);
		free(r->object);
		free(r->ticket_id);
		free(r->details);
		free(r->prev_hash);
		free(r->hash);
	}
	memset(rows, 0, sizeof *rows);
}

static void collect_row(const struct audit_row *row, void *ctx)
{
	struct rows *rows = ctx;
	struct saved_row *r;

	assert_true(rows->n < MAX_ROWS);
	r = &rows->row[rows->n++];
	r->seq = row->seq;
	r->ts = dup_or_null(row->ts);
	r->actor = dup_or_null(row->actor);
	r->action = dup_or_null(row->action);
	r->object = dup_or_null(row->object);
	r->ticket_id = dup_or_null(row->ticket_id);
	r->details = dup_or_null(row->details);
	r->prev_hash = dup_or_null(row->prev_hash);
	r->hash = dup_or_null(row->hash);
}

/* Reloads f->rows with the rows of `ticket` (all when NULL). */
static void load_rows(struct fixture *f, const char *ticket)
{
	rows_free(&f->rows);
	if (audit_foreach(f->store, ticket, collect_row, &f->rows, f->err, sizeof f->err) != 0)
		fail_msg("audit_foreach: %s", f->err);
}

static const struct saved_row *row_at(struct fixture *f, int64_t seq)
{
	for (int i = 0; i < f->rows.n; i++)
		if (f->rows.row[i].seq == seq)
			return &f->rows.row[i];
	fail_msg("no row %" PRId64, seq);
	return NULL;
}

static struct audit_row view_of(const struct saved_row *r)
{
	return (struct audit_row){
		.seq = r->seq, .ts = r->ts, .actor = r->actor, .action = r->action, .object = r->object,
		.ticket_id = r->ticket_id, .details = r->details, .prev_hash = r->prev_hash, .hash = r->hash,
	};
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (f == NULL || support_store_dir_open(f->dir, sizeof f->dir, "test_audit", f->db, sizeof f->db,
	                                        &f->store) != 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	rows_free(&f->rows);
	rc = support_store_dir_close(f->store, f->dir);
	free(f);
	return rc;
}

static void append(struct fixture *f, const char *actor, const char *action, const char *object,
                   const char *ticket, const char *details)
{
	struct audit_event ev = { actor, action, object, ticket, details };

	if (audit_append(f->store, &ev, f->err, sizeof f->err) != 0)
		fail_msg("audit_append: %s", f->err);
}

/* The ticket of row `i` (1-based) written by append_rows. */
static const char *ticket_of(int i)
{
	return i % 3 == 1 ? "INC0012345" : i % 3 == 2 ? NULL : "HD-4711";
}

/* Appends rows 1..n: tickets cycle INC0012345, none, HD-4711. */
static void append_rows(struct fixture *f, int n)
{
	for (int i = 1; i <= n; i++) {
		char object[32], details[64];

		snprintf(object, sizeof object, "user:u%d", i);
		snprintf(details, sizeof details, "n=%d role=desk", i);
		append(f, "local:root", i % 2 ? "user.add" : "auth.deny", object, ticket_of(i), details);
	}
}

static long long count_audit(struct fixture *f)
{
	return support_count_rows(f->store, "audit_log");
}

static void exec_sql(struct fixture *f, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(store_db(f->store), sql, NULL, NULL, &msg) != SQLITE_OK) {
		char copy[512];
		snprintf(copy, sizeof copy, "%s", msg ? msg : "?");
		sqlite3_free(msg);
		fail_msg("%s: %s", sql, copy);
	}
}

/* What an attacker with the file does first. */
static void drop_triggers(struct fixture *f)
{
	exec_sql(f, "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;");
}

static int verify(struct fixture *f, const char *anchor, struct audit_verify_result *res)
{
	f->err[0] = '\0';
	return audit_verify(f->store, anchor, res, f->err, sizeof f->err);
}

static void current_head(struct fixture *f, int64_t *seq, char hash[AUDIT_HASH_HEX])
{
	if (audit_head(f->store, seq, hash, f->err, sizeof f->err) != 0)
		fail_msg("audit_head: %s", f->err);
}

/* The chain must be broken first at `seq`, with `why` in the reason, and
 * the result must describe the good prefix (rows and head) exactly. */
static void expect_broken_at(struct fixture *f, int64_t seq, const char *why)
{
	struct audit_verify_result res;
	struct rows saved = f->rows;

	memset(&f->rows, 0, sizeof f->rows);
	load_rows(f, NULL);
	assert_int_equal(verify(f, NULL, &res), 1);
	if (res.first_bad_seq != seq)
		fail_msg("first_bad_seq %" PRId64 ", wanted %" PRId64 " (%s)", res.first_bad_seq, seq, res.why);
	if (strstr(res.why, why) == NULL)
		fail_msg("why '%s' does not say '%s'", res.why, why);
	assert_int_equal(res.rows, seq - 1);
	if (seq > 1)
		assert_string_equal(res.head, row_at(f, seq - 1)->hash);
	else
		assert_string_equal(res.head, "");
	rows_free(&f->rows);
	f->rows = saved;
}

/* ---- the documented hash, computed independently -------------------------- */

static void ref_field(EVP_MD_CTX *md, const char *s)
{
	size_t len = s ? strlen(s) : 0;
	unsigned char be[4] = {
		(unsigned char)(len >> 24), (unsigned char)(len >> 16), (unsigned char)(len >> 8),
		(unsigned char)len,
	};

	assert_int_equal(EVP_DigestUpdate(md, be, 4), 1);
	assert_int_equal(EVP_DigestUpdate(md, s ? s : "", len), 1);
}

static void ref_hash(const struct audit_row *row, char out[AUDIT_HASH_HEX])
{
	unsigned char prev[32], seq_be[8], digest[32], flag = row->ticket_id != NULL;
	unsigned int dlen = 0;
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	assert_non_null(md);
	assert_int_equal(strlen(row->prev_hash), 64);
	for (int i = 0; i < 32; i++) {
		unsigned v;
		assert_int_equal(sscanf(row->prev_hash + 2 * i, "%2x", &v), 1);
		prev[i] = (unsigned char)v;
	}
	for (int i = 0; i < 8; i++)
		seq_be[i] = (unsigned char)((uint64_t)row->seq >> (8 * (7 - i)));
	assert_int_equal(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
	assert_int_equal(EVP_DigestUpdate(md, prev, 32), 1);
	assert_int_equal(EVP_DigestUpdate(md, seq_be, 8), 1);
	ref_field(md, row->ts);
	ref_field(md, row->actor);
	ref_field(md, row->action);
	ref_field(md, row->object);
	assert_int_equal(EVP_DigestUpdate(md, &flag, 1), 1);
	ref_field(md, row->ticket_id);
	ref_field(md, row->details);
	assert_int_equal(EVP_DigestFinal_ex(md, digest, &dlen), 1);
	assert_int_equal(dlen, 32);
	EVP_MD_CTX_free(md);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

/* ---- appending and verifying --------------------------------------------- */

static void test_empty_log(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_result res;
	char hash[AUDIT_HASH_HEX];
	int64_t seq = -1;

	current_head(f, &seq, hash);
	assert_int_equal(seq, 0);
	assert_string_equal(hash, zero64);
	assert_int_equal(verify(f, NULL, &res), 0);
	assert_int_equal(res.rows, 0);
	assert_int_equal(res.first_bad_seq, 0);
	assert_string_equal(res.head, "");
	/* The head of an empty log is a valid anchor for it. */
	assert_int_equal(verify(f, zero64, &res), 0);
	/* Any other anchor means rows are missing. */
	assert_int_equal(verify(f, "ab00000000000000000000000000000000000000000000000000000000000000", &res), 1);
	assert_int_equal(res.first_bad_seq, 1);
}

static void test_append_and_verify(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_result res;
	char head[AUDIT_HASH_HEX], computed[AUDIT_HASH_HEX];
	int64_t head_seq;
	const char *prev = zero64;

	append_rows(f, N_ROWS);
	assert_int_equal(count_audit(f), N_ROWS);
	current_head(f, &head_seq, head);
	assert_int_equal(head_seq, N_ROWS);
	assert_int_equal(verify(f, NULL, &res), 0);
	assert_int_equal(res.rows, N_ROWS);
	assert_int_equal(res.first_bad_seq, 0);
	assert_string_equal(res.why, "");
	assert_string_equal(res.head, head);

	load_rows(f, NULL);
	assert_int_equal(f->rows.n, N_ROWS);
	for (int i = 0; i < N_ROWS; i++) {
		const struct saved_row *r = &f->rows.row[i];
		struct audit_row v = view_of(r);
		char object[32], details[64];

		snprintf(object, sizeof object, "user:u%d", i + 1);
		snprintf(details, sizeof details, "n=%d role=desk", i + 1);
		assert_int_equal(r->seq, i + 1);
		assert_string_equal(r->actor, "local:root");
		assert_string_equal(r->action, (i + 1) % 2 ? "user.add" : "auth.deny");
		assert_string_equal(r->object, object);
		assert_string_equal(r->details, details);
		if (ticket_of(i + 1) == NULL)
			assert_null(r->ticket_id);
		else
			assert_string_equal(r->ticket_id, ticket_of(i + 1));
		assert_int_equal(strlen(r->ts), 24);
		assert_int_equal(r->ts[23], 'Z');
		/* Chained to the previous row; hash as documented. */
		assert_string_equal(r->prev_hash, prev);
		audit_row_hash(&v, computed);
		assert_string_equal(r->hash, computed);
		ref_hash(&v, computed);
		assert_string_equal(r->hash, computed);
		prev = r->hash;
	}
	assert_string_equal(prev, head);
}

static void test_verify_survives_reopen(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_result res;
	char head[AUDIT_HASH_HEX];
	int64_t seq;

	append_rows(f, 3);
	current_head(f, &seq, head);
	store_close(f->store);
	f->store = NULL;
	assert_int_equal(store_open(f->db, STORE_OPEN_EXISTING, &f->store, f->err, sizeof f->err), 0);
	append_rows(f, 2);
	assert_int_equal(verify(f, head, &res), 0);
	assert_int_equal(res.rows, 5);
}

static void test_foreach_ticket_filter(void **state)
{
	struct fixture *f = *state;
	int inc = 0, hd = 0;

	append_rows(f, N_ROWS);
	for (int i = 1; i <= N_ROWS; i++) {
		inc += ticket_of(i) && strcmp(ticket_of(i), "INC0012345") == 0;
		hd += ticket_of(i) && strcmp(ticket_of(i), "HD-4711") == 0;
	}
	assert_true(inc > 1 && hd > 1);

	load_rows(f, "INC0012345");
	assert_int_equal(f->rows.n, inc);
	for (int i = 0; i < f->rows.n; i++) {
		assert_string_equal(f->rows.row[i].ticket_id, "INC0012345");
		assert_string_equal(ticket_of((int)f->rows.row[i].seq), "INC0012345");
		if (i > 0)
			assert_true(f->rows.row[i].seq > f->rows.row[i - 1].seq);
	}
	load_rows(f, "HD-4711");
	assert_int_equal(f->rows.n, hd);
	for (int i = 0; i < f->rows.n; i++)
		assert_string_equal(f->rows.row[i].ticket_id, "HD-4711");
	load_rows(f, "INC9999999");
	assert_int_equal(f->rows.n, 0);
	load_rows(f, "");
	assert_int_equal(f->rows.n, 0);
	load_rows(f, NULL);
	assert_int_equal(f->rows.n, N_ROWS);
}

/* An empty ticket id is a ticket id: stored as "", not NULL, and verified. */
static void test_empty_ticket_id_round_trip(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_result res;

	append(f, "relay", "session.note", "session:s1", "", "");
	append(f, "relay", "session.note", "session:s2", NULL, "");
	assert_int_equal(verify(f, NULL, &res), 0);
	assert_int_equal(res.rows, 2);
	load_rows(f, "");
	assert_int_equal(f->rows.n, 1);
	assert_int_equal(f->rows.row[0].seq, 1);
	assert_non_null(f->rows.row[0].ticket_id);
	assert_string_equal(f->rows.row[0].ticket_id, "");
	assert_string_equal(f->rows.row[0].details, "");
}

/* Strings are stored as given, bytes and all. */
static void test_arbitrary_text_round_trip(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_result res;
	const char *odd = "quote' \"dq\" newline\nutf8 \xc3\xa9 tab\t; DROP TABLE audit_log;--";

	append(f, odd, "a", "o", odd, odd);
	assert_int_equal(verify(f, NULL, &res), 0);
	load_rows(f, odd);
	assert_int_equal(f->rows.n, 1);
	assert_string_equal(f->rows.row[0].actor, odd);
	assert_string_equal(f->rows.row[0].details, odd);
}

static void test_anchor(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_result res;
	char mid[AUDIT_HASH_HEX], head[AUDIT_HASH_HEX], bad[AUDIT_HASH_HEX];
	int64_t seq;

	append_rows(f, 3);
	current_head(f, &seq, mid);
	append_rows(f, 3);
	current_head(f, &seq, head);
	/* An older head is still in the chain; so is the current one. */
	assert_int_equal(verify(f, mid, &res), 0);
	assert_int_equal(res.rows, 6);
	assert_int_equal(verify(f, head, &res), 0);
	/* A head that was never in this log. */
	snprintf(bad, sizeof bad, "%s", head);
	bad[0] = bad[0] == 'f' ? 'e' : 'f';
	assert_int_equal(verify(f, bad, &res), 1);
	assert_int_equal(res.first_bad_seq, 7);
	assert_non_null(strstr(res.why, "anchor"));
	/* Malformed anchors never match. */
	assert_int_equal(verify(f, "", &res), 1);
	assert_int_equal(verify(f, "abc", &res), 1);
}

static void test_append_joins_transaction(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_result res;
	char head[AUDIT_HASH_HEX];
	int64_t seq;

	append_rows(f, 2);
	/* Rolled back with the caller's transaction. */
	assert_int_equal(store_begin(f->store, f->err, sizeof f->err), 0);
	append(f, "local:root", "ticket.open", "ticket:INC0000001", "INC0000001", "");
	append(f, "local:root", "ticket.close", "ticket:INC0000001", "INC0000001", "");
	assert_int_equal(count_audit(f), 4); /* visible inside */
	assert_int_equal(sqlite3_get_autocommit(store_db(f->store)), 0); /* still open */
	store_rollback(f->store);
	assert_int_equal(count_audit(f), 2);
	current_head(f, &seq, head);
	assert_int_equal(seq, 2);

	/* Committed with it, chained on the right head. */
	assert_int_equal(store_begin(f->store, f->err, sizeof f->err), 0);
	append(f, "local:root", "ticket.open", "ticket:INC0000002", "INC0000002", "");
	assert_int_equal(store_commit(f->store, f->err, sizeof f->err), 0);
	assert_int_equal(count_audit(f), 3);
	assert_int_equal(verify(f, head, &res), 0);
	assert_int_equal(res.rows, 3);

	/* Without a transaction, audit_append leaves none open. */
	append(f, "relay", "x", "y", NULL, "");
	assert_int_not_equal(sqlite3_get_autocommit(store_db(f->store)), 0);
}

static void test_field_limits(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_result res;
	char *big = malloc(AUDIT_FIELD_MAX + 2);
	const char *ok = "x";

	assert_non_null(big);
	memset(big, 'b', AUDIT_FIELD_MAX);
	big[AUDIT_FIELD_MAX] = '\0';
	/* Exactly the limit in every field: accepted. */
	append(f, big, big, big, big, big);
	assert_int_equal(count_audit(f), 1);

	big[AUDIT_FIELD_MAX] = 'b';
	big[AUDIT_FIELD_MAX + 1] = '\0';
	for (int field = 0; field < 5; field++) {
		struct audit_event ev = { ok, ok, ok, ok, ok };
		const char **slot = field == 0 ? &ev.actor : field == 1 ? &ev.action :
		                    field == 2 ? &ev.object : field == 3 ? &ev.ticket_id : &ev.details;
		*slot = big;
		f->err[0] = '\0';
		assert_int_equal(audit_append(f->store, &ev, f->err, sizeof f->err), -1);
		assert_non_null(strstr(f->err, "over-long"));
		/* Required fields cannot be missing either (ticket_id may). */
		*slot = NULL;
		assert_int_equal(audit_append(f->store, &ev, f->err, sizeof f->err), field == 3 ? 0 : -1);
	}
	assert_int_equal(count_audit(f), 2);
	/* A refusal inside a transaction leaves it open for the caller. */
	assert_int_equal(store_begin(f->store, f->err, sizeof f->err), 0);
	struct audit_event ev = { big, ok, ok, NULL, ok };
	assert_int_equal(audit_append(f->store, &ev, f->err, sizeof f->err), -1);
	assert_int_equal(sqlite3_get_autocommit(store_db(f->store)), 0);
	store_rollback(f->store);
	assert_int_equal(verify(f, NULL, &res), 0);
	assert_int_equal(res.rows, 2);
	free(big);
}

static void test_triggers_block_update_delete(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_result res;
	char *msg = NULL;

	append_rows(f, 3);
	assert_int_not_equal(sqlite3_exec(store_db(f->store), "UPDATE audit_log SET details = 'x' WHERE seq = 2",
	                                  NULL, NULL, &msg), SQLITE_OK);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "append-only"));
	sqlite3_free(msg);
	msg = NULL;
	assert_int_not_equal(sqlite3_exec(store_db(f->store), "DELETE FROM audit_log WHERE seq = 3",
	                                  NULL, NULL, &msg), SQLITE_OK);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "append-only"));
	sqlite3_free(msg);
	assert_int_equal(count_audit(f), 3);
	assert_int_equal(verify(f, NULL, &res), 0);
	load_rows(f, NULL);
	assert_string_equal(row_at(f, 2)->details, "n=2 role=desk");
}

/* ---- tampering ----------------------------------------------------------- */

static void tamper_setup(struct fixture *f)
{
	append_rows(f, N_ROWS);
	load_rows(f, NULL); /* the untouched rows, for expectations */
	drop_triggers(f);
}

/* Runs the tampering `sql`: the chain must then be broken first at `seq`,
 * with `why` in the reason. */
static void expect_sql_breaks(struct fixture *f, const char *sql, int64_t seq, const char *why)
{
	exec_sql(f, sql);
	expect_broken_at(f, seq, why);
}

/* expect_sql_breaks on the N_ROWS untouched rows of tamper_setup. */
static void tamper_expect(void **state, const char *sql, int64_t seq, const char *why)
{
	struct fixture *f = *state;

	tamper_setup(f);
	expect_sql_breaks(f, sql, seq, why);
}

struct edit {
	const char *sql;
	int64_t seq; /* the first row it breaks */
};

/* Each of the n edits alone (rolled back before the next) on the rows of
 * tamper_setup must break the chain first at its seq, with `why` in the
 * reason. */
static void expect_each_edit_breaks(struct fixture *f, const struct edit *edits, size_t n, const char *why)
{
	tamper_setup(f);
	exec_sql(f, "SAVEPOINT s");
	for (size_t i = 0; i < n; i++) {
		expect_sql_breaks(f, edits[i].sql, edits[i].seq, why);
		exec_sql(f, "ROLLBACK TO s");
	}
	exec_sql(f, "RELEASE s");
}

static void test_tamper_edit_details(void **state)
{
	tamper_expect(state, "UPDATE audit_log SET details = 'n=3 role=admin' WHERE seq = 3",
	              3, "edited");
}

static void test_tamper_edit_ts(void **state)
{
	tamper_expect(state, "UPDATE audit_log SET ts = '2001-01-01T00:00:00.000Z' WHERE seq = 2",
	              2, "edited");
}

static void test_tamper_edit_every_column(void **state)
{
	struct fixture *f = *state;
	static const struct edit edits[] = {
		{ "UPDATE audit_log SET actor = 'local:eve' WHERE seq = 4", 4 },
		{ "UPDATE audit_log SET action = 'auth.allow' WHERE seq = 4", 4 },
		{ "UPDATE audit_log SET object = 'user:eve' WHERE seq = 4", 4 },
		{ "UPDATE audit_log SET ticket_id = 'INC0000666' WHERE seq = 4", 4 },
		{ "UPDATE audit_log SET ticket_id = NULL WHERE seq = 4", 4 },
		{ "UPDATE audit_log SET ticket_id = '' WHERE seq = 5", 5 },      /* NULL -> "" */
		{ "UPDATE audit_log SET details = details || ' ' WHERE seq = 4", 4 },
	};
	struct audit_verify_result res;

	expect_each_edit_breaks(f, edits, sizeof edits / sizeof edits[0], "edited");
	assert_int_equal(verify(f, NULL, &res), 0);
}

static void test_tamper_delete_middle(void **state)
{
	tamper_expect(state, "DELETE FROM audit_log WHERE seq = 4", 4, "missing");
}

static void test_tamper_delete_first(void **state)
{
	tamper_expect(state, "DELETE FROM audit_log WHERE seq = 1", 1, "missing");
}

/* Rows >= 3 move up by one; a forged row 3 chains correctly onto row 2 and
 * has a correct hash of its own, but the old row 3 (now 4) no longer fits. */
static void test_tamper_insert_forged_row(void **state)
{
	struct fixture *f = *state;
	const struct saved_row *r2;
	char hash[AUDIT_HASH_HEX];
	sqlite3_stmt *stmt = NULL;
	struct audit_row forged;

	tamper_setup(f);
	r2 = row_at(f, 2);
	exec_sql(f, "UPDATE audit_log SET seq = -seq WHERE seq >= 3;"
	            "UPDATE audit_log SET seq = 1 - seq WHERE seq < 0;");
	forged = (struct audit_row){
		.seq = 3, .ts = row_at(f, 3)->ts, .actor = "local:root", .action = "user.add",
		.object = "user:eve", .ticket_id = NULL, .details = "role=admin key=none",
		.prev_hash = r2->hash, .hash = hash,
	};
	audit_row_hash(&forged, hash);
	assert_int_equal(sqlite3_prepare_v2(store_db(f->store),
	                                    "INSERT INTO audit_log VALUES (3, ?, ?, ?, ?, NULL, ?, ?, ?)",
	                                    -1, &stmt, NULL), SQLITE_OK);
	sqlite3_bind_text(stmt, 1, forged.ts, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 2, forged.actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, forged.action, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, forged.object, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 5, forged.details, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 6, forged.prev_hash, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 7, forged.hash, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
	sqlite3_finalize(stmt);
	assert_int_equal(count_audit(f), N_ROWS + 1);
	expect_broken_at(f, 4, "does not chain");
}

/* Swap everything but seq between rows 2 and 3. */
static void test_tamper_reorder(void **state)
{
	tamper_expect(state, "CREATE TEMP TABLE swap AS SELECT * FROM audit_log WHERE seq IN (2, 3);"
	              "UPDATE audit_log SET (ts, actor, action, object, ticket_id, details, prev_hash, hash) = "
	              "(SELECT ts, actor, action, object, ticket_id, details, prev_hash, hash FROM swap "
	              " WHERE swap.seq = 5 - audit_log.seq) WHERE seq IN (2, 3);",
	              2, "does not chain");
}

/* Swap only the contents, keep each position's chain columns. */
static void test_tamper_reorder_contents_only(void **state)
{
	tamper_expect(state, "CREATE TEMP TABLE swap AS SELECT * FROM audit_log WHERE seq IN (2, 3);"
	              "UPDATE audit_log SET (ts, actor, action, object, ticket_id, details) = "
	              "(SELECT ts, actor, action, object, ticket_id, details FROM swap "
	              " WHERE swap.seq = 5 - audit_log.seq) WHERE seq IN (2, 3);",
	              2, "edited");
}

static void test_tamper_hash_column(void **state)
{
	struct fixture *f = *state;
	char sql[256];
	char forged[AUDIT_HASH_HEX];

	tamper_setup(f);
	snprintf(forged, sizeof forged, "%s", row_at(f, 3)->hash);
	forged[10] = forged[10] == '0' ? '1' : '0';
	snprintf(sql, sizeof sql, "UPDATE audit_log SET hash = '%s' WHERE seq = 3", forged);
	expect_sql_breaks(f, sql, 3, "edited");

	/* Upper-case hex of the right hash is not the stored form. */
	expect_sql_breaks(f, "UPDATE audit_log SET hash = upper(hash) WHERE seq = 3", 3, "");
	/* Neither is garbage. */
	expect_sql_breaks(f, "UPDATE audit_log SET hash = 'zz' WHERE seq = 3", 3, "");
}

static void test_tamper_last_hash(void **state)
{
	tamper_expect(state, "UPDATE audit_log SET hash = replace(hash, substr(hash, 1, 1), 'x') WHERE seq = 6",
	              N_ROWS, "edited");
}

static void test_tamper_prev_hash_column(void **state)
{
	struct fixture *f = *state;
	char sql[256];

	tamper_setup(f);
	/* Point row 3 at row 1 instead of row 2. */
	snprintf(sql, sizeof sql, "UPDATE audit_log SET prev_hash = '%s' WHERE seq = 3", row_at(f, 1)->hash);
	expect_sql_breaks(f, sql, 3, "does not chain");
	/* Malformed prev_hash: reported, not a crash. */
	expect_sql_breaks(f, "UPDATE audit_log SET prev_hash = 'not hex' WHERE seq = 1", 1, "does not chain");
	expect_sql_breaks(f, "UPDATE audit_log SET prev_hash = '' WHERE seq = 1", 1, "does not chain");
}

/* Re-hashing an edited row only moves the break to the next row. */
static void test_tamper_edit_and_rehash(void **state)
{
	struct fixture *f = *state;
	struct saved_row *r3;
	struct audit_row v;
	char hash[AUDIT_HASH_HEX], sql[512];

	tamper_setup(f);
	r3 = (struct saved_row *)row_at(f, 3);
	free(r3->details);
	r3->details = strdup("n=3 role=admin");
	assert_non_null(r3->details);
	v = view_of(r3);
	audit_row_hash(&v, hash);
	snprintf(sql, sizeof sql, "UPDATE audit_log SET details = '%s', hash = '%s' WHERE seq = 3",
	         r3->details, hash);
	expect_sql_breaks(f, sql, 4, "does not chain");
}

/* Rewriting the whole chain after an edit fools a verify without anchor;
 * the anchor printed before the rewrite catches it. */
static void test_tamper_full_rewrite_needs_anchor(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_result res;
	char old_head[AUDIT_HASH_HEX], prev[AUDIT_HASH_HEX], hash[AUDIT_HASH_HEX], sql[512];
	int64_t seq;

	tamper_setup(f);
	current_head(f, &seq, old_head);
	snprintf(prev, sizeof prev, "%s", row_at(f, 2)->hash);
	for (int64_t s = 3; s <= N_ROWS; s++) {
		struct saved_row *r = (struct saved_row *)row_at(f, s);
		struct audit_row v;
		if (s == 3) {
			free(r->details);
			r->details = strdup("n=3 role=admin");
			assert_non_null(r->details);
		}
		v = view_of(r);
		v.prev_hash = prev;
		audit_row_hash(&v, hash);
		snprintf(sql, sizeof sql, "UPDATE audit_log SET details = '%s', prev_hash = '%s', hash = '%s' "
		         "WHERE seq = %" PRId64, r->details, prev, hash, s);
		exec_sql(f, sql);
		memcpy(prev, hash, sizeof prev);
	}
	assert_int_equal(verify(f, NULL, &res), 0);
	assert_int_equal(res.rows, N_ROWS);
	assert_int_equal(verify(f, old_head, &res), 1);
	assert_int_equal(res.first_bad_seq, N_ROWS + 1);
}

static void test_tamper_delete_last_row(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_result res;
	char old_head[AUDIT_HASH_HEX], new_head[AUDIT_HASH_HEX];
	int64_t seq;

	tamper_setup(f);
	current_head(f, &seq, old_head);
	exec_sql(f, "DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)");
	/* Truncation is invisible to the chain alone ... */
	assert_int_equal(verify(f, NULL, &res), 0);
	assert_int_equal(res.rows, N_ROWS - 1);
	current_head(f, &seq, new_head);
	assert_int_equal(seq, N_ROWS - 1);
	assert_string_equal(res.head, new_head);
	/* ... but not to the head printed before it. */
	assert_int_equal(verify(f, old_head, &res), 1);
	assert_int_equal(res.first_bad_seq, N_ROWS);
	assert_int_equal(res.rows, N_ROWS - 1);
	assert_non_null(strstr(res.why, "anchor"));
	/* The new head still anchors what is left. */
	assert_int_equal(verify(f, new_head, &res), 0);
}

static void test_tamper_renumber_tail(void **state)
{
	/* Close a gap left by a deletion: rows renumbered down. */
	tamper_expect(state, "DELETE FROM audit_log WHERE seq = 2;"
	              "UPDATE audit_log SET seq = seq - 1 WHERE seq > 2;",
	              2, "does not chain");
}

/* Bytes hidden after a NUL inside a stored value are part of the row too:
 * a C-string view would not see them, the verifier must. */
static void test_tamper_hidden_bytes_after_nul(void **state)
{
	struct fixture *f = *state;
	static const struct edit edits[] = {
		{ "UPDATE audit_log SET details = details || char(0) || ' role=admin' WHERE seq = 3", 3 },
		{ "UPDATE audit_log SET actor = actor || char(0) || 'eve' WHERE seq = 3", 3 },
		{ "UPDATE audit_log SET ticket_id = ticket_id || char(0) || 'x' WHERE seq = 3", 3 },
		{ "UPDATE audit_log SET details = CAST(details || char(0) || 'x' AS BLOB) WHERE seq = 3", 3 },
		{ "UPDATE audit_log SET hash = hash || char(0) || 'x' WHERE seq = 3", 3 },
		{ "UPDATE audit_log SET prev_hash = prev_hash || char(0) || 'x' WHERE seq = 3", 3 },
	};

	assert_string_equal(ticket_of(3), "HD-4711"); /* row 3 has a ticket id to extend */
	expect_each_edit_breaks(f, edits, sizeof edits / sizeof edits[0], "");
}

/* ---- the row hash -------------------------------------------------------- */

static void test_row_hash(void **state)
{
	char a[AUDIT_HASH_HEX], b[AUDIT_HASH_HEX], ref[AUDIT_HASH_HEX];
	struct audit_row row = {
		.seq = 42, .ts = "2024-05-06T07:08:09.010Z", .actor = "ssh:bob", .action = "auth.deny",
		.object = "user:bob", .ticket_id = NULL, .details = "reason=unknown_key",
		.prev_hash = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
	};
	struct audit_row other, variant[6];

	(void)state;
	audit_row_hash(&row, a);
	audit_row_hash(&row, b);
	assert_int_equal(strlen(a), 64);
	assert_string_equal(a, b);          /* deterministic */
	ref_hash(&row, ref);
	assert_string_equal(a, ref);        /* the documented encoding */
	for (int i = 0; i < 64; i++)
		assert_true((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'f'));

	/* NULL and "" ticket ids differ (presence flag). */
	other = row;
	other.ticket_id = "";
	audit_row_hash(&other, b);
	assert_string_not_equal(a, b);
	ref_hash(&other, ref);
	assert_string_equal(b, ref);

	/* Moving bytes between adjacent fields changes the hash (length prefixes). */
	other = row;
	other.actor = "ssh:bo";
	other.action = "bauth.deny";
	audit_row_hash(&other, b);
	assert_string_not_equal(a, b);
	other = row;
	other.ticket_id = "x";
	other.details = "reason=unknown_key";
	audit_row_hash(&other, a);
	other.ticket_id = "";
	other.details = "xreason=unknown_key";
	audit_row_hash(&other, b);
	assert_string_not_equal(a, b);

	/* Every input counts: seq, prev_hash, each field (one change a variant). */
	audit_row_hash(&row, a);
	for (size_t i = 0; i < sizeof variant / sizeof variant[0]; i++)
		variant[i] = row;
	variant[0].seq = 43;
	variant[1].seq = 42 + ((int64_t)1 << 40);
	variant[2].prev_hash = "10112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	variant[3].ts = "2024-05-06T07:08:09.011Z";
	variant[4].object = "user:bo";
	variant[5].details = "";
	for (size_t i = 0; i < sizeof variant / sizeof variant[0]; i++) {
		audit_row_hash(&variant[i], b);
		assert_string_not_equal(a, b);
	}

	/* The stored hash column is not an input. */
	other = row;
	other.hash = "whatever";
	audit_row_hash(&other, b);
	assert_string_equal(a, b);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_empty_log),
		T(test_append_and_verify),
		T(test_verify_survives_reopen),
		T(test_foreach_ticket_filter),
		T(test_empty_ticket_id_round_trip),
		T(test_arbitrary_text_round_trip),
		T(test_anchor),
		T(test_append_joins_transaction),
		T(test_field_limits),
		T(test_triggers_block_update_delete),
		T(test_tamper_edit_details),
		T(test_tamper_edit_ts),
		T(test_tamper_edit_every_column),
		T(test_tamper_delete_middle),
		T(test_tamper_delete_first),
		T(test_tamper_insert_forged_row),
		T(test_tamper_reorder),
		T(test_tamper_reorder_contents_only),
		T(test_tamper_hash_column),
		T(test_tamper_last_hash),
		T(test_tamper_prev_hash_column),
		T(test_tamper_edit_and_rehash),
		T(test_tamper_full_rewrite_needs_anchor),
		T(test_tamper_delete_last_row),
		T(test_tamper_renumber_tail),
		T(test_tamper_hidden_bytes_after_nul),
		cmocka_unit_test(test_row_hash),
	};
#undef T

	return cmocka_run_group_tests_name("audit", tests, NULL, NULL);
}
