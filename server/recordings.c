#include "recordings.h"

#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "sessions.h"
#include "xmalloc.h"

#define ROW_COLUMNS "id, ticket_id, session_id, path, state, started_at, coalesce(ended_at, ''), " \
	"bytes, records, coalesce(header_hash, ''), coalesce(final_hash, ''), " \
	"coalesce(signature, ''), participants, coalesce(failure, '')"

static void copy_column(sqlite3_stmt *stmt, int col, char *out, size_t outlen)
{
	const unsigned char *text = sqlite3_column_text(stmt, col);

	snprintf(out, outlen, "%s", text ? (const char *)text : "");
}

static void row_from_statement(sqlite3_stmt *stmt, struct recording_row *row)
{
	memset(row, 0, sizeof *row);
	row->id = sqlite3_column_int64(stmt, 0);
	copy_column(stmt, 1, row->ticket_id, sizeof row->ticket_id);
	copy_column(stmt, 2, row->session_id, sizeof row->session_id);
	copy_column(stmt, 3, row->path, sizeof row->path);
	copy_column(stmt, 4, row->state, sizeof row->state);
	copy_column(stmt, 5, row->started_at, sizeof row->started_at);
	copy_column(stmt, 6, row->ended_at, sizeof row->ended_at);
	row->bytes = (uint64_t)sqlite3_column_int64(stmt, 7);
	row->records = (uint64_t)sqlite3_column_int64(stmt, 8);
	copy_column(stmt, 9, row->header_hash, sizeof row->header_hash);
	copy_column(stmt, 10, row->final_hash, sizeof row->final_hash);
	copy_column(stmt, 11, row->signature, sizeof row->signature);
	copy_column(stmt, 12, row->participants, sizeof row->participants);
	copy_column(stmt, 13, row->failure, sizeof row->failure);
}

/* Runs a row query whose only parameter is bound by `bind`; calls `cb` per
 * row.  Returns rows seen or -1. */
static int query_rows(struct store *store, const char *where, const char *text_param, long long int_param,
                      void (*cb)(const struct recording_row *row, void *arg), void *arg,
                      char *err, size_t errlen)
{
	char sql[512];
	sqlite3_stmt *stmt = NULL;
	struct recording_row *row;
	int rows = 0, step;

	snprintf(sql, sizeof sql, "SELECT " ROW_COLUMNS " FROM recordings WHERE %s ORDER BY id", where);
	if (sqlite3_prepare_v2(store_db(store), sql, -1, &stmt, NULL) != SQLITE_OK)
		return store_error(store, "cannot read recordings", err, errlen);
	if (text_param)
		sqlite3_bind_text(stmt, 1, text_param, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(stmt, 1, int_param);
	row = xmalloc(sizeof *row);
	while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		row_from_statement(stmt, row);
		cb(row, arg);
		rows++;
	}
	if (step != SQLITE_DONE)
		rows = store_error(store, "cannot read recordings", err, errlen);
	free(row);
	sqlite3_finalize(stmt);
	return rows;
}

static void copy_row(const struct recording_row *row, void *arg)
{
	memcpy(arg, row, sizeof *row);
}

int recordings_get(struct store *store, long long id, struct recording_row *out,
                   char *err, size_t errlen)
{
	int rows = query_rows(store, "id = ?1", NULL, id, copy_row, out, err, errlen);

	return rows < 0 ? -1 : rows > 0;
}

int recordings_find_by_path(struct store *store, const char *path, struct recording_row *out,
                            char *err, size_t errlen)
{
	int rows = query_rows(store, "path = ?1", path, 0, copy_row, out, err, errlen);

	return rows < 0 ? -1 : rows > 0;
}

int recordings_foreach(struct store *store, const char *ticket_id,
                       void (*cb)(const struct recording_row *row, void *arg), void *arg,
                       char *err, size_t errlen)
{
	int rows = ticket_id ? query_rows(store, "ticket_id = ?1", ticket_id, 0, cb, arg, err, errlen)
	                     : query_rows(store, "?1 = 0", NULL, 0, cb, arg, err, errlen);

	return rows < 0 ? -1 : 0;
}

