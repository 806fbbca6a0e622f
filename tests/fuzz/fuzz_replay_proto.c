/*
 * libFuzzer target for the parent side of the replay decoder protocol
 * (server/replay_proto.c): what a hostile decoder child could send.
 *
 * Input: a reply header (struct replay_reply_hdr, host order) followed by
 * payload bytes.  The header is checked as the parent checks it; when it
 * passes and announces a FRAME, the payload (only as many bytes as the
 * header claims and the input holds) is applied to a framebuffer of the
 * announced size, exactly as the parent does.  Checks: a header that
 * passes never announces more than REPLAY_MAX_REPLY_PAYLOAD bytes or a
 * framebuffer beyond the limits; applying never writes outside the
 * framebuffer (ASan) and returns rects inside it.
 * Seeds: tests/fuzz/corpus/replay_proto/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                        \
	do {                                                                            \
		if (!(c)) {                                                             \
			fprintf(stderr, "fuzz_replay_proto: %s (line %d)\n", #c, __LINE__); \
			abort();                                                        \
		}                                                                       \
	} while (0)

/* Keeps the fuzzer's memory small: frames beyond this are only checked. */
#define FUZZ_MAX_PIXELS (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct replay_reply_hdr h;
	struct replay_proto_rect rects[REPLAY_MAX_DIRTY_RECTS];
	size_t nrects = 0;
	uint32_t *fb;
	char err[256];

	if (size < sizeof h)
		return 0;
	memcpy(&h, data, sizeof h);
	if (replay_proto_check_reply(&h, REPLAY_REPLY_FRAME, err, sizeof err) < 0)
		return 0;
	CHECK(h.payload_len <= REPLAY_MAX_REPLY_PAYLOAD);
	if (h.kind != REPLAY_REPLY_FRAME || h.width == 0)
		return 0;
	CHECK((uint64_t)h.width * h.height <= REPLAY_MAX_PIXELS);
	if (h.payload_len != size - sizeof h || (uint64_t)h.width * h.height > FUZZ_MAX_PIXELS)
		return 0;
	fb = calloc((size_t)h.width * h.height, 4);
	if (replay_proto_apply_frame(&h, data + sizeof h, fb, rects, &nrects, err, sizeof err) == 0) {
		CHECK(nrects <= REPLAY_MAX_DIRTY_RECTS);
		for (size_t i = 0; i < nrects; i++)
			CHECK(rects[i].w && rects[i].h && rects[i].x + rects[i].w <= h.width &&
			      rects[i].y + rects[i].h <= h.height);
	} else {
		CHECK(nrects == 0);
	}
	free(fb);
	return 0;
}
