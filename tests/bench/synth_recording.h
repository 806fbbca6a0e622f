/*
 * Synthetic but real screen recordings, for the replay tests and the
 * replay benchmark: a libvncserver server in this process, on a socketpair,
 * draws a known moving picture; the relay's own recorder_leg is its client;
 * the server->client bytes go into a recording with the recording writer,
 * on a synthetic clock (so an hour of recording takes seconds to make).
 *
 * Timeline: leg k (0-based, stream 1001 + k) starts at
 * synth_leg_start_us(p, k) with a RECORDER start event; its handshake and
 * frame 0 (a full update) are recorded at that time, frame n at
 * start + n * 1e6 / fps; the leg stops (RECORDER stop event) after
 * p->seconds_per_leg, then p->gap_ms of no screen follow before the next
 * leg.  Frame n of leg k shows synth_pixel(synth_frame_number(k, n), ...).
 *
 * Every FramebufferUpdate is recorded as one or more whole records of its
 * own (never two RFB units in one record).  The picture: a gradient
 * background whose tint changes every p->full_every frames (a full-screen
 * update), a moving bar, a moving checkered box and the frame number in
 * 4x4 cells along the top.  Encodings are what recorder_leg asks for
 * (ZRLE, CopyRect, Raw, DesktopSize, Cursor, LastRect).
 *
 * synth_recording_write returns 0, or -1 with `err`; `key` may be NULL (a
 * fresh P-256 key is made).  Not thread-safe (libvncserver globals).
 */
#ifndef CONCIERGE_SYNTH_RECORDING_H
#define CONCIERGE_SYNTH_RECORDING_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

struct synth_params {
	uint32_t width, height;
	uint32_t fps;             /* frames per second of recorded time */
	uint32_t seconds_per_leg;
	uint32_t legs;            /* 1.. */
	uint32_t gap_ms;          /* no screen between legs */
	uint32_t full_every;      /* tint change every n frames (0: never) */
	uint32_t lead_in_ms;      /* recorded time before the first leg (events only) */
	int progress;             /* print progress to stderr */
};

void synth_params_default(struct synth_params *p);

struct synth_result {
	uint64_t frames;
	uint64_t file_bytes;
	uint64_t duration_us;
};

int synth_recording_write(const char *path, const struct synth_params *p, EVP_PKEY *key,
                          struct synth_result *res, char *err, size_t errlen);

uint64_t synth_leg_start_us(const struct synth_params *p, uint32_t leg);
uint64_t synth_frame_time_us(const struct synth_params *p, uint32_t leg, uint64_t n);
uint32_t synth_frame_number(uint32_t leg, uint64_t n);
uint32_t synth_pixel(const struct synth_params *p, uint32_t frame, uint32_t x, uint32_t y);

/* What the screen should show at time t: 1 with leg and frame, 0 for no
 * picture (outside every leg). */
int synth_expected(const struct synth_params *p, uint64_t t, uint32_t *leg, uint64_t *frame);

/* 1 when a replayed frame (has_picture, width, height, pixels) is exactly
 * what was drawn at t, or has no picture where nothing was drawn. */
int synth_frame_matches(const struct synth_params *p, uint64_t t, int has_picture, uint32_t width,
                        uint32_t height, const uint32_t *pixels);

#endif
