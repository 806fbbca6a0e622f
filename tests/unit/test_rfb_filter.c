/*
 * rfb_filter.h: handshakes (3.3, 3.7, 3.8), the forced shared flag, refused
 * versions and security types, every client message passing byte-exact,
 * view-only dropping and counting input, rights toggled mid-stream,
 * refused message types and lengths, on_input reports, and the same output
 * for any split of a recorded client stream.
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
#include "rfb_filter.h"

static void put_str(struct bytes *b, const char *s) { put(b, s, strlen(s)); }

/* ---- client messages (RFC 6143, 7.5) ------------------------------------ */

static void msg_set_pixel_format(struct bytes *b)
{
	put_u8(b, 0);
	put_u8(b, 0); put_u8(b, 0); put_u8(b, 0);   /* padding */
	put_u8(b, 32); put_u8(b, 24); put_u8(b, 0); put_u8(b, 1); /* bpp depth be truecolour */
	put_u16(b, 255); put_u16(b, 255); put_u16(b, 255);
	put_u8(b, 16); put_u8(b, 8); put_u8(b, 0);
	put_u8(b, 0); put_u8(b, 0); put_u8(b, 0);   /* padding */
}

static void msg_set_encodings(struct bytes *b, unsigned n)
{
	put_u8(b, 2);
	put_u8(b, 0);
	put_u16(b, n);
	for (unsigned i = 0; i < n; i++)
		put_u32(b, i % 3 == 0 ? (uint32_t)-239 : i); /* cursor pseudo-encoding, raw... */
}

static void msg_fb_update_request(struct bytes *b, unsigned incremental, unsigned w, unsigned h)
{
	put_u8(b, 3);
	put_u8(b, incremental);
	put_u16(b, 0);
	put_u16(b, 0);
	put_u16(b, w);
	put_u16(b, h);
}

static void msg_key(struct bytes *b, unsigned down, uint32_t keysym)
{
	put_u8(b, 4);
	put_u8(b, down);
	put_u16(b, 0);
	put_u32(b, keysym);
}

static void msg_pointer(struct bytes *b, unsigned mask, unsigned x, unsigned y)
{
	put_u8(b, 5);
	put_u8(b, mask);
	put_u16(b, x);
	put_u16(b, y);
}

/* ClientCutText announcing `len` bytes; `text` may be NULL for a filler. */
static void msg_cut_text(struct bytes *b, uint32_t len, const char *text)
{
	put_u8(b, 6);
	put_u8(b, 0); put_u8(b, 0); put_u8(b, 0);
	put_u32(b, len);
	for (uint32_t i = 0; i < len; i++)
		put_u8(b, text != NULL ? (unsigned char)text[i] : 'a' + i % 26);
}

/* The client's side of a handshake: version, security choice, ClientInit. */
static void handshake(struct bytes *b, const char *version, unsigned shared)
{
	put_str(b, version);
	if (strcmp(version, "RFB 003.003\n") != 0)
		put_u8(b, 1);
	put_u8(b, shared);
}

/* What the filter should emit for handshake(version, any). */
static void handshake_out(struct bytes *b, const char *version) { handshake(b, version, 1); }

/* ---- capturing callbacks ------------------------------------------------ */

struct input_rec {
	enum rfb_input_kind kind;
	int forwarded;
	size_t off, len;     /* into capture.msgs */
	size_t emitted;      /* capture.out.len when reported */
};

struct capture {
	struct bytes out;
	struct bytes msgs;
	struct input_rec *inputs;
	size_t n_inputs, cap_inputs;
	size_t emits;
	int zero_emits;
	struct rfb_filter *filter;   /* for toggling rights from on_input */
	int deny_after;              /* >0: deny input after this many reports */
};

static void cap_emit(void *ctx, const uint8_t *data, size_t len)
{
	struct capture *c = ctx;

	if (len == 0)
		c->zero_emits++;
	c->emits++;
	put(&c->out, data, len);
}

static void cap_input(void *ctx, enum rfb_input_kind kind, int forwarded, const uint8_t *msg,
                      size_t len)
{
	struct capture *c = ctx;
	struct input_rec *r;

	if (c->n_inputs == c->cap_inputs) {
		c->cap_inputs = c->cap_inputs ? c->cap_inputs * 2 : 16;
		c->inputs = realloc(c->inputs, c->cap_inputs * sizeof *c->inputs);
		if (c->inputs == NULL)
			fail_msg("out of memory");
	}
	r = &c->inputs[c->n_inputs++];
	r->kind = kind;
	r->forwarded = forwarded;
	r->off = c->msgs.len;
	r->len = len;
	r->emitted = c->out.len;
	put(&c->msgs, msg, len);
	if (c->deny_after > 0 && c->n_inputs == (size_t)c->deny_after)
		rfb_filter_set_allow_input(c->filter, 0);
}

static void capture_free(struct capture *c)
{
	bytes_free(&c->out);
	bytes_free(&c->msgs);
	free(c->inputs);
	memset(c, 0, sizeof *c);
}

