/*
 * replay_seek: the replay benchmark behind `make bench-replay` (figures,
 * not pass/fail).  Makes (once, cached in --cache) a synthetic recording
 * of --seconds recorded seconds, builds its keyframes from scratch (time,
 * and speed as a multiple of real time), opens it again (keyframes loaded),
 * then seeks to --seeks random points and prints min/median/p95/max seek
 * time against the 200 ms goal.  Every seek's frame is checked against the
 * picture the generator drew (a wrong frame fails the run: exit 1).
 *
 *   replay_seek [--seconds N] [--fps N] [--size WxH] [--seeks N] [--cache DIR]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench_stats.h"
#include "replay.h"
#include "synth_recording.h"

#define SEEK_GOAL_MS 200.0

static int frame_matches(const struct synth_params *p, const struct replay_frame *f, uint64_t t)
{
	return synth_frame_matches(p, t, f->has_picture, f->width, f->height, f->pixels);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seconds", required_argument, NULL, 's' }, { "fps", required_argument, NULL, 'f' },
		{ "size", required_argument, NULL, 'z' },    { "seeks", required_argument, NULL, 'n' },
		{ "cache", required_argument, NULL, 'c' },   { NULL, 0, NULL, 0 },
	};
	struct synth_params p;
	struct synth_result res;
	struct replay_options ro;
	struct replay *r;
	const struct replay_info *info;
	struct replay_frame f;
	char path[1024], kpath[1100], err[512];
	const char *cache = "build/bench";
	unsigned seeks = 50;
	double t0, build_ms, open_ms, *ms;
	struct stat st;
	int c, bad = 0;

	synth_params_default(&p);
	p.seconds_per_leg = 3600;
	p.fps = 2;
	p.width = 800;
	p.height = 600;
	p.full_every = 20;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': p.seconds_per_leg = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'f': p.fps = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'n': seeks = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'c': cache = optarg; break;
		case 'z':
			if (sscanf(optarg, "%ux%u", &p.width, &p.height) != 2)
				bad = 1;
			break;
		default: bad = 1;
		}
	}
	if (bad || optind != argc || seeks == 0 || seeks > 100000) {
		fprintf(stderr, "usage: replay_seek [--seconds N] [--fps N] [--size WxH] [--seeks N] [--cache DIR]\n");
		return 2;
	}
	mkdir(cache, 0700);
	snprintf(path, sizeof path, "%s/synth-%us-%ufps-%ux%u.cncgrec", cache, p.seconds_per_leg, p.fps,
	         p.width, p.height);
	if (stat(path, &st) != 0) {
		t0 = bench_now_ms();
		p.progress = isatty(STDERR_FILENO);
		if (synth_recording_write(path, &p, NULL, &res, err, sizeof err) < 0) {
			fprintf(stderr, "replay_seek: %s\n", err);
			return 1;
		}
		p.progress = 0;
		printf("generated %s: %llu frames, %llu bytes, in %.1f s\n", path, (unsigned long long)res.frames,
		       (unsigned long long)res.file_bytes, (bench_now_ms() - t0) / 1000);
	} else {
		printf("using cached %s (%lld bytes)\n", path, (long long)st.st_size);
	}

	/* Keyframes from scratch. */
	replay_keyframes_path(path, kpath, sizeof kpath);
	unlink(kpath);
	replay_options_default(&ro);
	t0 = bench_now_ms();
	if (replay_open(path, &ro, &r, err, sizeof err) < 0) {
		fprintf(stderr, "replay_seek: %s\n", err);
		return 1;
	}
	build_ms = bench_now_ms() - t0;
	info = replay_info(r);
	stat(kpath, &st);
	printf("keyframes: %zu built in %.2f s (open total %.2f s) = %.0fx real time; file %.1f MB\n",
	       info->keyframes, info->keyframes_build_s, build_ms / 1000,
	       (double)info->duration_us / 1e6 / info->keyframes_build_s, (double)st.st_size / 1e6);
	replay_close(r);

	t0 = bench_now_ms();
	if (replay_open(path, &ro, &r, err, sizeof err) < 0) {
		fprintf(stderr, "replay_seek: %s\n", err);
		return 1;
	}
	open_ms = bench_now_ms() - t0;
	info = replay_info(r);
	printf("reopen with keyframes %s: %.0f ms (scan of the recording + keyframes file check)\n",
	       info->keyframes_origin == REPLAY_KEYFRAMES_LOADED ? "loaded" : "NOT loaded", open_ms);

	ms = calloc(seeks, sizeof *ms);
	srand(12345);
	for (unsigned i = 0; i < seeks; i++) {
		uint64_t t = (uint64_t)((double)rand() / RAND_MAX * (double)info->duration_us);

		t0 = bench_now_ms();
		if (replay_frame_at(r, t, &f, err, sizeof err) < 0) {
			fprintf(stderr, "replay_seek: seek to %.3f s: %s\n", (double)t / 1e6, err);
			return 1;
		}
		ms[i] = bench_now_ms() - t0;
		if (!frame_matches(&p, &f, t)) {
			fprintf(stderr, "replay_seek: WRONG frame at %.3f s\n", (double)t / 1e6);
			return 1;
		}
	}
	bench_sort_ms(ms, seeks);
	printf("%u random seeks over %.0f s (every frame checked pixel by pixel): min %.1f ms, median %.1f ms, "
	       "p95 %.1f ms, max %.1f ms (goal < %.0f ms: %s)\n",
	       seeks, (double)info->duration_us / 1e6, ms[0], ms[seeks / 2], ms[(seeks * 95) / 100 < seeks ? (seeks * 95) / 100 : seeks - 1],
	       ms[seeks - 1], SEEK_GOAL_MS, ms[seeks - 1] < SEEK_GOAL_MS ? "met" : "MISSED");
	free(ms);
	replay_close(r);
	return 0;
}
