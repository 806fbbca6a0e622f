/*
 * replay: frames equal the picture the generator drew (pixel for pixel) at
 * times inside both legs, "no picture" before, between and after them;
 * playback with replay_next visits every update with correct frames and
 * dirty rects; a seek through a keyframe equals decoding from the leg's
 * start; a corrupt or mismatched keyframes file is rebuilt (and says so);
 * hostile RFB streams (garbage zlib, an oversized desktop, garbage after
 * the handshake) fail in the child with an error while the parent carries
 * on; the child is killed when it opens an AF_INET socket.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include "recording.h"
#include "replay.h"
#include "support.h"
#include "synth_recording.h"

struct fixture {
	char dir[256];
	char rec[512];
	char other[512];
	struct synth_params p;
	EVP_PKEY *key;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof *fx);
	struct synth_result res;
	char err[512];

	if (fx == NULL || support_tempdir(fx->dir, sizeof fx->dir, "test_replay") < 0)
		return -1;
	fx->key = EVP_EC_gen("P-256");
	synth_params_default(&fx->p);
	fx->p.legs = 2;
	fx->p.seconds_per_leg = 3;
	fx->p.fps = 10;
	fx->p.full_every = 12;
	snprintf(fx->rec, sizeof fx->rec, "%s/a.cncgrec", fx->dir);
	snprintf(fx->other, sizeof fx->other, "%s/b.cncgrec", fx->dir);
	if (synth_recording_write(fx->rec, &fx->p, fx->key, &res, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	{
		struct synth_params q = fx->p;

		q.legs = 1;
		q.seconds_per_leg = 2;
		if (synth_recording_write(fx->other, &q, fx->key, &res, err, sizeof err) < 0)
			return -1;
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	EVP_PKEY_free(fx->key);
	support_remove_tree(fx->dir);
	free(fx);
	return 0;
}

static struct replay *open_replay(const char *path, unsigned flags, uint32_t interval_ms)
{
	struct replay_options o;
	struct replay *r = NULL;
	char err[512];

	replay_options_default(&o);
	o.flags = flags | REPLAY_PROGRESS_NEVER;
	o.keyframe_interval_ms = interval_ms;
	if (replay_open(path, &o, &r, err, sizeof err) < 0)
		fail_msg("replay_open: %s", err);
	return r;
}

/* 1 when the frame is exactly what the generator drew at t (or no picture
 * where it drew none). */
static int frame_is_drawn(const struct synth_params *p, const struct replay_frame *f, uint64_t t)
{
	return synth_frame_matches(p, t, f->has_picture, f->width, f->height, f->pixels);
}

static void test_legs_and_duration(void **state)
{
	struct fixture *fx = *state;
	struct replay *r = open_replay(fx->rec, REPLAY_KEYFRAMES_IN_MEMORY, 1000);
	const struct replay_info *info = replay_info(r);

	assert_int_equal(info->legs, 2);
	assert_int_equal(info->recording_complete, 1);
	for (uint32_t k = 0; k < 2; k++) {
		const struct replay_leg *l = replay_leg(r, k);

		assert_int_equal(l->stream, 1001 + k);
		assert_int_equal(l->start_us, synth_leg_start_us(&fx->p, k));
		assert_int_equal(l->end_us, synth_leg_start_us(&fx->p, k) + 3000000);
		assert_int_equal(l->first_update_us, synth_leg_start_us(&fx->p, k));
		assert_int_equal(l->updates, 30);
		assert_int_equal(l->width, fx->p.width);
		assert_int_equal(l->complete, 1);
	}
	assert_null(replay_leg(r, 2));
	/* A keyframe at each leg start plus one per second of recorded time. */
	assert_true(info->keyframes >= 6);
	replay_close(r);
}

