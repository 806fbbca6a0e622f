/*
 * screen_harness: drives agent/screen.c without the relay, for end-to-end
 * tests.  Listens on 127.0.0.1:PORT and hands every accepted connection to
 * screen_add_client, exactly as the agent hands over a participant's stream.
 *
 *   screen_harness --listen PORT [--demo WxH | --x11 DISPLAY] [--view-only]
 *                  [--socketpair]
 *
 * With --socketpair the screen gets one end of an AF_UNIX socketpair per
 * connection and two pump threads copy bytes between the other end and the
 * TCP connection (blocking copies: natural back-pressure), which is the
 * shape the agent gives it (its pump speaks TLS to the relay instead).
 * Prints "screen_harness ready port=P width=W height=H" on stdout once it
 * accepts.  SIGUSR1: screen_disconnect_all.  SIGTERM/SIGINT: screen_stop,
 * exit 0.  Exit 1 when the screen cannot start, 2 on usage errors.
 * Test tool only: never installed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../agent/screen.h"
#include "log.h"

#define HARNESS_POLL_MS 200
#define HARNESS_MAX_PUMPS 64 /* --socketpair connections over the harness's life */
#define HARNESS_PUMP_BUF 16384

/* One --socketpair connection: two copy threads; the last one out closes
 * the socketpair end, as the agent's pump does when either side hangs up
 * (which also frees whatever the screen had queued towards it). */
struct conn {
	int tcp, sp;
	pthread_t up, down;
	pthread_mutex_t lock;
	int running;
};

struct pump {
	struct conn *conn;
	int from, to;
};

static struct conn *conns[HARNESS_MAX_PUMPS];
static struct pump pumps[2 * HARNESS_MAX_PUMPS];
static int nconns;

static volatile sig_atomic_t got_stop, got_disconnect;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_disconnect = 1;
	else
		got_stop = 1;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: screen_harness --listen PORT [--demo WxH | --x11 DISPLAY] [--view-only]\n"
	             "                      [--socketpair]\n");
}

