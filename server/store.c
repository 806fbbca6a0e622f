#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"

struct store {
	sqlite3 *db;
	int version_at_open;
};

/*
 * Ordered migrations: entry i takes the schema from version i to i + 1.
 * Append new entries; never edit a released one.
 */
static const char *const migrations[] = {
	/* 1: users, keys, tickets, sessions, participants, audit log */
	"CREATE TABLE users ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  role TEXT NOT NULL CHECK (role IN ('desk','vendor','auditor','admin')),"
	"  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0,1)),"
	"  created_at TEXT NOT NULL);"
	"CREATE TABLE user_keys ("
	"  id INTEGER PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id),"
	"  key_type TEXT NOT NULL,"
	"  key_base64 TEXT NOT NULL UNIQUE,"
	"  fingerprint TEXT NOT NULL,"
	"  comment TEXT NOT NULL DEFAULT '',"
	"  added_at TEXT NOT NULL);"
	"CREATE INDEX user_keys_user ON user_keys(user_id);"
	"CREATE TABLE tickets ("
	"  id TEXT PRIMARY KEY,"
	"  title TEXT NOT NULL DEFAULT '',"
	"  requester TEXT NOT NULL DEFAULT '',"
	"  state TEXT NOT NULL CHECK (state IN ('open','closed')),"
	"  opened_at TEXT NOT NULL,"
	"  closed_at TEXT);"
	"CREATE TABLE sessions ("
	"  id TEXT PRIMARY KEY,"
	"  ticket_id TEXT NOT NULL REFERENCES tickets(id),"
	"  created_by INTEGER NOT NULL REFERENCES users(id),"
	"  state TEXT NOT NULL CHECK (state IN ('waiting','active','ended')),"
	"  code_hash BLOB,"
	"  code_expires_at TEXT,"
	"  code_failures INTEGER NOT NULL DEFAULT 0,"
	"  endpoint_host TEXT,"
	"  created_at TEXT NOT NULL,"
	"  ended_at TEXT,"
	"  end_reason TEXT);"
	"CREATE INDEX sessions_ticket ON sessions(ticket_id);"
	"CREATE TABLE participants ("
	"  id INTEGER PRIMARY KEY,"
	"  session_id TEXT NOT NULL REFERENCES sessions(id),"
	"  user_id INTEGER NOT NULL REFERENCES users(id),"
	"  rights TEXT NOT NULL,"
	"  joined_at TEXT NOT NULL,"
	"  left_at TEXT);"
	"CREATE INDEX participants_session ON participants(session_id);"
	"CREATE TABLE audit_log ("
	"  seq INTEGER PRIMARY KEY,"
	"  ts TEXT NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  object TEXT NOT NULL,"
	"  ticket_id TEXT,"
	"  details TEXT NOT NULL,"
	"  prev_hash TEXT NOT NULL,"
	"  hash TEXT NOT NULL);"
	"CREATE INDEX audit_log_ticket ON audit_log(ticket_id);"
	/* The log is append-only through our code; tampering needs deliberate DDL
	 * first, and the hash chain catches it anyway. */
	"CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"
	"  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;"
	"CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log"
	"  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;",
	/* 2: screen sessions: code locator, resume token, auto-accept flag,
	 * participant roles and why they left */
	"ALTER TABLE sessions ADD COLUMN code_locator TEXT;"
	"ALTER TABLE sessions ADD COLUMN resume_hash BLOB;"
	"ALTER TABLE sessions ADD COLUMN auto_accept INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE sessions ADD COLUMN started_at TEXT;"
	"CREATE INDEX sessions_locator ON sessions(code_locator) WHERE state = 'waiting';"
	"ALTER TABLE participants ADD COLUMN left_reason TEXT;",
	/* 3: session recordings, one row per file (server/recordings.c) */
	"CREATE TABLE recordings ("
	"  id INTEGER PRIMARY KEY,"
	"  ticket_id TEXT NOT NULL REFERENCES tickets(id),"
	"  session_id TEXT NOT NULL REFERENCES sessions(id),"
	"  path TEXT NOT NULL UNIQUE,"
	"  state TEXT NOT NULL CHECK (state IN ('recording','complete','truncated','failed')),"
	"  started_at TEXT NOT NULL,"
	"  ended_at TEXT,"
	"  bytes INTEGER NOT NULL DEFAULT 0,"
	"  records INTEGER NOT NULL DEFAULT 0,"
	"  header_hash TEXT,"
	"  final_hash TEXT,"
	"  signature TEXT,"
	"  participants TEXT NOT NULL DEFAULT '',"
	"  failure TEXT);"
	"CREATE INDEX recordings_ticket ON recordings(ticket_id);"
	"CREATE INDEX recordings_session ON recordings(session_id);",
};

