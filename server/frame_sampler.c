#include "frame_sampler.h"

#include <stdlib.h>
#include <string.h>

#include "replay.h"
#include "xmalloc.h"

struct owned_frame {
	struct sampled_frame f;
	uint32_t *buf;
	size_t cap; /* pixels */
};

struct frame_sampler {
	struct replay *replay;
	int started;
	struct owned_frame current, upcoming;
	int have_upcoming; /* upcoming holds the next change (replay_next) */
	int ended;         /* replay_next said nothing changes any more */
};

struct frame_sampler *frame_sampler_new(struct replay *replay)
{
	struct frame_sampler *s = xcalloc(1, sizeof *s);

	s->replay = replay;
	return s;
}

static void copy_frame(struct owned_frame *dst, const struct replay_frame *src)
{
	size_t n = (size_t)src->width * src->height;

	memset(&dst->f, 0, sizeof dst->f);
	dst->f.has_picture = src->has_picture && src->pixels && n;
	dst->f.leg = src->leg;
	dst->f.time_us = src->time_us;
	if (!dst->f.has_picture)
		return;
	if (n > dst->cap) {
		free(dst->buf);
		dst->buf = xreallocarray(NULL, n, sizeof *dst->buf);
		dst->cap = n;
	}
	memcpy(dst->buf, src->pixels, n * sizeof *dst->buf);
	dst->f.width = src->width;
	dst->f.height = src->height;
	dst->f.pixels = dst->buf;
}

static int fetch_upcoming(struct frame_sampler *s, char *err, size_t errlen)
{
	struct replay_frame rf;
	int rc = replay_next(s->replay, &rf, err, errlen);

	if (rc < 0)
		return -1;
	if (rc == 0) {
		s->ended = 1;
		s->have_upcoming = 0;
		return 0;
	}
	copy_frame(&s->upcoming, &rf);
	s->have_upcoming = 1;
	return 0;
}

int frame_sampler_at(struct frame_sampler *s, uint64_t time_us, const struct sampled_frame **out,
                     char *err, size_t errlen)
{
	if (!s->started) {
		struct replay_frame rf;
		if (replay_frame_at(s->replay, 0, &rf, err, errlen) < 0)
			return -1;
		copy_frame(&s->current, &rf);
		s->started = 1;
		if (fetch_upcoming(s, err, errlen) < 0)
			return -1;
	}
	while (s->have_upcoming && s->upcoming.f.time_us <= time_us) {
		struct owned_frame tmp = s->current;
		s->current = s->upcoming;
		s->upcoming = tmp;
		if (fetch_upcoming(s, err, errlen) < 0)
			return -1;
	}
	*out = &s->current.f;
	return 0;
}

void frame_sampler_free(struct frame_sampler *s)
{
	if (s == NULL)
		return;
	free(s->current.buf);
	free(s->upcoming.buf);
	free(s);
}
