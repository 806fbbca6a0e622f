/*
 * The relay's SQLite database: opening, pragmas, schema migrations and
 * transactions.  Other modules (audit, users, tickets, ...) run their own
 * prepared statements on store_db(); this module owns the connection.
 *
 * Every connection runs with WAL, foreign keys on, a busy timeout, full
 * synchronous commits and SQLite's defensive mode.  A database is "ours"
 * when its application_id is STORE_APPLICATION_ID; anything else is refused.
 *
 * Return convention: 0 success, -1 failure with a one-line message in `err`
 * that names the fix.  store_close(NULL) is a no-op.
 */
#ifndef CONCIERGE_STORE_H
#define CONCIERGE_STORE_H

#include <sqlite3.h>
#include <stddef.h>

#define STORE_APPLICATION_ID 0x434e4347 /* "CNCG" */
#define STORE_BUSY_TIMEOUT_MS 5000

struct store;

enum store_open_mode {
	STORE_OPEN_EXISTING, /* must exist and be at the current schema version */
	STORE_OPEN_CREATE,   /* create if missing; migrate to current (init only) */
};

int store_open(const char *path, enum store_open_mode mode, struct store **out,
               char *err, size_t errlen);
void store_close(struct store *store);
sqlite3 *store_db(struct store *store);

/* Schema version this binary writes, and the one the database is at. */
int store_latest_version(void);
int store_schema_version(struct store *store);
/* Version before the last store_open(STORE_OPEN_CREATE) migrated (0 = new). */
int store_version_at_open(struct store *store);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK.  rollback is safe when no transaction is open. */
int store_begin(struct store *store, char *err, size_t errlen);
int store_commit(struct store *store, char *err, size_t errlen);
void store_rollback(struct store *store);

/* Fills `err` with `what` plus SQLite's message for the connection, mapping
 * corruption to a message that names the fix.  Always returns -1. */
int store_error(struct store *store, const char *what, char *err, size_t errlen);

/* Prepares `sql`, binds `nparams` text parameters (a NULL entry binds SQL
 * NULL), runs it to completion.  Returns the number of rows changed, or -1
 * with `err` ("<what>: <reason>"). */
int store_run(struct store *store, const char *what, const char *sql, int nparams,
              const char *const *params, char *err, size_t errlen);

/* Like store_run for a query: copies the first column of the first row into
 * `out` (NULL column -> "").  Returns 1 found, 0 no row, -1 error. */
int store_query_text(struct store *store, const char *what, const char *sql, int nparams,
                     const char *const *params, char *out, size_t outlen, char *err, size_t errlen);

/* UTC "YYYY-MM-DDTHH:MM:SS.mmmZ" for now; `out` holds at least 32 bytes. */
void store_now_utc(char *out, size_t outlen);
/* The same for `seconds` from now (timestamps compare as strings). */
void store_utc_after(long seconds, char *out, size_t outlen);

#endif
