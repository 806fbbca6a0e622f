/*
 * agent_swarm: many end-user agents against one relay, for the scale and
 * set-up-rate benchmarks (figures, not pass/fail).  One libevent loop, the
 * agent's own dialler (agent/tls_dial: pinned CA, host checked) and wire
 * format (common/wire).
 *
 *   agent_swarm --relay HOST:PORT --ca CA.pem --connections N
 *               [--codes FILE|-] [--parallel K] [--hold SECONDS]
 *               [--tls-only] [--timeout SECONDS] [--json]
 *
 * Set-up: keeps K connections in flight until N are done.  Each one is a
 * full TLS handshake (no session resumption), then `HELLO code=...` with the
 * next code from --codes (one per line; a pipe is read as codes arrive, so
 * bench_codes can hand them over in batches), done at WELCOME.  With
 * --tls-only a connection is done when its handshake is (no code is sent:
 * the same measure against `openssl s_server`); it is closed then, or held
 * with --hold.  Prints one line (or JSON object) with the count, set-up
 * rate (connections/s from the first dial to the last completion) and
 * median/p99 set-up latency, flushed, before holding.
 *
 * Hold: the welcomed agents stay connected --hold seconds, answering the
 * relay's PING with PONG as a real agent does; then a second line says how
 * many are still connected.  Each wait is bounded: --timeout (default 600 s)
 * for the whole set-up, SWARM_STEP_TIMEOUT_S per connection step.
 * Exit: 0 every connection set up (and, with --hold, still connected),
 * 1 otherwise, 2 usage.  Bench tool only: never installed.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../agent/tls_dial.h"
#include "bench_stats.h"
#include "config.h"
#include "tls_context.h"
#include "wire.h"
#include "xmalloc.h"

#define SWARM_MAX_CONNECTIONS 100000ul
#define SWARM_MAX_PARALLEL    1024ul
#define SWARM_MAX_SECONDS     86400.0
#define SWARM_CODE_LINE_MAX   32   /* one line of --codes ("123-456-789") */
#define SWARM_STEP_TIMEOUT_S  30   /* handshake, or HELLO -> WELCOME */
#define SWARM_SPARE_FDS       64   /* descriptors beyond one per connection */

enum agent_state { AGENT_DIALING, AGENT_HELLO_SENT, AGENT_HELD, AGENT_CLOSED };

struct swarm;

struct agent {
	struct swarm *swarm;
	struct bufferevent *bev;
	enum agent_state state;
	unsigned long code;             /* index into swarm->codes */
	double started_ms;
};

struct swarm {
	struct event_base *base;
	SSL_CTX *tls;
	struct host_port relay;
	unsigned long connections, parallel;
	double hold_s, timeout_s;
	int tls_only, json;

	char (*codes)[SWARM_CODE_LINE_MAX + 1];
	unsigned long ncodes, next_code;
	struct bufferevent *codes_in;   /* a pipe or FIFO, read as codes arrive */
	int codes_done;                 /* no more codes will come */

	struct agent *agents;
	unsigned long started, in_flight, ok, failed, lost, pongs;
	double first_ms, last_ms;
	double *latency_ms;             /* of the ok ones */
	struct event *deadline;
	int setup_over;
	char first_error[256];
};

static void note_error(struct swarm *sw, const char *what)
{
	if (sw->first_error[0] == '\0')
		snprintf(sw->first_error, sizeof sw->first_error, "%s", what);
}

static void launch_more(struct swarm *sw);
static void setup_over(struct swarm *sw);

static void agent_close(struct agent *ag)
{
	if (ag->bev)
		bufferevent_free(ag->bev);
	ag->bev = NULL;
	ag->state = AGENT_CLOSED;
}

/* A set-up step ended: ok (latency counted) or failed with `why`. */
static void agent_done(struct agent *ag, int ok, const char *why)
{
	struct swarm *sw = ag->swarm;

	sw->in_flight--;
	if (ok) {
		sw->last_ms = bench_now_ms();
		sw->latency_ms[sw->ok++] = sw->last_ms - ag->started_ms;
		if (ag->state == AGENT_HELD)
			bufferevent_set_timeouts(ag->bev, NULL, NULL);
		else
			agent_close(ag);
	} else {
		sw->failed++;
		note_error(sw, why);
		agent_close(ag);
	}
	if (sw->ok + sw->failed == sw->connections)
		setup_over(sw);
	else
		launch_more(sw);
}

static void send_line(struct bufferevent *bev, const char *verb, const char *key, const char *value)
{
	char line[WIRE_MAX_LINE + 2];
	int n = key ? wire_format(line, sizeof line, verb, key, value, "host", "agent-swarm", (char *)NULL)
	            : wire_format(line, sizeof line, verb, (char *)NULL);

	if (n > 0)
		bufferevent_write(bev, line, (size_t)n);
}

