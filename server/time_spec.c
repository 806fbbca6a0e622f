#include "time_spec.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define US_PER_S  UINT64_C(1000000)
#define US_PER_MS UINT64_C(1000)
#define MAX_DIGITS 9 /* of one number: keeps every product below 2^64 */

/* Reads 1..MAX_DIGITS decimal digits at *p into *v and advances *p. */
static int read_number(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t n = 0;
	int digits = 0;

	while (*s >= '0' && *s <= '9') {
		if (++digits > MAX_DIGITS)
			return -1;
		n = n * 10 + (uint64_t)(*s++ - '0');
	}
	if (digits == 0)
		return -1;
	*v = n;
	*p = s;
	return 0;
}

/* An optional ".ddd" (1..6 digits) at *p as a fraction of `unit_us`. */
static int read_fraction(const char **p, uint64_t unit_us, uint64_t *v)
{
	const char *s = *p;
	uint64_t scale = unit_us, n = 0;
	int digits = 0;

	*v = 0;
	if (*s != '.')
		return 0;
	s++;
	while (*s >= '0' && *s <= '9') {
		if (++digits > 6)
			return -1;
		scale /= 10;
		n += (uint64_t)(*s++ - '0') * scale;
	}
	if (digits == 0)
		return -1;
	*v = n;
	*p = s;
	return 0;
}

int time_spec_parse_interval(const char *text, uint64_t *out_us)
{
	static const struct { const char *suffix; uint64_t us; } units[] = {
		{ "ms", US_PER_MS }, { "s", US_PER_S }, { "m", 60 * US_PER_S }, { "h", 3600 * US_PER_S },
		{ "", US_PER_S },
	};
	const char *p = text;
	uint64_t whole, frac, us;

	if (read_number(&p, &whole) < 0)
		return -1;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		const char *q = p;
		if (read_fraction(&q, units[i].us, &frac) < 0 || strcmp(q, units[i].suffix) != 0)
			continue;
		us = whole * units[i].us + frac;
		if (us < US_PER_MS || us > (uint64_t)EXPORT_MAX_INTERVAL_S * US_PER_S)
			return -1;
		*out_us = us;
		return 0;
	}
	return -1;
}

int time_spec_parse_position(const char *text, uint64_t *out_us)
{
	uint64_t part[3], frac, us = 0;
	const char *p = text;
	int n = 0;

	for (;;) {
		if (read_number(&p, &part[n]) < 0)
			return -1;
		n++;
		if (*p != ':')
			break;
		if (n == 3)
			return -1;
		p++;
	}
	if (read_fraction(&p, US_PER_S, &frac) < 0 || *p != '\0')
		return -1;
	/* Seconds after a colon, and minutes after hours, stay below 60. */
	if (n >= 2 && part[n - 1] >= 60)
		return -1;
	if (n == 3 && part[1] >= 60)
		return -1;
	for (int i = 0; i < n; i++)
		us = us * 60 + part[i];
	if (us > EXPORT_MAX_POSITION_S)
		return -1;
	*out_us = us * US_PER_S + frac;
	return 0;
}

void time_spec_file_stamp(uint64_t us, int with_hours, char out[TIME_SPEC_TEXT_MAX])
{
	uint64_t ms = us / US_PER_MS, s = ms / 1000, m = s / 60;

	if (with_hours)
		snprintf(out, TIME_SPEC_TEXT_MAX, "%02" PRIu64 "h%02" PRIu64 "m%02" PRIu64 ".%03" PRIu64 "s",
		         m / 60, m % 60, s % 60, ms % 1000);
	else
		snprintf(out, TIME_SPEC_TEXT_MAX, "%02" PRIu64 "m%02" PRIu64 ".%03" PRIu64 "s", m, s % 60,
		         ms % 1000);
}

void time_spec_clock(uint64_t us, char out[TIME_SPEC_TEXT_MAX])
{
	uint64_t s = us / US_PER_S;

	if (s >= 3600)
		snprintf(out, TIME_SPEC_TEXT_MAX, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64, s / 3600,
		         s / 60 % 60, s % 60);
	else
		snprintf(out, TIME_SPEC_TEXT_MAX, "%02" PRIu64 ":%02" PRIu64, s / 60, s % 60);
}
