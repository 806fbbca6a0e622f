/*
 * SCREEN_X11 source: the real X display.
 *
 * One thread owns the X connection after start (no Xlib call from any other
 * thread, so Xlib needs no locking of ours): it waits on the X socket and a
 * wake pipe, injects queued input with XTest, reads XDamage (report
 * non-empty, region fetched with XDamageSubtract) and XFixes cursor events,
 * and re-captures the damaged strips of full-width rows.  Capture uses
 * MIT-SHM (XShmGetImage into one strip-sized segment) when the server
 * grants it, else XGetImage.  Every captured strip is compared with the
 * framebuffer tile by tile (X11_TILE square) and only differing tiles are
 * copied and marked modified, so damage that repaints identical pixels costs
 * no bandwidth.  Without XDamage the whole screen is compared every
 * X11_POLL_MS; with it, every X11_SWEEP_MS as a safety net.
 *
 * Input from libvncserver's client threads goes through a bounded queue
 * (X11_INPUT_QUEUE events, excess dropped and counted) and the wake pipe.
 * The cursor shape comes from XFixesGetCursorImage on every cursor change;
 * shapes are cached by cursor serial and never freed before destroy (a
 * client output thread may still be sending an older one).  The pointer
 * position is polled and announced to clients that asked for PointerPos.
 *
 * X errors never end the process: a handler records them; an I/O error (X
 * server gone) marks the source dead, capture stops, the last frame stays.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <time.h>
#include <unistd.h>

#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/XShm.h>
#include <X11/extensions/XTest.h>
#include <X11/extensions/Xdamage.h>
#include <X11/extensions/Xfixes.h>

#include <rfb/rfb.h>
#include <rfb/rfbregion.h>

#include "log.h"
#include "screen_source.h"
#include "xmalloc.h"

#define X11_MAX_WIDTH 8192      /* larger roots are refused (framebuffer memory) */
#define X11_MAX_HEIGHT 8192
#define X11_TILE 32             /* strip height and compare tile size */
#define X11_MIN_CAPTURE_MS 40   /* at most 25 captures a second */
#define X11_POLL_MS 100         /* full compare period without XDamage */
#define X11_SWEEP_MS 1000       /* full compare period with XDamage */
#define X11_POINTER_MS 50       /* pointer position poll period */
#define X11_INPUT_QUEUE 256     /* pending input events, excess dropped */
#define X11_CURSOR_CACHE 128    /* distinct cursor shapes kept */
#define X11_CURSOR_MAX 256      /* larger cursor images are ignored */
#define X11_BUTTONS 8           /* RFB button mask bits */
#define X11_DROP_LOG_MS 5000

enum x11_input_kind { X11_IN_POINTER, X11_IN_KEY, X11_IN_RESET };

struct x11_input {
	enum x11_input_kind kind;
	int a;    /* button mask or key down */
	int x, y; /* pointer position, or keysym in x */
};

struct x11_chan {
	int shift, bits;
};

struct x11_cached_cursor {
	unsigned long serial;
	rfbCursorPtr cursor;
};

struct x11 {
	struct screen_source base; /* first: a struct x11 is a screen_source */
	char name[128];
	Display *dpy;
	int scr, depth;
	Window root;
	Visual *visual;
	rfbScreenInfoPtr rfb;
	uint32_t *fb;
	volatile int dead; /* X connection lost (set from the I/O exit handler) */

	/* capture */
	int use_shm, shm_attached, strip_h, nstrips;
	XShmSegmentInfo shm;
	XImage *strip;
	uint32_t *line; /* one converted strip: width x strip_h */
	unsigned char *dirty;
	int capture_failed_logged;

	/* damage and cursor events */
	int have_damage, damage_event, have_fixes, fixes_event;
	Damage damage;
	XserverRegion region;

	/* cursor (cursor_lock: current, read by client output threads) */
	pthread_mutex_t cursor_lock;
	rfbCursorPtr cursor;
	struct x11_cached_cursor cache[X11_CURSOR_CACHE];
	int ncache, cache_full_logged;

