#include "key_index.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

struct key_slot {
	char key[KEY_INDEX_KEY_MAX];
	int next;                   /* next slot in the same bucket, -1 at the end */
	int filed;
};

struct key_index {
	struct key_slot *slots;
	size_t capacity;
	int *buckets;               /* first slot of each bucket, -1 when empty */
	size_t nbuckets;            /* a power of two, at least twice the capacity */
};

static size_t bucket_of(const struct key_index *index, const char *key)
{
	uint32_t h = 2166136261u; /* FNV-1a over the stored (possibly cut) key */

	for (size_t i = 0; key[i] && i < KEY_INDEX_KEY_MAX - 1; i++)
		h = (h ^ (unsigned char)key[i]) * 16777619u;
	return h & (index->nbuckets - 1);
}

struct key_index *key_index_new(size_t capacity)
{
	struct key_index *index = xcalloc(1, sizeof *index);

	index->capacity = capacity;
	index->slots = xcalloc(capacity ? capacity : 1, sizeof *index->slots);
	for (index->nbuckets = 1; index->nbuckets < 2 * capacity; index->nbuckets *= 2)
		;
	index->buckets = xmalloc(index->nbuckets * sizeof *index->buckets);
	for (size_t i = 0; i < index->nbuckets; i++)
		index->buckets[i] = -1;
	return index;
}

void key_index_free(struct key_index *index)
{
	if (index == NULL)
		return;
	free(index->slots);
	free(index->buckets);
	free(index);
}

int key_index_find(const struct key_index *index, const char *key)
{
	for (int i = index->buckets[bucket_of(index, key)]; i >= 0; i = index->slots[i].next)
		if (strncmp(index->slots[i].key, key, KEY_INDEX_KEY_MAX - 1) == 0)
			return i;
	return -1;
}

void key_index_put(struct key_index *index, int slot, const char *key)
{
	struct key_slot *s = &index->slots[slot];
	size_t bucket;

	snprintf(s->key, sizeof s->key, "%s", key);
	bucket = bucket_of(index, s->key);
	s->next = index->buckets[bucket];
	s->filed = 1;
	index->buckets[bucket] = slot;
}

void key_index_remove(struct key_index *index, int slot)
{
	struct key_slot *s = &index->slots[slot];
	int *link;

	if (!s->filed)
		return;
	link = &index->buckets[bucket_of(index, s->key)];
	while (*link != slot)
		link = &index->slots[*link].next;
	*link = s->next;
	s->filed = 0;
}
