#include "contact_sheet.h"

#include <stdlib.h>

#include "frame_image.h"
#include "xmalloc.h"

#define TILE_MIN_HEIGHT (CONTACT_SHEET_TILE_WIDTH / 8)
#define TILE_MAX_HEIGHT (CONTACT_SHEET_TILE_WIDTH * 2)
#define LABEL_MAX_SCALE 2

struct contact_sheet {
	unsigned tiles, columns, tile_h;
	unsigned width, height;
	uint32_t *pixels;
};

unsigned contact_sheet_columns(unsigned tiles)
{
	if (tiles <= 4)
		return tiles ? tiles : 1;
	if (tiles <= 12)
		return 4;
	if (tiles <= 30)
		return 5;
	return 6;
}

struct contact_sheet *contact_sheet_new(unsigned tiles, unsigned width, unsigned height)
{
	struct contact_sheet *cs;
	unsigned rows;

	if (tiles < 1 || tiles > CONTACT_SHEET_MAX_TILES)
		return NULL;
	cs = xcalloc(1, sizeof *cs);
	cs->tiles = tiles;
	cs->columns = contact_sheet_columns(tiles);
	rows = (tiles + cs->columns - 1) / cs->columns;
	if (width == 0 || height == 0) {
		width = 4;
		height = 3;
	}
	cs->tile_h = (unsigned)(((uint64_t)CONTACT_SHEET_TILE_WIDTH * height + width / 2) / width);
	if (cs->tile_h < TILE_MIN_HEIGHT)
		cs->tile_h = TILE_MIN_HEIGHT;
	if (cs->tile_h > TILE_MAX_HEIGHT)
		cs->tile_h = TILE_MAX_HEIGHT;
	cs->width = CONTACT_SHEET_GAP + cs->columns * (CONTACT_SHEET_TILE_WIDTH + CONTACT_SHEET_GAP);
	cs->height = CONTACT_SHEET_GAP + rows * (cs->tile_h + CONTACT_SHEET_LABEL_H + CONTACT_SHEET_GAP);
	cs->pixels = xcalloc((size_t)cs->width * cs->height, sizeof *cs->pixels);
	frame_image_fill(cs->pixels, cs->width, (struct frame_rect){ 0, 0, cs->width, cs->height },
	                 FRAME_IMAGE_BACKGROUND);
	return cs;
}

void contact_sheet_put(struct contact_sheet *cs, unsigned index, const uint32_t *picture,
                       unsigned width, unsigned height, size_t stride, const char *label)
{
	struct frame_rect tile, strip;

	if (index >= cs->tiles)
		return;
	tile.x = CONTACT_SHEET_GAP + (index % cs->columns) * (CONTACT_SHEET_TILE_WIDTH + CONTACT_SHEET_GAP);
	tile.y = CONTACT_SHEET_GAP + (index / cs->columns) * (cs->tile_h + CONTACT_SHEET_LABEL_H + CONTACT_SHEET_GAP);
	tile.w = CONTACT_SHEET_TILE_WIDTH;
	tile.h = cs->tile_h;
	if (picture && width && height)
		frame_image_fit(cs->pixels, cs->width, tile, picture, width, height, stride);
	else
		frame_image_no_picture(cs->pixels, cs->width, tile);
	strip = (struct frame_rect){ tile.x, tile.y + tile.h, tile.w, CONTACT_SHEET_LABEL_H };
	frame_image_fill(cs->pixels, cs->width, strip, FRAME_IMAGE_BACKGROUND);
	if (label)
		frame_image_label(cs->pixels, cs->width, strip, label, LABEL_MAX_SCALE, FRAME_IMAGE_TEXT);
}

const uint32_t *contact_sheet_pixels(const struct contact_sheet *cs, unsigned *width, unsigned *height)
{
	*width = cs->width;
	*height = cs->height;
	return cs->pixels;
}

void contact_sheet_free(struct contact_sheet *cs)
{
	if (cs == NULL)
		return;
	free(cs->pixels);
	free(cs);
}

uint64_t contact_sheet_interval(uint64_t duration_us, unsigned max_tiles, unsigned *tiles)
{
	static const uint64_t steps_s[] = { 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800,
	                                    3600, 7200, 21600, 43200, 86400 };
	uint64_t step = 0;

	if (max_tiles < 1)
		max_tiles = 1;
	for (size_t i = 0; i < sizeof steps_s / sizeof steps_s[0]; i++) {
		step = steps_s[i] * 1000000;
		if ((duration_us + step - 1) / step <= max_tiles)
			break;
	}
	/* Longer than the largest step allows: stretch the last step. */
	if ((duration_us + step - 1) / step > max_tiles)
		step = (duration_us + max_tiles - 1) / max_tiles;
	*tiles = (unsigned)((duration_us + step - 1) / step);
	if (*tiles < 1)
		*tiles = 1;
	return step;
}
