/*
 * Log lines for rejected peers, limited per (event, source, reason): the
 * first `lines_per_window` in a window of `window_s` seconds are logged,
 * the rest only counted.  The next line logged for that key carries
 * `suppressed=N`, and reject_log_flush logs a summary line
 * `event=<event>_suppressed source=... reason=... count=N` for every key
 * whose window ended with lines counted and not yet reported, so a flood
 * costs a few lines per window and no rejected peer goes unmentioned.
 *
 * Thread-safe (one mutex).  The limiter owns a table of at most `keys`
 * keys; when it is full the key whose window started first is reported
 * (if it has suppressed lines) and reused.  Strings are copied (event and
 * reason truncated to REJECT_LOG_WORD_MAX, source to 63 bytes).  `detail`
 * is free text from the peer or a library; it is logged cleaned
 * (log_clean_text) in quotes.  reject_log_new never returns NULL.
 * `now` is passed in (seconds, any monotonic clock) so tests control time.
 */
#ifndef CONCIERGE_REJECT_LOG_H
#define CONCIERGE_REJECT_LOG_H

#include <stddef.h>
#include <time.h>

#define REJECT_LOG_WORD_MAX 47

struct reject_log;

struct reject_log *reject_log_new(int lines_per_window, int window_s, size_t keys);
void reject_log_free(struct reject_log *rl);

/* 1 when a line for this key is to be logged now (with *suppressed lines
 * counted since the last one reported), 0 when it is only counted. */
int reject_log_allow(struct reject_log *rl, const char *event, const char *source, const char *reason,
                     time_t now, unsigned long *suppressed);
/* reject_log_allow, and the line itself:
 *   event=EVENT source=SOURCE reason=REASON [detail="..."] [suppressed=N] */
void reject_log_line(struct reject_log *rl, time_t now, const char *event, const char *source,
                     const char *reason, const char *detail);
/* Calls `emit` for every key whose window ended with unreported lines and
 * marks them reported; returns how many keys were reported. */
int reject_log_flush_with(struct reject_log *rl, time_t now,
                          void (*emit)(const char *event, const char *source, const char *reason,
                                       unsigned long count, void *arg),
                          void *arg);
/* reject_log_flush_with logging the summary lines. */
int reject_log_flush(struct reject_log *rl, time_t now);

#endif
