/*
 * libFuzzer target for ticket-id validation (common/ticket_id.c), the check
 * a staff member's `session new --ticket ID` and the relay's session
 * references go through.  The first byte picks the pattern: the default
 * CONFIG_DEFAULT_TICKET_PATTERN, an alternation (whose anchoring is easy
 * to get wrong) or ".*" (so only the pattern-independent rules decide);
 * the rest, cut at its first NUL, is the id.
 * Invariants: an accepted id is 1..TICKET_ID_MAX bytes of printable ASCII
 * without space, '/', '\\' or a leading '.', wholly matched by the pattern;
 * under ".*" exactly those ids are accepted; under "INC[0-9]+|RITM[0-9]+"
 * exactly ids of one prefix followed by digits only.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "concierge_limits.h"
#include "config.h"
#include "ticket_id.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { PATTERN_DEFAULT, PATTERN_ALTERNATION, PATTERN_ANY, PATTERN_COUNT };

static const char *const patterns[PATTERN_COUNT] = {
	CONFIG_DEFAULT_TICKET_PATTERN, "INC[0-9]+|RITM[0-9]+", ".*",
};

static struct ticket_matcher *matcher(int which)
{
	static struct ticket_matcher *compiled[PATTERN_COUNT];
	char err[256];

	if (compiled[which] == NULL && ticket_matcher_new(patterns[which], &compiled[which], err, sizeof err) < 0)
		abort();
	return compiled[which];
}

static int safe_id(const char *id, size_t len)
{
	if (len == 0 || len > TICKET_ID_MAX || id[0] == '.')
		return 0;
	for (size_t i = 0; i < len; i++)
		if (id[i] < '!' || id[i] > '~' || id[i] == '/' || id[i] == '\\')
			return 0;
	return 1;
}

static int prefix_then_digits(const char *id, const char *prefix)
{
	size_t plen = strlen(prefix), len = strlen(id);

	return strncmp(id, prefix, plen) == 0 && len > plen && strspn(id + plen, "0123456789") == len - plen;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *id;
	int which, valid;

	if (size < 1)
		return 0;
	which = data[0] % PATTERN_COUNT;
	id = malloc(size);
	memcpy(id, data + 1, size - 1);
	id[size - 1] = '\0';
	valid = ticket_id_valid(matcher(which), id);
	if (valid != 0 && valid != 1)
		abort();
	if (valid && !safe_id(id, strlen(id)))
		abort();
	if (which == PATTERN_ANY && valid != safe_id(id, strlen(id)))
		abort();
	if (which == PATTERN_ALTERNATION &&
	    valid != (safe_id(id, strlen(id)) && (prefix_then_digits(id, "INC") || prefix_then_digits(id, "RITM"))))
		abort();
	free(id);
	return 0;
}
