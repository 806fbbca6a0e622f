/*
 * recordings.h on a real database with a desk user and two sessions:
 * registering files (canonical paths, refusals that leave nothing behind),
 * participants (idempotent, in join order, refused once ended), finishing
 * with a real writer's summary, listing, and settling rows left
 * 'recording' by a dead relay from real files: one cut short after a
 * checkpoint (truncated, with what the verifier said), one intact (complete),
 * one tampered and one missing (failed), each audited, the chain intact.
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
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "audit.h"
#include "recording.h"
#include "recordings.h"
#include "sessions.h"
#include "store.h"
#include "support.h"
#include "users.h"

#define USER "dana"
#define TICKET "INC0012345"
#define OTHER_TICKET "INC0054321"

struct fixture {
	char dir[64];
	char db[128];
	struct store *store;
	EVP_PKEY *key;
	struct session_created session, other;
	char err[1024];
};

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc = support_store_dir_close(f->store, f->dir);

	EVP_PKEY_free(f->key);
	free(f);
	return rc;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (f == NULL || support_store_dir_open(f->dir, sizeof f->dir, "test_recordings", f->db,
	                                        sizeof f->db, &f->store) != 0) {
		free(f);
		return -1;
	}
	*state = f;
	f->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (f->key == NULL ||
	    users_add(f->store, "local:root", USER, "desk", NULL, f->err, sizeof f->err) != 0 ||
	    sessions_create(f->store, USER, TICKET, 600, &f->session, f->err, sizeof f->err) != 0 ||
	    sessions_create(f->store, USER, OTHER_TICKET, 600, &f->other, f->err, sizeof f->err) != 0) {
		fprintf(stderr, "setup: %s\n", f->err);
		teardown(state);
		return -1;
	}
	return 0;
}

static void expect_audit_intact(struct fixture *f)
{
	struct audit_verify_result r;

	assert_int_equal(audit_verify(f->store, NULL, &r, f->err, sizeof f->err), 0);
}

static long long begin(struct fixture *f, const char *ticket, const char *session, const char *name)
{
	char path[256];
	long long id;

	support_path(path, sizeof path, f->dir, name);
	id = recordings_begin(f->store, ticket, session, path, f->err, sizeof f->err);
	if (id <= 0)
		fail_msg("recordings_begin %s: %s", name, f->err);
	return id;
}

static void get(struct fixture *f, long long id, struct recording_row *row)
{
	if (recordings_get(f->store, id, row, f->err, sizeof f->err) != 1)
		fail_msg("recordings_get %lld: %s", id, f->err);
}

/* Writes a recording with `n` key records to DIR/NAME, an explicit
 * checkpoint after the first `checkpoint_after`; the writer's records and
 * bytes at that checkpoint go to *cp_records / *cp_bytes. */
static void write_file(struct fixture *f, const char *name, int n, int checkpoint_after,
                       uint64_t *cp_records, uint64_t *cp_bytes, struct recording_summary *sum)
{
	static const unsigned char key_event[8] = { 4, 1, 0, 0, 0, 0, 0, 'a' };
	struct recording_params p;
	struct recording_writer *w;
	char path[256];

	support_path(path, sizeof path, f->dir, name);
	recording_params_default(&p);
	p.checkpoint_ms = 3600 * 1000;
	p.checkpoint_bytes = 1 << 30;
	w = recording_writer_open(path, TICKET, f->session.id, f->key, &p, f->err, sizeof f->err);
	if (w == NULL)
		fail_msg("open: %s", f->err);
	for (int i = 0; i < n; i++) {
		if (recording_writer_append(w, RECORDING_INPUT_KEY, 1, "alice", 0, 1000u * (unsigned)i,
		                            key_event, sizeof key_event, f->err, sizeof f->err) != 0)
			fail_msg("append: %s", f->err);
		if (i + 1 == checkpoint_after) {
			assert_int_equal(recording_writer_checkpoint(w, f->err, sizeof f->err), 0);
			*cp_records = recording_writer_records(w);
			*cp_bytes = recording_writer_bytes(w);
		}
	}
	assert_int_equal(recording_writer_close(w, sum, f->err, sizeof f->err), 0);
}

