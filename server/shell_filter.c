#include "shell_filter.h"

#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

struct shell_filter {
	enum shell_filter_direction direction;
	int allow_input;
	int failed;
	struct shell_filter_callbacks cb;
	uint64_t dropped_frames, dropped_bytes;
	size_t npending;
	uint8_t *pending; /* allocated on the first partial frame */
};

struct shell_filter *shell_filter_new(enum shell_filter_direction direction, int allow_input,
                                      const struct shell_filter_callbacks *callbacks)
{
	struct shell_filter *f = xcalloc(1, sizeof *f);

	f->direction = direction;
	f->allow_input = allow_input;
	f->cb = *callbacks;
	return f;
}

/* Decides one whole frame; 0 or -1 (violation). */
static int handle_frame(struct shell_filter *f, const uint8_t *raw, size_t size,
                        const struct shell_frame *frame)
{
	int forward;

	if (f->direction == SHELL_FROM_PARTICIPANT) {
		if (frame->type != SHELL_DATA && frame->type != SHELL_RESIZE)
			return -1;
		forward = f->allow_input;
		if (!forward) {
			f->dropped_frames++;
			f->dropped_bytes += frame->len;
		}
	} else {
		if (frame->type == SHELL_RESIZE)
			return -1;
		forward = 1;
	}
	if (f->cb.on_frame)
		f->cb.on_frame(f->cb.ctx, frame, forward);
	if (forward)
		f->cb.emit(f->cb.ctx, raw, size);
	return 0;
}

int shell_filter_feed(struct shell_filter *f, const uint8_t *data, size_t len)
{
	struct shell_frame frame;
	long size;

	if (f->failed)
		return -1;
	/* Complete a frame left over from the previous feed, byte-wise up to its size. */
	while (f->npending > 0 && len > 0) {
		size_t want = SHELL_FRAME_HEADER;
		if (f->npending >= SHELL_FRAME_HEADER)
			want += (size_t)f->pending[2] << 8 | f->pending[3];
		size_t take = want - f->npending < len ? want - f->npending : len;
		memcpy(f->pending + f->npending, data, take);
		f->npending += take;
		data += take;
		len -= take;
		size = shell_frame_next(f->pending, f->npending, &frame);
		if (size < 0)
			goto fail;
		if (size > 0) {
			if (handle_frame(f, f->pending, (size_t)size, &frame) < 0)
				goto fail;
			f->npending = 0;
		}
	}
	while (len > 0) {
		size = shell_frame_next(data, len, &frame);
		if (size < 0)
			goto fail;
		if (size == 0) {
			if (f->pending == NULL)
				f->pending = xmalloc(SHELL_FRAME_HEADER + SHELL_FRAME_MAX);
			memcpy(f->pending, data, len);
			f->npending = len;
			return 0;
		}
		if (handle_frame(f, data, (size_t)size, &frame) < 0)
			goto fail;
		data += size;
		len -= (size_t)size;
	}
	return 0;
fail:
	f->failed = 1;
	return -1;
}

void shell_filter_dropped(const struct shell_filter *f, uint64_t *frames, uint64_t *bytes)
{
	*frames = f->dropped_frames;
	*bytes = f->dropped_bytes;
}

void shell_filter_free(struct shell_filter *f)
{
	if (f == NULL)
		return;
	free(f->pending);
	free(f);
}
