#include "synth_recording.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <rfb/rfb.h>

#include "errbuf.h"
#include "recorder_leg.h"
#include "recording.h"
#include "rfb_no_listeners.h"
#include "wire.h"
#include "xmalloc.h"

#define SCREEN_STREAM_BASE 1001
#define CELL 4              /* counter cell size */
#define BAR_W 6
#define BOX 24
#define STEP_TIMEOUT_MS 10000

void synth_params_default(struct synth_params *p)
{
	memset(p, 0, sizeof *p);
	p->width = 320;
	p->height = 200;
	p->fps = 10;
	p->seconds_per_leg = 3;
	p->legs = 1;
	p->gap_ms = 1000;
	p->full_every = 25;
	p->lead_in_ms = 500;
}

uint64_t synth_leg_start_us(const struct synth_params *p, uint32_t leg)
{
	return (uint64_t)p->lead_in_ms * 1000 +
	       (uint64_t)leg * ((uint64_t)p->seconds_per_leg * 1000000 + (uint64_t)p->gap_ms * 1000);
}

uint64_t synth_frame_time_us(const struct synth_params *p, uint32_t leg, uint64_t n)
{
	return synth_leg_start_us(p, leg) + n * 1000000 / p->fps;
}

uint32_t synth_frame_number(uint32_t leg, uint64_t n)
{
	return (uint32_t)(n + (uint64_t)leg * 100000);
}

static uint64_t frames_per_leg(const struct synth_params *p)
{
	return (uint64_t)p->seconds_per_leg * p->fps;
}

int synth_expected(const struct synth_params *p, uint64_t t, uint32_t *leg, uint64_t *frame)
{
	for (uint32_t k = 0; k < p->legs; k++) {
		uint64_t start = synth_leg_start_us(p, k);
		uint64_t end = start + (uint64_t)p->seconds_per_leg * 1000000;

		if (t >= start && t < end) {
			*leg = k;
			*frame = (t - start) * p->fps / 1000000;
			if (*frame >= frames_per_leg(p))
				*frame = frames_per_leg(p) - 1;
			return 1;
		}
	}
	return 0;
}

int synth_frame_matches(const struct synth_params *p, uint64_t t, int has_picture, uint32_t width,
                        uint32_t height, const uint32_t *pixels)
{
	uint32_t leg;
	uint64_t n;

	if (!synth_expected(p, t, &leg, &n))
		return !has_picture && pixels == NULL;
	if (!has_picture || width != p->width || height != p->height)
		return 0;
	for (uint32_t y = 0; y < p->height; y++)
		for (uint32_t x = 0; x < p->width; x++)
			if (pixels[(size_t)y * p->width + x] != synth_pixel(p, synth_frame_number(leg, n), x, y))
				return 0;
	return 1;
}

static uint32_t rgb(uint32_t r, uint32_t g, uint32_t b)
{
	return (r & 0xff) << 16 | (g & 0xff) << 8 | (b & 0xff);
}

static uint32_t bar_x(const struct synth_params *p, uint32_t f)
{
	return (uint32_t)(((uint64_t)f * 5) % (p->width - BAR_W));
}

static void box_xy(const struct synth_params *p, uint32_t f, uint32_t *x, uint32_t *y)
{
	*x = (uint32_t)(((uint64_t)f * 3) % (p->width - BOX));
	*y = CELL + (uint32_t)(((uint64_t)f * 2) % (p->height - CELL - BOX));
}

static uint32_t tint(const struct synth_params *p, uint32_t f)
{
	return p->full_every ? (f / p->full_every) * 40 : 0;
}

uint32_t synth_pixel(const struct synth_params *p, uint32_t f, uint32_t x, uint32_t y)
{
	uint32_t bx, by, b0 = bar_x(p, f);

	if (y < CELL && x < 32 * CELL)
		return (f >> (31 - x / CELL)) & 1 ? 0xffffff : 0x000000;
	box_xy(p, f, &bx, &by);
	if (x >= bx && x < bx + BOX && y >= by && y < by + BOX)
		return ((x - bx) / 8 + (y - by) / 8) & 1 ? rgb(f * 5, 255 - f * 3, 0x80) : rgb(0x10, f * 7, 0xf0);
	if (x >= b0 && x < b0 + BAR_W)
		return rgb(0xf0, 0xe0, f);
	return rgb(x * 255 / p->width, y * 255 / p->height, 0x40 + ((x ^ y) & 0x1f) + tint(p, f));
}

