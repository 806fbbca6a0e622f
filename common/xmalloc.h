/*
 * Allocators that never return NULL: on failure they call fatal().  Use them
 * for memory whose absence means the program cannot go on; the caller owns
 * the result and frees it with free().
 */
#ifndef CONCIERGE_XMALLOC_H
#define CONCIERGE_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);      /* overflow-checked */
void *xreallocarray(void *ptr, size_t count, size_t size); /* overflow-checked */
char *xstrdup(const char *s);
/* printf into a fresh string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
