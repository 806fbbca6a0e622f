/*
 * rfb_probe: a small real RFB client (libvncclient) for end-to-end tests.
 *
 *   rfb_probe HOST:PORT [--expect-demo] [--pixel X,Y=RRGGBB]... [--click X,Y]...
 *             [--key KEYSYM]... [--hold SECONDS] [--stall SECONDS]
 *             [--timeout SECONDS] [--encodings LIST] [--no-share] [--json] [-v]
 *
 * Connects over plain TCP with security type None only, asks for 32-bit
 * true colour (0x00RRGGBB in host order) and framebuffer updates, waits for
 * the first complete update, then in this order: sends the input actions
 * (--click: move, button 1 down, up; --key: down, up) in command-line order,
 * waits for each expectation, holds.
 *
 *   --expect-demo   a received framebuffer equals demo_pattern_pixel(n, x, y,
 *                   W, H) at every pixel, n read back from row 0
 *   --pixel         that pixel has that colour
 *   --hold N        stay N seconds processing updates; fails if the server
 *                   disconnects us.  Reports the updates and the bytes the
 *                   server sent in that time (the agent benchmark's rate)
 *   --stall N       handshake, request updates (Raw encoding), then keep
 *                   asking for full updates without reading a byte for N
 *                   seconds (a participant that stops reading); exit 0
 *
 * One result line per expectation or action on stdout ("demo ok frame=..",
 * "pixel FAIL ..", or one JSON object per line with --json); diagnostics on
 * stderr.  Every wait is bounded by --timeout (default 10 s) and an overall
 * alarm.  Exit 0 all passed, 1 a failure or timeout, 2 usage error.
 * Test tool only: never installed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/tcp.h> /* tcp_info with tcpi_bytes_received */
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rfb/rfbclient.h>

#include "demo_pattern.h"

#define PROBE_MAX_CHECKS 32
#define PROBE_MAX_FB_SIDE 8192       /* refuse larger framebuffers */
#define PROBE_MAX_SECONDS 3600.0
#define PROBE_POLL_US 100000         /* at most this long per select */
#define PROBE_INPUT_SETTLE_S 0.2     /* keep reading after sending input */
#define PROBE_STALL_REQUEST_MS 20    /* full-update request period while stalled */
#define PROBE_DEFAULT_ENCODINGS "zrle copyrect raw"

enum check_kind { CHECK_PIXEL, CHECK_CLICK, CHECK_KEY };

struct check {
	enum check_kind kind;
	int x, y;
	uint32_t value; /* rgb or keysym */
};

struct probe {
	const char *target;
	char host[256];
	int port;
	int expect_demo, json, verbose, shared;
	double hold, stall, timeout;
	const char *encodings;
	struct check checks[PROBE_MAX_CHECKS];
	int nchecks;

	rfbClient *client;
	uint8_t *fb;           /* ours, also client->frameBuffer */
	unsigned long updates; /* complete framebuffer updates received */
	unsigned long cursor_shapes;

	/* --expect-demo bookkeeping */
	unsigned long demo_checked_at;
	uint32_t demo_frame;
	int mismatch_x, mismatch_y, have_mismatch;
	uint32_t mismatch_want, mismatch_got;
};

static int probe_tag;
static int verbose_log;

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: rfb_probe HOST:PORT [--expect-demo] [--pixel X,Y=RRGGBB]... [--click X,Y]...\n"
	        "                 [--key KEYSYM]... [--hold SECONDS] [--stall SECONDS]\n"
	        "                 [--timeout SECONDS] [--encodings LIST] [--no-share] [--json] [-v]\n");
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Whole seconds, rounded up (v >= 0). */
static unsigned ceil_s(double v)
{
	unsigned u = (unsigned)v;

	return u + ((double)u < v);
}

static void on_alarm(int sig)
{
	static const char msg[] = "rfb_probe: overall time limit exceeded\n";
	ssize_t n;

	(void)sig;
	n = write(2, msg, sizeof msg - 1);
	(void)n;
	_exit(1);
}