#define MIGRATION_COUNT ((int)(sizeof migrations / sizeof migrations[0]))

int store_latest_version(void) { return MIGRATION_COUNT; }
sqlite3 *store_db(struct store *store) { return store->db; }
int store_version_at_open(struct store *store) { return store->version_at_open; }

void store_utc_after(long seconds, char *out, size_t outlen)
{
	struct timespec now;
	struct tm tm;
	char base[24];
	time_t t;

	clock_gettime(CLOCK_REALTIME, &now);
	t = now.tv_sec + seconds;
	gmtime_r(&t, &tm);
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, outlen, "%s.%03ldZ", base, now.tv_nsec / 1000000L);
}

void store_now_utc(char *out, size_t outlen)
{
	store_utc_after(0, out, outlen);
}

int store_error(struct store *store, const char *what, char *err, size_t errlen)
{
	int code = sqlite3_errcode(store->db) & 0xff;

	if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB)
		snprintf(err, errlen, "%s: the database is corrupt or not a database (%s); "
		         "restore it from a backup", what, sqlite3_errmsg(store->db));
	else if (code == SQLITE_BUSY)
		snprintf(err, errlen, "%s: the database stayed locked for %d ms; retry when the other "
		         "writer is done", what, STORE_BUSY_TIMEOUT_MS);
	else if (code == SQLITE_READONLY || code == SQLITE_CANTOPEN || code == SQLITE_PERM)
		snprintf(err, errlen, "%s: %s (check the permissions of the database file and its folder)",
		         what, sqlite3_errmsg(store->db));
	else
		snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(store->db));
	return -1;
}

