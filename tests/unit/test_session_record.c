/*
 * session_record.h: a live session's recording is created below
 * recordings/<ticket>/<session>/ with its database row and audit rows, its
 * events are wire lines, close leaves a verifying file and a complete row
 * with the final chain; a folder that cannot hold it refuses the open and
 * leaves nothing; a write failure (full disk) is reported, sticks, and the
 * row ends failed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "audit.h"
#include "recordings.h"
#include "session_record.h"
#include "sessions.h"
#include "support.h"
#include "users.h"
#include "wire.h"

struct fixture {
	char dir[64], db[128], recdir[128];
	struct store *store;
	EVP_PKEY *key;
	struct session_created session;
	char err[1024];
};

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc = support_store_dir_close(f->store, f->dir);

	unsetenv("CONCIERGE_RECORDING_FAIL_AFTER_BYTES");
	EVP_PKEY_free(f->key);
	free(f);
	return rc;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (f == NULL || support_store_dir_open(f->dir, sizeof f->dir, "test_session_record", f->db,
	                                        sizeof f->db, &f->store) != 0) {
		free(f);
		return -1;
	}
	*state = f;
	snprintf(f->recdir, sizeof f->recdir, "%s/recordings", f->dir);
	f->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (f->key == NULL || users_add(f->store, "local:root", "dana", "desk", NULL, f->err, sizeof f->err) ||
	    sessions_create(f->store, "dana", "INC0000042", 600, &f->session, f->err, sizeof f->err)) {
		teardown(state);
		return -1;
	}
	return 0;
}

static struct session_record *open_record(struct fixture *f)
{
	struct session_record *sr = session_record_open(f->store, f->key, f->recdir, "INC0000042",
	                                                f->session.id, 0, NULL, NULL, f->err, sizeof f->err);
	if (sr == NULL)
		fail_msg("session_record_open: %s", f->err);
	return sr;
}

static struct recording_row row_of(struct fixture *f, long long id)
{
	struct recording_row row;

	assert_int_equal(recordings_get(f->store, id, &row, f->err, sizeof f->err), 1);
	return row;
}

struct action_count {
	const char *action;
	int n;
};

static void count_action(const struct audit_row *r, void *arg)
{
	struct action_count *c = arg;

	c->n += strcmp(r->action, c->action) == 0;
}

/* Audit rows of the fixture's ticket with this action. */
static int audit_count(struct fixture *f, const char *action)
{
	struct action_count c = { action, 0 };

	assert_int_equal(audit_foreach(f->store, "INC0000042", count_action, &c, f->err, sizeof f->err), 0);
	return c.n;
}

static void test_record_verifies_with_row_and_audit(void **state)
{
	struct fixture *f = *state;
	static const uint8_t key_event[8] = { 4, 1, 0, 0, 0, 0, 0, 'h' };
	struct session_record *sr = open_record(f);
	long long id = session_record_id(sr);
	char path[512];
	struct recording_verify_result res;
	struct recording_reader *r;
	struct recording_record rec;
	struct wire_msg msg;
	int events = 0, keys = 0;

	snprintf(path, sizeof path, "%s", session_record_path(sr));
	assert_non_null(strstr(path, "/recordings/INC0000042/"));
	assert_non_null(strstr(path, f->session.id));
	assert_string_equal(row_of(f, id).state, "recording");
	assert_int_equal(session_record_event(sr, "JOIN", "user", "dana", "reason", "two words", (char *)NULL), 0);
	assert_int_equal(session_record_participant(sr, "dana"), 0);
	assert_int_equal(session_record_data(sr, RECORDING_INPUT_KEY, 1, "dana", 1, key_event, 8), 0);
	assert_int_equal(session_record_tick(sr), 0);
	assert_int_equal(session_record_close(sr, 0, NULL), 0);

	assert_int_equal(recording_verify(path, f->key, &res, f->err, sizeof f->err), RECORDING_INTACT);
	struct recording_row row = row_of(f, id);
	assert_string_equal(row.state, "complete");
	assert_string_equal(row.participants, "dana");
	assert_string_equal(row.final_hash, res.chain);
	assert_int_equal(audit_count(f, "recording.start"), 1);
	assert_int_equal(audit_count(f, "recording.close"), 1);

	assert_int_equal(recording_reader_open(path, &r, f->err, sizeof f->err), 0);
	while (recording_reader_next(r, &rec, f->err, sizeof f->err) == 1) {
		if (rec.type == RECORDING_EVENT) {
			assert_int_equal(wire_parse((const char *)rec.payload, rec.len, &msg), 0);
			if (events == 0) {
				assert_string_equal(msg.verb, "START");
				assert_string_equal(wire_get(&msg, "ticket"), "INC0000042");
			} else {
				assert_string_equal(msg.verb, "JOIN");
				assert_string_equal(wire_get(&msg, "reason"), "two words");
			}
			events++;
		} else if (rec.type == RECORDING_INPUT_KEY) {
			assert_string_equal(rec.participant, "dana");
			assert_int_equal(rec.flags, RECORDING_FLAG_DROPPED);
			keys++;
		}
	}
	assert_int_equal(recording_reader_complete(r), 1);
	recording_reader_close(r);
	assert_int_equal(events, 2);
	assert_int_equal(keys, 1);
}

static void test_unwritable_folder_refuses_and_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	/* A file where the ticket's folder must go (root cannot get past it either). */
	assert_int_equal(mkdir(f->recdir, 0700), 0);
	support_write_file(f->recdir, "INC0000042", "x", 1);
	assert_null(session_record_open(f->store, f->key, f->recdir, "INC0000042", f->session.id, 0, NULL, NULL,
	                                f->err, sizeof f->err));
	assert_true(f->err[0] != '\0');
	assert_int_equal(support_count_rows(f->store, "recordings"), 0);
	assert_int_equal(audit_count(f, "recording.start"), 0);
}

static void test_full_disk_fails_and_sticks(void **state)
{
	struct fixture *f = *state;
	uint8_t bytes[4096] = { 0 };
	struct session_record *sr;
	long long id;
	int rc = 0;

	setenv("CONCIERGE_RECORDING_FAIL_AFTER_BYTES", "20000", 1);
	sr = open_record(f);
	id = session_record_id(sr);
	for (int i = 0; i < 20 && rc == 0; i++)
		rc = session_record_data(sr, RECORDING_RFB_SERVER_BYTES, 1001, NULL, 0, bytes, sizeof bytes);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(session_record_error(sr), "No space left"));
	assert_int_equal(session_record_event(sr, "END", "reason", "x", (char *)NULL), -1);
	assert_int_equal(session_record_tick(sr), -1);
	assert_int_equal(session_record_close(sr, 1, "disk full"), 0);
	struct recording_row row = row_of(f, id);
	assert_string_equal(row.state, "failed");
	assert_int_equal(audit_count(f, "recording.failed"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_record_verifies_with_row_and_audit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwritable_folder_refuses_and_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_disk_fails_and_sticks, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
