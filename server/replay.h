/*
 * Replay engine: the screen of a session recording (docs/RECORDING.md,
 * "Replay") as framebuffers, at any time, quickly and safely.
 *
 * What is replayed.  The RFB_SERVER_BYTES records of the screen recorder
 * legs (streams 1000 + k, /work/notes conventions): each leg is one RFB 3.8
 * connection in the fixed pixel format (32 bpp, depth 24, little-endian,
 * shifts 16/8/0).  Pixels handed out are uint32_t 0x00RRGGBB, row-major,
 * `width` pixels a row (no padding).  Times are microseconds since the
 * recording's origin, the time stamps of the records: an RFB message counts
 * as applied at the time of the record holding its last byte.  The cursor
 * shape is not drawn into frames.
 *
 * Legs and "no picture".  Leg k covers [start_us, end_us): from its first
 * record to its RECORDER state=stop event (else to the next leg's start,
 * else to the end of the recording).  A leg shows a picture from its first
 * FramebufferUpdate on.  Every time outside a leg, and inside a leg before
 * its first update, has no picture: frames then say has_picture == 0 (with
 * width/height 0 and pixels NULL).
 *
 * Safety.  The parent (caller's process) reads and checks the container
 * and frames the RFB stream (rfb_framer); it never decodes pixels.  Decoding
 * (libvncclient) runs in a forked child with reduced rights (rlimits, no
 * new privileges, no network namespace when permitted, seccomp filter that
 * kills on socket/connect/exec/open) talking to the parent over a
 * length-checked protocol; the parent checks every size against the
 * REPLAY_* limits in concierge_limits.h and waits at most
 * REPLAY_CHILD_TIMEOUT_MS for any progress.  A child that breaks, dies or
 * stalls is an error ("decoder failed: ...") and is replaced by a fresh
 * child on the next call; a hostile stream never harms the parent.
 *
 * Keyframes.  replay_open loads `<recording>.keyframes` (format in
 * docs/RECORDING.md) or, when missing, corrupt, for another recording or
 * stale (the recording grew), builds it by decoding the whole recording
 * once (progress on stderr when it is a terminal) and writes it atomically
 * (0600).  Every seek restores the nearest keyframe at or before the
 * target and decodes forward from there: at most the keyframe interval
 * (default 5 s of recorded time) of updates.  Keyframes are a cache, not
 * evidence: run recording_verify for the recording itself;
 * REPLAY_REBUILD_KEYFRAMES ignores an existing file.
 *
 * Ownership and threads.  replay_open returns a handle closed with
 * replay_close (kills and reaps the child; NULL is a no-op).  Pointers in
 * replay_info/replay_leg stay valid until close; a frame's pixels and rects
 * are owned by the handle and stay valid until the next frame_at/next/close
 * on it.  One handle is used by one thread at a time; separate handles are
 * independent.  SIGPIPE from a dead child is not raised (MSG_NOSIGNAL).
 *
 * Return values.  Functions returning int give -1 with a one-line reason in
 * `err` (errlen bytes, may be NULL) on failure; the handle stays usable
 * after a decoder failure (the next call starts a new child) but a
 * recording that cannot be read or decoded keeps failing at the same place.
 *
 * API stability: the export and play commands build on this header; any
 * change is announced in the commit message.
 */
#ifndef CONCIERGE_REPLAY_H
#define CONCIERGE_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "concierge_limits.h" /* REPLAY_* */

/* Default seconds of recorded time between keyframes. */
#define REPLAY_KEYFRAME_INTERVAL_MS 5000u

/* Suffix of the keyframes file written next to the recording. */
#define REPLAY_KEYFRAMES_SUFFIX ".keyframes"

/* replay_options.flags */
#define REPLAY_REBUILD_KEYFRAMES 0x01u /* ignore an existing keyframes file; build and replace it */
#define REPLAY_KEYFRAMES_IN_MEMORY 0x02u /* never read or write the keyframes file (read-only media) */
#define REPLAY_PROGRESS_NEVER 0x04u    /* no progress even on a terminal */

struct replay_options {
	unsigned flags;                /* REPLAY_* above */
	uint32_t keyframe_interval_ms; /* 0: REPLAY_KEYFRAME_INTERVAL_MS; used when building */
	uint32_t child_timeout_ms;     /* 0: REPLAY_CHILD_TIMEOUT_MS; longest wait for the child */
};

/* flags 0, defaults for the rest. */
void replay_options_default(struct replay_options *opts);

struct replay_leg {
	uint16_t stream;          /* 1000 + k */
	uint64_t start_us;        /* first record of the leg */
	uint64_t end_us;          /* exclusive: stop event, next leg or end of recording */
	uint64_t first_update_us; /* first FramebufferUpdate: the picture starts; UINT64_MAX: none */
	uint32_t width, height;   /* ServerInit size */
	uint64_t updates;         /* FramebufferUpdate messages */
	int complete;             /* 1: every byte of the leg frames as whole RFB messages */
	char problem[160];        /* complete == 0: why the replay of this leg stops early, e.g.
	                             "RFB stream broken at byte 1234: unknown message type 9" or
	                             "ends inside a message" (a crash); the leg replays up to there */
};

