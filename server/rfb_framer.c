/*
 * RFB server -> client framer for the recorder leg: see rfb_framer.h for
 * the contract.
 *
 * The stream alternates between headers and bodies.  A header (the 12-byte
 * ProtocolVersion, the security-type list, SecurityResult, ServerInit, a
 * message header, a rectangle header, CopyRect's source, ZRLE's length) is
 * collected in hdr[] until complete, then checked; only then are its bytes
 * committed: extended onto the run of committed bytes still in the
 * caller's buffer when the whole header arrived in this feed, otherwise
 * (it began in an earlier feed) passed from hdr[] after the run.  A body
 * (desktop name, pixels, cursor, zlib data, colour map, cut text) is
 * committed as it arrives, its length having been checked with its header.
 * The run is handed to on_bytes at each unit's end, before a violation
 * returns, and at the end of each feed.
 *
 * Decisions made here:
 *  - Only "RFB 003.008\n" is accepted: the relay's client asks for 3.8 and
 *    the security handshake below is 3.8's (a SecurityResult even for None).
 *  - The security list must offer None (1), the type the relay chooses; an
 *    empty list (the server refusing, with a reason) is a violation.
 *  - ServerInit's pixel format is the server's native one and is not
 *    checked: the relay's SetPixelFormat replaces it, and the framer only
 *    relies on that format for its 4 bytes per pixel.
 *  - DesktopSize's x and y are ignored (RFC 6143 says 0); Cursor's x and y
 *    are the hotspot and are not checked against the framebuffer.
 *  - A rectangle of width or height 0 is allowed (its body is empty).
 *  - Limits are checked in 64-bit arithmetic with explicit overflow checks,
 *    so no declared length can wrap.
 */
#include "rfb_framer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concierge_limits.h"
#include "xmalloc.h"

enum framer_state {
	ST_VERSION,     /* header: 12 bytes */
	ST_SEC_LIST,    /* header: count, then 1 + count bytes */
	ST_SEC_RESULT,  /* header: 4 bytes */
	ST_SERVER_INIT, /* header: 24 bytes */
	ST_NAME,        /* body */
	ST_MSG,         /* header: type byte, then the type's fixed header */
	ST_RECT,        /* header: 12 bytes */
	ST_COPY_SRC,    /* header: 4 bytes */
	ST_ZRLE_LEN,    /* header: 4 bytes */
	ST_RECT_BODY,   /* body */
	ST_COLOUR_BODY, /* body */
	ST_CUT_BODY,    /* body */
	ST_FAILED,
};

enum {
	MSG_FB_UPDATE = 0,
	MSG_COLOUR_MAP = 1,
	MSG_BELL = 2,
	MSG_CUT_TEXT = 3,
};

enum {
	ENC_RAW = 0,
	ENC_COPY_RECT = 1,
	ENC_ZRLE = 16,
	ENC_DESKTOP_SIZE = -223,
	ENC_LAST_RECT = -224,
	ENC_CURSOR = -239,
};

#define VERSION_LEN     12
#define SERVER_INIT_LEN 24
#define RECT_HEADER_LEN 12
#define BYTES_PER_PIXEL 4 /* the relay's SetPixelFormat: 32 bpp */
#define SECURITY_NONE   1
#define ERROR_MAX       160

struct rfb_framer {
	struct rfb_framer_callbacks cb;
	struct rfb_frame_info info; /* the unit in progress */
	uint64_t offset;            /* bytes passed to on_bytes */
	uint64_t unit_start;        /* offset of the unit in progress */
	uint64_t remaining;         /* body bytes still to come */
	uint64_t msg_len;           /* FB_UPDATE bytes committed or announced */
	uint32_t fb_w, fb_h;
	uint32_t rect_x, rect_y, rect_w, rect_h; /* the rectangle in progress */
	uint32_t have, need;        /* header bytes held / wanted */
	uint8_t state;              /* enum framer_state */
	uint8_t end_pending;        /* the unit ends once its bytes are committed */
	uint8_t hdr[RFB_FRAMER_MAX_HEADER];
	char error[ERROR_MAX];      /* "" until a violation */
};

_Static_assert(sizeof(struct rfb_framer) <= 1024, "the framer's whole state stays small");
_Static_assert(SERVER_INIT_LEN <= RFB_FRAMER_MAX_HEADER && 1 + 255 <= RFB_FRAMER_MAX_HEADER,
               "every header fits hdr[]");
_Static_assert(RFB_MAX_CUT_TEXT < UINT32_MAX / 2, "cut text length check excludes the sign bit");