/* Copies until EOF or error, then hangs up both sides. */
static void *pump_run(void *arg)
{
	struct pump *pu = arg;
	struct conn *c = pu->conn;
	char buf[HARNESS_PUMP_BUF];
	ssize_t n;
	int last;

	while ((n = read(pu->from, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
		for (ssize_t off = 0; n > 0 && off < n;) {
			ssize_t w = write(pu->to, buf + off, (size_t)(n - off));

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				goto out;
			off += w;
		}
	}
out:
	shutdown(c->tcp, SHUT_RDWR); /* wakes the other direction */
	shutdown(c->sp, SHUT_RDWR);
	pthread_mutex_lock(&c->lock);
	last = --c->running == 0;
	pthread_mutex_unlock(&c->lock);
	if (last) {
		close(c->sp);
		c->sp = -1;
	}
	return NULL;
}

/* Gives the screen a socketpair end pumped to `tcp`; returns that end or -1. */
static int pump_start(int tcp)
{
	struct conn *c;
	int sp[2];

	if (nconns == HARNESS_MAX_PUMPS ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		close(tcp);
		return -1;
	}
	c = calloc(1, sizeof *c);
	if (c == NULL) {
		close(tcp);
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	c->tcp = tcp;
	c->sp = sp[1];
	c->running = 2;
	pthread_mutex_init(&c->lock, NULL);
	pumps[2 * nconns] = (struct pump){ .conn = c, .from = tcp, .to = sp[1] };
	pumps[2 * nconns + 1] = (struct pump){ .conn = c, .from = sp[1], .to = tcp };
	if (pthread_create(&c->up, NULL, pump_run, &pumps[2 * nconns]) != 0) {
		fprintf(stderr, "screen_harness: cannot start a pump thread\n");
		exit(1);
	}
	if (pthread_create(&c->down, NULL, pump_run, &pumps[2 * nconns + 1]) != 0) {
		fprintf(stderr, "screen_harness: cannot start a pump thread\n");
		exit(1);
	}
	conns[nconns++] = c;
	return sp[0];
}

/* After screen_stop: every screen end is closed, so the pumps finish. */
static void pumps_join(void)
{
	for (int i = 0; i < nconns; i++) {
		struct conn *c = conns[i];

		shutdown(c->tcp, SHUT_RDWR);
		pthread_join(c->up, NULL);
		pthread_join(c->down, NULL);
		close(c->tcp);
		pthread_mutex_destroy(&c->lock);
		free(c);
	}
	nconns = 0;
}

static int parse_size(const char *text, int *w, int *h)
{
	char *end;
	long a, b;

	errno = 0;
	a = strtol(text, &end, 10);
	if (errno || end == text || *end != 'x')
		return -1;
	text = end + 1;
	b = strtol(text, &end, 10);
	if (errno || end == text || *end != '\0' || a <= 0 || b <= 0 || a > 100000 || b > 100000)
		return -1;
	*w = (int)a;
	*h = (int)b;
	return 0;
}

static int listen_on(int port)
{
	struct sockaddr_in sin;
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(fd, 16) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "listen", required_argument, NULL, 'l' }, { "demo", required_argument, NULL, 'd' },
		{ "x11", required_argument, NULL, 'x' },    { "view-only", no_argument, NULL, 'v' },
		{ "socketpair", no_argument, NULL, 's' },   { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct screen_options so = { .kind = SCREEN_DEMO };
	struct sigaction sa;
	struct screen *screen;
	char err[512], *end;
	int opt, port = 0, view_only = 0, use_pair = 0, lfd, w, h;

	log_set_program("screen_harness");
	if (getenv("HARNESS_DEBUG") != NULL)
		log_set_level(LOG_LEVEL_DEBUG);
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'l':
			errno = 0;
			port = (int)strtol(optarg, &end, 10);
			if (errno || *end != '\0' || port < 1 || port > 65535) {
				fprintf(stderr, "screen_harness: bad port '%s'\n", optarg);
				return 2;
			}
			break;
		case 'd':
			so.kind = SCREEN_DEMO;
			if (parse_size(optarg, &so.width, &so.height) < 0) {
				fprintf(stderr, "screen_harness: bad size '%s' (want WxH)\n", optarg);
				return 2;
			}
			break;
		case 'x':
			so.kind = SCREEN_X11;
			so.display = optarg;
			break;
		case 'v': view_only = 1; break;
		case 's': use_pair = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (port == 0 || optind < argc) {
		usage(stderr);
		return 2;
	}

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	lfd = listen_on(port);
	if (lfd < 0) {
		fprintf(stderr, "screen_harness: cannot listen on 127.0.0.1:%d: %s\n", port,
		        strerror(errno));
		return 1;
	}
	screen = screen_start(&so, err, sizeof err);
	if (screen == NULL) {
		fprintf(stderr, "screen_harness: %s\n", err);
		close(lfd);
		return 1;
	}
	screen_size(screen, &w, &h);
	printf("screen_harness ready port=%d width=%d height=%d\n", port, w, h);
	fflush(stdout);

	while (!got_stop) {
		struct pollfd pfd = { lfd, POLLIN, 0 };
		int fd;

		if (got_disconnect) {
			got_disconnect = 0;
			screen_disconnect_all(screen);
		}
		if (poll(&pfd, 1, HARNESS_POLL_MS) <= 0)
			continue;
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		if (use_pair && (fd = pump_start(fd)) < 0) {
			fprintf(stderr, "screen_harness: cannot pump a connection\n");
			continue;
		}
		if (screen_add_client(screen, fd, view_only) < 0)
			fprintf(stderr, "screen_harness: client refused\n");
	}
	close(lfd);
	screen_stop(screen);
	pumps_join();
	fprintf(stderr, "screen_harness: stopped\n");
	return 0;
}
