/*
 * gen_shell_hour: a long synthetic shell-session recording for the export
 * benchmark (bench_replay.sh), written with the real recording writer on a
 * synthetic clock.  START, a desk agent's JOIN, the shell leg's RECORDER
 * start, a 120x40 resize, then for --seconds: a line of coloured output
 * every OUTPUT_EVERY_US and a typed command every INPUT_EVERY_US; RECORDER
 * stop and END.
 *
 *   gen_shell_hour --key relay.key --out FILE [--seconds N]
 *
 * Exit 0 written, 1 failed (message on stderr), 2 usage.  Bench tool only.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recording.h"

#define US              ((uint64_t)1000000)
#define SHELL_LEG       2001
#define DESK_STREAM     1
#define OUTPUT_EVERY_US (US / 2)
#define INPUT_EVERY_US  (5 * US)
#define MAX_SECONDS     (100u * 3600u)

static int append(struct recording_writer *w, enum recording_type type, uint16_t stream,
                  const char *participant, uint64_t t, const void *data, size_t len)
{
	char err[512];

	if (recording_writer_append(w, type, stream, participant, 0, t, data, len, err, sizeof err) < 0) {
		fprintf(stderr, "gen_shell_hour: %s\n", err);
		return -1;
	}
	return 0;
}

static int event(struct recording_writer *w, uint64_t t, const char *text)
{
	return append(w, RECORDING_EVENT, 0, NULL, t, text, strlen(text));
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },     { "out", required_argument, NULL, 'o' },
		{ "seconds", required_argument, NULL, 's' }, { NULL, 0, NULL, 0 },
	};
	static const unsigned char size_120x40[] = { 0, 120, 0, 40 };
	const char *key_path = NULL, *out = NULL;
	unsigned long seconds = 3600;
	struct recording_params params;
	struct recording_writer *w;
	char err[512], line[256], *end;
	EVP_PKEY *key;
	uint64_t t, stop_us;
	int c, rc = 1;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'k': key_path = optarg; break;
		case 'o': out = optarg; break;
		case 's':
			seconds = strtoul(optarg, &end, 10);
			if (*end || seconds == 0 || seconds > MAX_SECONDS)
				goto usage;
			break;
		default: goto usage;
		}
	}
	if (key_path == NULL || out == NULL || optind != argc)
		goto usage;
	key = recording_load_key(key_path, err, sizeof err);
	if (key == NULL) {
		fprintf(stderr, "gen_shell_hour: %s\n", err);
		return 1;
	}
	recording_params_default(&params);
	w = recording_writer_open(out, "INC0000077", "s0000beef", key, &params, err, sizeof err);
	if (w == NULL) {
		fprintf(stderr, "gen_shell_hour: %s\n", err);
		EVP_PKEY_free(key);
		return 1;
	}
	stop_us = seconds * US;
	if (event(w, 0, "START ticket=INC0000077 session=s0000beef resumed=0") < 0 ||
	    event(w, US / 10, "JOIN participant=1 user=dana role=desk kind=shell rights=shell") < 0 ||
	    event(w, US / 5, "RECORDER kind=shell stream=2001 state=start") < 0 ||
	    append(w, RECORDING_SHELL_RESIZE, DESK_STREAM, "dana", US / 4, size_120x40, 4) < 0)
		goto out;
	for (t = US / 2; t < stop_us; t += OUTPUT_EVERY_US) {
		uint64_t n = t / OUTPUT_EVERY_US;
		int len = snprintf(line, sizeof line,
		                   "\x1b[32m%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64 "\x1b[0m worker[%" PRIu64
		                   "] processed batch %" PRIu64 ": 128 items, 0 errors, queue depth %" PRIu64
		                   " \xe2\x9c\x93\r\n", t / US / 3600, t / US / 60 % 60, t / US % 60, n % 7, n,
		                   n * 7919 % 1000);
		if (append(w, RECORDING_SHELL_OUTPUT, SHELL_LEG, NULL, t, line, (size_t)len) < 0)
			goto out;
		if (t % INPUT_EVERY_US == 0 &&
		    append(w, RECORDING_SHELL_INPUT, DESK_STREAM, "dana", t + 1, "tail -n 20 app.log\r", 19) < 0)
			goto out;
	}
	if (event(w, stop_us, "RECORDER kind=shell stream=2001 state=stop") < 0 ||
	    event(w, stop_us + 1, "END reason=done by=dana") < 0)
		goto out;
	if (recording_writer_close(w, NULL, err, sizeof err) < 0) {
		fprintf(stderr, "gen_shell_hour: %s\n", err);
		w = NULL;
		goto out;
	}
	w = NULL;
	rc = 0;
out:
	if (w != NULL)
		recording_writer_close(w, NULL, err, sizeof err);
	EVP_PKEY_free(key);
	return rc;
usage:
	fprintf(stderr, "usage: gen_shell_hour --key relay.key --out FILE [--seconds N]\n");
	return 2;
}
