#include "png_writer.h"

#include <errno.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "atomic_file.h"
#include "errbuf.h"
#include "xmalloc.h"

struct membuf {
	unsigned char *p;
	size_t len, cap;
};

static void mem_write(png_structp png, png_bytep data, png_size_t len)
{
	struct membuf *m = png_get_io_ptr(png);

	if (m->len + len > m->cap) {
		while (m->len + len > m->cap)
			m->cap = m->cap ? 2 * m->cap : 65536;
		m->p = xreallocarray(m->p, m->cap, 1);
	}
	memcpy(m->p + m->len, data, len);
	m->len += len;
}

static void mem_flush(png_structp png)
{
	(void)png;
}

int png_encode_frame(const uint32_t *pixels, uint32_t width, uint32_t height, size_t stride,
                     int level, unsigned char **out, size_t *outlen, char *err, size_t errlen)
{
	png_structp png;
	png_infop info;
	struct membuf m = { NULL, 0, 0 };
	/* volatile: modified between setjmp and a possible longjmp */
	unsigned char *volatile row = NULL;

	*out = NULL;
	*outlen = 0;
	if (width < 1 || height < 1 || width > PNG_WRITER_MAX_DIM || height > PNG_WRITER_MAX_DIM ||
	    stride < width || level < -1 || level > 9) {
		errbuf_set(err, errlen, "png: bad image %ux%u (stride %zu, level %d)", width, height, stride, level);
		return -1;
	}
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	info = png ? png_create_info_struct(png) : NULL;
	if (info == NULL) {
		png_destroy_write_struct(&png, NULL);
		errbuf_set(err, errlen, "png: out of memory");
		return -1;
	}
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		free(row);
		free(m.p);
		errbuf_set(err, errlen, "png: libpng failed to encode the image");
		return -1;
	}
	png_set_write_fn(png, &m, mem_write, mem_flush);
	if (level >= 0)
		png_set_compression_level(png, level);
	png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
	             PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	row = xcalloc(width, 3);
	for (uint32_t y = 0; y < height; y++) {
		const uint32_t *src = pixels + (size_t)y * stride;

		for (uint32_t x = 0; x < width; x++) {
			row[3 * x] = (unsigned char)(src[x] >> 16);
			row[3 * x + 1] = (unsigned char)(src[x] >> 8);
			row[3 * x + 2] = (unsigned char)src[x];
		}
		png_write_row(png, row);
	}
	png_write_end(png, info);
	png_destroy_write_struct(&png, &info);
	free(row);
	*out = m.p;
	*outlen = m.len;
	return 0;
}

int png_write_frame(const char *path, const uint32_t *pixels, uint32_t width, uint32_t height,
                    size_t stride, int level, mode_t mode, char *err, size_t errlen)
{
	unsigned char *data;
	size_t len;
	int rc;

	if (png_encode_frame(pixels, width, height, stride, level, &data, &len, err, errlen) < 0)
		return -1;
	rc = atomic_file_create(path, data, len, mode);
	if (rc < 0)
		errbuf_set(err, errlen, "cannot write %s: %s%s", path, strerror(errno),
		           errno == EEXIST ? " (remove it first or choose another name)" : "");
	free(data);
	return rc;
}