/* ---- the generator ---------------------------------------------------------- */

struct gen {
	const struct synth_params *p;
	struct recording_writer *w;
	uint16_t stream;
	uint64_t now_us;
	int sock;                 /* our end: the recorder leg's side */
	struct recorder_leg *leg;
	uint8_t *unit;            /* bytes of the unit in progress */
	size_t unit_len, unit_cap;
	int failed;
	char err[256];
	/* reader thread: server bytes */
	pthread_t reader;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint8_t *in;
	size_t in_len, in_cap;
	int in_eof;
};

static void append(struct gen *g, const uint8_t *data, size_t len)
{
	while (len > 0 && !g->failed) {
		size_t n = len > RECORDING_MAX_RECORD ? RECORDING_MAX_RECORD : len;

		if (recording_writer_append(g->w, RECORDING_RFB_SERVER_BYTES, g->stream, NULL, 0, g->now_us,
		                            data, n, g->err, sizeof g->err) < 0)
			g->failed = 1;
		data += n;
		len -= n;
	}
}

static void leg_send(void *ctx, const uint8_t *data, size_t len)
{
	struct gen *g = ctx;

	while (len > 0) {
		ssize_t n = send(g->sock, data, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			g->failed = 1;
			snprintf(g->err, sizeof g->err, "send to libvncserver: %s", strerror(errno));
			return;
		}
		data += n;
		len -= (size_t)n;
	}
}

static void leg_bytes(void *ctx, const uint8_t *data, size_t len)
{
	struct gen *g = ctx;

	if (g->unit_len + len > g->unit_cap) {
		while (g->unit_len + len > g->unit_cap)
			g->unit_cap = g->unit_cap ? 2 * g->unit_cap : 65536;
		g->unit = xreallocarray(g->unit, g->unit_cap, 1);
	}
	memcpy(g->unit + g->unit_len, data, len);
	g->unit_len += len;
}

static void leg_unit_end(void *ctx, const struct rfb_frame_info *info)
{
	struct gen *g = ctx;

	(void)info;
	append(g, g->unit, g->unit_len);
	g->unit_len = 0;
}

static void *reader_main(void *arg)
{
	struct gen *g = arg;
	uint8_t buf[65536];

	for (;;) {
		ssize_t n = recv(g->sock, buf, sizeof buf, 0);

		if (n < 0 && errno == EINTR)
			continue;
		pthread_mutex_lock(&g->lock);
		if (n <= 0) {
			g->in_eof = 1;
		} else {
			if (g->in_len + (size_t)n > g->in_cap) {
				while (g->in_len + (size_t)n > g->in_cap)
					g->in_cap = g->in_cap ? 2 * g->in_cap : 1 << 20;
				g->in = xreallocarray(g->in, g->in_cap, 1);
			}
			memcpy(g->in + g->in_len, buf, (size_t)n);
			g->in_len += (size_t)n;
		}
		pthread_cond_broadcast(&g->cond);
		pthread_mutex_unlock(&g->lock);
		if (n <= 0)
			return NULL;
	}
}

/* Feeds what the server sent so far to the leg; waits up to 1 ms for more. */
static void pump(struct gen *g)
{
	uint8_t *take = NULL;
	size_t n = 0;
	struct timespec until;

	pthread_mutex_lock(&g->lock);
	if (g->in_len == 0 && !g->in_eof) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 1000000;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&g->cond, &g->lock, &until);
	}
	if (g->in_len > 0) {
		take = g->in;
		n = g->in_len;
		g->in = NULL;
		g->in_len = g->in_cap = 0;
	}
	pthread_mutex_unlock(&g->lock);
	if (n > 0 && recorder_leg_feed(g->leg, take, n) < 0 && !g->failed) {
		g->failed = 1;
		snprintf(g->err, sizeof g->err, "recorder leg: %s", recorder_leg_error(g->leg));
	}
	free(take);
}

static double mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000 + (double)ts.tv_nsec / 1e6;
}

