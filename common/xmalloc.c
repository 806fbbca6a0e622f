#include "xmalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		fatal("event=out_of_memory bytes=%zu", size);
	return p;
}

void *xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);

	if (p == NULL)
		fatal("event=out_of_memory count=%zu size=%zu", count, size);
	return p;
}

void *xreallocarray(void *ptr, size_t count, size_t size)
{
	void *p = reallocarray(ptr, count ? count : 1, size ? size : 1);

	if (p == NULL)
		fatal("event=out_of_memory count=%zu size=%zu", count, size);
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		fatal("event=out_of_memory bytes=%zu", strlen(s) + 1);
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *out = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&out, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatal("event=out_of_memory what=asprintf");
	return out;
}
