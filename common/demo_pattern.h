/*
 * The deterministic, moving test pattern served by `concierge-agent
 * --screen demo` and checked pixel-for-pixel by tests/tools/rfb_probe.
 *
 * Frame n of a W x H pattern is a pure function of (n, x, y, W, H).  The
 * frame number is written into the pattern itself (row 0, the first
 * DEMO_PATTERN_COUNTER_BITS pixels, most significant bit first: white = 1,
 * black = 0) so a viewer can recompute the exact frame it received.
 *
 * Pixels are 0x00RRGGBB.  No allocation, no state: safe from any thread.
 */
#ifndef CONCIERGE_DEMO_PATTERN_H
#define CONCIERGE_DEMO_PATTERN_H

#include <stdint.h>

#define DEMO_PATTERN_COUNTER_BITS 32
#define DEMO_PATTERN_MIN_WIDTH 64
#define DEMO_PATTERN_MIN_HEIGHT 16
#define DEMO_PATTERN_MAX_WIDTH 4096
#define DEMO_PATTERN_MAX_HEIGHT 4096

/* Pixel of frame `frame` at (x, y). */
uint32_t demo_pattern_pixel(uint32_t frame, int x, int y, int width, int height);

/* Reads the frame counter back from row 0; `pixel_at(ctx, x, 0)` returns the
 * 0x00RRGGBB of a received pixel.  A channel >= 128 counts as 1. */
uint32_t demo_pattern_read_counter(uint32_t (*pixel_at)(void *ctx, int x, int y), void *ctx);

#endif
