/*
 * libFuzzer target for the export time parsers (server/time_spec.c) behind
 * `--every` and `--from`.  The input, cut at its first NUL, is given to
 * both parsers.
 * Invariants: a refused text leaves the output untouched; an interval is
 * 1 ms .. EXPORT_MAX_INTERVAL_S; a position is at most
 * EXPORT_MAX_POSITION_S plus a fraction below one second; the position's
 * clock text parses back to its whole seconds, its file stamp is shorter
 * than TIME_SPEC_TEXT_MAX; an accepted text is digits, '.', ':' and unit
 * letters only.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "time_spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define UNTOUCHED UINT64_C(0xfeedfacecafebeef)
#define US_PER_S UINT64_C(1000000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), clock[TIME_SPEC_TEXT_MAX], stamp[TIME_SPEC_TEXT_MAX];
	uint64_t interval = UNTOUCHED, position = UNTOUCHED, again = UNTOUCHED;

	memcpy(text, data, size);
	text[size] = '\0';
	if (time_spec_parse_interval(text, &interval) == 0) {
		if (interval < 1000 || interval > (uint64_t)EXPORT_MAX_INTERVAL_S * US_PER_S ||
		    strspn(text, "0123456789.smh") != strlen(text))
			abort();
	} else if (interval != UNTOUCHED) {
		abort();
	}
	if (time_spec_parse_position(text, &position) == 0) {
		if (position >= ((uint64_t)EXPORT_MAX_POSITION_S + 1) * US_PER_S ||
		    strspn(text, "0123456789.:") != strlen(text))
			abort();
		time_spec_clock(position, clock);
		if (time_spec_parse_position(clock, &again) != 0 || again != position / US_PER_S * US_PER_S)
			abort();
		time_spec_file_stamp(position, position >= 3600 * US_PER_S, stamp);
		if (strnlen(stamp, sizeof stamp) >= sizeof stamp - 1)
			abort(); /* a full buffer would mean a cut stamp */
	} else if (position != UNTOUCHED) {
		abort();
	}
	free(text);
	return 0;
}
