/*
 * x11_churn: keeps a large part of an X screen changing, for the agent
 * screen benchmark (bench_agent_x11.sh).  Paints a WxH image at the top
 * left of the root window --fps times a second: diagonal colour bands that
 * move by a few pixels per frame plus a counter bar, so every frame differs
 * over the whole area but still compresses like real content.
 *
 *   x11_churn [--display :N] [--fps N] [--area WxH] [--seconds S]
 *
 * Runs --seconds (default until SIGTERM/SIGINT).  Prints "x11_churn ready"
 * on stdout after the first frame.  Exit 0, 1 when the display cannot be
 * opened, 2 usage.  Bench tool only: never installed.
 */
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_stats.h"

#define CHURN_MAX_FPS  240
#define CHURN_MAX_SIDE 8192
#define CHURN_STEP_PX  6     /* band movement per frame */

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void paint(uint32_t *pixels, int w, int h, unsigned frame)
{
	unsigned shift = frame * CHURN_STEP_PX;

	for (int y = 0; y < h; y++) {
		uint32_t *row = pixels + (size_t)y * (size_t)w;
		for (int x = 0; x < w; x++) {
			unsigned band = ((unsigned)x + (unsigned)y + shift) / 24;
			row[x] = ((band * 53u) & 0xff) << 16 | ((band * 97u + (unsigned)y) & 0xff) << 8 |
			         ((band * 29u + (unsigned)x / 8) & 0xff);
		}
	}
	/* A bar whose length counts frames: also changes when bands repeat. */
	for (int y = 0; y < h && y < 16; y++)
		for (int x = 0; x < w; x++)
			pixels[(size_t)y * (size_t)w + (size_t)x] = (unsigned)x < (frame % (unsigned)w) ? 0xffffff : 0;
}

static int parse_area(const char *text, int *w, int *h)
{
	char extra;

	return sscanf(text, "%dx%d%c", w, h, &extra) == 2 && *w > 0 && *h > 0 && *w <= CHURN_MAX_SIDE &&
	               *h <= CHURN_MAX_SIDE ? 0 : -1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "display", required_argument, NULL, 'd' }, { "fps", required_argument, NULL, 'f' },
		{ "area", required_argument, NULL, 'a' },    { "seconds", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },          { NULL, 0, NULL, 0 },
	};
	const char *display_name = NULL;
	int fps = 30, w = 1280, h = 720, c;
	double seconds = 0;
	char *end;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': display_name = optarg; break;
		case 'f':
			fps = (int)strtol(optarg, &end, 10);
			if (*end || fps < 1 || fps > CHURN_MAX_FPS)
				goto usage;
			break;
		case 'a':
			if (parse_area(optarg, &w, &h) < 0)
				goto usage;
			break;
		case 's':
			seconds = strtod(optarg, &end);
			if (*end || !(seconds >= 0))
				goto usage;
			break;
		case 'h':
			printf("usage: x11_churn [--display :N] [--fps N] [--area WxH] [--seconds S]\n");
			return 0;
		default:
			goto usage;
		}
	}
	if (optind != argc)
		goto usage;

	Display *dpy = XOpenDisplay(display_name);
	if (dpy == NULL) {
		fprintf(stderr, "x11_churn: cannot open display %s: start Xvfb or set --display\n",
		        display_name ? display_name : "$DISPLAY");
		return 1;
	}
	int screen = DefaultScreen(dpy);
	Window root = RootWindow(dpy, screen);
	if (DefaultDepth(dpy, screen) != 24) {
		fprintf(stderr, "x11_churn: the display must have depth 24 (Xvfb -screen 0 WxHx24)\n");
		XCloseDisplay(dpy);
		return 1;
	}
	uint32_t *pixels = calloc((size_t)w * (size_t)h, sizeof *pixels);
	if (pixels == NULL) {
		fprintf(stderr, "x11_churn: out of memory for %dx%d\n", w, h);
		return 1;
	}
	XImage *img = XCreateImage(dpy, DefaultVisual(dpy, screen), 24, ZPixmap, 0, (char *)pixels,
	                           (unsigned)w, (unsigned)h, 32, 0);
	GC gc = XCreateGC(dpy, root, 0, NULL);
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);

	double start = bench_now_ms(), period = 1000.0 / fps;
	for (unsigned frame = 0; !stop_requested; frame++) {
		paint(pixels, w, h, frame);
		XPutImage(dpy, root, gc, img, 0, 0, 0, 0, (unsigned)w, (unsigned)h);
		XSync(dpy, False);
		if (frame == 0) {
			printf("x11_churn ready area=%dx%d fps=%d\n", w, h, fps);
			fflush(stdout);
		}
		double next = start + (frame + 1) * period, now = bench_now_ms();
		if (seconds > 0 && now - start >= seconds * 1000)
			break;
		if (next > now) {
			struct timespec pause = { (time_t)((next - now) / 1000),
			                          (long)(((long long)((next - now) * 1e6)) % 1000000000LL) };
			nanosleep(&pause, NULL);
		}
	}
	XFreeGC(dpy, gc);
	XDestroyImage(img); /* frees pixels too */
	XCloseDisplay(dpy);
	return 0;
usage:
	fprintf(stderr, "usage: x11_churn [--display :N] [--fps N] [--area WxH] [--seconds S]\n");
	return 2;
}