static struct rfb_filter *new_filter(int allow_input, struct capture *c)
{
	struct rfb_filter_callbacks cb = { cap_emit, cap_input, c };
	struct rfb_filter *f;

	memset(c, 0, sizeof *c);
	f = rfb_filter_new(allow_input, &cb);
	assert_non_null(f);
	c->filter = f;
	return f;
}

static void assert_out(const struct capture *c, const struct bytes *want)
{
	if (c->out.len != want->len || (want->len > 0 && memcmp(c->out.p, want->p, want->len) != 0))
		fail_msg("output differs: got %zu bytes, want %zu", c->out.len, want->len);
	assert_int_equal(c->zero_emits, 0);
}

/* A 3.8 filter past its handshake; *expect holds the handshake's output. */
static struct rfb_filter *filter_after_handshake(int allow_input, struct capture *c,
                                                 struct bytes *expect)
{
	struct rfb_filter *f = new_filter(allow_input, c);
	struct bytes hs = { 0 };

	handshake(&hs, "RFB 003.008\n", 0);
	assert_int_equal(rfb_filter_feed(f, hs.p, hs.len), 0);
	handshake_out(expect, "RFB 003.008\n");
	assert_out(c, expect);
	bytes_free(&hs);
	return f;
}

/* ---- handshakes --------------------------------------------------------- */

static void check_handshake(const char *version)
{
	struct capture c;
	struct rfb_filter *f = new_filter(1, &c);
	struct bytes in = { 0 }, want = { 0 };
	struct rfb_filter_stats st;

	handshake(&in, version, 1);
	assert_int_equal(rfb_filter_feed(f, in.p, in.len), 0);
	handshake_out(&want, version);
	assert_out(&c, &want);
	/* A message right after shows the filter is in the message phase. */
	bytes_free(&in);
	msg_fb_update_request(&in, 0, 640, 480);
	assert_int_equal(rfb_filter_feed(f, in.p, in.len), 0);
	put(&want, in.p, in.len);
	assert_out(&c, &want);
	assert_string_equal(rfb_filter_error(f), "");
	rfb_filter_get_stats(f, &st);
	assert_int_equal(st.forwarded_input + st.dropped_key + st.dropped_pointer + st.dropped_cut_text, 0);
	rfb_filter_free(f);
	bytes_free(&in);
	bytes_free(&want);
	capture_free(&c);
}

static void test_handshake_33(void **state)
{
	(void)state;
	check_handshake("RFB 003.003\n");
}

static void test_handshake_37(void **state)
{
	(void)state;
	check_handshake("RFB 003.007\n");
}

static void test_handshake_38(void **state)
{
	(void)state;
	check_handshake("RFB 003.008\n");
}

static void test_handshake_33_has_no_security_byte(void **state)
{
	struct capture c;
	struct rfb_filter *f = new_filter(1, &c);
	/* In 3.3 the byte after the version is ClientInit: 7 becomes 1, then type 7 is refused. */
	static const uint8_t in[] = "RFB 003.003\n\x07\x07";

	(void)state;
	assert_int_equal(rfb_filter_feed(f, in, 14), -1);
	assert_int_equal(c.out.len, 13);
	assert_memory_equal(c.out.p, "RFB 003.003\n\x01", 13);
	assert_string_equal(rfb_filter_error(f), "unsupported client message type 7");
	rfb_filter_free(f);
	capture_free(&c);
}

static void test_shared_flag_forced(void **state)
{
	static const unsigned flags[] = { 0, 1, 2, 0x80, 0xff };
	static const char *const versions[] = { "RFB 003.003\n", "RFB 003.007\n", "RFB 003.008\n" };

	(void)state;
	for (size_t v = 0; v < 3; v++) {
		for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
			struct capture c;
			struct rfb_filter *f = new_filter(0, &c);
			struct bytes in = { 0 }, want = { 0 };

			handshake(&in, versions[v], flags[i]);
			assert_int_equal(rfb_filter_feed(f, in.p, in.len), 0);
			handshake_out(&want, versions[v]);
			assert_out(&c, &want);
			assert_int_equal(c.out.p[c.out.len - 1], 1);
			rfb_filter_free(f);
			bytes_free(&in);
			bytes_free(&want);
			capture_free(&c);
		}
	}
}

static void test_bad_versions(void **state)
{
	static const char *const bad[] = {
		"RFB 003.005\n", "RFB 003.006\n", "RFB 003.004\n", "RFB 004.000\n", "RFB 003.889\n",
		"RFB 003.008\r", "RFB 003.08\n\n", "rfb 003.008\n", "GET / HTTP/1.1\r\n",
		"RFB 003.009\n", "RFB 003.018\n", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x00",
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct capture c;
		struct rfb_filter *f = new_filter(1, &c);
		static const uint8_t more[] = "RFB 003.008\n\x01\x01";

		if (rfb_filter_feed(f, (const uint8_t *)bad[i], 12) != -1)
			fail_msg("version '%.11s' accepted", bad[i]);
		assert_int_equal(c.out.len, 0);
		if (strstr(rfb_filter_error(f), "ProtocolVersion") == NULL)
			fail_msg("error for '%.11s': %s", bad[i], rfb_filter_error(f));
		assert_int_equal(rfb_filter_feed(f, more, 14), -1);
		assert_int_equal(c.out.len, 0);
		rfb_filter_free(f);
		capture_free(&c);
	}
}

