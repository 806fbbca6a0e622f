/*
 * store.h: creating and reopening the database (pragmas, mode 0600,
 * application_id), refusing missing, empty, foreign, non-SQLite and too-new
 * files, migrating an old one only in CREATE mode, parameter binding,
 * transactions and foreign keys.  Every test works in its own mkdtemp
 * directory, removed afterwards.
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
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"
#include "support.h"

struct fixture {
	char dir[64];   /* the mkdtemp directory */
	char db[128];   /* dir/concierge.db */
	struct store *store;
	char err[1024];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (f == NULL)
		return -1;
	if (support_tempdir(f->dir, sizeof f->dir, "test_store") != 0) {
		free(f);
		return -1;
	}
	snprintf(f->db, sizeof f->db, "%s/" SUPPORT_DB_NAME, f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc = support_store_dir_close(f->store, f->dir);

	free(f);
	return rc;
}

static void open_ok(struct fixture *f, enum store_open_mode mode)
{
	store_close(f->store);
	f->store = NULL;
	f->err[0] = '\0';
	if (store_open(f->db, mode, &f->store, f->err, sizeof f->err) != 0)
		fail_msg("store_open(%s): %s", f->db, f->err);
	assert_non_null(f->store);
}

/* The open must fail, leave *out NULL and say `needle`. */
static void open_fails(struct fixture *f, enum store_open_mode mode, const char *needle)
{
	struct store *s = (struct store *)f; /* must be reset to NULL */

	f->err[0] = '\0';
	if (store_open(f->db, mode, &s, f->err, sizeof f->err) != -1)
		fail_msg("store_open(%s) succeeded; wanted '%s'", f->db, needle);
	assert_null(s);
	if (strstr(f->err, needle) == NULL)
		fail_msg("error '%s' does not say '%s'", f->err, needle);
}