	/* input (input_lock: queue and stop) */
	int have_xtest;
	pthread_mutex_t input_lock;
	struct x11_input queue[X11_INPUT_QUEUE];
	int qhead, qcount;
	unsigned long dropped;
	struct timespec last_drop_log;
	int stop;
	int wake[2];
	int buttons;                  /* X thread only: buttons we hold down */
	unsigned char keys_down[32];  /* X thread only: keycodes we hold down */

	pthread_t thread;
	int running;
};

/* Xlib's error handlers are process-wide; only the thread currently owning
 * the X connection makes X calls, so a plain flag is enough. */
static volatile int x11_last_error;

static int x11_error_handler(Display *dpy, XErrorEvent *ev)
{
	(void)dpy;
	x11_last_error = ev->error_code ? ev->error_code : 1;
	return 0;
}

static int x11_io_error_handler(Display *dpy)
{
	(void)dpy;
	log_error("event=x11_connection_lost");
	return 0;
}

static void x11_io_exit_handler(Display *dpy, void *user)
{
	struct x11 *x = user;

	(void)dpy;
	x->dead = 1; /* returning instead of exit(): Xlib marks the display dead */
}

static pthread_once_t x11_handlers_once = PTHREAD_ONCE_INIT;

static void x11_install_handlers(void)
{
	XSetErrorHandler(x11_error_handler);
	XSetIOErrorHandler(x11_io_error_handler);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct x11_chan chan_of(unsigned long mask)
{
	struct x11_chan c = { 0, 0 };

	if (mask == 0)
		return c;
	while (!(mask & 1)) {
		mask >>= 1;
		c.shift++;
	}
	while (mask & 1) {
		mask >>= 1;
		c.bits++;
	}
	return c;
}

static uint32_t chan_value(unsigned long pixel, struct x11_chan c)
{
	uint32_t v;

	if (c.bits == 0)
		return 0;
	v = (uint32_t)((pixel >> c.shift) & ((1UL << c.bits) - 1));
	if (c.bits >= 8)
		return v >> (c.bits - 8);
	return v * 255 / ((1U << c.bits) - 1);
}

static int host_is_lsb_first(void)
{
	const uint16_t one = 1;

	return *(const unsigned char *)&one == 1;
}

/* Converts `rows` rows starting at image row `row0` into 0x00RRGGBB. */
static void convert_rows(const XImage *img, int row0, int rows, int width, uint32_t *out)
{
	struct x11_chan r = chan_of(img->red_mask), g = chan_of(img->green_mask),
	                b = chan_of(img->blue_mask);
	int native = (img->byte_order == LSBFirst) == host_is_lsb_first();
	int bpp = img->bits_per_pixel;

	for (int y = 0; y < rows; y++) {
		const unsigned char *src =
		    (const unsigned char *)img->data + (size_t)(row0 + y) * img->bytes_per_line;
		uint32_t *dst = out + (size_t)y * width;

		if (bpp == 32 && native && img->red_mask == 0xff0000 && img->green_mask == 0xff00 &&
		    img->blue_mask == 0xff) {
			for (int x = 0; x < width; x++) {
				uint32_t p;

				memcpy(&p, src + 4 * (size_t)x, 4);
				dst[x] = p & 0xffffff;
			}
			continue;
		}
		for (int x = 0; x < width; x++) {
			unsigned long p;

			if (bpp == 32 || bpp == 24 || bpp == 16) {
				int n = bpp / 8;
				const unsigned char *q = src + (size_t)x * n;

				p = 0;
				for (int i = 0; i < n; i++) {
					int k = img->byte_order == LSBFirst ? n - 1 - i : i;

					p = (p << 8) | q[k];
				}
			} else {
				p = XGetPixel((XImage *)img, x, row0 + y);
			}
			dst[x] = chan_value(p, r) << 16 | chan_value(p, g) << 8 | chan_value(p, b);
		}
	}
}

/* ---- capture ---- */

static void capture_log_failure(struct x11 *x, const char *what)
{
	if (x->capture_failed_logged)
		return;
	x->capture_failed_logged = 1;
	log_warn("event=x11_capture_failed what=%s error=%d (screen resized or display gone?)", what,
	         x11_last_error);
}

/* Fetches rows [y, y + h) into x->line; 0 / -1. */
static int fetch_strip(struct x11 *x, int y, int h)
{
	int w = x->base.width;
	XImage *img;

	if (x->use_shm) {
		/* The segment is strip_h rows: the last, shorter strip is read
		 * from strip_h rows above the bottom edge. */
		int y0 = y + x->strip_h <= x->base.height ? y : x->base.height - x->strip_h;

		x11_last_error = 0;
		if (!XShmGetImage(x->dpy, x->root, x->strip, 0, y0, AllPlanes) || x11_last_error) {
			capture_log_failure(x, "XShmGetImage");
			return -1;
		}
		convert_rows(x->strip, y - y0, h, w, x->line);
		return 0;
	}
	x11_last_error = 0;
	img = XGetImage(x->dpy, x->root, 0, y, (unsigned)w, (unsigned)h, AllPlanes, ZPixmap);
	if (img == NULL) {
		capture_log_failure(x, "XGetImage");
		return -1;
	}
	convert_rows(img, 0, h, w, x->line);
	XDestroyImage(img);
	return 0;
}

/* Compares the strip with the framebuffer and copies the differing tiles. */
static void merge_strip(struct x11 *x, int y, int h, sraRegionPtr changed)
{
	int w = x->base.width;

	for (int tx = 0; tx < w; tx += X11_TILE) {
		int tw = tx + X11_TILE <= w ? X11_TILE : w - tx, differs = 0;

		for (int r = 0; r < h && !differs; r++)
			differs = memcmp(x->fb + (size_t)(y + r) * w + tx, x->line + (size_t)r * w + tx,
			                 (size_t)tw * 4) != 0;
		if (!differs)
			continue;
		for (int r = 0; r < h; r++)
			memcpy(x->fb + (size_t)(y + r) * w + tx, x->line + (size_t)r * w + tx,
			       (size_t)tw * 4);
		sraRegionPtr rect = sraRgnCreateRect(tx, y, tx + tw, y + h);
		sraRgnOr(changed, rect);
		sraRgnDestroy(rect);
	}
}

static void capture_dirty(struct x11 *x)
{
	sraRegionPtr changed = sraRgnCreate();

	for (int s = 0; s < x->nstrips && !x->dead; s++) {
		int y = s * X11_TILE, h;

		if (!x->dirty[s])
			continue;
		x->dirty[s] = 0;
		h = y + X11_TILE <= x->base.height ? X11_TILE : x->base.height - y;
		if (fetch_strip(x, y, h) < 0)
			break;
		merge_strip(x, y, h, changed);
	}
	if (!sraRgnEmpty(changed) && x->rfb != NULL)
		rfbMarkRegionAsModified(x->rfb, changed);
	sraRgnDestroy(changed);
}

static void mark_all_dirty(struct x11 *x)
{
	memset(x->dirty, 1, (size_t)x->nstrips);
}

static int any_dirty(const struct x11 *x)
{
	for (int s = 0; s < x->nstrips; s++)
		if (x->dirty[s])
			return 1;
	return 0;
}

static void collect_damage(struct x11 *x)
{
	XRectangle *rects;
	int n = 0;

	XDamageSubtract(x->dpy, x->damage, None, x->region);
	rects = XFixesFetchRegion(x->dpy, x->region, &n);
	for (int i = 0; i < n; i++) {
		int y1 = rects[i].y, y2 = rects[i].y + rects[i].height;

		if (y1 < 0)
			y1 = 0;
		if (y2 > x->base.height)
			y2 = x->base.height;
		for (int s = y1 / X11_TILE; s < x->nstrips && s * X11_TILE < y2; s++)
			x->dirty[s] = 1;
	}
	if (rects != NULL)
		XFree(rects);
}

/* ---- cursor ---- */

/* Wakes every client's output thread with the given flags raised. */
static void notify_clients(struct x11 *x, int shape, int position)
{
	rfbClientIteratorPtr it = rfbGetClientIterator(x->rfb);
	rfbClientPtr cl;

	while ((cl = rfbClientIteratorNext(it)) != NULL) {
		pthread_mutex_lock(&cl->updateMutex);
		if (shape)
			cl->cursorWasChanged = TRUE;
		if (position && cl->enableCursorPosUpdates)
			cl->cursorWasMoved = TRUE;
		pthread_cond_signal(&cl->updateCond);
		pthread_mutex_unlock(&cl->updateMutex);
	}
	rfbReleaseClientIterator(it);
}

static rfbCursorPtr cursor_from_image(struct x11 *x, const XFixesCursorImage *ci)
{
	int w = ci->width, h = ci->height, mrow = (w + 7) / 8;
	rfbCursorPtr c = xcalloc(1, sizeof *c);
	uint32_t *rich = xcalloc((size_t)w * h, 4);

	c->mask = xcalloc((size_t)mrow, (size_t)h);
	for (int y = 0; y < h; y++) {
		for (int i = 0; i < w; i++) {
			uint32_t p = (uint32_t)ci->pixels[(size_t)y * w + i]; /* premultiplied ARGB */
			uint32_t a = p >> 24, r = (p >> 16) & 0xff, g = (p >> 8) & 0xff, b = p & 0xff;

			if (a < 128)
				continue;
			if (a < 255) { /* un-premultiply: RFB cursors have a 1-bit mask */
				r = r * 255 / a;
				g = g * 255 / a;
				b = b * 255 / a;
			}
			rich[(size_t)y * w + i] = (r > 255 ? 255 : r) << 16 | (g > 255 ? 255 : g) << 8 |
			                          (b > 255 ? 255 : b);
			c->mask[(size_t)y * mrow + i / 8] |= (unsigned char)(0x80 >> (i & 7));
		}
	}
	c->width = (unsigned short)w;
	c->height = (unsigned short)h;
	c->xhot = (unsigned short)(ci->xhot < w ? ci->xhot : w - 1);
	c->yhot = (unsigned short)(ci->yhot < h ? ci->yhot : h - 1);
	c->richSource = (unsigned char *)rich;
	/* Build the 1-bit form now, so no client thread does it lazily. */
	rfbMakeXCursorFromRichCursor(x->rfb, c);
	c->cleanup = c->cleanupSource = c->cleanupMask = c->cleanupRichSource = FALSE;
	return c;
}

static void free_cursor(rfbCursorPtr c)
{
	free(c->source);
	free(c->mask);
	free(c->richSource);
	free(c->alphaSource);
	free(c);
}

static void update_cursor(struct x11 *x)
{
	XFixesCursorImage *ci;
	rfbCursorPtr c = NULL;

	if (!x->have_fixes)
		return;
	ci = XFixesGetCursorImage(x->dpy);
	if (ci == NULL)
		return;
	if (ci->width == 0 || ci->height == 0 || ci->width > X11_CURSOR_MAX ||
	    ci->height > X11_CURSOR_MAX)
		goto out;
	for (int i = 0; i < x->ncache; i++)
		if (x->cache[i].serial == ci->cursor_serial)
			c = x->cache[i].cursor;
	if (c == NULL) {
		if (x->ncache == X11_CURSOR_CACHE) {
			if (!x->cache_full_logged)
				log_warn("event=x11_cursor_cache_full shapes=%d (cursor shape kept)",
				         X11_CURSOR_CACHE);
			x->cache_full_logged = 1;
			goto out;
		}
		c = cursor_from_image(x, ci);
		x->cache[x->ncache].serial = ci->cursor_serial;
		x->cache[x->ncache].cursor = c;
		x->ncache++;
	}
	pthread_mutex_lock(&x->cursor_lock);
	if (x->cursor == c)
		c = NULL;
	else
		x->cursor = c;
	pthread_mutex_unlock(&x->cursor_lock);
	if (c != NULL)
		notify_clients(x, 1, 0);
out:
	XFree(ci);
}

static void track_pointer(struct x11 *x)
{
	Window root_ret, child;
	int rx, ry, wx, wy, moved = 0;
	unsigned int mask;

	if (!XQueryPointer(x->dpy, x->root, &root_ret, &child, &rx, &ry, &wx, &wy, &mask))
		return; /* pointer on another screen */
	pthread_mutex_lock(&x->rfb->cursorMutex);
	if (rx != x->rfb->cursorX || ry != x->rfb->cursorY) {
		x->rfb->cursorX = rx;
		x->rfb->cursorY = ry;
		moved = 1;
	}
	pthread_mutex_unlock(&x->rfb->cursorMutex);
	if (moved)
		notify_clients(x, 0, 1);
}

/* ---- input ---- */

static void push_input(struct x11 *x, const struct x11_input *in)
{
	int queued = 0;

	pthread_mutex_lock(&x->input_lock);
	if (x->qcount < X11_INPUT_QUEUE) {
		x->queue[(x->qhead + x->qcount) % X11_INPUT_QUEUE] = *in;
		x->qcount++;
		queued = 1;
	} else {
		struct timespec now;

		x->dropped++;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - x->last_drop_log.tv_sec >= X11_DROP_LOG_MS / 1000) {
			x->last_drop_log = now;
			log_warn("event=x11_input_dropped total=%lu", x->dropped);
		}
	}
	pthread_mutex_unlock(&x->input_lock);
	if (queued) {
		ssize_t n = write(x->wake[1], "i", 1);
		(void)n; /* a full pipe already wakes the thread */
	}
}

