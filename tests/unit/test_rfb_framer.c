/*
 * rfb_framer.h: the 3.8 handshake as one unit, every server message and
 * encoding framed byte-exact with the right boundaries and infos, the same
 * result for any split, violations (handshake, message types, encodings,
 * rect bounds, limits) failing closed with nothing passed past the
 * offending header, and a fixed footprint while streaming a huge update.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concierge_limits.h"
#include "support.h"
#include "rfb_framer.h"

static void put_fill(struct bytes *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		put_u8(b, (seed + i * 7) & 0xff);
}

/* ---- stream builders ------------------------------------------------------ */

static void put_raw(struct bytes *b, unsigned x, unsigned y, unsigned w, unsigned h)
{
	put_rfb_rect(b, x, y, w, h, 0);
	put_fill(b, (size_t)w * h * 4, x + y);
}

static void put_zrle(struct bytes *b, unsigned x, unsigned y, unsigned w, unsigned h, uint32_t len)
{
	put_rfb_rect(b, x, y, w, h, 16);
	put_u32(b, len);
	put_fill(b, len, 0x78); /* not real zlib: the framer never inflates */
}

static void put_cut_text(struct bytes *b, const char *text)
{
	put_u8(b, 3);
	put_u8(b, 0);
	put_u16(b, 0);
	put_u32(b, (uint32_t)strlen(text));
	put(b, text, strlen(text));
}

/* ---- a recording sink ------------------------------------------------------ */

#define MAX_UNITS 64

struct sink {
	struct bytes out;
	size_t pieces;
	uint64_t since_end; /* bytes passed since the last boundary */
	size_t n;
	struct rfb_frame_info info[MAX_UNITS];
};

static void sink_bytes(void *ctx, const uint8_t *data, size_t len)
{
	struct sink *s = ctx;

	assert_true(len > 0);
	put(&s->out, data, len);
	s->pieces++;
	s->since_end += len;
}

static void sink_end(void *ctx, const struct rfb_frame_info *info)
{
	struct sink *s = ctx;

	assert_true(s->n < MAX_UNITS);
	/* on_bytes pieces never straddle a boundary: they add up to the unit. */
	assert_int_equal(s->since_end, info->length);
	assert_int_equal(info->offset + info->length, s->out.len);
	s->info[s->n++] = *info;
	s->since_end = 0;
}

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * Feeds `in` in chunks: max_chunk 0 = whole, 1 = byte by byte, else random
 * 1..max_chunk.  Returns the first -1 or 0; checks -1 is sticky and silent.
 */
static int run_split(const struct bytes *in, size_t max_chunk, uint64_t seed, struct sink *s,
                     char *err, size_t errlen)
{
	struct rfb_framer_callbacks cb = { sink_bytes, sink_end, s };
	struct rfb_framer *f = rfb_framer_new(&cb);
	uint64_t rs = seed | 1;
	size_t off = 0;
	int rc = 0;

	memset(s, 0, sizeof *s);
	assert_null(rfb_framer_error(f));
	while (off < in->len) {
		size_t n = max_chunk == 0 ? in->len - off : 1 + rng_next(&rs) % max_chunk;

		if (n > in->len - off)
			n = in->len - off;
		rc = rfb_framer_feed(f, in->p + off, n);
		off += n;
		if (rc < 0)
			break;
		assert_null(rfb_framer_error(f));
	}
	assert_int_equal(rfb_framer_offset(f), s->out.len);
	if (rc < 0) {
		size_t before = s->out.len, units = s->n;
		uint8_t z = 0;

		assert_non_null(rfb_framer_error(f));
		snprintf(err, errlen, "%s", rfb_framer_error(f));
		assert_int_equal(rfb_framer_feed(f, &z, 1), -1);
		assert_int_equal(rfb_framer_feed(f, in->p, in->len), -1);
		assert_int_equal(s->out.len, before);
		assert_int_equal(s->n, units);
	} else if (err != NULL) {
		err[0] = '\0';
	}
	rfb_framer_free(f);
	return rc;
}

static void sink_free(struct sink *s)
{
	free(s->out.p);
	memset(s, 0, sizeof *s);
}

/* ---- the demo session ------------------------------------------------------ */

struct session {
	struct bytes b;
	size_t n;
	size_t ends[MAX_UNITS]; /* expected stream offset after each unit */
};

