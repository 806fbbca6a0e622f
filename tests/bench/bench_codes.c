/*
 * bench_codes: creates N waiting sessions straight in the relay's database
 * (sessions_create, as `ssh relay session new` does, without the SSH round
 * trip) and prints one "SESSION_ID CODE" line each, for load_agent.
 *
 *   bench_codes --db PATH --user NAME --ticket ID --count N [--ttl S] [--json]
 *               [--batch B [--claim-timeout S]]
 * With --batch, codes come in batches of B, each created once every earlier
 * one was claimed (an agent swarm reading a pipe), so N may exceed the 1000
 * sessions that can wait at once.
 * Exit: 0 all created, 1 failed (stderr says why), 2 usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sessions.h"
#include "store.h"

/* Session codes start with a 3-digit public locator that is unique among
 * WAITING sessions (server/sessions.c), so at most 1000 can wait at once. */
#define WAITING_MAX 1000
#define BATCH_MAX   900           /* a free locator is still found at once */
#define COUNT_MAX   100000
#define CLAIM_POLL_NS 50000000L   /* how often a batch's claims are checked */
#define CREATE_TRIES  8

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: bench_codes --db PATH --user NAME --ticket ID --count N [--ttl S] [--json]\n"
	        "Creates N waiting sessions for ticket ID on behalf of staff user NAME directly in the\n"
	        "relay database PATH (the relay may be running) and prints one line per session:\n"
	        "  SESSION_ID CODE            (or a JSON array with --json)\n"
	        "Feed the lines to load_agent (it claims the codes as agents).\n"
	        "  --ttl S   seconds the codes stay valid (default 600, at most %d)\n"
	        "Limit: a code's first 3 digits locate it among WAITING sessions and must be unique,\n"
	        "so at most %d sessions can wait at once (claimed ones no longer count).  The\n"
	        "locator is picked at random with 32 tries, so above ~700 waiting sessions a pick\n"
	        "may fail: for more sessions create them in batches of <= 500 and let load_agent\n"
	        "claim each batch first, or use:\n"
	        "  --batch B          print B (<= %d) at a time, each batch once the previous one is\n"
	        "                     claimed (N up to %d; read the lines from a pipe as they come)\n"
	        "  --claim-timeout S  how long to wait for a batch to be claimed (default 120)\n"
	        "Exit: 0 ok, 1 failure, 2 usage.\n",
	        CFG_MAX_CODE_TTL_S, WAITING_MAX, BATCH_MAX, COUNT_MAX);
}

static int waiting_now(struct store *store, long *count, char *err, size_t errlen)
{
	char text[32];
	int rc = store_query_text(store, "cannot count waiting sessions",
	                          "SELECT count(*) FROM sessions WHERE state = 'waiting'", 0, NULL, text,
	                          sizeof text, err, errlen);

	if (rc < 0)
		return -1;
	*count = rc == 0 ? 0 : atol(text);
	return 0;
}

/* Waits until no session waits any more (the previous batch was claimed). */
static int wait_all_claimed(struct store *store, long timeout_s, char *err, size_t errlen)
{
	struct timespec poll = { 0, CLAIM_POLL_NS };
	time_t deadline = time(NULL) + timeout_s;
	long waiting;

	for (;;) {
		if (waiting_now(store, &waiting, err, errlen) < 0)
			return -1;
		if (waiting == 0)
			return 0;
		if (time(NULL) >= deadline) {
			snprintf(err, errlen, "%ld sessions still waiting after %ld s: is an agent swarm reading "
			         "the codes?", waiting, timeout_s);
			return -1;
		}
		nanosleep(&poll, NULL);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },     { "user", required_argument, NULL, 'u' },
		{ "ticket", required_argument, NULL, 't' }, { "count", required_argument, NULL, 'n' },
		{ "ttl", required_argument, NULL, 'T' },    { "json", no_argument, NULL, 'j' },
		{ "batch", required_argument, NULL, 'b' },  { "claim-timeout", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
	};
	const char *db = NULL, *user = NULL, *ticket = NULL;
	long count = -1, ttl = 600, waiting, batch = 0, claim_timeout = 120;
	int json = 0, c;
	struct store *store = NULL;
	char err[512];

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'u': user = optarg; break;
		case 't': ticket = optarg; break;
		case 'n': count = strtol(optarg, NULL, 10); break;
		case 'T': ttl = strtol(optarg, NULL, 10); break;
		case 'j': json = 1; break;
		case 'b': batch = strtol(optarg, NULL, 10); break;
		case 'w': claim_timeout = strtol(optarg, NULL, 10); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || !db || !user || !ticket || count < 1 || count > COUNT_MAX || ttl < 1 ||
	    ttl > CFG_MAX_CODE_TTL_S || batch < 0 || batch > BATCH_MAX || claim_timeout < 1) {
		usage(stderr);
		return 2;
	}
	if (batch == 0 && count > WAITING_MAX) {
		fprintf(stderr, "bench_codes: --count %ld is more than the %d sessions that can wait at once "
		        "(3-digit code locator): create at most %d, connect their agents, then create more\n",
		        count, WAITING_MAX, WAITING_MAX);
		return 1;
	}
	if (store_open(db, STORE_OPEN_EXISTING, &store, err, sizeof err) < 0) {
		fprintf(stderr, "bench_codes: %s\n", err);
		return 1;
	}
	if (waiting_now(store, &waiting, err, sizeof err) < 0) {
		fprintf(stderr, "bench_codes: %s\n", err);
		store_close(store);
		return 1;
	}
	if (waiting + (batch ? batch : count) > WAITING_MAX) {
		fprintf(stderr, "bench_codes: %ld sessions already wait and %ld more would exceed the %d "
		        "that can wait at once (3-digit code locator): let agents claim or end some first\n",
		        waiting, count, WAITING_MAX);
		store_close(store);
		return 1;
	}
	if (json)
		printf("[");
	for (long i = 0; i < count; i++) {
		struct session_created s;
		if (batch && i > 0 && i % batch == 0 &&
		    (fflush(stdout) != 0 || wait_all_claimed(store, claim_timeout, err, sizeof err) < 0)) {
			if (json)
				printf("]\n");
			fprintf(stderr, "bench_codes: %s\n", err);
			store_close(store);
			return 1;
		}
		int rc = -1;
		/* A random locator may collide with a waiting one: try again. */
		for (int try = 0; try < CREATE_TRIES && rc < 0; try++)
			rc = sessions_create(store, user, ticket, (unsigned)ttl, &s, err, sizeof err);
		if (rc < 0) {
			if (json)
				printf("]\n");
			fflush(stdout);
			fprintf(stderr, "bench_codes: session %ld of %ld: %s\n", i + 1, count, err);
			store_close(store);
			return 1;
		}
		if (json)
			printf("%s{\"session\":\"%s\",\"code\":\"%s\"}", i ? "," : "", s.id, s.code);
		else
			printf("%s %s\n", s.id, s.code);
	}
	if (json)
		printf("]\n");
	store_close(store);
	return fflush(stdout) == 0 ? 0 : 1;
}