/* Committed bytes still in the caller's buffer: data[start, end). */
struct run {
	const uint8_t *data;
	size_t start, end;
};

static uint32_t be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int violation(struct rfb_framer *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int violation(struct rfb_framer *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->error, sizeof f->error, fmt, ap);
	va_end(ap);
	if (f->error[0] == '\0')
		snprintf(f->error, sizeof f->error, "protocol violation");
	f->state = ST_FAILED;
	f->have = 0;
	f->remaining = 0;
	return -1;
}

static void pass(struct rfb_framer *f, const uint8_t *p, size_t n)
{
	if (n == 0)
		return;
	f->cb.on_bytes(f->cb.ctx, p, n);
	f->offset += n;
}

static void flush_run(struct rfb_framer *f, struct run *r)
{
	pass(f, r->data + r->start, r->end - r->start);
	r->start = r->end;
}

static void expect_header(struct rfb_framer *f, enum framer_state state, uint32_t need)
{
	f->state = (uint8_t)state;
	f->need = need;
}

static void expect_body(struct rfb_framer *f, enum framer_state state, uint64_t len)
{
	f->state = (uint8_t)state;
	f->remaining = len;
}

static void start_unit(struct rfb_framer *f)
{
	memset(&f->info, 0, sizeof f->info);
	f->unit_start = f->offset;
	f->msg_len = 0;
	f->end_pending = 0;
	expect_header(f, ST_MSG, 1);
}

static void end_unit(struct rfb_framer *f, struct run *r)
{
	flush_run(f, r);
	f->info.offset = f->unit_start;
	f->info.length = f->offset - f->unit_start;
	f->info.width = f->fb_w;
	f->info.height = f->fb_h;
	f->cb.on_message_end(f->cb.ctx, &f->info);
	start_unit(f);
}

/* Adds `more` to the update's length unless that passes the limit. */
static int grow_update(struct rfb_framer *f, uint64_t more, const char *what)
{
	uint64_t total;

	if (__builtin_add_overflow(f->msg_len, more, &total) || total > RFB_FRAMER_MAX_MESSAGE)
		return violation(f, "FramebufferUpdate at offset %llu exceeds %u bytes at %s (rect %u)",
		                 (unsigned long long)f->unit_start, RFB_FRAMER_MAX_MESSAGE, what,
		                 f->info.rects);
	f->msg_len = total;
	return 0;
}

static void rect_done(struct rfb_framer *f)
{
	if (f->info.rects == f->info.declared_rects)
		f->end_pending = 1;
	else
		expect_header(f, ST_RECT, RECT_HEADER_LEN);
}

static int check_inside(struct rfb_framer *f, uint32_t x, uint32_t y, const char *what)
{
	/* Operands are at most 16 bits: the sums cannot wrap. */
	if (x + f->rect_w <= f->fb_w && y + f->rect_h <= f->fb_h)
		return 0;
	return violation(f, "%s %ux%u at %u,%u is outside the %ux%u framebuffer (rect %u)", what,
	                 f->rect_w, f->rect_h, x, y, f->fb_w, f->fb_h, f->info.rects);
}

static int check_size(struct rfb_framer *f, uint32_t w, uint32_t h, const char *what)
{
	if (w >= 1 && h >= 1 && w <= RFB_FRAMER_MAX_DIM && h <= RFB_FRAMER_MAX_DIM)
		return 0;
	return violation(f, "%s framebuffer size %ux%u is outside 1x1..%ux%u", what, w, h,
	                 RFB_FRAMER_MAX_DIM, RFB_FRAMER_MAX_DIM);
}

