/*
 * The agent <-> relay control protocol: one message per line,
 *   VERB key=value key=value ...\n
 * VERB is upper-case ASCII; keys are lower-case [a-z_]; values are
 * percent-encoded (bytes outside [A-Za-z0-9._:@+/-] become %XX), so a value
 * can never contain a space, '=' or newline.  Limits: WIRE_MAX_* in
 * concierge_limits.h.  Messages (see docs/ARCHITECTURE.md for the dialogue):
 *   agent -> relay: HELLO, RESUME, STREAM, CONSENT, BYE, PONG
 *   relay -> agent: WELCOME, DENIED, JOIN, JOINED, LEAVE, END, PING
 *
 * wire_parse decodes one line (without its newline) into `msg`; returns 0,
 * or -1 for anything malformed (the caller drops the peer: fail closed).
 * wire_format encodes VERB and NULL-terminated key, value pairs into `buf`;
 * returns the length including the trailing newline, or -1 if it does not fit.
 * No allocation; `msg` is plain data.
 */
#ifndef CONCIERGE_WIRE_H
#define CONCIERGE_WIRE_H

#include <stdarg.h>
#include <stddef.h>

#include "concierge_limits.h"

struct wire_field {
	char key[WIRE_MAX_KEY + 1];
	char value[WIRE_MAX_VALUE + 1];
};

struct wire_msg {
	char verb[WIRE_MAX_VERB + 1];
	int nfields;
	struct wire_field fields[WIRE_MAX_FIELDS];
};

int wire_parse(const char *line, size_t len, struct wire_msg *msg);

/* Value of `key`, or NULL when absent. */
const char *wire_get(const struct wire_msg *msg, const char *key);

int wire_format(char *buf, size_t buflen, const char *verb, ...) __attribute__((sentinel));
/* The same with the pairs in `ap` (consumed). */
int wire_vformat(char *buf, size_t buflen, const char *verb, va_list ap);

#endif