/* Runs libvncserver until the leg has seen `updates` FramebufferUpdates. */
static int run_until(struct gen *g, rfbScreenInfoPtr screen, uint64_t updates)
{
	double t0 = mono_ms();

	while (!g->failed && recorder_leg_updates(g->leg) < updates) {
		rfbProcessEvents(screen, 0);
		pump(g);
		if (mono_ms() - t0 > STEP_TIMEOUT_MS) {
			g->failed = 1;
			snprintf(g->err, sizeof g->err, "libvncserver sent no update %llu within %d ms",
			         (unsigned long long)updates, STEP_TIMEOUT_MS);
		}
	}
	return g->failed ? -1 : 0;
}

static void draw_rect(const struct synth_params *p, rfbScreenInfoPtr screen, uint32_t f, uint32_t x0,
                      uint32_t y0, uint32_t w, uint32_t h)
{
	uint32_t *fb = (uint32_t *)screen->frameBuffer;

	for (uint32_t y = y0; y < y0 + h && y < p->height; y++)
		for (uint32_t x = x0; x < x0 + w && x < p->width; x++)
			fb[(size_t)y * p->width + x] = synth_pixel(p, f, x, y);
	rfbMarkRectAsModified(screen, (int)x0, (int)y0, (int)(x0 + w), (int)(y0 + h));
}

static void draw_changes(const struct synth_params *p, rfbScreenInfoPtr screen, uint32_t f)
{
	uint32_t bx0, by0, bx1, by1;

	if (tint(p, f) != tint(p, f - 1)) {
		draw_rect(p, screen, f, 0, 0, p->width, p->height);
		return;
	}
	draw_rect(p, screen, f, 0, 0, 32 * CELL, CELL);
	draw_rect(p, screen, f, bar_x(p, f - 1), 0, BAR_W, p->height);
	draw_rect(p, screen, f, bar_x(p, f), 0, BAR_W, p->height);
	box_xy(p, f - 1, &bx0, &by0);
	box_xy(p, f, &bx1, &by1);
	draw_rect(p, screen, f, bx0, by0, BOX, BOX);
	draw_rect(p, screen, f, bx1, by1, BOX, BOX);
}

static int event(struct gen *g, const char *state, uint64_t t)
{
	char line[256], stream[16];
	int n;

	snprintf(stream, sizeof stream, "%u", g->stream);
	n = wire_format(line, sizeof line, "RECORDER", "kind", "screen", "stream", stream, "state", state,
	                (char *)NULL);
	if (n <= 1)
		return -1;
	return recording_writer_append(g->w, RECORDING_EVENT, 0, NULL, 0, t, line, (size_t)n - 1,
	                               g->err, sizeof g->err);
}

static int one_leg(struct gen *g, uint32_t k, uint64_t *frames)
{
	const struct synth_params *p = g->p;
	struct recorder_leg_callbacks cb = { leg_send, leg_bytes, leg_unit_end, g };
	rfbScreenInfoPtr screen;
	uint32_t *fb;
	int sv[2], rc = -1;
	uint64_t nframes = frames_per_leg(p);

	g->stream = (uint16_t)(SCREEN_STREAM_BASE + k);
	g->now_us = synth_leg_start_us(p, k);
	if (event(g, "start", g->now_us) < 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(g->err, sizeof g->err, "socketpair: %s", strerror(errno));
		return -1;
	}
	fb = xcalloc((size_t)p->width * p->height, 4);
	screen = rfbGetScreen(NULL, NULL, (int)p->width, (int)p->height, 8, 3, 4);
	screen->serverFormat.redShift = 16;
	screen->serverFormat.greenShift = 8;
	screen->serverFormat.blueShift = 0;
	screen->frameBuffer = (char *)fb;
	screen->desktopName = "synthetic";
	rfb_screen_without_listeners(screen);
	screen->deferUpdateTime = 0;
	screen->authPasswdData = NULL;
	rfbInitServer(screen);
	for (uint32_t y = 0; y < p->height; y++)
		for (uint32_t x = 0; x < p->width; x++)
			fb[(size_t)y * p->width + x] = synth_pixel(p, synth_frame_number(k, 0), x, y);

	g->sock = sv[1];
	g->in_eof = 0;
	/* The leg speaks first (its whole handshake), so libvncserver sees RFB
	 * bytes at once and never waits for a WebSockets request. */
	g->leg = recorder_leg_new(&cb);
	pthread_create(&g->reader, NULL, reader_main, g);
	if (rfbNewClient(screen, sv[0]) == NULL) {
		snprintf(g->err, sizeof g->err, "libvncserver refused the client");
		goto out;
	}
	if (run_until(g, screen, 1) < 0)
		goto out;
	for (uint64_t n = 1; n < nframes; n++) {
		g->now_us = synth_frame_time_us(p, k, n);
		draw_changes(p, screen, synth_frame_number(k, n));
		if (run_until(g, screen, n + 1) < 0)
			goto out;
		if (p->progress && n % 500 == 0)
			fprintf(stderr, "\rgenerating: leg %u frame %llu of %llu", k + 1, (unsigned long long)n,
			        (unsigned long long)nframes);
	}
	*frames += nframes;
	rc = event(g, "stop", synth_leg_start_us(p, k) + (uint64_t)p->seconds_per_leg * 1000000);
out:
	shutdown(sv[1], SHUT_RDWR);
	pthread_join(g->reader, NULL);
	close(sv[1]);
	rfbShutdownSockets(screen);
	screen->cursor = NULL;
	rfbScreenCleanup(screen);
	free(fb);
	recorder_leg_free(g->leg);
	g->leg = NULL;
	free(g->in);
	g->in = NULL;
	g->in_len = g->in_cap = 0;
	return g->failed ? -1 : rc;
}

