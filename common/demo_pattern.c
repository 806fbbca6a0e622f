#include "demo_pattern.h"

/*
 * Frame n is made of, from back to front:
 *   - a static background: red follows x, green follows y, blue a fine
 *     x^y texture (so encoders see real detail, not flat colour);
 *   - a vertical bar 4 pixels wide sweeping left to right, 5 pixels a frame;
 *   - a box (1/8 of the screen each way) bouncing off the edges, with a
 *     checkerboard whose colours change every frame;
 *   - the frame counter: row 0, pixels 0..31, most significant bit first.
 */

#define BAR_WIDTH 4
#define BAR_SPEED 5
#define BOX_SPEED_X 7
#define BOX_SPEED_Y 5
#define BOX_CHECKER 8 /* checkerboard cell size inside the box */

static uint32_t rgb(uint32_t r, uint32_t g, uint32_t b)
{
	return ((r & 0xff) << 16) | ((g & 0xff) << 8) | (b & 0xff);
}

/* Position on a back-and-forth path over [0, span]: 0, step, ... span, ..., 0. */
static int bounce(uint32_t frame, int step, int span)
{
	uint64_t period, t;

	if (span <= 0)
		return 0;
	period = 2 * (uint64_t)span;
	t = ((uint64_t)frame * (uint64_t)step) % period;
	return (int)(t <= (uint64_t)span ? t : period - t);
}

uint32_t demo_pattern_pixel(uint32_t frame, int x, int y, int width, int height)
{
	int box_w, box_h, box_x, box_y, bar_x;

	if (width < 1)
		width = 1;
	if (height < 1)
		height = 1;

	if (y == 0 && x >= 0 && x < DEMO_PATTERN_COUNTER_BITS)
		return (frame >> (DEMO_PATTERN_COUNTER_BITS - 1 - x)) & 1 ? 0xffffff : 0x000000;

	box_w = width / 8 > 8 ? width / 8 : 8;
	box_h = height / 8 > 8 ? height / 8 : 8;
	box_x = bounce(frame, BOX_SPEED_X, width - box_w);
	box_y = bounce(frame, BOX_SPEED_Y, height - box_h);
	if (x >= box_x && x < box_x + box_w && y >= box_y && y < box_y + box_h) {
		int cell = ((x - box_x) / BOX_CHECKER + (y - box_y) / BOX_CHECKER) & 1;
		uint32_t f = frame * 9;

		return cell ? rgb(0xff - (f & 0x7f), 0x20 + (f & 0x3f), 0x30)
		            : rgb(0x10, 0x80 + (f & 0x7f), 0xff - (f & 0x3f));
	}

	bar_x = (int)(((uint64_t)frame * BAR_SPEED) % (uint64_t)width);
	if (x >= bar_x && x < bar_x + BAR_WIDTH)
		return rgb(0xf0, 0xf0, 0x40 + (frame & 0x3f));

	return rgb((uint32_t)x * 256 / (uint32_t)width, (uint32_t)y * 256 / (uint32_t)height,
	           0x40 + (((uint32_t)x ^ (uint32_t)y) & 0x3f));
}

uint32_t demo_pattern_read_counter(uint32_t (*pixel_at)(void *ctx, int x, int y), void *ctx)
{
	uint32_t counter = 0;

	for (int x = 0; x < DEMO_PATTERN_COUNTER_BITS; x++) {
		uint32_t p = pixel_at(ctx, x, 0);
		int bit = ((p >> 16) & 0xff) >= 128 || ((p >> 8) & 0xff) >= 128 || (p & 0xff) >= 128;

		counter = (counter << 1) | (uint32_t)bit;
	}
	return counter;
}