/* Row `id` is complete and holds what the writer's summary says. */
static void expect_complete(struct fixture *f, long long id, const struct recording_summary *sum)
{
	struct recording_row row;

	get(f, id, &row);
	assert_string_equal(row.state, "complete");
	assert_int_equal(row.bytes, sum->bytes);
	assert_int_equal(row.records, sum->records);
	assert_string_equal(row.header_hash, sum->header_hash);
	assert_string_equal(row.final_hash, sum->final_chain);
	assert_string_equal(row.signature, sum->signature);
	assert_string_equal(row.failure, "");
	assert_int_equal(strlen(row.ended_at), 24);
}

static long audit_count(struct fixture *f, const char *action, long long id)
{
	char object[40], count[32];
	const char *params[] = { action, object, TICKET };

	snprintf(object, sizeof object, "recording:%lld", id);
	assert_int_equal(store_query_text(f->store, "count", "SELECT count(*) FROM audit_log WHERE "
	                                  "action = ?1 AND object = ?2 AND ticket_id = ?3 AND actor = 'relay'",
	                                  3, params, count, sizeof count, f->err, sizeof f->err), 1);
	return atol(count);
}

static void test_begin_get_find(void **state)
{
	struct fixture *f = *state;
	struct recording_row row;
	char link[256], via_link[300], real[256];
	long long a, b;

	a = begin(f, TICKET, f->session.id, "a.cncgrec");
	get(f, a, &row);
	assert_int_equal(row.id, a);
	assert_string_equal(row.ticket_id, TICKET);
	assert_string_equal(row.session_id, f->session.id);
	assert_string_equal(row.state, "recording");
	assert_int_equal(strlen(row.started_at), 24);
	assert_string_equal(row.ended_at, "");
	assert_string_equal(row.participants, "");
	assert_int_equal(row.bytes, 0);
	support_path(real, sizeof real, f->dir, "a.cncgrec");
	assert_string_equal(row.path, real);

	/* A path through a symbolic link to the folder is stored resolved. */
	support_path(link, sizeof link, f->dir, "link");
	assert_int_equal(symlink(f->dir, link), 0);
	snprintf(via_link, sizeof via_link, "%s/b.cncgrec", link);
	b = recordings_begin(f->store, TICKET, f->session.id, via_link, f->err, sizeof f->err);
	assert_true(b > a);
	get(f, b, &row);
	support_path(real, sizeof real, f->dir, "b.cncgrec");
	assert_string_equal(row.path, real);
	assert_int_equal(recordings_find_by_path(f->store, real, &row, f->err, sizeof f->err), 1);
	assert_int_equal(row.id, b);
	assert_int_equal(recordings_find_by_path(f->store, via_link, &row, f->err, sizeof f->err), 0);
	assert_int_equal(recordings_get(f->store, b + 100, &row, f->err, sizeof f->err), 0);
}

static void test_begin_refused(void **state)
{
	struct fixture *f = *state;
	char path[256];

	begin(f, TICKET, f->session.id, "a.cncgrec");
	support_path(path, sizeof path, f->dir, "x.cncgrec");
	assert_int_equal(recordings_begin(f->store, TICKET, "s00000000", path, f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "no session s00000000"));
	assert_int_equal(recordings_begin(f->store, TICKET, f->other.id, path, f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "belongs to ticket " OTHER_TICKET));
	support_path(path, sizeof path, f->dir, "a.cncgrec");
	assert_int_equal(recordings_begin(f->store, TICKET, f->session.id, path, f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "UNIQUE"));
	assert_int_equal(recordings_begin(f->store, TICKET, f->session.id, "no-such-dir/r.cncgrec", f->err,
	                                  sizeof f->err), -1);
	assert_non_null(strstr(f->err, "relative"));
	assert_int_equal(support_count_rows(f->store, "recordings"), 1);
}

