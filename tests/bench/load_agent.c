/*
 * load_agent: one process playing many end users' agents for load tests and
 * benchmarks (README.md beside this file).  Each code read from the input
 * becomes an agent control link to the relay (pinned CA, HELLO/WELCOME);
 * every JOIN gets full consent, every OPEN (participants' and recorder
 * legs) is dialled with its STREAM token, every PING is answered.  Streams
 * carry the deterministic pattern of load_pattern.h:
 *   shell:  SHELL_DATA frames of the text pattern, the same bytes on every shell
 *           stream of the session (participants and the shell recorder leg,
 *           like the real agent's shared PTY), then a NOTICE
 *           "load-end bytes=N" and SHELL_EXIT 0;
 *   screen: an RFB 3.8 server (security None, ServerInit WxH 32 bpp), then
 *           Raw FramebufferUpdates whose pixels are the pattern, the same
 *           updates on every screen stream, then a ServerCutText
 *           "load-end bytes=N".
 * Generation for a kind starts once --participants participant streams of
 * that kind (and every stream the relay asked for meanwhile, e.g. the
 * recorder leg) are open, so every participant sees the pattern from
 * offset 0.  --echo sends every byte a participant types back as shell
 * output to all shell streams of its session (a PTY echo).
 * --direct-tls HOST:PORT skips the relay protocol: N plain TLS connections
 * carrying the pattern (raw), for haproxy/stunnel peers.
 * --parallel K: at most K TLS dials are unauthenticated at once (control
 * links until WELCOME, streams until connected); the rest wait their turn,
 * because every agent dials from one address and the relay's per-address
 * pre-auth limit (server/peer_guard) would refuse the excess.
 *
 * Exit: 0 every agent was welcomed and nothing failed, 1 otherwise, 2 usage.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <getopt.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>

#include "atomic_file.h"
#include "concierge_limits.h"
#include "config.h"
#include "load_pattern.h"
#include "load_wire.h"
#include "shell_frame.h"
#include "splice.h"
#include "stop_signals.h"
#include "tls_context.h"
#include "tls_dial.h"
#include "wire.h"
#include "xmalloc.h"

#define STREAM_HIGH_WATER (256 * 1024) /* stop generating while a stream holds this much unsent */
#define STREAM_LOW_WATER  (64 * 1024)  /* and resume once it is down to this */
#define CODE_LINE_MAX     128          /* one input line "SESSION_ID CODE" */
#define AGENTS_MAX        20000
#define TICK_MS           20
#define SCREEN_MAX_SIDE   2048         /* framebuffer width and height */
#define BACKOFF_MAX_S     30           /* --resume: longest wait between redials (as agent/assist.c) */
/* Half the relay's per-address pre-auth limit: the relay checks a stream's
 * STREAM line just after our side counts the stream as up. */
#define PARALLEL_DEFAULT  (PREAUTH_MAX_PER_SOURCE / 2)

enum kind { KIND_SCREEN, KIND_SHELL, KIND_RAW, KIND_COUNT };

struct options {
	struct host_port relay;
	const char *ca, *codes, *ready_file;
	uint64_t bytes;          /* per session and kind; 0 = no limit */
	double seconds;          /* 0 = no limit */
	uint64_t rate;           /* bytes per second per session and kind; 0 = unlimited */
	double bursts;           /* with rate: writes per second per session and kind; 0 = every tick */
	size_t chunk;            /* payload bytes per shell frame or raw write */
	unsigned width, height;  /* screen size */
	int echo, json, stay, participants;
	int resume;              /* after a lost link, RESUME like the real agent */
	double timeout;
	int direct, connections;
	int parallel;            /* dials unauthenticated at once */
};

struct agent;
struct stream;

/* A place in the dial queue (embedded in streams and agents): a dial holds
 * one of --parallel slots from its start until authenticated or gone. */
struct dial_turn {
	struct dial_turn *prev, *next; /* in load.dial_queue while waiting */
	int waiting, holds_slot;
	struct agent *agent;           /* whose control link, or whose stream: */
	struct stream *stream;         /* NULL for the control link */
};

struct stream {                 /* one TLS stream: OPEN'ed by the relay, or a direct connection */
	struct agent *agent;
	struct stream *next;
	int id;
	enum kind kind;
	int recorder;
	int open;                   /* TLS up and STREAM sent */
	struct bufferevent *bev;
	char token[STREAM_TOKEN_HEX + 1];
	uint64_t sent;              /* pattern payload bytes written here */
	const struct host_port *to;
	struct dial_turn turn;
};

struct generator {              /* one session's pattern for one kind */
	int started, finished;
	uint64_t offset;            /* payload bytes generated */
	struct timespec start;
	double elapsed;             /* seconds from start to finish */
};

struct agent {                  /* one simulated end user (or direct connection) */
	struct load *load;
	int index;
	char code[CODE_LINE_MAX];
	char session[SESSION_ID_LEN + 1];
	uint64_t seed;
	struct bufferevent *control;
	int welcomed, failed, ended, had_participant;
	char why[160];
	struct stream *streams;
	struct generator gen[KIND_COUNT];
	uint64_t echoed;
	int streams_opened;
	/* --resume: the real agent's reconnect (agent/assist.c link_lost) */
	char resume_token[RESUME_TOKEN_HEX + 1];
	int resuming;               /* link lost after WELCOME; redialling with RESUME */
	int backoff_s;
	struct timespec lost_at;
	struct event *redial;
	struct dial_turn turn;      /* the control link's dial */
};

struct load {
	struct options opt;
	struct event_base *base;
	SSL_CTX *tls;
	struct agent *agents;
	int nagents, nsettled, ready_written, stopping;
	struct event *tick;
	struct timespec started;
	int failures;
	int resumed;                /* --resume: links resumed */
	int dialing;                /* slots held (<= opt.parallel) */
	struct dial_turn *queue_head, *queue_tail;
	int starting_dials;         /* dial_queue_run is on the stack */
};

