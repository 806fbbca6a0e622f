/*
 * Ticket-id validation against the configured `ticket_pattern`.
 *
 * The pattern is a POSIX extended regular expression that must match the
 * whole id (it is anchored here, so patterns need no ^...$).  Independently
 * of the pattern an id is at most TICKET_ID_MAX bytes of printable ASCII
 * without spaces, so ids are always safe in paths, logs and SSH commands.
 *
 * ticket_matcher_new returns 0 and a matcher the caller frees with
 * ticket_matcher_free, or -1 with the regex error in `err`.
 */
#ifndef CONCIERGE_TICKET_ID_H
#define CONCIERGE_TICKET_ID_H

#include <stddef.h>

struct ticket_matcher;

int ticket_matcher_new(const char *pattern, struct ticket_matcher **out, char *err, size_t errlen);
void ticket_matcher_free(struct ticket_matcher *matcher);

/* 1 when `id` is an acceptable ticket id, 0 otherwise. */
int ticket_id_valid(const struct ticket_matcher *matcher, const char *id);

#endif
