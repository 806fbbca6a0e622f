/*
 * Admission of unauthenticated connections on one listening port, per
 * source address and in total.  A connection is "pending" from accept until
 * it authenticated (or ended): at most `max_total` at once, at most
 * `max_per_source` from one address.  Pre-authentication failures (garbage,
 * handshake timeouts, wrong codes or keys) are counted per address in fixed
 * windows of `window_s` seconds; an address with `failures_per_source`
 * failures in its window is refused at accept until the window ends, before
 * any TLS or SSH work is done for it.
 *
 * Thread-safe (one mutex): the SSH front calls it from its accept thread
 * and connection threads, the relay core from its event thread.  The guard
 * owns its table of at most `sources_tracked` addresses (found through a
 * key_index, not by scanning); when it is full
 * the address idle the longest (no pending connection, oldest window) is
 * forgotten, and when none is idle a new address is refused as "busy".
 * peer_guard_new never returns NULL (allocation failure is fatal).
 * `now` is passed in (seconds, any monotonic clock) so tests control time.
 */
#ifndef CONCIERGE_PEER_GUARD_H
#define CONCIERGE_PEER_GUARD_H

#include <stddef.h>
#include <time.h>

#include "config.h"

struct peer_guard_limits {
	int max_total;           /* pending connections at once, all sources */
	int max_per_source;      /* pending connections at once, one address */
	int failures_per_source; /* failures in a window that get an address refused */
	int window_s;            /* length of a failure window */
	size_t sources_tracked;  /* addresses remembered at once */
};

enum peer_verdict {
	PEER_ADMIT,              /* counted as pending: release it later */
	PEER_TOO_MANY,           /* max_total pending already */
	PEER_TOO_MANY_FROM_SOURCE, /* max_per_source pending from this address */
	PEER_PENALISED,          /* too many failures from this address in this window */
	PEER_BUSY,               /* the address table is full of busy addresses */
};

struct peer_guard;

struct peer_guard *peer_guard_new(const struct peer_guard_limits *limits);
/* A guard with the PREAUTH_* limits of concierge_limits.h and the per-source
 * ones of the relay's config (one guard per port). */
struct peer_guard *peer_guard_new_preauth(const struct concierge_config *cfg);
void peer_guard_free(struct peer_guard *g);

/* At accept: PEER_ADMIT counts the connection as pending for `source`. */
enum peer_verdict peer_guard_admit(struct peer_guard *g, const char *source, time_t now);
/* An admitted connection authenticated or ended: its pending slot is freed.
 * Call exactly once per PEER_ADMIT. */
void peer_guard_release(struct peer_guard *g, const char *source);
/* One pre-authentication failure of `source`. */
void peer_guard_failure(struct peer_guard *g, const char *source, time_t now);
/* 1 when `source` has failures_per_source failures in its current window
 * (what admit refuses as PEER_PENALISED), without admitting anything. */
int peer_guard_penalised(struct peer_guard *g, const char *source, time_t now);
/* Pending connections now: from `source`, or all when `source` is NULL. */
int peer_guard_pending(struct peer_guard *g, const char *source);
/* Seconds on the monotonic clock: the `now` the relay passes to the guard
 * and to reject_log. */
time_t peer_guard_clock(void);
/* A short reason word for logs: "too_many_preauth" and so on. */
const char *peer_verdict_name(enum peer_verdict v);

#endif
