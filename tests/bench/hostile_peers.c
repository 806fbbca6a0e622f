/*
 * hostile_peers: attacks one relay port for a bounded time with a bounded
 * number of concurrent connections, and prints what it did and how the
 * relay reacted (a test and benchmark tool; loopback use only).
 *
 *   hostile_peers --mode MODE --target HOST:PORT [--source ADDR] [--seconds N]
 *                 [--connections N] [--interval-ms N] [--proto tls|ssh] [--user NAME] [--rate N]
 *
 * Modes (one worker thread per connection slot; each reconnects when the
 * relay drops it, until --seconds have passed):
 *   garbage        random bytes over plain TCP (either port)
 *   tls-garbage    a TLS handshake, then junk lines (agent port)
 *   slowloris      half a TLS ClientHello (--proto tls) or half an SSH banner
 *                  (--proto ssh), then one byte every --interval-ms
 *   oversized      after TLS, a first line far over WIRE_MAX_LINE_PREAUTH
 *                  (--proto tls); after the SSH banner, a packet whose length
 *                  field says 1 GiB (--proto ssh)
 *   wrong-codes    TLS, then HELLO with a random wrong code, read the answer
 *   ssh-auth-flood libssh client: a key the relay does not know, then wrong
 *                  passwords, for --user (default dana)
 *
 * Output: one line of key=value figures on stdout: connections opened,
 * bytes sent, and how each connection ended: closed by the relay, reset,
 * refused at connect, still open when the run ended; how long the relay
 * held the connections it closed (median, max); mode-specific answers.
 * Exit: 0 the run happened (whatever the relay did), 1 could not run at all
 * (bad target, no libssh key), 2 usage.
 *
 * Every wait is bounded: connects and handshakes by IO_TIMEOUT_MS, reads by
 * the run's deadline plus DRAIN_GRACE_MS.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <libssh/libssh.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "concierge_limits.h"
#include "config.h"
#include "secrets.h"
#include "wire.h"

#define MAX_CONNECTIONS   512      /* worker threads at most */
#define MAX_SECONDS       600
#define IO_TIMEOUT_MS     3000     /* connect, TLS handshake, one reply */
#define DRAIN_GRACE_MS    2000     /* after the run: how long we wait for the relay to close */
#define CLIENT_HELLO_MAX  4096     /* bytes of the ClientHello we keep for slowloris */
#define HOLD_SAMPLES_MAX  65536    /* hold times kept for the median */
#define OVERSIZED_LINE    (64 * 1024)
#define GARBAGE_PER_CONN  (16 * 1024)
#define JUNK_LINES        64

enum mode { M_GARBAGE, M_TLS_GARBAGE, M_SLOWLORIS, M_OVERSIZED, M_WRONG_CODES, M_SSH_AUTH_FLOOD };
static const char *const mode_names[] = { "garbage", "tls-garbage", "slowloris", "oversized",
                                          "wrong-codes", "ssh-auth-flood" };

/* How one connection ended. */
enum ending { END_REFUSED, END_CLOSED, END_RESET, END_STILL_OPEN };

struct options {
	enum mode mode;
	int ssh;                   /* --proto ssh */
	struct host_port target;
	struct sockaddr_in target_addr;
	struct sockaddr_in source_addr;
	int has_source;
	int seconds, connections, interval_ms;
	int rate;                  /* new connections per second, all workers (0: as fast as possible) */
	const char *user;
};

struct tally {
	pthread_mutex_t lock;
	unsigned long opened, refused, closed, reset, still_open, bytes_sent;
	unsigned long handshakes_failed, replies, rate_limited, denied, auth_attempts, auth_denied;
	double holds_ms[HOLD_SAMPLES_MAX];
	size_t nholds;
};