static int rect_header(struct rfb_framer *f, const uint8_t *h)
{
	uint32_t x = be16(h), y = be16(h + 2);
	int32_t enc = (int32_t)be32(h + 8);
	uint64_t body, mask;

	f->rect_x = x;
	f->rect_y = y;
	f->rect_w = be16(h + 4);
	f->rect_h = be16(h + 6);
	f->info.rects++;
	switch (enc) {
	case ENC_RAW:
		if (check_inside(f, x, y, "Raw rect") < 0)
			return -1;
		/* w, h <= 16384 here: at most 2^30 bytes, no overflow in 64 bits. */
		body = (uint64_t)f->rect_w * f->rect_h * BYTES_PER_PIXEL;
		if (grow_update(f, RECT_HEADER_LEN + body, "a Raw rect") < 0)
			return -1;
		expect_body(f, ST_RECT_BODY, body);
		return 0;
	case ENC_COPY_RECT:
		if (check_inside(f, x, y, "CopyRect") < 0 ||
		    grow_update(f, RECT_HEADER_LEN, "a CopyRect") < 0)
			return -1;
		expect_header(f, ST_COPY_SRC, 4);
		return 0;
	case ENC_ZRLE:
		if (check_inside(f, x, y, "ZRLE rect") < 0 ||
		    grow_update(f, RECT_HEADER_LEN, "a ZRLE rect") < 0)
			return -1;
		expect_header(f, ST_ZRLE_LEN, 4);
		return 0;
	case ENC_DESKTOP_SIZE:
		if (check_size(f, f->rect_w, f->rect_h, "DesktopSize") < 0 ||
		    grow_update(f, RECT_HEADER_LEN, "DesktopSize") < 0)
			return -1;
		f->fb_w = f->rect_w;
		f->fb_h = f->rect_h;
		f->info.size_changed = 1;
		rect_done(f);
		return 0;
	case ENC_CURSOR:
		if (f->rect_w > RFB_FRAMER_MAX_DIM || f->rect_h > RFB_FRAMER_MAX_DIM)
			return violation(f, "Cursor %ux%u exceeds %ux%u", f->rect_w, f->rect_h,
			                 RFB_FRAMER_MAX_DIM, RFB_FRAMER_MAX_DIM);
		if (__builtin_mul_overflow((uint64_t)f->rect_w * f->rect_h, BYTES_PER_PIXEL, &body) ||
		    __builtin_mul_overflow(((uint64_t)f->rect_w + 7) / 8, f->rect_h, &mask) ||
		    __builtin_add_overflow(body, mask, &body) ||
		    __builtin_add_overflow(body, RECT_HEADER_LEN, &body))
			return violation(f, "Cursor %ux%u size overflows", f->rect_w, f->rect_h);
		if (grow_update(f, body, "a Cursor") < 0)
			return -1;
		expect_body(f, ST_RECT_BODY, body - RECT_HEADER_LEN);
		return 0;
	case ENC_LAST_RECT:
		if (grow_update(f, RECT_HEADER_LEN, "LastRect") < 0)
			return -1;
		f->info.last_rect = 1;
		f->end_pending = 1;
		return 0;
	default:
		return violation(f, "FramebufferUpdate rect %u has encoding %d, which was not requested",
		                 f->info.rects, (int)enc);
	}
}

/* Message type byte known (have == 1) or whole fixed header (have == need). */
static int msg_header(struct rfb_framer *f, const uint8_t *h)
{
	uint32_t n;

	if (f->have == 1) {
		f->info.type = (enum rfb_frame_type)h[0];
		switch (h[0]) {
		case MSG_FB_UPDATE:
			f->need = 4;
			return 1;
		case MSG_COLOUR_MAP:
			f->need = 6;
			return 1;
		case MSG_BELL:
			f->end_pending = 1;
			return 0;
		case MSG_CUT_TEXT:
			f->need = 8;
			return 1;
		default:
			return violation(f, "server message type %u at offset %llu is not allowed", h[0],
			                 (unsigned long long)f->unit_start);
		}
	}
	switch (h[0]) {
	case MSG_FB_UPDATE:
		f->info.declared_rects = be16(h + 2);
		if (grow_update(f, 4, "its header") < 0)
			return -1;
		if (f->info.declared_rects == 0)
			f->end_pending = 1;
		else
			expect_header(f, ST_RECT, RECT_HEADER_LEN);
		return 0;
	case MSG_COLOUR_MAP:
		n = be16(h + 4);
		f->info.text_len = n;
		expect_body(f, ST_COLOUR_BODY, (uint64_t)n * 6);
		return 0;
	case MSG_CUT_TEXT:
		n = be32(h + 4);
		if (n > RFB_MAX_CUT_TEXT)
			return violation(f, "ServerCutText of %u bytes exceeds %u", n,
			                 (unsigned)RFB_MAX_CUT_TEXT);
		f->info.text_len = n;
		expect_body(f, ST_CUT_BODY, n);
		return 0;
	default:
		return violation(f, "internal: bad message state");
	}
}

/*
 * The header in hdr[0, have) is complete for now: check it and choose what
 * follows.  Returns 1 when it needs more bytes first (need raised), 0 when
 * it may be committed, -1 on a violation.
 */