static void client_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void client_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void client_log(const char *fmt, ...)
{
	va_list ap;

	if (!verbose_log)
		return;
	va_start(ap, fmt);
	fputs("rfb_probe: libvncclient: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static void client_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("rfb_probe: libvncclient: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

/* ---- argument parsing ---- */

static int parse_seconds(const char *text, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (errno || end == text || *end != '\0' || !(v >= 0) || v > PROBE_MAX_SECONDS)
		return -1;
	*out = v;
	return 0;
}

static int parse_int(const char **text, int *out, int max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(*text, &end, 10);
	if (errno || end == *text || v < 0 || v > max)
		return -1;
	*out = (int)v;
	*text = end;
	return 0;
}

/* "X,Y" followed by `tail` ('\0' or '='). */
static int parse_xy(const char **text, int *x, int *y, char tail)
{
	if (parse_int(text, x, 65535) < 0 || **text != ',')
		return -1;
	(*text)++;
	if (parse_int(text, y, 65535) < 0 || **text != tail)
		return -1;
	return 0;
}

static int parse_rgb(const char *text, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (strlen(text) != 6)
		return -1;
	errno = 0;
	v = strtoul(text, &end, 16);
	if (errno || *end != '\0')
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int parse_keysym(const char *text, uint32_t *out)
{
	static const struct {
		const char *name;
		uint32_t sym;
	} names[] = {
		{ "Return", 0xff0d }, { "Escape", 0xff1b }, { "Tab", 0xff09 },
		{ "BackSpace", 0xff08 }, { "space", 0x20 }, { "Shift_L", 0xffe1 },
		{ "Control_L", 0xffe3 }, { "Alt_L", 0xffe9 }, { "Delete", 0xffff },
		{ "Left", 0xff51 }, { "Up", 0xff52 }, { "Right", 0xff53 }, { "Down", 0xff54 },
		{ "Caps_Lock", 0xffe5 },
	};
	char *end;
	unsigned long v;

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (strcmp(text, names[i].name) == 0) {
			*out = names[i].sym;
			return 0;
		}
	}
	if (text[0] != '\0' && text[1] == '\0' && text[0] > 0x20 && text[0] < 0x7f) {
		*out = (uint32_t)(unsigned char)text[0];
		return 0;
	}
	errno = 0;
	v = strtoul(text, &end, 0);
	if (errno || end == text || *end != '\0' || v == 0 || v > 0x1ffffff)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int parse_target(struct probe *p, const char *text)
{
	const char *colon, *host = text;
	size_t len;
	int port;

	colon = strrchr(text, ':');
	if (colon == NULL)
		return -1;
	len = (size_t)(colon - text);
	if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
		host++;
		len -= 2;
	}
	if (len == 0 || len >= sizeof p->host)
		return -1;
	memcpy(p->host, host, len);
	p->host[len] = '\0';
	colon++;
	if (parse_int(&colon, &port, 65535) < 0 || *colon != '\0' || port == 0)
		return -1;
	p->port = port;
	return 0;
}

static int add_check(struct probe *p, enum check_kind kind, const char *arg)
{
	struct check *c;
	const char *t = arg;

	if (p->nchecks == PROBE_MAX_CHECKS) {
		fprintf(stderr, "rfb_probe: at most %d --pixel/--click/--key\n", PROBE_MAX_CHECKS);
		return -1;
	}
	c = &p->checks[p->nchecks];
	c->kind = kind;
	switch (kind) {
	case CHECK_PIXEL:
		if (parse_xy(&t, &c->x, &c->y, '=') < 0 || parse_rgb(t + 1, &c->value) < 0)
			goto bad;
		break;
	case CHECK_CLICK:
		if (parse_xy(&t, &c->x, &c->y, '\0') < 0)
			goto bad;
		break;
	case CHECK_KEY:
		if (parse_keysym(arg, &c->value) < 0)
			goto bad;
		break;
	}
	p->nchecks++;
	return 0;
bad:
	fprintf(stderr, "rfb_probe: bad argument '%s'\n", arg);
	return -1;
}

/* ---- libvncclient callbacks ---- */

static struct probe *probe_of(rfbClient *client)
{
	return rfbClientGetClientData(client, &probe_tag);
}

static rfbBool alloc_fb(rfbClient *client)
{
	struct probe *p = probe_of(client);

	if (client->width <= 0 || client->height <= 0 || client->width > PROBE_MAX_FB_SIDE ||
	    client->height > PROBE_MAX_FB_SIDE || client->format.bitsPerPixel != 32) {
		fprintf(stderr, "rfb_probe: refusing a %dx%d framebuffer at %d bpp\n", client->width,
		        client->height, client->format.bitsPerPixel);
		return FALSE;
	}
	free(p->fb);
	p->fb = calloc((size_t)client->width * (size_t)client->height, 4);
	client->frameBuffer = p->fb;
	return p->fb != NULL;
}

static void update_done(rfbClient *client)
{
	probe_of(client)->updates++;
}

static void got_cursor(rfbClient *client, int xhot, int yhot, int width, int height, int bpp)
{
	(void)xhot;
	(void)yhot;
	(void)width;
	(void)height;
	(void)bpp;
	probe_of(client)->cursor_shapes++;
}

static char *no_password(rfbClient *client)
{
	(void)client;
	return NULL;
}

static uint32_t fb_pixel(const struct probe *p, int x, int y)
{
	uint32_t v;

	memcpy(&v, p->fb + ((size_t)y * p->client->width + x) * 4, 4);
	return v & 0xffffff;
}

static uint32_t counter_pixel(void *ctx, int x, int y)
{
	return fb_pixel(ctx, x, y);
}

/* ---- waiting ---- */

/* Reads server messages until done(p) or `deadline`: 1 done, 0 deadline,
 * -1 connection lost. */
static int pump(struct probe *p, double deadline, int (*done)(struct probe *, const void *),
                const void *arg)
{
	for (;;) {
		double left;

		if (done != NULL && done(p, arg))
			return 1;
		left = deadline - now_s();
		if (left <= 0)
			return 0;
		if (p->client->buffered == 0) {
			unsigned us = left * 1e6 < PROBE_POLL_US ? (unsigned)(left * 1e6) : PROBE_POLL_US;
			int n = WaitForMessage(p->client, us);

			if (n < 0 && errno != EINTR)
				return -1;
			if (n <= 0)
				continue;
		}
		if (!HandleRFBServerMessage(p->client))
			return -1;
	}
}

static int have_updates(struct probe *p, const void *arg)
{
	return p->updates >= *(const unsigned long *)arg;
}

static int demo_matches(struct probe *p, const void *arg)
{
	int w = p->client->width, h = p->client->height;
	uint32_t n;

	(void)arg;
	if (p->updates == 0 || p->updates == p->demo_checked_at)
		return 0;
	p->demo_checked_at = p->updates;
	if (w < DEMO_PATTERN_MIN_WIDTH || h < DEMO_PATTERN_MIN_HEIGHT)
		return 0;
	n = demo_pattern_read_counter(counter_pixel, p);
	for (int y = 0; y < h; y++) {
		for (int x = 0; x < w; x++) {
			uint32_t want = demo_pattern_pixel(n, x, y, w, h), got = fb_pixel(p, x, y);

			if (want != got) {
				p->have_mismatch = 1;
				p->demo_frame = n;
				p->mismatch_x = x;
				p->mismatch_y = y;
				p->mismatch_want = want;
				p->mismatch_got = got;
				return 0;
			}
		}
	}
	p->demo_frame = n;
	return 1;
}

static int pixel_matches(struct probe *p, const void *arg)
{
	const struct check *c = arg;

	return p->updates > 0 && fb_pixel(p, c->x, c->y) == c->value;
}

/* ---- the steps ---- */

static int run_demo(struct probe *p)
{
	int w = p->client->width, h = p->client->height;
	int rc = pump(p, now_s() + p->timeout, demo_matches, NULL);

	if (rc == 1) {
		if (p->json)
			printf("{\"check\":\"demo\",\"ok\":true,\"frame\":%u,\"width\":%d,\"height\":%d}\n",
			       p->demo_frame, w, h);
		else
			printf("demo ok frame=%u width=%d height=%d\n", p->demo_frame, w, h);
		return 0;
	}
	if (w < DEMO_PATTERN_MIN_WIDTH || h < DEMO_PATTERN_MIN_HEIGHT) {
		printf(p->json ? "{\"check\":\"demo\",\"ok\":false,\"error\":\"framebuffer %dx%d is "
		                 "smaller than any demo pattern\"}\n"
		               : "demo FAIL framebuffer %dx%d is smaller than any demo pattern\n",
		       w, h);
	} else if (p->have_mismatch) {
		if (p->json)
			printf("{\"check\":\"demo\",\"ok\":false,\"frame\":%u,\"x\":%d,\"y\":%d,"
			       "\"expected\":\"%06x\",\"got\":\"%06x\",\"connection_lost\":%s}\n",
			       p->demo_frame, p->mismatch_x, p->mismatch_y, p->mismatch_want,
			       p->mismatch_got, rc < 0 ? "true" : "false");
		else
			printf("demo FAIL frame=%u x=%d y=%d expected=%06x got=%06x%s (after %.1f s, "
			       "%lu updates)\n",
			       p->demo_frame, p->mismatch_x, p->mismatch_y, p->mismatch_want,
			       p->mismatch_got, rc < 0 ? " connection lost" : "", p->timeout, p->updates);
	} else {
		printf(p->json ? "{\"check\":\"demo\",\"ok\":false,\"error\":\"no complete frame\"}\n"
		               : "demo FAIL no complete frame received\n");
	}
	return -1;
}

static int run_pixel(struct probe *p, const struct check *c)
{
	int rc;
	uint32_t got;

	if (c->x >= p->client->width || c->y >= p->client->height) {
		printf(p->json ? "{\"check\":\"pixel\",\"ok\":false,\"x\":%d,\"y\":%d,\"error\":"
		                 "\"outside the %dx%d framebuffer\"}\n"
		               : "pixel FAIL x=%d y=%d is outside the %dx%d framebuffer\n",
		       c->x, c->y, p->client->width, p->client->height);
		return -1;
	}
	rc = pump(p, now_s() + p->timeout, pixel_matches, c);
	got = fb_pixel(p, c->x, c->y);
	if (p->json)
		printf("{\"check\":\"pixel\",\"ok\":%s,\"x\":%d,\"y\":%d,\"expected\":\"%06x\","
		       "\"got\":\"%06x\"}\n",
		       rc == 1 ? "true" : "false", c->x, c->y, c->value, got);
	else if (rc == 1)
		printf("pixel ok x=%d y=%d rgb=%06x\n", c->x, c->y, c->value);
	else
		printf("pixel FAIL x=%d y=%d expected=%06x got=%06x%s\n", c->x, c->y, c->value, got,
		       rc < 0 ? " (connection lost)" : "");
	return rc == 1 ? 0 : -1;
}

static int run_input(struct probe *p, const struct check *c)
{
	rfbBool ok;

	if (c->kind == CHECK_CLICK) {
		ok = SendPointerEvent(p->client, c->x, c->y, 0) &&
		     SendPointerEvent(p->client, c->x, c->y, 1) &&
		     SendPointerEvent(p->client, c->x, c->y, 0);
		if (p->json)
			printf("{\"check\":\"click\",\"ok\":%s,\"x\":%d,\"y\":%d}\n",
			       ok ? "true" : "false", c->x, c->y);
		else
			printf("click %s x=%d y=%d\n", ok ? "ok" : "FAIL", c->x, c->y);
	} else {
		ok = SendKeyEvent(p->client, c->value, TRUE) && SendKeyEvent(p->client, c->value, FALSE);
		if (p->json)
			printf("{\"check\":\"key\",\"ok\":%s,\"keysym\":%u}\n", ok ? "true" : "false",
			       c->value);
		else
			printf("key %s keysym=0x%x\n", ok ? "ok" : "FAIL", c->value);
	}
	return ok ? 0 : -1;
}

/* Bytes the kernel has received on the server connection so far. */
static unsigned long long bytes_received(const struct probe *p)
{
	struct tcp_info info;
	socklen_t len = sizeof info;

	memset(&info, 0, sizeof info);
	if (getsockopt(p->client->sock, IPPROTO_TCP, TCP_INFO, &info, &len) < 0)
		return 0;
	return (unsigned long long)info.tcpi_bytes_received;
}

static int run_hold(struct probe *p)
{
	double start = now_s();
	unsigned long before = p->updates;
	unsigned long long bytes_before = bytes_received(p);
	int rc = pump(p, start + p->hold, NULL, NULL);
	unsigned long got = p->updates - before;
	unsigned long long bytes = bytes_received(p) - bytes_before;

	if (p->json)
		printf("{\"check\":\"hold\",\"ok\":%s,\"seconds\":%g,\"updates\":%lu,"
		       "\"cursor_shapes\":%lu,\"alive\":%s,\"bytes\":%llu}\n",
		       rc == 0 ? "true" : "false", p->hold, got, p->cursor_shapes,
		       rc == 0 ? "true" : "false", bytes);
	else if (rc == 0)
		printf("hold ok seconds=%g updates=%lu cursor_shapes=%lu alive=1 bytes=%llu\n", p->hold,
		       got, p->cursor_shapes, bytes);
	else
		printf("hold FAIL seconds=%g updates=%lu alive=0 disconnected_after=%.2f\n", p->hold,
		       got, now_s() - start);
	return rc == 0 ? 0 : -1;
}

static int run_stall(struct probe *p)
{
	double end = now_s() + p->stall;
	unsigned long sent = 0;
	rfbFramebufferUpdateRequestMsg m;
	struct timespec pause = { 0, PROBE_STALL_REQUEST_MS * 1000000L };

	memset(&m, 0, sizeof m);
	m.type = rfbFramebufferUpdateRequest;
	m.incremental = 0;
	m.w = htons((uint16_t)p->client->width);
	m.h = htons((uint16_t)p->client->height);
	while (now_s() < end) {
		/* Never blocks and never reads: the server's writes pile up. */
		if (send(p->client->sock, &m, sz_rfbFramebufferUpdateRequestMsg,
		         MSG_DONTWAIT | MSG_NOSIGNAL) == sz_rfbFramebufferUpdateRequestMsg)
			sent++;
		nanosleep(&pause, NULL);
	}
	if (p->json)
		printf("{\"check\":\"stall\",\"ok\":true,\"seconds\":%g,\"requests\":%lu}\n", p->stall,
		       sent);
	else
		printf("stall ok seconds=%g requests=%lu\n", p->stall, sent);
	return 0;
}

static rfbClient *connect_client(struct probe *p)
{
	static const uint32_t none_only[] = { rfbNoAuth };
	rfbClient *client = rfbGetClient(8, 3, 4);
	unsigned secs = ceil_s(p->timeout);

	if (client == NULL)
		return NULL;
	rfbClientSetClientData(client, &probe_tag, p);
	/* 0x00RRGGBB in host order. */
	client->format.redShift = 16;
	client->format.greenShift = 8;
	client->format.blueShift = 0;
	client->appData.shareDesktop = p->shared ? TRUE : FALSE;
	client->appData.encodingsString = p->stall > 0 ? "raw" : p->encodings;
	client->appData.enableJPEG = FALSE; /* pixel-exact checks need lossless */
	client->appData.useRemoteCursor = TRUE;
	client->canHandleNewFBSize = TRUE;
	client->MallocFrameBuffer = alloc_fb;
	client->FinishedFrameBufferUpdate = update_done;
	client->GotCursorShape = got_cursor;
	client->GetPassword = no_password;
	client->connectTimeout = secs ? secs : 1;
	client->readTimeout = secs ? secs : 1;
	SetClientAuthSchemes(client, none_only, 1);
	free(client->serverHost);
	client->serverHost = strdup(p->host);
	client->serverPort = p->port;
	if (client->serverHost == NULL || !rfbInitClient(client, NULL, NULL))
		return NULL; /* rfbInitClient freed the client */
	return client;
}

static void disconnect_client(struct probe *p)
{
	if (p->client != NULL) {
		free(p->client->rcSource);
		free(p->client->rcMask);
		p->client->rcSource = p->client->rcMask = NULL;
		rfbClientCleanup(p->client);
		p->client = NULL;
	}
	free(p->fb);
	p->fb = NULL;
}

static int parse_args(struct probe *p, int argc, char **argv)
{
	static const struct option options[] = {
		{ "expect-demo", no_argument, NULL, 'D' }, { "pixel", required_argument, NULL, 'p' },
		{ "click", required_argument, NULL, 'c' }, { "key", required_argument, NULL, 'k' },
		{ "hold", required_argument, NULL, 'H' },  { "stall", required_argument, NULL, 'S' },
		{ "timeout", required_argument, NULL, 't' },
		{ "encodings", required_argument, NULL, 'e' },
		{ "no-share", no_argument, NULL, 'n' },    { "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },     { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "vh", options, NULL)) != -1) {
		switch (opt) {
		case 'D': p->expect_demo = 1; break;
		case 'p':
			if (add_check(p, CHECK_PIXEL, optarg) < 0)
				return -1;
			break;
		case 'c':
			if (add_check(p, CHECK_CLICK, optarg) < 0)
				return -1;
			break;
		case 'k':
			if (add_check(p, CHECK_KEY, optarg) < 0)
				return -1;
			break;
		case 'H':
			if (parse_seconds(optarg, &p->hold) < 0)
				goto bad_seconds;
			break;
		case 'S':
			if (parse_seconds(optarg, &p->stall) < 0 || p->stall <= 0)
				goto bad_seconds;
			break;
		case 't':
			if (parse_seconds(optarg, &p->timeout) < 0 || p->timeout <= 0)
				goto bad_seconds;
			break;
		case 'e': p->encodings = optarg; break;
		case 'n': p->shared = 0; break;
		case 'j': p->json = 1; break;
		case 'v': p->verbose = 1; break;
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
	}
	if (optind + 1 != argc || parse_target(p, argv[optind]) < 0) {
		fprintf(stderr, "rfb_probe: want exactly one HOST:PORT\n");
		return -1;
	}
	p->target = argv[optind];
	if (p->stall > 0 && (p->expect_demo || p->nchecks > 0 || p->hold > 0)) {
		fprintf(stderr, "rfb_probe: --stall goes alone\n");
		return -1;
	}
	return 0;
bad_seconds:
	fprintf(stderr, "rfb_probe: bad number of seconds '%s' (0 to %.0f)\n", optarg,
	        PROBE_MAX_SECONDS);
	return -1;
}

int main(int argc, char **argv)
{
	static struct probe probe = { .shared = 1, .timeout = 10.0,
	                              .encodings = PROBE_DEFAULT_ENCODINGS };
	struct probe *p = &probe;
	unsigned long first = 1;
	double budget;
	int rc = 1;

	if (parse_args(p, argc, argv) < 0) {
		usage(stderr);
		return 2;
	}
	verbose_log = p->verbose;
	rfbClientLog = client_log;
	rfbClientErr = client_err;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	budget = p->timeout * (3 + p->nchecks + p->expect_demo) + p->hold + p->stall + 10;
	alarm(ceil_s(budget));

	p->client = connect_client(p);
	if (p->client == NULL) {
		fprintf(stderr, "rfb_probe: cannot connect to %s (RFB handshake failed)\n", p->target);
		goto out;
	}
	if (p->stall > 0) {
		rc = run_stall(p) < 0;
		goto out;
	}
	if (pump(p, now_s() + p->timeout, have_updates, &first) != 1) {
		fprintf(stderr, "rfb_probe: no framebuffer update from %s within %g s\n", p->target,
		        p->timeout);
		goto out;
	}
	for (int i = 0; i < p->nchecks; i++) {
		if (p->checks[i].kind != CHECK_PIXEL && run_input(p, &p->checks[i]) < 0)
			goto out;
	}
	if (p->nchecks > 0 && pump(p, now_s() + PROBE_INPUT_SETTLE_S, NULL, NULL) < 0) {
		fprintf(stderr, "rfb_probe: connection lost after sending input\n");
		goto out;
	}
	if (p->expect_demo && run_demo(p) < 0)
		goto out;
	for (int i = 0; i < p->nchecks; i++) {
		if (p->checks[i].kind == CHECK_PIXEL && run_pixel(p, &p->checks[i]) < 0)
			goto out;
	}
	if (p->hold > 0 && run_hold(p) < 0)
		goto out;
	rc = 0;
out:
	fflush(stdout);
	disconnect_client(p);
	return rc;
}
