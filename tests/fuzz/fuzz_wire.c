/*
 * libFuzzer target for the agent <-> relay line protocol (common/wire.c).
 * Invariants: parsing never reads past the input, a parsed message
 * re-encodes within WIRE_MAX_LINE and parses back to the same message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Re-encodes `msg` with wire_format (at most WIRE_MAX_FIELDS pairs). */
static int reencode(const struct wire_msg *m, char *buf, size_t buflen)
{
	const char *kv[2 * WIRE_MAX_FIELDS + 1] = { 0 };

	for (int i = 0; i < m->nfields; i++) {
		kv[2 * i] = m->fields[i].key;
		kv[2 * i + 1] = m->fields[i].value;
	}
	/* wire_format is variadic: pass the fixed maximum, NULL-terminated early. */
	return wire_format(buf, buflen, m->verb, kv[0], kv[1], kv[2], kv[3], kv[4], kv[5], kv[6], kv[7],
	                   kv[8], kv[9], kv[10], kv[11], kv[12], kv[13], kv[14], kv[15], kv[16], kv[17],
	                   kv[18], kv[19], kv[20], kv[21], kv[22], kv[23], (char *)NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_msg msg, again;
	char *line = malloc(size ? size : 1);
	char out[WIRE_MAX_LINE * 4];
	int n;

	memcpy(line, data, size);
	if (wire_parse(line, size, &msg) == 0) {
		if (msg.nfields < 0 || msg.nfields > WIRE_MAX_FIELDS)
			abort();
		n = reencode(&msg, out, sizeof out);
		/* Encoding can grow values up to 3x; a too-long result is refused, never cut. */
		if (n > 0) {
			if (out[n - 1] != '\n' || wire_parse(out, (size_t)n - 1, &again) != 0)
				abort();
			if (strcmp(again.verb, msg.verb) != 0 || again.nfields != msg.nfields)
				abort();
			for (int i = 0; i < msg.nfields; i++)
				if (strcmp(again.fields[i].key, msg.fields[i].key) != 0 ||
				    strcmp(again.fields[i].value, msg.fields[i].value) != 0)
					abort();
		}
	}
	free(line);
	return 0;
}
