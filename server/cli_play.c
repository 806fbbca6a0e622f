/* concierge recording play ID|PATH [--listen 127.0.0.1:PORT] [--speed X] [--from MM:SS]
 *
 * Serves the replay of a verified recording as a view-only VNC server
 * (libvncserver, security type None, loopback only) that any viewer can
 * watch, at --speed, starting at --from through the replay's keyframes,
 * and prints the timeline (events and attributed input) on stdout as the
 * playback clock passes each entry.  One thread: a listening socket of our
 * own (libvncserver opens none), accepted viewers handed to rfbNewClient,
 * and rfbProcessEvents between the updates that are due.  Ends at the end
 * of the recording or on SIGINT/SIGTERM, with a summary; exit 0. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rfb/rfb.h>

#include "cli.h"
#include "frame_image.h"
#include "recording.h"
#include "recordings.h"
#include "replay.h"
#include "time_spec.h"
#include "timeline.h"
#include "xmalloc.h"

#define PLAY_MIN_SPEED      0.1
#define PLAY_MAX_SPEED      100.0
#define PLAY_TICK_US        20000  /* longest sleep between clock checks */
#define PLAY_DESKTOP_NAME   "Concierge playback"
#define PLAY_CARD_WIDTH     640    /* screen size before any picture says one */
#define PLAY_CARD_HEIGHT    480
#define PLAY_LISTEN_BACKLOG 8

static volatile sig_atomic_t play_stop_signal;

static void on_stop_signal(int sig)
{
	play_stop_signal = sig;
}

struct play_timeline {
	struct recording_reader *reader;
	struct timeline *tl;
	uint64_t records_verified;
	uint64_t show_from_us;   /* entries before --from are not printed */
	uint64_t shown, skipped;
	int reader_done;
	struct recording_record pending; /* read but not yet due */
	int have_pending;
};

struct player {
	rfbScreenInfoPtr screen;
	uint32_t *fb;
	unsigned width, height;
	int showing_picture;     /* what the viewers see now: picture 1, card 0, -1 not yet */
	int listen_fd;
	unsigned long viewers;
};

/* ---- arguments -------------------------------------------------------- */

static int parse_listen(struct cli_ctx *ctx, const char *text, struct sockaddr_in *sa)
{
	struct host_port hp;
	char err[256];

	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (text == NULL)
		return CLI_OK; /* 127.0.0.1, a free port */
	if (host_port_parse(text, &hp, err, sizeof err) < 0)
		return cli_usage_error(ctx, "--listen takes 127.0.0.1:PORT: %s", err);
	if (strcmp(hp.host, "localhost") == 0)
		snprintf(hp.host, sizeof hp.host, "127.0.0.1");
	if (inet_pton(AF_INET, hp.host, &sa->sin_addr) != 1 || (ntohl(sa->sin_addr.s_addr) >> 24) != 127)
		return cli_usage_error(ctx, "--listen %s: playback has no password, so it only listens on "
		                       "loopback (127.x.y.z); watch from elsewhere through 'ssh -L'", text);
	sa->sin_port = htons((uint16_t)hp.port);
	return CLI_OK;
}

static int parse_speed(struct cli_ctx *ctx, const char *text, double *speed)
{
	char *end;

	*speed = 1.0;
	if (text == NULL)
		return CLI_OK;
	errno = 0;
	*speed = strtod(text, &end);
	if (errno || end == text || *end || !isfinite(*speed) || *speed < PLAY_MIN_SPEED ||
	    *speed > PLAY_MAX_SPEED)
		return cli_usage_error(ctx, "--speed takes a factor from 0.1 to 100 (e.g. 0.5, 2, 20), not '%s'",
		                       text);
	return CLI_OK;
}

/* ---- the VNC side --------------------------------------------------------- */

static void ignore_key(rfbBool down, rfbKeySym key, rfbClientPtr cl)
{
	(void)down, (void)key, (void)cl; /* view-only: viewers' input goes nowhere */
}

static void ignore_pointer(int mask, int x, int y, rfbClientPtr cl)
{
	(void)mask, (void)x, (void)y, (void)cl;
}

static void ignore_cut_text(char *text, int len, rfbClientPtr cl)
{
	(void)text, (void)len, (void)cl;
}

static void quiet_log(const char *fmt, ...)
{
	(void)fmt; /* libvncserver's chatter would mix into the timeline */
}

