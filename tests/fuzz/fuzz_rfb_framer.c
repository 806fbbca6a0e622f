/*
 * libFuzzer target for server/rfb_framer.c.
 *
 * Input: one control byte, then the server -> client RFB stream.
 *   bits 0..2  largest chunk size (1, 2, 3, 12, 24, 256, 4096, 65536)
 *   bits 3..7  chunking seed
 * The stream is fed once whole and once in pseudo-random chunks.  Each run
 * checks: every byte passed to on_bytes is the next byte of the input
 * (unchanged, in order, never more than was fed); each on_message_end
 * reports a unit that starts where the previous one ended and whose length
 * is what on_bytes passed since; framebuffer sizes stay in 1..MAX_DIM; an
 * update's rect count is within its declared count; rfb_framer_offset()
 * equals the bytes passed; after -1 every feed returns -1 and no callback
 * fires; the error is set exactly on failure.  Both runs must agree on the
 * result, the bytes passed and every unit reported.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE
 *   -Iinclude -Icommon -Iserver tests/fuzz/fuzz_rfb_framer.c
 *   server/rfb_framer.c common/xmalloc.c common/log.c -o build/fuzz/fuzz_rfb_framer
 * Seeds: tests/fuzz/corpus/rfb_framer/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concierge_limits.h"
#include "rfb_framer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                   \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "fuzz_rfb_framer: invariant failed at line %d: %s\n", \
			        __LINE__, #cond);                                     \
			abort();                                                      \
		}                                                                     \
	} while (0)

#define MAX_KEPT 1024

struct run_state {
	const uint8_t *in;  /* the whole stream */
	size_t fed;         /* bytes of it fed so far */
	uint64_t passed;    /* bytes passed to on_bytes */
	uint64_t unit_end;  /* end of the last reported unit */
	int failed;
	size_t units;
	struct rfb_frame_info kept[MAX_KEPT];
};

static void on_bytes(void *ctx, const uint8_t *p, size_t n)
{
	struct run_state *r = ctx;

	CHECK(!r->failed);
	CHECK(n > 0);
	CHECK(r->passed + n <= r->fed);
	CHECK(memcmp(p, r->in + r->passed, n) == 0);
	r->passed += n;
}

static void on_end(void *ctx, const struct rfb_frame_info *info)
{
	struct run_state *r = ctx;

	CHECK(!r->failed);
	CHECK(info->offset == r->unit_end);
	CHECK(info->offset + info->length == r->passed);
	CHECK(info->length > 0);
	CHECK(info->width >= 1 && info->width <= RFB_FRAMER_MAX_DIM);
	CHECK(info->height >= 1 && info->height <= RFB_FRAMER_MAX_DIM);
	CHECK((r->units == 0) == (info->type == RFB_FRAME_HANDSHAKE));
	switch (info->type) {
	case RFB_FRAME_HANDSHAKE:
		CHECK(info->text_len <= RFB_FRAMER_MAX_NAME);
		break;
	case RFB_FRAME_FB_UPDATE:
		CHECK(info->length <= RFB_FRAMER_MAX_MESSAGE);
		CHECK(info->rects <= info->declared_rects);
		CHECK(info->last_rect || info->rects == info->declared_rects);
		break;
	case RFB_FRAME_BELL:
		CHECK(info->length == 1);
		break;
	case RFB_FRAME_CUT_TEXT:
		CHECK(info->text_len <= RFB_MAX_CUT_TEXT && info->length == 8 + (uint64_t)info->text_len);
		break;
	case RFB_FRAME_COLOUR_MAP:
		CHECK(info->length == 6 + 6 * (uint64_t)info->text_len);
		break;
	default:
		CHECK(0);
	}
	r->unit_end = r->passed;
	if (r->units < MAX_KEPT)
		r->kept[r->units] = *info;
	r->units++;
}

static uint32_t rng(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static int run(struct run_state *r, const uint8_t *in, size_t len, size_t max_chunk, uint32_t seed)
{
	struct rfb_framer_callbacks cb = { on_bytes, on_end, r };
	struct rfb_framer *f;
	size_t off = 0;
	int rc = 0;

	memset(r, 0, sizeof *r);
	r->in = in;
	f = rfb_framer_new(&cb);
	while (off < len) {
		size_t n = max_chunk == 0 ? len - off : 1 + rng(&seed) % max_chunk;

		if (n > len - off)
			n = len - off;
		r->fed += n;
		rc = rfb_framer_feed(f, in + off, n);
		off += n;
		CHECK(rfb_framer_offset(f) == r->passed);
		if (rc < 0) {
			CHECK(rc == -1);
			CHECK(rfb_framer_error(f) != NULL);
			r->failed = 1; /* callbacks now abort */
			CHECK(rfb_framer_feed(f, in, len) == -1);
			CHECK(rfb_framer_feed(f, in + off, len - off) == -1);
			break;
		}
		CHECK(rc == 0);
		CHECK(rfb_framer_error(f) == NULL);
	}
	CHECK(r->passed <= len);
	CHECK(r->unit_end <= r->passed);
	rfb_framer_free(f);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t chunks[8] = { 1, 2, 3, 12, 24, 256, 4096, 65536 };
	static struct run_state a, b;
	int ra, rb;

	if (size < 1)
		return 0;
	ra = run(&a, data + 1, size - 1, 0, 0);
	rb = run(&b, data + 1, size - 1, chunks[data[0] & 7], 0x9e3779b9u ^ (uint32_t)(data[0] >> 3));
	CHECK(ra == rb);
	CHECK(a.passed == b.passed);
	CHECK(a.units == b.units);
	for (size_t i = 0; i < a.units && i < MAX_KEPT; i++)
		CHECK(a.kept[i].type == b.kept[i].type && a.kept[i].offset == b.kept[i].offset &&
		      a.kept[i].length == b.kept[i].length && a.kept[i].width == b.kept[i].width &&
		      a.kept[i].height == b.kept[i].height && a.kept[i].rects == b.kept[i].rects &&
		      a.kept[i].declared_rects == b.kept[i].declared_rects &&
		      a.kept[i].size_changed == b.kept[i].size_changed &&
		      a.kept[i].last_rect == b.kept[i].last_rect &&
		      a.kept[i].text_len == b.kept[i].text_len);
	return 0;
}
