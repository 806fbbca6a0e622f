/*
 * recorder_leg.h: the pipelined client handshake, the setup sent after
 * ServerInit (pixel format, encodings, full request), one incremental
 * request per update at the current size, server bytes passed unchanged,
 * and a protocol violation failing for good.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "recorder_leg.h"
#include "support.h"

struct capture {
	struct bytes sent;      /* client -> server */
	struct bytes passed;    /* server bytes handed back */
	int units, updates;
	uint32_t last_w, last_h;
};

static void cap_send(void *ctx, const uint8_t *data, size_t len)
{
	put(&((struct capture *)ctx)->sent, data, len);
}

static void cap_bytes(void *ctx, const uint8_t *data, size_t len)
{
	put(&((struct capture *)ctx)->passed, data, len);
}

static void cap_unit(void *ctx, const struct rfb_frame_info *info)
{
	struct capture *c = ctx;

	c->units++;
	c->updates += info->type == RFB_FRAME_FB_UPDATE;
	c->last_w = info->width;
	c->last_h = info->height;
}

static struct recorder_leg *new_leg(struct capture *c)
{
	struct recorder_leg_callbacks cb = { cap_send, cap_bytes, cap_unit, c };

	memset(c, 0, sizeof *c);
	return recorder_leg_new(&cb);
}

static void expect_update_request(const uint8_t *p, int incremental, unsigned w, unsigned h)
{
	assert_int_equal(p[0], 3);
	assert_int_equal(p[1], incremental);
	assert_int_equal((p[2] << 8) | p[3], 0);
	assert_int_equal((p[4] << 8) | p[5], 0);
	assert_int_equal((p[6] << 8) | p[7], w);
	assert_int_equal((p[8] << 8) | p[9], h);
}

static void test_handshake_is_pipelined(void **state)
{
	struct capture c;
	struct recorder_leg *leg = new_leg(&c);

	(void)state;
	assert_int_equal(c.sent.len, 14);
	assert_memory_equal(c.sent.p, "RFB 003.008\n\x01\x01", 14);
	recorder_leg_free(leg);
	bytes_free(&c.sent);
}

static void test_setup_after_server_init(void **state)
{
	static const uint8_t pixel_format[20] = { 0, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255,
	                                          16, 8, 0, 0, 0, 0 };
	static const int32_t encodings[] = { 16, 1, 0, -223, -239, -224 };
	struct capture c;
	struct recorder_leg *leg = new_leg(&c);
	struct bytes b = { 0 };
	uint32_t w, h;

	(void)state;
	put_rfb_handshake(&b, 800, 600, "desk");
	/* Split in two: nothing is sent until ServerInit is complete. */
	assert_int_equal(recorder_leg_feed(leg, b.p, b.len - 3), 0);
	assert_int_equal(c.sent.len, 14);
	assert_int_equal(recorder_leg_feed(leg, b.p + b.len - 3, 3), 0);
	assert_int_equal(c.units, 1);
	assert_int_equal(c.passed.len, b.len);
	assert_memory_equal(c.passed.p, b.p, b.len);
	assert_int_equal(c.sent.len, 14 + 20 + 4 + 6 * 4 + 10);
	assert_memory_equal(c.sent.p + 14, pixel_format, sizeof pixel_format);
	const uint8_t *enc = c.sent.p + 34;
	assert_int_equal(enc[0], 2);
	assert_int_equal((enc[2] << 8) | enc[3], 6);
	for (int i = 0; i < 6; i++) {
		const uint8_t *e = enc + 4 + 4 * i;
		int32_t v = (int32_t)((uint32_t)e[0] << 24 | (uint32_t)e[1] << 16 | (uint32_t)e[2] << 8 | e[3]);
		assert_int_equal(v, encodings[i]);
	}
	expect_update_request(c.sent.p + 62, 0, 800, 600);
	recorder_leg_size(leg, &w, &h);
	assert_int_equal(w, 800);
	assert_int_equal(h, 600);
	recorder_leg_free(leg);
	bytes_free(&b);
	bytes_free(&c.sent);
	bytes_free(&c.passed);
}

static void test_incremental_request_per_update(void **state)
{
	struct capture c;
	struct recorder_leg *leg = new_leg(&c);
	struct bytes b = { 0 };
	size_t before;

	(void)state;
	put_rfb_handshake(&b, 64, 48, "d");
	assert_int_equal(recorder_leg_feed(leg, b.p, b.len), 0);
	bytes_free(&b);
	/* An update with a Raw rectangle, then one that resizes the desktop. */
	put_rfb_update(&b, 1);
	put_rfb_rect(&b, 0, 0, 2, 2, 0);
	for (int i = 0; i < 16; i++)
		put_u8(&b, (unsigned)i);
	put_rfb_update(&b, 1);
	put_rfb_rect(&b, 0, 0, 100, 50, -223);
	before = c.sent.len;
	for (size_t i = 0; i < b.len; i++) /* byte by byte */
		assert_int_equal(recorder_leg_feed(leg, b.p + i, 1), 0);
	assert_int_equal(c.updates, 2);
	assert_int_equal(recorder_leg_updates(leg), 2);
	assert_int_equal(c.sent.len, before + 20);
	expect_update_request(c.sent.p + before, 1, 64, 48);
	expect_update_request(c.sent.p + before + 10, 1, 100, 50); /* the new size */
	/* A bell is recorded but asks for nothing. */
	put_u8(&b, 2);
	assert_int_equal(recorder_leg_feed(leg, b.p + b.len - 1, 1), 0);
	assert_int_equal(c.sent.len, before + 20);
	recorder_leg_free(leg);
	bytes_free(&b);
	bytes_free(&c.sent);
	bytes_free(&c.passed);
}

static void test_violation_is_final(void **state)
{
	struct capture c;
	struct recorder_leg *leg = new_leg(&c);
	struct bytes b = { 0 };
	size_t sent;

	(void)state;
	put_rfb_handshake(&b, 64, 48, "d");
	put_u8(&b, 99); /* no such server message */
	assert_int_equal(recorder_leg_feed(leg, b.p, b.len), -1);
	assert_non_null(recorder_leg_error(leg));
	sent = c.sent.len;
	assert_int_equal(recorder_leg_feed(leg, (const uint8_t *)"\x02", 1), -1);
	assert_int_equal(c.sent.len, sent);
	recorder_leg_free(leg);
	bytes_free(&b);
	bytes_free(&c.sent);
	bytes_free(&c.passed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_is_pipelined),
		cmocka_unit_test(test_setup_after_server_init),
		cmocka_unit_test(test_incremental_request_per_update),
		cmocka_unit_test(test_violation_is_final),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