static void x11_pointer(struct screen_source *src, int button_mask, int px, int py)
{
	struct x11_input in = { X11_IN_POINTER, button_mask, px, py };

	push_input((struct x11 *)src, &in);
}

static void x11_key(struct screen_source *src, int down, uint32_t keysym)
{
	struct x11_input in = { X11_IN_KEY, down, (int)keysym, 0 };

	push_input((struct x11 *)src, &in);
}

static void x11_input_reset(struct screen_source *src)
{
	struct x11_input in = { X11_IN_RESET, 0, 0, 0 };

	push_input((struct x11 *)src, &in);
}

/* Releases every button and key we pressed (X thread). */
static void release_all(struct x11 *x)
{
	for (int i = 0; i < X11_BUTTONS; i++)
		if (x->buttons & (1 << i))
			XTestFakeButtonEvent(x->dpy, (unsigned)i + 1, False, CurrentTime);
	x->buttons = 0;
	for (int k = 0; k < 256; k++)
		if (x->keys_down[k / 8] & (1 << (k % 8)))
			XTestFakeKeyEvent(x->dpy, (unsigned)k, False, CurrentTime);
	memset(x->keys_down, 0, sizeof x->keys_down);
}

static void inject(struct x11 *x, const struct x11_input *in)
{
	switch (in->kind) {
	case X11_IN_POINTER: {
		int px = in->x < 0 ? 0 : in->x >= x->base.width ? x->base.width - 1 : in->x;
		int py = in->y < 0 ? 0 : in->y >= x->base.height ? x->base.height - 1 : in->y;

		XTestFakeMotionEvent(x->dpy, x->scr, px, py, CurrentTime);
		for (int i = 0; i < X11_BUTTONS; i++) {
			int bit = 1 << i;

			if ((in->a & bit) != (x->buttons & bit))
				XTestFakeButtonEvent(x->dpy, (unsigned)i + 1, (in->a & bit) ? True : False,
				                     CurrentTime);
		}
		x->buttons = in->a & ((1 << X11_BUTTONS) - 1);
		break;
	}
	case X11_IN_KEY: {
		KeyCode kc = XKeysymToKeycode(x->dpy, (KeySym)(uint32_t)in->x);

		if (kc == 0) {
			log_debug("event=x11_key_unmapped keysym=0x%x", (unsigned)in->x);
			break;
		}
		XTestFakeKeyEvent(x->dpy, kc, in->a ? True : False, CurrentTime);
		if (in->a)
			x->keys_down[kc / 8] |= (unsigned char)(1 << (kc % 8));
		else
			x->keys_down[kc / 8] &= (unsigned char)~(1 << (kc % 8));
		break;
	}
	case X11_IN_RESET:
		release_all(x);
		break;
	}
}

