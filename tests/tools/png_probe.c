/*
 * png_probe: reads a PNG (libpng) and checks it, for the export tests.
 *
 *   png_probe FILE.png [--size WxH] [--pixel X,Y=RRGGBB]... [--same-as OTHER.png]
 *             [--print-size] [--expect-demo]
 *
 * --size       the picture is W x H
 * --pixel      that pixel has that colour (8-bit RGB, alpha ignored)
 * --same-as    both pictures have the same size and the same RGB everywhere
 * --print-size prints "WxH" on stdout
 * --expect-demo the picture is a frame of the demo pattern (common/demo_pattern.h):
 *              the frame number read from row 0, then every pixel compared;
 *              prints "demo frame=N" on stdout
 *
 * One line per failed check on stderr.  Exit 0 all passed, 1 a check failed
 * or a file is unreadable, 2 usage error.  Test tool only: never installed.
 */
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo_pattern.h"

#define PROBE_MAX_SIDE 16384u

struct picture {
	png_uint_32 w, h;
	uint32_t *rgb; /* 0x00RRGGBB */
};

static int load(const char *path, struct picture *pic)
{
	png_image img;

	memset(&img, 0, sizeof img);
	img.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_file(&img, path)) {
		fprintf(stderr, "png_probe: %s: %s\n", path, img.message);
		return -1;
	}
	if (img.width == 0 || img.height == 0 || img.width > PROBE_MAX_SIDE || img.height > PROBE_MAX_SIDE) {
		fprintf(stderr, "png_probe: %s: size %ux%u out of range\n", path, img.width, img.height);
		png_image_free(&img);
		return -1;
	}
	img.format = PNG_FORMAT_BGRA; /* little-endian 0xAARRGGBB words */
	pic->w = img.width;
	pic->h = img.height;
	pic->rgb = malloc((size_t)img.width * img.height * 4);
	if (pic->rgb == NULL || !png_image_finish_read(&img, NULL, pic->rgb, 0, NULL)) {
		fprintf(stderr, "png_probe: %s: %s\n", path, pic->rgb ? img.message : "out of memory");
		png_image_free(&img);
		free(pic->rgb);
		return -1;
	}
	for (size_t i = 0; i < (size_t)pic->w * pic->h; i++)
		pic->rgb[i] &= 0xffffff;
	return 0;
}

static uint32_t picture_pixel(void *ctx, int x, int y)
{
	const struct picture *pic = ctx;

	return pic->rgb[(size_t)y * pic->w + (size_t)x];
}

/* 0 when every pixel is the demo pattern's frame named in row 0. */
static int check_demo(struct picture *pic)
{
	uint32_t frame;

	if (pic->w < DEMO_PATTERN_MIN_WIDTH || pic->h < DEMO_PATTERN_MIN_HEIGHT) {
		fprintf(stderr, "demo FAIL: %ux%u is smaller than the pattern's minimum\n", pic->w, pic->h);
		return 1;
	}
	frame = demo_pattern_read_counter(picture_pixel, pic);
	for (png_uint_32 y = 0; y < pic->h; y++)
		for (png_uint_32 x = 0; x < pic->w; x++) {
			uint32_t want = demo_pattern_pixel(frame, (int)x, (int)y, (int)pic->w, (int)pic->h);
			if (picture_pixel(pic, (int)x, (int)y) != want) {
				fprintf(stderr, "demo FAIL: frame %u differs at %u,%u: %06x, wanted %06x\n", frame, x,
				        y, picture_pixel(pic, (int)x, (int)y), want);
				return 1;
			}
		}
	printf("demo frame=%u\n", frame);
	return 0;
}

int main(int argc, char **argv)
{
	struct picture pic, other;
	int failed = 0;

	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: png_probe FILE.png [--size WxH] [--pixel X,Y=RRGGBB]... "
		                "[--same-as OTHER.png] [--print-size] [--expect-demo]\n");
		return 2;
	}
	if (load(argv[1], &pic) < 0)
		return 1;
	for (int i = 2; i < argc; i++) {
		unsigned w, h, x, y, rgb;
		if (strcmp(argv[i], "--print-size") == 0) {
			printf("%ux%u\n", pic.w, pic.h);
		} else if (strcmp(argv[i], "--expect-demo") == 0) {
			failed |= check_demo(&pic);
		} else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc && sscanf(argv[i + 1], "%ux%u", &w, &h) == 2) {
			i++;
			if (w != pic.w || h != pic.h) {
				fprintf(stderr, "size FAIL: %ux%u, wanted %ux%u\n", pic.w, pic.h, w, h);
				failed = 1;
			}
		} else if (strcmp(argv[i], "--pixel") == 0 && i + 1 < argc &&
		           sscanf(argv[i + 1], "%u,%u=%x", &x, &y, &rgb) == 3) {
			i++;
			if (x >= pic.w || y >= pic.h) {
				fprintf(stderr, "pixel FAIL: %u,%u outside %ux%u\n", x, y, pic.w, pic.h);
				failed = 1;
			} else if (pic.rgb[(size_t)y * pic.w + x] != rgb) {
				fprintf(stderr, "pixel FAIL: %u,%u is %06x, wanted %06x\n", x, y,
				        pic.rgb[(size_t)y * pic.w + x], rgb);
				failed = 1;
			}
		} else if (strcmp(argv[i], "--same-as") == 0 && i + 1 < argc) {
			if (load(argv[++i], &other) < 0)
				return 1;
			if (other.w != pic.w || other.h != pic.h) {
				fprintf(stderr, "same-as FAIL: %ux%u vs %ux%u\n", pic.w, pic.h, other.w, other.h);
				failed = 1;
			} else {
				for (size_t k = 0; k < (size_t)pic.w * pic.h; k++) {
					if (pic.rgb[k] != other.rgb[k]) {
						fprintf(stderr, "same-as FAIL: first difference at %zu,%zu: %06x vs %06x\n",
						        k % pic.w, k / pic.w, pic.rgb[k], other.rgb[k]);
						failed = 1;
						break;
					}
				}
			}
			free(other.rgb);
		} else {
			fprintf(stderr, "png_probe: bad argument '%s'\n", argv[i]);
			return 2;
		}
	}
	free(pic.rgb);
	return failed;
}
