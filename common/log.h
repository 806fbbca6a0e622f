/*
 * Logging: one event per line on stderr, key=value, UTC timestamp, with the
 * calling function.  Callers pass the key=value body as a printf format; they
 * must never pass a secret (codes, tokens, private keys) to any of these.
 *
 * fatal() logs and exits(1): use it only where the program cannot continue
 * (allocation failure, broken invariant), never on peer input.
 */
#ifndef CONCIERGE_LOG_H
#define CONCIERGE_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

/* Messages below this level are dropped; default LOG_LEVEL_INFO. */
void log_set_level(enum log_level level);
/* Name put in every line (program name); the pointer must outlive logging. */
void log_set_program(const char *program);

void log_emit(enum log_level level, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void fatal_at(const char *func, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/* Copies `in` into `out` (always NUL-terminated, truncated to outlen - 1)
 * with every byte outside printable ASCII, and '"' and '\\', replaced by
 * '?': text a peer chose (an SSH banner, a library's error quoting it) can
 * then be logged in quotes without breaking or forging lines. */
void log_clean_text(char *out, size_t outlen, const char *in);

#define log_debug(...) log_emit(LOG_LEVEL_DEBUG, __func__, __VA_ARGS__)
#define log_info(...)  log_emit(LOG_LEVEL_INFO, __func__, __VA_ARGS__)
#define log_warn(...)  log_emit(LOG_LEVEL_WARN, __func__, __VA_ARGS__)
#define log_error(...) log_emit(LOG_LEVEL_ERROR, __func__, __VA_ARGS__)
#define fatal(...)     fatal_at(__func__, __VA_ARGS__)

#endif
