#include "replay_proto.h"

#include <string.h>

#include "errbuf.h"

static int size_ok(uint32_t w, uint32_t h)
{
	return w >= 1 && h >= 1 && w <= RFB_FRAMER_MAX_DIM && h <= RFB_FRAMER_MAX_DIM &&
	       (uint64_t)w * h <= REPLAY_MAX_PIXELS;
}

int replay_proto_check_reply(const struct replay_reply_hdr *h, uint32_t expected_kind,
                             char *err, size_t errlen)
{
	uint64_t pixels_bytes;

	if (h->kind == REPLAY_REPLY_ERROR) {
		if (h->payload_len > REPLAY_MAX_ERROR_TEXT) {
			errbuf_set(err, errlen, "error text of %llu bytes (limit %d)",
			           (unsigned long long)h->payload_len, REPLAY_MAX_ERROR_TEXT);
			return -1;
		}
		return 0;
	}
	if (h->kind != expected_kind) {
		errbuf_set(err, errlen, "reply kind %u where %u was expected", h->kind, expected_kind);
		return -1;
	}
	switch (h->kind) {
	case REPLAY_REPLY_PROBE:
		if (h->payload_len != 0 || h->flags > 1) {
			errbuf_set(err, errlen, "malformed probe reply");
			return -1;
		}
		return 0;
	case REPLAY_REPLY_FRAME:
	case REPLAY_REPLY_SNAPSHOT:
		if (h->width == 0 && h->height == 0) {
			if (h->payload_len != 0 || h->nrects != 0 || h->window_len != 0) {
				errbuf_set(err, errlen, "payload without a framebuffer");
				return -1;
			}
			return 0;
		}
		if (!size_ok(h->width, h->height)) {
			errbuf_set(err, errlen, "framebuffer %ux%u outside the limits", h->width, h->height);
			return -1;
		}
		pixels_bytes = (uint64_t)h->width * h->height * 4;
		if (h->kind == REPLAY_REPLY_SNAPSHOT) {
			if (h->flags > 1 || h->window_len > REPLAY_ZLIB_WINDOW ||
			    (h->flags == 0 && h->window_len != 0) || h->nrects != 0 ||
			    h->payload_len != h->window_len + pixels_bytes) {
				errbuf_set(err, errlen, "malformed snapshot reply");
				return -1;
			}
			return 0;
		}
		if (h->flags & ~REPLAY_FRAME_FULL || h->window_len != 0) {
			errbuf_set(err, errlen, "malformed frame reply");
			return -1;
		}
		if (h->flags & REPLAY_FRAME_FULL) {
			if (h->nrects != 0 || h->payload_len != pixels_bytes) {
				errbuf_set(err, errlen, "full frame of %llu bytes for %ux%u",
				           (unsigned long long)h->payload_len, h->width, h->height);
				return -1;
			}
			return 0;
		}
		if (h->nrects > REPLAY_MAX_DIRTY_RECTS ||
		    h->payload_len < 16 * (uint64_t)h->nrects ||
		    h->payload_len > 16 * (uint64_t)h->nrects + pixels_bytes) {
			errbuf_set(err, errlen, "frame with %u rects and %llu bytes", h->nrects,
			           (unsigned long long)h->payload_len);
			return -1;
		}
		return 0;
	default:
		errbuf_set(err, errlen, "unknown reply kind %u", h->kind);
		return -1;
	}
}

int replay_proto_apply_frame(const struct replay_reply_hdr *h, const uint8_t *payload,
                             uint32_t *fb, struct replay_proto_rect rects[REPLAY_MAX_DIRTY_RECTS],
                             size_t *nrects, char *err, size_t errlen)
{
	uint64_t need;
	const uint8_t *px;

	*nrects = 0;
	if (h->kind != REPLAY_REPLY_FRAME || h->width == 0) {
		errbuf_set(err, errlen, "not a frame with pixels");
		return -1;
	}
	if (h->flags & REPLAY_FRAME_FULL) {
		if (h->payload_len != (uint64_t)h->width * h->height * 4) {
			errbuf_set(err, errlen, "full frame size mismatch");
			return -1;
		}
		memcpy(fb, payload, (size_t)h->payload_len);
		return 0;
	}
	if (h->nrects > REPLAY_MAX_DIRTY_RECTS) {
		errbuf_set(err, errlen, "too many rects");
		return -1;
	}
	need = 16 * (uint64_t)h->nrects;
	for (uint32_t i = 0; i < h->nrects; i++) {
		struct replay_proto_rect r;

		memcpy(&r, payload + 16 * (size_t)i, sizeof r);
		if (r.w == 0 || r.h == 0 || r.x >= h->width || r.y >= h->height ||
		    r.w > h->width - r.x || r.h > h->height - r.y) {
			errbuf_set(err, errlen, "rect %u,%u %ux%u outside the %ux%u frame", r.x, r.y, r.w,
			           r.h, h->width, h->height);
			return -1;
		}
		need += (uint64_t)r.w * r.h * 4;
		if (need > h->payload_len)
			break;
		rects[i] = r;
	}
	if (need != h->payload_len) {
		errbuf_set(err, errlen, "frame payload %llu bytes, rects need %llu",
		           (unsigned long long)h->payload_len, (unsigned long long)need);
		return -1;
	}
	px = payload + 16 * (size_t)h->nrects;
	for (uint32_t i = 0; i < h->nrects; i++) {
		for (uint32_t y = 0; y < rects[i].h; y++) {
			memcpy(fb + (size_t)(rects[i].y + y) * h->width + rects[i].x, px, (size_t)rects[i].w * 4);
			px += (size_t)rects[i].w * 4;
		}
	}
	*nrects = h->nrects;
	return 0;
}

void replay_proto_filter_fb(uint32_t *fb, uint32_t width, uint32_t height)
{
	/* Bottom-up, so each row still sees the original row above it. */
	for (uint32_t y = height; y-- > 1;)
		for (uint32_t x = 0; x < width; x++)
			fb[(size_t)y * width + x] -= fb[(size_t)(y - 1) * width + x];
}

void replay_proto_unfilter_fb(uint32_t *fb, uint32_t width, uint32_t height)
{
	for (uint32_t y = 1; y < height; y++)
		for (uint32_t x = 0; x < width; x++)
			fb[(size_t)y * width + x] += fb[(size_t)(y - 1) * width + x];
}
