/*
 * load_participant: many participants at once for load tests and
 * benchmarks (README.md beside this file), the receiving end of load_agent.
 *
 * Transports:
 *   SSH (default): libssh client to the relay's SSH port, --per-connection
 *     channels per connection (the relay allows 32), one thread per
 *     connection.  shell = session channel + pty-req + exec "shell SESSION";
 *     screen = direct-tcpip to SESSION:5900 (5901 with --view-only) and an
 *     RFB 3.8 client (security None, ClientInit shared, SetEncodings Raw,
 *     one FramebufferUpdateRequest).
 *   --plain HOST:PORT: N plain TCP connections (an `ssh -L` port, a peer).
 *   --tls-listen PORT: the TLS server that haproxy/stunnel forward to.
 *   --file PATH: a recorded stream (recorder leg bytes) checked the same way.
 * Modes:
 *   sink:     every payload byte is checked against load_pattern.h (shell:
 *             its text variant) from
 *             offset 0 with the session's seed ("direct" for raw); the
 *             in-band end marker (shell NOTICE / screen ServerCutText
 *             "load-end bytes=N") must match the bytes received.
 *   pingpong: --size bytes sent, the same bytes must come back (load_agent
 *             --echo); per-round-trip latency, p50/p90/p99/max in us.
 * Every wait is bounded (--timeout overall, --idle-timeout without data).
 * Exit: 0 every stream complete and verified, 1 otherwise, 2 usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "concierge_limits.h"
#include "config.h"
#include "load_pattern.h"
#include "load_wire.h"
#include "xmalloc.h"

#define STREAMS_MAX       20000
#define CHANNELS_MAX      32          /* the relay's MAX_CHANNELS per SSH connection */
#define PING_MAX          SHELL_FRAME_MAX
#define RFB_HEADER_MAX    64          /* largest fixed-size RFB unit parsed here */
#define RFB_REASON_MAX    512         /* refusal text kept from the relay */
#define CUT_TEXT_MAX      256         /* the end marker; longer cut text is skipped */
#define STDERR_KEEP       512         /* shell stderr kept (NOTICE lines) */
#define OUT_MAX           256         /* client handshake bytes waiting to be sent */
#define IO_CHUNK          (64 * 1024)
/* SSH logins in progress at once: under the relay's per-address pre-auth
 * limit, as every connection comes from one address. */
#define PARALLEL_DEFAULT  (PREAUTH_MAX_PER_SOURCE / 2)

enum kind { KIND_SCREEN, KIND_SHELL, KIND_RAW };
enum transport { VIA_SSH, VIA_PLAIN, VIA_TLS_LISTEN, VIA_FILE };
enum rfb_state { RFB_VERSION, RFB_SECTYPE_COUNT, RFB_SECTYPES, RFB_SECRESULT, RFB_REASON_LEN,
                 RFB_REASON, RFB_SERVERINIT, RFB_NAME, RFB_MSG, RFB_FBU, RFB_RECT, RFB_PIXELS,
                 RFB_CUT, RFB_CUT_TEXT };

struct options {
	enum transport via;
	enum kind kind;
	int pingpong, json, view_only, per_connection, connections, warmup, parallel;
	double ramp;                /* SSH connections start spread over this many seconds */
	size_t size;
	long count;
	uint64_t expect_bytes;
	double timeout, idle_timeout;
	int linger_ms;
	size_t stack_kb;
	struct host_port target;
	const char *user, *key, *known_hosts, *sessions, *cert, *cert_key, *file, *file_session;
};

static struct options opt;
static struct timespec run_start;
static volatile sig_atomic_t interrupted;
static sem_t login_gate;        /* --parallel SSH logins at once */

struct stream {
	int index;
	char session[TICKET_ID_MAX + 1];
	uint64_t seed;
	/* sink */
	uint64_t received;          /* payload bytes verified */
	uint64_t end_count;
	int have_end, done, failed, exit_status, eof;
	char why[RFB_REASON_MAX + 64];
	struct timespec first, last;
	/* RFB client */
	enum rfb_state rfb;
	uint8_t hdr[RFB_HEADER_MAX];
	size_t need, have;
	uint32_t rects_left, width, height, skip;
	uint64_t pixels_left;
	char text[RFB_REASON_MAX + 1];
	uint8_t out[OUT_MAX];
	size_t nout;
	/* pingpong */
	uint8_t ping[PING_MAX];
	size_t ping_have;
	int waiting;
	long rounds;
	struct timespec sent_at;
	double *lat_us;
	long nlat;
	uint64_t ping_offset;
	/* shell stderr */
	char err[STDERR_KEEP + 1];
	size_t nerr;
	/* SSH */
	ssh_channel channel;
	struct ssh_channel_callbacks_struct cb;
};

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double ts_s(const struct timespec *t)
{
	return (double)t->tv_sec + (double)t->tv_nsec / 1e9;
}

static void stream_fail(struct stream *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void stream_fail(struct stream *s, const char *fmt, ...)
{
	va_list ap;

	if (s->failed)
		return;
	s->failed = 1;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof s->why, fmt, ap);
	va_end(ap);
}

static int stream_finished(const struct stream *s)
{
	return s->failed || s->done;
}

static void queue_out(struct stream *s, const void *data, size_t len)
{
	if (s->nout + len > sizeof s->out) {
		stream_fail(s, "client handshake overflow");
		return;
	}
	memcpy(s->out + s->nout, data, len);
	s->nout += len;
}

static void mark_time(struct stream *s)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	if (s->first.tv_sec == 0 && s->first.tv_nsec == 0)
		s->first = t;
	s->last = t;
}

/* Pattern payload: checked at the stream's offset. */
static void take_payload(struct stream *s, const uint8_t *data, size_t len)
{
	long bad = load_pattern_check(data, len, s->seed, s->received, opt.kind == KIND_SHELL);

	if (bad >= 0) {
		stream_fail(s, "pattern mismatch at payload byte %" PRIu64, s->received + (uint64_t)bad);
		return;
	}
	s->received += len;
	if (opt.expect_bytes && s->received > opt.expect_bytes)
		stream_fail(s, "more payload than --expect-bytes %" PRIu64, opt.expect_bytes);
}