static int header_done(struct rfb_framer *f)
{
	const uint8_t *h = f->hdr;
	uint32_t v, w, ht;

	switch (f->state) {
	case ST_VERSION:
		if (memcmp(h, "RFB 003.008\n", VERSION_LEN) != 0)
			return violation(f, "server ProtocolVersion is not \"RFB 003.008\\n\"");
		expect_header(f, ST_SEC_LIST, 1);
		return 0;
	case ST_SEC_LIST:
		if (f->have == 1) {
			if (h[0] == 0)
				return violation(f, "server offered no security types (connection refused)");
			f->need = 1u + h[0];
			return 1;
		}
		if (memchr(h + 1, SECURITY_NONE, h[0]) == NULL)
			return violation(f, "server does not offer security type None");
		expect_header(f, ST_SEC_RESULT, 4);
		return 0;
	case ST_SEC_RESULT:
		v = be32(h);
		if (v != 0)
			return violation(f, "SecurityResult is %u, not OK", v);
		expect_header(f, ST_SERVER_INIT, SERVER_INIT_LEN);
		return 0;
	case ST_SERVER_INIT:
		w = be16(h);
		ht = be16(h + 2);
		v = be32(h + 20);
		if (check_size(f, w, ht, "ServerInit") < 0)
			return -1;
		if (v > RFB_FRAMER_MAX_NAME)
			return violation(f, "ServerInit name of %u bytes exceeds %u", v, RFB_FRAMER_MAX_NAME);
		f->fb_w = w;
		f->fb_h = ht;
		f->info.text_len = v;
		expect_body(f, ST_NAME, v);
		return 0;
	case ST_MSG:
		return msg_header(f, h);
	case ST_RECT:
		return rect_header(f, h);
	case ST_COPY_SRC:
		if (check_inside(f, be16(h), be16(h + 2), "CopyRect source") < 0 ||
		    grow_update(f, 4, "a CopyRect source") < 0)
			return -1;
		rect_done(f);
		return 0;
	case ST_ZRLE_LEN:
		v = be32(h);
		if (grow_update(f, 4 + (uint64_t)v, "a ZRLE rect's data") < 0)
			return -1;
		expect_body(f, ST_RECT_BODY, v);
		return 0;
	default:
		return violation(f, "internal: bad header state %u", f->state);
	}
}

static int is_body(const struct rfb_framer *f)
{
	return f->state == ST_NAME || f->state == ST_RECT_BODY || f->state == ST_COLOUR_BODY ||
	       f->state == ST_CUT_BODY;
}

/* After a commit: finish empty or completed bodies and ended units. */
static void settle(struct rfb_framer *f, struct run *r)
{
	if (is_body(f) && f->remaining == 0) {
		if (f->state == ST_RECT_BODY)
			rect_done(f);
		else
			f->end_pending = 1;
	}
	if (f->end_pending)
		end_unit(f, r);
}

struct rfb_framer *rfb_framer_new(const struct rfb_framer_callbacks *callbacks)
{
	struct rfb_framer *f = xcalloc(1, sizeof *f);

	f->cb = *callbacks;
	f->info.type = RFB_FRAME_HANDSHAKE;
	expect_header(f, ST_VERSION, VERSION_LEN);
	return f;
}

void rfb_framer_free(struct rfb_framer *f)
{
	free(f);
}

int rfb_framer_feed(struct rfb_framer *f, const uint8_t *data, size_t len)
{
	struct run r = { data, 0, 0 };
	size_t pos = 0;

	if (f->state == ST_FAILED)
		return -1;
	while (pos < len) {
		size_t n;
		int rc;

		if (is_body(f)) {
			n = len - pos;
			if (n > f->remaining)
				n = (size_t)f->remaining;
			pos += n;
			r.end = pos;
			f->remaining -= n;
			settle(f, &r);
			continue;
		}
		n = f->need - f->have;
		if (n > len - pos)
			n = len - pos;
		memcpy(f->hdr + f->have, data + pos, n);
		f->have += (uint32_t)n;
		pos += n;
		if (f->have < f->need)
			break;
		rc = header_done(f);
		if (rc < 0) {
			flush_run(f, &r);
			return -1;
		}
		if (rc > 0)
			continue;
		if (pos - r.end == f->have) {
			r.end = pos;
		} else {
			/* Began in an earlier feed, so nothing of this feed is in the run. */
			flush_run(f, &r);
			pass(f, f->hdr, f->have);
			r.start = r.end = pos;
		}
		f->have = 0;
		settle(f, &r);
	}
	flush_run(f, &r);
	return 0;
}

const char *rfb_framer_error(const struct rfb_framer *f)
{
	return f->error[0] ? f->error : NULL;
}

uint64_t rfb_framer_offset(const struct rfb_framer *f)
{
	return f->offset;
}

size_t rfb_framer_footprint(void)
{
	return sizeof(struct rfb_framer);
}
