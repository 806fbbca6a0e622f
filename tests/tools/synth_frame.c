/*
 * synth_frame: the picture tests/bench/gen_recording drew at a time, as the
 * ground truth for export and playback tests.
 *
 *   synth_frame --at-ms T --png OUT.png [--seconds N] [--fps N] [--size WxH]
 *               [--legs N] [--gap-ms N] [--full-every N]
 *
 * The generator options must be the ones gen_recording was given (same
 * defaults).  Writes the W x H picture of the frame shown at T (every frame
 * with a time <= T applied) and prints "leg=K frame=N"; when no screen is
 * shown at T it writes nothing, prints "no picture" and exits 3.
 * Exit 0, 1 failure, 2 usage error.  Test tool only: never installed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "png_writer.h"
#include "synth_recording.h"

#define EXIT_NO_PICTURE 3

static int parse_u32(const char *text, uint32_t *out)
{
	char *end;
	unsigned long v = strtoul(text, &end, 10);

	if (*text == '\0' || *end != '\0' || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int main(int argc, char **argv)
{
	struct synth_params p;
	const char *png = NULL;
	uint32_t at_ms = 0, leg, *pixels;
	uint64_t frame;
	char err[256];
	int have_at = 0;

	synth_params_default(&p);
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *opt = argv[i], *val = argv[i + 1];
		int bad = 0;
		if (strcmp(opt, "--png") == 0)
			png = val;
		else if (strcmp(opt, "--at-ms") == 0)
			bad = parse_u32(val, &at_ms), have_at = 1;
		else if (strcmp(opt, "--size") == 0)
			bad = sscanf(val, "%ux%u", &p.width, &p.height) != 2;
		else
			bad = parse_u32(val, strcmp(opt, "--seconds") == 0    ? &p.seconds_per_leg
			                     : strcmp(opt, "--fps") == 0      ? &p.fps
			                     : strcmp(opt, "--legs") == 0     ? &p.legs
			                     : strcmp(opt, "--gap-ms") == 0   ? &p.gap_ms
			                     : strcmp(opt, "--full-every") == 0 ? &p.full_every
			                                                      : NULL);
		if (bad) {
			fprintf(stderr, "synth_frame: bad option %s %s\n", opt, val);
			return 2;
		}
	}
	if (argc % 2 == 0 || png == NULL || !have_at) {
		fprintf(stderr, "usage: synth_frame --at-ms T --png OUT.png [gen_recording options]\n");
		return 2;
	}
	if (!synth_expected(&p, (uint64_t)at_ms * 1000, &leg, &frame)) {
		printf("no picture\n");
		return EXIT_NO_PICTURE;
	}
	pixels = malloc((size_t)p.width * p.height * sizeof *pixels);
	if (pixels == NULL)
		return 1;
	for (uint32_t y = 0; y < p.height; y++)
		for (uint32_t x = 0; x < p.width; x++)
			pixels[(size_t)y * p.width + x] = synth_pixel(&p, synth_frame_number(leg, frame), x, y);
	if (png_write_frame(png, pixels, p.width, p.height, p.width, 1, 0644, err, sizeof err) < 0) {
		fprintf(stderr, "synth_frame: %s\n", err);
		free(pixels);
		return 1;
	}
	free(pixels);
	printf("leg=%u frame=%llu\n", leg, (unsigned long long)frame);
	return 0;
}
