/*
 * Framer for the server -> client direction of the recorder leg's RFB
 * stream (DESIGN.md step 5).  On that stream the relay is the RFB 3.8
 * client, chose security type None, and sent SetPixelFormat (32 bpp true
 * colour, depth 24, little-endian, shifts 16/8/0, maxima 255) and
 * SetEncodings (ZRLE 16, CopyRect 1, Raw 0; pseudo-encodings DesktopSize
 * -223, Cursor -239, LastRect -224).  The framer never decodes pixels: it
 * only finds where each server message ends, so the recorder can append
 * the bytes unchanged and mark the boundaries.
 *
 * Units reported, in stream order:
 *  - RFB_FRAME_HANDSHAKE, once: ProtocolVersion (exactly "RFB 003.008\n"),
 *    the security-type list (must offer None = 1), SecurityResult (must be
 *    0 = OK) and ServerInit (width and height 1..RFB_FRAMER_MAX_DIM, name
 *    at most RFB_FRAMER_MAX_NAME bytes).  info width/height are ServerInit's.
 *  - RFB_FRAME_FB_UPDATE (type 0): rectangles Raw (w*h*4 bytes), CopyRect
 *    (4 bytes, source inside the framebuffer), ZRLE (u32 length, at most
 *    RFB_FRAMER_MAX_MESSAGE, then data), DesktopSize (no data; the new
 *    size, 1..RFB_FRAMER_MAX_DIM, applies to the rectangles after it),
 *    Cursor (w*h*4 + ((w+7)/8)*h bytes, w and h at most RFB_FRAMER_MAX_DIM)
 *    and LastRect (ends the update before its declared count).  Raw,
 *    CopyRect and ZRLE rectangles must lie inside the framebuffer.  A whole
 *    update is at most RFB_FRAMER_MAX_MESSAGE bytes.
 *  - RFB_FRAME_COLOUR_MAP (type 1, SetColourMapEntries: unexpected with a
 *    true-colour format but harmless), RFB_FRAME_BELL (type 2) and
 *    RFB_FRAME_CUT_TEXT (type 3, at most RFB_MAX_CUT_TEXT bytes of text).
 * Anything else (another message type or encoding, a failed handshake,
 * a length or size beyond a limit) is a protocol violation: feed returns
 * -1, rfb_framer_error() says why, and every later feed returns -1 without
 * calling back.  The caller must close the stream (fail closed).
 *
 * Streaming, bounded memory: feed any split of the stream.  The bytes of a
 * unit go to on_bytes in order and unchanged, in as many pieces as suit
 * the input (a piece may hold the end of one unit only, never bytes of
 * two units), then on_message_end reports the boundary.  Only fixed-size
 * headers (at most RFB_FRAMER_MAX_HEADER bytes) are ever held inside;
 * pixel, zlib, name and text bytes are passed straight from the caller's
 * buffer.  feed allocates nothing; the framer's size is fixed at creation.
 * Bytes reach on_bytes only once the header fields that announced them are
 * checked, so the bytes passed never depend on the split, and after a
 * violation the bytes passed end before the offending header; the unit
 * then in progress never gets its on_message_end.
 *
 * Callbacks must not feed or free the framer.  Ownership: rfb_framer_new
 * returns a framer freed with rfb_framer_free (NULL is a no-op).
 */
#ifndef CONCIERGE_RFB_FRAMER_H
#define CONCIERGE_RFB_FRAMER_H

#include <stddef.h>
#include <stdint.h>

#include "concierge_limits.h" /* RFB_FRAMER_MAX_*, RFB_MAX_CUT_TEXT */

enum rfb_frame_type {
	RFB_FRAME_HANDSHAKE = -1,
	RFB_FRAME_FB_UPDATE = 0,
	RFB_FRAME_COLOUR_MAP = 1,
	RFB_FRAME_BELL = 2,
	RFB_FRAME_CUT_TEXT = 3,
};

struct rfb_frame_info {
	enum rfb_frame_type type;
	uint64_t offset;        /* stream offset of the unit's first byte */
	uint64_t length;        /* bytes of the unit, as passed to on_bytes */
	uint32_t width, height; /* framebuffer size after this unit */
	/* FB_UPDATE only */
	uint32_t declared_rects; /* the u16 count in the header */
	uint32_t rects;          /* rectangles present, pseudo ones and LastRect included */
	int size_changed;        /* a DesktopSize rectangle was seen */
	int last_rect;           /* ended by LastRect */
	/* HANDSHAKE: desktop name length; CUT_TEXT: text length; COLOUR_MAP: count */
	uint32_t text_len;
};

struct rfb_framer_callbacks {
	void (*on_bytes)(void *ctx, const uint8_t *data, size_t len);
	void (*on_message_end)(void *ctx, const struct rfb_frame_info *info);
	void *ctx;
};

struct rfb_framer;

struct rfb_framer *rfb_framer_new(const struct rfb_framer_callbacks *callbacks);
void rfb_framer_free(struct rfb_framer *framer);

/* 0, or -1 on a violation (then forever). */
int rfb_framer_feed(struct rfb_framer *framer, const uint8_t *data, size_t len);

/* NULL until a violation, then its reason (owned by the framer). */
const char *rfb_framer_error(const struct rfb_framer *framer);

/* Bytes passed to on_bytes so far. */
uint64_t rfb_framer_offset(const struct rfb_framer *framer);

/* sizeof the framer: all the memory it ever holds. */
size_t rfb_framer_footprint(void);

#endif
