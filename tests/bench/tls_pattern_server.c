/*
 * tls_pattern_server: the end user's side of the relay's path when that path
 * is assembled from standard parts (tests/bench/bench_ssh_path.sh).  There
 * nobody dials out: OpenSSH's sshd connects to a -L target, stunnel (client
 * mode) turns that into TLS to this server, so the agent's role is a TLS
 * server.  Each accepted connection gets --bytes N of the raw load pattern
 * (load_pattern.h, seed "direct": what load_agent --direct-tls sends and
 * load_participant --kind raw verifies) and a TLS close; with --echo every
 * byte received is sent back instead (ping-pong).
 *
 *   tls_pattern_server --port P --certs DIR (--bytes N | --echo) --connections N
 *                      [--timeout S]
 * One thread per connection (blocking SSL, socket timeouts), the certificate
 * and key are the relay's (DIR/relay.pem, DIR/relay.key).  Prints nothing
 * on success.  Exit: 0 once --connections connections were served without
 * error, 1 on any error or the --timeout, 2 usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "load_pattern.h"
#include "tls_context.h"
#include "xmalloc.h"

#define CONNECTIONS_MAX 4096
#define IO_CHUNK        (64 * 1024)
#define IO_TIMEOUT_S    30 /* no progress on a connection for this long is an error */

struct server {
	SSL_CTX *ctx;
	unsigned long long bytes;
	int echo;
	pthread_mutex_t lock;
	int served, failed;
};

struct conn {
	struct server *srv;
	int fd;
};

static int serve_pattern(SSL *ssl, unsigned long long bytes)
{
	uint8_t *buf = xmalloc(IO_CHUNK);
	uint64_t seed = load_pattern_seed("direct");
	unsigned long long sent = 0;
	int rc = 0;

	while (sent < bytes) {
		size_t n = bytes - sent < IO_CHUNK ? (size_t)(bytes - sent) : IO_CHUNK;
		load_pattern_fill(buf, n, seed, sent, 0); /* raw, not the text variant */
		if (SSL_write(ssl, buf, (int)n) != (int)n) {
			rc = -1;
			break;
		}
		sent += n;
	}
	free(buf);
	return rc;
}

static int serve_echo(SSL *ssl)
{
	uint8_t buf[IO_CHUNK];
	int n;

	while ((n = SSL_read(ssl, buf, sizeof buf)) > 0)
		if (SSL_write(ssl, buf, n) != n)
			return -1;
	return SSL_get_error(ssl, n) == SSL_ERROR_ZERO_RETURN || SSL_get_error(ssl, n) == SSL_ERROR_SYSCALL
	               ? 0 /* the client closed (with or without close_notify) */
	               : -1;
}

static void *conn_thread(void *arg)
{
	struct conn *c = arg;
	struct server *srv = c->srv;
	struct timeval limit = { IO_TIMEOUT_S, 0 };
	SSL *ssl = SSL_new(srv->ctx);
	int rc = -1;

	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
	if (ssl && SSL_set_fd(ssl, c->fd) == 1 && SSL_accept(ssl) == 1) {
		rc = srv->echo ? serve_echo(ssl) : serve_pattern(ssl, srv->bytes);
		if (rc == 0)
			SSL_shutdown(ssl);
	}
	SSL_free(ssl);
	close(c->fd);
	pthread_mutex_lock(&srv->lock);
	srv->served++;
	srv->failed += rc != 0;
	pthread_mutex_unlock(&srv->lock);
	free(c);
	return NULL;
}

static int listen_on(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 128) < 0) {
		fprintf(stderr, "tls_pattern_server: cannot listen on 127.0.0.1:%d: %s (pick a free port)\n",
		        port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: tls_pattern_server --port P --certs DIR (--bytes N | --echo) --connections N "
	           "[--timeout S]\n"
	           "A TLS server on 127.0.0.1:P with DIR/relay.pem and DIR/relay.key: each of N connections\n"
	           "gets N bytes of the raw load pattern (seed \"direct\"), or --echo sends back what it\n"
	           "receives.  Exit 0 once N connections were served, 1 error or --timeout (default 300 s),\n"
	           "2 usage.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },        { "certs", required_argument, NULL, 'c' },
		{ "bytes", required_argument, NULL, 'b' },       { "echo", no_argument, NULL, 'e' },
		{ "connections", required_argument, NULL, 'n' }, { "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },              { NULL, 0, NULL, 0 }
	};
	struct server srv = { .lock = PTHREAD_MUTEX_INITIALIZER };
	const char *certs = NULL;
	int port = 0, connections = 0, accepted = 0, opt, fd;
	long timeout_s = 300;
	char err[512], *end;
	time_t deadline;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 'c': certs = optarg; break;
		case 'b': srv.bytes = strtoull(optarg, &end, 10); if (*end) port = -1; break;
		case 'e': srv.echo = 1; break;
		case 'n': connections = atoi(optarg); break;
		case 't': timeout_s = atol(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (port <= 0 || port > 65535 || certs == NULL || connections <= 0 || connections > CONNECTIONS_MAX ||
	    timeout_s <= 0 || (srv.echo == 0) == (srv.bytes == 0)) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	srv.ctx = tls_server_context_new(certs, err, sizeof err);
	if (srv.ctx == NULL) {
		fprintf(stderr, "tls_pattern_server: %s\n", err);
		return 1;
	}
	fd = listen_on(port);
	if (fd < 0)
		return 1;
	deadline = time(NULL) + timeout_s;
	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		int done;
		pthread_mutex_lock(&srv.lock);
		done = srv.served;
		pthread_mutex_unlock(&srv.lock);
		if (done >= connections)
			break;
		if (time(NULL) > deadline) {
			fprintf(stderr, "tls_pattern_server: %d of %d connections served after %ld s\n", done,
			        connections, timeout_s);
			return 1;
		}
		if (accepted >= connections) {
			poll(NULL, 0, 100); /* all accepted: wait for them to finish */
			continue;
		}
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd < 0)
			continue;
		struct conn *c = xmalloc(sizeof *c);
		pthread_t thread;
		c->srv = &srv;
		c->fd = cfd;
		if (pthread_create(&thread, NULL, conn_thread, c) != 0) {
			fprintf(stderr, "tls_pattern_server: cannot start a thread\n");
			return 1;
		}
		pthread_detach(thread);
		accepted++;
	}
	if (srv.failed)
		fprintf(stderr, "tls_pattern_server: %d of %d connections failed\n", srv.failed, connections);
	SSL_CTX_free(srv.ctx);
	return srv.failed ? 1 : 0;
}
