/*
 * libFuzzer target for server/asciicast.c (terminal bytes from a hostile
 * endpoint become JSON strings).
 *
 * Input: one control byte (bits 0..3: chunk size 1..16; bit 4: alternate
 * "o" and "i" events; bit 5: a resize after every chunk), then the bytes.
 * They are written in chunks; then the whole output is checked: the header
 * line, then one line per event, each `[S.UUUUUU, "o|i|r", "..."]`, whose
 * string body is valid UTF-8 with no raw control byte, no raw '"' and only
 * the escapes \" \\ \n \r \t \b \f and \u with four hex digits; the times
 * never decrease; and the number of bytes the events stand for is
 * consistent (every input byte is either copied, escaped or replaced).
 *
 * Build: see the Makefile (build/fuzz/fuzz_asciicast).  Seeds:
 * tests/fuzz/corpus/asciicast/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asciicast.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                        \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "fuzz_asciicast: invariant failed at line %d: %s\n", \
			        __LINE__, #cond);                                          \
			abort();                                                           \
		}                                                                          \
	} while (0)

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* Checks one JSON string body s[0..len); returns the input bytes it stands
 * for (an escape or U+FFFD counts as one, a character as its bytes). */
static size_t check_body(const char *s, size_t len)
{
	size_t i = 0, units = 0;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		CHECK(c >= 0x20 && c != '"' && c != 0x7f);
		if (c == '\\') {
			CHECK(i + 1 < len);
			char e = s[i + 1];
			if (e == 'u') {
				CHECK(i + 5 < len && is_hex(s[i + 2]) && is_hex(s[i + 3]) && is_hex(s[i + 4]) &&
				      is_hex(s[i + 5]));
				i += 6;
			} else {
				CHECK(strchr("\"\\nrtbf", e) != NULL);
				i += 2;
			}
			units++;
			continue;
		}
		int n = asciicast_utf8_char_len((const unsigned char *)s + i, len - i);
		CHECK(n >= 1);
		i += (size_t)n;
		units += (size_t)n;
	}
	return units;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out = NULL, *line, *save = NULL;
	size_t outlen = 0, chunk, units = 0, resizes = 0;
	unsigned long long last_s = 0, last_us = 0;
	struct asciicast_writer *w;
	FILE *f;
	int alternate, resize;

	if (size < 1)
		return 0;
	chunk = (size_t)(data[0] & 0x0f) + 1;
	alternate = data[0] & 0x10;
	resize = data[0] & 0x20;
	data++, size--;
	f = open_memstream(&out, &outlen);
	CHECK(f != NULL);
	w = asciicast_open(f, 80, 24, 0, NULL);
	CHECK(w != NULL);
	for (size_t off = 0, n = 0; off < size; off += chunk, n++) {
		size_t len = size - off < chunk ? size - off : chunk;
		/* the time goes back now and then: the writer must raise it */
		uint64_t t = (n % 3 == 2 ? n - 1 : n) * 1000;
		if (alternate && n % 2)
			CHECK(asciicast_input(w, t, data + off, len) == 0);
		else
			CHECK(asciicast_output(w, t, data + off, len) == 0);
		if (resize) {
			CHECK(asciicast_resize(w, t, 1 + (unsigned)(n % 300), 1 + (unsigned)(n % 200)) == 0);
			resizes++;
		}
	}
	CHECK(asciicast_close(w) == 0);
	fclose(f);

	line = strtok_r(out, "\n", &save);
	CHECK(line && strncmp(line, "{\"version\": 2, ", 15) == 0);
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		unsigned long long s, us;
		char code[2];
		int pos = 0;
		CHECK(sscanf(line, "[%llu.%6llu, \"%1[oir]\", \"%n", &s, &us, code, &pos) == 3 && pos > 0);
		CHECK(s > last_s || (s == last_s && us >= last_us));
		last_s = s, last_us = us;
		size_t len = strlen(line);
		CHECK(len >= (size_t)pos + 2 && strcmp(line + len - 2, "\"]") == 0);
		size_t u = check_body(line + pos, len - (size_t)pos - 2);
		if (code[0] == 'r')
			resizes--;
		else
			units += u;
	}
	CHECK(resizes == 0 || !resize);
	/* input, not counting resize text: every byte accounted for */
	CHECK(units == size);
	free(out);
	return 0;
}
