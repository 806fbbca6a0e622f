#include "audit.h"

#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "concierge_limits.h"
#include "log.h"

static const char zero_hash[AUDIT_HASH_HEX] =
	"0000000000000000000000000000000000000000000000000000000000000000";

static void to_hex(const unsigned char *bytes, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 15];
	}
	out[2 * len] = '\0';
}

/* Parses 64 lowercase hex digits; -1 on anything else. */
static int from_hex(const char *hex, unsigned char out[32])
{
	for (size_t i = 0; i < 32; i++) {
		int v = 0;
		for (int k = 0; k < 2; k++) {
			char c = hex[2 * i + (size_t)k];
			int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
			if (d < 0)
				return -1;
			v = v * 16 + d;
		}
		out[i] = (unsigned char)v;
	}
	return hex[64] == '\0' ? 0 : -1;
}

static void digest_field(EVP_MD_CTX *md, const char *s)
{
	size_t len = s ? strlen(s) : 0;
	unsigned char prefix[4] = {
		(unsigned char)(len >> 24), (unsigned char)(len >> 16),
		(unsigned char)(len >> 8), (unsigned char)len,
	};

	EVP_DigestUpdate(md, prefix, sizeof prefix);
	if (len)
		EVP_DigestUpdate(md, s, len);
}

void audit_row_hash(const struct audit_row *row, char hash_hex[AUDIT_HASH_HEX])
{
	unsigned char prev[32], digest[32], seq_be[8];
	unsigned char has_ticket = row->ticket_id != NULL;
	unsigned int dlen = 0;
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	if (md == NULL)
		fatal("event=out_of_memory what=EVP_MD_CTX");
	/* A malformed prev_hash still hashes deterministically (as all zero
	 * bytes plus its text), so the row is reported bad rather than crashing. */
	if (row->prev_hash == NULL || from_hex(row->prev_hash, prev) < 0)
		memset(prev, 0, sizeof prev);
	for (int i = 0; i < 8; i++)
		seq_be[i] = (unsigned char)((uint64_t)row->seq >> (56 - 8 * i));
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		fatal("event=digest_init_failed");
	EVP_DigestUpdate(md, prev, sizeof prev);
	EVP_DigestUpdate(md, seq_be, sizeof seq_be);
	digest_field(md, row->ts);
	digest_field(md, row->actor);
	digest_field(md, row->action);
	digest_field(md, row->object);
	EVP_DigestUpdate(md, &has_ticket, 1);
	digest_field(md, row->ticket_id);
	digest_field(md, row->details);
	EVP_DigestFinal_ex(md, digest, &dlen);
	EVP_MD_CTX_free(md);
	to_hex(digest, sizeof digest, hash_hex);
}