static void test_participants(void **state)
{
	struct fixture *f = *state;
	struct recording_row row;
	long long id = begin(f, TICKET, f->session.id, "a.cncgrec");

	assert_int_equal(recordings_add_participant(f->store, id, "alice", f->err, sizeof f->err), 0);
	assert_int_equal(recordings_add_participant(f->store, id, "bob", f->err, sizeof f->err), 0);
	assert_int_equal(recordings_add_participant(f->store, id, "alice", f->err, sizeof f->err), 0);
	assert_int_equal(recordings_add_participant(f->store, id, "al", f->err, sizeof f->err), 0);
	get(f, id, &row);
	assert_string_equal(row.participants, "alice bob al");
	assert_int_equal(recordings_add_participant(f->store, id, "two words", f->err, sizeof f->err), -1);
	assert_int_equal(recordings_add_participant(f->store, id + 1, "carol", f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "no recording"));
	assert_int_equal(recordings_finish(f->store, id, "failed", NULL, "disk full", f->err,
	                                   sizeof f->err), 0);
	assert_int_equal(recordings_add_participant(f->store, id, "carol", f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "has ended"));
	get(f, id, &row);
	assert_string_equal(row.participants, "alice bob al");
}

static void test_finish(void **state)
{
	struct fixture *f = *state;
	struct recording_summary sum;
	struct recording_row row;
	uint64_t cp_records, cp_bytes;
	long long ok = begin(f, TICKET, f->session.id, "ok.cncgrec");
	long long bad = begin(f, TICKET, f->session.id, "bad.cncgrec");

	write_file(f, "ok.cncgrec", 5, 2, &cp_records, &cp_bytes, &sum);
	assert_int_equal(recordings_finish(f->store, ok, "truncated", &sum, NULL, f->err, sizeof f->err), -1);
	assert_int_equal(recordings_finish(f->store, ok, "complete", &sum, NULL, f->err, sizeof f->err), 0);
	expect_complete(f, ok, &sum);
	/* Once ended, a row stays as it is. */
	assert_int_equal(recordings_finish(f->store, ok, "failed", NULL, "late", f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "not being recorded"));

	assert_int_equal(recordings_finish(f->store, bad, "failed", NULL, "no space left on device",
	                                   f->err, sizeof f->err), 0);
	get(f, bad, &row);
	assert_string_equal(row.state, "failed");
	assert_string_equal(row.failure, "no space left on device");
	assert_int_equal(row.bytes, 0);
	assert_string_equal(row.final_hash, "");
}

struct listed {
	long long ids[8];
	int count;
};

static void collect(const struct recording_row *row, void *arg)
{
	struct listed *l = arg;

	if (l->count < 8)
		l->ids[l->count] = row->id;
	l->count++;
}

static void test_foreach(void **state)
{
	struct fixture *f = *state;
	struct listed all = { 0 }, mine = { 0 }, none = { 0 };
	long long a = begin(f, TICKET, f->session.id, "a.cncgrec");
	long long b = begin(f, OTHER_TICKET, f->other.id, "b.cncgrec");
	long long c = begin(f, TICKET, f->session.id, "c.cncgrec");

	assert_int_equal(recordings_foreach(f->store, NULL, collect, &all, f->err, sizeof f->err), 0);
	assert_int_equal(all.count, 3);
	assert_true(all.ids[0] == a && all.ids[1] == b && all.ids[2] == c);
	assert_int_equal(recordings_foreach(f->store, TICKET, collect, &mine, f->err, sizeof f->err), 0);
	assert_int_equal(mine.count, 2);
	assert_true(mine.ids[0] == a && mine.ids[1] == c);
	assert_int_equal(recordings_foreach(f->store, "NOPE-1", collect, &none, f->err, sizeof f->err), 0);
	assert_int_equal(none.count, 0);
}

