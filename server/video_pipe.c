#include "video_pipe.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "concierge_limits.h"
#include "errbuf.h"
#include "xmalloc.h"

extern char **environ;

#define WAIT_POLL_MS 50

struct video_pipe {
	pid_t pid;
	int fd;           /* ffmpeg's stdin */
	unsigned width, height;
	unsigned char *row; /* one row as bytes B, G, R, 0 */
};

int video_find_program(const char *name, char *out, size_t outlen)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL;
	int found = -1;

	if (path == NULL || *path == '\0')
		return -1;
	copy = xstrdup(path);
	for (dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		struct stat st;
		int n = snprintf(out, outlen, "%s/%s", *dir ? dir : ".", name);
		if (n < 0 || (size_t)n >= outlen)
			continue;
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0) {
			found = 0;
			break;
		}
	}
	free(copy);
	return found;
}

struct video_pipe *video_pipe_open(const char *ffmpeg, const char *out_path, unsigned width,
                                   unsigned height, unsigned fps, char *err, size_t errlen)
{
	char size[32], rate[16];
	int fds[2];
	posix_spawn_file_actions_t actions;
	struct video_pipe *v;
	pid_t pid;
	int rc;

	if (width < 1 || height < 1 || width > PNG_WRITER_MAX_DIM || height > PNG_WRITER_MAX_DIM) {
		errbuf_set(err, errlen, "video size %ux%u is out of range", width, height);
		return NULL;
	}
	snprintf(size, sizeof size, "%ux%u", width, height);
	snprintf(rate, sizeof rate, "%u", fps ? fps : VIDEO_DEFAULT_FPS);
	/* yuv420p needs even sides: pad odd ones with one black line. */
	char *const argv[] = {
		(char *)ffmpeg, "-hide_banner", "-loglevel", "error", "-f", "rawvideo",
		"-pixel_format", "bgr0", "-video_size", size, "-framerate", rate, "-i", "-",
		"-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-c:v", "libx264", "-preset", "veryfast",
		"-pix_fmt", "yuv420p", "-r", rate, "-movflags", "+faststart", "-n", (char *)out_path, NULL,
	};
	if (pipe2(fds, O_CLOEXEC) < 0) {
		errbuf_set(err, errlen, "pipe: %s", strerror(errno));
		return NULL;
	}
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, fds[0], STDIN_FILENO);
	rc = posix_spawn(&pid, ffmpeg, &actions, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&actions);
	close(fds[0]);
	if (rc != 0) {
		close(fds[1]);
		errbuf_set(err, errlen, "cannot start %s: %s", ffmpeg, strerror(rc));
		return NULL;
	}
	v = xcalloc(1, sizeof *v);
	v->pid = pid;
	v->fd = fds[1];
	v->width = width;
	v->height = height;
	v->row = xreallocarray(NULL, width, 4);
	return v;
}

static int write_all(struct video_pipe *v, const unsigned char *p, size_t len, char *err, size_t errlen)
{
	while (len > 0) {
		struct pollfd pfd = { .fd = v->fd, .events = POLLOUT };
		int ready = poll(&pfd, 1, VIDEO_WRITE_TIMEOUT_S * 1000);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0) {
			errbuf_set(err, errlen, "ffmpeg took no frame data for %d s", VIDEO_WRITE_TIMEOUT_S);
			return -1;
		}
		ssize_t n = write(v->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			errbuf_set(err, errlen, "ffmpeg stopped reading frames (%s); see its message above",
			           strerror(errno));
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int video_pipe_frame(struct video_pipe *v, const uint32_t *pixels, size_t stride, char *err,
                     size_t errlen)
{
	for (unsigned y = 0; y < v->height; y++) {
		const uint32_t *src = pixels + (size_t)y * stride;
		for (unsigned x = 0; x < v->width; x++) {
			v->row[4 * x] = (unsigned char)src[x];
			v->row[4 * x + 1] = (unsigned char)(src[x] >> 8);
			v->row[4 * x + 2] = (unsigned char)(src[x] >> 16);
			v->row[4 * x + 3] = 0;
		}
		if (write_all(v, v->row, (size_t)v->width * 4, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* Waits for ffmpeg at most timeout_ms; its wait status, or -1 on timeout. */
static int wait_child(pid_t pid, int timeout_ms)
{
	int status;

	for (int waited = 0;; waited += WAIT_POLL_MS) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -1;
		if (waited >= timeout_ms)
			return -1;
		nanosleep(&(struct timespec){ 0, WAIT_POLL_MS * 1000000L }, NULL);
	}
}

static void kill_and_free(struct video_pipe *v)
{
	if (v->fd >= 0)
		close(v->fd);
	kill(v->pid, SIGKILL);
	waitpid(v->pid, NULL, 0);
	free(v->row);
	free(v);
}

int video_pipe_close(struct video_pipe *v, char *err, size_t errlen)
{
	int status;

	if (v == NULL)
		return 0;
	close(v->fd);
	v->fd = -1;
	status = wait_child(v->pid, VIDEO_FINISH_TIMEOUT_S * 1000);
	if (status == -1) {
		errbuf_set(err, errlen, "ffmpeg did not finish within %d s", VIDEO_FINISH_TIMEOUT_S);
		kill_and_free(v);
		return -1;
	}
	free(v->row);
	free(v);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		errbuf_set(err, errlen, "ffmpeg failed (%s %d); see its message above",
		           WIFEXITED(status) ? "exit status" : "signal",
		           WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return -1;
	}
	return 0;
}

void video_pipe_abort(struct video_pipe *v)
{
	if (v)
		kill_and_free(v);
}