static void mark(struct session *s)
{
	s->ends[s->n++] = s->b.len;
}

static void build_session(struct session *s)
{
	struct bytes *b = &s->b;

	memset(s, 0, sizeof *s);
	put_rfb_handshake(b, 640, 480, "demo desktop");
	mark(s);
	/* 0: Raw, CopyRect, ZRLE, a 0-wide Raw */
	put_rfb_update(b, 4);
	put_raw(b, 0, 0, 2, 2);
	put_rfb_rect(b, 10, 10, 20, 20, 1);
	put_u16(b, 100);
	put_u16(b, 100);
	put_zrle(b, 600, 440, 40, 40, 300);
	put_raw(b, 640, 475, 0, 5);
	mark(s);
	/* 1: DesktopSize then a Raw rect only inside the new size */
	put_rfb_update(b, 2);
	put_rfb_rect(b, 0, 0, 800, 600, -223);
	put_raw(b, 790, 590, 10, 10);
	mark(s);
	/* 2: Cursor 9x3 with a mask of 2 bytes per row */
	put_rfb_update(b, 1);
	put_rfb_rect(b, 4, 1, 9, 3, -239);
	put_fill(b, 9 * 3 * 4 + 2 * 3, 5);
	mark(s);
	/* 3: LastRect after one rect of a declared 65535 */
	put_rfb_update(b, 0xffff);
	put_zrle(b, 0, 0, 800, 600, 17);
	put_rfb_rect(b, 0, 0, 0, 0, -224);
	mark(s);
	/* 4: Bell */
	put_u8(b, 2);
	mark(s);
	/* 5: ServerCutText */
	put_cut_text(b, "clipboard text");
	mark(s);
	/* 6: SetColourMapEntries, 2 entries */
	put_u8(b, 1);
	put_u8(b, 0);
	put_u16(b, 7);
	put_u16(b, 2);
	put_fill(b, 12, 9);
	mark(s);
	/* 7: an empty update, 8: an empty cut text */
	put_rfb_update(b, 0);
	mark(s);
	put_cut_text(b, "");
	mark(s);
}

static void check_session_result(const struct session *ses, const struct sink *s)
{
	const struct rfb_frame_info *i = s->info;

	assert_int_equal(s->out.len, ses->b.len);
	assert_memory_equal(s->out.p, ses->b.p, ses->b.len);
	assert_int_equal(s->n, ses->n);
	for (size_t k = 0; k < s->n; k++)
		assert_int_equal(i[k].offset + i[k].length, ses->ends[k]);

	assert_int_equal(i[0].type, RFB_FRAME_HANDSHAKE);
	assert_int_equal(i[0].offset, 0);
	assert_int_equal(i[0].width, 640);
	assert_int_equal(i[0].height, 480);
	assert_int_equal(i[0].text_len, strlen("demo desktop"));

	assert_int_equal(i[1].type, RFB_FRAME_FB_UPDATE);
	assert_int_equal(i[1].declared_rects, 4);
	assert_int_equal(i[1].rects, 4);
	assert_false(i[1].size_changed);
	assert_false(i[1].last_rect);
	assert_int_equal(i[1].width, 640);

	assert_int_equal(i[2].type, RFB_FRAME_FB_UPDATE);
	assert_int_equal(i[2].rects, 2);
	assert_true(i[2].size_changed);
	assert_int_equal(i[2].width, 800);
	assert_int_equal(i[2].height, 600);

	assert_int_equal(i[3].type, RFB_FRAME_FB_UPDATE);
	assert_int_equal(i[3].rects, 1);
	assert_int_equal(i[3].length, 4 + 12 + 9 * 3 * 4 + 6);
	assert_int_equal(i[3].width, 800);

	assert_int_equal(i[4].type, RFB_FRAME_FB_UPDATE);
	assert_int_equal(i[4].declared_rects, 0xffff);
	assert_int_equal(i[4].rects, 2);
	assert_true(i[4].last_rect);

	assert_int_equal(i[5].type, RFB_FRAME_BELL);
	assert_int_equal(i[5].length, 1);
	assert_int_equal(i[6].type, RFB_FRAME_CUT_TEXT);
	assert_int_equal(i[6].text_len, strlen("clipboard text"));
	assert_int_equal(i[7].type, RFB_FRAME_COLOUR_MAP);
	assert_int_equal(i[7].text_len, 2);
	assert_int_equal(i[7].length, 6 + 12);
	assert_int_equal(i[8].type, RFB_FRAME_FB_UPDATE);
	assert_int_equal(i[8].rects, 0);
	assert_int_equal(i[8].length, 4);
	assert_int_equal(i[9].type, RFB_FRAME_CUT_TEXT);
	assert_int_equal(i[9].length, 8);
}

