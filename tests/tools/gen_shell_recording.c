/*
 * gen_shell_recording: writes a small, fixed shell-session recording with
 * the real recording writer, for the export tests.
 *
 *   gen_shell_recording KEY.pem OUT.cncgrec [TICKET [SESSION]]
 *
 * Content (times in seconds): START, JOIN dana (shell), RECORDER shell
 * 2001 start, dana's SHELL_RESIZE 100x30, prompt, dana types "echo héllo",
 * output with a UTF-8 character split across two records, invalid bytes
 * (0xff 0xfe), a lone continuation byte, an ESC sequence, a quote, a
 * backslash and a tab, a resize to 120x40, "exit", RECORDER stop, END.
 * A checkpoint follows every record, so a file cut anywhere keeps a
 * verified prefix.
 * The shell leg's output, as the asciicast must carry it (U+FFFD for each
 * invalid byte) is printed on stdout as JSON string text for the test to
 * compare.  Exit 0, 1 on any failure (message on stderr).  Test tool only.
 */
#include <stdio.h>
#include <string.h>

#include "recording.h"

#define US 1000000ull
#define SHELL_LEG 2001
#define DANA_STREAM 1

struct step {
	uint64_t time_us;
	enum recording_type type;
	uint16_t stream;
	const char *participant;
	const char *data;
	size_t len; /* 0: strlen(data) */
};

int main(int argc, char **argv)
{
	static const unsigned char size_100x30[] = { 0, 100, 0, 30 };
	static const unsigned char size_120x40[] = { 0, 120, 0, 40 };
	const char *ticket = argc > 3 ? argv[3] : "INC0000042";
	const char *session = argc > 4 ? argv[4] : "s0000abcd";
	char start[128], err[512];
	struct recording_params params;
	struct recording_writer *w;
	EVP_PKEY *key;

	if (argc < 3) {
		fprintf(stderr, "usage: gen_shell_recording KEY.pem OUT.cncgrec [TICKET [SESSION]]\n");
		return 2;
	}
	snprintf(start, sizeof start, "START ticket=%s session=%s resumed=0", ticket, session);
	const struct step steps[] = {
		{ 0, RECORDING_EVENT, 0, NULL, start, 0 },
		{ US / 10, RECORDING_EVENT, 0, NULL,
		  "JOIN participant=1 user=dana role=desk kind=shell rights=shell", 0 },
		{ US / 5, RECORDING_EVENT, 0, NULL, "RECORDER kind=shell stream=2001 state=start", 0 },
		{ 3 * US / 10, RECORDING_SHELL_RESIZE, DANA_STREAM, "dana", (const char *)size_100x30, 4 },
		{ US / 2, RECORDING_SHELL_OUTPUT, SHELL_LEG, NULL, "dana@lab:~$ ", 0 },
		{ US, RECORDING_SHELL_INPUT, DANA_STREAM, "dana", "echo h\xc3\xa9llo\r", 0 },
		{ 11 * US / 10, RECORDING_SHELL_OUTPUT, SHELL_LEG, NULL, "echo h\xc3", 0 },
		{ 12 * US / 10, RECORDING_SHELL_OUTPUT, SHELL_LEG, NULL, "\xa9llo\r\nh\xc3\xa9llo\r\n", 0 },
		{ 13 * US / 10, RECORDING_SHELL_OUTPUT, SHELL_LEG, NULL,
		  "bad:\xff\xfe stray:\x80 \x1b[1mbold\x1b[0m \"q\" back\\slash\ttab\r\n", 0 },
		{ 2 * US, RECORDING_SHELL_RESIZE, DANA_STREAM, "dana", (const char *)size_120x40, 4 },
		{ 3 * US, RECORDING_SHELL_OUTPUT, SHELL_LEG, NULL, "dana@lab:~$ exit\r\n", 0 },
		{ 35 * US / 10, RECORDING_EVENT, 0, NULL, "RECORDER kind=shell stream=2001 state=stop", 0 },
		{ 4 * US, RECORDING_EVENT, 0, NULL, "END reason=done by=dana", 0 },
	};

	key = recording_load_key(argv[1], err, sizeof err);
	if (key == NULL) {
		fprintf(stderr, "gen_shell_recording: %s\n", err);
		return 1;
	}
	recording_params_default(&params);
	params.checkpoint_ms = 0; /* a checkpoint after every record: tests can cut anywhere */
	w = recording_writer_open(argv[2], ticket, session, key, &params, err, sizeof err);
	if (w == NULL) {
		fprintf(stderr, "gen_shell_recording: %s\n", err);
		EVP_PKEY_free(key);
		return 1;
	}
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		const struct step *s = &steps[i];
		size_t len = s->len ? s->len : strlen(s->data);
		if (recording_writer_append(w, s->type, s->stream, s->participant, 0, s->time_us, s->data, len,
		                            err, sizeof err) < 0) {
			fprintf(stderr, "gen_shell_recording: %s\n", err);
			EVP_PKEY_free(key);
			return 1;
		}
	}
	if (recording_writer_close(w, NULL, err, sizeof err) < 0) {
		fprintf(stderr, "gen_shell_recording: %s\n", err);
		EVP_PKEY_free(key);
		return 1;
	}
	EVP_PKEY_free(key);
	/* What the asciicast's "o" events must join to, as JSON string text. */
	printf("dana@lab:~$ echo h\xc3\xa9llo\\r\\nh\xc3\xa9llo\\r\\n"
	       "bad:\\ufffd\\ufffd stray:\\ufffd \\u001b[1mbold\\u001b[0m \\\"q\\\" back\\\\slash\\ttab\\r\\n"
	       "dana@lab:~$ exit\\r\\n\n");
	return 0;
}
