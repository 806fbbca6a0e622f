#include "replay_decoder.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rfb/rfbclient.h>
#include <zlib.h>

#include "concierge_limits.h"
#include "fd_io.h"
#include "replay_proto.h"
#include "replay_sandbox.h"

/* Descriptors the child keeps (everything else is closed). */
#define FD_CTL 3
#define FD_RFB_CLIENT 4 /* libvncclient's end */
#define FD_RFB_PUMP 5   /* the pump's end */
#define PUMP_CHUNK (64 * 1024)
/* After libvncclient finished a message, the pump must be done within this. */
#define PUMP_SETTLE_MS 2000

/* The child is its own process: one decoder, so plain statics. */
static rfbClient *client;
static uint32_t *framebuffer;   /* client->frameBuffer, client->width x height */
static int changed_all;         /* since the last FRAME: whole frame */
static size_t nrects;
static struct replay_proto_rect rects[REPLAY_MAX_DIRTY_RECTS];
static char last_log[REPLAY_MAX_ERROR_TEXT];

static pthread_mutex_t pump_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pump_cond = PTHREAD_COND_INITIALIZER;
static uint64_t pump_job;       /* bytes still to copy for the current job */
static int pump_busy;
static char pump_error[128];

/* ---- replies ------------------------------------------------------------- */

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void fail(const char *fmt, ...)
{
	struct replay_reply_hdr h;
	char text[REPLAY_MAX_ERROR_TEXT];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof text)
		n = (int)sizeof text - 1;
	memset(&h, 0, sizeof h);
	h.kind = REPLAY_REPLY_ERROR;
	h.payload_len = (uint64_t)n;
	(void)(fd_write_full(FD_CTL, &h, sizeof h) == 0 && fd_write_full(FD_CTL, text, (size_t)n) == 0);
	_exit(1);
}

/* libvncclient's log: keep the last line for the error message. */
static void client_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void client_log(const char *fmt, ...)
{
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	vsnprintf(last_log, sizeof last_log, fmt, ap);
	va_end(ap);
	len = strlen(last_log);
	while (len > 0 && (last_log[len - 1] == '\n' || last_log[len - 1] == '\r'))
		last_log[--len] = '\0';
}

/* ---- the pump thread ------------------------------------------------------ */

static void drain_client_writes(void)
{
	char trash[4096];

	while (read(FD_RFB_PUMP, trash, sizeof trash) > 0)
		;
}

static void *pump_main(void *arg)
{
	static uint8_t buf[PUMP_CHUNK];

	(void)arg;
	for (;;) {
		uint64_t left;
		size_t have = 0, off = 0;

		pthread_mutex_lock(&pump_lock);
		while (!pump_busy)
			pthread_cond_wait(&pump_cond, &pump_lock);
		left = pump_job;
		pthread_mutex_unlock(&pump_lock);

		while (left > 0 || off < have) {
			struct pollfd p[2] = {
				{ FD_CTL, (short)(off == have && left > 0 ? POLLIN : 0), 0 },
				{ FD_RFB_PUMP, (short)(POLLIN | (off < have ? POLLOUT : 0)), 0 },
			};
			int rc = poll(p, 2, REPLAY_CHILD_TIMEOUT_MS);

			if (rc < 0 && errno == EINTR)
				continue;
			if (rc <= 0) {
				snprintf(pump_error, sizeof pump_error, "no progress feeding the decoder");
				shutdown(FD_RFB_PUMP, SHUT_RDWR);
				break;
			}
			if (p[0].revents) {
				ssize_t n = read(FD_CTL, buf, left < sizeof buf ? (size_t)left : sizeof buf);

				if (n <= 0)
					_exit(0); /* the parent went away */
				have = (size_t)n;
				off = 0;
				left -= (uint64_t)n;
			}
			if (p[1].revents & POLLIN)
				drain_client_writes();
			if ((p[1].revents & POLLOUT) && off < have) {
				ssize_t n = write(FD_RFB_PUMP, buf + off, have - off);

				if (n > 0)
					off += (size_t)n;
			}
			if (p[1].revents & (POLLERR | POLLHUP)) {
				snprintf(pump_error, sizeof pump_error, "decoder socket closed");
				break;
			}
		}
		drain_client_writes();
		pthread_mutex_lock(&pump_lock);
		pump_busy = 0;
		pthread_cond_broadcast(&pump_cond);
		pthread_mutex_unlock(&pump_lock);
	}
	return NULL;
}

