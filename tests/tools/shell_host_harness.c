/*
 * shell_host_harness: drives agent/shell_host.c without the relay, for local
 * and end-to-end tests.  Two modes:
 *
 *   shell_host_harness --listen PORT [--program P] [--view-only] [--pipe]
 *                      [--view-port PORT2] [--pipe-port PORT3]
 *
 * accepts plain TCP connections on 127.0.0.1:PORT and attaches each to ONE
 * shared shell_host (tty unless --pipe, input unless --view-only, 80x24), as
 * the agent does with a participant's TLS stream.  Connections on PORT2 are
 * always view-only tty participants, on PORT3 always pipe participants.
 * Prints "shell_host_harness ready port=P" on stdout once it accepts and
 * every host event as "event: TEXT".  SIGUSR1: shell_host_end.
 * SIGTERM/SIGINT: shell_host_free, exit 0.
 *
 *   shell_host_harness --connect PORT [--resize C R] [--send TEXT] [--eof]
 *                      [--expect REGEX] [--timeout S]
 *
 * speaks the frame protocol: sends RESIZE, then DATA TEXT (C escapes \n \r
 * \t \\ \xHH are decoded), then an empty DATA with --eof; prints DATA
 * output to stdout, NOTICE lines to stderr, "exit N" when EXIT arrives.  It
 * stops when the output seen so far matches the POSIX ERE (exit 0), when
 * EXIT arrives ("exit N" is added to the output first: exit 0 if it then
 * matches or no REGEX was given, else 1), when the relay side closes
 * (exit 1) or at the timeout (default 10 s; exit 1).
 * Exit 2 on usage errors.  Test tool only: never installed.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../agent/shell_host.h"
#include "log.h"
#include "shell_frame.h"

#define HARNESS_OUTPUT_MAX (256 * 1024) /* client: output kept for matching */
#define HARNESS_SEND_MAX   SHELL_FRAME_MAX
#define HARNESS_TIMEOUT_S  10

struct listen_mode {
	struct shell_host *host;
	int input_allowed, tty;
	int *nconn;
};

static void usage(FILE *out)
{
	fprintf(out, "usage: shell_host_harness --listen PORT [--program P] [--view-only] [--pipe]\n"
	             "                          [--view-port PORT2] [--pipe-port PORT3]\n"
	             "       shell_host_harness --connect PORT [--resize C R] [--send TEXT] [--eof]\n"
	             "                          [--expect REGEX] [--timeout S]\n");
}

static int parse_port(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	return (*s && *end == '\0' && v > 0 && v < 65536) ? (int)v : -1;
}

/* ---- server ---- */

static void on_host_event(void *ctx, const char *what)
{
	(void)ctx;
	printf("event: %s\n", what);
	fflush(stdout);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *arg)
{
	struct listen_mode *m = arg;
	struct bufferevent *bev;
	char user[32], err[256];

	(void)sa;
	(void)salen;
	bev = bufferevent_socket_new(evconnlistener_get_base(l), fd, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		close(fd);
		return;
	}
	snprintf(user, sizeof user, "user%d", ++*m->nconn);
	if (shell_host_attach(m->host, bev, m->input_allowed, m->tty, 80, 24, user, err, sizeof err) < 0)
		printf("refused: %s\n", err);
	fflush(stdout);
}

static void on_stop(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

static void on_usr1(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	shell_host_end(arg);
}

static struct evconnlistener *listen_on(struct event_base *base, int port, struct listen_mode *m)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return evconnlistener_new_bind(base, on_accept, m, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
	                               (struct sockaddr *)&sin, sizeof sin);
}