/* ---- tests ----------------------------------------------------------------- */

static void test_session_whole(void **state)
{
	struct session ses;
	struct sink s;

	(void)state;
	char err[256];

	build_session(&ses);
	if (run_split(&ses.b, 0, 0, &s, err, sizeof err) != 0)
		fail_msg("%s", err);
	check_session_result(&ses, &s);
	/* Whole input: one piece per unit at most. */
	assert_true(s.pieces <= ses.n);
	sink_free(&s);
	free(ses.b.p);
}

static void test_session_split_invariance(void **state)
{
	static const size_t chunks[] = { 1, 2, 3, 5, 12, 13, 64, 1000 };
	struct session ses;
	struct sink s;

	(void)state;
	build_session(&ses);
	assert_int_equal(run_split(&ses.b, 1, 0, &s, NULL, 0), 0);
	check_session_result(&ses, &s);
	sink_free(&s);
	for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
		for (uint64_t seed = 1; seed <= 20; seed++) {
			assert_int_equal(run_split(&ses.b, chunks[c], seed * 7919 + c, &s, NULL, 0), 0);
			check_session_result(&ses, &s);
			sink_free(&s);
		}
	}
	free(ses.b.p);
}

static void test_partial_unit_not_ended(void **state)
{
	struct session ses;
	struct sink s;
	struct bytes cut = { 0 };

	(void)state;
	build_session(&ses);
	/* Everything but the last byte of the first update. */
	put(&cut, ses.b.p, ses.ends[1] - 1);
	assert_int_equal(run_split(&cut, 7, 3, &s, NULL, 0), 0);
	assert_int_equal(s.n, 1);
	/*
	 * The update's pixels were passed already; its last rect is an empty
	 * Raw one whose 12-byte header is held until complete.
	 */
	assert_int_equal(s.out.len, cut.len - 11);
	assert_memory_equal(s.out.p, cut.p, s.out.len);
	sink_free(&s);
	free(cut.p);
	free(ses.b.p);
}

/*
 * `bad` must fail; the bytes passed must be exactly the first `passed`
 * bytes, the same for every split, and the error must mention `what`.
 */
static void expect_violation(const struct bytes *bad, size_t passed, size_t units, const char *what)
{
	static const size_t chunks[] = { 0, 1, 3, 17 };
	char err[256];
	struct sink s;

	for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
		assert_int_equal(run_split(bad, chunks[c], 99 + c, &s, err, sizeof err), -1);
		if (strstr(err, what) == NULL)
			fail_msg("error \"%s\" does not mention \"%s\"", err, what);
		assert_int_equal(s.out.len, passed);
		assert_memory_equal(s.out.p, bad->p, passed);
		assert_int_equal(s.n, units);
		sink_free(&s);
	}
}

static void test_handshake_violations(void **state)
{
	struct bytes b = { 0 };

	(void)state;
	put(&b, "RFB 003.003\n", 12);
	expect_violation(&b, 0, 0, "ProtocolVersion");
	b.len = 0;
	put(&b, "RFB 003.008\n", 12);
	put_u8(&b, 0);
	put_u32(&b, 3);
	put(&b, "no!", 3);
	expect_violation(&b, 12, 0, "no security types");
	b.len = 12;
	put_u8(&b, 1);
	put_u8(&b, 2); /* VNC authentication only */
	expect_violation(&b, 12, 0, "None");
	b.len = 12;
	put_u8(&b, 1);
	put_u8(&b, 1);
	put_u32(&b, 1); /* SecurityResult failed */
	expect_violation(&b, 14, 0, "SecurityResult");
	b.len = 0;
	put_rfb_handshake(&b, 0, 0, "x");
	expect_violation(&b, 19, 0, "ServerInit framebuffer size 0x0");
	b.len = 0;
	put_rfb_handshake(&b, 16385, 10, "x");
	expect_violation(&b, 19, 0, "ServerInit framebuffer size");
	b.len = 0;
	put_rfb_handshake(&b, 10, 10, "");
	b.len -= 4;
	put_u32(&b, RFB_FRAMER_MAX_NAME + 1);
	expect_violation(&b, 19, 0, "name");
	free(b.p);
}

