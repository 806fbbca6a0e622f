#include "reject_log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concierge_limits.h"
#include "key_index.h"
#include "log.h"
#include "xmalloc.h"

struct reject_key {
	char event[REJECT_LOG_WORD_MAX + 1];
	char source[64];
	char reason[REJECT_LOG_WORD_MAX + 1];
	time_t window_start;
	int logged;               /* lines logged in this window */
	unsigned long suppressed; /* counted and not yet reported */
	int used;
};

/* The index key of (event, source, reason): each part cut as the entry keeps it. */
static void composite_key(char out[KEY_INDEX_KEY_MAX], const char *event, const char *source,
                          const char *reason)
{
	snprintf(out, KEY_INDEX_KEY_MAX, "%.*s %.63s %.*s", REJECT_LOG_WORD_MAX, event, source,
	         REJECT_LOG_WORD_MAX, reason);
}

struct reject_log {
	pthread_mutex_t lock;
	int lines_per_window, window_s;
	struct reject_key *keys;
	size_t nkeys, maxkeys;
	struct key_index *index;  /* composite key -> keys[]: a rejection does not scan */
};

struct reject_log *reject_log_new(int lines_per_window, int window_s, size_t keys)
{
	struct reject_log *rl = xcalloc(1, sizeof *rl);

	rl->lines_per_window = lines_per_window;
	rl->window_s = window_s;
	rl->maxkeys = keys;
	rl->keys = xcalloc(keys, sizeof *rl->keys);
	rl->index = key_index_new(keys);
	pthread_mutex_init(&rl->lock, NULL);
	return rl;
}

void reject_log_free(struct reject_log *rl)
{
	if (rl == NULL)
		return;
	pthread_mutex_destroy(&rl->lock);
	free(rl->keys);
	key_index_free(rl->index);
	free(rl);
}

static void log_summary(const char *event, const char *source, const char *reason, unsigned long count,
                        void *arg)
{
	const int *window_s = arg;

	log_info("event=%s_suppressed source=%s reason=%s count=%lu window_s=%d", event, source, reason,
	         count, *window_s);
}

/* Caller holds the lock.  A full table reuses the key that started first,
 * reporting what it counted (so nothing is lost, only said early). */
static struct reject_key *key_for(struct reject_log *rl, const char *event, const char *source,
                                  const char *reason, time_t now)
{
	struct reject_key *k = NULL;
	char key[KEY_INDEX_KEY_MAX];
	int slot;

	composite_key(key, event, source, reason);
	slot = key_index_find(rl->index, key);
	if (slot >= 0)
		return &rl->keys[slot];
	if (rl->nkeys < rl->maxkeys) {
		k = &rl->keys[rl->nkeys++];
	} else {
		for (size_t i = 0; i < rl->nkeys; i++)
			if (k == NULL || rl->keys[i].window_start < k->window_start)
				k = &rl->keys[i];
		if (k->suppressed)
			log_summary(k->event, k->source, k->reason, k->suppressed, &rl->window_s);
		key_index_remove(rl->index, (int)(k - rl->keys));
	}
	memset(k, 0, sizeof *k);
	snprintf(k->event, sizeof k->event, "%s", event);
	snprintf(k->source, sizeof k->source, "%s", source);
	snprintf(k->reason, sizeof k->reason, "%s", reason);
	k->window_start = now;
	k->used = 1;
	key_index_put(rl->index, (int)(k - rl->keys), key);
	return k;
}

int reject_log_allow(struct reject_log *rl, const char *event, const char *source, const char *reason,
                     time_t now, unsigned long *suppressed)
{
	struct reject_key *k;
	int allow = 0;

	pthread_mutex_lock(&rl->lock);
	k = key_for(rl, event, source, reason, now);
	if (now - k->window_start >= rl->window_s) {
		k->window_start = now;
		k->logged = 0;
	}
	*suppressed = 0;
	if (k->logged < rl->lines_per_window) {
		k->logged++;
		*suppressed = k->suppressed;
		k->suppressed = 0;
		allow = 1;
	} else {
		k->suppressed++;
	}
	pthread_mutex_unlock(&rl->lock);
	return allow;
}

void reject_log_line(struct reject_log *rl, time_t now, const char *event, const char *source,
                     const char *reason, const char *detail)
{
	char clean[REJECT_LOG_DETAIL_MAX + 1], tail[64] = "";
	unsigned long suppressed;

	if (!reject_log_allow(rl, event, source, reason, now, &suppressed))
		return;
	if (suppressed)
		snprintf(tail, sizeof tail, " suppressed=%lu", suppressed);
	if (detail) {
		log_clean_text(clean, sizeof clean, detail);
		log_info("event=%s source=%s reason=%s detail=\"%s\"%s", event, source, reason, clean, tail);
	} else {
		log_info("event=%s source=%s reason=%s%s", event, source, reason, tail);
	}
}

int reject_log_flush_with(struct reject_log *rl, time_t now,
                          void (*emit)(const char *event, const char *source, const char *reason,
                                       unsigned long count, void *arg),
                          void *arg)
{
	int reported = 0;

	pthread_mutex_lock(&rl->lock);
	for (size_t i = 0; i < rl->nkeys; i++) {
		struct reject_key *k = &rl->keys[i];
		if (k->used && k->suppressed && now - k->window_start >= rl->window_s) {
			emit(k->event, k->source, k->reason, k->suppressed, arg);
			k->suppressed = 0;
			reported++;
		}
	}
	pthread_mutex_unlock(&rl->lock);
	return reported;
}

int reject_log_flush(struct reject_log *rl, time_t now)
{
	return reject_log_flush_with(rl, now, log_summary, &rl->window_s);
}
