/*
 * Background fsync for recordings: the relay's event thread must not wait on
 * the disk (one fsync can take milliseconds; a thousand recordings each
 * checkpointing every second would stall every session).  The thread writes
 * a checkpoint, hands its file to the pool, and carries on; a few worker
 * threads fsync.  A failed fsync is reported back on the event thread with
 * the tag the file was submitted with, so the caller can fail that
 * recording closed.
 *
 * Ownership: fsync_pool_submit dup()s the descriptor, so the caller may close
 * its own at once; the pool closes the copy after the fsync.  on_failure
 * runs on the event base's thread, never from a worker.
 * fsync_pool_free waits for every queued fsync (bounded by the disk, not by
 * a timer: durability of what was queued is the point), then frees.
 */
#ifndef CONCIERGE_FSYNC_POOL_H
#define CONCIERGE_FSYNC_POOL_H

#include <event2/event.h>
#include <stdint.h>

struct fsync_pool;

typedef void (*fsync_failure_fn)(uint64_t tag, int error_number, void *arg);

/* FSYNC_POOL_THREADS workers; NULL when a thread or event cannot be made.
 * The event base must have been made with libevent threading enabled. */
struct fsync_pool *fsync_pool_new(struct event_base *base, fsync_failure_fn on_failure, void *arg);

/* Queues an fsync of `fd`.  0 queued; -1 when the queue holds
 * FSYNC_POOL_MAX_QUEUED already or dup fails: the caller then syncs itself
 * (that wait is the back-pressure of a disk that cannot keep up). */
int fsync_pool_submit(struct fsync_pool *pool, int fd, uint64_t tag);

/* Queued plus running fsyncs right now (tests, diagnostics). */
unsigned fsync_pool_pending(struct fsync_pool *pool);

void fsync_pool_free(struct fsync_pool *pool);

#endif
