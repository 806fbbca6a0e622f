/*
 * video_pipe.h with stand-in "ffmpeg" scripts: PATH lookup (found, not
 * found, not executable), frames arrive as bgr0 bytes row by row honouring
 * the stride, the output path is ffmpeg's last argument, a failing ffmpeg
 * is reported by close (exit status) or by frame (EPIPE), and sizes out of
 * range are refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "concierge_limits.h"
#include "support.h"
#include "video_pipe.h"

struct fixture {
	char dir[256];
	char old_path[4096];
};

static void write_script(const char *dir, const char *name, const char *body, mode_t mode)
{
	char path[512];

	support_write_file(dir, name, body, strlen(body));
	support_path(path, sizeof path, dir, name);
	assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state)
{
	static struct fixture fx;
	const char *path = getenv("PATH");

	if (support_tempdir(fx.dir, sizeof fx.dir, "video_pipe") < 0)
		return -1;
	snprintf(fx.old_path, sizeof fx.old_path, "%s", path ? path : "");
	signal(SIGPIPE, SIG_IGN);
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	setenv("PATH", fx->old_path, 1);
	return support_remove_tree(fx->dir);
}

static void test_find_program(void **state)
{
	struct fixture *fx = *state;
	char found[512], want[512], path_var[1024];

	write_script(fx->dir, "fakeffmpeg", "#!/bin/sh\nexit 0\n", 0755);
	write_script(fx->dir, "notexec", "#!/bin/sh\nexit 0\n", 0644);
	snprintf(path_var, sizeof path_var, "/nonexistent:%s", fx->dir);
	setenv("PATH", path_var, 1);
	assert_int_equal(video_find_program("fakeffmpeg", found, sizeof found), 0);
	support_path(want, sizeof want, fx->dir, "fakeffmpeg");
	assert_string_equal(found, want);
	assert_int_equal(video_find_program("notexec", found, sizeof found), -1);
	assert_int_equal(video_find_program("nothere", found, sizeof found), -1);
	setenv("PATH", "", 1);
	assert_int_equal(video_find_program("fakeffmpeg", found, sizeof found), -1);
	setenv("PATH", fx->old_path, 1);
}

static void test_frames_reach_ffmpeg(void **state)
{
	struct fixture *fx = *state;
	char ffmpeg[512], out[512], err[256];
	/* a 2x2 picture in a buffer with stride 3 (the third column is junk) */
	const uint32_t frame[] = { 0x00112233, 0x00445566, 0xdeadbeef, 0x00778899, 0x00aabbcc, 0xdeadbeef };
	const unsigned char want[] = { 0x33, 0x22, 0x11, 0, 0x66, 0x55, 0x44, 0, 0x99, 0x88, 0x77, 0,
	                               0xcc, 0xbb, 0xaa, 0 };
	struct video_pipe *v;
	size_t len;
	char *got;

	/* The stand-in writes its stdin to its last argument, like ffmpeg's output. */
	write_script(fx->dir, "ffmpeg", "#!/bin/sh\nfor a in \"$@\"; do out=$a; done\ncat > \"$out\"\n", 0755);
	support_path(ffmpeg, sizeof ffmpeg, fx->dir, "ffmpeg");
	support_path(out, sizeof out, fx->dir, "out.mp4");
	v = video_pipe_open(ffmpeg, out, 2, 2, 10, err, sizeof err);
	assert_non_null(v);
	assert_int_equal(video_pipe_frame(v, frame, 3, err, sizeof err), 0);
	assert_int_equal(video_pipe_frame(v, frame, 3, err, sizeof err), 0);
	assert_int_equal(video_pipe_close(v, err, sizeof err), 0);
	got = support_read_file(fx->dir, "out.mp4", &len);
	assert_non_null(got);
	assert_int_equal(len, 2 * sizeof want);
	assert_memory_equal(got, want, sizeof want);
	assert_memory_equal(got + sizeof want, want, sizeof want);
	free(got);
}

static void test_failing_ffmpeg(void **state)
{
	struct fixture *fx = *state;
	char ffmpeg[512], out[512], err[256];
	static uint32_t big[640 * 480];
	struct video_pipe *v;
	int rc = 0;

	write_script(fx->dir, "badffmpeg", "#!/bin/sh\nexit 3\n", 0755);
	support_path(ffmpeg, sizeof ffmpeg, fx->dir, "badffmpeg");
	support_path(out, sizeof out, fx->dir, "bad.mp4");
	/* exit without reading: close reports the status */
	v = video_pipe_open(ffmpeg, out, 2, 2, 10, err, sizeof err);
	assert_non_null(v);
	assert_int_equal(video_pipe_close(v, err, sizeof err), -1);
	assert_non_null(strstr(err, "exit status 3"));
	/* writing more than a pipe holds to a dead ffmpeg: EPIPE */
	v = video_pipe_open(ffmpeg, out, 640, 480, 10, err, sizeof err);
	assert_non_null(v);
	for (int i = 0; i < 8 && rc == 0; i++)
		rc = video_pipe_frame(v, big, 640, err, sizeof err);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err, "stopped reading"));
	video_pipe_abort(v);
	video_pipe_abort(NULL);
	assert_null(video_pipe_open(ffmpeg, out, 0, 2, 10, err, sizeof err));
	assert_null(video_pipe_open(ffmpeg, out, 2, PNG_WRITER_MAX_DIM + 1, 10, err, sizeof err));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_program),
		cmocka_unit_test(test_frames_reach_ffmpeg),
		cmocka_unit_test(test_failing_ffmpeg),
	};

	return cmocka_run_group_tests_name("video_pipe", tests, setup, teardown);
}
