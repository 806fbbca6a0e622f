#include "asciicast.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json_out.h"
#include "xmalloc.h"

#define UTF8_MAX_HELD 3 /* bytes of an unfinished character kept for the next call */

struct held_bytes {
	unsigned char b[UTF8_MAX_HELD];
	size_t len;
};

struct asciicast_writer {
	FILE *out;
	uint64_t last_time_us;
	uint64_t events;
	struct held_bytes held_output, held_input;
	int failed;
};

static int in_range(unsigned char c, unsigned char lo, unsigned char hi)
{
	return c >= lo && c <= hi;
}

int asciicast_utf8_char_len(const unsigned char *s, size_t len)
{
	unsigned char lead = s[0], lo = 0x80, hi = 0xbf;
	int need;

	if (lead < 0x80)
		return 1;
	if (in_range(lead, 0xc2, 0xdf))
		need = 2;
	else if (in_range(lead, 0xe0, 0xef))
		need = 3;
	else if (in_range(lead, 0xf0, 0xf4))
		need = 4;
	else
		return 0;
	/* The second byte's range excludes overlong forms, surrogates and > U+10FFFF. */
	if (lead == 0xe0)
		lo = 0xa0;
	else if (lead == 0xed)
		hi = 0x9f;
	else if (lead == 0xf0)
		lo = 0x90;
	else if (lead == 0xf4)
		hi = 0x8f;
	for (int i = 1; i < need; i++) {
		if ((size_t)i >= len)
			return -1;
		if (!in_range(s[i], i == 1 ? lo : 0x80, i == 1 ? hi : 0xbf))
			return 0;
	}
	return need;
}

/* Writes s[0..len) as the body of a JSON string; returns how many bytes at
 * the end were left unwritten because they start an unfinished character
 * (only when `hold_tail`). */
static size_t put_utf8_body(FILE *out, const unsigned char *s, size_t len, int hold_tail)
{
	size_t i = 0;

	while (i < len) {
		int n = asciicast_utf8_char_len(s + i, len - i);
		if (n < 0 && hold_tail)
			return len - i;
		if (n <= 0) {
			fputs("\\ufffd", out);
			i++;
		} else if (n == 1) {
			json_put_escaped_byte(out, s[i]);
			i++;
		} else {
			fwrite(s + i, 1, (size_t)n, out);
			i += (size_t)n;
		}
	}
	return 0;
}

static int write_event(struct asciicast_writer *w, uint64_t time_us, const char *code,
                       struct held_bytes *held, const void *data, size_t len, int final)
{
	unsigned char *joined;
	size_t total, kept;

	if (held->len + len == 0)
		return w->failed ? -1 : 0;
	total = held->len + len;
	joined = xmalloc(total);
	memcpy(joined, held->b, held->len);
	if (len)
		memcpy(joined + held->len, data, len);
	/* A whole event held back waits for the bytes that complete it. */
	if (!final && asciicast_utf8_char_len(joined, total) < 0 && total <= UTF8_MAX_HELD) {
		memcpy(held->b, joined, total);
		held->len = total;
		free(joined);
		return w->failed ? -1 : 0;
	}
	if (time_us < w->last_time_us)
		time_us = w->last_time_us;
	w->last_time_us = time_us;
	fprintf(w->out, "[%" PRIu64 ".%06" PRIu64 ", \"%s\", \"", time_us / 1000000, time_us % 1000000, code);
	kept = put_utf8_body(w->out, joined, total, !final);
	fputs("\"]\n", w->out);
	memcpy(held->b, joined + total - kept, kept);
	held->len = kept;
	free(joined);
	w->events++;
	if (ferror(w->out))
		w->failed = 1;
	return w->failed ? -1 : 0;
}

struct asciicast_writer *asciicast_open(FILE *out, unsigned width, unsigned height,
                                        uint64_t timestamp_s, const char *title)
{
	struct asciicast_writer *w;

	if (width < 1 || width > ASCIICAST_MAX_SIDE || height < 1 || height > ASCIICAST_MAX_SIDE)
		return NULL;
	w = xcalloc(1, sizeof *w);
	w->out = out;
	fprintf(out, "{\"version\": 2, \"width\": %u, \"height\": %u, \"timestamp\": %" PRIu64, width,
	        height, timestamp_s);
	if (title) {
		fputs(", \"title\": ", out);
		json_string(out, title);
	}
	fputs("}\n", out);
	if (ferror(out))
		w->failed = 1;
	return w;
}

int asciicast_output(struct asciicast_writer *w, uint64_t time_us, const void *data, size_t len)
{
	return write_event(w, time_us, "o", &w->held_output, data, len, 0);
}

int asciicast_input(struct asciicast_writer *w, uint64_t time_us, const void *data, size_t len)
{
	return write_event(w, time_us, "i", &w->held_input, data, len, 0);
}

int asciicast_resize(struct asciicast_writer *w, uint64_t time_us, unsigned cols, unsigned rows)
{
	char size[32];

	if (cols < 1 || cols > ASCIICAST_MAX_SIDE || rows < 1 || rows > ASCIICAST_MAX_SIDE)
		return 0; /* a nonsense size from the recording is not worth an event */
	snprintf(size, sizeof size, "%ux%u", cols, rows);
	return write_event(w, time_us, "r", &(struct held_bytes){ .len = 0 }, size, strlen(size), 1);
}

uint64_t asciicast_events(const struct asciicast_writer *w)
{
	return w->events;
}

int asciicast_close(struct asciicast_writer *w)
{
	int rc;

	write_event(w, w->last_time_us, "o", &w->held_output, NULL, 0, 1);
	write_event(w, w->last_time_us, "i", &w->held_input, NULL, 0, 1);
	if (fflush(w->out) != 0 || ferror(w->out))
		w->failed = 1;
	rc = w->failed ? -1 : 0;
	free(w);
	return rc;
}