static double seconds_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void agent_fail(struct agent *a, const char *why)
{
	if (a->failed)
		return;
	a->failed = 1;
	a->load->failures++;
	snprintf(a->why, sizeof a->why, "%s", why);
	fprintf(stderr, "load_agent: agent %d%s%s: %s\n", a->index, a->session[0] ? " session " : "",
	        a->session, why);
}

/* ---- the dial queue: at most --parallel unauthenticated dials ---------------- */

static void stream_start_dial(struct stream *s);
static void agent_start_dial(struct agent *a);

static void dial_queue_run(struct load *L)
{
	if (L->starting_dials || L->stopping)
		return;
	L->starting_dials = 1; /* a dial that fails at once ends its turn in here: no recursion */
	while (L->dialing < L->opt.parallel && L->queue_head) {
		struct dial_turn *t = L->queue_head;
		L->queue_head = t->next;
		if (L->queue_head)
			L->queue_head->prev = NULL;
		else
			L->queue_tail = NULL;
		t->next = t->prev = NULL;
		t->waiting = 0;
		t->holds_slot = 1;
		L->dialing++;
		if (t->stream)
			stream_start_dial(t->stream);
		else
			agent_start_dial(t->agent);
	}
	L->starting_dials = 0;
}

/* Queues a dial; it starts as soon as a slot is free (maybe now). */
static void dial_take_turn(struct load *L, struct dial_turn *t)
{
	t->waiting = 1;
	t->next = NULL;
	t->prev = L->queue_tail;
	if (L->queue_tail)
		L->queue_tail->next = t;
	else
		L->queue_head = t;
	L->queue_tail = t;
	dial_queue_run(L);
}

/* The dial is authenticated, failed or abandoned: leave the queue or give
 * the slot to the next one.  Idempotent. */
static void dial_turn_end(struct load *L, struct dial_turn *t)
{
	if (t->waiting) {
		if (t->prev)
			t->prev->next = t->next;
		else
			L->queue_head = t->next;
		if (t->next)
			t->next->prev = t->prev;
		else
			L->queue_tail = t->prev;
		t->next = t->prev = NULL;
		t->waiting = 0;
	}
	if (t->holds_slot) {
		t->holds_slot = 0;
		L->dialing--;
		dial_queue_run(L);
	}
}

/* ---- streams ----------------------------------------------------------------- */

static void stream_free(struct stream *s)
{
	struct stream **pp = &s->agent->streams;

	dial_turn_end(s->agent->load, &s->turn);

	while (*pp && *pp != s)
		pp = &(*pp)->next;
	if (*pp)
		*pp = s->next;
	if (s->bev)
		bufferevent_free(s->bev);
	free(s);
}

/* Writes the same bytes to every open stream of `kind` of the session. */
static void write_kind(struct agent *a, enum kind kind, const void *data, size_t len, uint64_t payload)
{
	for (struct stream *s = a->streams; s; s = s->next)
		if (s->open && s->kind == kind) {
			bufferevent_write(s->bev, data, len);
			s->sent += payload;
		}
}

static int kind_has_room(const struct agent *a, enum kind kind)
{
	for (const struct stream *s = a->streams; s; s = s->next)
		if (s->open && s->kind == kind &&
		    evbuffer_get_length(bufferevent_get_output(s->bev)) >= STREAM_HIGH_WATER)
			return 0;
	return 1;
}

/* Generation of a kind starts when enough participants are in and no
 * stream the relay asked for is still being dialled. */
static int kind_ready(const struct agent *a, enum kind kind)
{
	int participants = 0;

	for (const struct stream *s = a->streams; s; s = s->next) {
		if (s->kind != kind)
			continue;
		if (!s->open)
			return 0;
		participants += !s->recorder;
	}
	return participants >= (kind == KIND_RAW ? 1 : a->load->opt.participants);
}

/* The whole RFB 3.8 server greeting at once: version, security None,
 * SecurityResult OK, ServerInit (WxH, 32 bpp true colour).  RFB clients read
 * these with exact lengths, so it may go ahead of their answers. */
static void send_rfb_greeting(struct stream *s)
{
	const struct options *o = &s->agent->load->opt;
	uint8_t msg[12 + 2 + 4 + 24 + sizeof LOAD_RFB_NAME - 1];
	uint8_t *p = msg;

	memset(msg, 0, sizeof msg);
	memcpy(p, "RFB 003.008\n", 12);
	p += 12;
	p[0] = 1; /* one security type: */
	p[1] = 1; /* None */
	p += 2;
	p += 4;   /* SecurityResult 0 = OK */
	load_put_u16(p, o->width);
	load_put_u16(p + 2, o->height);
	p[4] = 32;  /* bits per pixel */
	p[5] = 24;  /* depth */
	p[6] = 0;   /* little-endian */
	p[7] = 1;   /* true colour */
	load_put_u16(p + 8, 255);
	load_put_u16(p + 10, 255);
	load_put_u16(p + 12, 255);
	p[14] = 16;
	p[15] = 8;
	p[16] = 0;
	load_put_u32(p + 20, (uint32_t)(sizeof LOAD_RFB_NAME - 1));
	memcpy(p + 24, LOAD_RFB_NAME, sizeof LOAD_RFB_NAME - 1);
	bufferevent_write(s->bev, msg, sizeof msg);
}