static struct options opt;
static struct tally tally = { .lock = PTHREAD_MUTEX_INITIALIZER };
static double run_deadline_ms;
static pthread_mutex_t pace_lock = PTHREAD_MUTEX_INITIALIZER;
static double next_dial_ms;          /* --rate: when the next connection may start */
static SSL_CTX *tls_ctx;
static uint8_t client_hello[CLIENT_HELLO_MAX];
static size_t client_hello_len;
static ssh_key wrong_key;
static char oversized_line[OVERSIZED_LINE]; /* filled once in main, read by every worker */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void count(unsigned long *field, unsigned long n)
{
	pthread_mutex_lock(&tally.lock);
	*field += n;
	pthread_mutex_unlock(&tally.lock);
}

static void record_ending(enum ending e, double opened_at)
{
	pthread_mutex_lock(&tally.lock);
	switch (e) {
	case END_REFUSED: tally.refused++; break;
	case END_CLOSED: tally.closed++; break;
	case END_RESET: tally.reset++; break;
	case END_STILL_OPEN: tally.still_open++; break;
	}
	if ((e == END_CLOSED || e == END_RESET) && tally.nholds < HOLD_SAMPLES_MAX)
		tally.holds_ms[tally.nholds++] = now_ms() - opened_at;
	pthread_mutex_unlock(&tally.lock);
}

/* ---- sockets ------------------------------------------------------------ */

static void set_io_timeouts(int fd, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* --rate: waits for this worker's turn (at most one interval per call). */
static void pace(void)
{
	double wait_ms;

	if (opt.rate == 0)
		return;
	pthread_mutex_lock(&pace_lock);
	if (next_dial_ms < now_ms())
		next_dial_ms = now_ms();
	wait_ms = next_dial_ms - now_ms();
	next_dial_ms += 1000.0 / opt.rate;
	pthread_mutex_unlock(&pace_lock);
	if (wait_ms > 0)
		poll(NULL, 0, (int)wait_ms + 1);
}

/* A connected blocking socket (reads/writes time out after IO_TIMEOUT_MS),
 * or -1 when the relay refused or did not answer within IO_TIMEOUT_MS. */
static int dial(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	set_io_timeouts(fd, IO_TIMEOUT_MS); /* on Linux SO_SNDTIMEO bounds connect too */
	if ((opt.has_source && bind(fd, (struct sockaddr *)&opt.source_addr, sizeof opt.source_addr) < 0) ||
	    connect(fd, (struct sockaddr *)&opt.target_addr, sizeof opt.target_addr) < 0) {
		close(fd);
		return -1;
	}
	count(&tally.opened, 1);
	return fd;
}

static int send_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
		count(&tally.bytes_sent, (unsigned long)n);
	}
	return 0;
}

/* Reads and discards until the relay closes, resets, or `until_ms` passes. */
static enum ending await_close(int fd, double until_ms)
{
	char sink[4096];

	for (;;) {
		double left = until_ms - now_ms();
		struct pollfd pfd = { fd, POLLIN, 0 };
		if (left <= 0)
			return END_STILL_OPEN;
		if (poll(&pfd, 1, (int)left + 1) <= 0)
			continue;
		ssize_t n = recv(fd, sink, sizeof sink, MSG_DONTWAIT);
		if (n == 0)
			return END_CLOSED;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return END_RESET;
	}
}

/* After an attack step: the relay's reaction, waited for until the run
 * ends (plus a grace to see the close). */
static enum ending reaction(int fd)
{
	return await_close(fd, run_deadline_ms + DRAIN_GRACE_MS);
}

/* ---- TLS ---------------------------------------------------------------- */

/* An attacker does not verify the relay; a handshake failure is counted. */
static SSL *tls_open(int fd)
{
	SSL *ssl = SSL_new(tls_ctx);

	if (ssl == NULL)
		return NULL;
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1) {
		count(&tally.handshakes_failed, 1);
		SSL_free(ssl);
		ERR_clear_error();
		return NULL;
	}
	return ssl;
}

static int tls_send(SSL *ssl, const void *data, int len)
{
	if (SSL_write(ssl, data, len) != len)
		return -1;
	count(&tally.bytes_sent, (unsigned long)len);
	return 0;
}