static void test_bad_version_message(void **state)
{
	struct capture c;
	struct rfb_filter *f = new_filter(1, &c);

	(void)state;
	assert_int_equal(rfb_filter_feed(f, (const uint8_t *)"RFB 003.889\n", 12), -1);
	assert_string_equal(rfb_filter_error(f),
	                    "client sent ProtocolVersion \"RFB 003.8\"; only \"RFB 003.003\\n\", "
	                    "\"RFB 003.007\\n\" and \"RFB 003.008\\n\" are allowed");
	rfb_filter_free(f);
	/* Refused at the first wrong byte, before the 12 bytes are complete. */
	f = new_filter(1, &c);
	assert_int_equal(rfb_filter_feed(f, (const uint8_t *)"RFB 003.00", 10), 0);
	assert_int_equal(rfb_filter_feed(f, (const uint8_t *)"\x01", 1), -1);
	assert_string_equal(rfb_filter_error(f),
	                    "client sent ProtocolVersion \"RFB 003.00\\x01\"; only \"RFB 003.003\\n\", "
	                    "\"RFB 003.007\\n\" and \"RFB 003.008\\n\" are allowed");
	assert_int_equal(c.out.len, 0);
	rfb_filter_free(f);
	capture_free(&c);
}

static void test_security_type_refused(void **state)
{
	static const unsigned types[] = { 0, 2, 16, 30, 255 };

	(void)state;
	for (size_t v = 0; v < 2; v++) {
		const char *version = v == 0 ? "RFB 003.007\n" : "RFB 003.008\n";

		for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
			struct capture c;
			struct rfb_filter *f = new_filter(1, &c);
			struct bytes in = { 0 };
			char want[128];

			put_str(&in, version);
			put_u8(&in, types[i]);
			put_u8(&in, 1);
			assert_int_equal(rfb_filter_feed(f, in.p, in.len), -1);
			snprintf(want, sizeof want, "client chose security type %u; only None is allowed",
			         types[i]);
			assert_string_equal(rfb_filter_error(f), want);
			assert_int_equal(c.out.len, 12);
			assert_memory_equal(c.out.p, version, 12);
			/* Refuses everything after, and keeps the first reason. */
			assert_int_equal(rfb_filter_feed(f, (const uint8_t *)"\x01\x01", 2), -1);
			assert_int_equal(rfb_filter_feed(f, NULL, 0), -1);
			assert_string_equal(rfb_filter_error(f), want);
			assert_int_equal(c.out.len, 12);
			rfb_filter_free(f);
			bytes_free(&in);
			capture_free(&c);
		}
	}
}

static void test_initial_state(void **state)
{
	struct capture c;
	struct rfb_filter *f = new_filter(1, &c);
	struct rfb_filter_stats st;

	(void)state;
	assert_string_equal(rfb_filter_error(f), "");
	memset(&st, 0xff, sizeof st);
	rfb_filter_get_stats(f, &st);
	assert_true(st.forwarded_input == 0 && st.dropped_key == 0 && st.dropped_pointer == 0 &&
	            st.dropped_cut_text == 0);
	assert_int_equal(rfb_filter_feed(f, NULL, 0), 0);
	assert_int_equal(c.emits, 0);
	rfb_filter_free(f);
	rfb_filter_free(NULL);
	capture_free(&c);
}

/* ---- messages ----------------------------------------------------------- */

typedef void (*build_fn)(struct bytes *b, unsigned arg);

static void build_spf(struct bytes *b, unsigned arg) { (void)arg; msg_set_pixel_format(b); }
static void build_se(struct bytes *b, unsigned arg) { msg_set_encodings(b, arg); }
static void build_fbur(struct bytes *b, unsigned arg) { msg_fb_update_request(b, arg, 1920, 1080); }
static void build_key(struct bytes *b, unsigned arg) { msg_key(b, arg, 0xff0d); }
static void build_pointer(struct bytes *b, unsigned arg) { msg_pointer(b, arg, 65535, 7); }
static void build_cut(struct bytes *b, unsigned arg) { msg_cut_text(b, arg, NULL); }