/* One unit of generated output of at most `budget` payload bytes. */
static uint64_t emit_chunk(struct agent *a, enum kind kind, uint64_t budget)
{
	const struct options *o = &a->load->opt;
	struct generator *g = &a->gen[kind];
	static uint8_t buf[16 + 4 * SCREEN_MAX_SIDE * SCREEN_MAX_SIDE];
	uint64_t payload;

	if (kind == KIND_SCREEN) {
		uint64_t row = (uint64_t)o->width * 4;
		uint64_t rows = budget >= row * o->height ? o->height : (budget + row - 1) / row;
		payload = rows * row;
		buf[0] = 0; /* FramebufferUpdate */
		buf[1] = 0;
		load_put_u16(buf + 2, 1);
		load_put_u16(buf + 4, 0);
		load_put_u16(buf + 6, 0);
		load_put_u16(buf + 8, o->width);
		load_put_u16(buf + 10, (unsigned)rows);
		load_put_u32(buf + 12, 0); /* Raw */
		load_pattern_fill(buf + 16, payload, a->seed, g->offset, 0);
		write_kind(a, kind, buf, 16 + payload, payload);
	} else if (kind == KIND_SHELL) {
		payload = budget < o->chunk ? budget : o->chunk;
		load_pattern_fill(buf + SHELL_FRAME_HEADER, payload, a->seed, g->offset, 1);
		shell_frame_write(buf, SHELL_DATA, buf + SHELL_FRAME_HEADER, payload);
		write_kind(a, kind, buf, SHELL_FRAME_HEADER + payload, payload);
	} else {
		payload = budget < o->chunk ? budget : o->chunk;
		load_pattern_fill(buf, payload, a->seed, g->offset, 0);
		write_kind(a, kind, buf, payload, payload);
	}
	g->offset += payload;
	return payload;
}

/* The end of a kind's pattern: its byte count in-band, so receivers can
 * tell "all arrived" from "stalled". */
static void emit_end(struct agent *a, enum kind kind)
{
	struct generator *g = &a->gen[kind];
	char text[64];
	uint8_t buf[2 * SHELL_FRAME_HEADER + 64 + 4];
	int n = snprintf(text, sizeof text, LOAD_END_MARKER "%" PRIu64, g->offset);

	g->finished = 1;
	g->elapsed = seconds_since(&g->start);
	if (kind == KIND_SHELL) {
		size_t len = shell_frame_write(buf, SHELL_NOTICE, text, (size_t)n);
		len += shell_frame_exit(buf + len, 0);
		write_kind(a, kind, buf, len, 0);
	} else if (kind == KIND_SCREEN) {
		buf[0] = 3; /* ServerCutText */
		buf[1] = buf[2] = buf[3] = 0;
		load_put_u32(buf + 4, (uint32_t)n);
		memcpy(buf + 8, text, (size_t)n);
		write_kind(a, kind, buf, 8 + (size_t)n, 0);
	} else {
		for (struct stream *s = a->streams, *next; s; s = next) {
			next = s->next;
			if (s->kind == KIND_RAW && s->bev) {
				bev_close_after_flush(s->bev); /* raw: the end is the close */
				s->bev = NULL;
				stream_free(s);
			}
		}
	}
}

static void pump(struct agent *a, enum kind kind)
{
	const struct options *o = &a->load->opt;
	struct generator *g = &a->gen[kind];

	if (g->finished || a->ended || a->load->stopping || (o->bytes == 0 && o->seconds == 0))
		return;
	if (!g->started) {
		if (!kind_ready(a, kind))
			return;
		g->started = 1;
		clock_gettime(CLOCK_MONOTONIC, &g->start);
	}
	for (int rounds = 0; rounds < 64 && kind_has_room(a, kind); rounds++) {
		double elapsed = seconds_since(&g->start);
		uint64_t budget = UINT64_MAX;
		if (o->seconds > 0 && elapsed >= o->seconds) {
			emit_end(a, kind);
			return;
		}
		if (o->bytes > 0) {
			if (g->offset >= o->bytes) {
				emit_end(a, kind);
				return;
			}
			budget = o->bytes - g->offset;
		}
		if (o->rate > 0) {
			double allowed = (double)o->rate * elapsed - (double)g->offset;
			if (allowed < (o->bursts > 0 ? (double)o->rate / o->bursts : 1))
				return; /* the tick comes back */
			if ((uint64_t)allowed < budget)
				budget = (uint64_t)allowed;
		}
		emit_chunk(a, kind, budget);
	}
}

static void on_stream_write(struct bufferevent *bev, void *arg)
{
	struct stream *s = arg;

	(void)bev;
	pump(s->agent, s->kind);
}

/* Echo: shell input from a participant goes back to every shell stream. */
static void echo_frames(struct stream *s, struct evbuffer *in)
{
	uint8_t frame[SHELL_FRAME_HEADER + SHELL_FRAME_MAX];

	for (;;) {
		size_t have = evbuffer_get_length(in);
		uint8_t *head = evbuffer_pullup(in, have < SHELL_FRAME_HEADER ? (ssize_t)have : SHELL_FRAME_HEADER);
		struct shell_frame f;
		size_t len;
		if (have < SHELL_FRAME_HEADER || head == NULL)
			return;
		len = SHELL_FRAME_HEADER + ((size_t)head[2] << 8 | head[3]);
		if (len > sizeof frame) {
			agent_fail(s->agent, "a shell stream sent an over-long frame");
			evbuffer_drain(in, have);
			return;
		}
		if (have < len)
			return;
		evbuffer_remove(in, frame, len);
		if (shell_frame_next(frame, len, &f) <= 0) {
			agent_fail(s->agent, "a shell stream sent a malformed frame");
			evbuffer_drain(in, evbuffer_get_length(in));
			return;
		}
		if (f.type == SHELL_DATA && f.len > 0 && s->agent->load->opt.echo && !s->recorder) {
			uint8_t out[SHELL_FRAME_HEADER + SHELL_FRAME_MAX];
			size_t n = shell_frame_write(out, SHELL_DATA, f.payload, f.len);
			write_kind(s->agent, KIND_SHELL, out, n, 0);
			s->agent->echoed += f.len;
		}
	}
}