static int run_server(int port, const char *program, int view_only, int pipe_mode, int view_port,
                      int pipe_port)
{
	struct event_base *base = event_base_new();
	struct evconnlistener *l[3] = { NULL, NULL, NULL };
	struct listen_mode modes[3];
	struct event *term, *intr, *usr1;
	struct shell_host *host;
	int nconn = 0, i, rc = 0;

	if (base == NULL)
		fatal("event=event_base_failed");
	host = shell_host_new(base, program, on_host_event, NULL);
	if (host == NULL)
		return 1;
	modes[0] = (struct listen_mode){ host, !view_only, !pipe_mode, &nconn };
	modes[1] = (struct listen_mode){ host, 0, 1, &nconn };
	modes[2] = (struct listen_mode){ host, 1, 0, &nconn };
	l[0] = listen_on(base, port, &modes[0]);
	if (view_port > 0)
		l[1] = listen_on(base, view_port, &modes[1]);
	if (pipe_port > 0)
		l[2] = listen_on(base, pipe_port, &modes[2]);
	if (l[0] == NULL || (view_port > 0 && l[1] == NULL) || (pipe_port > 0 && l[2] == NULL)) {
		fprintf(stderr, "shell_host_harness: cannot listen: %s\n", strerror(errno));
		rc = 1;
		goto out;
	}
	term = evsignal_new(base, SIGTERM, on_stop, base);
	intr = evsignal_new(base, SIGINT, on_stop, base);
	usr1 = evsignal_new(base, SIGUSR1, on_usr1, host);
	evsignal_add(term, NULL);
	evsignal_add(intr, NULL);
	evsignal_add(usr1, NULL);
	printf("shell_host_harness ready port=%d\n", port);
	fflush(stdout);
	event_base_dispatch(base);
	event_free(term);
	event_free(intr);
	event_free(usr1);
out:
	for (i = 0; i < 3; i++)
		if (l[i])
			evconnlistener_free(l[i]);
	shell_host_free(host);
	event_base_free(base);
	return rc;
}

/* ---- client ---- */

static size_t unescape(const char *s, char *out, size_t cap)
{
	size_t n = 0;
	unsigned v;
	int i;

	while (*s && n < cap) {
		if (*s != '\\' || s[1] == '\0') {
			out[n++] = *s++;
			continue;
		}
		s++;
		switch (*s) {
		case 'n': out[n++] = '\n'; s++; break;
		case 'r': out[n++] = '\r'; s++; break;
		case 't': out[n++] = '\t'; s++; break;
		case 'x':
			s++;
			for (v = 0, i = 0; i < 2 && isxdigit((unsigned char)*s); i++, s++)
				v = v * 16 + (unsigned)(isdigit((unsigned char)*s) ? *s - '0'
				                                                   : (*s | 0x20) - 'a' + 10);
			out[n++] = (char)v;
			break;
		default: out[n++] = *s++; break;
		}
	}
	return n;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Appends to the NUL-terminated transcript (NULs shown as '.'), keeping its tail. */
static void transcript_add(char *t, size_t *tlen, const uint8_t *p, size_t len)
{
	size_t i;

	if (len > HARNESS_OUTPUT_MAX) {
		p += len - HARNESS_OUTPUT_MAX;
		len = HARNESS_OUTPUT_MAX;
	}
	if (*tlen + len > HARNESS_OUTPUT_MAX) {
		size_t cut = *tlen + len - HARNESS_OUTPUT_MAX;

		memmove(t, t + cut, *tlen - cut);
		*tlen -= cut;
	}
	for (i = 0; i < len; i++)
		t[(*tlen)++] = p[i] ? (char)p[i] : '.';
	t[*tlen] = '\0';
}

/* The client's work once connected; returns the exit code. */
static int client_loop(int fd, const char *send_text, int cols, int rows, int eof,
                       const regex_t *re, int timeout_s)
{
	static uint8_t in[2 * (SHELL_FRAME_HEADER + SHELL_FRAME_MAX)];
	static char transcript[HARNESS_OUTPUT_MAX + 1];
	uint8_t frame[SHELL_FRAME_HEADER + HARNESS_SEND_MAX];
	char text[HARNESS_SEND_MAX];
	size_t inlen = 0, tlen = 0, n;
	long deadline = now_ms() + timeout_s * 1000L;
	int status;

	if (cols > 0 && write_all(fd, frame, shell_frame_resize(frame, (unsigned)cols, (unsigned)rows)) < 0)
		goto closed;
	if (send_text) {
		n = unescape(send_text, text, sizeof text);
		if (write_all(fd, frame, shell_frame_write(frame, SHELL_DATA, text, n)) < 0)
			goto closed;
	}
	if (eof && write_all(fd, frame, shell_frame_write(frame, SHELL_DATA, NULL, 0)) < 0)
		goto closed;
	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		struct shell_frame f;
		long left = deadline - now_ms(), used;
		ssize_t r;

		if (left <= 0) {
			fprintf(stderr, "shell_host_harness: timeout\n");
			return 1;
		}
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		r = read(fd, in + inlen, sizeof in - inlen);
		if (r <= 0)
			goto closed;
		inlen += (size_t)r;
		while ((used = shell_frame_next(in, inlen, &f)) > 0) {
			switch (f.type) {
			case SHELL_DATA:
				fwrite(f.payload, 1, f.len, stdout);
				fflush(stdout);
				transcript_add(transcript, &tlen, f.payload, f.len);
				break;
			case SHELL_NOTICE:
				fprintf(stderr, "notice: %.*s\n", (int)f.len, (const char *)f.payload);
				break;
			case SHELL_EXIT: {
				char line[32];

				shell_frame_get_exit(&f, &status);
				snprintf(line, sizeof line, "\nexit %d\n", status);
				printf("exit %d\n", status);
				fflush(stdout);
				transcript_add(transcript, &tlen, (const uint8_t *)line, strlen(line));
				return (re == NULL || regexec(re, transcript, 0, NULL, 0) == 0) ? 0 : 1;
			}
			default:
				fprintf(stderr, "shell_host_harness: unexpected frame type %d\n", f.type);
				return 1;
			}
			memmove(in, in + used, inlen - (size_t)used);
			inlen -= (size_t)used;
			if (re && regexec(re, transcript, 0, NULL, 0) == 0)
				return 0;
		}
		if (used < 0) {
			fprintf(stderr, "shell_host_harness: malformed frame\n");
			return 1;
		}
	}
closed:
	fprintf(stderr, "shell_host_harness: connection closed\n");
	return 1;
}