static void test_each_message_passes_exactly(void **state)
{
	static const struct {
		build_fn build;
		unsigned arg;
		size_t len;
		int input;
	} cases[] = {
		{ build_spf, 0, 20, 0 },
		{ build_se, 0, 4, 0 },
		{ build_se, 3, 16, 0 },
		{ build_se, RFB_MAX_ENCODINGS, 4 + 4 * RFB_MAX_ENCODINGS, 0 },
		{ build_fbur, 0, 10, 0 },
		{ build_fbur, 1, 10, 0 },
		{ build_key, 1, 8, 1 },
		{ build_key, 0, 8, 1 },
		{ build_pointer, 0, 6, 1 },
		{ build_pointer, 0xff, 6, 1 },
		{ build_cut, 0, 8, 1 },
		{ build_cut, 5, 13, 1 },
		{ build_cut, 4096, 8 + 4096, 1 },
		{ build_cut, RFB_MAX_CUT_TEXT, RFB_FILTER_MAX_MESSAGE, 1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		for (int split = 0; split < 2; split++) {
			struct capture c;
			struct bytes want = { 0 }, msg = { 0 };
			struct rfb_filter *f = filter_after_handshake(1, &c, &want);
			struct rfb_filter_stats st;

			cases[i].build(&msg, cases[i].arg);
			assert_int_equal(msg.len, cases[i].len);
			if (split) {
				/* All but the last byte: nothing may be emitted yet. */
				size_t before = c.out.len;

				assert_int_equal(rfb_filter_feed(f, msg.p, msg.len - 1), 0);
				assert_int_equal(c.out.len, before);
				assert_int_equal(c.n_inputs, 0);
				assert_int_equal(rfb_filter_feed(f, msg.p + msg.len - 1, 1), 0);
			} else {
				assert_int_equal(rfb_filter_feed(f, msg.p, msg.len), 0);
			}
			put(&want, msg.p, msg.len);
			assert_out(&c, &want);
			assert_int_equal(c.n_inputs, cases[i].input);
			rfb_filter_get_stats(f, &st);
			assert_int_equal(st.forwarded_input, cases[i].input);
			assert_string_equal(rfb_filter_error(f), "");
			rfb_filter_free(f);
			bytes_free(&want);
			bytes_free(&msg);
			capture_free(&c);
		}
	}
}

/* The whole-message stream used by several tests: every message type. */
static void all_messages(struct bytes *b)
{
	msg_set_pixel_format(b);
	msg_set_encodings(b, 5);
	msg_fb_update_request(b, 0, 800, 600);
	msg_key(b, 1, 'a');
	msg_key(b, 0, 'a');
	msg_pointer(b, 1, 10, 20);
	msg_pointer(b, 0, 11, 21);
	msg_pointer(b, 0, 12, 22);
	msg_cut_text(b, 11, "hello world");
	msg_fb_update_request(b, 1, 800, 600);
}

static void test_view_only_drops_input(void **state)
{
	struct capture c;
	struct bytes want = { 0 }, in = { 0 };
	struct rfb_filter *f = filter_after_handshake(0, &c, &want);
	struct rfb_filter_stats st;

	(void)state;
	all_messages(&in);
	assert_int_equal(rfb_filter_feed(f, in.p, in.len), 0);
	msg_set_pixel_format(&want);
	msg_set_encodings(&want, 5);
	msg_fb_update_request(&want, 0, 800, 600);
	msg_fb_update_request(&want, 1, 800, 600);
	assert_out(&c, &want);
	rfb_filter_get_stats(f, &st);
	assert_int_equal(st.forwarded_input, 0);
	assert_int_equal(st.dropped_key, 2);
	assert_int_equal(st.dropped_pointer, 3);
	assert_int_equal(st.dropped_cut_text, 1);
	assert_int_equal(c.n_inputs, 6);
	for (size_t i = 0; i < c.n_inputs; i++)
		assert_int_equal(c.inputs[i].forwarded, 0);
	rfb_filter_free(f);
	bytes_free(&want);
	bytes_free(&in);
	capture_free(&c);
}

static void test_toggle_allow_input(void **state)
{
	struct capture c;
	struct bytes want = { 0 }, m = { 0 };
	struct rfb_filter *f = filter_after_handshake(1, &c, &want);
	struct rfb_filter_stats st;

	(void)state;
	msg_key(&m, 1, 'x');
	assert_int_equal(rfb_filter_feed(f, m.p, m.len), 0);
	put(&want, m.p, m.len);
	assert_out(&c, &want);

	rfb_filter_set_allow_input(f, 0);
	assert_int_equal(rfb_filter_feed(f, m.p, m.len), 0);
	bytes_free(&m);
	msg_pointer(&m, 1, 5, 5);
	assert_int_equal(rfb_filter_feed(f, m.p, m.len), 0);
	assert_out(&c, &want);

	/* Half a message, then control granted: the rights at completion decide. */
	assert_int_equal(rfb_filter_feed(f, m.p, 3), 0);
	rfb_filter_set_allow_input(f, 1);
	assert_int_equal(rfb_filter_feed(f, m.p + 3, m.len - 3), 0);
	put(&want, m.p, m.len);
	assert_out(&c, &want);

	/* ...and revoked mid-message. */
	bytes_free(&m);
	msg_cut_text(&m, 3, "abc");
	assert_int_equal(rfb_filter_feed(f, m.p, 9), 0);
	rfb_filter_set_allow_input(f, 0);
	assert_int_equal(rfb_filter_feed(f, m.p + 9, m.len - 9), 0);
	assert_out(&c, &want);

	/* FramebufferUpdateRequest passes either way. */
	bytes_free(&m);
	msg_fb_update_request(&m, 1, 10, 10);
	assert_int_equal(rfb_filter_feed(f, m.p, m.len), 0);
	put(&want, m.p, m.len);
	assert_out(&c, &want);

	rfb_filter_get_stats(f, &st);
	assert_int_equal(st.forwarded_input, 2);
	assert_int_equal(st.dropped_key, 1);
	assert_int_equal(st.dropped_pointer, 1);
	assert_int_equal(st.dropped_cut_text, 1);
	assert_int_equal(c.n_inputs, 5);
	assert_int_equal(c.inputs[0].forwarded, 1);
	assert_int_equal(c.inputs[1].forwarded, 0);
	assert_int_equal(c.inputs[2].forwarded, 0);
	assert_int_equal(c.inputs[3].forwarded, 1);
	assert_int_equal(c.inputs[4].forwarded, 0);
	rfb_filter_free(f);
	bytes_free(&want);
	bytes_free(&m);
	capture_free(&c);
}

static void test_toggle_from_callback(void **state)
{
	struct capture c;
	struct bytes want = { 0 }, in = { 0 };
	struct rfb_filter *f = filter_after_handshake(1, &c, &want);

	(void)state;
	c.deny_after = 1;    /* on_input revokes control after the first event */
	msg_key(&in, 1, 'q');
	msg_key(&in, 0, 'q');
	msg_fb_update_request(&in, 1, 1, 1);
	assert_int_equal(rfb_filter_feed(f, in.p, in.len), 0);
	put(&want, in.p, 8);
	put(&want, in.p + 16, 10);
	assert_out(&c, &want);
	assert_int_equal(c.n_inputs, 2);
	assert_int_equal(c.inputs[0].forwarded, 1);
	assert_int_equal(c.inputs[1].forwarded, 0);
	rfb_filter_free(f);
	bytes_free(&want);
	bytes_free(&in);
	capture_free(&c);
}

static void test_on_input_reports(void **state)
{
	struct capture c;
	struct bytes want = { 0 }, in = { 0 };
	struct rfb_filter *f = filter_after_handshake(1, &c, &want);
	size_t hs_len = want.len;

	(void)state;
	msg_fb_update_request(&in, 0, 4, 4);    /* 0..10 */
	msg_key(&in, 1, 0xffe1);                /* 10..18 */
	msg_pointer(&in, 4, 300, 200);          /* 18..24 */
	msg_cut_text(&in, 3, "x\0y");           /* 24..35 */
	msg_set_encodings(&in, 1);              /* 35..43 */
	assert_int_equal(rfb_filter_feed(f, in.p, in.len), 0);
	put(&want, in.p, in.len);
	assert_out(&c, &want);
	assert_int_equal(c.n_inputs, 3);

	assert_int_equal(c.inputs[0].kind, RFB_INPUT_KEY);
	assert_int_equal(c.inputs[1].kind, RFB_INPUT_POINTER);
	assert_int_equal(c.inputs[2].kind, RFB_INPUT_CUT_TEXT);
	assert_int_equal(c.inputs[0].len, 8);
	assert_int_equal(c.inputs[1].len, 6);
	assert_int_equal(c.inputs[2].len, 11);
	assert_memory_equal(c.msgs.p + c.inputs[0].off, in.p + 10, 8);
	assert_memory_equal(c.msgs.p + c.inputs[1].off, in.p + 18, 6);
	assert_memory_equal(c.msgs.p + c.inputs[2].off, in.p + 24, 11);
	/* Reported after every earlier byte went out and before its own. */
	assert_int_equal(c.inputs[0].emitted, hs_len + 10);
	assert_int_equal(c.inputs[1].emitted, hs_len + 18);
	assert_int_equal(c.inputs[2].emitted, hs_len + 24);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(c.inputs[i].forwarded, 1);
	rfb_filter_free(f);

	/* Dropped input is reported with its bytes too. */
	capture_free(&c);
	bytes_free(&want);
	f = filter_after_handshake(0, &c, &want);
	assert_int_equal(rfb_filter_feed(f, in.p, in.len), 0);
	assert_int_equal(c.n_inputs, 3);
	assert_int_equal(c.inputs[2].kind, RFB_INPUT_CUT_TEXT);
	assert_int_equal(c.inputs[2].forwarded, 0);
	assert_memory_equal(c.msgs.p + c.inputs[2].off, in.p + 24, 11);
	rfb_filter_free(f);

	/* on_input is optional. */
	{
		struct rfb_filter_callbacks cb = { cap_emit, NULL, &c };
		struct rfb_filter_stats st;
		struct bytes hs = { 0 };

		capture_free(&c);
		f = rfb_filter_new(0, &cb);
		handshake(&hs, "RFB 003.008\n", 0);
		assert_int_equal(rfb_filter_feed(f, hs.p, hs.len), 0);
		assert_int_equal(rfb_filter_feed(f, in.p, in.len), 0);
		assert_int_equal(c.out.len, hs_len + 10 + 8);
		rfb_filter_get_stats(f, &st);
		assert_int_equal(st.dropped_key + st.dropped_pointer + st.dropped_cut_text, 3);
		rfb_filter_free(f);
		bytes_free(&hs);
	}
	bytes_free(&want);
	bytes_free(&in);
	capture_free(&c);
}

/* ---- violations --------------------------------------------------------- */

static void expect_violation_after(const struct bytes *msg, const char *reason)
{
	struct capture c;
	struct bytes want = { 0 }, in = { 0 };
	struct rfb_filter *f = filter_after_handshake(1, &c, &want);
	struct bytes after = { 0 };

	/* Messages before the bad one in the same feed still pass. */
	msg_key(&in, 1, 'k');
	msg_fb_update_request(&in, 1, 2, 2);
	put(&want, in.p, in.len);
	put(&in, msg->p, msg->len);
	assert_int_equal(rfb_filter_feed(f, in.p, in.len), -1);
	assert_out(&c, &want);
	assert_string_equal(rfb_filter_error(f), reason);
	msg_fb_update_request(&after, 0, 1, 1);
	assert_int_equal(rfb_filter_feed(f, after.p, after.len), -1);
	assert_int_equal(rfb_filter_feed(f, after.p, 1), -1);
	assert_out(&c, &want);
	assert_string_equal(rfb_filter_error(f), reason);
	assert_int_equal(c.n_inputs, 1);
	rfb_filter_free(f);
	bytes_free(&want);
	bytes_free(&in);
	bytes_free(&after);
	capture_free(&c);
}

static void test_unknown_types(void **state)
{
	static const unsigned types[] = { 1, 7, 8, 127, 150, 248, 250, 252, 255 };

	(void)state;
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		struct bytes m = { 0 };
		char reason[64];

		put_u8(&m, types[i]);
		put_u32(&m, 0);
		snprintf(reason, sizeof reason, "unsupported client message type %u", types[i]);
		expect_violation_after(&m, reason);
		bytes_free(&m);
	}
}

