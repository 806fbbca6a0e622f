/*
 * bitmap_font.h: glyph pixels of a digit and ':' , lower case drawn as
 * upper case, the hollow box for characters the font lacks, text width,
 * drawing at a scale (ink where the glyph has it, nothing elsewhere) and
 * clipping at every edge of the buffer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "bitmap_font.h"

#define W 40
#define H 20
#define INK 0x00ff8000u

static void test_glyph_pixels(void **state)
{
	(void)state;
	/* '1': the stem in column 2 on every row but the serif row */
	for (unsigned row = 0; row < BITMAP_FONT_HEIGHT; row++)
		assert_int_equal(bitmap_font_pixel('1', 2, row), 1);
	assert_int_equal(bitmap_font_pixel('1', 0, 0), 0);
	/* ':' two dots, nothing at the top or bottom row */
	assert_int_equal(bitmap_font_pixel(':', 2, 1), 1);
	assert_int_equal(bitmap_font_pixel(':', 2, 3), 0);
	assert_int_equal(bitmap_font_pixel(':', 2, 0), 0);
	assert_int_equal(bitmap_font_pixel('a', 0, 3), bitmap_font_pixel('A', 0, 3));
	/* unknown: a hollow box */
	assert_int_equal(bitmap_font_pixel('@', 0, 0), 1);
	assert_int_equal(bitmap_font_pixel('@', 2, 3), 0);
	assert_int_equal(bitmap_font_pixel('@', 4, 6), 1);
	assert_int_equal(bitmap_font_pixel('0', 5, 0), 0); /* outside the cell */
	assert_int_equal(bitmap_font_pixel('0', 0, 7), 0);
}

static void test_width(void **state)
{
	(void)state;
	assert_int_equal(bitmap_font_text_width("", 1), 0);
	assert_int_equal(bitmap_font_text_width("01:23", 1), 5 * BITMAP_FONT_ADVANCE);
	assert_int_equal(bitmap_font_text_width("01:23", 3), 15 * BITMAP_FONT_ADVANCE);
	assert_int_equal(bitmap_font_text_width("0", 0), BITMAP_FONT_ADVANCE);   /* scale clamped up */
	assert_int_equal(bitmap_font_text_width("0", 99), BITMAP_FONT_ADVANCE * BITMAP_FONT_MAX_SCALE);
}

static void test_draw_scaled(void **state)
{
	uint32_t px[W * H];

	(void)state;
	memset(px, 0, sizeof px);
	bitmap_font_draw(px, W, H, W, 1, 2, "7", 2, INK);
	for (unsigned y = 0; y < H; y++)
		for (unsigned x = 0; x < W; x++) {
			int inside = x >= 1 && x < 11 && y >= 2 && y < 16;
			uint32_t want = inside && bitmap_font_pixel('7', (x - 1) / 2, (y - 2) / 2) ? INK : 0;
			if (px[y * W + x] != want)
				fail_msg("pixel %u,%u is %06x, wanted %06x", x, y, px[y * W + x], want);
		}
}

static void test_clipping(void **state)
{
	uint32_t px[(W + 2) * (H + 2)];
	uint32_t *inner = px + (W + 2) + 1; /* a W x H window with a guard frame */

	(void)state;
	memset(px, 0, sizeof px);
	bitmap_font_draw(inner, W, H, W + 2, -3, -4, "8888888888", 3, INK);
	bitmap_font_draw(inner, W, H, W + 2, W - 4, H - 4, "88", 3, INK);
	for (unsigned x = 0; x < W + 2; x++) {
		assert_int_equal(px[x], 0);
		assert_int_equal(px[(H + 1) * (W + 2) + x], 0);
	}
	for (unsigned y = 0; y < H + 2; y++) {
		assert_int_equal(px[y * (W + 2)], 0);
		assert_int_equal(px[y * (W + 2) + W + 1], 0);
	}
	/* the visible part is drawn: '8' column 4, row 1 lands on x 9..11, y -1..1 */
	assert_int_equal(inner[9], INK);
	assert_int_equal(inner[0], 0); /* column 1 of row 1 is blank */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_glyph_pixels),
		cmocka_unit_test(test_width),
		cmocka_unit_test(test_draw_scaled),
		cmocka_unit_test(test_clipping),
	};

	return cmocka_run_group_tests_name("bitmap_font", tests, NULL, NULL);
}
