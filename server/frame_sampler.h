/*
 * Sampling a replay (server/replay.h) at increasing times without seeking:
 * the exporters ask for the picture at t0 <= t1 <= ... and get, for each,
 * the screen as it was then, decoding each update once (replay_next), so a
 * video at 10 frames a second costs one pass over the recording.
 *
 * Contract: frame_sampler_new takes the caller's replay handle (which must
 * outlive the sampler and is not used by anyone else meanwhile) and starts
 * at time 0.  frame_sampler_at returns 0 with *out pointing to a frame the
 * sampler owns (pixels copied out of the replay, valid until the next call
 * or free), or -1 with `err` (the replay failed).  Times must not decrease
 * (an earlier time gives the current frame).  frame_sampler_free(NULL) is
 * a no-op.
 */
#ifndef CONCIERGE_FRAME_SAMPLER_H
#define CONCIERGE_FRAME_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

struct replay;

struct sampled_frame {
	int has_picture;
	int leg;                 /* replay leg index, -1 outside every leg */
	uint64_t time_us;        /* when this picture came to be */
	uint32_t width, height;  /* 0 without picture */
	const uint32_t *pixels;  /* width * height 0x00RRGGBB, NULL without picture */
};

struct frame_sampler;

struct frame_sampler *frame_sampler_new(struct replay *replay);
int frame_sampler_at(struct frame_sampler *s, uint64_t time_us, const struct sampled_frame **out,
                     char *err, size_t errlen);
void frame_sampler_free(struct frame_sampler *s);

#endif
