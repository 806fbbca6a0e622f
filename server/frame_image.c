#include "frame_image.h"

#include "bitmap_font.h"

void frame_image_fill(uint32_t *dst, size_t stride, struct frame_rect r, uint32_t color)
{
	for (unsigned y = 0; y < r.h; y++) {
		uint32_t *row = dst + (size_t)(r.y + y) * stride + r.x;
		for (unsigned x = 0; x < r.w; x++)
			row[x] = color;
	}
}

/* Mean colour of the source block [x0,x1) x [y0,y1) (never empty). */
static uint32_t block_mean(const uint32_t *src, size_t src_stride, unsigned x0, unsigned x1,
                           unsigned y0, unsigned y1)
{
	uint64_t r = 0, g = 0, b = 0, n = (uint64_t)(x1 - x0) * (y1 - y0);

	for (unsigned y = y0; y < y1; y++) {
		const uint32_t *row = src + (size_t)y * src_stride;
		for (unsigned x = x0; x < x1; x++) {
			r += (row[x] >> 16) & 0xff;
			g += (row[x] >> 8) & 0xff;
			b += row[x] & 0xff;
		}
	}
	return (uint32_t)(((r + n / 2) / n) << 16 | ((g + n / 2) / n) << 8 | ((b + n / 2) / n));
}

/* The source span [*lo, *hi) that destination pixel i of n covers out of s. */
static void source_span(unsigned i, unsigned n, unsigned s, unsigned *lo, unsigned *hi)
{
	*lo = (unsigned)((uint64_t)i * s / n);
	*hi = (unsigned)((uint64_t)(i + 1) * s / n);
	if (*hi <= *lo)
		*hi = *lo + 1;
}

void frame_image_fit(uint32_t *dst, size_t stride, struct frame_rect r, const uint32_t *src,
                     unsigned sw, unsigned sh, size_t src_stride)
{
	struct frame_rect pic;

	frame_image_fill(dst, stride, r, FRAME_IMAGE_BACKGROUND);
	if (sw == 0 || sh == 0 || r.w == 0 || r.h == 0)
		return;
	/* Fit by width unless that makes the picture too tall. */
	pic.w = r.w;
	pic.h = (unsigned)(((uint64_t)r.w * sh + sw / 2) / sw);
	if (pic.h > r.h || pic.h == 0) {
		pic.h = r.h;
		pic.w = (unsigned)(((uint64_t)r.h * sw + sh / 2) / sh);
		if (pic.w > r.w)
			pic.w = r.w;
		if (pic.w == 0)
			pic.w = 1;
	}
	pic.x = r.x + (r.w - pic.w) / 2;
	pic.y = r.y + (r.h - pic.h) / 2;
	for (unsigned y = 0; y < pic.h; y++) {
		unsigned y0, y1;
		source_span(y, pic.h, sh, &y0, &y1);
		for (unsigned x = 0; x < pic.w; x++) {
			unsigned x0, x1;
			source_span(x, pic.w, sw, &x0, &x1);
			dst[(size_t)(pic.y + y) * stride + pic.x + x] = block_mean(src, src_stride, x0, x1, y0, y1);
		}
	}
}

void frame_image_label(uint32_t *dst, size_t stride, struct frame_rect r, const char *text,
                       unsigned max_scale, uint32_t color)
{
	if (*text == '\0')
		return;
	for (unsigned scale = max_scale; scale >= 1; scale--) {
		unsigned tw = bitmap_font_text_width(text, scale) - scale; /* no spacing after the last */
		unsigned th = BITMAP_FONT_HEIGHT * scale;
		if (tw > r.w || th > r.h)
			continue;
		bitmap_font_draw(dst + (size_t)r.y * stride + r.x, r.w, r.h, stride, (int)((r.w - tw) / 2),
		                 (int)((r.h - th) / 2), text, scale, color);
		return;
	}
}

void frame_image_no_picture(uint32_t *dst, size_t stride, struct frame_rect r)
{
	frame_image_fill(dst, stride, r, FRAME_IMAGE_CARD);
	frame_image_label(dst, stride, r, FRAME_IMAGE_NO_PICTURE, 4, FRAME_IMAGE_TEXT);
}
