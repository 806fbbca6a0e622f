/*
 * bench_codes: session codes for the agent benchmarks (figures, not tests).
 * Creates --count waiting sessions for --ticket on behalf of desk user
 * --user, straight in the relay's database (server/sessions.h, the same
 * call `session new` makes), and prints one code per line on stdout.
 *
 *   bench_codes --db PATH --user NAME --ticket ID --count N [--batch B]
 *               [--ttl SECONDS] [--claim-timeout SECONDS]
 *
 * A code's 3-digit locator is unique among WAITING sessions, so codes come
 * in batches of at most --batch (default 800 of the 1000 locators, where a
 * free one is still found at once): after printing a batch (flushed) the
 * tool waits until no session is waiting any more (an agent swarm reading
 * the pipe has claimed them all) before it creates the next one.  That wait
 * is bounded by --claim-timeout (default 120 s).  Relay and tool share the
 * database safely (SQLite WAL, busy timeout).
 *
 * The codes are secrets of throw-away benchmark sessions; they go to stdout
 * only.  Exit: 0 all printed, 1 failed (database, timeout), 2 usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sessions.h"
#include "store.h"

#define CODES_MAX_COUNT    100000u
#define CODES_MAX_BATCH    900u      /* below the 1000 locators */
#define CODES_CREATE_TRIES 8         /* a locator draw may still collide */
#define CODES_POLL_NS      50000000L /* waiting-session poll period */

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_codes --db PATH --user NAME --ticket ID --count N [--batch B]\n"
	           "                   [--ttl SECONDS] [--claim-timeout SECONDS]\n"
	           "Prints N session codes, in batches of B (<= %u) each created once the\n"
	           "previous batch is claimed.\n", CODES_MAX_BATCH);
}

static int parse_count(const char *text, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v = strtoul(text, &end, 10);

	if (*text == '\0' || *end != '\0' || v == 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Sessions still waiting for their agent, or -1. */
static long waiting_sessions(struct store *store, char *err, size_t errlen)
{
	char count[32];

	if (store_query_text(store, "cannot count waiting sessions",
	                     "SELECT count(*) FROM sessions WHERE state = 'waiting'", 0, NULL, count,
	                     sizeof count, err, errlen) < 0)
		return -1;
	return strtol(count, NULL, 10);
}

static int wait_all_claimed(struct store *store, unsigned long timeout_s, char *err, size_t errlen)
{
	struct timespec poll = { 0, CODES_POLL_NS };
	time_t deadline = time(NULL) + (time_t)timeout_s;
	long waiting;

	while ((waiting = waiting_sessions(store, err, errlen)) > 0) {
		if (time(NULL) >= deadline) {
			snprintf(err, errlen, "%ld sessions still waiting after %lu s: is the agent swarm "
			         "reading the codes?", waiting, timeout_s);
			return -1;
		}
		nanosleep(&poll, NULL);
	}
	return waiting < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },    { "user", required_argument, NULL, 'u' },
		{ "ticket", required_argument, NULL, 't' }, { "count", required_argument, NULL, 'n' },
		{ "batch", required_argument, NULL, 'b' }, { "ttl", required_argument, NULL, 'l' },
		{ "claim-timeout", required_argument, NULL, 'w' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = NULL, *user = NULL, *ticket = NULL;
	unsigned long count = 0, batch = 800, ttl = 3600, claim_timeout = 120;
	struct session_created created;
	struct store *store = NULL;
	char err[512];
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int bad = 0;
		switch (c) {
		case 'd': db = optarg; break;
		case 'u': user = optarg; break;
		case 't': ticket = optarg; break;
		case 'n': bad = parse_count(optarg, CODES_MAX_COUNT, &count); break;
		case 'b': bad = parse_count(optarg, CODES_MAX_BATCH, &batch); break;
		case 'l': bad = parse_count(optarg, 86400, &ttl); break;
		case 'w': bad = parse_count(optarg, 3600, &claim_timeout); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		if (bad) {
			fprintf(stderr, "bench_codes: not a number in range: %s\n", optarg);
			usage(stderr);
			return 2;
		}
	}
	if (db == NULL || user == NULL || ticket == NULL || count == 0 || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (store_open(db, STORE_OPEN_EXISTING, &store, err, sizeof err) < 0) {
		fprintf(stderr, "bench_codes: %s\n", err);
		return 1;
	}
	for (unsigned long made = 0; made < count;) {
		if (made > 0 && wait_all_claimed(store, claim_timeout, err, sizeof err) < 0)
			goto fail;
		for (unsigned long i = 0; i < batch && made < count; i++, made++) {
			int rc = -1;
			for (int try = 0; try < CODES_CREATE_TRIES && rc < 0; try++)
				rc = sessions_create(store, user, ticket, (unsigned)ttl, &created, err, sizeof err);
			if (rc < 0)
				goto fail;
			printf("%s\n", created.code);
		}
		if (fflush(stdout) != 0) {
			snprintf(err, sizeof err, "cannot write the codes (reader gone?)");
			goto fail;
		}
	}
	store_close(store);
	return 0;
fail:
	fprintf(stderr, "bench_codes: %s\n", err);
	store_close(store);
	return 1;
}