static void test_frame_at_is_what_was_drawn(void **state)
{
	struct fixture *fx = *state;
	struct replay *r = open_replay(fx->rec, REPLAY_KEYFRAMES_IN_MEMORY, 1000);
	uint64_t s0 = synth_leg_start_us(&fx->p, 0), s1 = synth_leg_start_us(&fx->p, 1);
	/* Backwards and forwards, exact update times and between them, both legs. */
	const uint64_t times[] = { s0 + 2950000, s0, s0 + 50000, s0 + 1100000, s0 + 1199999, s1 + 2000000,
	                           s0 + 2100000, s1, s1 + 1234567, s1 + 2999999, s0 + 700000 };
	struct replay_frame f;
	char err[512];

	for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
		uint32_t leg;
		uint64_t n;

		assert_int_equal(replay_frame_at(r, times[i], &f, err, sizeof err), 0);
		assert_true(frame_is_drawn(&fx->p, &f, times[i]));
		assert_true(f.has_picture);
		assert_true(synth_expected(&fx->p, times[i], &leg, &n));
		assert_int_equal(f.leg, (int)leg);
		assert_int_equal(f.update_us, synth_frame_time_us(&fx->p, leg, n));
		assert_int_equal(f.time_us, times[i]);
		assert_int_equal(f.full_change, 1);
	}
	/* No picture: before the first leg, in the gap, after the last. */
	assert_int_equal(replay_frame_at(r, 0, &f, err, sizeof err), 0);
	assert_false(f.has_picture);
	assert_int_equal(f.leg, -1);
	assert_int_equal(replay_frame_at(r, s0 + 3000000, &f, err, sizeof err), 0);
	assert_false(f.has_picture);
	assert_int_equal(replay_frame_at(r, s1 - 1, &f, err, sizeof err), 0);
	assert_false(f.has_picture);
	assert_int_equal(replay_frame_at(r, UINT64_MAX, &f, err, sizeof err), 0);
	assert_false(f.has_picture);
	assert_null(f.pixels);
	replay_close(r);
}

static void test_keyframe_equals_decoding_from_start(void **state)
{
	struct fixture *fx = *state;
	/* Dense keyframes vs. only the leg-start ones (interval beyond the leg). */
	struct replay *dense = open_replay(fx->rec, REPLAY_KEYFRAMES_IN_MEMORY, 300);
	struct replay *sparse = open_replay(fx->rec, REPLAY_KEYFRAMES_IN_MEMORY, 3600000);
	struct replay_frame a, b;
	char err[512];

	assert_true(replay_info(dense)->keyframes > replay_info(sparse)->keyframes);
	assert_int_equal(replay_info(sparse)->keyframes, 2);
	for (uint64_t t = synth_leg_start_us(&fx->p, 0); t < synth_leg_start_us(&fx->p, 1) + 3000000; t += 370001) {
		assert_int_equal(replay_frame_at(dense, t, &a, err, sizeof err), 0);
		assert_int_equal(replay_frame_at(sparse, t, &b, err, sizeof err), 0);
		assert_int_equal(a.has_picture, b.has_picture);
		if (!a.has_picture)
			continue;
		assert_int_equal(a.width, b.width);
		assert_int_equal(a.height, b.height);
		assert_int_equal(a.update_us, b.update_us);
		assert_memory_equal(a.pixels, b.pixels, (size_t)a.width * a.height * 4);
		assert_true(frame_is_drawn(&fx->p, &a, t));
	}
	replay_close(dense);
	replay_close(sparse);
}

static void test_next_plays_every_update(void **state)
{
	struct fixture *fx = *state;
	struct replay *r = open_replay(fx->rec, REPLAY_KEYFRAMES_IN_MEMORY, 1000);
	struct replay_frame f;
	char err[512];
	uint64_t last = 0;
	int pictures = 0, ends = 0, fulls = 0, rc;
	uint32_t *shadow = calloc((size_t)fx->p.width * fx->p.height, 4);

	assert_non_null(shadow);
	while ((rc = replay_next(r, &f, err, sizeof err)) == 1) {
		assert_true(f.time_us >= last);
		last = f.time_us;
		if (!f.has_picture) {
			ends++;
			continue;
		}
		pictures++;
		/* A player that copies only the dirty rects stays exact. */
		if (f.full_change) {
			fulls++;
			memcpy(shadow, f.pixels, (size_t)f.width * f.height * 4);
		} else {
			assert_true(f.nrects >= 1 && f.nrects <= REPLAY_MAX_DIRTY_RECTS);
			for (size_t i = 0; i < f.nrects; i++)
				for (uint32_t y = f.rects[i].y; y < f.rects[i].y + f.rects[i].h; y++)
					memcpy(shadow + (size_t)y * f.width + f.rects[i].x,
					       f.pixels + (size_t)y * f.width + f.rects[i].x, (size_t)f.rects[i].w * 4);
		}
		assert_memory_equal(shadow, f.pixels, (size_t)f.width * f.height * 4);
		assert_true(frame_is_drawn(&fx->p, &f, f.time_us));
	}
	assert_int_equal(rc, 0);
	assert_int_equal(pictures, 60);
	assert_int_equal(ends, 2);
	assert_true(fulls >= 2 && fulls < 20); /* leg starts and tint changes */
	/* After a seek, playback continues from there. */
	assert_int_equal(replay_frame_at(r, synth_leg_start_us(&fx->p, 1) + 1050000, &f, err, sizeof err), 0);
	assert_int_equal(replay_next(r, &f, err, sizeof err), 1);
	assert_int_equal(f.time_us, synth_frame_time_us(&fx->p, 1, 11));
	assert_true(frame_is_drawn(&fx->p, &f, f.time_us));
	free(shadow);
	replay_close(r);
}