static void set_pixel_format(rfbScreenInfoPtr s)
{
	/* Framebuffer pixels are host-order uint32 0x00RRGGBB, like the replay's. */
	s->serverFormat.redShift = 16;
	s->serverFormat.greenShift = 8;
	s->serverFormat.blueShift = 0;
}

static int player_start(struct player *p, const struct sockaddr_in *sa, char *err, size_t errlen)
{
	struct sockaddr_in bound;
	socklen_t len = sizeof bound;
	int one = 1;

	rfbLog = quiet_log;
	rfbErr = quiet_log;
	p->width = PLAY_CARD_WIDTH;
	p->height = PLAY_CARD_HEIGHT;
	p->fb = xcalloc((size_t)p->width * p->height, sizeof *p->fb);
	frame_image_no_picture(p->fb, p->width, (struct frame_rect){ 0, 0, p->width, p->height });
	p->screen = rfbGetScreen(NULL, NULL, (int)p->width, (int)p->height, 8, 3, 4);
	if (p->screen == NULL) {
		snprintf(err, errlen, "libvncserver could not create a screen");
		return -1;
	}
	set_pixel_format(p->screen);
	p->screen->frameBuffer = (char *)p->fb;
	p->screen->desktopName = PLAY_DESKTOP_NAME;
	/* No socket of libvncserver's own: we accept and hand viewers over. */
	p->screen->autoPort = FALSE;
	p->screen->port = 0;
	p->screen->ipv6port = 0;
	p->screen->httpPort = 0;
	p->screen->http6Port = 0;
	p->screen->httpDir = NULL;
	p->screen->udpPort = 0;
	p->screen->inetdSock = RFB_INVALID_SOCKET;
	p->screen->alwaysShared = TRUE;
	p->screen->neverShared = FALSE;
	p->screen->permitFileTransfer = FALSE;
	p->screen->authPasswdData = NULL;
	p->screen->kbdAddEvent = ignore_key;
	p->screen->ptrAddEvent = ignore_pointer;
	p->screen->setXCutText = ignore_cut_text;
	p->screen->setXCutTextUTF8 = ignore_cut_text;
	rfbInitServer(p->screen);

	p->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (p->listen_fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(p->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(p->listen_fd, (const struct sockaddr *)sa, sizeof *sa) < 0 ||
	    listen(p->listen_fd, PLAY_LISTEN_BACKLOG) < 0 ||
	    getsockname(p->listen_fd, (struct sockaddr *)&bound, &len) < 0) {
		char addr[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &sa->sin_addr, addr, sizeof addr);
		snprintf(err, errlen, "cannot listen on %s:%u: %s (choose another port with --listen)", addr,
		         ntohs(sa->sin_port), strerror(errno));
		return -1;
	}
	printf("VNC playback (view only) on 127.0.0.1:%u; watch with: vncviewer 127.0.0.1::%u\n",
	       ntohs(bound.sin_port), ntohs(bound.sin_port));
	return 0;
}

static void player_accept(struct player *p)
{
	for (;;) {
		int fd = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			return;
		/* rfbNewClient closes the fd itself when it fails. */
		if (rfbNewClient(p->screen, fd) != NULL)
			p->viewers++;
	}
}

static void player_resize(struct player *p, unsigned w, unsigned h)
{
	uint32_t *old = p->fb;

	if (w == p->width && h == p->height)
		return;
	p->fb = xcalloc((size_t)w * h, sizeof *p->fb);
	p->width = w;
	p->height = h;
	rfbNewFramebuffer(p->screen, (char *)p->fb, (int)w, (int)h, 8, 3, 4);
	set_pixel_format(p->screen);
	free(old);
}

static void player_show(struct player *p, const struct replay_frame *f)
{
	if (!f->has_picture) {
		frame_image_no_picture(p->fb, p->width, (struct frame_rect){ 0, 0, p->width, p->height });
		rfbMarkRectAsModified(p->screen, 0, 0, (int)p->width, (int)p->height);
		return;
	}
	if (f->full_change || f->width != p->width || f->height != p->height) {
		player_resize(p, f->width, f->height);
		memcpy(p->fb, f->pixels, (size_t)f->width * f->height * sizeof *p->fb);
		rfbMarkRectAsModified(p->screen, 0, 0, (int)p->width, (int)p->height);
		return;
	}
	for (size_t i = 0; i < f->nrects; i++) {
		const struct replay_rect *r = &f->rects[i];
		if (r->x >= p->width || r->y >= p->height || r->w > p->width - r->x || r->h > p->height - r->y)
			continue; /* the engine keeps rects inside; never trust a bound twice */
		for (uint32_t y = r->y; y < r->y + r->h; y++)
			memcpy(p->fb + (size_t)y * p->width + r->x, f->pixels + (size_t)y * f->width + r->x,
			       (size_t)r->w * sizeof *p->fb);
		rfbMarkRectAsModified(p->screen, (int)r->x, (int)r->y, (int)(r->x + r->w), (int)(r->y + r->h));
	}
}

static void player_announce(struct player *p, const struct replay_frame *f)
{
	char when[TIME_SPEC_TEXT_MAX + 8];

	if (f->has_picture == p->showing_picture)
		return;
	timeline_format_time(f->time_us, when, sizeof when);
	if (f->has_picture)
		printf("%s  -- picture: screen leg %d, %ux%u\n", when, f->leg + 1, f->width, f->height);
	else
		printf("%s  -- no picture (screen not shared)\n", when);
	p->showing_picture = f->has_picture;
}

static void player_stop(struct player *p)
{
	if (p->screen) {
		rfbShutdownServer(p->screen, TRUE);
		rfbScreenCleanup(p->screen);
	}
	if (p->listen_fd >= 0)
		close(p->listen_fd);
	free(p->fb);
}

/* ---- the timeline, fed as the playback clock passes its records ------- */

static void print_entry(const struct timeline_entry *e, void *arg)
{
	struct play_timeline *pt = arg;

	if (e->time_us < pt->show_from_us) {
		pt->skipped++;
		return;
	}
	timeline_print_text(stdout, e);
	pt->shown++;
}

static int timeline_open(struct play_timeline *pt, const struct cli_verified *v, uint64_t from_us,
                         char *err, size_t errlen)
{
	memset(pt, 0, sizeof *pt);
	pt->records_verified = v->records_verified;
	pt->show_from_us = from_us;
	if (recording_reader_open(v->row->path, &pt->reader, err, errlen) < 0)
		return -1;
	pt->tl = timeline_new(print_entry, pt);
	return 0;
}

/* Feeds every verified record with time <= now_us. */
static int timeline_advance(struct play_timeline *pt, uint64_t now_us, char *err, size_t errlen)
{
	while (!pt->reader_done) {
		if (!pt->have_pending) {
			int rc = recording_reader_next(pt->reader, &pt->pending, err, errlen);
			if (rc < 0)
				return -1;
			if (rc == 0 || pt->pending.index >= pt->records_verified) {
				pt->reader_done = 1;
				break;
			}
			pt->have_pending = 1;
		}
		if (pt->pending.time_us > now_us)
			break;
		timeline_feed(pt->tl, &pt->pending);
		pt->have_pending = 0;
	}
	timeline_tick(pt->tl, now_us);
	return 0;
}

static void timeline_close(struct play_timeline *pt, int flush)
{
	if (pt->tl && flush)
		timeline_flush(pt->tl);
	timeline_free(pt->tl);
	recording_reader_close(pt->reader);
}

/* ---- the clock -------------------------------------------------------------- */

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

struct play_clock {
	uint64_t wall_start, from_us;
	double speed;
};

static uint64_t play_position(const struct play_clock *c)
{
	return c->from_us + (uint64_t)((double)(mono_us() - c->wall_start) * c->speed);
}

static int install_stop_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
		return -1;
	signal(SIGPIPE, SIG_IGN); /* a viewer gone mid-write is libvncserver's EPIPE */
	return 0;
}