static void pump_start(uint64_t len)
{
	pthread_mutex_lock(&pump_lock);
	pump_job = len;
	pump_busy = 1;
	pthread_cond_broadcast(&pump_cond);
	pthread_mutex_unlock(&pump_lock);
}

/* Waits for the pump to finish the job; 0 when it did within `ms`. */
static int pump_wait(long ms)
{
	struct timespec until;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&pump_lock);
	while (pump_busy && rc == 0)
		rc = pthread_cond_timedwait(&pump_cond, &pump_lock, &until);
	rc = pump_busy ? -1 : 0;
	pthread_mutex_unlock(&pump_lock);
	return rc;
}

/* After a unit: the pump gave every byte, libvncclient took every byte. */
static void check_consumed(const char *what)
{
	int pending = 0;

	if (pump_wait(PUMP_SETTLE_MS) < 0)
		fail("%s: the decoder stopped before the end of the message", what);
	if (pump_error[0])
		fail("%s: %s", what, pump_error);
	if (ioctl(FD_RFB_CLIENT, FIONREAD, &pending) < 0 || pending != 0 || client->buffered != 0)
		fail("%s: the decoder read a different length than the message has", what);
}

/* ---- libvncclient hooks ---------------------------------------------------- */

static rfbBool malloc_framebuffer(rfbClient *c)
{
	uint64_t pixels = (uint64_t)(c->width > 0 ? c->width : 0) * (uint64_t)(c->height > 0 ? c->height : 0);

	free(framebuffer);
	framebuffer = NULL;
	c->frameBuffer = NULL;
	if (pixels == 0 || pixels > REPLAY_MAX_PIXELS) {
		client_log("framebuffer %dx%d outside the limits", c->width, c->height);
		return FALSE;
	}
	framebuffer = calloc((size_t)pixels, 4);
	if (framebuffer == NULL) {
		client_log("no memory for a %dx%d framebuffer", c->width, c->height);
		return FALSE;
	}
	c->frameBuffer = (uint8_t *)framebuffer;
	changed_all = 1;
	nrects = 0;
	return TRUE;
}

static void got_update(rfbClient *c, int x, int y, int w, int h)
{
	struct replay_proto_rect r;

	/* Clip to the framebuffer (libvncclient checked the decoded rects). */
	if (x < 0 || y < 0 || w <= 0 || h <= 0 || x >= c->width || y >= c->height)
		return;
	if (w > c->width - x)
		w = c->width - x;
	if (h > c->height - y)
		h = c->height - y;
	r = (struct replay_proto_rect){ (uint32_t)x, (uint32_t)y, (uint32_t)w, (uint32_t)h };
	if (changed_all)
		return;
	if (nrects == REPLAY_MAX_DIRTY_RECTS) {
		/* Too many: one bounding box of them all. */
		uint32_t x0 = r.x, y0 = r.y, x1 = r.x + r.w, y1 = r.y + r.h;

		for (size_t i = 0; i < nrects; i++) {
			x0 = rects[i].x < x0 ? rects[i].x : x0;
			y0 = rects[i].y < y0 ? rects[i].y : y0;
			x1 = rects[i].x + rects[i].w > x1 ? rects[i].x + rects[i].w : x1;
			y1 = rects[i].y + rects[i].h > y1 ? rects[i].y + rects[i].h : y1;
		}
		rects[0] = (struct replay_proto_rect){ x0, y0, x1 - x0, y1 - y0 };
		nrects = 1;
		return;
	}
	rects[nrects++] = r;
}