static void run_input(struct x11 *x)
{
	struct x11_input batch[X11_INPUT_QUEUE];
	int n;

	pthread_mutex_lock(&x->input_lock);
	n = x->qcount;
	for (int i = 0; i < n; i++)
		batch[i] = x->queue[(x->qhead + i) % X11_INPUT_QUEUE];
	x->qhead = (x->qhead + n) % X11_INPUT_QUEUE;
	x->qcount = 0;
	pthread_mutex_unlock(&x->input_lock);
	if (n == 0 || !x->have_xtest)
		return;
	for (int i = 0; i < n; i++)
		inject(x, &batch[i]);
	XFlush(x->dpy);
}

/* ---- the X thread ---- */

static void handle_events(struct x11 *x)
{
	int damaged = 0, cursor = 0;

	while (!x->dead && XPending(x->dpy) > 0) {
		XEvent ev;

		XNextEvent(x->dpy, &ev);
		if (x->have_damage && ev.type == x->damage_event + XDamageNotify)
			damaged = 1;
		else if (x->have_fixes && ev.type == x->fixes_event + XFixesCursorNotify)
			cursor = 1;
	}
	if (x->dead)
		return;
	if (damaged)
		collect_damage(x);
	if (cursor)
		update_cursor(x);
}

static void *x11_thread(void *arg)
{
	struct x11 *x = arg;
	long period = x->have_damage ? X11_SWEEP_MS : X11_POLL_MS;
	long next_sweep = now_ms() + period, next_pointer = 0, last_capture = 0;

	for (;;) {
		struct pollfd pfd[2] = {
			{ ConnectionNumber(x->dpy), POLLIN, 0 },
			{ x->wake[0], POLLIN, 0 },
		};
		long now = now_ms(), timeout;
		char buf[64];
		int stop;

		timeout = next_sweep - now;
		if (next_pointer - now < timeout)
			timeout = next_pointer - now;
		if (any_dirty(x) && last_capture + X11_MIN_CAPTURE_MS - now < timeout)
			timeout = last_capture + X11_MIN_CAPTURE_MS - now;
		if (timeout < 0)
			timeout = 0;
		if (x->dead || XPending(x->dpy) == 0)
			poll(pfd, 2, (int)timeout);
		while (read(x->wake[0], buf, sizeof buf) > 0)
			;
		pthread_mutex_lock(&x->input_lock);
		stop = x->stop;
		pthread_mutex_unlock(&x->input_lock);
		if (stop || x->dead)
			break;

		run_input(x);
		handle_events(x);
		if (x->dead)
			break;
		now = now_ms();
		if (now >= next_pointer) {
			track_pointer(x);
			next_pointer = now + X11_POINTER_MS;
		}
		if (now >= next_sweep) {
			mark_all_dirty(x);
			next_sweep = now + period;
		}
		if (any_dirty(x) && now - last_capture >= X11_MIN_CAPTURE_MS) {
			capture_dirty(x);
			last_capture = now;
		}
	}
	if (!x->dead) {
		run_input(x); /* anything already queued, then let go of it all */
		release_all(x);
		XFlush(x->dpy);
	}
	return NULL;
}

