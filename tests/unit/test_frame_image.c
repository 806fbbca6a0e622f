/*
 * frame_image.h: fill, fitting a picture into a box (same size is a copy,
 * halving averages 2x2 blocks, a wide picture is letterboxed with the
 * background above and below, nothing is drawn outside the box), labels
 * centred at the largest scale that fits, and the no-picture card.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "bitmap_font.h"
#include "frame_image.h"

#define GUARD 0x00abcdefu

static void test_fill(void **state)
{
	uint32_t px[6 * 4];

	(void)state;
	for (size_t i = 0; i < 24; i++)
		px[i] = GUARD;
	frame_image_fill(px, 6, (struct frame_rect){ 1, 1, 3, 2 }, 7);
	for (unsigned y = 0; y < 4; y++)
		for (unsigned x = 0; x < 6; x++)
			assert_int_equal(px[y * 6 + x], (x >= 1 && x < 4 && y >= 1 && y < 3) ? 7u : GUARD);
}

static void test_fit_same_size_copies(void **state)
{
	uint32_t src[4 * 3], dst[4 * 3];

	(void)state;
	for (unsigned i = 0; i < 12; i++)
		src[i] = 0x00010203u * i;
	frame_image_fit(dst, 4, (struct frame_rect){ 0, 0, 4, 3 }, src, 4, 3, 4);
	assert_memory_equal(dst, src, sizeof src);
}

static void test_fit_halving_averages(void **state)
{
	uint32_t src[4 * 2] = { 0x000000, 0x00ff0000, 0x100000, 0x300000,
	                        0x0000ff, 0x0000ff00, 0x100000, 0x300000 };
	uint32_t dst[2];

	(void)state;
	frame_image_fit(dst, 2, (struct frame_rect){ 0, 0, 2, 1 }, src, 4, 2, 4);
	/* (0+0xff+0+0)/4 per channel, rounded: 0x40 each */
	assert_int_equal(dst[0], 0x00404040u);
	assert_int_equal(dst[1], 0x00200000u);
}

static void test_fit_letterbox_and_bounds(void **state)
{
	uint32_t src[8 * 2], dst[10 * 10];

	(void)state;
	for (unsigned i = 0; i < 16; i++)
		src[i] = 0x00ffffffu;
	for (unsigned i = 0; i < 100; i++)
		dst[i] = GUARD;
	/* 8x2 into a 4x4 box at (3,3): 4x1 picture, centred vertically */
	frame_image_fit(dst, 10, (struct frame_rect){ 3, 3, 4, 4 }, src, 8, 2, 8);
	for (unsigned y = 0; y < 10; y++)
		for (unsigned x = 0; x < 10; x++) {
			uint32_t want = GUARD;
			if (x >= 3 && x < 7 && y >= 3 && y < 7)
				want = y == 4 ? 0x00ffffffu : FRAME_IMAGE_BACKGROUND;
			if (dst[y * 10 + x] != want)
				fail_msg("pixel %u,%u is %06x, wanted %06x", x, y, dst[y * 10 + x], want);
		}
}

static void test_label_and_card(void **state)
{
	enum { CW = 400, CH = 60 };
	static uint32_t card[CW * CH];
	unsigned ink = 0, ink_left = CW, ink_right = 0;

	(void)state;
	frame_image_no_picture(card, CW, (struct frame_rect){ 0, 0, CW, CH });
	for (unsigned y = 0; y < CH; y++)
		for (unsigned x = 0; x < CW; x++) {
			uint32_t p = card[y * CW + x];
			assert_true(p == FRAME_IMAGE_CARD || p == FRAME_IMAGE_TEXT);
			if (p == FRAME_IMAGE_TEXT) {
				ink++;
				if (x < ink_left)
					ink_left = x;
				if (x > ink_right)
					ink_right = x;
			}
		}
	assert_true(ink > 0);
	/* centred: the margins left and right differ by at most one scale step */
	assert_true((int)ink_left - (int)(CW - 1 - ink_right) <= 4 &&
	            (int)(CW - 1 - ink_right) - (int)ink_left <= 4);
	/* too small for even scale 1: only the card colour */
	frame_image_no_picture(card, CW, (struct frame_rect){ 0, 0, 20, 5 });
	for (unsigned y = 0; y < 5; y++)
		for (unsigned x = 0; x < 20; x++)
			assert_int_equal(card[y * CW + x], FRAME_IMAGE_CARD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fill),
		cmocka_unit_test(test_fit_same_size_copies),
		cmocka_unit_test(test_fit_halving_averages),
		cmocka_unit_test(test_fit_letterbox_and_bounds),
		cmocka_unit_test(test_label_and_card),
	};

	return cmocka_run_group_tests_name("frame_image", tests, NULL, NULL);
}
