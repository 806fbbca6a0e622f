/*
 * asciicast v2 writer (the format `asciinema play` and `asciinema cat` read):
 * a header line, then one JSON array per event, `[seconds, "o", "text"]`.
 *
 * Contract:
 *  - asciicast_open writes the header line
 *      {"version": 2, "width": W, "height": H, "timestamp": T[, "title": "..."]}
 *    to `out` (which the caller owns, opens and closes) and returns a writer
 *    the caller ends with asciicast_close.  W and H must be 1..ASCIICAST_MAX_SIDE.
 *  - Event data are raw terminal bytes, possibly from a hostile endpoint:
 *    they are written as JSON strings of valid UTF-8 only.  A multi-byte
 *    character split across two calls of the same kind is joined (up to 3
 *    bytes are held back until the next call); every byte that cannot be
 *    part of a valid UTF-8 character (overlong forms, surrogates, values
 *    above U+10FFFF, stray continuation bytes, a sequence cut short) becomes
 *    U+FFFD.  Control characters are escaped.  An event whose bytes are all
 *    held back is written later, with the time of the call that completes it.
 *  - Times are microseconds since the recording's origin, written as
 *    seconds with six decimals (no floating point); they never go back (an
 *    earlier time is raised to the last one written).
 *  - asciicast_resize writes an "r" event "COLSxROWS" (asciinema 2 players
 *    ignore it; the header already has the first size).
 *  - Every function returns 0, or -1 when writing to `out` failed;
 *    asciicast_close flushes what is held back, frees the writer and
 *    reports any write error seen since open.
 */
#ifndef CONCIERGE_ASCIICAST_H
#define CONCIERGE_ASCIICAST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "concierge_limits.h"

struct asciicast_writer;

struct asciicast_writer *asciicast_open(FILE *out, unsigned width, unsigned height,
                                        uint64_t timestamp_s, const char *title);
int asciicast_output(struct asciicast_writer *w, uint64_t time_us, const void *data, size_t len);
int asciicast_input(struct asciicast_writer *w, uint64_t time_us, const void *data, size_t len);
int asciicast_resize(struct asciicast_writer *w, uint64_t time_us, unsigned cols, unsigned rows);
/* Events written so far (header not counted). */
uint64_t asciicast_events(const struct asciicast_writer *w);
int asciicast_close(struct asciicast_writer *w);

/* Length of the valid UTF-8 character starting at s[0..len), 1..4; 0 when
 * s[0] cannot start one; -1 when the bytes so far are a valid beginning but
 * the character needs more than `len` bytes. */
int asciicast_utf8_char_len(const unsigned char *s, size_t len);

#endif