/* ---- source ops ---- */

static rfbCursorPtr x11_cursor(struct screen_source *src)
{
	struct x11 *x = (struct x11 *)src;
	rfbCursorPtr c;

	pthread_mutex_lock(&x->cursor_lock);
	c = x->cursor;
	pthread_mutex_unlock(&x->cursor_lock);
	return c;
}

static int x11_start(struct screen_source *src, rfbScreenInfoPtr rfb, uint32_t *fb, char *err,
                     size_t errlen)
{
	struct x11 *x = (struct x11 *)src;
	int rc;

	x->rfb = rfb;
	x->fb = fb;
	if (x->have_damage) {
		x11_last_error = 0;
		x->region = XFixesCreateRegion(x->dpy, NULL, 0);
		x->damage = XDamageCreate(x->dpy, x->root, XDamageReportNonEmpty);
		XSync(x->dpy, False);
		if (x11_last_error) {
			log_warn("event=x11_damage_unavailable error=%d (polling instead)", x11_last_error);
			x->have_damage = 0;
		}
	}
	if (x->have_fixes)
		XFixesSelectCursorInput(x->dpy, x->root, XFixesDisplayCursorNotifyMask);
	if (x->have_xtest)
		XTestGrabControl(x->dpy, True); /* inject even during a server grab */
	mark_all_dirty(x);
	capture_dirty(x);
	update_cursor(x);
	XSync(x->dpy, False);
	if (x->dead) {
		snprintf(err, errlen, "lost the X display %s while starting", x->name);
		return -1;
	}
	rc = pthread_create(&x->thread, NULL, x11_thread, x);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the X capture thread: %s", strerror(rc));
		return -1;
	}
	x->running = 1;
	log_info("event=x11_started display=%s width=%d height=%d shm=%d damage=%d xtest=%d "
	         "cursor=%d",
	         x->name, x->base.width, x->base.height, x->use_shm, x->have_damage, x->have_xtest,
	         x->have_fixes);
	return 0;
}