/* The bytes of a ClientHello, made once through memory BIOs. */
static int make_client_hello(void)
{
	SSL *ssl = SSL_new(tls_ctx);
	BIO *rbio = BIO_new(BIO_s_mem()), *wbio = BIO_new(BIO_s_mem());
	int n;

	if (ssl == NULL || rbio == NULL || wbio == NULL)
		return -1;
	SSL_set_bio(ssl, rbio, wbio);
	SSL_connect(ssl); /* wants to read the ServerHello: the ClientHello is written */
	n = BIO_read(wbio, client_hello, sizeof client_hello);
	SSL_free(ssl);
	if (n <= 0)
		return -1;
	client_hello_len = (size_t)n;
	return 0;
}

/* ---- one connection per mode --------------------------------------------- */

static enum ending attack_garbage(int fd)
{
	uint8_t junk[GARBAGE_PER_CONN];

	RAND_bytes(junk, sizeof junk);
	if (send_all(fd, junk, sizeof junk) < 0)
		return await_close(fd, now_ms() + IO_TIMEOUT_MS);
	return reaction(fd);
}

static enum ending attack_tls_garbage(int fd)
{
	SSL *ssl = tls_open(fd);
	char line[128];
	enum ending e;

	if (ssl == NULL)
		return await_close(fd, now_ms() + IO_TIMEOUT_MS);
	for (int i = 0; i < JUNK_LINES; i++) {
		char hex[33];
		secret_random_hex(hex, 16);
		int n = snprintf(line, sizeof line, "%s \x01\x7f junk %d\n", hex, i);
		if (tls_send(ssl, line, n) < 0)
			break;
	}
	e = reaction(fd);
	SSL_free(ssl);
	return e;
}

/* Half the opening (ClientHello or SSH banner), then a byte at a time. */
static enum ending attack_slowloris(int fd)
{
	static const char banner[] = "SSH-2.0-OpenSSH_9.2p1 hostile-slowloris-dribbling-its-banner-one-"
	                             "byte-at-a-time-never-reaching-the-end-of-the-line-";
	const uint8_t *opening = opt.ssh ? (const uint8_t *)banner : client_hello;
	size_t len = opt.ssh ? sizeof banner - 1 : client_hello_len, sent = len / 2;

	if (send_all(fd, opening, sent) < 0)
		return await_close(fd, now_ms() + IO_TIMEOUT_MS);
	/* The last byte is never sent: the opening never completes. */
	while (sent + 1 < len) {
		enum ending e = await_close(fd, now_ms() + opt.interval_ms);
		if (e != END_STILL_OPEN || now_ms() >= run_deadline_ms)
			return e == END_STILL_OPEN ? reaction(fd) : e;
		if (send_all(fd, opening + sent, 1) < 0)
			return await_close(fd, now_ms() + IO_TIMEOUT_MS);
		sent++;
	}
	return reaction(fd);
}

static enum ending attack_oversized(int fd)
{
	enum ending e;

	if (opt.ssh) {
		/* A valid banner, then a binary packet claiming 1 GiB. */
		static const char banner[] = "SSH-2.0-OpenSSH_9.2p1\r\n";
		uint8_t packet[1024];
		RAND_bytes(packet, sizeof packet);
		packet[0] = 0x40, packet[1] = packet[2] = packet[3] = 0;
		if (send_all(fd, banner, sizeof banner - 1) < 0 || send_all(fd, packet, sizeof packet) < 0)
			return await_close(fd, now_ms() + IO_TIMEOUT_MS);
		return reaction(fd);
	}
	SSL *ssl = tls_open(fd);
	if (ssl == NULL)
		return await_close(fd, now_ms() + IO_TIMEOUT_MS);
	/* Chunks: the relay may close after the first one. */
	for (size_t off = 0; off < sizeof oversized_line; off += 4096)
		if (tls_send(ssl, oversized_line + off, 4096) < 0)
			break;
	e = reaction(fd);
	SSL_free(ssl);
	return e;
}

static enum ending attack_wrong_codes(int fd)
{
	char code[SESSION_CODE_DIGITS + 1], hello[WIRE_MAX_LINE + 2], reply[WIRE_MAX_LINE + 2];
	SSL *ssl = tls_open(fd);
	enum ending e;
	int n;

