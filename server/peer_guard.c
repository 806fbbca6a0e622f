#include "peer_guard.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concierge_limits.h"
#include "key_index.h"
#include "xmalloc.h"

#define SOURCE_MAX 64 /* an IPv6 address in text fits with room */

struct source_entry {
	char source[SOURCE_MAX];
	int pending;
	int failures;
	time_t window_start;
};

struct peer_guard {
	pthread_mutex_t lock;
	struct peer_guard_limits limits;
	struct source_entry *entries;
	size_t nentries;
	struct key_index *index;    /* source -> entry: lookups do not scan */
	int total_pending;
};

struct peer_guard *peer_guard_new(const struct peer_guard_limits *limits)
{
	struct peer_guard *g = xcalloc(1, sizeof *g);

	g->limits = *limits;
	g->entries = xcalloc(limits->sources_tracked, sizeof *g->entries);
	g->index = key_index_new(limits->sources_tracked);
	pthread_mutex_init(&g->lock, NULL);
	return g;
}

struct peer_guard *peer_guard_new_preauth(const struct concierge_config *cfg)
{
	const struct peer_guard_limits limits = {
		.max_total = PREAUTH_MAX_CONNECTIONS,
		.max_per_source = (int)cfg->preauth_per_source,
		.failures_per_source = (int)cfg->preauth_failures_per_source,
		.window_s = PREAUTH_FAILURES_WINDOW_S,
		.sources_tracked = PREAUTH_SOURCES_TRACKED,
	};

	return peer_guard_new(&limits);
}

time_t peer_guard_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

void peer_guard_free(struct peer_guard *g)
{
	if (g == NULL)
		return;
	pthread_mutex_destroy(&g->lock);
	free(g->entries);
	key_index_free(g->index);
	free(g);
}

/* The failure window of `e` as of `now` (a finished window starts afresh). */
static void roll_window(const struct peer_guard *g, struct source_entry *e, time_t now)
{
	if (now - e->window_start >= g->limits.window_s) {
		e->window_start = now;
		e->failures = 0;
	}
}

static struct source_entry *find(struct peer_guard *g, const char *source)
{
	int slot = key_index_find(g->index, source);

	return slot >= 0 ? &g->entries[slot] : NULL;
}

/* The entry of `source`, made when missing; NULL when the table is full of
 * addresses that still hold pending connections.  Only a full table is
 * scanned, for the address to forget. */
static struct source_entry *find_or_make(struct peer_guard *g, const char *source, time_t now)
{
	struct source_entry *e = find(g, source), *idle = NULL;

	if (e)
		return e;
	if (g->nentries < g->limits.sources_tracked) {
		e = &g->entries[g->nentries++];
	} else {
		for (size_t i = 0; i < g->nentries; i++)
			if (g->entries[i].pending == 0 &&
			    (idle == NULL || g->entries[i].window_start < idle->window_start))
				idle = &g->entries[i];
		if (idle == NULL)
			return NULL;
		e = idle;
		key_index_remove(g->index, (int)(e - g->entries));
	}
	memset(e, 0, sizeof *e);
	snprintf(e->source, sizeof e->source, "%s", source);
	e->window_start = now;
	key_index_put(g->index, (int)(e - g->entries), e->source);
	return e;
}

enum peer_verdict peer_guard_admit(struct peer_guard *g, const char *source, time_t now)
{
	enum peer_verdict v = PEER_ADMIT;
	struct source_entry *e;

	pthread_mutex_lock(&g->lock);
	e = find_or_make(g, source, now);
	if (e == NULL) {
		v = PEER_BUSY;
		goto out;
	}
	roll_window(g, e, now);
	if (e->failures >= g->limits.failures_per_source)
		v = PEER_PENALISED;
	else if (e->pending >= g->limits.max_per_source)
		v = PEER_TOO_MANY_FROM_SOURCE;
	else if (g->total_pending >= g->limits.max_total)
		v = PEER_TOO_MANY;
	else {
		e->pending++;
		g->total_pending++;
	}
out:
	pthread_mutex_unlock(&g->lock);
	return v;
}

void peer_guard_release(struct peer_guard *g, const char *source)
{
	struct source_entry *e;

	pthread_mutex_lock(&g->lock);
	e = find(g, source);
	/* An admitted address is never forgotten while it has pending ones. */
	if (e && e->pending > 0) {
		e->pending--;
		g->total_pending--;
	}
	pthread_mutex_unlock(&g->lock);
}

void peer_guard_failure(struct peer_guard *g, const char *source, time_t now)
{
	struct source_entry *e;

	pthread_mutex_lock(&g->lock);
	e = find_or_make(g, source, now);
	if (e) {
		roll_window(g, e, now);
		e->failures++;
	}
	pthread_mutex_unlock(&g->lock);
}

int peer_guard_penalised(struct peer_guard *g, const char *source, time_t now)
{
	struct source_entry *e;
	int penalised = 0;

	pthread_mutex_lock(&g->lock);
	e = find(g, source);
	if (e) {
		roll_window(g, e, now);
		penalised = e->failures >= g->limits.failures_per_source;
	}
	pthread_mutex_unlock(&g->lock);
	return penalised;
}

int peer_guard_pending(struct peer_guard *g, const char *source)
{
	struct source_entry *e;
	int n;

	pthread_mutex_lock(&g->lock);
	if (source == NULL) {
		n = g->total_pending;
	} else {
		e = find(g, source);
		n = e ? e->pending : 0;
	}
	pthread_mutex_unlock(&g->lock);
	return n;
}

const char *peer_verdict_name(enum peer_verdict v)
{
	switch (v) {
	case PEER_ADMIT: return "admitted";
	case PEER_TOO_MANY: return "too_many_preauth";
	case PEER_TOO_MANY_FROM_SOURCE: return "too_many_preauth_from_source";
	case PEER_PENALISED: return "too_many_failures_from_source";
	case PEER_BUSY: return "source_table_full";
	}
	return "?";
}