static void test_message_violations(void **state)
{
	struct bytes b = { 0 };
	size_t hs;

	(void)state;
	put_rfb_handshake(&b, 640, 480, "d");
	hs = b.len;

	put_u8(&b, 9);
	expect_violation(&b, hs, 1, "type 9");
	b.len = hs;
	put_u8(&b, 4); /* ResizeFrameBuffer and friends: not ours */
	expect_violation(&b, hs, 1, "type 4");

	b.len = hs;
	put_rfb_update(&b, 2);
	put_raw(&b, 0, 0, 1, 1);
	put_rfb_rect(&b, 0, 0, 1, 1, 7); /* Tight: not requested */
	expect_violation(&b, hs + 4 + 12 + 4, 1, "encoding 7");
	b.len = hs;
	put_rfb_update(&b, 1);
	put_rfb_rect(&b, 0, 0, 1, 1, -314); /* an unrequested pseudo-encoding */
	expect_violation(&b, hs + 4, 1, "encoding -314");

	b.len = hs;
	put_rfb_update(&b, 1);
	put_raw(&b, 600, 0, 41, 1);
	expect_violation(&b, hs + 4, 1, "outside the 640x480");
	b.len = hs;
	put_rfb_update(&b, 1);
	put_zrle(&b, 0, 470, 10, 11, 4);
	expect_violation(&b, hs + 4, 1, "outside");
	b.len = hs;
	put_rfb_update(&b, 1);
	put_rfb_rect(&b, 0, 0, 10, 10, 1);
	put_u16(&b, 631);
	put_u16(&b, 0);
	expect_violation(&b, hs + 4 + 12, 1, "CopyRect source");
	b.len = hs;
	put_rfb_update(&b, 1);
	put_rfb_rect(&b, 65535, 65535, 65535, 65535, 0);
	expect_violation(&b, hs + 4, 1, "outside");

	b.len = hs;
	put_rfb_update(&b, 1);
	put_rfb_rect(&b, 0, 0, 10, 10, 16);
	put_u32(&b, RFB_FRAMER_MAX_MESSAGE);
	expect_violation(&b, hs + 4 + 12, 1, "exceeds");
	b.len = hs;
	put_rfb_update(&b, 1);
	put_rfb_rect(&b, 0, 0, 10, 10, 16);
	put_u32(&b, 0xffffffffu);
	expect_violation(&b, hs + 4 + 12, 1, "exceeds");

	b.len = hs;
	put_u8(&b, 3);
	put_u8(&b, 0);
	put_u16(&b, 0);
	put_u32(&b, RFB_MAX_CUT_TEXT + 1);
	expect_violation(&b, hs, 1, "ServerCutText");
	b.len = hs;
	put_u8(&b, 3);
	put_u8(&b, 0);
	put_u16(&b, 0);
	put_u32(&b, 0xfffffff0u); /* extended clipboard's negative length */
	expect_violation(&b, hs, 1, "ServerCutText");

	b.len = hs;
	put_rfb_update(&b, 1);
	put_rfb_rect(&b, 0, 0, 0, 0, -223);
	expect_violation(&b, hs + 4, 1, "DesktopSize framebuffer size 0x0");
	b.len = hs;
	put_rfb_update(&b, 1);
	put_rfb_rect(&b, 0, 0, 20000, 10, -223);
	expect_violation(&b, hs + 4, 1, "DesktopSize");
	b.len = hs;
	put_rfb_update(&b, 1);
	put_rfb_rect(&b, 0, 0, 16385, 1, -239);
	expect_violation(&b, hs + 4, 1, "Cursor");
	free(b.p);
}

