/*
 * Splices two libevent bufferevents: what one side reads is written to the
 * other, with back-pressure (a side stops reading while its peer's output
 * holds SPLICE_HIGH_WATER bytes), so a slow reader stalls only its own pair.
 * Optional filters see a direction first and pass bytes on with
 * splice_write_b (a -> b) or splice_write_a (b -> a): the relay's RFB and
 * shell filters; a filter returns -1 to cut the pair (fail closed).
 *
 * Ownership: splice_new takes both bufferevents.  When either side ends
 * (EOF, error, filter violation) both are freed at once and on_close(ctx,
 * why) runs once, from a later turn of the event loop; after that the splice
 * must not be used except splice_free.  The owner calls splice_free exactly
 * once, at any time (from on_close, or earlier: then on_close never runs);
 * freeing an open splice closes both sides.
 *
 * bev_close_after_flush frees a bufferevent once its output is written
 * (bounded by PREAUTH_TIMEOUT_S), for goodbye messages.
 */
#ifndef CONCIERGE_SPLICE_H
#define CONCIERGE_SPLICE_H

#include <stddef.h>
#include <stdint.h>

struct bufferevent;
struct splice;

typedef int (*splice_filter_fn)(void *ctx, const uint8_t *data, size_t len);
typedef void (*splice_close_fn)(void *ctx, const char *why);

struct splice *splice_new(struct bufferevent *a, struct bufferevent *b, splice_filter_fn a_to_b,
                          splice_filter_fn b_to_a, void *filter_ctx, splice_close_fn on_close,
                          void *close_ctx);
/* Write to side b / side a (for filters). */
void splice_write_b(struct splice *splice, const void *data, size_t len);
void splice_write_a(struct splice *splice, const void *data, size_t len);
/* Bytes moved a -> b and b -> a so far. */
void splice_counts(const struct splice *splice, uint64_t *a_to_b, uint64_t *b_to_a);
void splice_free(struct splice *splice);
/* splice_free, but side a first gets `goodbye` (flushed, then closed):
 * why a participant is cut off. */
void splice_free_with_goodbye(struct splice *splice, const void *goodbye, size_t len);

void bev_close_after_flush(struct bufferevent *bev);

#endif