static void new_client(void)
{
	static const uint32_t none_only[] = { rfbNoAuth };

	if (client != NULL) {
		client->sock = RFB_INVALID_SOCKET; /* ours, kept for the next leg */
		client->frameBuffer = NULL;
		rfbClientCleanup(client);
	}
	free(framebuffer);
	framebuffer = NULL;
	client = rfbGetClient(8, 3, 4);
	if (client == NULL)
		fail("no memory for the RFB client");
	/* The recorded format: 32 bpp, depth 24, little-endian, 16/8/0. */
	client->format.bitsPerPixel = 32;
	client->format.depth = 24;
	client->format.bigEndian = FALSE;
	client->format.trueColour = TRUE;
	client->format.redMax = client->format.greenMax = client->format.blueMax = 255;
	client->format.redShift = 16;
	client->format.greenShift = 8;
	client->format.blueShift = 0;
	client->sock = FD_RFB_CLIENT;
	client->MallocFrameBuffer = malloc_framebuffer;
	client->GotFrameBufferUpdate = got_update;
	client->canHandleNewFBSize = TRUE;
	SetClientAuthSchemes(client, none_only, 1);
}

/* ---- commands -------------------------------------------------------------- */

static void cmd_leg(uint32_t len)
{
	new_client();
	last_log[0] = '\0';
	pump_start(len);
	if (!InitialiseRFBConnection(client))
		fail("handshake: %s", last_log[0] ? last_log : "refused by the decoder");
	client->width = client->si.framebufferWidth;
	client->height = client->si.framebufferHeight;
	if (!client->MallocFrameBuffer(client))
		fail("handshake: %s", last_log);
	if (!SetFormatAndEncodings(client))
		fail("handshake: cannot answer the server");
	check_consumed("handshake");
}

static void cmd_unit(uint32_t len)
{
	if (client == NULL || framebuffer == NULL)
		fail("a message before the handshake");
	last_log[0] = '\0';
	pump_start(len);
	if (!HandleRFBServerMessage(client))
		fail("%s", last_log[0] ? last_log : pump_error[0] ? pump_error : "the decoder refused a message");
	check_consumed("message");
}

static void cmd_restore(uint32_t width, uint32_t height, uint32_t len)
{
	uint8_t head[5];
	uint32_t window_len, zlen;
	uint8_t *payload;
	uLongf out_len;

	if (client == NULL || len < sizeof head)
		fail("restore without a leg");
	if (fd_read_full(FD_CTL, head, sizeof head) < 0)
		_exit(0);
	memcpy(&window_len, head + 1, 4);
	if (head[0] > 1 || window_len > REPLAY_ZLIB_WINDOW || len - sizeof head < window_len ||
	    len - sizeof head - window_len > REPLAY_MAX_KEYFRAME_FB)
		fail("restore: malformed keyframe");
	zlen = len - (uint32_t)sizeof head - window_len;
	payload = malloc((size_t)window_len + zlen + 1);
	if (payload == NULL)
		fail("restore: no memory");
	if (fd_read_full(FD_CTL, payload, (size_t)window_len + zlen) < 0)
		_exit(0);
	client->width = (int)width;
	client->height = (int)height;
	if (width > RFB_FRAMER_MAX_DIM || height > RFB_FRAMER_MAX_DIM || !client->MallocFrameBuffer(client))
		fail("restore: %s", last_log);
	out_len = (uLongf)width * height * 4;
	if (uncompress((Bytef *)framebuffer, &out_len, payload + window_len, zlen) != Z_OK ||
	    out_len != (uLongf)width * height * 4)
		fail("restore: the keyframe's framebuffer does not inflate to %ux%u", width, height);
	replay_proto_unfilter_fb(framebuffer, width, height);
	if (client->decompStreamInited) {
		inflateEnd(&client->decompStream);
		client->decompStreamInited = FALSE;
	}
	if (head[0] == 1) {
		/* At a message boundary the ZRLE inflater (the server sync-flushes
		 * every rectangle) is nothing but its window. */
		memset(&client->decompStream, 0, sizeof client->decompStream);
		if (inflateInit2(&client->decompStream, -15) != Z_OK ||
		    (window_len > 0 &&
		     inflateSetDictionary(&client->decompStream, payload, window_len) != Z_OK))
			fail("restore: cannot set the inflater window");
		client->decompStreamInited = TRUE;
	}
	free(payload);
	changed_all = 1;
	nrects = 0;
}

