#include "ticket_id.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concierge_limits.h"
#include "xmalloc.h"

struct ticket_matcher {
	regex_t regex;
};

int ticket_matcher_new(const char *pattern, struct ticket_matcher **out, char *err, size_t errlen)
{
	struct ticket_matcher *m = xcalloc(1, sizeof *m);
	/* Anchor the whole alternation so "A|B" means ^(A|B)$, not ^A|B$. */
	char *anchored = xasprintf("^(%s)$", pattern);
	int rc = regcomp(&m->regex, anchored, REG_EXTENDED | REG_NOSUB);

	free(anchored);
	*out = NULL;
	if (rc != 0) {
		char why[128];
		regerror(rc, &m->regex, why, sizeof why);
		snprintf(err, errlen, "ticket_pattern is not a valid POSIX extended regex: %s", why);
		free(m);
		return -1;
	}
	*out = m;
	return 0;
}

void ticket_matcher_free(struct ticket_matcher *matcher)
{
	if (matcher == NULL)
		return;
	regfree(&matcher->regex);
	free(matcher);
}

int ticket_id_valid(const struct ticket_matcher *matcher, const char *id)
{
	size_t len = strnlen(id, TICKET_ID_MAX + 1);

	/* A leading dot would make "." and ".." path components under recordings/. */
	if (len == 0 || len > TICKET_ID_MAX || id[0] == '.')
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)id[i];
		if (c <= 0x20 || c >= 0x7f || c == '/' || c == '\\')
			return 0;
	}
	return regexec(&matcher->regex, id, 0, NULL, 0) == 0;
}
