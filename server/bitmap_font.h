/*
 * A tiny embedded 5x7 bitmap font for labels drawn into 0x00RRGGBB pixel
 * buffers (contact-sheet timestamps, the playback "no picture" card):
 * digits, ':', '.', '-', '(', ')', '/', space and the letters A-Z (lower
 * case is drawn as upper case; any other character as a hollow box).
 *
 * Contract: no allocation, no state.  bitmap_font_draw clips to the buffer,
 * so any x, y is safe; each glyph cell is BITMAP_FONT_ADVANCE * scale wide
 * (one column of spacing) and BITMAP_FONT_HEIGHT * scale high.  scale is
 * 1..BITMAP_FONT_MAX_SCALE (larger values are clamped).
 */
#ifndef CONCIERGE_BITMAP_FONT_H
#define CONCIERGE_BITMAP_FONT_H

#include <stddef.h>
#include <stdint.h>

#define BITMAP_FONT_WIDTH     5
#define BITMAP_FONT_HEIGHT    7
#define BITMAP_FONT_ADVANCE   6
#define BITMAP_FONT_MAX_SCALE 16

/* Width in pixels of `text` at `scale` (the last column of spacing included). */
unsigned bitmap_font_text_width(const char *text, unsigned scale);

/* Draws `text` with its top-left corner at (x, y) into `pixels`, a
 * width x height image with `stride` pixels per row. */
void bitmap_font_draw(uint32_t *pixels, unsigned width, unsigned height, size_t stride, int x, int y,
                      const char *text, unsigned scale, uint32_t color);

/* 1 when the glyph of `c` has its pixel (col, row) set (0 <= col < 5,
 * 0 <= row < 7), else 0; for tests and callers that draw their own way. */
int bitmap_font_pixel(char c, unsigned col, unsigned row);

#endif
