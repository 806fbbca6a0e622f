/*
 * The protocol between the replay engine (parent) and its sandboxed
 * decoder child (server/replay_decoder.c), over one AF_UNIX stream
 * socketpair.  Both ends are on the same machine: integers are in host
 * order.  The parent treats everything the child sends as hostile.
 *
 * Parent -> child: a command header, then `len` payload bytes.
 *   LEG      payload = the leg's handshake unit (up to ServerInit): start a
 *            fresh RFB client for a new leg
 *   UNIT     payload = the bytes of one RFB server message
 *   RESTORE  a = width, b = height; payload = u8 zlib_state (0 not started,
 *            1 started) | u32 window_len | window | the framebuffer, filtered
 *            and deflated (replay_proto_filter_fb): replaces the state
 *   FRAME    a = 1: send the whole framebuffer; 0: only what changed since
 *            the last FRAME/SNAPSHOT/RESTORE (whole when the size changed)
 *   SNAPSHOT reply with the framebuffer and the ZRLE inflater window
 *   PROBE    try to open an AF_INET socket (sandbox self-test)
 *   QUIT     exit
 * Only FRAME, SNAPSHOT and PROBE are answered; a failing child answers the
 * command it failed on (or its next read) with ERROR and exits.
 *
 * Child -> parent: a reply header, then payload_len bytes.
 *   FRAME    flags bit 0: full.  Full: w*h*4 bytes of pixels.  Else nrects
 *            rects (u32 x, y, w, h each) then each rect's pixels, rows top
 *            to bottom; their areas add up to at most w*h (else the child
 *            sends a full frame).  width/height 0 = no framebuffer yet.
 *   SNAPSHOT flags = zlib_state; window_len bytes of window, then w*h*4 pixels
 *   PROBE    flags 1: the socket was opened (sandbox broken); b_errno: errno
 *   ERROR    payload: the reason (text, no NUL), at most REPLAY_MAX_ERROR_TEXT
 *
 * replay_proto_check_reply validates a header against the limits and the
 * kind expected (0, or -1 with `err`); replay_proto_apply_frame validates a
 * FRAME payload completely before copying anything into `fb` (which must
 * hold width*height pixels) and returns the changed rects.  Neither
 * allocates; both are fuzzed (tests/fuzz/fuzz_replay_proto.c).
 */
#ifndef CONCIERGE_REPLAY_PROTO_H
#define CONCIERGE_REPLAY_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "concierge_limits.h"

enum replay_cmd {
	REPLAY_CMD_LEG = 1,
	REPLAY_CMD_UNIT = 2,
	REPLAY_CMD_RESTORE = 3,
	REPLAY_CMD_FRAME = 4,
	REPLAY_CMD_SNAPSHOT = 5,
	REPLAY_CMD_PROBE = 6,
	REPLAY_CMD_QUIT = 7,
};

enum replay_reply_kind {
	REPLAY_REPLY_FRAME = 1,
	REPLAY_REPLY_SNAPSHOT = 2,
	REPLAY_REPLY_PROBE = 3,
	REPLAY_REPLY_ERROR = 4,
};

#define REPLAY_FRAME_FULL 0x1u

struct replay_cmd_hdr {
	uint32_t cmd;
	uint32_t a, b;
	uint32_t len;
};

struct replay_reply_hdr {
	uint32_t kind;
	uint32_t flags;
	uint32_t width, height;
	uint32_t nrects;
	uint32_t window_len;
	uint32_t b_errno;
	uint32_t reserved;
	uint64_t payload_len;
};

struct replay_proto_rect {
	uint32_t x, y, w, h;
};

/* Largest FRAME/SNAPSHOT payload the parent accepts. */
#define REPLAY_MAX_REPLY_PAYLOAD \
	((uint64_t)REPLAY_MAX_PIXELS * 4 + REPLAY_ZLIB_WINDOW + 16 * (uint64_t)REPLAY_MAX_DIRTY_RECTS)

int replay_proto_check_reply(const struct replay_reply_hdr *h, uint32_t expected_kind,
                             char *err, size_t errlen);

/* FRAME payload (h already checked) into fb (h->width * h->height pixels).
 * Full frames are copied whole (*nrects = 0); else the rects are checked
 * (inside the frame, non-empty, sizes adding up to payload exactly) and
 * only then copied, and returned in rects[0..*nrects).  0, or -1 with err
 * (fb untouched). */
int replay_proto_apply_frame(const struct replay_reply_hdr *h, const uint8_t *payload,
                             uint32_t *fb, struct replay_proto_rect rects[REPLAY_MAX_DIRTY_RECTS],
                             size_t *nrects, char *err, size_t errlen);

/* Keyframe framebuffer filter: each pixel minus the pixel above it (mod
 * 2^32), so smooth pictures deflate well.  In place; unfilter undoes it. */
void replay_proto_filter_fb(uint32_t *fb, uint32_t width, uint32_t height);
void replay_proto_unfilter_fb(uint32_t *fb, uint32_t width, uint32_t height);

#endif
