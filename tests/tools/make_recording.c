/*
 * make_recording: writes a small but real session recording with the
 * relay's recording writer, for the end-to-end tests of the auditor's
 * commands.  Test tool only: never installed.
 *
 *   make_recording --out PATH --key PEM [--ticket T]
 *                  (--session S | --db DB --user NAME) [--layout] [--bad-signature]
 *
 * Content (times in microseconds): START; alice (desk) asks for control,
 * is allowed and joins; a screen recorder leg starts with a few synthetic
 * RFB bytes; [checkpoint A]; alice types "echo Hi" + Return (Shift held for
 * the H); bob (desk) joins view-only and his key 'x' and click are DROPPED;
 * alice clicks button 1 at 100,200 and puts "secret\nline2" on the
 * clipboard; [checkpoint B]; alice's shell input "whoami\r" and a resize to
 * 80x24; both leave; the leg stops; END.  Checkpoints are only those two
 * (plus the writer's first one and the trailer), so tests know where the
 * file can be cut.
 *
 * With --db the session is created in DB for NAME (sessions_create; the
 * ticket is opened when missing) and the file is registered like the relay
 * does (recordings_begin, participants, recordings_finish complete).
 * Prints "session=S id=N" (id 0 without --db), then with --layout one line
 * per record: "record INDEX OFFSET SIZE TYPE" and, for the two explicit
 * checkpoints, "checkpoint NAME INDEX END_OFFSET RECORDS_SO_FAR".
 * --bad-signature flips a byte of the trailer's signature and recomputes the
 * trailer's chain value, so that only the signature is wrong.
 * Exit 0, 1 on failure, 2 on usage errors.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "recording.h"
#include "recordings.h"
#include "sessions.h"
#include "store.h"
#include "wire.h"

struct maker {
	struct recording_writer *w;
	int layout;
	char err[512];
};

static void die(const char *what, const char *err)
{
	fprintf(stderr, "make_recording: %s: %s\n", what, err);
	exit(1);
}

static void append(struct maker *m, enum recording_type type, uint16_t stream, const char *who,
                   uint8_t flags, uint64_t t, const void *payload, size_t len)
{
	uint64_t index = recording_writer_records(m->w), offset = recording_writer_bytes(m->w);

	if (recording_writer_append(m->w, type, stream, who, flags, t, payload, len, m->err,
	                            sizeof m->err) != 0)
		die("append", m->err);
	if (m->layout)
		printf("record %" PRIu64 " %" PRIu64 " %" PRIu64 " %s\n", index, offset,
		       recording_writer_bytes(m->w) - offset, recording_type_name(type));
}

/* EVENT: VERB then NULL-terminated key, value pairs. */
static void event(struct maker *m, uint64_t t, const char *verb, ...)
{
	const char *kv[16] = { 0 };
	char line[WIRE_MAX_LINE + 2];
	va_list ap;
	int n = 0, len;

	va_start(ap, verb);
	while (n < 14 && (kv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	len = wire_format(line, sizeof line, verb, kv[0], kv[1], kv[2], kv[3], kv[4], kv[5], kv[6], kv[7],
	                  kv[8], kv[9], kv[10], kv[11], kv[12], kv[13], (char *)NULL);
	if (len <= 0)
		die("event", "does not fit a wire line");
	append(m, RECORDING_EVENT, 0, NULL, 0, t, line, (size_t)len - 1); /* without the newline */
}

static void key(struct maker *m, uint16_t stream, const char *who, uint8_t flags, uint64_t t,
                uint32_t keysym, int down)
{
	unsigned char k[8] = { 4, (unsigned char)down, 0, 0, (unsigned char)(keysym >> 24),
		               (unsigned char)(keysym >> 16), (unsigned char)(keysym >> 8),
		               (unsigned char)keysym };

	append(m, RECORDING_INPUT_KEY, stream, who, flags, t, k, sizeof k);
}

static void pointer(struct maker *m, uint16_t stream, const char *who, uint8_t flags, uint64_t t,
                    unsigned mask, unsigned x, unsigned y)
{
	unsigned char p[6] = { 5, (unsigned char)mask, (unsigned char)(x >> 8), (unsigned char)x,
		               (unsigned char)(y >> 8), (unsigned char)y };

	append(m, RECORDING_INPUT_POINTER, stream, who, flags, t, p, sizeof p);
}

static void checkpoint(struct maker *m, const char *name)
{
	uint64_t index = recording_writer_records(m->w);

	if (recording_writer_checkpoint(m->w, m->err, sizeof m->err) != 0)
		die("checkpoint", m->err);
	if (m->layout)
		printf("checkpoint %s %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", name, index,
		       recording_writer_bytes(m->w), recording_writer_records(m->w));
}

static void write_content(struct maker *m, const char *ticket, const char *session)
{
	static const char typed[] = "echo Hi";
	static const unsigned char rfb[] = "RFB 003.008\n";
	static const char clip[] = "secret\nline2";
	unsigned char cut[8 + sizeof clip - 1] = { 6, 0, 0, 0, 0, 0, 0, sizeof clip - 1 };
	uint64_t t = 100000;

	event(m, 0, "START", "ticket", ticket, "session", session, "resumed", "0", (char *)NULL);
	event(m, 1000, "ASK", "participant", "1", "user", "alice", "role", "desk", "asked", "control",
	      (char *)NULL);
	event(m, 2000, "CONSENT", "participant", "1", "user", "alice", "asked", "control", "granted",
	      "control", "answer", "allowed", "auto", "0", (char *)NULL);
	event(m, 3000, "JOIN", "participant", "1", "user", "alice", "role", "desk", "kind", "screen",
	      "rights", "control", (char *)NULL);
	event(m, 4000, "RECORDER", "kind", "screen", "stream", "1001", "state", "start", (char *)NULL);
	append(m, RECORDING_RFB_SERVER_BYTES, 1001, NULL, 0, 5000, rfb, sizeof rfb - 1);
	checkpoint(m, "A");
	for (const char *c = typed; *c; c++, t += 10000) {
		int shifted = *c >= 'A' && *c <= 'Z';
		if (shifted)
			key(m, 1, "alice", 0, t, 0xffe1, 1); /* Shift_L */
		key(m, 1, "alice", 0, t + 1, (uint32_t)*c, 1);
		key(m, 1, "alice", 0, t + 2, (uint32_t)*c, 0);
		if (shifted)
			key(m, 1, "alice", 0, t + 3, 0xffe1, 0);
	}
	key(m, 1, "alice", 0, t, 0xff0d, 1); /* Return */
	key(m, 1, "alice", 0, t + 1, 0xff0d, 0);
	event(m, 300000, "JOIN", "participant", "2", "user", "bob", "role", "desk", "kind", "screen",
	      "rights", "view", (char *)NULL);
	key(m, 2, "bob", RECORDING_FLAG_DROPPED, 310000, 'x', 1);
	key(m, 2, "bob", RECORDING_FLAG_DROPPED, 310001, 'x', 0);
	pointer(m, 2, "bob", RECORDING_FLAG_DROPPED, 320000, 1, 7, 9);
	pointer(m, 2, "bob", RECORDING_FLAG_DROPPED, 320001, 0, 7, 9);
	pointer(m, 1, "alice", 0, 400000, 0, 90, 190);
	pointer(m, 1, "alice", 0, 400100, 1, 100, 200);
	pointer(m, 1, "alice", 0, 400200, 0, 100, 200);
	memcpy(cut + 8, clip, sizeof clip - 1);
	append(m, RECORDING_INPUT_CUT_TEXT, 1, "alice", 0, 500000, cut, sizeof cut);
	checkpoint(m, "B");
	append(m, RECORDING_SHELL_INPUT, 3, "alice", 0, 600000, "whoami\r", 7);
	append(m, RECORDING_SHELL_RESIZE, 3, "alice", 0, 610000, (const unsigned char[]){ 0, 80, 0, 24 }, 4);
	event(m, 700000, "LEAVE", "participant", "2", "user", "bob", "reason", "closed", (char *)NULL);
	event(m, 710000, "LEAVE", "participant", "1", "user", "alice", "reason", "closed", (char *)NULL);
	event(m, 720000, "RECORDER", "kind", "screen", "stream", "1001", "state", "stop", (char *)NULL);
	event(m, 730000, "END", "reason", "ended", "by", "alice", (char *)NULL);
}

static void hex_decode(const char *hex, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (unsigned char)v;
	}
}

/* Trailer = 17 bytes of framing + 50 + S bytes of payload + 32 of chain. */
static void corrupt_trailer_signature(const char *path, const struct recording_summary *sum)
{
	size_t siglen = strlen(sum->signature) / 2, body = 17 + 50 + siglen;
	unsigned char *trailer = malloc(body + 32), prev[32];
	long offset = (long)sum->bytes - (long)(body + 32);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	FILE *f = fopen(path, "r+b");

	if (!f || !trailer || !md || fseek(f, offset, SEEK_SET) != 0 || fread(trailer, 1, body + 32, f) != body + 32)
		die("bad-signature", "cannot read the trailer");
	trailer[67 + siglen / 2] ^= 0x01;
	hex_decode(sum->final_chain, prev, sizeof prev);
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	EVP_DigestUpdate(md, prev, sizeof prev);
	EVP_DigestUpdate(md, trailer, body);
	EVP_DigestFinal_ex(md, trailer + body, NULL);
	if (fseek(f, offset, SEEK_SET) != 0 || fwrite(trailer, 1, body + 32, f) != body + 32 || fclose(f) != 0)
		die("bad-signature", "cannot write the trailer");
	EVP_MD_CTX_free(md);
	free(trailer);
}

static int usage(void)
{
	fprintf(stderr, "usage: make_recording --out PATH --key PEM [--ticket T] "
	                "(--session S | --db DB --user NAME) [--layout] [--bad-signature]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "out", required_argument, NULL, 'o' }, { "key", required_argument, NULL, 'k' },
		{ "ticket", required_argument, NULL, 't' }, { "session", required_argument, NULL, 's' },
		{ "db", required_argument, NULL, 'd' }, { "user", required_argument, NULL, 'u' },
		{ "layout", no_argument, NULL, 'l' }, { "bad-signature", no_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *key_path = NULL, *ticket = "INC0012345", *session = NULL, *db = NULL,
	           *user = NULL;
	struct session_created created;
	struct recording_summary summary;
	struct recording_params params;
	struct maker m = { 0 };
	struct store *store = NULL;
	long long id = 0;
	EVP_PKEY *key;
	int opt, bad_signature = 0;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'o': out = optarg; break;
		case 'k': key_path = optarg; break;
		case 't': ticket = optarg; break;
		case 's': session = optarg; break;
		case 'd': db = optarg; break;
		case 'u': user = optarg; break;
		case 'l': m.layout = 1; break;
		case 'b': bad_signature = 1; break;
		default: return usage();
		}
	}
	if (!out || !key_path || optind != argc || (db ? !user || session : !session))
		return usage();
	key = recording_load_key(key_path, m.err, sizeof m.err);
	if (key == NULL)
		die("key", m.err);
	if (db) {
		if (store_open(db, STORE_OPEN_EXISTING, &store, m.err, sizeof m.err) != 0 ||
		    sessions_create(store, user, ticket, 600, &created, m.err, sizeof m.err) != 0)
			die("database", m.err);
		session = created.id;
	}
	recording_params_default(&params);
	params.checkpoint_ms = 3600 * 1000; /* only the explicit checkpoints */
	params.checkpoint_bytes = 1 << 30;
	m.w = recording_writer_open(out, ticket, session, key, &params, m.err, sizeof m.err);
	if (m.w == NULL)
		die("open", m.err);
	if (store && ((id = recordings_begin(store, ticket, session, out, m.err, sizeof m.err)) <= 0 ||
	              recordings_add_participant(store, id, "alice", m.err, sizeof m.err) != 0 ||
	              recordings_add_participant(store, id, "bob", m.err, sizeof m.err) != 0))
		die("register", m.err);
	printf("session=%s id=%lld\n", session, id);
	write_content(&m, ticket, session);
	if (recording_writer_close(m.w, &summary, m.err, sizeof m.err) != 0)
		die("close", m.err);
	if (bad_signature)
		corrupt_trailer_signature(out, &summary);
	if (store && recordings_finish(store, id, "complete", &summary, NULL, m.err, sizeof m.err) != 0)
		die("finish", m.err);
	store_close(store);
	EVP_PKEY_free(key);
	return 0;
}
