/*
 * libFuzzer target for the relay's shell-stream filter (server/shell_filter.c)
 * and the frame parser under it (common/shell_frame.c).  The first byte picks
 * the direction, the input right and a chunk size; the rest is fed in chunks.
 * Invariants: output is a prefix-preserving selection of whole input frames
 * (never longer than the input), resize and exit frames among them decode
 * and re-encode to the same bytes, and after -1 every feed is -1.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shell_filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sink {
	size_t out;
	size_t frames;
};

static void emit(void *ctx, const uint8_t *d, size_t len)
{
	struct sink *s = ctx;
	struct shell_frame f;

	uint8_t again[SHELL_FRAME_HEADER + 4];
	unsigned cols, rows;
	int status;

	/* Every emitted unit is exactly one well-formed frame. */
	if (shell_frame_next(d, len, &f) != (long)len)
		abort();
	/* The fixed-size frames decode, and encode back to the same bytes. */
	if ((shell_frame_get_resize(&f, &cols, &rows) == 0) != (f.type == SHELL_RESIZE) ||
	    (shell_frame_get_exit(&f, &status) == 0) != (f.type == SHELL_EXIT))
		abort();
	if (f.type == SHELL_RESIZE &&
	    (shell_frame_resize(again, cols, rows) != len || memcmp(again, d, len) != 0))
		abort();
	if (f.type == SHELL_EXIT && (shell_frame_exit(again, status) != len || memcmp(again, d, len) != 0))
		abort();
	s->out += len;
	s->frames++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sink sink = { 0, 0 };
	struct shell_filter_callbacks cb = { emit, NULL, &sink };
	struct shell_filter *f;
	size_t chunk, pos = 1;
	int failed = 0;

	if (size < 1)
		return 0;
	chunk = (size_t)(data[0] >> 2) + 1;
	f = shell_filter_new((data[0] & 1) ? SHELL_FROM_AGENT : SHELL_FROM_PARTICIPANT, data[0] & 2, &cb);
	while (pos < size) {
		size_t n = size - pos < chunk ? size - pos : chunk;
		int rc = shell_filter_feed(f, data + pos, n);
		if (failed && rc != -1)
			abort();
		failed |= rc < 0;
		pos += n;
	}
	if (sink.out > size - 1)
		abort();
	shell_filter_free(f);
	return 0;
}