static void on_stream_read(struct bufferevent *bev, void *arg)
{
	struct stream *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	if (s->kind == KIND_SHELL) {
		echo_frames(s, in);
	} else if (s->kind == KIND_RAW && s->agent->load->opt.echo) {
		s->agent->echoed += evbuffer_get_length(in);
		bufferevent_write_buffer(bev, in);
	} else {
		evbuffer_drain(in, evbuffer_get_length(in)); /* read and discard: never block a client */
	}
}

static void check_done(struct load *L);

static void on_stream_event(struct bufferevent *bev, short what, void *arg)
{
	struct stream *s = arg;
	struct agent *a = s->agent;
	char line[WIRE_MAX_LINE_PREAUTH + 2];
	int n;

	(void)bev;
	dial_turn_end(a->load, &s->turn);
	if (what & BEV_EVENT_CONNECTED) {
		s->open = 1;
		bufferevent_set_timeouts(s->bev, NULL, NULL);
		a->streams_opened++;
		if (s->kind != KIND_RAW) {
			n = wire_format(line, sizeof line, "STREAM", "token", s->token, (char *)NULL);
			memset(s->token, 0, sizeof s->token);
			if (n > 0)
				bufferevent_write(s->bev, line, (size_t)n);
		}
		if (!s->recorder)
			a->had_participant = 1;
		bufferevent_setwatermark(s->bev, EV_WRITE, STREAM_LOW_WATER, 0);
		if (s->kind == KIND_SCREEN)
			send_rfb_greeting(s);
		pump(a, s->kind);
		return;
	}
	if (!s->open)
		agent_fail(a, s->kind == KIND_RAW ? "could not connect (TLS)" : "could not open a stream");
	else if (s->kind == KIND_RAW && a->gen[KIND_RAW].started && !a->load->stopping)
		agent_fail(a, "the connection closed before the pattern ended");
	stream_free(s);
	check_done(a->load);
}

static void stream_start_dial(struct stream *s)
{
	struct timeval limit = { PREAUTH_TIMEOUT_S, 0 };
	char err[256];

	s->bev = tls_dial(s->agent->load->base, s->agent->load->tls, s->to, err, sizeof err);
	if (s->bev == NULL) {
		agent_fail(s->agent, err);
		stream_free(s);
		return;
	}
	bufferevent_set_timeouts(s->bev, &limit, &limit); /* the connect; cleared once up */
	bufferevent_setcb(s->bev, on_stream_read, on_stream_write, on_stream_event, s);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
}

/* A stream of the agent's session (id, recorder leg and STREAM token from
 * the relay's OPEN; token NULL for a direct connection), dialled in turn. */
static void stream_dial(struct agent *a, enum kind kind, const struct host_port *to, int id, int recorder,
                        const char *token)
{
	struct stream *s = xcalloc(1, sizeof *s);

	s->agent = a;
	s->kind = kind;
	s->to = to;
	s->id = id;
	s->recorder = recorder;
	if (token)
		snprintf(s->token, sizeof s->token, "%s", token);
	s->next = a->streams;
	a->streams = s;
	s->turn.agent = a;
	s->turn.stream = s;
	dial_take_turn(a->load, &s->turn);
}

/* ---- the control link ---------------------------------------------------- */

static void send_line(struct agent *a, int n, const char *line)
{
	if (a->control && n > 0)
		bufferevent_write(a->control, line, (size_t)n);
}

static void write_ready_file(struct load *L)
{
	size_t cap = (size_t)L->nagents * (SESSION_ID_LEN + 1) + 1, len = 0;
	char *text = xmalloc(cap);

	L->ready_written = 1;
	for (int i = 0; i < L->nagents; i++)
		if (L->agents[i].welcomed)
			len += (size_t)snprintf(text + len, cap - len, "%s\n", L->agents[i].session);
	if (atomic_file_create(L->opt.ready_file, text, len, 0644) < 0)
		fprintf(stderr, "load_agent: cannot write --ready-file %s: %s (remove an old one first)\n",
		        L->opt.ready_file, strerror(errno));
	free(text);
}

static void agent_settled(struct agent *a)
{
	struct load *L = a->load;

	L->nsettled++;
	if (L->nsettled == L->nagents) {
		fprintf(stderr, "load_agent: %d of %d agents welcomed after %.2f s\n",
		        L->nagents - L->failures, L->nagents, seconds_since(&L->started));
		if (L->opt.ready_file)
			write_ready_file(L);
	}
}

static void agent_dial(struct agent *a);

static void on_redial(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	agent_dial(arg);
}

/* --resume: a welcomed agent whose link broke (the relay was killed)
 * redials after 1, 2, 4 ... (at most BACKOFF_MAX_S) seconds and sends RESUME,
 * for RESUME_GRACE_S, as the real agent does.  1 when a redial is due. */
static int schedule_resume(struct agent *a, const char *why)
{
	struct load *L = a->load;
	struct timeval wait = { 0, 0 };

	if (!L->opt.resume || !a->welcomed || a->ended || a->failed || L->stopping || !a->resume_token[0])
		return 0;
	if (!a->resuming) {
		a->resuming = 1;
		a->backoff_s = 0;
		clock_gettime(CLOCK_MONOTONIC, &a->lost_at);
		fprintf(stderr, "load_agent: agent %d session %s lost its link (%s); resuming\n", a->index,
		        a->session, why);
	}
	if (seconds_since(&a->lost_at) > RESUME_GRACE_S)
		return 0;
	a->backoff_s = a->backoff_s ? a->backoff_s * 2 : 1;
	if (a->backoff_s > BACKOFF_MAX_S)
		a->backoff_s = BACKOFF_MAX_S;
	wait.tv_sec = a->backoff_s;
	if (a->redial == NULL)
		a->redial = evtimer_new(L->base, on_redial, a);
	evtimer_add(a->redial, &wait);
	return 1;
}

