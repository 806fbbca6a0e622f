/*
 * The keyframes file next to a recording (`<recording>.keyframes`; format
 * in docs/RECORDING.md, "Keyframes file"): decoded framebuffer snapshots
 * at RFB message boundaries, each with the ZRLE inflater window, bound to
 * the recording they came from and closed by the SHA-256 of all bytes
 * before it.
 *
 * Building: replay_keyframes_begin starts an in-memory file for the
 * recording identity given; replay_keyframes_add appends one keyframe
 * (the framebuffer is filtered and deflated here; `pixels` is not kept);
 * replay_keyframes_finish closes it (hash) and parses it into `kf` like a
 * loaded file, so both paths end in the same checked form.
 *
 * Reading: replay_keyframes_parse checks a whole file image (hash first,
 * then every length and value against the REPLAY_* limits and against the
 * bytes present; keyframes strictly ordered by leg, then next_unit) and
 * fills `kf`, whose window/fb pointers point into `data` (which must
 * outlive kf; kf->owned is freed with it when set).  It allocates only the
 * keyframe table (count checked against the file size first).
 * replay_keyframes_load reads `path` (at most REPLAY_MAX_KEYFRAMES_FILE,
 * no symbolic links) and parses it; 1 = loaded, 0 = no such file, -1 =
 * unusable (`err` says why: the caller rebuilds).
 * replay_keyframes_store writes kf->owned to `path` atomically with mode
 * 0600, replacing an older file.  All return 0 or -1 with `err` unless
 * said otherwise; replay_keyframes_free releases everything (zeroed ok).
 */
#ifndef CONCIERGE_REPLAY_KEYFRAMES_H
#define CONCIERGE_REPLAY_KEYFRAMES_H

#include <stddef.h>
#include <stdint.h>

#include "concierge_limits.h"
#include "recording.h"

#define REPLAY_KEYFRAMES_MAGIC "CNCGKEY1"
#define REPLAY_KEYFRAMES_VERSION 1

struct replay_keyframe {
	uint64_t time_us;       /* time of the last message applied */
	uint32_t leg;           /* leg index */
	uint16_t stream;
	uint64_t next_unit;     /* messages [0, next_unit) of the leg are applied */
	uint64_t record_index;  /* container record where message next_unit starts (UINT64_MAX: none) */
	uint64_t record_offset; /* its byte offset (UINT64_MAX: none) */
	uint32_t width, height;
	uint8_t zlib_state;     /* 0: ZRLE stream not started, 1: started (window follows) */
	uint32_t window_len;
	const uint8_t *window;
	uint32_t fb_len;        /* deflated, filtered framebuffer */
	const uint8_t *fb;
};

struct replay_keyframes_id {
	unsigned char header_hash[RECORDING_HASH_LEN];
	uint64_t records;
	uint64_t bytes;
	unsigned char chain[RECORDING_HASH_LEN];
	uint32_t interval_ms;
};

struct replay_keyframes {
	struct replay_keyframes_id id;
	struct replay_keyframe *kf;
	size_t count;
	uint8_t *owned;         /* the file image when this struct owns it */
	size_t owned_len;
	/* while building */
	size_t cap;
	uint32_t building_count;
};

int replay_keyframes_parse(const uint8_t *data, size_t len, struct replay_keyframes *kf,
                           char *err, size_t errlen);
int replay_keyframes_load(const char *path, struct replay_keyframes *kf, char *err, size_t errlen);
int replay_keyframes_store(const char *path, const struct replay_keyframes *kf, char *err, size_t errlen);

void replay_keyframes_begin(struct replay_keyframes *kf, const struct replay_keyframes_id *id);
int replay_keyframes_add(struct replay_keyframes *kf, const struct replay_keyframe *meta,
                         const uint32_t *pixels, const uint8_t *window, char *err, size_t errlen);
int replay_keyframes_finish(struct replay_keyframes *kf, char *err, size_t errlen);

void replay_keyframes_free(struct replay_keyframes *kf);

#endif