static void end_marker(struct stream *s, const char *text)
{
	const char *p = strstr(text, LOAD_END_MARKER);

	if (p == NULL)
		return;
	s->have_end = 1;
	s->end_count = strtoull(p + strlen(LOAD_END_MARKER), NULL, 10);
	if (s->end_count != s->received)
		stream_fail(s, "the agent sent %" PRIu64 " payload bytes, %" PRIu64 " arrived", s->end_count,
		            s->received);
}

/* ---- RFB client ------------------------------------------------------------- */

static void rfb_expect(struct stream *s, enum rfb_state state, size_t need)
{
	s->rfb = state;
	s->need = need;
	s->have = 0;
}

/* A complete fixed-size unit is in s->hdr (or text). */
static void rfb_unit(struct stream *s)
{
	static const uint8_t set_encodings[8] = { 2, 0, 0, 1, 0, 0, 0, 0 }; /* Raw */
	uint8_t request[10] = { 3, 0 };

	switch (s->rfb) {
	case RFB_VERSION:
		if (memcmp(s->hdr, "RFB 003.00", 10) != 0) {
			stream_fail(s, "not an RFB server");
			return;
		}
		queue_out(s, "RFB 003.008\n", 12);
		rfb_expect(s, RFB_SECTYPE_COUNT, 1);
		break;
	case RFB_SECTYPE_COUNT:
		if (s->hdr[0] == 0)
			rfb_expect(s, RFB_REASON_LEN, 4);
		else
			rfb_expect(s, RFB_SECTYPES, s->hdr[0]);
		break;
	case RFB_SECTYPES:
		if (memchr(s->hdr, 1, s->need) == NULL) {
			stream_fail(s, "the server does not offer security None");
			return;
		}
		queue_out(s, "\001", 1);
		rfb_expect(s, RFB_SECRESULT, 4);
		break;
	case RFB_SECRESULT:
		if (load_get_u32(s->hdr) != 0) {
			rfb_expect(s, RFB_REASON_LEN, 4);
			return;
		}
		queue_out(s, "\001", 1); /* ClientInit: shared */
		rfb_expect(s, RFB_SERVERINIT, 24);
		break;
	case RFB_REASON_LEN:
		s->skip = load_get_u32(s->hdr);
		rfb_expect(s, RFB_REASON, s->skip > RFB_REASON_MAX ? RFB_REASON_MAX : s->skip);
		if (s->need == 0)
			stream_fail(s, "refused without a reason");
		break;
	case RFB_REASON:
		stream_fail(s, "refused: %.*s", (int)s->need, s->text);
		break;
	case RFB_SERVERINIT:
		s->width = load_get_u16(s->hdr);
		s->height = load_get_u16(s->hdr + 2);
		if (s->hdr[4] != 32) {
			stream_fail(s, "server pixel format is %u bpp, expected 32", s->hdr[4]);
			return;
		}
		s->skip = load_get_u32(s->hdr + 20);
		rfb_expect(s, RFB_NAME, 0);
		if (s->skip == 0)
			goto setup;
		break;
	case RFB_NAME:
setup:
		queue_out(s, set_encodings, sizeof set_encodings);
		request[6] = (uint8_t)(s->width >> 8);
		request[7] = (uint8_t)s->width;
		request[8] = (uint8_t)(s->height >> 8);
		request[9] = (uint8_t)s->height;
		queue_out(s, request, sizeof request);
		rfb_expect(s, RFB_MSG, 1);
		break;
	case RFB_MSG:
		if (s->hdr[0] == 0)
			rfb_expect(s, RFB_FBU, 3);
		else if (s->hdr[0] == 3)
			rfb_expect(s, RFB_CUT, 7);
		else if (s->hdr[0] == 2)
			rfb_expect(s, RFB_MSG, 1); /* Bell */
		else
			stream_fail(s, "unexpected RFB message type %u", s->hdr[0]);
		break;
	case RFB_FBU:
		s->rects_left = load_get_u16(s->hdr + 1);
		rfb_expect(s, s->rects_left ? RFB_RECT : RFB_MSG, s->rects_left ? 12 : 1);
		break;
	case RFB_RECT: {
		uint32_t x = load_get_u16(s->hdr), y = load_get_u16(s->hdr + 2), w = load_get_u16(s->hdr + 4);
		uint32_t h = load_get_u16(s->hdr + 6), enc = load_get_u32(s->hdr + 8);
		if (enc != 0 || x + w > s->width || y + h > s->height) {
			stream_fail(s, "unexpected rect %ux%u+%u+%u encoding %d", w, h, x, y, (int32_t)enc);
			return;
		}
		s->rects_left--;
		s->pixels_left = (uint64_t)w * h * 4;
		s->rfb = RFB_PIXELS;
		if (s->pixels_left == 0)
			rfb_expect(s, s->rects_left ? RFB_RECT : RFB_MSG, s->rects_left ? 12 : 1);
		break;
	}
	case RFB_CUT:
		s->skip = load_get_u32(s->hdr + 3);
		rfb_expect(s, RFB_CUT_TEXT, s->skip > CUT_TEXT_MAX ? CUT_TEXT_MAX : s->skip);
		s->skip -= (uint32_t)s->need;
		if (s->need == 0)
			rfb_expect(s, RFB_MSG, 1);
		break;
	case RFB_CUT_TEXT:
		s->text[s->need] = '\0';
		end_marker(s, s->text);
		if (s->have_end && !s->failed)
			s->done = 1;
		rfb_expect(s, RFB_MSG, 1);
		break;
	default:
		break;
	}
}

static void rfb_feed(struct stream *s, const uint8_t *data, size_t len)
{
	while (len > 0 && !s->failed) {
		if (s->rfb == RFB_PIXELS) {
			size_t n = len < s->pixels_left ? len : (size_t)s->pixels_left;
			take_payload(s, data, n);
			data += n;
			len -= n;
			s->pixels_left -= n;
			if (s->pixels_left == 0)
				rfb_expect(s, s->rects_left ? RFB_RECT : RFB_MSG, s->rects_left ? 12 : 1);
			continue;
		}
		uint8_t *dst = (s->rfb == RFB_REASON || s->rfb == RFB_CUT_TEXT) ? (uint8_t *)s->text : s->hdr;
		if (s->have < s->need) {
			size_t n = s->need - s->have < len ? s->need - s->have : len;
			memcpy(dst + s->have, data, n);
			s->have += n;
			data += n;
			len -= n;
			if (s->have < s->need)
				continue;
		}
		/* Text beyond what is kept (desktop name, long cut text) is skipped. */
		if ((s->rfb == RFB_NAME || s->rfb == RFB_CUT_TEXT) && s->skip > 0) {
			size_t n = len < s->skip ? len : s->skip;
			data += n;
			len -= n;
			s->skip -= (uint32_t)n;
			if (s->skip > 0)
				continue;
		}
		rfb_unit(s);
	}
}