static void control_lost(struct agent *a, const char *why)
{
	dial_turn_end(a->load, &a->turn);
	if (a->control) {
		bufferevent_free(a->control);
		a->control = NULL;
	}
	while (a->streams)
		stream_free(a->streams);
	if (schedule_resume(a, why))
		return;
	if (!a->welcomed && !a->failed) {
		agent_fail(a, why);
		agent_settled(a);
	} else if (!a->ended && !a->load->stopping) {
		agent_fail(a, why);
	}
	a->ended = 1;
	check_done(a->load);
}

static void handle_open(struct agent *a, const struct wire_msg *msg)
{
	const char *id = wire_get(msg, "id"), *token = wire_get(msg, "token");
	const char *kind = wire_get(msg, "kind"), *recorder = wire_get(msg, "recorder");

	if (id == NULL || token == NULL || kind == NULL || strlen(token) != STREAM_TOKEN_HEX) {
		agent_fail(a, "the relay sent a malformed OPEN");
		return;
	}
	stream_dial(a, strcmp(kind, "shell") == 0 ? KIND_SHELL : KIND_SCREEN, &a->load->opt.relay, atoi(id),
	            recorder && strcmp(recorder, "1") == 0, token);
}

static void handle_message(struct agent *a, const struct wire_msg *msg)
{
	char line[WIRE_MAX_LINE + 2];
	int n;

	if (strcmp(msg->verb, "WELCOME") == 0)
		dial_turn_end(a->load, &a->turn);
	if (strcmp(msg->verb, "WELCOME") == 0 && a->resuming) {
		a->resuming = 0;
		a->backoff_s = 0;
		a->load->resumed++;
		fprintf(stderr, "load_agent: agent %d session %s resumed after %.2f s (%d resumed)\n", a->index,
		        a->session, seconds_since(&a->lost_at), a->load->resumed);
	} else if (strcmp(msg->verb, "WELCOME") == 0 && !a->welcomed) {
		const char *session = wire_get(msg, "session"), *resume = wire_get(msg, "resume");
		if (resume && strlen(resume) == RESUME_TOKEN_HEX)
			snprintf(a->resume_token, sizeof a->resume_token, "%s", resume);
		a->welcomed = 1;
		snprintf(a->session, sizeof a->session, "%s", session ? session : "?");
		a->seed = load_pattern_seed(a->session);
		agent_settled(a);
	} else if (strcmp(msg->verb, "DENIED") == 0) {
		const char *why = wire_get(msg, "reason");
		snprintf(line, sizeof line, "denied: %s", why ? why : "?");
		control_lost(a, line);
	} else if (!a->welcomed || a->resuming) {
		control_lost(a, "the relay spoke before WELCOME");
	} else if (strcmp(msg->verb, "JOIN") == 0) {
		const char *id = wire_get(msg, "id");
		n = wire_format(line, sizeof line, "CONSENT", "id", id ? id : "0", "view", "yes", "control",
		                "yes", "reason", "allowed", "auto", "0", (char *)NULL);
		send_line(a, n, line);
	} else if (strcmp(msg->verb, "OPEN") == 0) {
		handle_open(a, msg);
	} else if (strcmp(msg->verb, "LEAVE") == 0) {
		const char *id = wire_get(msg, "id");
		for (struct stream *s = a->streams; s && id; s = s->next)
			if (s->id == atoi(id)) {
				stream_free(s);
				break;
			}
		check_done(a->load);
	} else if (strcmp(msg->verb, "END") == 0) {
		a->ended = 1;
		while (a->streams)
			stream_free(a->streams);
		check_done(a->load);
	} else if (strcmp(msg->verb, "PING") == 0) {
		n = wire_format(line, sizeof line, "PONG", (char *)NULL);
		send_line(a, n, line);
	}
}

static void on_control_read(struct bufferevent *bev, void *arg)
{
	struct agent *a = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct wire_msg msg;
	size_t n;
	char *line;

	while (a->control == bev && (line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF)) != NULL) {
		int ok = wire_parse(line, n, &msg) == 0;
		free(line);
		if (!ok) {
			control_lost(a, "the relay sent a malformed line");
			return;
		}
		handle_message(a, &msg);
	}
	if (a->control == bev && evbuffer_get_length(in) > WIRE_MAX_LINE)
		control_lost(a, "the relay sent an over-long line");
}

static void on_control_event(struct bufferevent *bev, short what, void *arg)
{
	struct agent *a = arg;
	char line[WIRE_MAX_LINE + 2];
	int n;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		if (a->resuming)
			n = wire_format(line, sizeof line, "RESUME", "v", "1", "session", a->session, "token",
			                a->resume_token, "host", "load-agent", (char *)NULL);
		else
			n = wire_format(line, sizeof line, "HELLO", "v", "1", "code", a->code, "host", "load-agent",
			                "user", "load", "screen", "load", "auto", "0", (char *)NULL);
		send_line(a, n, line);
		memset(line, 0, sizeof line);
		return;
	}
	control_lost(a, a->welcomed ? "the relay closed the control link" : "could not connect to the relay");
}

static void agent_start_dial(struct agent *a)
{
	struct timeval idle = { CONTROL_IDLE_TIMEOUT_S, 0 };
	char err[256];

	a->control = tls_dial(a->load->base, a->load->tls, &a->load->opt.relay, err, sizeof err);
	if (a->control == NULL) {
		dial_turn_end(a->load, &a->turn);
		if (schedule_resume(a, err))
			return;
		agent_fail(a, err);
		agent_settled(a);
		return;
	}
	bufferevent_setwatermark(a->control, EV_READ, 0, WIRE_MAX_LINE * 4);
	bufferevent_setcb(a->control, on_control_read, NULL, on_control_event, a);
	bufferevent_set_timeouts(a->control, &idle, NULL);
	bufferevent_enable(a->control, EV_READ | EV_WRITE);
}