int recordings_canonical_path(const char *path, char out[RECORDING_MAX_PATH], char *err,
                              size_t errlen)
{
	char resolved[PATH_MAX], dir_copy[RECORDING_MAX_PATH], base_copy[RECORDING_MAX_PATH];
	int n;

	if (strlen(path) == 0 || strlen(path) >= RECORDING_MAX_PATH) {
		snprintf(err, errlen, "a recording path must have 1 to %d bytes", RECORDING_MAX_PATH - 1);
		return -1;
	}
	if (realpath(path, resolved)) {
		snprintf(out, RECORDING_MAX_PATH, "%s", resolved);
		return 0;
	}
	/* The file may not exist yet: resolve its folder. */
	snprintf(dir_copy, sizeof dir_copy, "%s", path);
	snprintf(base_copy, sizeof base_copy, "%s", path);
	if (realpath(dirname(dir_copy), resolved)) {
		n = snprintf(out, RECORDING_MAX_PATH, "%s/%s", strcmp(resolved, "/") ? resolved : "",
		             basename(base_copy));
		if (n > 0 && n < RECORDING_MAX_PATH)
			return 0;
	}
	if (path[0] != '/') {
		snprintf(err, errlen, "recording path %.200s is relative and its folder does not exist; "
		         "give an absolute path", path);
		return -1;
	}
	snprintf(out, RECORDING_MAX_PATH, "%s", path);
	return 0;
}

long long recordings_begin(struct store *store, const char *ticket_id, const char *session_id,
                           const char *path, char *err, size_t errlen)
{
	char canonical[RECORDING_MAX_PATH], owner[TICKET_ID_MAX + 1], now[32];

	if (recordings_canonical_path(path, canonical, err, errlen) < 0)
		return -1;
	store_now_utc(now, sizeof now);
	if (store_begin(store, err, errlen) < 0)
		return -1;
	if (sessions_ticket_of(store, session_id, owner, err, errlen) <= 0)
		goto fail;
	if (strcmp(owner, ticket_id) != 0) {
		snprintf(err, errlen, "cannot record session %.64s under ticket %.64s: it belongs to "
		         "ticket %s", session_id, ticket_id, owner);
		goto fail;
	}
	const char *params[] = { ticket_id, session_id, canonical, now };
	err[0] = '\0';
	if (store_run(store, "cannot register the recording",
	              "INSERT INTO recordings (ticket_id, session_id, path, state, started_at) "
	              "VALUES (?1, ?2, ?3, 'recording', ?4)", 4, params, err, errlen) == 1) {
		long long id = sqlite3_last_insert_rowid(store_db(store));
		return store_commit(store, err, errlen) < 0 ? -1 : id;
	}
fail:
	store_rollback(store);
	return -1;
}

static int valid_user_name(const char *user)
{
	size_t len = strlen(user);

	if (len == 0 || len > USER_NAME_MAX)
		return 0;
	for (const char *p = user; *p; p++)
		if (*p < 0x21 || *p > 0x7e)
			return 0;
	return 1;
}

/* 1 when `user` is one of the space-separated names in `list`. */
static int list_has(const char *list, const char *user)
{
	size_t len = strlen(user);

	for (const char *p = list; *p;) {
		const char *end = strchr(p, ' ');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n == len && memcmp(p, user, len) == 0)
			return 1;
		if (!end)
			break;
		p = end + 1;
	}
	return 0;
}