static void reply(const struct replay_reply_hdr *h, const void *a, size_t alen, const void *b, size_t blen)
{
	if (fd_write_full(FD_CTL, h, sizeof *h) < 0 || (alen && fd_write_full(FD_CTL, a, alen) < 0) ||
	    (blen && fd_write_full(FD_CTL, b, blen) < 0))
		_exit(0);
}

/* Decoders may leave the unused top byte of a 32-bit pixel set (ZRLE's
 * 3-byte pixels); pixels handed out are 0x00RRGGBB. */
static void clear_top_bytes(uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	for (uint32_t row = y; row < y + h; row++) {
		uint32_t *p = framebuffer + (size_t)row * (uint32_t)client->width + x;

		for (uint32_t i = 0; i < w; i++)
			p[i] &= 0x00ffffffu;
	}
}

static void cmd_frame(uint32_t want_full)
{
	struct replay_reply_hdr h;
	uint64_t area = 0;
	uint32_t w, hgt;

	memset(&h, 0, sizeof h);
	h.kind = REPLAY_REPLY_FRAME;
	if (client == NULL || framebuffer == NULL) {
		reply(&h, NULL, 0, NULL, 0);
		return;
	}
	w = (uint32_t)client->width;
	hgt = (uint32_t)client->height;
	h.width = w;
	h.height = hgt;
	for (size_t i = 0; i < nrects; i++)
		area += (uint64_t)rects[i].w * rects[i].h;
	if (want_full || changed_all || area > (uint64_t)w * hgt) {
		clear_top_bytes(0, 0, w, hgt);
		h.flags = REPLAY_FRAME_FULL;
		h.payload_len = (uint64_t)w * hgt * 4;
		reply(&h, framebuffer, (size_t)h.payload_len, NULL, 0);
	} else {
		for (size_t i = 0; i < nrects; i++)
			clear_top_bytes(rects[i].x, rects[i].y, rects[i].w, rects[i].h);
		h.nrects = (uint32_t)nrects;
		h.payload_len = 16 * (uint64_t)nrects + area * 4;
		reply(&h, rects, 16 * nrects, NULL, 0);
		for (size_t i = 0; i < nrects; i++)
			for (uint32_t y = 0; y < rects[i].h; y++)
				if (fd_write_full(FD_CTL, framebuffer + (size_t)(rects[i].y + y) * w + rects[i].x,
				              (size_t)rects[i].w * 4) < 0)
					_exit(0);
	}
	changed_all = 0;
	nrects = 0;
}

static void cmd_snapshot(void)
{
	struct replay_reply_hdr h;
	static uint8_t window[REPLAY_ZLIB_WINDOW];
	uInt window_len = 0;

	memset(&h, 0, sizeof h);
	h.kind = REPLAY_REPLY_SNAPSHOT;
	if (client == NULL || framebuffer == NULL)
		fail("snapshot before the handshake");
	if (client->decompStreamInited) {
		if (inflateGetDictionary(&client->decompStream, window, &window_len) != Z_OK ||
		    window_len > sizeof window)
			fail("snapshot: cannot read the inflater window");
		h.flags = 1;
	}
	h.width = (uint32_t)client->width;
	h.height = (uint32_t)client->height;
	clear_top_bytes(0, 0, h.width, h.height);
	h.window_len = window_len;
	h.payload_len = window_len + (uint64_t)h.width * h.height * 4;
	reply(&h, window, window_len, framebuffer, (size_t)h.width * h.height * 4);
	changed_all = 0;
	nrects = 0;
}