/* The control link (HELLO, or RESUME after a lost link), dialled in turn. */
static void agent_dial(struct agent *a)
{
	a->turn.agent = a;
	a->turn.stream = NULL;
	dial_take_turn(a->load, &a->turn);
}

/* ---- run, stop, report ------------------------------------------------------ */

/* Done: every agent had its participants, they all left, and every pattern
 * that started has ended. */
static int agent_done(const struct agent *a)
{
	if (a->failed || a->ended)
		return 1;
	if (!a->had_participant)
		return 0;
	for (const struct stream *s = a->streams; s; s = s->next)
		if (!s->recorder)
			return 0;
	for (int k = 0; k < KIND_COUNT; k++)
		if (a->gen[k].started && !a->gen[k].finished)
			return 0;
	return 1;
}

static void stop(struct load *L)
{
	struct timeval flush = { 1, 0 };
	char line[WIRE_MAX_LINE + 2];

	if (L->stopping)
		return;
	L->stopping = 1;
	for (int i = 0; i < L->nagents; i++) {
		struct agent *a = &L->agents[i];
		if (a->control && a->welcomed && !a->ended) {
			int n = wire_format(line, sizeof line, "BYE", "reason", "load test finished", (char *)NULL);
			send_line(a, n, line);
			bev_close_after_flush(a->control);
			a->control = NULL;
		}
	}
	event_base_loopexit(L->base, &flush);
}

static void check_done(struct load *L)
{
	if (L->opt.stay || L->stopping || L->nsettled < L->nagents)
		return;
	for (int i = 0; i < L->nagents; i++)
		if (!agent_done(&L->agents[i]))
			return;
	stop(L);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct load *L = arg;

	(void)fd;
	(void)what;
	if (L->opt.timeout > 0 && seconds_since(&L->started) > L->opt.timeout) {
		fprintf(stderr, "load_agent: --timeout %.0f s reached; stopping\n", L->opt.timeout);
		L->failures++;
		stop(L);
		return;
	}
	for (int i = 0; i < L->nagents; i++)
		for (int k = 0; k < KIND_COUNT; k++)
			if (L->agents[i].gen[k].started)
				pump(&L->agents[i], (enum kind)k);
	check_done(L);
}

static void report(const struct load *L)
{
	uint64_t total[KIND_COUNT] = { 0 }, echoed = 0;
	double seconds = seconds_since(&L->started), gen_seconds = 0;
	int welcomed = 0;

	if (L->opt.json)
		printf("{\"sessions\":[");
	for (int i = 0; i < L->nagents; i++) {
		const struct agent *a = &L->agents[i];
		welcomed += a->welcomed;
		echoed += a->echoed;
		for (int k = 0; k < KIND_COUNT; k++) {
			total[k] += a->gen[k].offset;
			if (a->gen[k].elapsed > gen_seconds)
				gen_seconds = a->gen[k].elapsed;
		}
		if (L->opt.json)
			printf("%s{\"index\":%d,\"session\":\"%s\",\"state\":\"%s\",\"screen_bytes\":%" PRIu64
			       ",\"shell_bytes\":%" PRIu64 ",\"raw_bytes\":%" PRIu64 ",\"echoed_bytes\":%" PRIu64
			       ",\"streams\":%d}", i ? "," : "", a->index, a->session,
			       a->failed ? "failed" : a->welcomed || L->opt.direct ? "ok" : "not_welcomed",
			       a->gen[KIND_SCREEN].offset, a->gen[KIND_SHELL].offset, a->gen[KIND_RAW].offset,
			       a->echoed, a->streams_opened);
		else
			printf("session %s index=%d state=%s screen_bytes=%" PRIu64 " shell_bytes=%" PRIu64
			       " raw_bytes=%" PRIu64 " echoed_bytes=%" PRIu64 " streams=%d%s%s\n",
			       a->session[0] ? a->session : "-", a->index,
			       a->failed ? "failed" : a->welcomed || L->opt.direct ? "ok" : "not_welcomed",
			       a->gen[KIND_SCREEN].offset, a->gen[KIND_SHELL].offset, a->gen[KIND_RAW].offset,
			       a->echoed, a->streams_opened, a->failed ? " why=" : "", a->failed ? a->why : "");
	}
	uint64_t all = total[KIND_SCREEN] + total[KIND_SHELL] + total[KIND_RAW];
	double mbps = gen_seconds > 0 ? (double)all / gen_seconds / 1e6 : 0;
	if (L->opt.json)
		printf("],\"total\":{\"agents\":%d,\"welcomed\":%d,\"failures\":%d,\"screen_bytes\":%" PRIu64
		       ",\"shell_bytes\":%" PRIu64 ",\"raw_bytes\":%" PRIu64 ",\"echoed_bytes\":%" PRIu64
		       ",\"payload_bytes\":%" PRIu64 ",\"generate_seconds\":%.3f,\"mb_per_s\":%.2f,"
		       "\"run_seconds\":%.3f}}\n", L->nagents, welcomed, L->failures, total[KIND_SCREEN],
		       total[KIND_SHELL], total[KIND_RAW], echoed, all, gen_seconds, mbps, seconds);
	else
		printf("total agents=%d welcomed=%d failures=%d screen_bytes=%" PRIu64 " shell_bytes=%" PRIu64
		       " raw_bytes=%" PRIu64 " echoed_bytes=%" PRIu64 " payload_bytes=%" PRIu64
		       " generate_seconds=%.3f mb_per_s=%.2f run_seconds=%.3f\n", L->nagents, welcomed,
		       L->failures, total[KIND_SCREEN], total[KIND_SHELL], total[KIND_RAW], echoed, all,
		       gen_seconds, mbps, seconds);
	fflush(stdout);
}

