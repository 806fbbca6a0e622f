/*
 * Client side of the recorder leg (DESIGN.md step 5): the RFB 3.8 client
 * the relay runs on one extra screen stream from the agent, so it can store
 * the server->client bytes unchanged without ever decoding a pixel.
 *
 * Pure state machine, no I/O: the owner moves bytes.
 *  - recorder_leg_new sends (through callbacks->send) the whole client
 *    handshake at once: "RFB 003.008\n", security type None (1) and
 *    ClientInit with the shared flag.  RFB servers read these with exact
 *    lengths, so pipelining them is safe and saves two round trips.
 *  - recorder_leg_feed takes server->client bytes in any split.  They are
 *    framed by rfb_framer (see rfb_framer.h for what is accepted); each
 *    unit's bytes go to callbacks->on_bytes unchanged, then on_unit_end.
 *    When the handshake unit ends (ServerInit seen) the leg sends
 *    SetPixelFormat (32 bpp, depth 24, true colour, little-endian, shifts
 *    16/8/0, maxima 255), SetEncodings (ZRLE, CopyRect, Raw, DesktopSize,
 *    Cursor, LastRect) and a full FramebufferUpdateRequest; after each
 *    FramebufferUpdate it asks for the next incremental one (for the
 *    current size), so exactly one request is outstanding and the server
 *    sends changes as they happen.
 *  - Returns 0, or -1 once the server broke the protocol (then forever;
 *    recorder_leg_error says why): the owner closes the stream and, since
 *    nothing more can be recorded, fails closed.
 * Callbacks must not feed or free the leg.  Ownership: recorder_leg_new
 * returns a leg freed with recorder_leg_free (NULL is a no-op).
 */
#ifndef CONCIERGE_RECORDER_LEG_H
#define CONCIERGE_RECORDER_LEG_H

#include <stddef.h>
#include <stdint.h>

#include "rfb_framer.h"

struct recorder_leg_callbacks {
	void (*send)(void *ctx, const uint8_t *data, size_t len);          /* client -> server */
	void (*on_bytes)(void *ctx, const uint8_t *data, size_t len);      /* server -> client, unchanged */
	void (*on_unit_end)(void *ctx, const struct rfb_frame_info *info);
	void *ctx;
};

struct recorder_leg;

struct recorder_leg *recorder_leg_new(const struct recorder_leg_callbacks *callbacks);
void recorder_leg_free(struct recorder_leg *leg);

int recorder_leg_feed(struct recorder_leg *leg, const uint8_t *data, size_t len);

/* NULL until a violation, then its reason (owned by the leg). */
const char *recorder_leg_error(const struct recorder_leg *leg);

/* Framebuffer size from ServerInit and DesktopSize; 0 before ServerInit. */
void recorder_leg_size(const struct recorder_leg *leg, uint32_t *width, uint32_t *height);

/* FramebufferUpdates received so far. */
uint64_t recorder_leg_updates(const struct recorder_leg *leg);

#endif
