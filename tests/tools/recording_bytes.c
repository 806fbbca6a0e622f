/*
 * recording_bytes: how many payload bytes of each kind the given session
 * recordings hold, so the load test can compare them with what the agents
 * sent and the participants received.  Test tool only: never installed.
 *
 *   recording_bytes FILE...
 *
 * Reads every data record with the recording reader (the hash chain is
 * checked on the way; signatures are not: run `concierge recording verify`
 * for that).  Prints one line per file and a total line:
 *   FILE rfb_server=N shell_output=N shell_input=N input=N events=N complete=0|1
 *   total files=N rfb_server=N shell_output=N shell_input=N input=N events=N complete=N
 * where rfb_server counts the recorder legs' RFB server->client bytes,
 * shell_output the shell output, shell_input the participants' shell input,
 * input the RFB key/pointer/clipboard messages and events the event texts;
 * complete says whether the trailer was reached.
 * Exit 0; 1 when a file cannot be read or is damaged; 2 on usage errors.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "recording.h"

struct totals {
	uint64_t rfb_server, shell_output, shell_input, input, events;
};

static void add_record(struct totals *t, const struct recording_record *rec)
{
	switch (rec->type) {
	case RECORDING_RFB_SERVER_BYTES: t->rfb_server += rec->len; break;
	case RECORDING_SHELL_OUTPUT: t->shell_output += rec->len; break;
	case RECORDING_SHELL_INPUT: t->shell_input += rec->len; break;
	case RECORDING_INPUT_KEY:
	case RECORDING_INPUT_POINTER:
	case RECORDING_INPUT_CUT_TEXT: t->input += rec->len; break;
	case RECORDING_EVENT: t->events += rec->len; break;
	default: break;
	}
}

static void print_totals(const char *label, const struct totals *t)
{
	printf("%s rfb_server=%" PRIu64 " shell_output=%" PRIu64 " shell_input=%" PRIu64 " input=%" PRIu64
	       " events=%" PRIu64, label, t->rfb_server, t->shell_output, t->shell_input, t->input, t->events);
}

/* Adds the file's records to *sum; 1 when its trailer was reached, 0 when
 * it just stops, -1 when it cannot be read. */
static int count_file(const char *path, struct totals *sum)
{
	struct recording_reader *r;
	struct recording_record rec;
	struct totals t = { 0 };
	char err[512];
	int rc, complete;

	if (recording_reader_open(path, &r, err, sizeof err) < 0) {
		fprintf(stderr, "recording_bytes: %s\n", err);
		return -1;
	}
	while ((rc = recording_reader_next(r, &rec, err, sizeof err)) == 1)
		add_record(&t, &rec);
	complete = recording_reader_complete(r);
	recording_reader_close(r);
	if (rc < 0) {
		fprintf(stderr, "recording_bytes: %s: %s\n", path, err);
		return -1;
	}
	print_totals(path, &t);
	printf(" complete=%d\n", complete);
	sum->rfb_server += t.rfb_server;
	sum->shell_output += t.shell_output;
	sum->shell_input += t.shell_input;
	sum->input += t.input;
	sum->events += t.events;
	return complete;
}

int main(int argc, char **argv)
{
	struct totals sum = { 0 };
	int failed = 0, complete = 0;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fprintf(argc < 2 ? stderr : stdout, "usage: recording_bytes FILE...\n"
		        "Prints the payload bytes of each kind in session recordings, per file and in total.\n");
		return argc < 2 ? 2 : 0;
	}
	for (int i = 1; i < argc; i++) {
		int rc = count_file(argv[i], &sum);
		if (rc < 0)
			failed = 1;
		else
			complete += rc;
	}
	printf("total files=%d", argc - 1);
	print_totals("", &sum);
	printf(" complete=%d\n", complete);
	return failed;
}