/* ---- data in, by kind and mode ---------------------------------------------- */

static void ping_send_prepare(struct stream *s)
{
	load_pattern_fill(s->ping, opt.size, s->seed, s->ping_offset, opt.kind == KIND_SHELL);
	s->ping_offset += opt.size;
	s->ping_have = 0;
	s->waiting = 1;
	clock_gettime(CLOCK_MONOTONIC, &s->sent_at);
}

static void pingpong_feed(struct stream *s, const uint8_t *data, size_t len)
{
	if (!s->waiting || s->ping_have + len > opt.size) {
		stream_fail(s, "%zu unexpected bytes (is the agent streaming too? ping-pong needs "
		            "load_agent --echo without --bytes/--seconds)", len);
		return;
	}
	if (memcmp(s->ping + s->ping_have, data, len) != 0) {
		stream_fail(s, "the echo differs from what was sent in round %ld", s->rounds + 1);
		return;
	}
	s->ping_have += len;
	if (s->ping_have < opt.size)
		return;
	s->waiting = 0;
	if (s->rounds >= opt.warmup)
		s->lat_us[s->nlat++] = (now_s() - ts_s(&s->sent_at)) * 1e6;
	if (++s->rounds >= opt.count + opt.warmup)
		s->done = 1;
}

static void stream_feed(struct stream *s, const uint8_t *data, size_t len)
{
	if (stream_finished(s) && !(opt.kind == KIND_SCREEN && s->done))
		return;
	mark_time(s);
	if (opt.pingpong)
		pingpong_feed(s, data, len);
	else if (opt.kind == KIND_SCREEN)
		rfb_feed(s, data, len);
	else
		take_payload(s, data, len);
}

/* The stream's end: shell streams must have had the end marker; raw ones
 * the expected count when given. */
static void stream_closed(struct stream *s, const char *how)
{
	s->eof = 1;
	if (stream_finished(s))
		return;
	if (opt.pingpong) {
		stream_fail(s, "%s after %ld of %ld rounds", how, s->rounds, opt.count + opt.warmup);
	} else if (opt.kind == KIND_SHELL && opt.via == VIA_FILE) {
		if (s->received != opt.expect_bytes)
			stream_fail(s, "%s after %" PRIu64 " of %" PRIu64 " bytes", how, s->received, opt.expect_bytes);
		else
			s->done = 1;
	} else if (opt.kind == KIND_SHELL) {
		end_marker(s, s->err);
		if (!s->have_end)
			stream_fail(s, "%s without the end marker after %" PRIu64 " bytes%s%.200s", how,
			            s->received, s->nerr ? "; stderr: " : "", s->err);
		else if (!s->failed)
			s->done = 1;
	} else if (opt.kind == KIND_RAW) {
		if (opt.expect_bytes && s->received != opt.expect_bytes)
			stream_fail(s, "%s after %" PRIu64 " of %" PRIu64 " bytes", how, s->received, opt.expect_bytes);
		else if (s->received == 0 && !opt.expect_bytes)
			stream_fail(s, "%s before any byte", how);
		else
			s->done = 1;
	} else {
		stream_fail(s, "%s before the end marker (%" PRIu64 " bytes)%s%.200s", how, s->received,
		            s->text[0] ? ": " : "", s->text);
	}
}

/* ---- SSH transport -------------------------------------------------------- */

struct ssh_worker {
	struct stream **streams;
	int nstreams;
	double start_after;         /* --ramp: seconds after the run's start */
	pthread_t thread;
};

static int on_ssh_data(ssh_session session, ssh_channel channel, void *data, uint32_t len, int is_stderr,
                       void *userdata)
{
	struct stream *s = userdata;

	(void)session;
	(void)channel;
	if (is_stderr) {
		size_t n = len < STDERR_KEEP - s->nerr ? len : STDERR_KEEP - s->nerr;
		memcpy(s->err + s->nerr, data, n);
		s->nerr += n;
		s->err[s->nerr] = '\0';
		if (opt.kind == KIND_SCREEN || opt.pingpong)
			return (int)len;
		end_marker(s, s->err);
		return (int)len;
	}
	stream_feed(s, data, len);
	return (int)len;
}

static void on_ssh_eof(ssh_session session, ssh_channel channel, void *userdata)
{
	(void)session;
	(void)channel;
	stream_closed(userdata, "the channel ended");
}

static void on_ssh_close(ssh_session session, ssh_channel channel, void *userdata)
{
	(void)session;
	(void)channel;
	stream_closed(userdata, "the channel closed");
}

static void on_ssh_exit_status(ssh_session session, ssh_channel channel, int status, void *userdata)
{
	struct stream *s = userdata;

	(void)session;
	(void)channel;
	s->exit_status = status;
	if (status != 0 && !opt.pingpong)
		stream_fail(s, "exit status %d%s%.200s", status, s->nerr ? "; stderr: " : "", s->err);
}

