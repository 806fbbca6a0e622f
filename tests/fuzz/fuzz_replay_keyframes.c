/*
 * libFuzzer target for the keyframes-file reader (server/replay_keyframes.c):
 * a keyframes file lies next to a recording and could be planted.
 *
 * Input: a keyframes file image.  Because the file ends with its SHA-256,
 * random inputs almost never get past the hash; so each input is parsed
 * twice: as it is, and with its last 32 bytes replaced by the correct
 * SHA-256 of the rest, which lets the fuzzer reach the structure checks.
 * Checks: on success every keyframe's window and framebuffer lie inside
 * the input, sizes are within the REPLAY_* limits and keyframes are in
 * order; on failure nothing is returned.
 * Seeds: tests/fuzz/corpus/replay_keyframes/ (real files from the tests).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "replay_keyframes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                          \
	do {                                                                              \
		if (!(c)) {                                                               \
			fprintf(stderr, "fuzz_replay_keyframes: %s (line %d)\n", #c, __LINE__); \
			abort();                                                          \
		}                                                                         \
	} while (0)

static void parse(const uint8_t *data, size_t size)
{
	struct replay_keyframes kf;
	char err[256];

	memset(&kf, 0, sizeof kf);
	if (replay_keyframes_parse(data, size, &kf, err, sizeof err) < 0) {
		CHECK(kf.kf == NULL && kf.count == 0);
		CHECK(err[0] != '\0');
		return;
	}
	for (size_t i = 0; i < kf.count; i++) {
		const struct replay_keyframe *k = &kf.kf[i];

		CHECK(k->window >= data && k->fb >= data);
		CHECK(k->window + k->window_len <= data + size);
		CHECK(k->fb + k->fb_len <= data + size - 32);
		CHECK(k->window_len <= REPLAY_ZLIB_WINDOW && k->zlib_state <= 1);
		CHECK((uint64_t)k->width * k->height <= REPLAY_MAX_PIXELS && k->width && k->height);
		CHECK(i == 0 || k->leg > kf.kf[i - 1].leg ||
		      (k->leg == kf.kf[i - 1].leg && k->next_unit > kf.kf[i - 1].next_unit));
	}
	replay_keyframes_free(&kf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *fixed;

	parse(data, size);
	if (size < 32 || size > (1u << 24))
		return 0;
	fixed = malloc(size);
	memcpy(fixed, data, size);
	SHA256(fixed, size - 32, fixed + size - 32);
	parse(fixed, size);
	free(fixed);
	return 0;
}