static void test_set_encodings_limit(void **state)
{
	struct bytes m = { 0 };

	(void)state;
	msg_set_encodings(&m, RFB_MAX_ENCODINGS + 1);
	expect_violation_after(&m, "SetEncodings with 257 encodings; at most 256 are allowed");
	bytes_free(&m);
	/* Refused from the 4-byte header alone. */
	put_u8(&m, 2);
	put_u8(&m, 0);
	put_u16(&m, 0xffff);
	expect_violation_after(&m, "SetEncodings with 65535 encodings; at most 256 are allowed");
	bytes_free(&m);
}

static void test_cut_text_limits(void **state)
{
	struct bytes m = { 0 };
	static const uint32_t negative[] = { 0x80000000u, 0xffffffffu, 0xfffffff0u };

	(void)state;
	msg_cut_text(&m, RFB_MAX_CUT_TEXT + 1, NULL);
	expect_violation_after(&m, "ClientCutText of 262145 bytes; at most 262144 are allowed");
	bytes_free(&m);
	/* Header only: refused before any text arrives. */
	put_u8(&m, 6); put_u8(&m, 0); put_u16(&m, 0);
	put_u32(&m, 0x7fffffff);
	expect_violation_after(&m, "ClientCutText of 2147483647 bytes; at most 262144 are allowed");
	for (size_t i = 0; i < sizeof negative / sizeof negative[0]; i++) {
		char reason[128];

		bytes_free(&m);
		put_u8(&m, 6); put_u8(&m, 0); put_u16(&m, 0);
		put_u32(&m, negative[i]);
		put_u32(&m, 1);     /* extended clipboard flags, never reached */
		snprintf(reason, sizeof reason,
		         "ClientCutText with length 0x%08x (high bit set: extended clipboard) is not supported",
		         negative[i]);
		expect_violation_after(&m, reason);
	}
	bytes_free(&m);
}

