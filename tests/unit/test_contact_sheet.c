/*
 * contact_sheet.h: columns per tile count, sheet size from the layout
 * constants and the first picture's aspect ratio, a tile's picture placed
 * in its cell with its label below, the card for a tile without picture,
 * refused tile counts, and the interval choice (nice steps, at most
 * max_tiles, stretching past the largest step).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "contact_sheet.h"
#include "frame_image.h"

#define S 1000000ull

static void test_columns(void **state)
{
	(void)state;
	assert_int_equal(contact_sheet_columns(1), 1);
	assert_int_equal(contact_sheet_columns(4), 4);
	assert_int_equal(contact_sheet_columns(5), 4);
	assert_int_equal(contact_sheet_columns(12), 4);
	assert_int_equal(contact_sheet_columns(13), 5);
	assert_int_equal(contact_sheet_columns(30), 5);
	assert_int_equal(contact_sheet_columns(48), 6);
}

static void test_layout_and_tiles(void **state)
{
	struct contact_sheet *cs;
	static uint32_t red[320 * 240];
	const uint32_t *px;
	unsigned w, h, tile_h = CONTACT_SHEET_TILE_WIDTH * 3 / 4;

	(void)state;
	assert_null(contact_sheet_new(0, 320, 240));
	assert_null(contact_sheet_new(CONTACT_SHEET_MAX_TILES + 1, 320, 240));
	for (size_t i = 0; i < 320 * 240; i++)
		red[i] = 0x00ff0000u;
	cs = contact_sheet_new(6, 320, 240); /* 4 columns, 2 rows */
	assert_non_null(cs);
	contact_sheet_put(cs, 0, red, 320, 240, 320, "00:05");
	contact_sheet_put(cs, 5, NULL, 0, 0, 0, "00:30");
	contact_sheet_put(cs, 6, red, 320, 240, 320, "ignored"); /* out of range */
	px = contact_sheet_pixels(cs, &w, &h);
	assert_int_equal(w, CONTACT_SHEET_GAP + 4 * (CONTACT_SHEET_TILE_WIDTH + CONTACT_SHEET_GAP));
	assert_int_equal(h, CONTACT_SHEET_GAP + 2 * (tile_h + CONTACT_SHEET_LABEL_H + CONTACT_SHEET_GAP));
	/* tile 0: red, whole cell */
	assert_int_equal(px[CONTACT_SHEET_GAP * w + CONTACT_SHEET_GAP], 0x00ff0000u);
	assert_int_equal(px[(CONTACT_SHEET_GAP + tile_h - 1) * w + CONTACT_SHEET_GAP + CONTACT_SHEET_TILE_WIDTH - 1],
	                 0x00ff0000u);
	/* the gap between tiles stays background */
	assert_int_equal(px[CONTACT_SHEET_GAP * w + CONTACT_SHEET_GAP + CONTACT_SHEET_TILE_WIDTH], FRAME_IMAGE_BACKGROUND);
	/* tile 0's label strip has white text somewhere */
	int text = 0;
	for (unsigned y = CONTACT_SHEET_GAP + tile_h; y < CONTACT_SHEET_GAP + tile_h + CONTACT_SHEET_LABEL_H; y++)
		for (unsigned x = CONTACT_SHEET_GAP; x < CONTACT_SHEET_GAP + CONTACT_SHEET_TILE_WIDTH; x++)
			text |= px[y * w + x] == FRAME_IMAGE_TEXT;
	assert_true(text);
	/* tile 5 (row 1, column 1): the card */
	unsigned x5 = CONTACT_SHEET_GAP + (CONTACT_SHEET_TILE_WIDTH + CONTACT_SHEET_GAP);
	unsigned y5 = CONTACT_SHEET_GAP + (tile_h + CONTACT_SHEET_LABEL_H + CONTACT_SHEET_GAP);
	assert_int_equal(px[y5 * w + x5], FRAME_IMAGE_CARD);
	/* tiles never drawn (1..4) stay background */
	assert_int_equal(px[CONTACT_SHEET_GAP * w + x5 + 10], FRAME_IMAGE_BACKGROUND);
	contact_sheet_free(cs);
	contact_sheet_free(NULL);
}

static void test_interval(void **state)
{
	unsigned tiles;

	(void)state;
	assert_int_equal(contact_sheet_interval(0, 48, &tiles), 1 * S);
	assert_int_equal(tiles, 1);
	assert_int_equal(contact_sheet_interval(10 * S, 48, &tiles), 1 * S);
	assert_int_equal(tiles, 10);
	assert_int_equal(contact_sheet_interval(60 * S, 48, &tiles), 2 * S);
	assert_int_equal(tiles, 30);
	assert_int_equal(contact_sheet_interval(3600 * S, 48, &tiles), 120 * S);
	assert_int_equal(tiles, 30);
	assert_int_equal(contact_sheet_interval(3600 * S + 1, 48, &tiles), 120 * S);
	assert_int_equal(tiles, 31);
	/* past the largest step (a day): stretched to keep within 48 */
	contact_sheet_interval(100 * 86400 * S, 48, &tiles);
	assert_true(tiles <= 48 && tiles >= 47);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_columns),
		cmocka_unit_test(test_layout_and_tiles),
		cmocka_unit_test(test_interval),
	};

	return cmocka_run_group_tests_name("contact_sheet", tests, NULL, NULL);
}