static void on_agent_read(struct bufferevent *bev, void *arg)
{
	struct agent *ag = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct wire_msg msg;
	char *line, why[WIRE_MAX_VALUE + 32];
	size_t n;

	while (ag->state != AGENT_CLOSED && (line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF)) != NULL) {
		int ok = wire_parse(line, n, &msg) == 0;
		free(line);
		if (!ok) {
			if (ag->state == AGENT_HELLO_SENT) {
				agent_done(ag, 0, "the relay sent a malformed line");
			} else {
				agent_close(ag);
				ag->swarm->lost++;
			}
			return;
		}
		if (ag->state == AGENT_HELLO_SENT && strcmp(msg.verb, "WELCOME") == 0) {
			ag->state = AGENT_HELD;
			agent_done(ag, 1, NULL);
		} else if (ag->state == AGENT_HELLO_SENT) {
			snprintf(why, sizeof why, "%s %s", msg.verb,
			         wire_get(&msg, "reason") ? wire_get(&msg, "reason") : "");
			agent_done(ag, 0, why);
		} else if (strcmp(msg.verb, "PING") == 0) {
			send_line(bev, "PONG", NULL, NULL);
			ag->swarm->pongs++;
		}
	}
	if (ag->state != AGENT_CLOSED && evbuffer_get_length(in) > WIRE_MAX_LINE) {
		agent_close(ag);
		ag->swarm->lost++;
	}
}

