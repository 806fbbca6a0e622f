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
	/* Compiled as written, not wrapped in ^(...)$: a ')' in the pattern
	 * could close such a wrapper and leave an alternative unanchored.
	 * ticket_id_valid anchors by requiring the match to span the whole id. */
	int rc = regcomp(&m->regex, pattern, REG_EXTENDED);

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
	/* POSIX leftmost-longest: when the whole id matches, the first match
	 * found starts at 0 and is the longest, so "A|B" means ^(A|B)$. */
	regmatch_t match;
	return regexec(&matcher->regex, id, 1, &match, 0) == 0 && match.rm_so == 0 &&
	       (size_t)match.rm_eo == len;
}
