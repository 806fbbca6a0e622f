/*
 * libFuzzer target for server/rfb_filter.c.
 *
 * Input: one control byte, then the client -> server RFB stream.
 *   bit 0      allow_input at creation
 *   bits 1..3  largest chunk size (1, 2, 3, 8, 20, 64, 1024, 65536)
 *   bit 4..6   chunking seed
 *   bit 7      flip allow_input from on_input after every input message
 *              (a per-message rule, so it does not depend on the split)
 * The stream is fed once whole and once in pseudo-random chunks; both runs
 * must agree on everything (output, reports and when they came, stats,
 * error).  Each run checks: every stream byte is either emitted unchanged
 * (the ClientInit byte as 1) or inside a dropped input message, so the
 * output is never longer than the input fed so far; each on_input report is
 * a well-formed message of its kind, made when exactly the bytes before it
 * are emitted or dropped; stats equal the reports; after -1 every feed
 * returns -1 and no callback fires; the error is set exactly on failure.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE
 *   -Iinclude -Icommon -Iserver tests/fuzz/fuzz_rfb_filter.c
 *   server/rfb_filter.c common/xmalloc.c common/log.c -o build/fuzz/fuzz_rfb_filter
 * Seeds: tests/fuzz/corpus/rfb_filter/; dictionary: tests/fuzz/rfb_filter.dict.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concierge_limits.h"
#include "rfb_filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                   \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "fuzz_rfb_filter: invariant failed at line %d: %s\n", \
			        __LINE__, #cond);                                     \
			abort();                                                      \
		}                                                                     \
	} while (0)

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void buf_put(struct buf *b, const void *src, size_t n)
{
	if (n == 0)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->len + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		CHECK(b->p != NULL);
		b->cap = cap;
	}
	memcpy(b->p + b->len, src, n);
	b->len += n;
}

struct run {
	struct rfb_filter *filter;
	const uint8_t *stream;   /* the whole client stream */
	struct buf out;          /* emitted bytes */
	struct buf reports;      /* per report: kind, forwarded, len, out.len, the message */
	size_t fed;              /* bytes handed to rfb_filter_feed so far */
	size_t dropped_bytes;    /* bytes of input messages not forwarded */
	uint64_t forwarded, dropped[3];
	int failed;              /* a feed returned -1 */
	int in_callback_after_fail;
	int flip;                /* flip allow_input after every report */
	int allow;
};

static void on_emit(void *ctx, const uint8_t *data, size_t len)
{
	struct run *r = ctx;

	CHECK(!r->failed);
	CHECK(len > 0);
	/* Every stream byte is either emitted or inside a dropped message. */
	for (size_t i = 0; i < len; i++) {
		size_t pos = r->out.len + r->dropped_bytes + i;
		size_t client_init = r->stream[10] == '3' ? 12 : 13;

		CHECK(pos < r->fed);
		CHECK(data[i] == (pos == client_init ? 1 : r->stream[pos]));
	}
	buf_put(&r->out, data, len);
	CHECK(r->out.len + r->dropped_bytes <= r->fed);
}