static void x11_stop(struct screen_source *src)
{
	struct x11 *x = (struct x11 *)src;
	ssize_t n;

	if (!x->running)
		return;
	pthread_mutex_lock(&x->input_lock);
	x->stop = 1;
	pthread_mutex_unlock(&x->input_lock);
	n = write(x->wake[1], "s", 1);
	(void)n;
	pthread_join(x->thread, NULL);
	x->running = 0;
}

static void x11_destroy(struct screen_source *src)
{
	struct x11 *x = (struct x11 *)src;

	x11_stop(src);
	if (x->dpy != NULL && !x->dead) {
		if (x->damage)
			XDamageDestroy(x->dpy, x->damage);
		if (x->region)
			XFixesDestroyRegion(x->dpy, x->region);
		if (x->shm_attached)
			XShmDetach(x->dpy, &x->shm);
	}
	if (x->strip != NULL) {
		x->strip->data = NULL; /* shared memory, not malloc'd */
		XDestroyImage(x->strip);
	}
	if (x->shm.shmaddr != NULL && x->shm.shmaddr != (char *)-1)
		shmdt(x->shm.shmaddr);
	if (x->dpy != NULL && !x->dead)
		XCloseDisplay(x->dpy); /* a dead display is left as is: closing it would retry I/O */
	for (int i = 0; i < x->ncache; i++)
		free_cursor(x->cache[i].cursor);
	if (x->wake[0] >= 0)
		close(x->wake[0]);
	if (x->wake[1] >= 0)
		close(x->wake[1]);
	pthread_mutex_destroy(&x->cursor_lock);
	pthread_mutex_destroy(&x->input_lock);
	free(x->line);
	free(x->dirty);
	free(x);
}

