/*
 * Recordings in the database: one row in `recordings` per recording file
 * (docs/RECORDING.md), from the moment the relay opens it until it is
 * complete, failed, or found cut short after a relay crash.
 *
 * Contract:
 *  - Every change is one BEGIN IMMEDIATE transaction.  recordings_begin,
 *    _add_participant and _finish write no audit row: the relay audits the
 *    start and end of a recording with its own details.
 *    recordings_mark_interrupted audits each row it settles (actor "relay").
 *  - Paths are absolute; recordings_begin stores the canonical path
 *    (recordings_canonical_path) so the CLI can find a file by its realpath.
 *  - struct recording_row is plain data (fixed buffers, nothing to free);
 *    NULL columns read as "".  Rows handed to a foreach callback live until
 *    the callback returns.
 *  - Return convention: 0 done (ids > 0 for recordings_begin), -1 with a
 *    one-line message in `err` naming the fix; lookups return 1 found,
 *    0 none, -1 error.
 */
#ifndef CONCIERGE_RECORDINGS_H
#define CONCIERGE_RECORDINGS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "concierge_limits.h"
#include "recording.h"
#include "store.h"

struct recording_row {
	long long id;                                 /* 0: a file not in the database */
	char ticket_id[TICKET_ID_MAX + 1];
	char session_id[RECORDING_MAX_SESSION_ID + 1];
	char path[RECORDING_MAX_PATH];
	char state[16];                               /* recording|complete|truncated|failed */
	char started_at[32], ended_at[32];            /* UTC text; ended_at "" while recording */
	uint64_t bytes;                               /* file bytes (verified part when truncated) */
	uint64_t records;                             /* records, trailer not counted (likewise) */
	char header_hash[RECORDING_HASH_HEX];
	char final_hash[RECORDING_HASH_HEX];          /* trailer's chain; truncated: last verified */
	char signature[2 * RECORDING_MAX_SIGNATURE + 1]; /* trailer's signature, hex */
	char participants[RECORDING_MAX_PARTICIPANTS_TEXT]; /* "alice bob", unique, join order */
	char failure[RECORDING_MAX_FAILURE];          /* why failed / how the tail ended */
};

/* A new row in state 'recording' for the file at absolute `path`; the
 * session must exist and belong to `ticket_id`.  Returns its id, or -1. */
long long recordings_begin(struct store *store, const char *ticket_id, const char *session_id,
                           const char *path, char *err, size_t errlen);

/* Adds `user` to the row's participants unless it is there already. */
int recordings_add_participant(struct store *store, long long id, const char *user,
                               char *err, size_t errlen);

/* Ends a row that is still 'recording': `state` "complete" or "failed",
 * the writer's summary (NULL: sizes and hashes stay as they are) and for a
 * failure why (NULL for none; cut to RECORDING_MAX_FAILURE - 1 bytes). */
int recordings_finish(struct store *store, long long id, const char *state,
                      const struct recording_summary *summary, const char *failure,
                      char *err, size_t errlen);

/* At relay start: settles every row still 'recording' (its relay died) by
 * verifying its file with `key` (NULL: chain only).  INTACT -> 'complete';
 * TRUNCATED -> 'truncated' with the verified part and the verifier's words
 * on the tail; TAMPERED, missing or unreadable -> 'failed' with the reason.
 * Each gets ended_at now and an audit row (recording.truncated,
 * recording.complete or recording.failed; actor relay; object
 * recording:<id>; its ticket).  *marked = rows settled.  0 or -1. */
int recordings_mark_interrupted(struct store *store, EVP_PKEY *key, int *marked,
                                char *err, size_t errlen);

int recordings_get(struct store *store, long long id, struct recording_row *out,
                   char *err, size_t errlen);
/* By the path exactly as stored (pass a canonical path). */
int recordings_find_by_path(struct store *store, const char *path, struct recording_row *out,
                            char *err, size_t errlen);

/* Rows of `ticket_id` (NULL: all), oldest first.  0 or -1. */
int recordings_foreach(struct store *store, const char *ticket_id,
                       void (*cb)(const struct recording_row *row, void *arg), void *arg,
                       char *err, size_t errlen);

/* The canonical absolute form of `path`: realpath of the file when it
 * exists, else realpath of its folder plus the name, else `path` itself
 * when absolute.  0, or -1 (relative and unresolvable, or too long). */
int recordings_canonical_path(const char *path, char out[RECORDING_MAX_PATH], char *err,
                              size_t errlen);

#endif
