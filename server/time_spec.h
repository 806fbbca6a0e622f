/*
 * Times an auditor types and reads: export intervals ("500ms", "5s", "1m"),
 * positions in a recording ("MM:SS", "HH:MM:SS", plain seconds, each with an
 * optional ".fraction"), and their text forms for file names and labels.
 *
 * Contract: the parsers take the whole string (no leading or trailing
 * junk, no sign, digits only where digits belong), store microseconds in
 * *out and return 0, or -1 leaving *out untouched.  Intervals are 1 ms to
 * EXPORT_MAX_INTERVAL_S; positions 0 to EXPORT_MAX_POSITION_S; a bare
 * number is seconds.  The formatters write a NUL-terminated string into a
 * buffer of at least TIME_SPEC_TEXT_MAX bytes; no allocation anywhere.
 */
#ifndef CONCIERGE_TIME_SPEC_H
#define CONCIERGE_TIME_SPEC_H

#include <stdint.h>

#include "concierge_limits.h"

#define TIME_SPEC_TEXT_MAX 32

int time_spec_parse_interval(const char *text, uint64_t *out_us);
int time_spec_parse_position(const char *text, uint64_t *out_us);

/* "05m07.250s", or with `with_hours` "01h05m07.250s" (fixed width, so the
 * names of one export sort by time; pass with_hours when the recording
 * lasts an hour or more). */
void time_spec_file_stamp(uint64_t us, int with_hours, char out[TIME_SPEC_TEXT_MAX]);
/* "05:07" below an hour, else "1:05:07" (whole seconds, rounded down). */
void time_spec_clock(uint64_t us, char out[TIME_SPEC_TEXT_MAX]);

#endif