static const struct screen_source_ops x11_ops = {
	.name = "x11",
	.start = x11_start,
	.pointer = x11_pointer,
	.key = x11_key,
	.input_reset = x11_input_reset,
	.cursor = x11_cursor,
	.stop = x11_stop,
	.destroy = x11_destroy,
};

/* Sets up one MIT-SHM strip image; 0 on success, -1 to use XGetImage. */
static int setup_shm(struct x11 *x)
{
	int major, minor, opcode, ev, er;
	Bool pixmaps;

	/* Ask quietly first: XShmQueryVersion prints to stderr when missing. */
	if (!XQueryExtension(x->dpy, "MIT-SHM", &opcode, &ev, &er) ||
	    !XShmQueryVersion(x->dpy, &major, &minor, &pixmaps))
		return -1;
	x->strip = XShmCreateImage(x->dpy, x->visual, (unsigned)x->depth, ZPixmap, NULL, &x->shm,
	                           (unsigned)x->base.width, (unsigned)x->strip_h);
	if (x->strip == NULL)
		return -1;
	x->shm.shmid = shmget(IPC_PRIVATE, (size_t)x->strip->bytes_per_line * x->strip->height,
	                      IPC_CREAT | 0600);
	if (x->shm.shmid < 0)
		goto fail;
	x->shm.shmaddr = x->strip->data = shmat(x->shm.shmid, NULL, 0);
	if (x->shm.shmaddr == (char *)-1) {
		shmctl(x->shm.shmid, IPC_RMID, NULL);
		goto fail;
	}
	x->shm.readOnly = False;
	x11_last_error = 0;
	XShmAttach(x->dpy, &x->shm);
	XSync(x->dpy, False);
	shmctl(x->shm.shmid, IPC_RMID, NULL); /* gone once both sides detach */
	if (x11_last_error)
		goto fail; /* e.g. a remote display: no shared memory with it */
	x->shm_attached = 1;
	return 0;
fail:
	if (x->shm.shmaddr != NULL && x->shm.shmaddr != (char *)-1)
		shmdt(x->shm.shmaddr);
	x->shm.shmaddr = NULL;
	x->strip->data = NULL;
	XDestroyImage(x->strip);
	x->strip = NULL;
	return -1;
}