/* ---- options ------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
	"usage: load_agent --relay HOST:PORT --ca CA.pem [--codes FILE|-] [options]\n"
	"       load_agent --direct-tls HOST:PORT --connections N [--ca CA.pem] [options]\n"
	"Plays many end users' agents in one process (libevent + OpenSSL).  Each input line\n"
	"\"SESSION_ID CODE\" (bench_codes output) or \"CODE\" becomes one agent that claims the code\n"
	"on the relay's agent port, consents to every JOIN (view, control, shell), opens every\n"
	"stream the relay asks for (participants' and recorder legs) and streams the pattern of\n"
	"load_pattern.h: shell = SHELL_DATA frames (same bytes on participants and the shell\n"
	"recorder leg), screen = RFB 3.8 server (security None, 32 bpp) sending Raw\n"
	"FramebufferUpdates of pattern pixels.  Each kind ends with its byte count in-band\n"
	"(shell: NOTICE \"load-end bytes=N\" + exit status 0; screen: ServerCutText).\n"
	"  --relay HOST:PORT      the relay's agent_listen address\n"
	"  --ca FILE              CA certificate to pin (state/certs/ca.pem)\n"
	"  --codes FILE           codes to claim, one per line (default - = stdin)\n"
	"  --bytes N              payload bytes per session and kind (K, M, G suffixes)\n"
	"  --seconds S            or stream for S seconds per session and kind\n"
	"                         (neither: no pattern, e.g. with --echo for ping-pong)\n"
	"  --rate N               at most N payload bytes/s per session and kind (K, M, G)\n"
	"  --bursts N             with --rate: write N times a second per session and kind, each\n"
	"                         rate/N bytes (default: every %d ms tick, what is due)\n"
	"  --chunk N              payload bytes per shell frame / raw write (default 16K, max %d)\n"
	"  --screen WxH           framebuffer size (default 256x64); one update = WxH x 4 bytes\n"
	"  --participants N       start a kind's pattern once N participants of that kind are\n"
	"                         in (default 1), so all of them get it from byte 0\n"
	"  --echo                 echo every byte a participant types to all shell streams of\n"
	"                         the session (raw: back to the sender), like a PTY\n"
	"  --ready-file F         once every agent was welcomed (or refused), write the welcomed\n"
	"                         session ids there, one per line (atomically; F must not exist)\n"
	"  --stay                 keep running after all sessions are done (until a signal)\n"
	"  --resume               a welcomed agent whose link breaks (relay killed) reconnects\n"
	"                         like the real agent: RESUME after 1, 2, 4 ... s backoff\n"
	"  --parallel K           at most K dials unauthenticated at once, the rest queue\n"
	"                         (default %d: the relay refuses over %d pending from one address)\n"
	"  --timeout S            stop after S seconds in any case (default 600; 0 = never)\n"
	"  --direct-tls HOST:PORT no relay protocol: --connections N TLS connections carrying\n"
	"                         the raw pattern (seed \"direct\"), for haproxy/stunnel peers;\n"
	"                         --ca then verifies that peer (IP literal or name)\n"
	"  --json                 the report as JSON\n"
	"Stops when every session had its participants, they left and every pattern ended\n"
	"(or on SIGINT/SIGTERM, or --timeout): sends BYE, prints per-session and total payload\n"
	"bytes sent.  Exit: 0 all agents welcomed and nothing failed, 1 otherwise, 2 usage.\n",
	TICK_MS, SHELL_FRAME_MAX, PARALLEL_DEFAULT, PREAUTH_MAX_PER_SOURCE);
}

static int parse_size(const char *text, uint64_t *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (errno || end == text || v < 0)
		return -1;
	switch (*end) {
	case 'K': case 'k': v *= 1024; end++; break;
	case 'M': case 'm': v *= 1024 * 1024; end++; break;
	case 'G': case 'g': v *= 1024.0 * 1024 * 1024; end++; break;
	default: break;
	}
	if (*end != '\0' || v > 1e18)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

static int read_codes(struct load *L, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char line[CODE_LINE_MAX];
	int cap = 0;

	if (f == NULL) {
		fprintf(stderr, "load_agent: cannot read --codes %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof line, f)) {
		char *last = NULL, *save = NULL;
		for (char *w = strtok_r(line, " \t\r\n", &save); w; w = strtok_r(NULL, " \t\r\n", &save))
			last = w;
		if (last == NULL || last[0] == '#')
			continue;
		if (L->nagents >= AGENTS_MAX) {
			fprintf(stderr, "load_agent: more than %d codes\n", AGENTS_MAX);
			break;
		}
		if (L->nagents == cap) {
			cap = cap ? cap * 2 : 64;
			L->agents = xreallocarray(L->agents, (size_t)cap, sizeof *L->agents);
		}
		struct agent *a = &L->agents[L->nagents];
		memset(a, 0, sizeof *a);
		a->load = L;
		a->index = L->nagents++;
		snprintf(a->code, sizeof a->code, "%s", last);
	}
	if (f != stdin)
		fclose(f);
	if (L->nagents == 0) {
		fprintf(stderr, "load_agent: no codes in %s (bench_codes prints them)\n", path);
		return -1;
	}
	return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "relay", required_argument, NULL, 'r' },   { "ca", required_argument, NULL, 'a' },
		{ "codes", required_argument, NULL, 'c' },   { "bytes", required_argument, NULL, 'b' },
		{ "seconds", required_argument, NULL, 's' }, { "rate", required_argument, NULL, 'R' },
		{ "chunk", required_argument, NULL, 'k' },   { "screen", required_argument, NULL, 'S' },
		{ "participants", required_argument, NULL, 'p' }, { "echo", no_argument, NULL, 'e' },
		{ "ready-file", required_argument, NULL, 'f' }, { "stay", no_argument, NULL, 'y' },
		{ "timeout", required_argument, NULL, 't' }, { "direct-tls", required_argument, NULL, 'd' },
		{ "connections", required_argument, NULL, 'n' }, { "json", no_argument, NULL, 'j' },
		{ "resume", no_argument, NULL, 'u' },       { "parallel", required_argument, NULL, 'P' },
		{ "bursts", required_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },          { NULL, 0, NULL, 0 },
	};
	const char *relay = NULL, *direct = NULL;
	char err[256];
	uint64_t chunk = 16384;
	int c, bad = 0;

	memset(o, 0, sizeof *o);
	o->codes = "-";
	o->width = 256;
	o->height = 64;
	o->participants = 1;
	o->timeout = 600;
	o->parallel = PARALLEL_DEFAULT;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r': relay = optarg; break;
		case 'a': o->ca = optarg; break;
		case 'c': o->codes = optarg; break;
		case 'b': bad |= parse_size(optarg, &o->bytes); break;
		case 's': o->seconds = atof(optarg); bad |= o->seconds <= 0; break;
		case 'R': bad |= parse_size(optarg, &o->rate); break;
		case 'k': bad |= parse_size(optarg, &chunk); break;
		case 'S': bad |= sscanf(optarg, "%ux%u", &o->width, &o->height) != 2; break;
		case 'p': o->participants = atoi(optarg); break;
		case 'e': o->echo = 1; break;
		case 'u': o->resume = 1; break;
		case 'P': o->parallel = atoi(optarg); break;
		case 'B': o->bursts = atof(optarg); break;
		case 'f': o->ready_file = optarg; break;
		case 'y': o->stay = 1; break;
		case 't': o->timeout = atof(optarg); break;
		case 'd': direct = optarg; o->direct = 1; break;
		case 'n': o->connections = atoi(optarg); break;
		case 'j': o->json = 1; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	o->chunk = (size_t)chunk;
	if (bad || optind != argc || o->chunk == 0 || o->chunk > SHELL_FRAME_MAX || o->width == 0 ||
	    o->height == 0 || o->width > SCREEN_MAX_SIDE || o->height > SCREEN_MAX_SIDE ||
	    o->participants < 1 || o->timeout < 0 || (o->bytes && o->seconds) || o->parallel < 1 || o->bursts < 0 ||
	    o->parallel > AGENTS_MAX) {
		fprintf(stderr, "load_agent: bad option value (see --help; --bytes and --seconds exclude "
		        "each other, --chunk 1..%d, --screen up to %dx%d, --parallel 1..%d)\n", SHELL_FRAME_MAX,
		        SCREEN_MAX_SIDE, SCREEN_MAX_SIDE, AGENTS_MAX);
		return -1;
	}
	if (direct ? (relay != NULL || o->connections < 1 || o->connections > AGENTS_MAX)
	           : (relay == NULL || o->ca == NULL)) {
		fprintf(stderr, "load_agent: give --relay HOST:PORT and --ca FILE, or --direct-tls HOST:PORT "
		        "with --connections 1..%d\n", AGENTS_MAX);
		return -1;
	}
	if (host_port_parse(direct ? direct : relay, &o->relay, err, sizeof err) < 0) {
		fprintf(stderr, "load_agent: %s\n", err);
		return -1;
	}
	return 0;
}

/* Direct TLS connections trust --ca when given; without it they are
 * unauthenticated (loopback benchmarks against a peer's test certificate). */