/* ---- split invariance --------------------------------------------------- */

struct result {
	struct capture c;
	struct rfb_filter_stats st;
	int rc;
	char error[256];
};

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

/* Feeds `in` in chunks: max_chunk 0 = whole, 1 = byte by byte, else random 1..max_chunk. */
static void run_split(int allow_input, const struct bytes *in, size_t max_chunk, uint64_t seed,
                      struct result *r)
{
	struct rfb_filter *f = new_filter(allow_input, &r->c);
	size_t off = 0;
	uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;

	r->rc = 0;
	while (off < in->len) {
		size_t n = max_chunk == 0 ? in->len - off : 1 + rng_next(&s) % max_chunk;
		int rc;

		if (n > in->len - off)
			n = in->len - off;
		rc = rfb_filter_feed(f, in->p + off, n);
		if (r->rc < 0 && rc != -1)
			fail_msg("feed returned %d after a violation", rc);
		if (rc < 0)
			r->rc = -1;
		off += n;
	}
	rfb_filter_get_stats(f, &r->st);
	snprintf(r->error, sizeof r->error, "%s", rfb_filter_error(f));
	rfb_filter_free(f);
	r->c.filter = NULL;
}

static void assert_same_result(const struct result *a, const struct result *b, const char *what)
{
	if (a->rc != b->rc || strcmp(a->error, b->error) != 0)
		fail_msg("%s: rc %d '%s' vs %d '%s'", what, a->rc, a->error, b->rc, b->error);
	if (a->c.out.len != b->c.out.len ||
	    (a->c.out.len > 0 && memcmp(a->c.out.p, b->c.out.p, a->c.out.len) != 0))
		fail_msg("%s: output differs (%zu vs %zu bytes)", what, a->c.out.len, b->c.out.len);
	if (memcmp(&a->st, &b->st, sizeof a->st) != 0)
		fail_msg("%s: stats differ", what);
	if (a->c.n_inputs != b->c.n_inputs || a->c.msgs.len != b->c.msgs.len ||
	    (a->c.msgs.len > 0 && memcmp(a->c.msgs.p, b->c.msgs.p, a->c.msgs.len) != 0))
		fail_msg("%s: on_input reports differ", what);
	for (size_t i = 0; i < a->c.n_inputs; i++) {
		const struct input_rec *x = &a->c.inputs[i], *y = &b->c.inputs[i];

		if (x->kind != y->kind || x->forwarded != y->forwarded || x->len != y->len ||
		    x->emitted != y->emitted)
			fail_msg("%s: on_input report %zu differs", what, i);
	}
	assert_int_equal(a->c.zero_emits + b->c.zero_emits, 0);
}

