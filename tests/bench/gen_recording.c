/*
 * gen_recording: writes a synthetic but real screen recording (see
 * synth_recording.h): libvncserver in-process, the relay's recorder_leg as
 * its client, the recording writer on a synthetic clock.
 *
 *   gen_recording --out FILE [--seconds N] [--fps N] [--size WxH] [--legs N]
 *                 [--gap-ms N] [--full-every N] [--key relay.key] [--quiet]
 * Exit: 0 written, 1 failed, 2 usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "recording.h"
#include "synth_recording.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: gen_recording --out FILE [--seconds N] [--fps N] [--size WxH] [--legs N]\n"
	           "                     [--gap-ms N] [--full-every N] [--key relay.key] [--quiet]\n"
	           "Writes a synthetic screen recording (N seconds per leg) on a synthetic clock.\n");
}

static int number(const char *s, unsigned long max, uint32_t *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },     { "seconds", required_argument, NULL, 's' },
		{ "fps", required_argument, NULL, 'f' },     { "size", required_argument, NULL, 'z' },
		{ "legs", required_argument, NULL, 'l' },    { "gap-ms", required_argument, NULL, 'g' },
		{ "full-every", required_argument, NULL, 'e' }, { "key", required_argument, NULL, 'k' },
		{ "quiet", no_argument, NULL, 'q' },         { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct synth_params p;
	struct synth_result res;
	const char *out = NULL, *keyfile = NULL;
	EVP_PKEY *key = NULL;
	char err[512];
	struct timespec t0, t1;
	int c;

	synth_params_default(&p);
	p.progress = isatty(STDERR_FILENO);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		int bad = 0;

		switch (c) {
		case 'o': out = optarg; break;
		case 's': bad = number(optarg, 1000000, &p.seconds_per_leg); break;
		case 'f': bad = number(optarg, 1000, &p.fps); break;
		case 'l': bad = number(optarg, 999, &p.legs); break;
		case 'g': bad = number(optarg, 86400000, &p.gap_ms); break;
		case 'e': bad = number(optarg, 1000000, &p.full_every); break;
		case 'k': keyfile = optarg; break;
		case 'q': p.progress = 0; break;
		case 'z': {
			char *x = strchr(optarg, 'x');

			bad = x == NULL;
			if (!bad) {
				*x = '\0';
				bad = number(optarg, 4096, &p.width) || number(x + 1, 4096, &p.height);
			}
			break;
		}
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		if (bad) {
			fprintf(stderr, "gen_recording: bad value for --%s: %s\n", opts[optind > 0 ? 0 : 0].name, optarg);
			usage(stderr);
			return 2;
		}
	}
	if (out == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (keyfile != NULL && (key = recording_load_key(keyfile, err, sizeof err)) == NULL) {
		fprintf(stderr, "gen_recording: %s\n", err);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (synth_recording_write(out, &p, key, &res, err, sizeof err) < 0) {
		fprintf(stderr, "gen_recording: %s\n", err);
		EVP_PKEY_free(key);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("wrote %s: %llu frames, %.1f s recorded, %llu bytes, in %.1f s\n", out,
	       (unsigned long long)res.frames, (double)res.duration_us / 1e6,
	       (unsigned long long)res.file_bytes,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	EVP_PKEY_free(key);
	return 0;
}