static void test_mark_interrupted(void **state)
{
	struct fixture *f = *state;
	struct recording_summary sum, intact_sum;
	struct recording_verify_result res;
	struct recording_row row;
	uint64_t cp_records = 0, cp_bytes = 0, unused_r, unused_b;
	char path[256];
	int marked = -1;

	long long cut = begin(f, TICKET, f->session.id, "cut.cncgrec");
	long long intact = begin(f, TICKET, f->session.id, "intact.cncgrec");
	long long tampered = begin(f, TICKET, f->session.id, "tampered.cncgrec");
	long long missing = begin(f, TICKET, f->session.id, "missing.cncgrec");
	long long done = begin(f, TICKET, f->session.id, "done.cncgrec");

	/* A relay killed after 7 records, the last checkpoint after 4: cut
	 * the file in the middle of the record after that checkpoint's 2nd. */
	write_file(f, "cut.cncgrec", 7, 4, &cp_records, &cp_bytes, &sum);
	support_path(path, sizeof path, f->dir, "cut.cncgrec");
	assert_int_equal(truncate(path, (off_t)cp_bytes + 40), 0);
	write_file(f, "intact.cncgrec", 3, 1, &unused_r, &unused_b, &intact_sum);
	write_file(f, "tampered.cncgrec", 3, 1, &unused_r, &unused_b, &sum);
	{
		size_t len;
		char *d = support_read_file(f->dir, "tampered.cncgrec", &len);
		d[unused_b + 20] ^= 0x01; /* inside the record after the checkpoint */
		support_write_file(f->dir, "tampered.cncgrec", d, len);
		free(d);
	}
	write_file(f, "done.cncgrec", 2, 1, &unused_r, &unused_b, &sum);
	assert_int_equal(recordings_finish(f->store, done, "complete", &sum, NULL, f->err, sizeof f->err), 0);

	assert_int_equal(recordings_mark_interrupted(f->store, f->key, &marked, f->err, sizeof f->err), 0);
	assert_int_equal(marked, 4);

	/* Cut short: the verified part is exactly what the checkpoint covered. */
	support_path(path, sizeof path, f->dir, "cut.cncgrec");
	assert_int_equal(recording_verify(path, f->key, &res, f->err, sizeof f->err), RECORDING_TRUNCATED);
	get(f, cut, &row);
	assert_string_equal(row.state, "truncated");
	assert_int_equal(row.bytes, cp_bytes);
	assert_int_equal(row.records, cp_records);
	assert_int_equal(res.records_verified, cp_records);
	assert_string_equal(row.final_hash, res.chain);
	assert_int_equal(strlen(row.final_hash), 64);
	assert_string_equal(row.failure, res.why);
	assert_string_equal(row.header_hash, res.header_hash);
	assert_true(row.failure[0] != '\0');
	assert_int_equal(strlen(row.ended_at), 24);
	assert_int_equal(audit_count(f, "recording.truncated", cut), 1);

	/* Its trailer reached the disk before the relay died: complete. */
	expect_complete(f, intact, &intact_sum);
	assert_int_equal(audit_count(f, "recording.complete", intact), 1);

	get(f, tampered, &row);
	assert_string_equal(row.state, "failed");
	assert_non_null(strstr(row.failure, "tampered: record 3 "));
	assert_int_equal(audit_count(f, "recording.failed", tampered), 1);

	get(f, missing, &row);
	assert_string_equal(row.state, "failed");
	assert_non_null(strstr(row.failure, "unreadable"));
	assert_int_equal(audit_count(f, "recording.failed", missing), 1);

	/* A row that had ended is left alone, and a second run finds nothing. */
	get(f, done, &row);
	assert_string_equal(row.state, "complete");
	assert_int_equal(audit_count(f, "recording.complete", done), 0);
	assert_int_equal(recordings_mark_interrupted(f->store, f->key, &marked, f->err, sizeof f->err), 0);
	assert_int_equal(marked, 0);
	expect_audit_intact(f);
}

/* The verifier hands out the trailer's signature only for an intact file. */
static void test_verify_gives_trailer_signature(void **state)
{
	struct fixture *f = *state;
	struct recording_verify_result res;
	struct recording_summary sum;
	uint64_t r, b;
	char path[256];

	write_file(f, "s.cncgrec", 2, 1, &r, &b, &sum);
	support_path(path, sizeof path, f->dir, "s.cncgrec");
	assert_int_equal(recording_verify(path, f->key, &res, f->err, sizeof f->err), RECORDING_INTACT);
	assert_string_equal(res.signature, sum.signature);
	assert_string_equal(res.header_hash, sum.header_hash);
	assert_int_equal(truncate(path, (off_t)sum.bytes - 1), 0);
	assert_int_equal(recording_verify(path, f->key, &res, f->err, sizeof f->err), RECORDING_TRUNCATED);
	assert_string_equal(res.signature, "");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_begin_get_find),
		T(test_begin_refused),
		T(test_participants),
		T(test_finish),
		T(test_foreach),
		T(test_mark_interrupted),
		T(test_verify_gives_trailer_signature),
	};
#undef T

	return cmocka_run_group_tests_name("recordings", tests, NULL, NULL);
}
