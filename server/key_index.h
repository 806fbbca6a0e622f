/*
 * A hash index from short text keys (an address, "event source reason") to
 * the slots 0..capacity-1 of a caller's fixed table, so that a lookup on a
 * hot path (every accept, every rejected peer) does not scan the table.
 * The caller keeps its entries and its eviction policy; the index only
 * answers "which slot holds this key".
 *
 * Ownership: key_index_new never returns NULL (allocation failure is fatal);
 * the index copies keys (at most KEY_INDEX_KEY_MAX - 1 bytes, longer ones
 * are cut, so keys equal in that prefix are the same key).  Not
 * thread-safe: callers hold their own lock.
 */
#ifndef CONCIERGE_KEY_INDEX_H
#define CONCIERGE_KEY_INDEX_H

#include <stddef.h>

#define KEY_INDEX_KEY_MAX 160

struct key_index;

struct key_index *key_index_new(size_t capacity);
void key_index_free(struct key_index *index);

/* The slot holding `key`, or -1. */
int key_index_find(const struct key_index *index, const char *key);
/* Files `key` under `slot` (0..capacity-1).  The slot must be empty (never
 * put, or removed) and the key not filed already. */
void key_index_put(struct key_index *index, int slot, const char *key);
/* Empties `slot` (nothing when it is empty already). */
void key_index_remove(struct key_index *index, int slot);

#endif