static void on_agent_event(struct bufferevent *bev, short what, void *arg)
{
	struct agent *ag = arg;
	struct swarm *sw = ag->swarm;
	char why[512];

	if (what & BEV_EVENT_CONNECTED) {
		if (sw->tls_only) {
			if (sw->hold_s > 0)
				ag->state = AGENT_HELD;
			agent_done(ag, 1, NULL);
			return;
		}
		ag->state = AGENT_HELLO_SENT;
		send_line(bev, "HELLO", "code", sw->codes[ag->code]);
		return;
	}
	if (ag->state == AGENT_HELD) {
		agent_close(ag);
		sw->lost++;
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		snprintf(why, sizeof why, "no answer within %d s", SWARM_STEP_TIMEOUT_S);
	else
		tls_dial_failure(bev, &sw->relay, why, sizeof why);
	agent_done(ag, 0, why);
}

/* Dials while fewer than --parallel are in flight and codes are at hand. */
static void launch_more(struct swarm *sw)
{
	struct timeval step = { SWARM_STEP_TIMEOUT_S, 0 };
	char err[256];

	while (!sw->setup_over && sw->in_flight < sw->parallel && sw->started < sw->connections) {
		struct agent *ag = &sw->agents[sw->started];

		if (!sw->tls_only && sw->next_code >= sw->ncodes) {
			if (sw->codes_done && sw->in_flight == 0) {
				note_error(sw, "the codes ran out: give --codes at least --connections codes");
				setup_over(sw);
			}
			return; /* the next batch arrives on the pipe */
		}
		ag->swarm = sw;
		ag->code = sw->next_code++;
		ag->state = AGENT_DIALING;
		ag->started_ms = bench_now_ms();
		if (sw->started++ == 0)
			sw->first_ms = ag->started_ms;
		sw->in_flight++;
		ag->bev = tls_dial(sw->base, sw->tls, &sw->relay, err, sizeof err);
		if (ag->bev == NULL) {
			agent_done(ag, 0, err);
			continue;
		}
		bufferevent_setcb(ag->bev, on_agent_read, NULL, on_agent_event, ag);
		bufferevent_set_timeouts(ag->bev, &step, &step);
		bufferevent_enable(ag->bev, EV_READ | EV_WRITE);
	}
}

static void print_setup(struct swarm *sw)
{
	double secs = sw->ok ? (sw->last_ms - sw->first_ms) / 1000 : 0;
	double rate = secs > 0 ? (double)sw->ok / secs : 0, p50 = 0, p99 = 0;

	if (sw->ok > 0) {
		bench_sort_ms(sw->latency_ms, sw->ok);
		p50 = sw->latency_ms[sw->ok / 2];
		p99 = sw->latency_ms[(sw->ok * 99) / 100 < sw->ok ? (sw->ok * 99) / 100 : sw->ok - 1];
	}
	if (sw->json)
		printf("{\"phase\":\"setup\",\"mode\":\"%s\",\"connections\":%lu,\"parallel\":%lu,"
		       "\"ok\":%lu,\"failed\":%lu,\"seconds\":%.3f,\"per_second\":%.1f,"
		       "\"latency_p50_ms\":%.3f,\"latency_p99_ms\":%.3f}\n",
		       sw->tls_only ? "tls" : "hello", sw->connections, sw->parallel, sw->ok, sw->failed,
		       secs, rate, p50, p99);
	else
		printf("setup: %s %lu of %lu ok (%lu failed), %lu in parallel, %.3f s: %.1f connections/s, "
		       "latency median %.2f ms p99 %.2f ms\n", sw->tls_only ? "TLS handshake" : "HELLO->WELCOME",
		       sw->ok, sw->connections, sw->failed, sw->parallel, secs, rate, p50, p99);
	if (sw->first_error[0])
		fprintf(stderr, "agent_swarm: first failure: %s\n", sw->first_error);
	fflush(stdout);
}

static void print_hold(struct swarm *sw)
{
	unsigned long held = sw->ok >= sw->lost ? sw->ok - sw->lost : 0;

	if (sw->json)
		printf("{\"phase\":\"hold\",\"seconds\":%.0f,\"held\":%lu,\"lost\":%lu,\"pongs\":%lu}\n",
		       sw->hold_s, held, sw->lost, sw->pongs);
	else
		printf("hold: %.0f s, %lu of %lu still connected (%lu lost), %lu PINGs answered\n",
		       sw->hold_s, held, sw->ok, sw->lost, sw->pongs);
	fflush(stdout);
}

static void on_hold_over(evutil_socket_t fd, short what, void *arg)
{
	struct swarm *sw = arg;

	(void)fd;
	(void)what;
	print_hold(sw);
	event_base_loopbreak(sw->base);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct swarm *sw = arg;
	char why[96];

	(void)fd;
	(void)what;
	if (!sw->setup_over) {
		snprintf(why, sizeof why, "set-up not finished within --timeout %.0f s", sw->timeout_s);
		note_error(sw, why);
		sw->failed = sw->connections - sw->ok;
		setup_over(sw);
	}
}

static void setup_over(struct swarm *sw)
{
	int holding = sw->hold_s > 0 && sw->ok > 0;

	if (sw->setup_over)
		return;
	sw->setup_over = 1;
	print_setup(sw);
	if (sw->codes_in) {
		bufferevent_free(sw->codes_in);
		sw->codes_in = NULL;
	}
	for (unsigned long i = 0; i < sw->started; i++)
		if (sw->agents[i].state != AGENT_HELD || !holding)
			agent_close(&sw->agents[i]);
	if (holding) {
		struct timeval hold = { (time_t)sw->hold_s, 0 };
		event_base_once(sw->base, -1, EV_TIMEOUT, on_hold_over, sw, &hold);
	} else {
		event_base_loopbreak(sw->base);
	}
}

/* One code per line, the last field of bench_codes' "SESSION_ID CODE"
 * lines (a bare code works too); blank lines are skipped. */
static int add_code(struct swarm *sw, const char *line, size_t len)
{
	const char *space;

	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	space = memrchr(line, ' ', len);
	if (space) {
		len -= (size_t)(space + 1 - line);
		line = space + 1;
	}
	if (len == 0 || sw->ncodes >= sw->connections)
		return 0;
	if (len > SWARM_CODE_LINE_MAX) {
		fprintf(stderr, "agent_swarm: a line of --codes is longer than %d characters\n",
		        SWARM_CODE_LINE_MAX);
		return -1;
	}
	memcpy(sw->codes[sw->ncodes], line, len);
	sw->codes[sw->ncodes++][len] = '\0';
	return 0;
}

static void on_codes_read(struct bufferevent *bev, void *arg)
{
	struct swarm *sw = arg;
	char *line;
	size_t n;

	while ((line = evbuffer_readln(bufferevent_get_input(bev), &n, EVBUFFER_EOL_LF)) != NULL) {
		int rc = add_code(sw, line, n);
		free(line);
		if (rc < 0) {
			note_error(sw, "bad --codes line");
			sw->codes_done = 1;
			break;
		}
	}
	launch_more(sw);
}

static void on_codes_event(struct bufferevent *bev, short what, void *arg)
{
	struct swarm *sw = arg;

	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		sw->codes_done = 1;
		launch_more(sw);
	}
}

/* A regular file is read whole now; a pipe or FIFO as codes arrive. */
static int open_codes(struct swarm *sw, const char *path)
{
	char line[SWARM_CODE_LINE_MAX + 8];
	struct stat st;
	FILE *f;
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);

	sw->codes = xcalloc(sw->connections, sizeof *sw->codes);
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "agent_swarm: cannot open --codes %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		evutil_make_socket_nonblocking(fd);
		sw->codes_in = bufferevent_socket_new(sw->base, fd, BEV_OPT_CLOSE_ON_FREE);
		bufferevent_setcb(sw->codes_in, on_codes_read, NULL, on_codes_event, sw);
		bufferevent_enable(sw->codes_in, EV_READ);
		return 0;
	}
	f = fdopen(fd, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f))
		if (add_code(sw, line, strcspn(line, "\n")) < 0) {
			fclose(f);
			return -1;
		}
	fclose(f);
	sw->codes_done = 1;
	return 0;
}