static long long pragma_int(struct store *store, const char *sql)
{
	sqlite3_stmt *stmt = NULL;
	long long v;

	assert_int_equal(sqlite3_prepare_v2(store_db(store), sql, -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

static void pragma_text(struct store *store, const char *sql, char *out, size_t outlen)
{
	sqlite3_stmt *stmt = NULL;

	assert_int_equal(sqlite3_prepare_v2(store_db(store), sql, -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	snprintf(out, outlen, "%s", (const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
}

/* Runs `sql` on a plain sqlite3 connection to f->db (created if missing). */
static void raw_exec(struct fixture *f, const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
	                 SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static unsigned file_mode(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		fail_msg("stat %s failed", path);
	return st.st_mode & 07777;
}

static long long count_rows(struct fixture *f, const char *table)
{
	return support_count_rows(f->store, table);
}

static void test_create_new(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	char mode[32], side[160];

	assert_true(store_latest_version() >= 1);
	open_ok(f, STORE_OPEN_CREATE);
	assert_int_equal(store_schema_version(f->store), store_latest_version());
	assert_int_equal(store_version_at_open(f->store), 0);
	assert_int_equal(stat(f->db, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(file_mode(f->db), 0600);
	/* WAL side files hold the same data: same mode. */
	snprintf(side, sizeof side, "%s-wal", f->db);
	assert_int_equal(file_mode(side), 0600);
	snprintf(side, sizeof side, "%s-shm", f->db);
	assert_int_equal(file_mode(side), 0600);
	pragma_text(f->store, "PRAGMA journal_mode", mode, sizeof mode);
	assert_string_equal(mode, "wal");
	assert_int_equal(pragma_int(f->store, "PRAGMA foreign_keys"), 1);
	assert_int_equal(pragma_int(f->store, "PRAGMA synchronous"), 2); /* FULL */
	assert_int_equal(pragma_int(f->store, "PRAGMA application_id"), STORE_APPLICATION_ID);
	/* The tables other modules rely on exist. */
	assert_int_equal(pragma_int(f->store, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' "
	                                      "AND name IN ('users','user_keys','tickets','sessions',"
	                                      "'participants','audit_log','schema_version')"), 7);
	assert_int_equal(count_rows(f, "schema_version"), 1);
}

static void test_reopen_existing(void **state)
{
	struct fixture *f = *state;
	const char *params[] = { "INC0000001", "2024-01-01T00:00:00.000Z" };
	char out[64];

	open_ok(f, STORE_OPEN_CREATE);
	assert_int_equal(store_run(f->store, "insert", "INSERT INTO tickets (id, state, opened_at) "
	                           "VALUES (?1, 'open', ?2)", 2, params, f->err, sizeof f->err), 1);
	store_close(f->store);
	f->store = NULL;

	open_ok(f, STORE_OPEN_EXISTING);
	assert_int_equal(store_schema_version(f->store), store_latest_version());
	assert_int_equal(store_version_at_open(f->store), store_latest_version());
	assert_int_equal(pragma_int(f->store, "PRAGMA foreign_keys"), 1);
	pragma_text(f->store, "PRAGMA journal_mode", out, sizeof out);
	assert_string_equal(out, "wal");
	assert_int_equal(store_query_text(f->store, "q", "SELECT opened_at FROM tickets WHERE id = ?1", 1,
	                                  params, out, sizeof out, f->err, sizeof f->err), 1);
	assert_string_equal(out, params[1]);

	/* CREATE on an up-to-date database changes nothing. */
	open_ok(f, STORE_OPEN_CREATE);
	assert_int_equal(store_version_at_open(f->store), store_latest_version());
	assert_int_equal(count_rows(f, "tickets"), 1);
}

static void test_existing_missing_file(void **state)
{
	struct fixture *f = *state;

	open_fails(f, STORE_OPEN_EXISTING, "concierge init");
	assert_non_null(strstr(f->err, f->db));
	/* Nothing was created on the way. */
	assert_int_not_equal(access(f->db, F_OK), 0);
}

static void test_existing_empty_file(void **state)
{
	struct fixture *f = *state;
	FILE *fp = fopen(f->db, "w");

	assert_non_null(fp);
	fclose(fp);
	open_fails(f, STORE_OPEN_EXISTING, "concierge init");
	/* CREATE takes an empty file as a new database. */
	open_ok(f, STORE_OPEN_CREATE);
	assert_int_equal(store_schema_version(f->store), store_latest_version());
	assert_int_equal(store_version_at_open(f->store), 0);
}

static void test_not_sqlite(void **state)
{
	struct fixture *f = *state;
	FILE *fp = fopen(f->db, "w");
	char buf[8192];
	size_t n;

	assert_non_null(fp);
	for (int i = 0; i < 200; i++)
		fprintf(fp, "line %d: this is a plain text file, certainly not SQLite\n", i);
	fclose(fp);
	assert_int_equal(chmod(f->db, 0644), 0);
	open_fails(f, STORE_OPEN_EXISTING, "not a Concierge database");
	open_fails(f, STORE_OPEN_CREATE, "not a Concierge database");
	/* The file was left as it was, mode included. */
	assert_int_equal(file_mode(f->db), 0644);
	fp = fopen(f->db, "r");
	assert_non_null(fp);
	n = fread(buf, 1, sizeof buf, fp);
	fclose(fp);
	assert_true(n > 0);
	assert_memory_equal(buf, "line 0: this is a plain", 23);
}

static void test_foreign_sqlite(void **state)
{
	struct fixture *f = *state;

	raw_exec(f, "CREATE TABLE inventory (id INTEGER PRIMARY KEY, item TEXT);"
	            "INSERT INTO inventory (item) VALUES ('laptop');");
	assert_int_equal(chmod(f->db, 0644), 0);
	open_fails(f, STORE_OPEN_EXISTING, "not a Concierge one");
	open_fails(f, STORE_OPEN_CREATE, "not a Concierge one");
	/* Refusing another program's database does not touch it. */
	assert_int_equal(file_mode(f->db), 0644);
	/* Another program's application_id is foreign too, tables or not. */
	raw_exec(f, "PRAGMA application_id = 1234;");
	open_fails(f, STORE_OPEN_CREATE, "not a Concierge one");
}

static void test_foreign_empty_with_other_app_id(void **state)
{
	struct fixture *f = *state;

	raw_exec(f, "PRAGMA application_id = 1234;");
	open_fails(f, STORE_OPEN_CREATE, "not a Concierge one");
	open_fails(f, STORE_OPEN_EXISTING, "not a Concierge one");
}

static void test_newer_schema(void **state)
{
	struct fixture *f = *state;
	char sql[128];

	open_ok(f, STORE_OPEN_CREATE);
	store_close(f->store);
	f->store = NULL;
	snprintf(sql, sizeof sql, "UPDATE schema_version SET version = %d;", store_latest_version() + 1);
	raw_exec(f, sql);
	open_fails(f, STORE_OPEN_EXISTING, "newer");
	open_fails(f, STORE_OPEN_CREATE, "newer");
	assert_non_null(strstr(f->err, "upgrade Concierge"));
}

/* A database stamped as ours at version 0: what an interrupted init leaves. */
static void make_version0(struct fixture *f)
{
	char sql[256];

	snprintf(sql, sizeof sql, "PRAGMA application_id = %d;"
	         "CREATE TABLE schema_version (version INTEGER NOT NULL);"
	         "INSERT INTO schema_version VALUES (0);", STORE_APPLICATION_ID);
	raw_exec(f, sql);
}

static void test_migrate_from_version0(void **state)
{
	struct fixture *f = *state;
	char mode[32];

	make_version0(f);
	open_fails(f, STORE_OPEN_EXISTING, "concierge init");
	assert_non_null(strstr(f->err, "version 0"));

	open_ok(f, STORE_OPEN_CREATE);
	assert_int_equal(store_version_at_open(f->store), 0);
	assert_int_equal(store_schema_version(f->store), store_latest_version());
	assert_int_equal(count_rows(f, "users"), 0);
	assert_int_equal(count_rows(f, "audit_log"), 0);
	pragma_text(f->store, "PRAGMA journal_mode", mode, sizeof mode);
	assert_string_equal(mode, "wal");
	store_close(f->store);
	f->store = NULL;

	open_ok(f, STORE_OPEN_EXISTING);
	assert_int_equal(store_version_at_open(f->store), store_latest_version());
}

/* A migration that cannot apply is rolled back whole: the version stays. */
static void test_failed_migration_rolls_back(void **state)
{
	struct fixture *f = *state;

	make_version0(f);
	raw_exec(f, "CREATE TABLE users (x INTEGER);"); /* collides with migration 1 */
	open_fails(f, STORE_OPEN_CREATE, "migration to schema version 1");
	raw_exec(f, "DROP TABLE users;");
	open_fails(f, STORE_OPEN_EXISTING, "version 0");
	open_ok(f, STORE_OPEN_CREATE);
	assert_int_equal(store_version_at_open(f->store), 0);
	assert_int_equal(store_schema_version(f->store), store_latest_version());
}

static void test_run_and_query_bind(void **state)
{
	struct fixture *f = *state;
	const char *t1[] = { "INC0000001", "Printer", NULL };
	const char *t2[] = { "INC0000002", "Mail", NULL };
	const char *t3[] = { "INC0000003", "Robert'); DROP TABLE tickets;--", NULL };
	const char *none[] = { NULL };
	const char *sql = "INSERT INTO tickets (id, title, state, opened_at, closed_at) "
	                  "VALUES (?1, ?2, 'open', '2024-01-01', ?3)";
	char out[128];

	open_ok(f, STORE_OPEN_CREATE);
	assert_int_equal(store_run(f->store, "insert", sql, 3, t1, f->err, sizeof f->err), 1);
	assert_int_equal(store_run(f->store, "insert", sql, 3, t2, f->err, sizeof f->err), 1);
	assert_int_equal(store_run(f->store, "insert", sql, 3, t3, f->err, sizeof f->err), 1);
	assert_int_equal(count_rows(f, "tickets"), 3);

	/* Text parameters are bound, never spliced into SQL. */
	assert_int_equal(store_query_text(f->store, "q", "SELECT title FROM tickets WHERE id = ?1", 1,
	                                  t3, out, sizeof out, f->err, sizeof f->err), 1);
	assert_string_equal(out, t3[1]);
	/* A NULL param is SQL NULL, and a NULL column reads as "". */
	assert_int_equal(store_query_text(f->store, "q", "SELECT count(*) FROM tickets WHERE closed_at IS ?1",
	                                  1, none, out, sizeof out, f->err, sizeof f->err), 1);
	assert_string_equal(out, "3");
	strcpy(out, "junk");
	assert_int_equal(store_query_text(f->store, "q", "SELECT closed_at FROM tickets WHERE id = ?1", 1,
	                                  t1, out, sizeof out, f->err, sizeof f->err), 1);
	assert_string_equal(out, "");
	/* No row: 0. */
	assert_int_equal(store_query_text(f->store, "q", "SELECT title FROM tickets WHERE id = ?1", 1,
	                                  (const char *[]){ "INC9999999" }, out, sizeof out, f->err,
	                                  sizeof f->err), 0);
	/* Output is truncated to its buffer, still terminated. */
	char small[4];
	assert_int_equal(store_query_text(f->store, "q", "SELECT title FROM tickets WHERE id = ?1", 1,
	                                  t1, small, sizeof small, f->err, sizeof f->err), 1);
	assert_string_equal(small, "Pri");

	/* Change counts: several, one, none. */
	const char *close_at[] = { "2024-02-02" };
	assert_int_equal(store_run(f->store, "close all", "UPDATE tickets SET state = 'closed', closed_at = ?1",
	                           1, close_at, f->err, sizeof f->err), 3);
	assert_int_equal(store_run(f->store, "del", "DELETE FROM tickets WHERE id = ?1", 1, t2,
	                           f->err, sizeof f->err), 1);
	assert_int_equal(store_run(f->store, "del", "DELETE FROM tickets WHERE id = ?1", 1, t2,
	                           f->err, sizeof f->err), 0);
	assert_int_equal(store_run(f->store, "upd", "UPDATE tickets SET title = ?2 WHERE id = ?1", 2,
	                           (const char *[]){ "nope", "x" }, f->err, sizeof f->err), 0);
	assert_int_equal(store_query_text(f->store, "q", "SELECT closed_at FROM tickets WHERE id = ?1", 1,
	                                  t1, out, sizeof out, f->err, sizeof f->err), 1);
	assert_string_equal(out, "2024-02-02");
}

static void test_run_errors(void **state)
{
	struct fixture *f = *state;
	const char *t1[] = { "INC0000001" };
	char out[16];

	open_ok(f, STORE_OPEN_CREATE);
	assert_int_equal(store_run(f->store, "bad sql", "INSERT INTO nowhere VALUES (1)", 0, NULL,
	                           f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "bad sql: "));
	assert_non_null(strstr(f->err, "nowhere"));
	assert_int_equal(store_query_text(f->store, "bad query", "SELECT nope FROM tickets", 0, NULL, out,
	                                  sizeof out, f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "bad query: "));
	/* A constraint failure (state is NOT NULL) is an error with the reason. */
	assert_int_equal(store_run(f->store, "insert ticket", "INSERT INTO tickets (id, opened_at) "
	                           "VALUES (?1, 'now')", 1, t1, f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "insert ticket: "));
	assert_non_null(strstr(f->err, "constraint"));
	assert_int_equal(count_rows(f, "tickets"), 0);
}

static void test_transaction_rollback(void **state)
{
	struct fixture *f = *state;
	const char *params[] = { "INC0000001" };
	const char *sql = "INSERT INTO tickets (id, state, opened_at) VALUES (?1, 'open', 'now')";

	open_ok(f, STORE_OPEN_CREATE);
	store_rollback(f->store); /* no transaction open: a no-op */
	assert_int_equal(store_begin(f->store, f->err, sizeof f->err), 0);
	assert_int_equal(sqlite3_get_autocommit(store_db(f->store)), 0);
	assert_int_equal(store_run(f->store, "insert", sql, 1, params, f->err, sizeof f->err), 1);
	assert_int_equal(count_rows(f, "tickets"), 1); /* visible inside */
	store_rollback(f->store);
	assert_int_not_equal(sqlite3_get_autocommit(store_db(f->store)), 0);
	assert_int_equal(count_rows(f, "tickets"), 0);
	store_rollback(f->store);

	/* Commit keeps it, across a reopen. */
	assert_int_equal(store_begin(f->store, f->err, sizeof f->err), 0);
	assert_int_equal(store_run(f->store, "insert", sql, 1, params, f->err, sizeof f->err), 1);
	assert_int_equal(store_commit(f->store, f->err, sizeof f->err), 0);
	open_ok(f, STORE_OPEN_EXISTING);
	assert_int_equal(count_rows(f, "tickets"), 1);

	/* Nested begin is an error that names the step. */
	assert_int_equal(store_begin(f->store, f->err, sizeof f->err), 0);
	assert_int_equal(store_begin(f->store, f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "cannot start a transaction"));
	store_rollback(f->store);
	/* Commit without a transaction is an error. */
	assert_int_equal(store_commit(f->store, f->err, sizeof f->err), -1);
}

/* A second connection's write lock makes begin fail after the busy timeout,
 * with a message that says so (kept short by lowering the timeout). */
static void test_busy_message(void **state)
{
	struct fixture *f = *state;
	sqlite3 *other = NULL;

	open_ok(f, STORE_OPEN_CREATE);
	assert_int_equal(sqlite3_open_v2(f->db, &other, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_busy_timeout(store_db(f->store), 50);
	assert_int_equal(store_begin(f->store, f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "locked"));
	sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(other);
	assert_int_equal(store_begin(f->store, f->err, sizeof f->err), 0);
	store_rollback(f->store);
}

static void test_foreign_keys_enforced(void **state)
{
	struct fixture *f = *state;
	const char *user[] = { "alice" };
	const char *ticket[] = { "INC0000001" };
	const char *sql = "INSERT INTO sessions (id, ticket_id, created_by, state, created_at) "
	                  "VALUES (?1, ?2, (SELECT id FROM users WHERE name = 'alice'), 'waiting', 'now')";

	open_ok(f, STORE_OPEN_CREATE);
	assert_int_equal(store_run(f->store, "user", "INSERT INTO users (name, role, created_at) "
	                           "VALUES (?1, 'desk', 'now')", 1, user, f->err, sizeof f->err), 1);
	/* Unknown ticket: refused by the foreign key. */
	assert_int_equal(store_run(f->store, "session", sql, 2, (const char *[]){ "s1", "INC9999999" },
	                           f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "FOREIGN KEY"));
	assert_int_equal(count_rows(f, "sessions"), 0);
	/* Known ticket: accepted. */
	assert_int_equal(store_run(f->store, "ticket", "INSERT INTO tickets (id, state, opened_at) "
	                           "VALUES (?1, 'open', 'now')", 1, ticket, f->err, sizeof f->err), 1);
	assert_int_equal(store_run(f->store, "session", sql, 2, (const char *[]){ "s1", "INC0000001" },
	                           f->err, sizeof f->err), 1);
	/* The ticket cannot go while a session hangs off it. */
	assert_int_equal(store_run(f->store, "del", "DELETE FROM tickets WHERE id = ?1", 1, ticket,
	                           f->err, sizeof f->err), -1);
	assert_int_equal(count_rows(f, "tickets"), 1);
	/* CHECK constraints hold too. */
	assert_int_equal(store_run(f->store, "role", "INSERT INTO users (name, role, created_at) "
	                           "VALUES ('mallory', 'root', 'now')", 0, NULL, f->err, sizeof f->err), -1);
}

static void test_audit_log_append_only(void **state)
{
	struct fixture *f = *state;

	open_ok(f, STORE_OPEN_CREATE);
	assert_int_equal(store_run(f->store, "ins", "INSERT INTO audit_log VALUES (1, 't', 'a', 'b', 'c', "
	                           "NULL, '', 'p', 'h')", 0, NULL, f->err, sizeof f->err), 1);
	assert_int_equal(store_run(f->store, "upd", "UPDATE audit_log SET actor = 'x'", 0, NULL, f->err,
	                           sizeof f->err), -1);
	assert_non_null(strstr(f->err, "append-only"));
	assert_int_equal(store_run(f->store, "del", "DELETE FROM audit_log", 0, NULL, f->err,
	                           sizeof f->err), -1);
	assert_non_null(strstr(f->err, "append-only"));
	assert_int_equal(count_rows(f, "audit_log"), 1);
}

static void test_now_utc_format(void **state)
{
	char ts[32];
	(void)state;

	store_now_utc(ts, sizeof ts);
	assert_int_equal(strlen(ts), 24);
	assert_true(ts[4] == '-' && ts[7] == '-' && ts[10] == 'T' && ts[13] == ':' && ts[16] == ':' &&
	            ts[19] == '.' && ts[23] == 'Z');
	for (int i = 0; i < 23; i++)
		if (i != 4 && i != 7 && i != 10 && i != 13 && i != 16 && i != 19)
			assert_true(ts[i] >= '0' && ts[i] <= '9');
	assert_true(strncmp(ts, "2020", 4) > 0);
}

static void test_close_null(void **state)
{
	(void)state;
	store_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_new, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_existing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_existing_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_existing_empty_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_sqlite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_sqlite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_empty_with_other_app_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_from_version0, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_migration_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_and_query_bind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transaction_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_keys_enforced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_log_append_only, setup, teardown),
		cmocka_unit_test(test_now_utc_format),
		cmocka_unit_test(test_close_null),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
