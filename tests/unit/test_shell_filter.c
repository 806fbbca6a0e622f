/* Unit tests for common/shell_frame.c and server/shell_filter.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "shell_filter.h"

struct sink {
	uint8_t out[4096];
	size_t len;
	int resizes, exits, last_exit;
};

static void emit(void *ctx, const uint8_t *data, size_t len)
{
	struct sink *s = ctx;

	assert_true(s->len + len <= sizeof s->out);
	memcpy(s->out + s->len, data, len);
	s->len += len;
}

static void on_frame(void *ctx, const struct shell_frame *f, int forwarded)
{
	struct sink *s = ctx;
	unsigned cols, rows;

	if (f->type == SHELL_RESIZE && forwarded && shell_frame_get_resize(f, &cols, &rows) == 0)
		s->resizes++;
	if (f->type == SHELL_EXIT && shell_frame_get_exit(f, &s->last_exit) == 0)
		s->exits++;
}

/* DATA "ls\n", RESIZE 120x40, empty DATA (end of input). */
static size_t participant_stream(uint8_t *buf)
{
	size_t n = shell_frame_write(buf, SHELL_DATA, "ls\n", 3);

	n += shell_frame_resize(buf + n, 120, 40);
	n += shell_frame_write(buf + n, SHELL_DATA, "", 0);
	return n;
}

static void test_frame_round_trip(void **state)
{
	uint8_t buf[64];
	struct shell_frame f;
	unsigned cols, rows;
	int status;

	(void)state;
	assert_int_equal(shell_frame_resize(buf, 300, 70), 8);
	assert_int_equal(shell_frame_next(buf, 8, &f), 8);
	assert_int_equal(shell_frame_get_resize(&f, &cols, &rows), 0);
	assert_int_equal(cols, 300);
	assert_int_equal(rows, 70);
	assert_int_equal(shell_frame_exit(buf, -2), 8);
	assert_int_equal(shell_frame_next(buf, 8, &f), 8);
	assert_int_equal(shell_frame_get_exit(&f, &status), 0);
	assert_int_equal(status, -2);
	assert_int_equal(shell_frame_next(buf, 7, &f), 0); /* incomplete */
}

static void test_frame_rejects_malformed(void **state)
{
	uint8_t bad_type[] = { 9, 0, 0, 0 }, bad_reserved[] = { 1, 1, 0, 0 };
	uint8_t too_long[] = { 1, 0, 0xff, 0xff }, short_resize[] = { 2, 0, 0, 3, 1, 2, 3 };
	struct shell_frame f;

	(void)state;
	assert_int_equal(shell_frame_next(bad_type, sizeof bad_type, &f), -1);
	assert_int_equal(shell_frame_next(bad_reserved, sizeof bad_reserved, &f), -1);
	assert_int_equal(shell_frame_next(too_long, sizeof too_long, &f), -1);
	assert_int_equal(shell_frame_next(short_resize, sizeof short_resize, &f), -1);
}

static void test_input_right_passes_everything(void **state)
{
	struct sink s = { .len = 0 };
	struct shell_filter_callbacks cb = { emit, on_frame, &s };
	struct shell_filter *f = shell_filter_new(SHELL_FROM_PARTICIPANT, 1, &cb);
	uint8_t in[64];
	size_t n = participant_stream(in);
	uint64_t frames, bytes;

	(void)state;
	assert_int_equal(shell_filter_feed(f, in, n), 0);
	assert_int_equal(s.len, n);
	assert_memory_equal(s.out, in, n);
	assert_int_equal(s.resizes, 1);
	shell_filter_dropped(f, &frames, &bytes);
	assert_int_equal(frames, 0);
	shell_filter_free(f);
}

static void test_view_only_drops_and_counts(void **state)
{
	struct sink s = { .len = 0 };
	struct shell_filter_callbacks cb = { emit, on_frame, &s };
	struct shell_filter *f = shell_filter_new(SHELL_FROM_PARTICIPANT, 0, &cb);
	uint8_t in[64];
	size_t n = participant_stream(in);
	uint64_t frames, bytes;

	(void)state;
	assert_int_equal(shell_filter_feed(f, in, n), 0);
	assert_int_equal(s.len, 0);
	assert_int_equal(s.resizes, 0);
	shell_filter_dropped(f, &frames, &bytes);
	assert_int_equal(frames, 3);
	assert_int_equal(bytes, 3 + 4 + 0);
	shell_filter_free(f);
}

static void test_split_invariance(void **state)
{
	uint8_t in[64];
	size_t n = participant_stream(in);

	(void)state;
	for (size_t chunk = 1; chunk <= n; chunk++) {
		struct sink s = { .len = 0 };
		struct shell_filter_callbacks cb = { emit, on_frame, &s };
		struct shell_filter *f = shell_filter_new(SHELL_FROM_PARTICIPANT, 1, &cb);
		for (size_t pos = 0; pos < n; pos += chunk)
			assert_int_equal(shell_filter_feed(f, in + pos, pos + chunk > n ? n - pos : chunk), 0);
		assert_int_equal(s.len, n);
		assert_memory_equal(s.out, in, n);
		shell_filter_free(f);
	}
}

static void test_participant_cannot_send_exit_or_notice(void **state)
{
	struct sink s = { .len = 0 };
	struct shell_filter_callbacks cb = { emit, on_frame, &s };
	struct shell_filter *f = shell_filter_new(SHELL_FROM_PARTICIPANT, 1, &cb);
	uint8_t in[16];
	size_t n = shell_frame_exit(in, 0);

	(void)state;
	assert_int_equal(shell_filter_feed(f, in, n), -1);
	n = shell_frame_write(in, SHELL_DATA, "x", 1);
	assert_int_equal(shell_filter_feed(f, in, n), -1); /* stays failed */
	shell_filter_free(f);
	f = shell_filter_new(SHELL_FROM_PARTICIPANT, 1, &cb);
	n = shell_frame_write(in, SHELL_NOTICE, "hi", 2);
	assert_int_equal(shell_filter_feed(f, in, n), -1);
	shell_filter_free(f);
}

static void test_agent_direction_reports_exit(void **state)
{
	struct sink s = { .len = 0 };
	struct shell_filter_callbacks cb = { emit, on_frame, &s };
	struct shell_filter *f = shell_filter_new(SHELL_FROM_AGENT, 1, &cb);
	uint8_t in[64];
	size_t n = shell_frame_write(in, SHELL_DATA, "out", 3);

	(void)state;
	n += shell_frame_write(in + n, SHELL_NOTICE, "bye", 3);
	n += shell_frame_exit(in + n, 3);
	assert_int_equal(shell_filter_feed(f, in, n), 0);
	assert_int_equal(s.len, n);
	assert_int_equal(s.exits, 1);
	assert_int_equal(s.last_exit, 3);
	n = shell_frame_resize(in, 80, 24); /* the agent never sends resizes */
	assert_int_equal(shell_filter_feed(f, in, n), -1);
	shell_filter_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_round_trip),
		cmocka_unit_test(test_frame_rejects_malformed),
		cmocka_unit_test(test_input_right_passes_everything),
		cmocka_unit_test(test_view_only_drops_and_counts),
		cmocka_unit_test(test_split_invariance),
		cmocka_unit_test(test_participant_cannot_send_exit_or_notice),
		cmocka_unit_test(test_agent_direction_reports_exit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
