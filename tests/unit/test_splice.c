/* Unit tests for common/splice.c: bytes flow both ways, back-pressure stops
 * reading a side whose peer is full, filters can refuse, on_close runs once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "concierge_limits.h"
#include "splice.h"

struct rig {
	struct event_base *base;
	int a_outer, b_outer;      /* the test's ends of the two socketpairs */
	struct splice *splice;
	int closes;
	const char *why;
	int refuse_after;          /* filter: refuse once this many bytes passed (0: never) */
	size_t filtered;
};

static void on_close(void *ctx, const char *why)
{
	struct rig *r = ctx;

	r->closes++;
	r->why = why;
}

static int filter(void *ctx, const uint8_t *data, size_t len)
{
	struct rig *r = ctx;

	r->filtered += len;
	if (r->refuse_after && r->filtered >= (size_t)r->refuse_after)
		return -1;
	splice_write_b(r->splice, data, len);
	return 0;
}

static void rig_up(struct rig *r, int with_filter)
{
	int a[2], b[2];

	memset(r, 0, sizeof *r);
	r->base = event_base_new();
	assert_non_null(r->base);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
	evutil_make_socket_nonblocking(a[1]);
	evutil_make_socket_nonblocking(b[1]);
	evutil_make_socket_nonblocking(b[0]);
	r->a_outer = a[0];
	r->b_outer = b[0];
	struct bufferevent *ba = bufferevent_socket_new(r->base, a[1], BEV_OPT_CLOSE_ON_FREE);
	struct bufferevent *bb = bufferevent_socket_new(r->base, b[1], BEV_OPT_CLOSE_ON_FREE);
	r->splice = splice_new(ba, bb, with_filter ? filter : NULL, NULL, r, on_close, r);
}

static void rig_down(struct rig *r)
{
	splice_free(r->splice);
	close(r->a_outer);
	close(r->b_outer);
	event_base_free(r->base);
}

static void spin(struct rig *r, int rounds)
{
	for (int i = 0; i < rounds; i++)
		event_base_loop(r->base, EVLOOP_NONBLOCK);
}

static size_t drain(int fd, char *buf, size_t cap)
{
	size_t got = 0;
	ssize_t n;

	while (got < cap && (n = recv(fd, buf + got, cap - got, MSG_DONTWAIT)) > 0)
		got += (size_t)n;
	return got;
}

static void test_bytes_flow_both_ways(void **state)
{
	struct rig r;
	char buf[64];
	uint64_t ab, ba;

	(void)state;
	rig_up(&r, 0);
	assert_int_equal(write(r.a_outer, "hello", 5), 5);
	assert_int_equal(write(r.b_outer, "world!", 6), 6);
	spin(&r, 20);
	assert_int_equal(drain(r.b_outer, buf, sizeof buf), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(drain(r.a_outer, buf, sizeof buf), 6);
	assert_memory_equal(buf, "world!", 6);
	splice_counts(r.splice, &ab, &ba);
	assert_int_equal(ab, 5);
	assert_int_equal(ba, 6);
	assert_int_equal(r.closes, 0);
	rig_down(&r);
}

static void test_backpressure_bounds_buffering(void **state)
{
	static char chunk[64 * 1024];
	struct rig r;
	uint64_t ab, ba;
	size_t sent = 0;

	(void)state;
	rig_up(&r, 0);
	evutil_make_socket_nonblocking(r.a_outer);
	/* b's reader never reads: push far more than SPLICE_HIGH_WATER in. */
	for (int round = 0; round < 200; round++) {
		ssize_t n = send(r.a_outer, chunk, sizeof chunk, MSG_DONTWAIT);
		if (n > 0)
			sent += (size_t)n;
		spin(&r, 2);
	}
	splice_counts(r.splice, &ab, &ba);
	/* What the splice took is bounded by its high-water mark plus the
	 * kernel buffers of the stalled side, not by what was offered. */
	assert_true(sent > ab);
	assert_true(ab < SPLICE_HIGH_WATER + 4 * 1024 * 1024);
	/* Draining the stalled side lets the rest flow. */
	{
		static char sink[1 << 20];
		size_t got = 0;
		for (int round = 0; round < 2000 && got < sent; round++) {
			got += drain(r.b_outer, sink, sizeof sink);
			spin(&r, 2);
		}
		assert_int_equal(got, sent);
	}
	rig_down(&r);
}

static void test_filter_refusal_closes_once(void **state)
{
	struct rig r;
	char buf[16];

	(void)state;
	rig_up(&r, 1);
	r.refuse_after = 4;
	assert_int_equal(write(r.a_outer, "abcdef", 6), 6);
	spin(&r, 20);
	assert_int_equal(r.closes, 1);
	assert_non_null(strstr(r.why, "filter"));
	/* Both sides were closed. */
	assert_int_equal(recv(r.b_outer, buf, sizeof buf, 0), 0);
	assert_int_equal(recv(r.a_outer, buf, sizeof buf, 0), 0);
	rig_down(&r);
}

static void test_peer_close_reports_and_hands_over(void **state)
{
	struct rig r;
	char buf[16];

	(void)state;
	rig_up(&r, 0);
	assert_int_equal(write(r.a_outer, "bye", 3), 3);
	shutdown(r.a_outer, SHUT_WR);
	spin(&r, 20);
	assert_int_equal(drain(r.b_outer, buf, sizeof buf), 3);
	assert_int_equal(r.closes, 1);
	assert_string_equal(r.why, "peer closed");
	rig_down(&r);
}

static void test_free_open_splice_never_reports(void **state)
{
	struct rig r;

	(void)state;
	rig_up(&r, 0);
	spin(&r, 2);
	splice_free(r.splice);
	r.splice = NULL;
	spin(&r, 5);
	assert_int_equal(r.closes, 0);
	close(r.a_outer);
	close(r.b_outer);
	event_base_free(r.base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes_flow_both_ways),
		cmocka_unit_test(test_backpressure_bounds_buffering),
		cmocka_unit_test(test_filter_refusal_closes_once),
		cmocka_unit_test(test_peer_close_reports_and_hands_over),
		cmocka_unit_test(test_free_open_splice_never_reports),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