/* Waits (until the run's --timeout) for one of the --parallel login turns. */
static int login_gate_enter(void)
{
	struct timespec until;
	double at;

	clock_gettime(CLOCK_REALTIME, &until);
	at = (double)until.tv_sec + (double)until.tv_nsec / 1e9 + opt.timeout - (now_s() - ts_s(&run_start));
	until.tv_sec = (time_t)at;
	until.tv_nsec = (long)((at - (double)until.tv_sec) * 1e9);
	while (sem_timedwait(&login_gate, &until) != 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

static ssh_session ssh_login(char *err, size_t errlen)
{
	ssh_session session = ssh_new();
	ssh_key key = NULL;
	long timeout = (long)opt.idle_timeout;
	int port = (int)opt.target.port;

	if (session == NULL) {
		snprintf(err, errlen, "ssh_new failed");
		return NULL;
	}
	if (login_gate_enter() < 0) {
		snprintf(err, errlen, "--timeout reached before this connection's turn to log in");
		ssh_free(session);
		return NULL;
	}
	ssh_options_set(session, SSH_OPTIONS_HOST, opt.target.host);
	ssh_options_set(session, SSH_OPTIONS_PORT, &port);
	ssh_options_set(session, SSH_OPTIONS_USER, opt.user);
	ssh_options_set(session, SSH_OPTIONS_TIMEOUT, &timeout);
	ssh_options_set(session, SSH_OPTIONS_PROCESS_CONFIG, &(int){ 0 });
	if (opt.known_hosts)
		ssh_options_set(session, SSH_OPTIONS_KNOWNHOSTS, opt.known_hosts);
	if (ssh_connect(session) != SSH_OK) {
		snprintf(err, errlen, "ssh connect to %s:%u: %s", opt.target.host, opt.target.port,
		         ssh_get_error(session));
		goto fail;
	}
	if (opt.known_hosts && ssh_session_is_known_server(session) != SSH_KNOWN_HOSTS_OK) {
		snprintf(err, errlen, "the relay's host key is not in --known-hosts %s", opt.known_hosts);
		goto fail;
	}
	if (ssh_pki_import_privkey_file(opt.key, NULL, NULL, NULL, &key) != SSH_OK) {
		snprintf(err, errlen, "cannot read --key %s", opt.key);
		goto fail;
	}
	if (ssh_userauth_publickey(session, NULL, key) != SSH_AUTH_SUCCESS) {
		snprintf(err, errlen, "public-key login as %s refused: %s", opt.user, ssh_get_error(session));
		ssh_key_free(key);
		goto fail;
	}
	ssh_key_free(key);
	sem_post(&login_gate);
	return session;
fail:
	sem_post(&login_gate);
	ssh_disconnect(session);
	ssh_free(session);
	return NULL;
}

static int ssh_open_stream(ssh_session session, struct stream *s)
{
	char command[SSH_COMMAND_MAX];

	s->channel = ssh_channel_new(session);
	if (s->channel == NULL)
		return -1;
	memset(&s->cb, 0, sizeof s->cb);
	s->cb.userdata = s;
	s->cb.channel_data_function = on_ssh_data;
	s->cb.channel_eof_function = on_ssh_eof;
	s->cb.channel_close_function = on_ssh_close;
	s->cb.channel_exit_status_function = on_ssh_exit_status;
	ssh_callbacks_init(&s->cb);
	if (opt.kind == KIND_SCREEN) {
		if (ssh_channel_open_forward(s->channel, s->session, opt.view_only ? 5901 : 5900, "127.0.0.1",
		                             5900) != SSH_OK)
			return -1;
	} else {
		snprintf(command, sizeof command, "shell %s%s", s->session, opt.view_only ? " --view-only" : "");
		if (ssh_channel_open_session(s->channel) != SSH_OK ||
		    ssh_channel_request_pty_size(s->channel, "xterm", 80, 24) != SSH_OK ||
		    ssh_channel_request_exec(s->channel, command) != SSH_OK)
			return -1;
	}
	ssh_set_channel_callbacks(s->channel, &s->cb);
	return 0;
}

static int ssh_write(struct stream *s, const void *data, size_t len)
{
	return ssh_channel_write(s->channel, data, (uint32_t)len) == (int)len ? 0 : -1;
}

/* Sends what the stream has to say: RFB handshake answers, the next ping. */
static void ssh_flush(struct stream *s)
{
	if (stream_finished(s) || s->eof)
		return;
	if (s->nout > 0) {
		if (ssh_write(s, s->out, s->nout) < 0)
			stream_fail(s, "write failed");
		s->nout = 0;
	}
	if (opt.pingpong && !s->waiting && !s->done) {
		ping_send_prepare(s);
		if (ssh_write(s, s->ping, opt.size) < 0)
			stream_fail(s, "write failed");
	}
}

/* Sleeps until `at` (monotonic seconds) unless interrupted. */
static void sleep_until(double at)
{
	double left;

	while (!interrupted && (left = at - now_s()) > 0) {
		struct timespec t = { (time_t)left, (long)((left - (double)(time_t)left) * 1e9) };
		nanosleep(&t, NULL);
	}
}

static void *ssh_worker_run(void *arg)
{
	struct ssh_worker *w = arg;
	char err[300];
	ssh_session session;
	ssh_event event = NULL;
	double deadline = ts_s(&run_start) + opt.timeout, linger_until = 0;

	sleep_until(ts_s(&run_start) + w->start_after);
	session = ssh_login(err, sizeof err);

	if (session == NULL) {
		for (int i = 0; i < w->nstreams; i++)
			stream_fail(w->streams[i], "%s", err);
		return NULL;
	}
	for (int i = 0; i < w->nstreams; i++)
		if (ssh_open_stream(session, w->streams[i]) < 0)
			stream_fail(w->streams[i], "cannot open the %s channel: %s",
			            opt.kind == KIND_SCREEN ? "direct-tcpip" : "shell", ssh_get_error(session));
	event = ssh_event_new();
	if (event == NULL || ssh_event_add_session(event, session) != SSH_OK) {
		for (int i = 0; i < w->nstreams; i++)
			stream_fail(w->streams[i], "ssh_event setup failed");
		goto out;
	}
	/* Idle time counts from the login (with --ramp it may come long after the run's start). */
	double logged_in = now_s();
	for (;;) {
		int open = 0, quiet_too_long = 0;
		double t = now_s();
		for (int i = 0; i < w->nstreams; i++) {
			struct stream *s = w->streams[i];
			ssh_flush(s);
			if (!stream_finished(s) && !s->eof) {
				double since = s->last.tv_sec ? ts_s(&s->last) : logged_in;
				open++;
				if (t - since > opt.idle_timeout && !(opt.pingpong && !s->waiting)) {
					stream_fail(s, "no data for %.0f s (--idle-timeout) after %" PRIu64 " bytes",
					            opt.idle_timeout, s->received);
					quiet_too_long = 1;
				}
			}
		}
		(void)quiet_too_long;
		if (open == 0) {
			/* Screens linger so the relay records the last updates before we leave. */
			if (opt.kind != KIND_SCREEN || opt.pingpong)
				break;
			if (linger_until == 0)
				linger_until = t + opt.linger_ms / 1000.0;
			if (t >= linger_until)
				break;
		}
		if (t > deadline || interrupted) {
			for (int i = 0; i < w->nstreams; i++)
				stream_fail(w->streams[i], interrupted ? "interrupted" : "--timeout reached");
			break;
		}
		if (ssh_event_dopoll(event, 50) == SSH_ERROR && !ssh_is_connected(session)) {
			for (int i = 0; i < w->nstreams; i++)
				if (!stream_finished(w->streams[i]))
					stream_closed(w->streams[i], "the SSH connection ended");
			break;
		}
	}
out:
	for (int i = 0; i < w->nstreams; i++)
		if (w->streams[i]->channel) {
			ssh_remove_channel_callbacks(w->streams[i]->channel, &w->streams[i]->cb);
			ssh_channel_close(w->streams[i]->channel);
			ssh_channel_free(w->streams[i]->channel);
			w->streams[i]->channel = NULL;
		}
	if (event) {
		ssh_event_remove_session(event, session);
		ssh_event_free(event);
	}
	ssh_disconnect(session);
	ssh_free(session);
	return NULL;
}

/* ---- plain TCP and TLS transports ------------------------------------------- */

struct sock_worker {
	struct stream *stream;
	int fd;
	SSL *ssl;
	pthread_t thread;
};

static int sock_write(struct sock_worker *w, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len > 0) {
		ssize_t n = w->ssl ? SSL_write(w->ssl, p, (int)len) : send(w->fd, p, len, MSG_NOSIGNAL);
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void *sock_worker_run(void *arg)
{
	struct sock_worker *w = arg;
	struct stream *s = w->stream;
	uint8_t *buf = xmalloc(IO_CHUNK);
	double deadline = ts_s(&run_start) + opt.timeout;
	struct timeval tv = { (time_t)opt.idle_timeout, 0 };

	/* Blocking I/O bounded by the idle timeout on every call. */
	setsockopt(w->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(w->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	setsockopt(w->fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	if (w->ssl && SSL_accept(w->ssl) != 1) {
		stream_fail(s, "TLS handshake failed");
		goto out;
	}
	while (!stream_finished(s)) {
		ssize_t n;
		if (s->nout > 0) {
			if (sock_write(w, s->out, s->nout) < 0)
				stream_fail(s, "write failed");
			s->nout = 0;
		}
		if (opt.pingpong && !s->waiting && !s->done) {
			ping_send_prepare(s);
			if (sock_write(w, s->ping, opt.size) < 0)
				stream_fail(s, "write failed");
		}
		if (stream_finished(s))
			break;
		if (now_s() > deadline || interrupted) {
			stream_fail(s, interrupted ? "interrupted" : "--timeout reached");
			break;
		}
		n = w->ssl ? SSL_read(w->ssl, buf, IO_CHUNK) : recv(w->fd, buf, IO_CHUNK, 0);
		if (n > 0) {
			stream_feed(s, buf, (size_t)n);
		} else if (n == 0 || (w->ssl && SSL_get_error(w->ssl, (int)n) == SSL_ERROR_ZERO_RETURN)) {
			stream_closed(s, "the connection closed");
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			stream_fail(s, "no data for %.0f s (--idle-timeout) after %" PRIu64 " bytes",
			            opt.idle_timeout, s->received);
		} else {
			stream_closed(s, "the connection failed");
		}
	}
	if (opt.kind == KIND_SCREEN && s->done)
		usleep((useconds_t)opt.linger_ms * 1000);
out:
	if (w->ssl) {
		SSL_shutdown(w->ssl);
		SSL_free(w->ssl);
	}
	close(w->fd);
	free(buf);
	return NULL;
}

static int tcp_connect(const struct host_port *to, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
	char port[8];
	int fd = -1;

	snprintf(port, sizeof port, "%u", to->port);
	if (getaddrinfo(to->host, port, &hints, &res) != 0) {
		snprintf(err, errlen, "cannot resolve %.200s", to->host);
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
		snprintf(err, errlen, "connect %.200s:%u: %s", to->host, to->port, strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static int tls_listen_socket(unsigned port, char *err, size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 1024) < 0) {
		snprintf(err, errlen, "cannot listen on 127.0.0.1:%u: %s", port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* ---- report ---------------------------------------------------------------- */

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double percentile(const double *sorted, long n, double p)
{
	long i = (long)(p / 100.0 * (double)(n - 1) + 0.5);

	return n ? sorted[i < n ? i : n - 1] : 0;
}

static int report(struct stream *streams, int n)
{
	uint64_t total = 0;
	double first = 0, last = 0;
	long nlat = 0, ok = 0;
	const char *kind = opt.kind == KIND_SCREEN ? "screen" : opt.kind == KIND_SHELL ? "shell" : "raw";

	for (int i = 0; i < n; i++) {
		struct stream *s = &streams[i];
		double secs = s->last.tv_sec ? ts_s(&s->last) - ts_s(&s->first) : 0;
		total += s->received;
		nlat += s->nlat;
		ok += s->done && !s->failed;
		if (s->first.tv_sec && (first == 0 || ts_s(&s->first) < first))
			first = ts_s(&s->first);
		if (s->last.tv_sec && ts_s(&s->last) > last)
			last = ts_s(&s->last);
		if (!opt.json)
			printf("stream %d session=%s kind=%s state=%s bytes=%" PRIu64 " seconds=%.3f mb_per_s=%.2f"
			       "%s%s\n", s->index, s->session, kind, s->failed ? "failed" : s->done ? "ok" : "incomplete",
			       s->received, secs, secs > 0 ? (double)s->received / secs / 1e6 : 0,
			       s->failed ? " why=" : "", s->failed ? s->why : "");
	}
	double *all = xcalloc((size_t)(nlat ? nlat : 1), sizeof *all);
	long k = 0;
	for (int i = 0; i < n; i++)
		for (long j = 0; j < streams[i].nlat; j++)
			all[k++] = streams[i].lat_us[j];
	qsort(all, (size_t)nlat, sizeof *all, compare_double);
	double span = last > first ? last - first : 0;
	double mbps = span > 0 ? (double)total / span / 1e6 : 0;
	if (opt.json) {
		printf("{\"streams\":[");
		for (int i = 0; i < n; i++) {
			struct stream *s = &streams[i];
			double secs = s->last.tv_sec ? ts_s(&s->last) - ts_s(&s->first) : 0;
			printf("%s{\"index\":%d,\"session\":\"%s\",\"state\":\"%s\",\"bytes\":%" PRIu64
			       ",\"seconds\":%.3f,\"mb_per_s\":%.2f,\"why\":\"", i ? "," : "", s->index, s->session,
			       s->failed ? "failed" : s->done ? "ok" : "incomplete", s->received, secs,
			       secs > 0 ? (double)s->received / secs / 1e6 : 0);
			for (const char *c = s->why; *c; c++)
				if (*c != '"' && *c != '\\' && (unsigned char)*c >= 0x20)
					putchar(*c);
			printf("\"}");
		}
		printf("],\"total\":{\"kind\":\"%s\",\"streams\":%d,\"ok\":%ld,\"bytes\":%" PRIu64
		       ",\"seconds\":%.3f,\"mb_per_s\":%.2f", kind, n, ok, total, span, mbps);
		if (opt.pingpong)
			printf(",\"rounds\":%ld,\"size\":%zu,\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,"
			       "\"max_us\":%.1f", nlat, opt.size, percentile(all, nlat, 50), percentile(all, nlat, 90),
			       percentile(all, nlat, 99), nlat ? all[nlat - 1] : 0);
		printf("}}\n");
	} else {
		printf("total kind=%s streams=%d ok=%ld bytes=%" PRIu64 " seconds=%.3f mb_per_s=%.2f\n", kind, n,
		       ok, total, span, mbps);
		if (opt.pingpong)
			printf("pingpong rounds=%ld size=%zu p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f\n", nlat,
			       opt.size, percentile(all, nlat, 50), percentile(all, nlat, 90),
			       percentile(all, nlat, 99), nlat ? all[nlat - 1] : 0);
	}
	fflush(stdout);
	free(all);
	return ok == n ? 0 : 1;
}

/* ---- options and main --------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
	"usage: load_participant [sink|pingpong] --kind shell|screen|raw [transport] [options]\n"
	"Transports (one):\n"
	"  --ssh HOST:PORT --user NAME --key FILE --sessions FILE\n"
	"                        join each session of FILE (first word of each line) through the\n"
	"                        relay: shell = pty-req + exec \"shell SESSION\", screen =\n"
	"                        direct-tcpip SESSION:5900 + RFB client\n"
	"     --known-hosts FILE check the relay's host key (default: not checked; loopback only)\n"
	"     --per-connection K channels per SSH connection (default 8, at most %d), one thread each\n"
	"     --view-only        shell --view-only / port 5901 (input dropped by the relay)\n"
	"     --parallel K       at most K SSH logins at once, the rest wait (default %d: the\n"
	"                        relay refuses over %d pending from one address)\n"
	"     --ramp S           start the SSH connections evenly spread over S seconds (default 0:\n"
	"                        all at once), so joins arrive at the rate a relay sets them up\n"
	"  --plain HOST:PORT --connections N [--session ID]\n"
	"                        N plain TCP connections (an ssh -L port, a peer's forward); the\n"
	"                        pattern's seed is session ID's (an ssh -L to the relay) or \"direct\"\n"
	"  --tls-listen PORT --cert FILE --cert-key FILE --connections N\n"
	"                        accept N TLS connections on 127.0.0.1:PORT (haproxy/stunnel backend)\n"
	"  --file PATH --session ID\n"
	"                        check a recorded stream instead: screen = the RFB bytes of a\n"
	"                        recorder leg (FBS data without its framing), shell = the output\n"
	"                        text (asciicast \"o\" events joined; needs --expect-bytes)\n"
	"Modes:\n"
	"  sink (default)        verify the load_pattern.h bytes from offset 0 (session seed; raw:\n"
	"                        seed \"direct\") and the in-band end marker; MB/s per stream, total\n"
	"  pingpong              --size N (default 64, max %d) bytes out, the same back, --count N\n"
	"                        rounds (default 100) after --warmup N (default 1); latency p50/p90/\n"
	"                        p99/max in microseconds.  Needs load_agent --echo without --bytes.\n"
	"Other options:\n"
	"  --expect-bytes N      raw and --file shell: the payload each stream must carry\n"
	"  --timeout S           whole run (default 120); --idle-timeout S no data (default 15)\n"
	"  --linger-ms N         screen: stay N ms after the end marker (default 1000) so the relay\n"
	"                        records the tail before we leave\n"
	"  --stack-kb N          thread stack size (default 512)\n"
	"  --json                report as JSON\n"
	"Exit: 0 every stream complete and verified, 1 otherwise, 2 usage.\n",
	CHANNELS_MAX, PARALLEL_DEFAULT, PREAUTH_MAX_PER_SOURCE, PING_MAX);
}

static int parse_options(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kind", required_argument, NULL, 'k' },       { "ssh", required_argument, NULL, 'S' },
		{ "user", required_argument, NULL, 'u' },       { "key", required_argument, NULL, 'K' },
		{ "sessions", required_argument, NULL, 'f' },   { "known-hosts", required_argument, NULL, 'H' },
		{ "per-connection", required_argument, NULL, 'P' }, { "view-only", no_argument, NULL, 'v' },
		{ "plain", required_argument, NULL, 'p' },      { "connections", required_argument, NULL, 'n' },
		{ "tls-listen", required_argument, NULL, 'L' }, { "cert", required_argument, NULL, 'c' },
		{ "cert-key", required_argument, NULL, 'C' },   { "size", required_argument, NULL, 'z' },
		{ "count", required_argument, NULL, 'N' },      { "warmup", required_argument, NULL, 'w' },
		{ "expect-bytes", required_argument, NULL, 'e' }, { "timeout", required_argument, NULL, 't' },
		{ "idle-timeout", required_argument, NULL, 'i' }, { "linger-ms", required_argument, NULL, 'l' },
		{ "stack-kb", required_argument, NULL, 's' },   { "json", no_argument, NULL, 'j' },
		{ "file", required_argument, NULL, 'F' },       { "session", required_argument, NULL, 'I' },
		{ "parallel", required_argument, NULL, 'A' },   { "ramp", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },             { NULL, 0, NULL, 0 },
	};
	const char *kind = NULL, *ssh = NULL, *plain = NULL, *listen_port = NULL;
	char err[256];
	int c;

	opt.per_connection = 8;
	opt.parallel = PARALLEL_DEFAULT;
	opt.size = 64;
	opt.count = 100;
	opt.warmup = 1;
	opt.timeout = 120;
	opt.idle_timeout = 15;
	opt.linger_ms = 1000;
	opt.stack_kb = 512;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'k': kind = optarg; break;
		case 'S': ssh = optarg; break;
		case 'u': opt.user = optarg; break;
		case 'K': opt.key = optarg; break;
		case 'f': opt.sessions = optarg; break;
		case 'H': opt.known_hosts = optarg; break;
		case 'P': opt.per_connection = atoi(optarg); break;
		case 'v': opt.view_only = 1; break;
		case 'p': plain = optarg; break;
		case 'n': opt.connections = atoi(optarg); break;
		case 'L': listen_port = optarg; break;
		case 'c': opt.cert = optarg; break;
		case 'C': opt.cert_key = optarg; break;
		case 'z': opt.size = (size_t)atol(optarg); break;
		case 'N': opt.count = atol(optarg); break;
		case 'w': opt.warmup = atoi(optarg); break;
		case 'e': opt.expect_bytes = strtoull(optarg, NULL, 10); break;
		case 't': opt.timeout = atof(optarg); break;
		case 'i': opt.idle_timeout = atof(optarg); break;
		case 'l': opt.linger_ms = atoi(optarg); break;
		case 's': opt.stack_kb = (size_t)atol(optarg); break;
		case 'j': opt.json = 1; break;
		case 'F': opt.file = optarg; break;
		case 'I': opt.file_session = optarg; break;
		case 'A': opt.parallel = atoi(optarg); break;
		case 'r': opt.ramp = atof(optarg); break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc && strcmp(argv[optind], "pingpong") == 0)
		opt.pingpong = 1, optind++;
	else if (optind < argc && strcmp(argv[optind], "sink") == 0)
		optind++;
	if (optind != argc || kind == NULL || (!!ssh + !!plain + !!listen_port + !!opt.file) != 1) {
		fprintf(stderr, "load_participant: give a mode (sink|pingpong), --kind and exactly one of "
		        "--ssh, --plain, --tls-listen, --file (see --help)\n");
		return -1;
	}
	opt.kind = strcmp(kind, "screen") == 0 ? KIND_SCREEN : strcmp(kind, "shell") == 0 ? KIND_SHELL
	         : strcmp(kind, "raw") == 0 ? KIND_RAW : (enum kind)-1;
	opt.via = ssh ? VIA_SSH : plain ? VIA_PLAIN : listen_port ? VIA_TLS_LISTEN : VIA_FILE;
	if (opt.file) {
		if (!opt.file_session || opt.pingpong || (opt.kind == KIND_SHELL && !opt.expect_bytes)) {
			fprintf(stderr, "load_participant: --file needs --session ID (the pattern's seed), sink "
			        "mode, and for shell --expect-bytes N\n");
			return -1;
		}
		return 0;
	}
	if ((int)opt.kind < 0 || opt.size < 1 || opt.size > PING_MAX || opt.count < 1 || opt.warmup < 0 ||
	    opt.timeout <= 0 || opt.idle_timeout <= 0 || opt.linger_ms < 0 || opt.stack_kb < 64 ||
	    opt.per_connection < 1 || opt.per_connection > CHANNELS_MAX || opt.parallel < 1 ||
	    opt.parallel > STREAMS_MAX || opt.ramp < 0 || opt.ramp >= opt.timeout ||
	    (opt.pingpong && opt.kind == KIND_SCREEN) || (ssh && opt.kind == KIND_RAW) ||
	    (!ssh && opt.kind == KIND_SHELL)) {
		fprintf(stderr, "load_participant: bad option value (ssh carries shell or screen, --plain "
		        "screen or raw, --tls-listen raw; pingpong is for shell and raw; see --help)\n");
		return -1;
	}
	if (ssh && (!opt.user || !opt.key || !opt.sessions)) {
		fprintf(stderr, "load_participant: --ssh needs --user, --key and --sessions\n");
		return -1;
	}
	if (!ssh && (opt.connections < 1 || opt.connections > STREAMS_MAX)) {
		fprintf(stderr, "load_participant: --plain and --tls-listen need --connections 1..%d\n",
		        STREAMS_MAX);
		return -1;
	}
	if (listen_port && (!opt.cert || !opt.cert_key)) {
		fprintf(stderr, "load_participant: --tls-listen needs --cert and --cert-key\n");
		return -1;
	}
	if (listen_port) {
		opt.target.port = (unsigned)atoi(listen_port);
		if (opt.target.port < 1 || opt.target.port > 65535) {
			fprintf(stderr, "load_participant: bad --tls-listen port\n");
			return -1;
		}
	} else if (host_port_parse(ssh ? ssh : plain, &opt.target, err, sizeof err) < 0) {
		fprintf(stderr, "load_participant: %s\n", err);
		return -1;
	}
	return 0;
}

static int read_sessions(struct stream **out)
{
	FILE *f = fopen(opt.sessions, "r");
	char line[256];
	int n = 0, cap = 0;
	struct stream *streams = NULL;

	if (f == NULL) {
		fprintf(stderr, "load_participant: cannot read --sessions %s: %s (load_agent --ready-file "
		        "writes it)\n", opt.sessions, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof line, f) && n < STREAMS_MAX) {
		char *save = NULL, *word = strtok_r(line, " \t\r\n", &save);
		if (word == NULL || word[0] == '#' || strlen(word) > TICKET_ID_MAX)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			streams = xreallocarray(streams, (size_t)cap, sizeof *streams);
		}
		memset(&streams[n], 0, sizeof streams[n]);
		snprintf(streams[n].session, sizeof streams[n].session, "%s", word);
		n++;
	}
	fclose(f);
	if (n == 0) {
		fprintf(stderr, "load_participant: no session ids in %s\n", opt.sessions);
		free(streams);
		return -1;
	}
	*out = streams;
	return n;
}

static void on_signal(int signo)
{
	(void)signo;
	interrupted = 1;
}

static int start_thread(pthread_t *thread, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	int rc;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, opt.stack_kb * 1024);
	rc = pthread_create(thread, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return rc;
}

static int run_ssh(struct stream *streams, int n)
{
	int nworkers = (n + opt.per_connection - 1) / opt.per_connection, started = 0;
	struct ssh_worker *workers = xcalloc((size_t)nworkers, sizeof *workers);
	struct stream **slots = xcalloc((size_t)n, sizeof *slots);

	sem_init(&login_gate, 0, (unsigned)opt.parallel);
	for (int i = 0; i < n; i++)
		slots[i] = &streams[i];
	for (int w = 0; w < nworkers; w++) {
		workers[w].streams = slots + w * opt.per_connection;
		workers[w].nstreams = n - w * opt.per_connection < opt.per_connection ? n - w * opt.per_connection
		                                                                      : opt.per_connection;
		workers[w].start_after = opt.ramp * w / nworkers;
		if (start_thread(&workers[w].thread, ssh_worker_run, &workers[w]) != 0) {
			for (int i = 0; i < workers[w].nstreams; i++)
				stream_fail(workers[w].streams[i], "cannot start a thread (raise ulimit -u?)");
			break;
		}
		started++;
	}
	for (int w = 0; w < started; w++)
		pthread_join(workers[w].thread, NULL);
	sem_destroy(&login_gate);
	free(workers);
	free(slots);
	return 0;
}

static int run_sockets(struct stream *streams, int n)
{
	struct sock_worker *workers = xcalloc((size_t)n, sizeof *workers);
	SSL_CTX *ctx = NULL;
	int listen_fd = -1, started = 0;
	char err[CFG_MAX_HOSTNAME + 128];

	if (opt.via == VIA_TLS_LISTEN) {
		ctx = SSL_CTX_new(TLS_server_method());
		if (ctx == NULL || SSL_CTX_use_certificate_chain_file(ctx, opt.cert) != 1 ||
		    SSL_CTX_use_PrivateKey_file(ctx, opt.cert_key, SSL_FILETYPE_PEM) != 1) {
			fprintf(stderr, "load_participant: cannot load --cert %s / --cert-key %s\n", opt.cert,
			        opt.cert_key);
			SSL_CTX_free(ctx);
			free(workers);
			return -1;
		}
		listen_fd = tls_listen_socket(opt.target.port, err, sizeof err);
		if (listen_fd < 0) {
			fprintf(stderr, "load_participant: %s\n", err);
			SSL_CTX_free(ctx);
			free(workers);
			return -1;
		}
		fprintf(stderr, "load_participant: listening on 127.0.0.1:%u for %d TLS connections\n",
		        opt.target.port, n);
	}
	for (int i = 0; i < n; i++) {
		struct sock_worker *w = &workers[i];
		w->stream = &streams[i];
		if (listen_fd >= 0) {
			struct pollfd pfd = { listen_fd, POLLIN, 0 };
			double left = ts_s(&run_start) + opt.timeout - now_s();
			if (left <= 0 || poll(&pfd, 1, (int)(left * 1000)) <= 0) {
				for (int j = i; j < n; j++)
					stream_fail(&streams[j], "no connection within --timeout");
				break;
			}
			w->fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
			if (w->fd >= 0) {
				w->ssl = SSL_new(ctx);
				SSL_set_fd(w->ssl, w->fd);
			}
		} else {
			w->fd = tcp_connect(&opt.target, err, sizeof err);
		}
		if (w->fd < 0) {
			stream_fail(w->stream, "%s", listen_fd >= 0 ? "accept failed" : err);
			continue;
		}
		if (start_thread(&w->thread, sock_worker_run, w) != 0) {
			stream_fail(w->stream, "cannot start a thread (raise ulimit -u?)");
			close(w->fd);
			w->fd = -1;
			continue;
		}
		started++;
	}
	for (int i = 0; i < n; i++)
		if (workers[i].thread)
			pthread_join(workers[i].thread, NULL);
	if (listen_fd >= 0)
		close(listen_fd);
	SSL_CTX_free(ctx);
	free(workers);
	return started;
}

/* A recorded stream (FBS data of a screen leg, asciicast output of a
 * shell) checked like a live one. */
static int run_file(struct stream *s)
{
	FILE *f = fopen(opt.file, "rb");
	uint8_t *buf;
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "load_participant: cannot read --file %s: %s\n", opt.file, strerror(errno));
		return -1;
	}
	buf = xmalloc(IO_CHUNK);
	while (!s->failed && (n = fread(buf, 1, IO_CHUNK, f)) > 0) {
		stream_feed(s, buf, n);
		s->nout = 0; /* nobody to answer */
	}
	stream_closed(s, "end of file");
	fclose(f);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	struct stream *streams = NULL;
	struct rlimit rl;
	int n, rc;

	if (parse_options(argc, argv) < 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (opt.via == VIA_SSH) {
		n = read_sessions(&streams);
		if (n < 0)
			return 1;
	} else if (opt.via == VIA_FILE) {
		n = 1;
		streams = xcalloc(1, sizeof *streams);
		snprintf(streams[0].session, sizeof streams[0].session, "%s", opt.file_session);
	} else {
		n = opt.connections;
		streams = xcalloc((size_t)n, sizeof *streams);
		/* --plain behind an ssh -L to the relay carries a session's pattern. */
		for (int i = 0; i < n; i++)
			snprintf(streams[i].session, sizeof streams[i].session, "%s",
			         opt.file_session ? opt.file_session : "direct");
	}
	for (int i = 0; i < n; i++) {
		streams[i].index = i;
		streams[i].seed = load_pattern_seed(streams[i].session);
		if (opt.pingpong)
			streams[i].lat_us = xcalloc((size_t)opt.count, sizeof(double));
		rfb_expect(&streams[i], RFB_VERSION, 12);
	}
	ssh_init();
	clock_gettime(CLOCK_MONOTONIC, &run_start);
	if (opt.via == VIA_SSH)
		run_ssh(streams, n);
	else if (opt.via == VIA_FILE)
		run_file(&streams[0]);
	else if (run_sockets(streams, n) < 0)
		return 1;
	rc = report(streams, n);
	for (int i = 0; i < n; i++)
		free(streams[i].lat_us);
	free(streams);
	ssh_finalize();
	return rc;
}
