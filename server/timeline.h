/*
 * A human timeline of a recording: session events (who asked, who was
 * allowed what, who joined and left, how it ended) and, per participant,
 * the input they sent: typed text rebuilt from RFB key events, mouse clicks,
 * clipboard text, shell input and resizes, each marked when the relay
 * dropped it (no control right).  Screen and shell output are not shown.
 *
 * Input: data records from the recording iterator (server/recording.h) in
 * file order; payloads follow the relay's conventions (docs/RECORDING.md):
 * EVENT = one wire-format line (unknown verbs and keys ignored), INPUT_* =
 * the whole RFB client message, SHELL_INPUT = bytes, SHELL_RESIZE = u16be
 * cols, rows.  Payloads are untrusted: anything malformed becomes a
 * "malformed" entry, never a crash; every text is bounded (TIMELINE_* in
 * concierge_limits.h) and escaped (no control characters reach the output).
 *
 * Streaming: timeline_feed takes one record at a time and calls the
 * callback for each finished entry, in time order.  Consecutive typing (or
 * shell input) by one participant is coalesced into one entry, which ends
 * at Return / a newline, at any other entry, when TIMELINE_MAX_TEXT is
 * reached, or after a pause of TIMELINE_TYPING_GAP_US (seen by the next
 * record, or by timeline_tick for a player whose clock moves on without
 * records).  timeline_flush emits what is pending (call it at the end).
 *
 * Entries handed to the callback live until it returns.  The timeline owns
 * no file; timeline_free(NULL) is a no-op.
 */
#ifndef CONCIERGE_TIMELINE_H
#define CONCIERGE_TIMELINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "recording.h"

struct timeline_entry {
	uint64_t time_us;          /* record time of the entry's first record */
	const char *participant;   /* user name, "" for none */
	const char *kind;          /* start ask consent join leave recorder end (events);
	                              typed click clipboard shell resize (input); malformed */
	const char *text;          /* typed text, clipboard, shell input, or the event's
	                              description; "" for click and resize */
	const char *line;          /* the whole human phrase, e.g. "alice typed: ls<Return>" */
	int button, x, y;          /* click: button 1..8 and position; else 0 */
	int cols, rows;            /* resize; else 0 */
	int dropped;               /* input the relay did not forward */
};

typedef void (*timeline_fn)(const struct timeline_entry *entry, void *arg);

struct timeline;

struct timeline *timeline_new(timeline_fn fn, void *arg);
void timeline_feed(struct timeline *tl, const struct recording_record *rec);
void timeline_tick(struct timeline *tl, uint64_t now_us);
void timeline_flush(struct timeline *tl);
void timeline_free(struct timeline *tl);

/* Whole file: reads `path` with the recording iterator and calls `fn` per
 * entry.  Returns 1 when the file ends with its trailer, 0 when it just
 * stops (cut short), -1 with `err` when it cannot be read or is damaged
 * (the entries before the damage have been delivered). */
int timeline_file(const char *path, timeline_fn fn, void *arg, char *err, size_t errlen);

/* "MM:SS.mmm", or "H:MM:SS.mmm" from an hour on; out holds 24 bytes. */
void timeline_format_time(uint64_t us, char *out, size_t outlen);

/* One line "MM:SS.mmm  <line>\n" / one JSON object (no newline):
 * time_us, time, participant (null for none), kind, text, line, dropped,
 * plus button/x/y for clicks and cols/rows for resizes. */
void timeline_print_text(FILE *out, const struct timeline_entry *entry);
void timeline_print_json(FILE *out, const struct timeline_entry *entry);

#endif
