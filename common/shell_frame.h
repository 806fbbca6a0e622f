/*
 * Framing for shell streams.  A shell stream carries more than bytes (window
 * sizes one way, the exit status the other), so every hop -- participant's
 * SSH channel <-> relay SSH thread <-> relay core <-> agent -- speaks frames:
 *
 *   u8 type | u8 zero | u16 BE length | payload (length <= SHELL_FRAME_MAX)
 *
 *   SHELL_DATA    either way: terminal bytes (input to the PTY, output from it)
 *   SHELL_RESIZE  participant -> agent: u16 BE columns, u16 BE rows (exactly 4)
 *   SHELL_EXIT    agent -> participant: i32 BE exit status (exactly 4); last frame
 *   SHELL_NOTICE  agent -> participant: a line of text for the person (stderr)
 *
 * shell_frame_next parses the frame at the start of [data, data+len):
 * returns the frame's total size (> 0) with `frame` filled (payload points
 * into `data`), 0 when more bytes are needed, -1 when malformed (unknown
 * type, non-zero reserved byte, bad length).  shell_frame_write encodes into
 * `out` (capacity >= SHELL_FRAME_HEADER + len) and returns the total size.
 */
#ifndef CONCIERGE_SHELL_FRAME_H
#define CONCIERGE_SHELL_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "concierge_limits.h"

#define SHELL_FRAME_HEADER 4

enum shell_frame_type { SHELL_DATA = 1, SHELL_RESIZE = 2, SHELL_EXIT = 3, SHELL_NOTICE = 4 };

struct shell_frame {
	enum shell_frame_type type;
	const uint8_t *payload;
	size_t len;
};

long shell_frame_next(const uint8_t *data, size_t len, struct shell_frame *frame);
size_t shell_frame_write(uint8_t *out, enum shell_frame_type type, const void *payload, size_t len);

/* Convenience encoders for the fixed-size frames. */
size_t shell_frame_resize(uint8_t out[SHELL_FRAME_HEADER + 4], unsigned cols, unsigned rows);
size_t shell_frame_exit(uint8_t out[SHELL_FRAME_HEADER + 4], int status);
/* Decoders: 0 ok, -1 wrong size. */
int shell_frame_get_resize(const struct shell_frame *frame, unsigned *cols, unsigned *rows);
int shell_frame_get_exit(const struct shell_frame *frame, int *status);

#endif