	if (ssl == NULL)
		return await_close(fd, now_ms() + IO_TIMEOUT_MS);
	secret_random_digits(code, SESSION_CODE_DIGITS);
	n = wire_format(hello, sizeof hello, "HELLO", "code", code, "host", "hostile", "screen", "demo",
	                (char *)NULL);
	if (n > 0 && tls_send(ssl, hello, n) == 0) {
		n = SSL_read(ssl, reply, sizeof reply - 1);
		if (n > 0) {
			reply[n] = '\0';
			count(&tally.replies, 1);
			if (strncmp(reply, "DENIED", 6) == 0)
				count(strstr(reply, "too%20many") ? &tally.rate_limited : &tally.denied, 1);
		}
	}
	e = await_close(fd, now_ms() + IO_TIMEOUT_MS);
	SSL_free(ssl);
	return e;
}

/* One libssh connection: wrong key, then wrong passwords until refused. */
static void attack_ssh_auth(void)
{
	ssh_session s = ssh_new();
	long timeout_s = IO_TIMEOUT_MS / 1000;
	int no = 0, port = opt.target.port, rc;
	char source[INET_ADDRSTRLEN];
	double opened_at = now_ms();

	if (s == NULL)
		return;
	ssh_options_set(s, SSH_OPTIONS_HOST, opt.target.host);
	ssh_options_set(s, SSH_OPTIONS_PORT, &port);
	ssh_options_set(s, SSH_OPTIONS_USER, opt.user);
	ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout_s);
	ssh_options_set(s, SSH_OPTIONS_STRICTHOSTKEYCHECK, &no);
	ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, "/dev/null");
	ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no);
	if (opt.has_source) {
		inet_ntop(AF_INET, &opt.source_addr.sin_addr, source, sizeof source);
		ssh_options_set(s, SSH_OPTIONS_BINDADDR, source);
	}
	if (ssh_connect(s) != SSH_OK) {
		record_ending(END_REFUSED, opened_at);
		ssh_free(s);
		return;
	}
	count(&tally.opened, 1);
	for (int attempt = 0; now_ms() < run_deadline_ms; attempt++) {
		char password[33];
		count(&tally.auth_attempts, 1);
		if (attempt == 0) {
			rc = ssh_userauth_try_publickey(s, NULL, wrong_key);
		} else {
			secret_random_hex(password, 16);
			rc = ssh_userauth_password(s, NULL, password);
		}
		if (rc == SSH_AUTH_SUCCESS)
			break; /* not expected: the key and passwords are random */
		if (rc == SSH_AUTH_ERROR || !ssh_is_connected(s))
			break;
		count(&tally.auth_denied, 1);
	}
	record_ending(ssh_is_connected(s) ? END_STILL_OPEN : END_CLOSED, opened_at);
	ssh_disconnect(s);
	ssh_free(s);
}

static void *worker(void *arg)
{
	(void)arg;
	while (now_ms() < run_deadline_ms) {
		double opened_at;
		enum ending e;
		int fd;

		pace();
		if (now_ms() >= run_deadline_ms)
			break;
		opened_at = now_ms();
		if (opt.mode == M_SSH_AUTH_FLOOD) {
			attack_ssh_auth();
			continue;
		}
		fd = dial();
		if (fd < 0) {
			record_ending(END_REFUSED, opened_at);
			/* Refused: do not spin; try again shortly. */
			poll(NULL, 0, 50);
			continue;
		}
		switch (opt.mode) {
		case M_GARBAGE: e = attack_garbage(fd); break;
		case M_TLS_GARBAGE: e = attack_tls_garbage(fd); break;
		case M_SLOWLORIS: e = attack_slowloris(fd); break;
		case M_OVERSIZED: e = attack_oversized(fd); break;
		default: e = attack_wrong_codes(fd); break;
		}
		record_ending(e, opened_at);
		close(fd);
	}
	return NULL;
}