/* One descriptor per connection: the soft limit goes up to the hard one. */
static int enough_descriptors(unsigned long connections)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < connections + SWARM_SPARE_FDS) {
		fprintf(stderr, "agent_swarm: %lu connections need %lu descriptors, the limit is %lu: "
		        "raise it with 'ulimit -n' (as root up to /proc/sys/fs/nr_open)\n", connections,
		        connections + SWARM_SPARE_FDS, (unsigned long)rl.rlim_cur);
		return 0;
	}
	return 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: agent_swarm --relay HOST:PORT --ca CA.pem --connections N [--codes FILE|-]\n"
	           "                   [--parallel K] [--hold SECONDS] [--tls-only] [--timeout SECONDS]\n"
	           "                   [--json]\n"
	           "Connects N agents (K at a time), prints the set-up rate, holds them idle.\n");
}

static int parse_number(const char *text, double max, double *out)
{
	char *end;
	double v = strtod(text, &end);

	if (*text == '\0' || *end != '\0' || !(v >= 0) || v > max)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "relay", required_argument, NULL, 'r' },    { "ca", required_argument, NULL, 'a' },
		{ "codes", required_argument, NULL, 'c' },    { "connections", required_argument, NULL, 'n' },
		{ "parallel", required_argument, NULL, 'p' }, { "hold", required_argument, NULL, 'H' },
		{ "tls-only", no_argument, NULL, 't' },       { "timeout", required_argument, NULL, 'T' },
		{ "json", no_argument, NULL, 'j' },           { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct swarm sw = { .parallel = 1, .timeout_s = 600 };
	const char *relay = NULL, *ca = NULL, *codes = NULL;
	double connections = 0, parallel = 1;
	char err[512];
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int bad = 0;
		switch (c) {
		case 'r': relay = optarg; break;
		case 'a': ca = optarg; break;
		case 'c': codes = optarg; break;
		case 'n': bad = parse_number(optarg, SWARM_MAX_CONNECTIONS, &connections); break;
		case 'p': bad = parse_number(optarg, SWARM_MAX_PARALLEL, &parallel); break;
		case 'H': bad = parse_number(optarg, SWARM_MAX_SECONDS, &sw.hold_s); break;
		case 'T': bad = parse_number(optarg, SWARM_MAX_SECONDS, &sw.timeout_s); break;
		case 't': sw.tls_only = 1; break;
		case 'j': sw.json = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		if (bad) {
			fprintf(stderr, "agent_swarm: not a number in range: %s\n", optarg);
			return 2;
		}
	}
	sw.connections = (unsigned long)connections;
	sw.parallel = (unsigned long)parallel;
	if (relay == NULL || ca == NULL || sw.connections == 0 || sw.parallel == 0 || optind != argc ||
	    (codes == NULL) != (sw.tls_only != 0)) {
		if (codes == NULL && !sw.tls_only)
			fprintf(stderr, "agent_swarm: give --codes FILE (or --tls-only)\n");
		usage(stderr);
		return 2;
	}
	if (host_port_parse(relay, &sw.relay, err, sizeof err) < 0) {
		fprintf(stderr, "agent_swarm: --relay: %s\n", err);
		return 2;
	}
	if (!enough_descriptors(sw.connections))
		return 1;
	sw.tls = tls_client_context_new(ca, err, sizeof err);
	if (sw.tls == NULL) {
		fprintf(stderr, "agent_swarm: %s\n", err);
		return 1;
	}
	/* Every connection a full handshake; idle ones give their buffers back. */
	SSL_CTX_set_session_cache_mode(sw.tls, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(sw.tls, SSL_MODE_RELEASE_BUFFERS);
	sw.base = event_base_new();
	sw.agents = xcalloc(sw.connections, sizeof *sw.agents);
	sw.latency_ms = xcalloc(sw.connections, sizeof *sw.latency_ms);
	if (codes && open_codes(&sw, codes) < 0)
		return 1;
	struct timeval limit = { (time_t)sw.timeout_s, 0 };
	sw.deadline = evtimer_new(sw.base, on_deadline, &sw);
	evtimer_add(sw.deadline, &limit);
	launch_more(&sw);
	event_base_dispatch(sw.base);

	rc = sw.ok == sw.connections && sw.lost == 0 ? 0 : 1;
	for (unsigned long i = 0; i < sw.started; i++)
		agent_close(&sw.agents[i]);
	if (sw.codes_in)
		bufferevent_free(sw.codes_in);
	event_free(sw.deadline);
	event_base_free(sw.base);
	SSL_CTX_free(sw.tls);
	free(sw.agents);
	free(sw.latency_ms);
	free(sw.codes);
	return rc;
}
