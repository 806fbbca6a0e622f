/* Recorder-leg RFB client: see recorder_leg.h for the contract. */
#include "recorder_leg.h"

#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

/* Encodings the framer can frame without decoding (RFC 6143 numbers). */
static const int32_t leg_encodings[] = {
	16,   /* ZRLE */
	1,    /* CopyRect */
	0,    /* Raw */
	-223, /* DesktopSize */
	-239, /* Cursor */
	-224, /* LastRect */
};

struct recorder_leg {
	struct recorder_leg_callbacks cb;
	struct rfb_framer *framer;
	uint32_t width, height;
	uint64_t updates;
};

static void put_u16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void request_update(struct recorder_leg *leg, int incremental)
{
	uint8_t msg[10] = { 3, (uint8_t)(incremental ? 1 : 0) };

	put_u16(msg + 2, 0);
	put_u16(msg + 4, 0);
	put_u16(msg + 6, leg->width);
	put_u16(msg + 8, leg->height);
	leg->cb.send(leg->cb.ctx, msg, sizeof msg);
}

/* SetPixelFormat + SetEncodings + the first, full update request. */
static void send_setup(struct recorder_leg *leg)
{
	uint8_t msg[20 + 4 + 4 * (sizeof leg_encodings / sizeof leg_encodings[0])];
	uint8_t *p = msg;

	memset(msg, 0, sizeof msg);
	p[0] = 0;            /* SetPixelFormat; 3 padding bytes */
	p[4] = 32;           /* bits per pixel */
	p[5] = 24;           /* depth */
	p[6] = 0;            /* little-endian */
	p[7] = 1;            /* true colour */
	put_u16(p + 8, 255);
	put_u16(p + 10, 255);
	put_u16(p + 12, 255);
	p[14] = 16;          /* red shift */
	p[15] = 8;           /* green shift */
	p[16] = 0;           /* blue shift; 3 padding bytes */
	p += 20;
	p[0] = 2;            /* SetEncodings; 1 padding byte */
	put_u16(p + 2, (uint32_t)(sizeof leg_encodings / sizeof leg_encodings[0]));
	p += 4;
	for (size_t i = 0; i < sizeof leg_encodings / sizeof leg_encodings[0]; i++, p += 4)
		put_u32(p, (uint32_t)leg_encodings[i]);
	leg->cb.send(leg->cb.ctx, msg, sizeof msg);
	request_update(leg, 0);
}

static void leg_on_bytes(void *ctx, const uint8_t *data, size_t len)
{
	struct recorder_leg *leg = ctx;

	leg->cb.on_bytes(leg->cb.ctx, data, len);
}

static void leg_on_message_end(void *ctx, const struct rfb_frame_info *info)
{
	struct recorder_leg *leg = ctx;

	leg->width = info->width;
	leg->height = info->height;
	leg->cb.on_unit_end(leg->cb.ctx, info);
	if (info->type == RFB_FRAME_HANDSHAKE) {
		send_setup(leg);
	} else if (info->type == RFB_FRAME_FB_UPDATE) {
		leg->updates++;
		request_update(leg, 1);
	}
}

struct recorder_leg *recorder_leg_new(const struct recorder_leg_callbacks *callbacks)
{
	static const uint8_t hello[12 + 1 + 1] = { 'R', 'F', 'B', ' ', '0', '0', '3', '.',
	                                           '0', '0', '8', '\n',
	                                           1,    /* security type None */
	                                           1 };  /* ClientInit: shared */
	struct recorder_leg *leg = xcalloc(1, sizeof *leg);
	struct rfb_framer_callbacks fc = { leg_on_bytes, leg_on_message_end, leg };

	leg->cb = *callbacks;
	leg->framer = rfb_framer_new(&fc);
	leg->cb.send(leg->cb.ctx, hello, sizeof hello);
	return leg;
}

void recorder_leg_free(struct recorder_leg *leg)
{
	if (leg == NULL)
		return;
	rfb_framer_free(leg->framer);
	free(leg);
}

int recorder_leg_feed(struct recorder_leg *leg, const uint8_t *data, size_t len)
{
	return rfb_framer_feed(leg->framer, data, len);
}

const char *recorder_leg_error(const struct recorder_leg *leg)
{
	return rfb_framer_error(leg->framer);
}

void recorder_leg_size(const struct recorder_leg *leg, uint32_t *width, uint32_t *height)
{
	*width = leg->width;
	*height = leg->height;
}

uint64_t recorder_leg_updates(const struct recorder_leg *leg)
{
	return leg->updates;
}
