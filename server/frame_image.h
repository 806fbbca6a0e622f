/*
 * Drawing on 0x00RRGGBB pixel buffers for the exporters and the playback
 * server: fill a rectangle, fit a picture into a box (scaled, aspect kept,
 * centred, area-averaged when shrinking), and the "no picture" card shown
 * while no screen was shared.
 *
 * Contract: buffers are the caller's; `stride` is in pixels; the caller
 * guarantees every rectangle lies inside its buffer (the functions do not
 * clip; the sizes come from the caller's own layout, never from a file).
 * No allocation, no state.
 */
#ifndef CONCIERGE_FRAME_IMAGE_H
#define CONCIERGE_FRAME_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_IMAGE_BACKGROUND 0x00202020u /* around pictures, behind labels */
#define FRAME_IMAGE_CARD       0x00404040u /* the "no picture" card */
#define FRAME_IMAGE_TEXT       0x00ffffffu
#define FRAME_IMAGE_NO_PICTURE "NO PICTURE (SCREEN NOT SHARED)"

struct frame_rect {
	unsigned x, y, w, h;
};

void frame_image_fill(uint32_t *dst, size_t stride, struct frame_rect r, uint32_t color);

/* Scales the sw x sh picture `src` into box `r` of `dst`, keeping its aspect
 * ratio, centred; the rest of the box gets FRAME_IMAGE_BACKGROUND. */
void frame_image_fit(uint32_t *dst, size_t stride, struct frame_rect r, const uint32_t *src,
                     unsigned sw, unsigned sh, size_t src_stride);

/* Fills box `r` with the card: FRAME_IMAGE_CARD and FRAME_IMAGE_NO_PICTURE
 * centred in the largest font scale that fits (text left out when even
 * scale 1 does not fit). */
void frame_image_no_picture(uint32_t *dst, size_t stride, struct frame_rect r);

/* Draws `text` centred horizontally in box `r`, vertically centred, at the
 * largest scale up to `max_scale` that fits; nothing when none fits. */
void frame_image_label(uint32_t *dst, size_t stride, struct frame_rect r, const char *text,
                       unsigned max_scale, uint32_t color);

#endif
