/*
 * Video files through ffmpeg: raw 0x00RRGGBB frames are piped to
 *   ffmpeg -f rawvideo -pixel_format bgr0 -video_size WxH -framerate FPS -i -
 *          -c:v libx264 -pix_fmt yuv420p ... -n OUT
 * (bgr0 is 0x00RRGGBB in little-endian memory), so the file plays at the
 * recording's real speed with a constant frame rate.
 *
 * Contract:
 *  - video_find_program looks `name` up in PATH like a shell: 0 with the
 *    executable's path in out[outlen], -1 when there is none.
 *  - video_pipe_open starts ffmpeg (posix_spawn, no shell, its stderr
 *    passed through, -n: it never overwrites `out_path`) and returns the
 *    pipe, or NULL with `err`.  width and height 1..PNG_WRITER_MAX_DIM.
 *  - video_pipe_frame writes one frame of width * height pixels (`stride`
 *    pixels a row); waits at most VIDEO_WRITE_TIMEOUT_S for ffmpeg to take
 *    each chunk; 0 or -1 with `err` (ffmpeg died or stalled).
 *  - video_pipe_close ends the input, waits at most VIDEO_FINISH_TIMEOUT_S
 *    for ffmpeg (then kills it) and frees the pipe: 0 when ffmpeg exited 0,
 *    else -1 with `err`.  video_pipe_abort kills ffmpeg and frees.  Both
 *    take NULL.  SIGPIPE must be ignored by the caller (EPIPE is reported).
 */
#ifndef CONCIERGE_VIDEO_PIPE_H
#define CONCIERGE_VIDEO_PIPE_H

#include <stddef.h>
#include <stdint.h>

#define VIDEO_WRITE_TIMEOUT_S  60
#define VIDEO_FINISH_TIMEOUT_S 300
#define VIDEO_DEFAULT_FPS      10

struct video_pipe;

int video_find_program(const char *name, char *out, size_t outlen);
struct video_pipe *video_pipe_open(const char *ffmpeg, const char *out_path, unsigned width,
                                   unsigned height, unsigned fps, char *err, size_t errlen);
int video_pipe_frame(struct video_pipe *v, const uint32_t *pixels, size_t stride, char *err,
                     size_t errlen);
int video_pipe_close(struct video_pipe *v, char *err, size_t errlen);
void video_pipe_abort(struct video_pipe *v);

#endif
