/*
 * SCREEN_DEMO source: the deterministic test pattern (common/demo_pattern.h),
 * one new frame every DEMO_FRAME_MS.
 *
 * Tearing: each frame is rendered whole into a back buffer, then only the
 * 32x32 tiles that differ are copied into the live framebuffer, last the
 * tile holding the frame counter, and marked modified in one region.  The
 * copy takes microseconds, so an encoder reading the framebuffer meanwhile
 * is rare, and the next update libvncserver sends (the tiles stay marked
 * until sent after the copy) carries the consistent frame.  Viewers that
 * need a whole frame (tests/tools/rfb_probe) retry until they see one.
 * Input is accepted and ignored.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rfb/rfb.h>
#include <rfb/rfbregion.h>

#include "demo_pattern.h"
#include "log.h"
#include "screen_source.h"
#include "xmalloc.h"

#define DEMO_FRAME_MS 100
#define DEMO_TILE 32
#define DEMO_DEFAULT_WIDTH 640
#define DEMO_DEFAULT_HEIGHT 480

struct demo {
	struct screen_source base; /* first: a struct demo is a screen_source */
	rfbScreenInfoPtr rfb;
	uint32_t *fb, *back;
	uint32_t frame;
	pthread_t thread;
	int running;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stop; /* under lock */
};

static void render(const struct demo *d, uint32_t frame, uint32_t *out)
{
	int w = d->base.width, h = d->base.height;

	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			out[(size_t)y * w + x] = demo_pattern_pixel(frame, x, y, w, h);
}

/* Copies tile (tx, ty) from the back buffer when it differs; 1 if copied. */
static int copy_tile(struct demo *d, int tx, int ty, int tw, int th)
{
	int w = d->base.width, changed = 0;

	for (int y = ty; y < ty + th && !changed; y++)
		changed = memcmp(d->fb + (size_t)y * w + tx, d->back + (size_t)y * w + tx,
		                 (size_t)tw * sizeof *d->fb) != 0;
	if (!changed)
		return 0;
	for (int y = ty; y < ty + th; y++)
		memcpy(d->fb + (size_t)y * w + tx, d->back + (size_t)y * w + tx,
		       (size_t)tw * sizeof *d->fb);
	return 1;
}

static void next_frame(struct demo *d)
{
	int w = d->base.width, h = d->base.height;
	sraRegionPtr changed = sraRgnCreate();

	d->frame++;
	render(d, d->frame, d->back);
	/* Bottom-right to top-left: the counter tile (0, 0) goes last. */
	for (int ty = (h - 1) / DEMO_TILE * DEMO_TILE; ty >= 0; ty -= DEMO_TILE) {
		int th = ty + DEMO_TILE <= h ? DEMO_TILE : h - ty;

		for (int tx = (w - 1) / DEMO_TILE * DEMO_TILE; tx >= 0; tx -= DEMO_TILE) {
			int tw = tx + DEMO_TILE <= w ? DEMO_TILE : w - tx;

			if (copy_tile(d, tx, ty, tw, th)) {
				sraRegionPtr r = sraRgnCreateRect(tx, ty, tx + tw, ty + th);

				sraRgnOr(changed, r);
				sraRgnDestroy(r);
			}
		}
	}
	if (!sraRgnEmpty(changed))
		rfbMarkRegionAsModified(d->rfb, changed);
	sraRgnDestroy(changed);
}

static void timespec_add_ms(struct timespec *ts, long ms)
{
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static int timespec_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static void *demo_thread(void *arg)
{
	struct demo *d = arg;
	struct timespec next, now;
	int stop = 0;

	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!stop) {
		timespec_add_ms(&next, DEMO_FRAME_MS);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (timespec_before(&next, &now))
			next = now; /* fell behind (huge pattern): no catch-up burst */
		pthread_mutex_lock(&d->lock);
		while (!d->stop) {
			if (pthread_cond_timedwait(&d->wake, &d->lock, &next) == ETIMEDOUT)
				break;
		}
		stop = d->stop;
		pthread_mutex_unlock(&d->lock);
		if (!stop)
			next_frame(d);
	}
	return NULL;
}

static int demo_start(struct screen_source *src, rfbScreenInfoPtr rfb, uint32_t *fb, char *err,
                      size_t errlen)
{
	struct demo *d = (struct demo *)src;
	int rc;

	d->rfb = rfb;
	d->fb = fb;
	d->frame = 0;
	render(d, 0, d->fb);
	rc = pthread_create(&d->thread, NULL, demo_thread, d);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the demo pattern thread: %s", strerror(rc));
		return -1;
	}
	d->running = 1;
	return 0;
}

static void demo_stop(struct screen_source *src)
{
	struct demo *d = (struct demo *)src;

	if (!d->running)
		return;
	pthread_mutex_lock(&d->lock);
	d->stop = 1;
	pthread_cond_signal(&d->wake);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->thread, NULL);
	d->running = 0;
}

static void demo_destroy(struct screen_source *src)
{
	struct demo *d = (struct demo *)src;

	demo_stop(src);
	pthread_cond_destroy(&d->wake);
	pthread_mutex_destroy(&d->lock);
	free(d->back);
	free(d);
}

static const struct screen_source_ops demo_ops = {
	.name = "demo",
	.start = demo_start,
	.stop = demo_stop,
	.destroy = demo_destroy,
};

struct screen_source *screen_demo_open(int width, int height, char *err, size_t errlen)
{
	struct demo *d;
	pthread_condattr_t ca;

	if (width == 0 && height == 0) {
		width = DEMO_DEFAULT_WIDTH;
		height = DEMO_DEFAULT_HEIGHT;
	}
	if (width < DEMO_PATTERN_MIN_WIDTH || width > DEMO_PATTERN_MAX_WIDTH ||
	    height < DEMO_PATTERN_MIN_HEIGHT || height > DEMO_PATTERN_MAX_HEIGHT) {
		snprintf(err, errlen, "demo screen size %dx%d is out of range (%dx%d to %dx%d)", width,
		         height, DEMO_PATTERN_MIN_WIDTH, DEMO_PATTERN_MIN_HEIGHT,
		         DEMO_PATTERN_MAX_WIDTH, DEMO_PATTERN_MAX_HEIGHT);
		return NULL;
	}
	d = xcalloc(1, sizeof *d);
	d->base.ops = &demo_ops;
	d->base.width = width;
	d->base.height = height;
	d->back = calloc((size_t)width * (size_t)height, sizeof *d->back);
	if (d->back == NULL) {
		snprintf(err, errlen, "no memory for a %dx%d demo pattern", width, height);
		free(d);
		return NULL;
	}
	pthread_mutex_init(&d->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->wake, &ca);
	pthread_condattr_destroy(&ca);
	log_debug("event=demo_open width=%d height=%d", width, height);
	return &d->base;
}