/* ---- the command -------------------------------------------------------------- */

struct play_run {
	struct replay *replay;
	struct player player;
	struct play_timeline timeline;
	struct play_clock clock;
	uint64_t end_us;
};

static int play_loop(struct play_run *run, char *err, size_t errlen)
{
	struct replay_frame next;
	int have_next, rc;

	if (replay_frame_at(run->replay, run->clock.from_us, &next, err, errlen) < 0)
		return -1;
	player_announce(&run->player, &next);
	player_show(&run->player, &next);
	if ((have_next = replay_next(run->replay, &next, err, errlen)) < 0)
		return -1;
	run->clock.wall_start = mono_us();
	while (!play_stop_signal) {
		uint64_t now = play_position(&run->clock), wait_us = PLAY_TICK_US;

		if (now > run->end_us)
			now = run->end_us;
		while (have_next && next.time_us <= now) {
			player_announce(&run->player, &next);
			player_show(&run->player, &next);
			if ((have_next = replay_next(run->replay, &next, err, errlen)) < 0)
				return -1;
			if (have_next && next.time_us > run->end_us)
				have_next = 0; /* past the verified part */
		}
		if (timeline_advance(&run->timeline, now, err, errlen) < 0)
			return -1;
		fflush(stdout);
		if (now >= run->end_us)
			break;
		if (have_next) {
			double until = (double)(next.time_us - now) / run->clock.speed;
			if (until < (double)wait_us)
				wait_us = (uint64_t)until;
		}
		player_accept(&run->player);
		rc = rfbProcessEvents(run->player.screen, (long)wait_us);
		(void)rc;
	}
	return 0;
}