int recordings_add_participant(struct store *store, long long id, const char *user,
                               char *err, size_t errlen)
{
	char idtext[24], list[RECORDING_MAX_PARTICIPANTS_TEXT], state[16];
	const char *find[] = { idtext };
	int found;

	if (!valid_user_name(user)) {
		snprintf(err, errlen, "invalid participant name for recording %lld", id);
		return -1;
	}
	snprintf(idtext, sizeof idtext, "%lld", id);
	if (store_begin(store, err, errlen) < 0)
		return -1;
	found = store_query_text(store, "cannot look up the recording",
	                         "SELECT state FROM recordings WHERE id = ?1", 1, find, state, sizeof state,
	                         err, errlen);
	if (found <= 0) {
		if (found == 0)
			snprintf(err, errlen, "no recording %lld", id);
		goto fail;
	}
	if (strcmp(state, "recording") != 0) {
		snprintf(err, errlen, "recording %lld has ended (%s): no participants can be added", id, state);
		goto fail;
	}
	if (store_query_text(store, "cannot look up the recording",
	                     "SELECT participants FROM recordings WHERE id = ?1", 1, find, list,
	                     sizeof list, err, errlen) < 0)
		goto fail;
	if (list_has(list, user)) {
		store_rollback(store);
		return 0;
	}
	if (strlen(list) + 1 + strlen(user) >= sizeof list) {
		snprintf(err, errlen, "recording %lld already names %d bytes of participants", id,
		         RECORDING_MAX_PARTICIPANTS_TEXT - 1);
		goto fail;
	}
	if (list[0])
		strcat(list, " ");
	strcat(list, user);
	const char *params[] = { idtext, list };
	if (store_run(store, "cannot add the participant",
	              "UPDATE recordings SET participants = ?2 WHERE id = ?1", 2, params, err, errlen) != 1)
		goto fail;
	return store_commit(store, err, errlen);
fail:
	store_rollback(store);
	return -1;
}

/* Sets the final columns of a row still 'recording'; inside a transaction.
 * NULL values leave a column as it is.  0, or -1 with err. */
struct final_columns {
	const char *state, *bytes, *records, *header_hash, *final_hash, *signature, *failure;
};

static int settle_row(struct store *store, long long id, const struct final_columns *f,
                      char *err, size_t errlen)
{
	char idtext[24], now[32], failure[RECORDING_MAX_FAILURE];
	int changed;

	snprintf(idtext, sizeof idtext, "%lld", id);
	store_now_utc(now, sizeof now);
	if (f->failure)
		snprintf(failure, sizeof failure, "%s", f->failure);
	const char *params[] = { idtext, f->state, now, f->bytes, f->records, f->header_hash,
	                         f->final_hash, f->signature, f->failure ? failure : NULL };
	err[0] = '\0';
	changed = store_run(store, "cannot update the recording",
	                    "UPDATE recordings SET state = ?2, ended_at = ?3, "
	                    "bytes = coalesce(?4, bytes), records = coalesce(?5, records), "
	                    "header_hash = coalesce(?6, header_hash), final_hash = coalesce(?7, final_hash), "
	                    "signature = coalesce(?8, signature), failure = ?9 "
	                    "WHERE id = ?1 AND state = 'recording'", 9, params, err, errlen);
	if (changed < 0)
		return -1;
	if (changed == 0) {
		snprintf(err, errlen, "recording %lld is not being recorded (no such row, or it has ended)", id);
		return -1;
	}
	return 0;
}

int recordings_finish(struct store *store, long long id, const char *state,
                      const struct recording_summary *summary, const char *failure,
                      char *err, size_t errlen)
{
	char bytes[24], records[24];
	struct final_columns f = { .state = state, .failure = failure };

	if (strcmp(state, "complete") != 0 && strcmp(state, "failed") != 0) {
		snprintf(err, errlen, "a recording finishes 'complete' or 'failed', not '%.32s'", state);
		return -1;
	}
	if (summary) {
		snprintf(bytes, sizeof bytes, "%" PRIu64, summary->bytes);
		snprintf(records, sizeof records, "%" PRIu64, summary->records);
		f.bytes = bytes;
		f.records = records;
		f.header_hash = summary->header_hash[0] ? summary->header_hash : NULL;
		f.final_hash = summary->final_chain[0] ? summary->final_chain : NULL;
		f.signature = summary->signature[0] ? summary->signature : NULL;
	}
	if (store_begin(store, err, errlen) < 0)
		return -1;
	if (settle_row(store, id, &f, err, errlen) < 0) {
		store_rollback(store);
		return -1;
	}
	return store_commit(store, err, errlen);
}