/* A legal resize to the maximum makes a full-screen Raw rect 1 GiB: refused. */
static void test_update_limit(void **state)
{
	struct bytes b = { 0 };
	size_t ok_len;

	(void)state;
	put_rfb_handshake(&b, 640, 480, "d");
	put_rfb_update(&b, 1);
	put_rfb_rect(&b, 0, 0, 16384, 16384, -223);
	ok_len = b.len;
	put_rfb_update(&b, 1);
	put_rfb_rect(&b, 0, 0, 16384, 16384, 0);
	expect_violation(&b, ok_len + 4, 2, "exceeds");

	/* ZRLE rects adding up past the limit. */
	b.len = 0;
	put_rfb_handshake(&b, 64, 64, "d");
	put_rfb_update(&b, 3);
	put_zrle(&b, 0, 0, 1, 1, RFB_FRAMER_MAX_MESSAGE / 2 - 16);
	ok_len = b.len;
	put_rfb_rect(&b, 0, 0, 1, 1, 16);
	put_u32(&b, RFB_FRAMER_MAX_MESSAGE / 2);
	expect_violation(&b, ok_len + 12, 1, "exceeds");

	/* Exactly at the limit passes; one byte more does not. */
	b.len = 0;
	put_rfb_handshake(&b, 64, 64, "d");
	put_rfb_update(&b, 1);
	put_zrle(&b, 0, 0, 1, 1, RFB_FRAMER_MAX_MESSAGE - 20);
	{
		struct sink s;
		char err[256];

		assert_int_equal(run_split(&b, 1 << 20, 5, &s, err, sizeof err), 0);
		assert_int_equal(s.n, 2);
		assert_int_equal(s.info[1].length, RFB_FRAMER_MAX_MESSAGE);
		sink_free(&s);
		b.len -= RFB_FRAMER_MAX_MESSAGE - 20 + 4;
		put_u32(&b, RFB_FRAMER_MAX_MESSAGE - 19);
		assert_int_equal(run_split(&b, 0, 0, &s, err, sizeof err), -1);
		assert_non_null(strstr(err, "exceeds"));
		sink_free(&s);
	}
	free(b.p);
}

/* ---- memory: a 60 MiB update streamed through a fixed footprint ----------- */

struct counter {
	uint64_t bytes, units;
};

static void count_bytes(void *ctx, const uint8_t *data, size_t len)
{
	struct counter *c = ctx;

	(void)data;
	c->bytes += len;
}

static void count_end(void *ctx, const struct rfb_frame_info *info)
{
	struct counter *c = ctx;

	(void)info;
	c->units++;
}

static size_t heap_in_use(void) { return mallinfo2().uordblks; }

static void test_memory_bounded(void **state)
{
	static uint8_t zeros[65536];
	struct counter c = { 0, 0 };
	struct rfb_framer_callbacks cb = { count_bytes, count_end, &c };
	struct rfb_framer *f;
	struct bytes hs = { 0 }, hdr = { 0 }, tail = { 0 };
	const uint32_t zlen = 60u * 1024 * 1024;
	size_t base, total = 0;

	(void)state;
	assert_true(rfb_framer_footprint() <= 1024);
	put_rfb_handshake(&hs, 1920, 1080, "big");
	put_rfb_update(&hdr, 2);
	put_rfb_rect(&hdr, 0, 0, 1920, 1080, 16);
	put_u32(&hdr, zlen);
	put_raw(&tail, 0, 0, 3, 3);

	base = heap_in_use();
	f = rfb_framer_new(&cb);
	assert_true(heap_in_use() - base <= rfb_framer_footprint() + 64);
	base = heap_in_use();
	assert_int_equal(rfb_framer_feed(f, hs.p, hs.len), 0);
	for (size_t i = 0; i < hdr.len; i++) /* the header one byte at a time */
		assert_int_equal(rfb_framer_feed(f, hdr.p + i, 1), 0);
	while (total < zlen) {
		size_t n = zlen - total < sizeof zeros ? zlen - total : sizeof zeros;

		assert_int_equal(rfb_framer_feed(f, zeros, n), 0);
		total += n;
		assert_int_equal(heap_in_use(), base);
	}
	assert_int_equal(c.units, 1); /* the update waits for its second rect */
	assert_int_equal(rfb_framer_feed(f, tail.p, tail.len), 0);
	assert_int_equal(c.units, 2);
	assert_int_equal(heap_in_use(), base);
	assert_int_equal(c.bytes, hs.len + hdr.len + zlen + 12 + 36);
	assert_int_equal(rfb_framer_offset(f), c.bytes);
	rfb_framer_free(f);
	free(hs.p);
	free(hdr.p);
	free(tail.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session_whole),
		cmocka_unit_test(test_session_split_invariance),
		cmocka_unit_test(test_partial_unit_not_ended),
		cmocka_unit_test(test_handshake_violations),
		cmocka_unit_test(test_message_violations),
		cmocka_unit_test(test_update_limit),
		cmocka_unit_test(test_memory_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
