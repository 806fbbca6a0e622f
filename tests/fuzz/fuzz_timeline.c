/*
 * libFuzzer target for server/timeline.c (record payloads are untrusted).
 *
 * Input: a sequence of records, each
 *   u8 type | u8 stream | u8 flags | u8 participant (0: none, else "pN") |
 *   u16be length | payload (cut short at the end of the input)
 * with times growing by the stream byte in milliseconds (so typing pauses
 * occur).  Every record is fed, timeline_tick runs every 7th, and a flush
 * ends the run.  Each entry is checked: its line and text hold no control
 * characters, fit their bounds, its kind is one of the documented ones, its
 * time never decreases, and the JSON form prints.
 *
 * Build: see the Makefile (links timeline, recording, wire, json_out).
 * Seeds: tests/fuzz/corpus/timeline/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concierge_limits.h"
#include "timeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const kinds[] = { "start", "ask", "consent", "join", "leave", "recorder", "end",
	                             "typed", "click", "clipboard", "shell", "resize", "malformed" };

static void check_text(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			abort();
}

static void check_entry(const struct timeline_entry *e, void *arg)
{
	uint64_t *last = arg;
	int known = 0;
	FILE *devnull;

	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		known |= strcmp(e->kind, kinds[i]) == 0;
	if (!known || e->time_us < *last)
		abort();
	*last = e->time_us;
	check_text(e->text, TIMELINE_MAX_TEXT * 4 + WIRE_MAX_FIELDS * WIRE_MAX_VALUE * 4);
	check_text(e->line, TIMELINE_MAX_TEXT + 128);
	check_text(e->participant, RECORDING_MAX_PARTICIPANT);
	devnull = fopen("/dev/null", "w");
	if (devnull) {
		timeline_print_json(devnull, e);
		timeline_print_text(devnull, e);
		fclose(devnull);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t last = 0, now = 0;
	struct timeline *tl = timeline_new(check_entry, &last);
	char who[8];
	size_t pos = 0;
	int n = 0;

	while (pos + 6 <= size) {
		size_t len = (size_t)data[pos + 4] << 8 | data[pos + 5];
		if (len > size - pos - 6)
			len = size - pos - 6;
		who[0] = '\0';
		if (data[pos + 3])
			snprintf(who, sizeof who, "p%u", data[pos + 3] % 4u);
		now += (uint64_t)data[pos + 1] * 1000;
		struct recording_record rec = {
			.type = data[pos], .stream = data[pos + 1] % 4, .flags = data[pos + 2] & 1,
			.time_us = now, .participant = who, .payload = len ? data + pos + 6 : NULL, .len = len,
		};
		timeline_feed(tl, &rec);
		if (++n % 7 == 0)
			timeline_tick(tl, now + TIMELINE_TYPING_GAP_US / 2);
		pos += 6 + len;
	}
	timeline_flush(tl);
	timeline_free(tl);
	return 0;
}