static void flip_byte(const char *path, off_t at)
{
	int fd = open(path, O_RDWR);
	unsigned char c;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, at), 1);
	c ^= 0x40;
	assert_int_equal(pwrite(fd, &c, 1, at), 1);
	close(fd);
}

static void test_keyframes_file_reused_or_rebuilt(void **state)
{
	struct fixture *fx = *state;
	char kpath[600], kother[600], err[512];
	struct replay *r;
	struct replay_frame f;
	struct stat st;
	uint64_t t = synth_leg_start_us(&fx->p, 1) + 2500000;

	assert_int_equal(replay_keyframes_path(fx->rec, kpath, sizeof kpath), 0);
	assert_int_equal(replay_keyframes_path(fx->other, kother, sizeof kother), 0);
	unlink(kpath);
	r = open_replay(fx->rec, 0, 1000);
	assert_int_equal(replay_info(r)->keyframes_origin, REPLAY_KEYFRAMES_BUILT);
	assert_string_equal(replay_info(r)->keyframes_path, kpath);
	replay_close(r);
	assert_int_equal(stat(kpath, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	r = open_replay(fx->rec, 0, 1000);
	assert_int_equal(replay_info(r)->keyframes_origin, REPLAY_KEYFRAMES_LOADED);
	assert_int_equal(replay_frame_at(r, t, &f, err, sizeof err), 0);
	assert_true(frame_is_drawn(&fx->p, &f, t));
	replay_close(r);

	/* Corrupt: one flipped bit in a framebuffer. */
	flip_byte(kpath, st.st_size / 2);
	r = open_replay(fx->rec, 0, 1000);
	assert_int_equal(replay_info(r)->keyframes_origin, REPLAY_KEYFRAMES_REBUILT);
	assert_non_null(strstr(replay_info(r)->keyframes_note, "corrupt"));
	assert_int_equal(replay_frame_at(r, t, &f, err, sizeof err), 0);
	assert_true(frame_is_drawn(&fx->p, &f, t));
	replay_close(r);
	r = open_replay(fx->rec, 0, 1000);
	assert_int_equal(replay_info(r)->keyframes_origin, REPLAY_KEYFRAMES_LOADED);
	replay_close(r);

	/* Mismatched: another recording's (valid) keyframes planted here. */
	r = open_replay(fx->other, 0, 1000);
	replay_close(r);
	assert_int_equal(unlink(kpath), 0);
	assert_int_equal(link(kother, kpath), 0);
	r = open_replay(fx->rec, 0, 1000);
	assert_int_equal(replay_info(r)->keyframes_origin, REPLAY_KEYFRAMES_REBUILT);
	assert_non_null(strstr(replay_info(r)->keyframes_note, "another recording"));
	assert_int_equal(replay_frame_at(r, t, &f, err, sizeof err), 0);
	assert_true(frame_is_drawn(&fx->p, &f, t));
	replay_close(r);

	/* Rebuild on request. */
	r = open_replay(fx->rec, REPLAY_REBUILD_KEYFRAMES, 1000);
	assert_int_equal(replay_info(r)->keyframes_origin, REPLAY_KEYFRAMES_REBUILT);
	replay_close(r);
}

/* A recording with one screen leg made of the given RFB stream (one
 * record per unit piece as given), at 1 s per piece. */
static void write_leg(const char *path, EVP_PKEY *key, struct bytes *pieces, size_t n)
{
	struct recording_params params;
	struct recording_writer *w;
	char err[256];

	recording_params_default(&params);
	unlink(path);
	w = recording_writer_open(path, "INC1", "s1", key, &params, err, sizeof err);
	assert_non_null(w);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(recording_writer_append(w, RECORDING_RFB_SERVER_BYTES, 1001, NULL, 0,
		                                         1000000 * (uint64_t)(i + 1), pieces[i].p, pieces[i].len,
		                                         err, sizeof err), 0);
	assert_int_equal(recording_writer_close(w, NULL, err, sizeof err), 0);
}

static void test_hostile_streams_fail_in_the_child(void **state)
{
	struct fixture *fx = *state;
	struct bytes pieces[3] = { { 0 }, { 0 }, { 0 } };
	char path[600], err[512];
	struct replay *r;
	struct replay_frame f;

	snprintf(path, sizeof path, "%s/hostile.cncgrec", fx->dir);

	/* 1. A ZRLE rectangle whose zlib data is garbage: framed fine, the
	 *    decoder refuses it. */
	put_rfb_handshake(&pieces[0], 64, 64, "x");
	put_rfb_update(&pieces[1], 1);
	put_rfb_rect(&pieces[1], 0, 0, 64, 64, 16);
	put_u32(&pieces[1], 64);
	for (int i = 0; i < 64; i++)
		put_u8(&pieces[1], 0xa5 ^ (unsigned)i);
	write_leg(path, fx->key, pieces, 2);
	r = open_replay(path, REPLAY_KEYFRAMES_IN_MEMORY, 1000);
	assert_int_equal(replay_leg(r, 0)->complete, 0);
	assert_non_null(strstr(replay_leg(r, 0)->problem, "decoder failed"));
	assert_int_equal(replay_frame_at(r, 1500000, &f, err, sizeof err), 0);
	assert_false(f.has_picture); /* after the handshake, before the update */
	assert_int_equal(replay_frame_at(r, 2500000, &f, err, sizeof err), -1);
	assert_non_null(strstr(err, "decoder failed"));
	/* The parent is fine and the handle still answers. */
	assert_int_equal(replay_frame_at(r, 1500000, &f, err, sizeof err), 0);
	replay_close(r);
	bytes_free(&pieces[1]);

	/* 2. An oversized desktop (DesktopSize to the framer's maximum). */
	put_rfb_update(&pieces[1], 1);
	put_rfb_rect(&pieces[1], 0, 0, 16384, 16384, -223);
	write_leg(path, fx->key, pieces, 2);
	r = open_replay(path, REPLAY_KEYFRAMES_IN_MEMORY, 1000);
	assert_int_equal(replay_frame_at(r, 2500000, &f, err, sizeof err), -1);
	assert_non_null(strstr(err, "16384x16384"));
	replay_close(r);
	bytes_free(&pieces[1]);

	/* 3. Garbage after the handshake: the framer stops the leg there. */
	put(&pieces[1], "\x09garbage!", 9);
	write_leg(path, fx->key, pieces, 2);
	r = open_replay(path, REPLAY_KEYFRAMES_IN_MEMORY, 1000);
	assert_int_equal(replay_leg(r, 0)->complete, 0);
	assert_non_null(strstr(replay_leg(r, 0)->problem, "RFB stream broken"));
	assert_int_equal(replay_frame_at(r, 2500000, &f, err, sizeof err), 0);
	assert_false(f.has_picture);
	replay_close(r);
	for (int i = 0; i < 3; i++)
		bytes_free(&pieces[i]);
}

static void test_child_cannot_open_a_socket(void **state)
{
	struct fixture *fx = *state;
	struct replay *r = open_replay(fx->rec, REPLAY_KEYFRAMES_IN_MEMORY, 1000);
	struct replay_frame f;
	char how[256], err[512];
	int blocked = 0;

	assert_int_equal(replay_probe_sandbox(r, &blocked, how, sizeof how, err, sizeof err), 0);
	assert_int_equal(blocked, 1);
	assert_non_null(strstr(how, "SIGSYS"));
	/* A fresh child takes over. */
	assert_int_equal(replay_frame_at(r, synth_leg_start_us(&fx->p, 0) + 500000, &f, err, sizeof err), 0);
	assert_true(frame_is_drawn(&fx->p, &f, synth_leg_start_us(&fx->p, 0) + 500000));
	replay_close(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_legs_and_duration),
		cmocka_unit_test(test_frame_at_is_what_was_drawn),
		cmocka_unit_test(test_keyframe_equals_decoding_from_start),
		cmocka_unit_test(test_next_plays_every_update),
		cmocka_unit_test(test_keyframes_file_reused_or_rebuilt),
		cmocka_unit_test(test_hostile_streams_fail_in_the_child),
		cmocka_unit_test(test_child_cannot_open_a_socket),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