static void on_input(void *ctx, enum rfb_input_kind kind, int forwarded, const uint8_t *msg,
                     size_t len)
{
	struct run *r = ctx;
	uint8_t head[2 + 2 * sizeof(size_t)];

	CHECK(!r->failed);
	CHECK(forwarded == 0 || forwarded == 1);
	CHECK(forwarded == r->allow);
	switch (kind) {
	case RFB_INPUT_KEY:
		CHECK(len == 8 && msg[0] == 4);
		break;
	case RFB_INPUT_POINTER:
		CHECK(len == 6 && msg[0] == 5);
		break;
	case RFB_INPUT_CUT_TEXT: {
		CHECK(len >= 8 && msg[0] == 6);
		uint32_t n = (uint32_t)msg[4] << 24 | (uint32_t)msg[5] << 16 | (uint32_t)msg[6] << 8 | msg[7];
		CHECK(n <= RFB_MAX_CUT_TEXT && len == 8 + (size_t)n);
		break;
	}
	default:
		CHECK(0);
	}
	CHECK(len <= RFB_FILTER_MAX_MESSAGE);
	/* Reported when exactly the bytes before it are emitted or dropped. */
	CHECK(r->out.len + r->dropped_bytes + len <= r->fed);
	CHECK(memcmp(r->stream + r->out.len + r->dropped_bytes, msg, len) == 0);
	if (forwarded)
		r->forwarded++;
	else {
		r->dropped[kind]++;
		r->dropped_bytes += len;
	}
	CHECK(r->out.len + r->dropped_bytes <= r->fed);
	head[0] = (uint8_t)kind;
	head[1] = (uint8_t)forwarded;
	memcpy(head + 2, &len, sizeof len);
	memcpy(head + 2 + sizeof len, &r->out.len, sizeof r->out.len);
	buf_put(&r->reports, head, sizeof head);
	buf_put(&r->reports, msg, len);
	if (r->flip) {
		r->allow = !r->allow;
		rfb_filter_set_allow_input(r->filter, r->allow);
	}
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

/* max_chunk 0 feeds everything at once. */
static void run_filter(struct run *r, uint8_t ctl, const uint8_t *data, size_t size, size_t max_chunk,
                       uint64_t seed)
{
	struct rfb_filter_callbacks cb = { on_emit, on_input, r };
	struct rfb_filter_stats st;
	uint64_t s = seed * 0x9e3779b97f4a7c15ull + 0x1234567;
	size_t off = 0;
	const char *err;

	memset(r, 0, sizeof *r);
	r->allow = ctl & 1;
	r->flip = (ctl & 0x80) != 0;
	r->stream = data;
	r->filter = rfb_filter_new(r->allow, &cb);
	CHECK(r->filter != NULL);
	CHECK(strcmp(rfb_filter_error(r->filter), "") == 0);
	/* An empty feed is harmless. */
	CHECK(rfb_filter_feed(r->filter, data, 0) == 0);
	while (off < size) {
		size_t n = max_chunk == 0 ? size - off : 1 + (size_t)(rng_next(&s) % max_chunk);
		int rc;

		if (n > size - off)
			n = size - off;
		r->fed += n;
		rc = rfb_filter_feed(r->filter, data + off, n);
		CHECK(rc == 0 || rc == -1);
		CHECK(!r->failed || rc == -1);
		if (rc < 0)
			r->failed = 1;
		CHECK(r->out.len + r->dropped_bytes <= r->fed);
		err = rfb_filter_error(r->filter);
		CHECK(err != NULL && (err[0] != '\0') == r->failed);
		off += n;
	}
	if (r->failed)
		CHECK(rfb_filter_feed(r->filter, data, size) == -1);

	rfb_filter_get_stats(r->filter, &st);
	CHECK(st.forwarded_input == r->forwarded);
	CHECK(st.dropped_key == r->dropped[RFB_INPUT_KEY]);
	CHECK(st.dropped_pointer == r->dropped[RFB_INPUT_POINTER]);
	CHECK(st.dropped_cut_text == r->dropped[RFB_INPUT_CUT_TEXT]);
	CHECK(r->out.len + r->dropped_bytes <= size);
}

static void run_free(struct run *r)
{
	rfb_filter_free(r->filter);
	free(r->out.p);
	free(r->reports.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t maxima[8] = { 1, 2, 3, 8, 20, 64, 1024, 65536 };
	struct run whole, split;
	char err_whole[512];
	uint8_t ctl;

	if (size < 1)
		return 0;
	ctl = data[0];
	data++;
	size--;

	run_filter(&whole, ctl, data, size, 0, 0);
	run_filter(&split, ctl, data, size, maxima[(ctl >> 1) & 7], (ctl >> 4) & 7);

	snprintf(err_whole, sizeof err_whole, "%s", rfb_filter_error(whole.filter));
	CHECK(strcmp(err_whole, rfb_filter_error(split.filter)) == 0);
	CHECK(whole.failed == split.failed);
	CHECK(whole.out.len == split.out.len);
	CHECK(whole.out.len == 0 || memcmp(whole.out.p, split.out.p, whole.out.len) == 0);
	CHECK(whole.reports.len == split.reports.len);
	CHECK(whole.reports.len == 0 || memcmp(whole.reports.p, split.reports.p, whole.reports.len) == 0);

	run_free(&whole);
	run_free(&split);
	return 0;
}