static void cmd_probe(void)
{
	struct replay_reply_hdr h;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&h, 0, sizeof h);
	h.kind = REPLAY_REPLY_PROBE;
	h.flags = fd >= 0;
	h.b_errno = fd >= 0 ? 0 : (uint32_t)errno;
	if (fd >= 0)
		close(fd);
	reply(&h, NULL, 0, NULL, 0);
}

static void keep_descriptors(int ctl, int rfb[2])
{
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);

	/* Move ours out of the way, then to fixed numbers above stderr, and
	 * close all others. */
	int c = fcntl(ctl, F_DUPFD, 64), r0 = fcntl(rfb[0], F_DUPFD, 64), r1 = fcntl(rfb[1], F_DUPFD, 64);

	if (c < 0 || r0 < 0 || r1 < 0 || dup2(c, FD_CTL) < 0 || dup2(r0, FD_RFB_CLIENT) < 0 ||
	    dup2(r1, FD_RFB_PUMP) < 0)
		_exit(1);
	/* 0..FD_RFB_PUMP all open, so RLIMIT_NOFILE leaves no free number. */
	if (devnull < 0)
		_exit(1);
	dup2(devnull, 0);
	dup2(devnull, 1);
	if (fcntl(2, F_GETFD) < 0)
		dup2(devnull, 2);
	if (close_range(FD_RFB_PUMP + 1, ~0u, 0) < 0) {
		for (int fd = FD_RFB_PUMP + 1; fd < 1024; fd++)
			close(fd);
	}
	fcntl(FD_RFB_PUMP, F_SETFL, fcntl(FD_RFB_PUMP, F_GETFL) | O_NONBLOCK);
}

void replay_decoder_main(int ctl)
{
	char why[160];
	const char *netns;
	int rfb[2];
	pthread_t pump;
	struct replay_cmd_hdr cmd;

	signal(SIGPIPE, SIG_IGN);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, rfb) < 0)
		_exit(1);
	/* Error replies go to ctl, which keep_descriptors moves to FD_CTL. */
	keep_descriptors(ctl, rfb);
	rfbClientLog = client_log;
	rfbClientErr = client_log;
	if (replay_sandbox_enter(FD_RFB_PUMP + 1, &netns, why, sizeof why) < 0)
		fail("sandbox: %s", why);
	if (pthread_create(&pump, NULL, pump_main, NULL) != 0)
		fail("cannot start the pump thread");
	if (replay_sandbox_lock(why, sizeof why) < 0)
		fail("sandbox: %s", why);

	/* Rights are reduced: now the recorded bytes may come. */
	for (;;) {
		if (fd_read_full(FD_CTL, &cmd, sizeof cmd) < 0)
			_exit(0);
		switch (cmd.cmd) {
		case REPLAY_CMD_LEG:
			cmd_leg(cmd.len);
			break;
		case REPLAY_CMD_UNIT:
			cmd_unit(cmd.len);
			break;
		case REPLAY_CMD_RESTORE:
			cmd_restore(cmd.a, cmd.b, cmd.len);
			break;
		case REPLAY_CMD_FRAME:
			cmd_frame(cmd.a);
			break;
		case REPLAY_CMD_SNAPSHOT:
			cmd_snapshot();
			break;
		case REPLAY_CMD_PROBE:
			cmd_probe();
			break;
		case REPLAY_CMD_QUIT:
			_exit(0);
		default:
			fail("unknown command %u", cmd.cmd);
		}
	}
}
