/*
 * The recording of one live session (DESIGN.md steps 5-6, issue 5): one
 * container file (recording.h) under <recordings_dir>/<ticket>/<session>/,
 * its database row (recordings.h) and the audit rows for its start and end.
 * What goes into it: /docs/RECORDING.md "What the relay records".
 *
 * Fail closed: every function that writes returns 0, or -1 with the reason
 * in session_record_error().  On -1 the caller must stop all participant
 * time of the session (nothing more can be recorded) and then close the
 * recording with session_record_close(..., failed = 1, ...).  After a -1
 * every later write fails too.
 *
 * Ownership and lifetime: session_record_open returns a recording the
 * caller ends with session_record_close, which always frees it.  The store
 * and the key are borrowed and must outlive it.  Not thread-safe: the relay
 * core's event thread uses it.
 */
#ifndef CONCIERGE_SESSION_RECORD_H
#define CONCIERGE_SESSION_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "recording.h"
#include "store.h"

struct session_record;

/* Creates the file (a fresh name: start time in UTC, then a counter), its
 * row, the START event and the audit row recording.start.  `dir` is the
 * recordings directory (created 0700 when missing).  NULL with `err` when
 * any of that fails; then nothing is left behind.  `defer_sync` (NULL: none)
 * takes checkpoint fsyncs off the caller's thread (recording_params). */
struct session_record *session_record_open(struct store *store, EVP_PKEY *key, const char *dir,
                                           const char *ticket, const char *session, int resumed,
                                           int (*defer_sync)(void *ctx, int fd), void *defer_sync_ctx,
                                           char *err, size_t errlen);

/* One EVENT record: a wire-format line (common/wire.h) of `verb` and the
 * NULL-terminated key, value pairs. */
int session_record_event(struct session_record *sr, const char *verb, ...) __attribute__((sentinel));

/* One data record; `participant` NULL for none. */
int session_record_data(struct session_record *sr, enum recording_type type, uint16_t stream,
                        const char *participant, int dropped, const void *data, size_t len);

/* Adds a participant to the database row (once per name). */
int session_record_participant(struct session_record *sr, const char *user);

/* From a timer at least once a second: checkpoints what is not yet synced. */
int session_record_tick(struct session_record *sr);

/* Microseconds since the recording started (the records' clock). */
uint64_t session_record_now_us(const struct session_record *sr);

/* Writes the trailer (unless `failed` or a write failed before), settles
 * the row as complete or failed, and audits recording.close with the final
 * chain value and the signature (or recording.failed with `why`).  Frees
 * `sr`.  Returns 0, or -1 when the trailer could not be written (the row
 * then says failed). */
int session_record_close(struct session_record *sr, int failed, const char *why);

/* Why the last write failed ("" when none); owned by `sr`. */
const char *session_record_error(const struct session_record *sr);
const char *session_record_path(const struct session_record *sr);
long long session_record_id(const struct session_record *sr);

#endif