static SSL_CTX *direct_context(const char *ca)
{
	char err[256];
	SSL_CTX *ctx;

	if (ca)
		return tls_client_context_new(ca, err, sizeof err);
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx) {
		SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	}
	return ctx;
}

static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	struct load L;
	struct stop_signals *signals;
	struct timeval tick = { 0, TICK_MS * 1000 };
	char err[256];

	memset(&L, 0, sizeof L);
	if (parse_options(argc, argv, &L.opt) < 0)
		return 2;
	raise_fd_limit();
	if (L.opt.direct) {
		L.nagents = L.opt.connections;
		L.agents = xcalloc((size_t)L.nagents, sizeof *L.agents);
		L.tls = direct_context(L.opt.ca);
	} else {
		if (read_codes(&L, L.opt.codes) < 0)
			return 1;
		L.tls = tls_client_context_new(L.opt.ca, err, sizeof err);
		if (L.tls == NULL)
			fprintf(stderr, "load_agent: %s\n", err);
	}
	if (L.tls == NULL)
		return 1;
	L.base = event_base_new();
	signals = L.base ? stop_signals_install(L.base) : NULL;
	if (signals == NULL) {
		fprintf(stderr, "load_agent: cannot set up libevent\n");
		return 1;
	}
	L.tick = event_new(L.base, -1, EV_PERSIST, on_tick, &L);
	event_add(L.tick, &tick);
	clock_gettime(CLOCK_MONOTONIC, &L.started);
	for (int i = 0; i < L.nagents; i++) {
		struct agent *a = &L.agents[i];
		if (L.opt.direct) {
			a->load = &L;
			a->index = i;
			a->welcomed = 1;
			a->seed = load_pattern_seed("direct");
			stream_dial(a, KIND_RAW, &L.opt.relay, 0, 0, NULL);
			agent_settled(a);
		} else {
			agent_dial(a);
		}
	}
	event_base_dispatch(L.base);
	if (stop_signals_received(signals)) {
		stop(&L); /* BYE to the relay, then a last second to flush */
		event_base_dispatch(L.base);
	}
	report(&L);
	for (int i = 0; i < L.nagents; i++) {
		while (L.agents[i].streams)
			stream_free(L.agents[i].streams);
		if (L.agents[i].control)
			bufferevent_free(L.agents[i].control);
		if (L.agents[i].redial)
			event_free(L.agents[i].redial);
		OPENSSL_cleanse(L.agents[i].resume_token, sizeof L.agents[i].resume_token);
	}
	event_free(L.tick);
	stop_signals_free(signals);
	event_base_free(L.base);
	SSL_CTX_free(L.tls);
	free(L.agents);
	return L.failures || (!L.opt.direct && L.nsettled < L.nagents) ? 1 : 0;
}