int audit_head(struct store *store, int64_t *seq, char hash_hex[AUDIT_HASH_HEX],
               char *err, size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	int rc = -1, step;

	if (sqlite3_prepare_v2(store_db(store),
	                       "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", -1,
	                       &stmt, NULL) != SQLITE_OK) {
		store_error(store, "cannot read the audit log", err, errlen);
		goto out;
	}
	step = sqlite3_step(stmt);
	if (step == SQLITE_DONE) {
		*seq = 0;
		memcpy(hash_hex, zero_hash, AUDIT_HASH_HEX);
	} else if (step == SQLITE_ROW) {
		const unsigned char *h = sqlite3_column_text(stmt, 1);
		*seq = sqlite3_column_int64(stmt, 0);
		snprintf(hash_hex, AUDIT_HASH_HEX, "%s", h ? (const char *)h : "");
	} else {
		store_error(store, "cannot read the audit log", err, errlen);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(stmt);
	return rc;
}

static int field_ok(const char *s, int optional)
{
	if (s == NULL)
		return optional;
	return strnlen(s, AUDIT_FIELD_MAX + 1) <= AUDIT_FIELD_MAX;
}

static int insert_row(struct store *store, const struct audit_row *row, char *err, size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(store_db(store),
	                       "INSERT INTO audit_log (seq, ts, actor, action, object, ticket_id, "
	                       "details, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?)",
	                       -1, &stmt, NULL) != SQLITE_OK) {
		store_error(store, "cannot write the audit log", err, errlen);
		goto out;
	}
	sqlite3_bind_int64(stmt, 1, row->seq);
	sqlite3_bind_text(stmt, 2, row->ts, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, row->actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, row->action, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 5, row->object, -1, SQLITE_STATIC);
	if (row->ticket_id)
		sqlite3_bind_text(stmt, 6, row->ticket_id, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, 6);
	sqlite3_bind_text(stmt, 7, row->details, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 8, row->prev_hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 9, row->hash, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		store_error(store, "cannot write the audit log", err, errlen);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(stmt);
	return rc;
}

int audit_append(struct store *store, const struct audit_event *event, char *err, size_t errlen)
{
	char prev[AUDIT_HASH_HEX], hash[AUDIT_HASH_HEX], ts[32];
	int own_transaction = sqlite3_get_autocommit(store_db(store));
	struct audit_row row;
	int64_t last_seq;

	if (!field_ok(event->actor, 0) || !field_ok(event->action, 0) || !field_ok(event->object, 0) ||
	    !field_ok(event->details, 0) || !field_ok(event->ticket_id, 1)) {
		snprintf(err, errlen, "audit event with a missing or over-long field (max %d bytes)",
		         AUDIT_FIELD_MAX);
		return -1;
	}
	/* IMMEDIATE takes the write lock before reading the head, so two writers
	 * can never chain onto the same row. */
	if (own_transaction && store_begin(store, err, errlen) < 0)
		return -1;
	if (audit_head(store, &last_seq, prev, err, errlen) < 0)
		goto fail;
	store_now_utc(ts, sizeof ts);
	row = (struct audit_row){
		.seq = last_seq + 1, .ts = ts, .actor = event->actor, .action = event->action,
		.object = event->object, .ticket_id = event->ticket_id, .details = event->details,
		.prev_hash = prev, .hash = hash,
	};
	audit_row_hash(&row, hash);
	if (insert_row(store, &row, err, errlen) < 0)
		goto fail;
	if (own_transaction && store_commit(store, err, errlen) < 0)
		return -1;
	return 0;
fail:
	if (own_transaction)
		store_rollback(store);
	return -1;
}

static const char *column_text(sqlite3_stmt *stmt, int col)
{
	return (const char *)sqlite3_column_text(stmt, col);
}

static void row_from_statement(sqlite3_stmt *stmt, struct audit_row *row)
{
	row->seq = sqlite3_column_int64(stmt, 0);
	row->ts = column_text(stmt, 1);
	row->actor = column_text(stmt, 2);
	row->action = column_text(stmt, 3);
	row->object = column_text(stmt, 4);
	row->ticket_id = column_text(stmt, 5);
	row->details = column_text(stmt, 6);
	row->prev_hash = column_text(stmt, 7);
	row->hash = column_text(stmt, 8);
}

int audit_foreach(struct store *store, const char *ticket_id, audit_row_fn fn, void *ctx,
                  char *err, size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	struct audit_row row;
	int rc = -1, step;

	if (sqlite3_prepare_v2(store_db(store),
	                       "SELECT seq, ts, actor, action, object, ticket_id, details, prev_hash, "
	                       "hash FROM audit_log WHERE ?1 IS NULL OR ticket_id = ?1 ORDER BY seq",
	                       -1, &stmt, NULL) != SQLITE_OK) {
		store_error(store, "cannot read the audit log", err, errlen);
		goto out;
	}
	if (ticket_id)
		sqlite3_bind_text(stmt, 1, ticket_id, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		row_from_statement(stmt, &row);
		fn(&row, ctx);
	}
	if (step != SQLITE_DONE) {
		store_error(store, "cannot read the audit log", err, errlen);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(stmt);
	return rc;
}

static int same_hash(const char *a, const char *b)
{
	return a != NULL && b != NULL && strlen(a) == 64 && strlen(b) == 64 &&
	       CRYPTO_memcmp(a, b, 64) == 0;
}

/* Checks one row against the running chain; 0 good, 1 bad with result->why. */
static int check_row(const struct audit_row *row, int64_t expected_seq, const char *running,
                     struct audit_verify_result *result)
{
	char computed[AUDIT_HASH_HEX];

	if (row->seq != expected_seq) {
		/* A gap means rows were deleted; a smaller number cannot happen with
		 * ORDER BY, so the first missing number is the first bad one. */
		result->first_bad_seq = expected_seq;
		snprintf(result->why, sizeof result->why,
		         "row %" PRId64 " is missing (next row is %" PRId64 "): rows were deleted or renumbered",
		         expected_seq, row->seq);
		return 1;
	}
	if (!same_hash(row->prev_hash, running)) {
		result->first_bad_seq = row->seq;
		snprintf(result->why, sizeof result->why,
		         "row %" PRId64 " does not chain to row %" PRId64 ": rows were inserted, removed or reordered",
		         row->seq, row->seq - 1);
		return 1;
	}
	if (row->ts == NULL || row->actor == NULL || row->action == NULL || row->object == NULL ||
	    row->details == NULL) {
		result->first_bad_seq = row->seq;
		snprintf(result->why, sizeof result->why, "row %" PRId64 " has a missing field", row->seq);
		return 1;
	}
	audit_row_hash(row, computed);
	if (!same_hash(row->hash, computed)) {
		result->first_bad_seq = row->seq;
		snprintf(result->why, sizeof result->why,
		         "row %" PRId64 " was edited: its content does not match its hash", row->seq);
		return 1;
	}
	return 0;
}

/* 1 when a stored value holds bytes after a NUL: row_from_statement's
 * C strings (and so the hash) stop there, hiding the rest. */
static int has_hidden_bytes(sqlite3_stmt *stmt)
{
	for (int col = 1; col <= 8; col++) {
		const char *text = column_text(stmt, col);
		if (text != NULL && (size_t)sqlite3_column_bytes(stmt, col) != strlen(text))
			return 1;
	}
	return 0;
}

int audit_verify(struct store *store, const char *anchor_hex, struct audit_verify_result *result,
                 char *err, size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	char running[AUDIT_HASH_HEX];
	struct audit_row row;
	int rc = -1, step, anchor_seen = 0;

	memset(result, 0, sizeof *result);
	memcpy(running, zero_hash, sizeof running);
	if (sqlite3_prepare_v2(store_db(store),
	                       "SELECT seq, ts, actor, action, object, ticket_id, details, prev_hash, "
	                       "hash FROM audit_log ORDER BY seq",
	                       -1, &stmt, NULL) != SQLITE_OK) {
		store_error(store, "cannot read the audit log", err, errlen);
		goto out;
	}
	while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		row_from_statement(stmt, &row);
		if (check_row(&row, result->rows + 1, running, result)) {
			rc = 1;
			goto out;
		}
		if (has_hidden_bytes(stmt)) {
			result->first_bad_seq = row.seq;
			snprintf(result->why, sizeof result->why,
			         "row %" PRId64 " was edited: a field holds bytes after a NUL", row.seq);
			rc = 1;
			goto out;
		}
		memcpy(running, row.hash, sizeof running);
		result->rows++;
		if (anchor_hex && same_hash(anchor_hex, running))
			anchor_seen = 1;
	}
	if (step != SQLITE_DONE) {
		store_error(store, "cannot read the audit log", err, errlen);
		goto out;
	}
	if (anchor_hex && !anchor_seen && !same_hash(anchor_hex, zero_hash)) {
		result->first_bad_seq = result->rows + 1;
		snprintf(result->why, sizeof result->why,
		         "the anchored head %.16s... is not in the log: rows after it were removed, "
		         "or the anchor is from another database", anchor_hex);
		rc = 1;
		goto out;
	}
	rc = 0;
out:
	snprintf(result->head, sizeof result->head, "%s", result->rows ? running : "");
	sqlite3_finalize(stmt);
	return rc;
}
