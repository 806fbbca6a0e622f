/*
 * png_writer: a frame written as PNG reads back (libpng) with exactly the
 * same RGB values, stride honoured; an existing file is never overwritten;
 * bad sizes are refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <png.h>

#include "png_writer.h"
#include "support.h"

static void test_round_trip(void **state)
{
	char dir[256], path[512], err[256];
	const uint32_t w = 37, h = 23, stride = 40;
	uint32_t *px = calloc((size_t)stride * h, 4);
	png_image img;
	uint8_t *back;
	struct stat st;

	(void)state;
	assert_int_equal(support_tempdir(dir, sizeof dir, "test_png"), 0);
	support_path(path, sizeof path, dir, "f.png");
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < stride; x++)
			px[y * stride + x] = x < w ? (0xab000000u | (x * 7) << 16 | (y * 11) << 8 | ((x ^ y) & 0xff))
			                           : 0xffffffffu;
	assert_int_equal(png_write_frame(path, px, w, h, stride, 6, 0600, err, sizeof err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	memset(&img, 0, sizeof img);
	img.version = PNG_IMAGE_VERSION;
	assert_true(png_image_begin_read_from_file(&img, path));
	assert_int_equal(img.width, w);
	assert_int_equal(img.height, h);
	img.format = PNG_FORMAT_RGB;
	back = malloc(PNG_IMAGE_SIZE(img));
	assert_true(png_image_finish_read(&img, NULL, back, 0, NULL));
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			const uint8_t *b = back + (y * w + x) * 3;
			uint32_t want = px[y * stride + x] & 0xffffff;

			assert_int_equal((uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2], want);
		}
	free(back);

	/* Never over an existing file. */
	assert_int_equal(png_write_frame(path, px, w, h, stride, 6, 0600, err, sizeof err), -1);
	assert_non_null(strstr(err, "File exists"));
	/* Bad arguments. */
	assert_int_equal(png_write_frame(path, px, 0, h, stride, 6, 0600, err, sizeof err), -1);
	assert_int_equal(png_write_frame(path, px, w, h, w - 1, 6, 0600, err, sizeof err), -1);
	assert_int_equal(png_write_frame(path, px, w, h, stride, 10, 0600, err, sizeof err), -1);
	free(px);
	assert_int_equal(support_remove_tree(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
