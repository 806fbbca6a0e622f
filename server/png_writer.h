/*
 * PNG files from 0x00RRGGBB frames (libpng), for tests and exports.
 *
 * png_encode_frame encodes `width` x `height` pixels (row-major, `stride`
 * pixels a row, stride >= width; each pixel 0x00RRGGBB, the top byte
 * ignored) as an 8-bit RGB PNG into a new buffer: 0 with *out (the caller
 * free()s it) and *outlen, or -1 with `err`.  Width and height must be
 * 1..PNG_WRITER_MAX_DIM.
 *
 * png_write_frame writes that PNG to `path` atomically (common/atomic_file:
 * temp file, fsync, link; never over an existing file, which is an error
 * naming it) with `mode` (e.g. 0600 or 0644).  0, or -1 with `err`.
 *
 * `level` is the zlib level 0..9 (-1: libpng's default, 6).  No global
 * state: safe from any thread.
 */
#ifndef CONCIERGE_PNG_WRITER_H
#define CONCIERGE_PNG_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "concierge_limits.h" /* PNG_WRITER_MAX_DIM */

int png_encode_frame(const uint32_t *pixels, uint32_t width, uint32_t height, size_t stride,
                     int level, unsigned char **out, size_t *outlen, char *err, size_t errlen);

int png_write_frame(const char *path, const uint32_t *pixels, uint32_t width, uint32_t height,
                    size_t stride, int level, mode_t mode, char *err, size_t errlen);

#endif