int cli_recording_play(struct cli_ctx *ctx)
{
	const struct cli_args *a = &ctx->args;
	struct play_run run = { .player.listen_fd = -1, .player.showing_picture = -1 };
	struct replay_options opts;
	struct sockaddr_in listen_addr;
	struct cli_verified v;
	char err[512], details[128], from_text[TIME_SPEC_TEXT_MAX], end_text[TIME_SPEC_TEXT_MAX];
	uint64_t from_us = 0;
	int rc;

	if ((rc = parse_listen(ctx, a->listen, &listen_addr)) != CLI_OK ||
	    (rc = parse_speed(ctx, a->speed, &run.clock.speed)) != CLI_OK)
		return rc;
	if (a->from && time_spec_parse_position(a->from, &from_us) < 0)
		return cli_usage_error(ctx, "--from takes a position like 01:30, 1:02:03 or 90 (seconds), not '%s'",
		                       a->from);
	snprintf(details, sizeof details, "speed=%g from_ms=%" PRIu64, run.clock.speed, from_us / 1000);
	if ((rc = cli_verified_open(ctx, a->pos[0], "play", details, &v)) != CLI_OK)
		return rc;
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = CLI_FAIL;
	replay_options_default(&opts);
	if (replay_open(v.row->path, &opts, &run.replay, err, sizeof err) < 0) {
		cli_fail("cannot replay %s: %s", v.row->path, err);
		goto out;
	}
	run.end_us = replay_info(run.replay)->duration_us;
	if (run.end_us > v.end_us)
		run.end_us = v.end_us;
	time_spec_clock(run.end_us, end_text);
	if (from_us > run.end_us) {
		rc = cli_usage_error(ctx, "--from %s is past the end of the recording (%s)", a->from, end_text);
		goto out;
	}
	run.clock.from_us = from_us;
	time_spec_clock(from_us, from_text);
	if (install_stop_handlers() < 0 || timeline_open(&run.timeline, &v, from_us, err, sizeof err) < 0 ||
	    player_start(&run.player, &listen_addr, err, sizeof err) < 0) {
		cli_fail("cannot start playback: %s", err[0] ? err : strerror(errno));
		goto out;
	}
	printf("playing %s (ticket %s, session %s, %s long) from %s at speed %g; Ctrl-C stops\n",
	       v.row->path, v.row->ticket_id, v.row->session_id, end_text, from_text, run.clock.speed);
	if (play_loop(&run, err, sizeof err) < 0) {
		cli_fail("playback failed: %s", err);
		goto out;
	}
	timeline_flush(run.timeline.tl);
	{
		char at[TIME_SPEC_TEXT_MAX];
		uint64_t pos = play_position(&run.clock);
		time_spec_clock(pos > run.end_us ? run.end_us : pos, at);
		printf("playback %s at %s of %s: %" PRIu64 " timeline entries shown, %lu viewer(s) served\n",
		       play_stop_signal ? "stopped" : "ended", at, end_text, run.timeline.shown,
		       run.player.viewers);
	}
	rc = v.status == RECORDING_TRUNCATED ? CLI_TRUNCATED : CLI_OK;
out:
	timeline_close(&run.timeline, 0);
	player_stop(&run.player);
	replay_close(run.replay);
	cli_verified_done(&v);
	return rc;
}