/* How the keyframes were obtained by replay_open. */
enum replay_keyframes_origin {
	REPLAY_KEYFRAMES_LOADED = 0,  /* read from the valid keyframes file */
	REPLAY_KEYFRAMES_BUILT = 1,   /* none existed: built (and written unless IN_MEMORY) */
	REPLAY_KEYFRAMES_REBUILT = 2, /* the file was corrupt, mismatched or stale (or REBUILD asked):
	                                 rebuilt; keyframes_note says why */
};

struct replay_info {
	uint64_t duration_us;     /* time of the last data record (0 for an empty recording) */
	int recording_complete;   /* 1: the trailer was reached; 0: the file stops early (crash) */
	size_t legs;              /* screen legs, in order of their start */
	size_t keyframes;
	enum replay_keyframes_origin keyframes_origin;
	char keyframes_note[256]; /* REBUILT: why, e.g. "stale: the recording grew"; else "" */
	double keyframes_build_s; /* wall-clock seconds spent building (0 when loaded) */
	char keyframes_path[REPLAY_MAX_PATH]; /* "" when IN_MEMORY */
};

struct replay_rect {
	uint32_t x, y, w, h;
};

struct replay_frame {
	int has_picture;          /* 0: no picture at this time (no leg, or before its first update) */
	uint64_t time_us;         /* frame_at: the time asked for; next: the time of the change */
	uint64_t update_us;       /* has_picture: time of the last applied update */
	int leg;                  /* index into the leg list, -1 outside every leg */
	uint32_t width, height;   /* 0 without a picture */
	const uint32_t *pixels;   /* width * height 0x00RRGGBB, NULL without a picture */
	/* replay_next: what changed since the previous frame of this handle.
	 * full_change = 1 when the whole frame must be redrawn (first picture,
	 * size change, picture ended or started, after a seek); else the
	 * changed area is the union of rects[0..nrects) (at most
	 * REPLAY_MAX_DIRTY_RECTS: more are merged into their bounding box).
	 * frame_at always sets full_change = 1 and nrects = 0. */
	int full_change;
	size_t nrects;
	const struct replay_rect *rects;
};

struct replay;

/* Opens the recording at `path` (read-only; it may be a recording still
 * being written or cut short by a crash: what is there is replayed), scans
 * it (chain checked, RFB framed) and loads or builds its keyframes.
 * `opts` may be NULL for the defaults.  0 with *out, or -1 with `err`. */
int replay_open(const char *path, const struct replay_options *opts, struct replay **out,
                char *err, size_t errlen);

const struct replay_info *replay_info(const struct replay *r);

/* Leg i (0 <= i < info->legs), NULL otherwise. */
const struct replay_leg *replay_leg(const struct replay *r, size_t i);

/* The screen at `time_us`: every update with time <= time_us applied
 * (times past the end give the last state).  Sets the playback position
 * to time_us.  0 with *frame filled (has_picture says whether there is a
 * picture), -1 with `err`. */
int replay_frame_at(struct replay *r, uint64_t time_us, struct replay_frame *frame,
                    char *err, size_t errlen);

/* Playback: advances from the current position (0 after open, else the
 * time of the last frame_at/next) to the next time the picture changes: an
 * update that changed pixels (updates changing nothing, e.g. cursor only,
 * are skipped), a leg's first picture, or the end of a leg's picture.
 * 1 with *frame (time_us = the time of that change), 0 when nothing
 * changes after the position (frame untouched), -1 with `err`. */
int replay_next(struct replay *r, struct replay_frame *frame, char *err, size_t errlen);

/* Kills and reaps the decoder child, frees everything.  NULL is a no-op. */
void replay_close(struct replay *r);

/* ---- diagnostics ------------------------------------------------------ */

/* Sandbox self-test (for tests and `--check-sandbox` style commands): asks
 * the decoder child to open an AF_INET socket, which the sandbox must
 * forbid.  0 with *blocked = 1 when the child was killed by the seccomp
 * filter (SIGSYS) or the call was refused, *blocked = 0 when the socket
 * was opened (sandbox broken); `how` (howlen bytes) describes the outcome.
 * The child is replaced afterwards.  -1 with `err` when the test could not
 * run. */
int replay_probe_sandbox(struct replay *r, int *blocked, char *how, size_t howlen,
                         char *err, size_t errlen);

/* The keyframes file name for `recording_path` into out[len]; 0, or -1 when
 * it does not fit. */
int replay_keyframes_path(const char *recording_path, char *out, size_t len);

#endif