struct screen_source *screen_x11_open(const char *display, char *err, size_t errlen)
{
	struct x11 *x;
	int ev, er, major, minor;

	if (display == NULL)
		display = getenv("DISPLAY");
	if (display == NULL || *display == '\0') {
		snprintf(err, errlen,
		         "no X display: DISPLAY is not set (use --screen demo on a machine without X)");
		return NULL;
	}
	pthread_once(&x11_handlers_once, x11_install_handlers);

	x = xcalloc(1, sizeof *x);
	x->base.ops = &x11_ops;
	x->wake[0] = x->wake[1] = -1;
	snprintf(x->name, sizeof x->name, "%s", display);
	pthread_mutex_init(&x->cursor_lock, NULL);
	pthread_mutex_init(&x->input_lock, NULL);

	x->dpy = XOpenDisplay(display);
	if (x->dpy == NULL) {
		snprintf(err, errlen,
		         "cannot open X display %s: is DISPLAY right? (use --screen demo on a machine "
		         "without X)",
		         x->name);
		goto fail;
	}
	XSetIOErrorExitHandler(x->dpy, x11_io_exit_handler, x);
	x->scr = DefaultScreen(x->dpy);
	x->root = RootWindow(x->dpy, x->scr);
	x->visual = DefaultVisual(x->dpy, x->scr);
	x->depth = DefaultDepth(x->dpy, x->scr);
	x->base.width = DisplayWidth(x->dpy, x->scr);
	x->base.height = DisplayHeight(x->dpy, x->scr);
	if (x->base.width < 1 || x->base.height < 1 || x->base.width > X11_MAX_WIDTH ||
	    x->base.height > X11_MAX_HEIGHT) {
		snprintf(err, errlen, "X display %s is %dx%d; at most %dx%d is supported", x->name,
		         x->base.width, x->base.height, X11_MAX_WIDTH, X11_MAX_HEIGHT);
		goto fail;
	}
	if (x->visual->class != TrueColor && x->visual->class != DirectColor) {
		snprintf(err, errlen, "X display %s uses a colour-mapped visual; only true colour is "
		         "supported", x->name);
		goto fail;
	}

	x->have_xtest = XTestQueryExtension(x->dpy, &ev, &er, &major, &minor);
	if (!x->have_xtest)
		log_warn("event=x11_no_xtest display=%s (participants' input is ignored)", x->name);
	x->have_fixes = XFixesQueryExtension(x->dpy, &x->fixes_event, &er) &&
	                XFixesQueryVersion(x->dpy, &major, &minor) && major >= 2;
	x->have_damage = x->have_fixes && XDamageQueryExtension(x->dpy, &x->damage_event, &er);
	if (!x->have_damage)
		log_warn("event=x11_no_damage display=%s (polling every %d ms)", x->name, X11_POLL_MS);

	x->strip_h = x->base.height < X11_TILE ? x->base.height : X11_TILE;
	x->nstrips = (x->base.height + X11_TILE - 1) / X11_TILE;
	x->dirty = xcalloc((size_t)x->nstrips, 1);
	x->line = calloc((size_t)x->base.width * X11_TILE, sizeof *x->line);
	if (x->line == NULL) {
		snprintf(err, errlen, "no memory for capturing a %d pixel wide screen", x->base.width);
		goto fail;
	}
	x->use_shm = setup_shm(x) == 0;
	if (!x->use_shm)
		log_info("event=x11_no_shm display=%s (XGetImage instead)", x->name);

	if (pipe2(x->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		snprintf(err, errlen, "cannot create a pipe: %s", strerror(errno));
		goto fail;
	}
	return &x->base;
fail:
	x11_destroy(&x->base);
	return NULL;
}
