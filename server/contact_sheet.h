/*
 * Contact sheet: one picture with a grid of thumbnails of a recording, each
 * labelled with its time, so an auditor sees a whole session at a glance.
 *
 * Layout: contact_sheet_columns(n) columns (n itself up to 4, then 4 to 6),
 * tiles CONTACT_SHEET_TILE_WIDTH wide and as high as the first picture's
 * aspect ratio asks (clamped), a label strip under each, margins and gaps
 * in FRAME_IMAGE_BACKGROUND.  Pictures of another size are fitted into the
 * tile keeping their aspect ratio; a tile without picture shows the
 * "no picture" card.
 *
 * Contract: contact_sheet_new allocates (xmalloc: never NULL) for `tiles`
 * 1..CONTACT_SHEET_MAX_TILES thumbnails of pictures about width x height
 * (both >= 1; 0 x 0 when no picture exists at all: tiles are then 4:3);
 * NULL for a tile count out of range.  contact_sheet_put draws tile
 * `index` (out-of-range indexes are ignored); `picture` NULL draws the
 * card.  The pixels stay owned by the sheet until contact_sheet_free.
 */
#ifndef CONCIERGE_CONTACT_SHEET_H
#define CONCIERGE_CONTACT_SHEET_H

#include <stddef.h>
#include <stdint.h>

#include "concierge_limits.h"

#define CONTACT_SHEET_TILE_WIDTH 256
#define CONTACT_SHEET_LABEL_H    24
#define CONTACT_SHEET_GAP        8

struct contact_sheet;

struct contact_sheet *contact_sheet_new(unsigned tiles, unsigned width, unsigned height);
void contact_sheet_put(struct contact_sheet *cs, unsigned index, const uint32_t *picture,
                       unsigned width, unsigned height, size_t stride, const char *label);
const uint32_t *contact_sheet_pixels(const struct contact_sheet *cs, unsigned *width, unsigned *height);
void contact_sheet_free(struct contact_sheet *cs);

unsigned contact_sheet_columns(unsigned tiles);

/* The interval between tiles for a recording of `duration_us`: the
 * smallest of 1, 2, 5, 10, 15, 30 s, 1, 2, 5, 10, 15, 30 min, 1, 2, 6, 12,
 * 24 h that needs at most `max_tiles` tiles; *tiles = how many (>= 1),
 * taken at interval, 2 x interval, ... with the last one at the end. */
uint64_t contact_sheet_interval(uint64_t duration_us, unsigned max_tiles, unsigned *tiles);

#endif