/* A recorded TigerVNC-like 3.8 session, with big messages to cross chunks. */
static void recorded_session(struct bytes *b, const char *version)
{
	handshake(b, version, 0);
	msg_set_pixel_format(b);
	msg_set_encodings(b, 12);
	msg_fb_update_request(b, 0, 1280, 800);
	for (unsigned i = 0; i < 40; i++) {
		msg_pointer(b, i & 1, 100 + i, 200 + i);
		if (i % 7 == 0) {
			msg_key(b, 1, 'a' + i);
			msg_key(b, 0, 'a' + i);
		}
		if (i % 10 == 0)
			msg_fb_update_request(b, 1, 1280, 800);
	}
	msg_cut_text(b, 0, NULL);
	msg_cut_text(b, 5000, NULL);
	msg_set_encodings(b, RFB_MAX_ENCODINGS);
	msg_cut_text(b, 19, "clipboard from desk");
	msg_set_pixel_format(b);
	msg_fb_update_request(b, 1, 1280, 800);
	msg_key(b, 1, 0xffe3);
	msg_pointer(b, 4, 0, 0);
}

static void check_split_invariance(const struct bytes *in, const char *name)
{
	static const size_t maxima[] = { 2, 3, 7, 16, 64, 1000, 9000 };
	char what[128];

	for (int allow = 0; allow < 2; allow++) {
		struct result whole, r;

		memset(&whole, 0, sizeof whole);
		run_split(allow, in, 0, 0, &whole);
		memset(&r, 0, sizeof r);
		run_split(allow, in, 1, 0, &r);
		snprintf(what, sizeof what, "%s allow=%d 1-byte", name, allow);
		assert_same_result(&whole, &r, what);
		capture_free(&r.c);
		for (size_t m = 0; m < sizeof maxima / sizeof maxima[0]; m++) {
			for (uint64_t seed = 1; seed <= 12; seed++) {
				memset(&r, 0, sizeof r);
				run_split(allow, in, maxima[m], seed, &r);
				snprintf(what, sizeof what, "%s allow=%d max=%zu seed=%llu", name, allow,
				         maxima[m], (unsigned long long)seed);
				assert_same_result(&whole, &r, what);
				capture_free(&r.c);
			}
		}
		capture_free(&whole.c);
	}
}

static void test_split_invariance(void **state)
{
	static const char *const versions[] = { "RFB 003.003\n", "RFB 003.007\n", "RFB 003.008\n" };

	(void)state;
	for (size_t v = 0; v < 3; v++) {
		struct bytes in = { 0 };
		struct result whole;

		recorded_session(&in, versions[v]);
		check_split_invariance(&in, versions[v]);
		/* Sanity: the session passes and view-only keeps the right share. */
		memset(&whole, 0, sizeof whole);
		run_split(1, &in, 0, 0, &whole);
		assert_int_equal(whole.rc, 0);
		assert_int_equal(whole.c.out.len, in.len);
		capture_free(&whole.c);
		bytes_free(&in);
	}
}