static int run_client(int port, const char *send_text, int cols, int rows, int eof,
                      const char *expect, int timeout_s)
{
	struct sockaddr_in sin;
	regex_t re;
	int fd, rc;

	if (expect && regcomp(&re, expect, REG_EXTENDED | REG_NOSUB) != 0) {
		fprintf(stderr, "shell_host_harness: bad --expect regex\n");
		return 2;
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof sin) < 0) {
		fprintf(stderr, "shell_host_harness: cannot connect: %s\n", strerror(errno));
		rc = 1;
	} else {
		rc = client_loop(fd, send_text, cols, rows, eof, expect ? &re : NULL, timeout_s);
	}
	if (fd >= 0)
		close(fd);
	if (expect)
		regfree(&re);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },   { "connect", required_argument, NULL, 'c' },
		{ "program", required_argument, NULL, 'p' },  { "view-only", no_argument, NULL, 'v' },
		{ "pipe", no_argument, NULL, 'P' },           { "view-port", required_argument, NULL, 'V' },
		{ "pipe-port", required_argument, NULL, 'Q' }, { "send", required_argument, NULL, 's' },
		{ "resize", required_argument, NULL, 'r' },   { "expect", required_argument, NULL, 'e' },
		{ "timeout", required_argument, NULL, 't' },  { "eof", no_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },           { NULL, 0, NULL, 0 }
	};
	const char *program = NULL, *send_text = NULL, *expect = NULL;
	int listen_port = -1, connect_port = -1, view_only = 0, pipe_mode = 0, view_port = 0;
	int pipe_port = 0, cols = 0, rows = 0, eof = 0, timeout_s = HARNESS_TIMEOUT_S, ch;

	log_set_program("shell_host_harness");
	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'l': listen_port = parse_port(optarg); if (listen_port < 0) goto bad; break;
		case 'c': connect_port = parse_port(optarg); if (connect_port < 0) goto bad; break;
		case 'p': program = optarg; break;
		case 'v': view_only = 1; break;
		case 'P': pipe_mode = 1; break;
		case 'V': view_port = parse_port(optarg); if (view_port < 0) goto bad; break;
		case 'Q': pipe_port = parse_port(optarg); if (pipe_port < 0) goto bad; break;
		case 's': send_text = optarg; break;
		case 'e': expect = optarg; break;
		case 'E': eof = 1; break;
		case 't': timeout_s = atoi(optarg); if (timeout_s <= 0) goto bad; break;
		case 'r':
			cols = atoi(optarg);
			if (optind >= argc || cols <= 0 || cols > 65535)
				goto bad;
			rows = atoi(argv[optind++]);
			if (rows <= 0 || rows > 65535)
				goto bad;
			break;
		case 'h': usage(stdout); return 0;
		default: goto bad;
		}
	}
	if (optind != argc || (listen_port > 0) == (connect_port > 0))
		goto bad;
	if (listen_port > 0)
		return run_server(listen_port, program, view_only, pipe_mode, view_port, pipe_port);
	return run_client(connect_port, send_text, cols, rows, eof, expect, timeout_s);
bad:
	usage(stderr);
	return 2;
}