struct pending {
	long long id;
	char *ticket, *path;
};

struct pending_list {
	struct pending *items;
	size_t count, cap;
};

static void collect_pending(const struct recording_row *row, void *arg)
{
	struct pending_list *list = arg;

	if (list->count == list->cap) {
		list->cap = list->cap ? 2 * list->cap : 8;
		list->items = xreallocarray(list->items, list->cap, sizeof *list->items);
	}
	list->items[list->count++] = (struct pending){ row->id, xstrdup(row->ticket_id), xstrdup(row->path) };
}

/* Settles one interrupted row from what the verifier says about its file;
 * one transaction with its audit row. */
static int settle_interrupted(struct store *store, const struct pending *p, EVP_PKEY *key,
                              char *err, size_t errlen)
{
	struct recording_verify_result *res = xcalloc(1, sizeof *res);
	char verr[512], why[RECORDING_MAX_FAILURE], bytes[24], records[24], object[40], details[768];
	struct final_columns f = { 0 };
	const char *action;
	int status, rc = -1;

	status = recording_verify(p->path, key, res, verr, sizeof verr);
	if (status == RECORDING_INTACT || status == RECORDING_TRUNCATED) {
		/* records: trailer not counted, as the writer's summary counts them */
		uint64_t n = res->records_verified - (status == RECORDING_INTACT && res->records_verified);
		snprintf(bytes, sizeof bytes, "%" PRIu64, res->bytes_verified);
		snprintf(records, sizeof records, "%" PRIu64, n);
		f.bytes = bytes;
		f.records = records;
		f.final_hash = res->chain[0] ? res->chain : NULL;
		f.header_hash = res->header_hash;
	}
	if (status == RECORDING_INTACT) {
		action = "recording.complete";
		f.state = "complete";
		f.signature = res->signature;
		why[0] = '\0';
	} else if (status == RECORDING_TRUNCATED) {
		action = "recording.truncated";
		f.state = "truncated";
		snprintf(why, sizeof why, "%s", res->why);
		f.failure = why;
	} else if (status == RECORDING_TAMPERED) {
		action = "recording.failed";
		f.state = "failed";
		snprintf(why, sizeof why, "tampered: record %" PRId64 " at byte %" PRIu64 ": %s",
		         res->first_bad_record, res->first_bad_offset, res->why);
		f.failure = why;
	} else {
		action = "recording.failed";
		f.state = "failed";
		snprintf(why, sizeof why, "unreadable after the relay stopped: %.400s", verr);
		f.failure = why;
	}
	snprintf(object, sizeof object, "recording:%lld", p->id);
	snprintf(details, sizeof details, "interrupted=1 state=%s bytes=%s records=%s why=\"%.600s\"",
	         f.state, f.bytes ? f.bytes : "0", f.records ? f.records : "0", why);
	struct audit_event ev = { "relay", action, object, p->ticket, details };
	if (store_begin(store, err, errlen) < 0)
		goto out;
	if (settle_row(store, p->id, &f, err, errlen) < 0 || audit_append(store, &ev, err, errlen) < 0) {
		store_rollback(store);
		goto out;
	}
	rc = store_commit(store, err, errlen);
out:
	free(res);
	return rc;
}

int recordings_mark_interrupted(struct store *store, EVP_PKEY *key, int *marked,
                                char *err, size_t errlen)
{
	struct pending_list list = { 0 };
	int rc = 0;

	*marked = 0;
	if (query_rows(store, "state = 'recording' AND ?1 = 0", NULL, 0, collect_pending, &list, err,
	               errlen) < 0)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < list.count; i++) {
		if (settle_interrupted(store, &list.items[i], key, err, errlen) < 0)
			rc = -1;
		else
			(*marked)++;
	}
	for (size_t i = 0; i < list.count; i++) {
		free(list.items[i].ticket);
		free(list.items[i].path);
	}
	free(list.items);
	return rc;
}