/* ---- main ---------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void print_report(double elapsed_ms)
{
	double median = 0, max = 0;

	if (tally.nholds) {
		qsort(tally.holds_ms, tally.nholds, sizeof tally.holds_ms[0], cmp_double);
		median = tally.holds_ms[tally.nholds / 2];
		max = tally.holds_ms[tally.nholds - 1];
	}
	printf("mode=%s proto=%s target=%s:%u seconds=%.1f workers=%d rate_limit=%d opened=%lu bytes_sent=%lu "
	       "refused=%lu closed_by_relay=%lu reset_by_relay=%lu still_open_at_end=%lu "
	       "hold_median_ms=%.0f hold_max_ms=%.0f",
	       mode_names[opt.mode],
	       opt.mode == M_GARBAGE ? "tcp" : (opt.ssh || opt.mode == M_SSH_AUTH_FLOOD) ? "ssh" : "tls", opt.target.host, opt.target.port,
	       elapsed_ms / 1000, opt.connections, opt.rate, tally.opened, tally.bytes_sent, tally.refused,
	       tally.closed, tally.reset, tally.still_open, median, max);
	if (opt.mode == M_TLS_GARBAGE || opt.mode == M_OVERSIZED || opt.mode == M_WRONG_CODES)
		printf(" tls_handshakes_failed=%lu", tally.handshakes_failed);
	if (opt.mode == M_WRONG_CODES)
		printf(" replies=%lu denied_wrong_code=%lu denied_rate_limited=%lu", tally.replies,
		       tally.denied, tally.rate_limited);
	if (opt.mode == M_SSH_AUTH_FLOOD)
		printf(" auth_attempts=%lu auth_denied=%lu", tally.auth_attempts, tally.auth_denied);
	printf("\n");
}

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: hostile_peers --mode MODE --target HOST:PORT [--source ADDR] [--seconds N]\n"
	        "                     [--connections N] [--interval-ms N] [--proto tls|ssh] [--user NAME]\n"
	        "                     [--rate N]\n"
	        "Attacks one relay port for --seconds (default 5, at most %d) with --connections\n"
	        "concurrent connections (default 16, at most %d) and prints how the relay reacted.\n"
	        "MODE: garbage | tls-garbage | slowloris | oversized | wrong-codes | ssh-auth-flood\n"
	        "  --source ADDR     local IPv4 address to connect from (e.g. 127.0.0.66 on loopback)\n"
	        "  --proto tls|ssh   which opening slowloris and oversized speak (default tls)\n"
	        "  --interval-ms N   slowloris: one byte every N ms (default 2000)\n"
	        "  --user NAME       ssh-auth-flood: the login name tried (default dana)\n"
	        "  --rate N          at most N new connections a second, all workers (default 0: no limit)\n"
	        "Exit: 0 ran, 1 could not run, 2 usage.\n",
	        MAX_SECONDS, MAX_CONNECTIONS);
}

static int parse_int(const char *text, int lo, int hi, int *out)
{
	char *end;
	long v = strtol(text, &end, 10);

	if (*text == '\0' || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

static int parse_options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'm' },      { "target", required_argument, NULL, 't' },
		{ "source", required_argument, NULL, 's' },    { "seconds", required_argument, NULL, 'S' },
		{ "connections", required_argument, NULL, 'c' }, { "interval-ms", required_argument, NULL, 'i' },
		{ "proto", required_argument, NULL, 'p' },     { "user", required_argument, NULL, 'u' },
		{ "rate", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },            { NULL, 0, NULL, 0 },
	};
	char err[256];
	int c, have_mode = 0, have_target = 0;

	opt.seconds = 5;
	opt.connections = 16;
	opt.interval_ms = 2000;
	opt.user = "dana";
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			for (size_t i = 0; i < sizeof mode_names / sizeof mode_names[0]; i++)
				if (strcmp(optarg, mode_names[i]) == 0) {
					opt.mode = (enum mode)i;
					have_mode = 1;
				}
			if (!have_mode) {
				fprintf(stderr, "hostile_peers: unknown --mode %s (see --help)\n", optarg);
				return -1;
			}
			break;
		case 't':
			if (host_port_parse(optarg, &opt.target, err, sizeof err) < 0 ||
			    inet_pton(AF_INET, opt.target.host, &opt.target_addr.sin_addr) != 1) {
				fprintf(stderr, "hostile_peers: --target wants IPV4:PORT, e.g. 127.0.0.1:8443\n");
				return -1;
			}
			opt.target_addr.sin_family = AF_INET;
			opt.target_addr.sin_port = htons(opt.target.port);
			have_target = 1;
			break;
		case 's':
			if (inet_pton(AF_INET, optarg, &opt.source_addr.sin_addr) != 1) {
				fprintf(stderr, "hostile_peers: --source wants an IPv4 address, e.g. 127.0.0.66\n");
				return -1;
			}
			opt.source_addr.sin_family = AF_INET;
			opt.has_source = 1;
			break;
		case 'S':
			if (parse_int(optarg, 1, MAX_SECONDS, &opt.seconds) < 0) {
				fprintf(stderr, "hostile_peers: --seconds wants 1..%d\n", MAX_SECONDS);
				return -1;
			}
			break;
		case 'c':
			if (parse_int(optarg, 1, MAX_CONNECTIONS, &opt.connections) < 0) {
				fprintf(stderr, "hostile_peers: --connections wants 1..%d\n", MAX_CONNECTIONS);
				return -1;
			}
			break;
		case 'i':
			if (parse_int(optarg, 1, 60000, &opt.interval_ms) < 0) {
				fprintf(stderr, "hostile_peers: --interval-ms wants 1..60000\n");
				return -1;
			}
			break;
		case 'p':
			if (strcmp(optarg, "tls") != 0 && strcmp(optarg, "ssh") != 0) {
				fprintf(stderr, "hostile_peers: --proto wants tls or ssh\n");
				return -1;
			}
			opt.ssh = strcmp(optarg, "ssh") == 0;
			break;
		case 'u':
			opt.user = optarg;
			break;
		case 'r':
			if (parse_int(optarg, 0, 100000, &opt.rate) < 0) {
				fprintf(stderr, "hostile_peers: --rate wants 0..100000 connections per second\n");
				return -1;
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (!have_mode || !have_target || optind != argc) {
		fprintf(stderr, "hostile_peers: --mode and --target are required (see --help)\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	pthread_t threads[MAX_CONNECTIONS];
	int started = 0;
	double start;

	if (parse_options(argc, argv) < 0)
		return 2;
	signal(SIGPIPE, SIG_IGN); /* a relay closing on us is a result, not a reason to die */
	tls_ctx = SSL_CTX_new(TLS_client_method());
	if (tls_ctx == NULL) {
		fprintf(stderr, "hostile_peers: cannot make a TLS context (OpenSSL)\n");
		return 1;
	}
	SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_NONE, NULL);
	if (make_client_hello() < 0) {
		fprintf(stderr, "hostile_peers: cannot make a ClientHello (OpenSSL)\n");
		return 1;
	}
	if (opt.mode == M_SSH_AUTH_FLOOD) {
		ssh_init();
		if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &wrong_key) != SSH_OK) {
			fprintf(stderr, "hostile_peers: cannot generate an SSH key (libssh)\n");
			return 1;
		}
	}
	memset(oversized_line, 'A', sizeof oversized_line);
	memcpy(oversized_line, "HELLO code=", 11);
	start = now_ms();
	run_deadline_ms = start + opt.seconds * 1000.0;
	for (int i = 0; i < opt.connections; i++) {
		if (pthread_create(&threads[started], NULL, worker, NULL) != 0) {
			fprintf(stderr, "hostile_peers: only %d worker threads started\n", started);
			break;
		}
		started++;
	}
	for (int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	opt.connections = started;
	print_report(now_ms() - start);
	if (wrong_key)
		ssh_key_free(wrong_key);
	SSL_CTX_free(tls_ctx);
	return started > 0 ? 0 : 1;
}