static int exec_sql(struct store *store, const char *sql, const char *what, char *err, size_t errlen)
{
	if (sqlite3_exec(store->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_error(store, what, err, errlen);
	return 0;
}

/* Runs a single-integer query; -1 on error. */
static int query_int(struct store *store, const char *sql, long long *value, char *err, size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(store->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		store_error(store, "cannot read the database", err, errlen);
		goto out;
	}
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		store_error(store, "cannot read the database", err, errlen);
		goto out;
	}
	*value = sqlite3_column_int64(stmt, 0);
	rc = 0;
out:
	sqlite3_finalize(stmt);
	return rc;
}

static int prepare_bound(struct store *store, const char *what, const char *sql, int nparams,
                         const char *const *params, sqlite3_stmt **stmt, char *err, size_t errlen)
{
	*stmt = NULL;
	if (sqlite3_prepare_v2(store->db, sql, -1, stmt, NULL) != SQLITE_OK)
		return store_error(store, what, err, errlen);
	for (int i = 0; i < nparams; i++) {
		if (params[i] == NULL)
			sqlite3_bind_null(*stmt, i + 1);
		else
			sqlite3_bind_text(*stmt, i + 1, params[i], -1, SQLITE_STATIC);
	}
	return 0;
}

int store_run(struct store *store, const char *what, const char *sql, int nparams,
              const char *const *params, char *err, size_t errlen)
{
	sqlite3_stmt *stmt;
	int rc = -1, step;

	if (prepare_bound(store, what, sql, nparams, params, &stmt, err, errlen) < 0)
		return -1;
	while ((step = sqlite3_step(stmt)) == SQLITE_ROW)
		;
	if (step != SQLITE_DONE)
		store_error(store, what, err, errlen);
	else
		rc = sqlite3_changes(store->db);
	sqlite3_finalize(stmt);
	return rc;
}

int store_query_text(struct store *store, const char *what, const char *sql, int nparams,
                     const char *const *params, char *out, size_t outlen, char *err, size_t errlen)
{
	sqlite3_stmt *stmt;
	int rc = -1, step;

	if (prepare_bound(store, what, sql, nparams, params, &stmt, err, errlen) < 0)
		return -1;
	step = sqlite3_step(stmt);
	if (step == SQLITE_ROW) {
		const unsigned char *text = sqlite3_column_text(stmt, 0);
		snprintf(out, outlen, "%s", text ? (const char *)text : "");
		rc = 1;
	} else if (step == SQLITE_DONE) {
		rc = 0;
	} else {
		store_error(store, what, err, errlen);
	}
	sqlite3_finalize(stmt);
	return rc;
}

int store_begin(struct store *store, char *err, size_t errlen)
{
	return exec_sql(store, "BEGIN IMMEDIATE", "cannot start a transaction", err, errlen);
}

int store_commit(struct store *store, char *err, size_t errlen)
{
	if (exec_sql(store, "COMMIT", "cannot commit", err, errlen) < 0) {
		store_rollback(store);
		return -1;
	}
	return 0;
}

void store_rollback(struct store *store)
{
	if (!sqlite3_get_autocommit(store->db))
		sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
}

int store_schema_version(struct store *store)
{
	long long version = 0;
	char err[256];

	if (query_int(store, "SELECT version FROM schema_version", &version, err, sizeof err) < 0)
		return -1;
	return (int)version;
}

/* Runs migration `v` (v -> v + 1) and bumps schema_version in one transaction. */
static int apply_one_migration(struct store *store, int v, char *err, size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	char what[64];
	int rc = -1;

	snprintf(what, sizeof what, "migration to schema version %d failed", v + 1);
	if (store_begin(store, err, errlen) < 0)
		return -1;
	if (exec_sql(store, migrations[v], what, err, errlen) < 0)
		goto out;
	if (sqlite3_prepare_v2(store->db, "UPDATE schema_version SET version = ?", -1, &stmt,
	                       NULL) != SQLITE_OK) {
		store_error(store, what, err, errlen);
		goto out;
	}
	sqlite3_bind_int(stmt, 1, v + 1);
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		store_error(store, what, err, errlen);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(stmt);
	if (rc < 0) {
		store_rollback(store);
		return -1;
	}
	return store_commit(store, err, errlen);
}

static int apply_migrations(struct store *store, int from, char *err, size_t errlen)
{
	for (int v = from; v < MIGRATION_COUNT; v++)
		if (apply_one_migration(store, v, err, errlen) < 0)
			return -1;
	return 0;
}

/* Stamps a brand-new, empty database as ours, at version 0. */
static int stamp_new_database(struct store *store, char *err, size_t errlen)
{
	char sql[160];

	snprintf(sql, sizeof sql, "PRAGMA application_id = %d", STORE_APPLICATION_ID);
	if (store_begin(store, err, errlen) < 0)
		return -1;
	if (exec_sql(store, sql, "cannot stamp the new database", err, errlen) < 0 ||
	    exec_sql(store, "CREATE TABLE schema_version (version INTEGER NOT NULL);"
	             "INSERT INTO schema_version VALUES (0);",
	             "cannot create the schema_version table", err, errlen) < 0) {
		store_rollback(store);
		return -1;
	}
	return store_commit(store, err, errlen);
}

static int configure_connection(struct store *store, char *err, size_t errlen)
{
	int on = 1;

	sqlite3_db_config(store->db, SQLITE_DBCONFIG_DEFENSIVE, 1, &on);
	sqlite3_db_config(store->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, &on);
	return exec_sql(store, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;",
	                "cannot configure the database", err, errlen);
}

/* Decides whether an opened file is ours, new (empty), or foreign. */
static int identify(struct store *store, const char *path, int *is_new, char *err, size_t errlen)
{
	long long app_id = 0, objects = 0;

	if (query_int(store, "PRAGMA application_id", &app_id, err, errlen) < 0 ||
	    query_int(store, "SELECT count(*) FROM sqlite_schema", &objects, err, errlen) < 0) {
		snprintf(err, errlen, "%s is not a Concierge database (it is not SQLite, or it is "
		         "corrupt); point 'database' in the config elsewhere or restore a backup", path);
		return -1;
	}
	*is_new = (app_id == 0 && objects == 0);
	if (!*is_new && app_id != STORE_APPLICATION_ID) {
		snprintf(err, errlen, "%s is an SQLite database but not a Concierge one "
		         "(application_id %#llx); point 'database' in the config elsewhere", path, app_id);
		return -1;
	}
	return 0;
}

int store_open(const char *path, enum store_open_mode mode, struct store **out,
               char *err, size_t errlen)
{
	struct store *store = xcalloc(1, sizeof *store);
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	int is_new = 0, version;

	*out = NULL;
	if (mode == STORE_OPEN_EXISTING && access(path, F_OK) != 0) {
		snprintf(err, errlen, "no database at %s: run 'concierge init' first (or fix 'database' "
		         "in the config)", path);
		goto fail;
	}
	if (mode == STORE_OPEN_CREATE)
		flags |= SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(path, &store->db, flags, NULL) != SQLITE_OK) {
		if (store->db == NULL)
			fatal("event=out_of_memory what=sqlite3_open");
		store_error(store, "cannot open the database", err, errlen);
		snprintf(err + strlen(err), errlen - strlen(err), " [%s]", path);
		goto fail;
	}
	sqlite3_busy_timeout(store->db, STORE_BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(store->db, 1);
	if (identify(store, path, &is_new, err, errlen) < 0 || configure_connection(store, err, errlen) < 0)
		goto fail;
	/* Only once the file is ours or new, so a refused foreign file keeps its
	 * mode; still before WAL, whose -wal/-shm files copy this mode. */
	if (mode == STORE_OPEN_CREATE)
		chmod(path, 0600); /* holds hashed secrets and user lists */
	if (is_new && mode == STORE_OPEN_EXISTING) {
		snprintf(err, errlen, "%s is an empty database: run 'concierge init' to set it up", path);
		goto fail;
	}
	if (exec_sql(store, "PRAGMA journal_mode = WAL", "cannot switch to WAL", err, errlen) < 0)
		goto fail;
	if (is_new && stamp_new_database(store, err, errlen) < 0)
		goto fail;
	version = store_schema_version(store);
	if (version < 0) {
		store_error(store, "cannot read the schema version", err, errlen);
		goto fail;
	}
	store->version_at_open = is_new ? 0 : version;
	if (version > MIGRATION_COUNT) {
		snprintf(err, errlen, "%s has schema version %d, newer than this Concierge understands "
		         "(%d); upgrade Concierge", path, version, MIGRATION_COUNT);
		goto fail;
	}
	if (version < MIGRATION_COUNT) {
		if (mode == STORE_OPEN_EXISTING) {
			snprintf(err, errlen, "%s has schema version %d, older than this Concierge's %d: "
			         "run 'concierge init' to upgrade it", path, version, MIGRATION_COUNT);
			goto fail;
		}
		if (apply_migrations(store, version, err, errlen) < 0)
			goto fail;
	}
	*out = store;
	return 0;
fail:
	store_close(store);
	return -1;
}

void store_close(struct store *store)
{
	if (store == NULL)
		return;
	sqlite3_close(store->db);
	free(store);
}