int synth_recording_write(const char *path, const struct synth_params *p, EVP_PKEY *key,
                          struct synth_result *res, char *err, size_t errlen)
{
	struct recording_params params;
	struct recording_summary sum = { 0 };
	struct gen g;
	EVP_PKEY *own = NULL;
	int rc = 0;

	memset(res, 0, sizeof *res);
	if (p->width < 32 * CELL || p->height < 2 * BOX || p->fps < 1 || p->fps > 1000 || p->legs < 1 ||
	    p->seconds_per_leg < 1) {
		errbuf_set(err, errlen, "synthetic recording: size at least %ux%u, fps 1..1000, 1+ legs",
		           32 * CELL, 2 * BOX);
		return -1;
	}
	if (key == NULL) {
		own = EVP_EC_gen("P-256");
		key = own;
	}
	rfbLogEnable(0);
	recording_params_default(&params);
	params.checkpoint_ms = 60000; /* real time: keep fsyncs few while generating */
	params.checkpoint_bytes = 8u << 20;
	memset(&g, 0, sizeof g);
	g.p = p;
	pthread_mutex_init(&g.lock, NULL);
	pthread_cond_init(&g.cond, NULL);
	g.w = recording_writer_open(path, "INC0000001", "s0000beef", key, &params, g.err, sizeof g.err);
	if (g.w == NULL) {
		rc = -1;
		goto out;
	}
	if (recording_writer_append(g.w, RECORDING_EVENT, 0, NULL, 0, 0,
	                            "START ticket=INC0000001 session=s0000beef resumed=0", 51, g.err,
	                            sizeof g.err) < 0)
		rc = -1;
	for (uint32_t k = 0; k < p->legs && rc == 0; k++)
		rc = one_leg(&g, k, &res->frames);
	if (rc == 0 && recording_writer_append(g.w, RECORDING_EVENT, 0, NULL, 0,
	                                       synth_leg_start_us(p, p->legs - 1) +
	                                           (uint64_t)p->seconds_per_leg * 1000000 + 1,
	                                       "END reason=done by=relay", 24, g.err, sizeof g.err) < 0)
		rc = -1;
	if (recording_writer_close(g.w, &sum, rc == 0 ? g.err : NULL, rc == 0 ? sizeof g.err : 0) < 0)
		rc = -1;
	res->file_bytes = sum.bytes;
	res->duration_us = synth_leg_start_us(p, p->legs - 1) + (uint64_t)p->seconds_per_leg * 1000000 + 1;
	if (p->progress)
		fprintf(stderr, "\n");
out:
	if (rc < 0)
		errbuf_set(err, errlen, "synthetic recording: %s", g.err);
	free(g.unit);
	pthread_mutex_destroy(&g.lock);
	pthread_cond_destroy(&g.cond);
	EVP_PKEY_free(own);
	return rc;
}