static void test_split_invariance_with_violations(void **state)
{
	static const uint8_t bad_tails[][9] = {
		{ 7, 0, 0, 0 },
		{ 2, 0, 1, 1, 0, 0, 0, 0 },
		{ 6, 0, 0, 0, 0x80, 0, 0, 1, 'x' },
		{ 6, 0, 0, 0, 0, 4, 0, 1, 'x' },
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad_tails / sizeof bad_tails[0]; i++) {
		struct bytes in = { 0 };

		recorded_session(&in, "RFB 003.008\n");
		put(&in, bad_tails[i], sizeof bad_tails[i]);
		msg_key(&in, 1, 'z');     /* after the violation: never reported */
		check_split_invariance(&in, "violation tail");
		bytes_free(&in);
	}
	{
		struct bytes in = { 0 };

		put_str(&in, "RFB 003.008\n");
		put_u8(&in, 2);
		put_u8(&in, 1);
		check_split_invariance(&in, "security type 2");
		bytes_free(&in);
		put_str(&in, "RFB 003.0O8\nGET / HTTP/1.1\r\n");
		check_split_invariance(&in, "bad version");
		bytes_free(&in);
	}
}

/* ---- memory ------------------------------------------------------------- */

static void count_emit(void *ctx, const uint8_t *data, size_t len)
{
	(void)data;
	*(size_t *)ctx += len;
}

static size_t heap_in_use(void) { return mallinfo2().uordblks; }

/*
 * Thousands of filters may exist: an idle one must stay small, and the
 * buffer for a big message must follow the bytes received and go away with
 * the message.  glibc's counters do not see a sanitizer's allocator.
 */
static void test_memory_bounded(void **state)
{
	enum { N = 1000 };
	static struct rfb_filter *filters[N];
	size_t emitted = 0, base, per_filter, held;
	struct rfb_filter_callbacks cb = { count_emit, NULL, &emitted };
	struct bytes hs = { 0 }, cut = { 0 };
	struct rfb_filter *f;

	(void)state;
#if defined(__SANITIZE_ADDRESS__)
	skip();
#endif
	handshake(&hs, "RFB 003.008\n", 0);
	msg_cut_text(&cut, RFB_MAX_CUT_TEXT, NULL);
	base = heap_in_use();
	for (size_t i = 0; i < N; i++) {
		filters[i] = rfb_filter_new(1, &cb);
		assert_int_equal(rfb_filter_feed(filters[i], hs.p, hs.len), 0);
		/* A partial small message is held inside the filter itself. */
		assert_int_equal(rfb_filter_feed(filters[i], (const uint8_t *)"\x00\x00\x00", 3), 0);
	}
	per_filter = (heap_in_use() - base) / N;
	if (per_filter >= 256)
		fail_msg("an idle filter holds %zu bytes", per_filter);
	for (size_t i = 0; i < N; i++)
		rfb_filter_free(filters[i]);

	emitted = 0;
	f = rfb_filter_new(1, &cb);
	assert_int_equal(rfb_filter_feed(f, hs.p, hs.len), 0);
	base = heap_in_use();
	/* A header announcing 256 KiB costs nothing until the bytes come. */
	assert_int_equal(rfb_filter_feed(f, cut.p, 8), 0);
	held = heap_in_use() - base;
	if (held > 64)
		fail_msg("a cut-text header made the filter hold %zu bytes", held);
	assert_int_equal(rfb_filter_feed(f, cut.p + 8, 10000), 0);
	held = heap_in_use() - base;
	if (held < 10000 || held > 2 * 10008 + 64)
		fail_msg("10000 bytes of cut text held in %zu bytes", held);
	for (size_t off = 10008; off < cut.len; off += 4096)
		assert_int_equal(rfb_filter_feed(f, cut.p + off,
		                                 cut.len - off < 4096 ? cut.len - off : 4096), 0);
	held = heap_in_use() - base;
	if (held > 64)
		fail_msg("%zu bytes still held after the message completed", held);
	assert_int_equal(emitted, hs.len + cut.len);
	rfb_filter_free(f);
	bytes_free(&hs);
	bytes_free(&cut);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_33),
		cmocka_unit_test(test_handshake_37),
		cmocka_unit_test(test_handshake_38),
		cmocka_unit_test(test_handshake_33_has_no_security_byte),
		cmocka_unit_test(test_shared_flag_forced),
		cmocka_unit_test(test_bad_versions),
		cmocka_unit_test(test_bad_version_message),
		cmocka_unit_test(test_security_type_refused),
		cmocka_unit_test(test_initial_state),
		cmocka_unit_test(test_each_message_passes_exactly),
		cmocka_unit_test(test_view_only_drops_input),
		cmocka_unit_test(test_toggle_allow_input),
		cmocka_unit_test(test_toggle_from_callback),
		cmocka_unit_test(test_on_input_reports),
		cmocka_unit_test(test_unknown_types),
		cmocka_unit_test(test_set_encodings_limit),
		cmocka_unit_test(test_cut_text_limits),
		cmocka_unit_test(test_split_invariance),
		cmocka_unit_test(test_split_invariance_with_violations),
		cmocka_unit_test(test_memory_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
