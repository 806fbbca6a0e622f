/*
 * libFuzzer target for the recording reader and verifier (server/recording.c),
 * fed arbitrary bytes as a recording file (the from-memory variants).
 * Invariants: nothing reads out of bounds or allocates beyond
 * RECORDING_MAX_RECORD (run with -malloc_limit_mb); verify always gives one
 * of the three statuses with consistent counts; a signature-checked INTACT
 * is also INTACT without the key; the iterator yields only data records
 * within the limits, and on an intact file exactly the records verify
 * counted, then a complete end.
 *
 * The seeds in tests/fuzz/corpus/recording/ are signed by a throw-away key
 * whose public half is below, so the signature path is fuzzed too.  To make
 * new seeds (the private key is not kept anywhere):
 *   openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out /tmp/k.pem
 *   cc -D_GNU_SOURCE -DFUZZ_RECORDING_MAKE_SEEDS -Iinclude -Icommon -Iserver \
 *      tests/fuzz/fuzz_recording.c server/recording.c common/xmalloc.c common/log.c \
 *      -lcrypto -o /tmp/make_seeds && /tmp/make_seeds /tmp/k.pem tests/fuzz/corpus/recording
 * and paste the public key it prints over fuzz_public_key.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "recording.h"

#ifndef FUZZ_RECORDING_MAKE_SEEDS

static const char fuzz_public_key[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEkVwbZFmVVHtvZHxmu8MSXe7ajWr7\n"
	"jS4VMzYDthTF7A/YhxVv54DumcJ7qq+hwyWxXiz0w4GSObDsyXdGcTvMnw==\n"
	"-----END PUBLIC KEY-----\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EVP_PKEY *public_key(void)
{
	static EVP_PKEY *key;

	if (key == NULL) {
		BIO *bio = BIO_new_mem_buf(fuzz_public_key, -1);
		key = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
		BIO_free(bio);
		if (key == NULL)
			abort();
	}
	return key;
}

static void check_result(int rc, const struct recording_verify_result *res, size_t size)
{
	if (rc < RECORDING_INTACT || rc > RECORDING_TAMPERED)
		abort(); /* memory input: no I/O errors */
	if (res->file_bytes != size || res->bytes_verified > size || res->records_verified > res->records ||
	    res->data_records > res->records)
		abort();
	if (rc == RECORDING_INTACT &&
	    (res->bytes_verified != size || res->tail_bytes != 0 || res->first_bad_record != -1 ||
	     strlen(res->chain) != 64))
		abort();
	if (rc == RECORDING_TRUNCATED && res->bytes_verified + res->tail_bytes != size)
		abort();
	if (rc == RECORDING_TAMPERED && (res->why[0] == '\0' || res->first_bad_offset > size))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct recording_verify_result keyed, plain;
	struct recording_reader *r = NULL;
	struct recording_record rec;
	char err[256];
	uint64_t records = 0;
	int rc_keyed, rc_plain, n;

	rc_keyed = recording_verify_mem(data, size, public_key(), &keyed, err, sizeof err);
	rc_plain = recording_verify_mem(data, size, NULL, &plain, err, sizeof err);
	check_result(rc_keyed, &keyed, size);
	check_result(rc_plain, &plain, size);
	if (rc_keyed == RECORDING_INTACT && rc_plain != RECORDING_INTACT)
		abort();
	if (keyed.records_verified > plain.records_verified)
		abort();

	if (recording_reader_open_mem(data, size, &r, err, sizeof err) != 0) {
		if (plain.header_ok)
			abort();
		return 0;
	}
	while ((n = recording_reader_next(r, &rec, err, sizeof err)) == 1) {
		if (rec.type < RECORDING_RFB_SERVER_BYTES || rec.type > RECORDING_EVENT ||
		    rec.len > RECORDING_MAX_RECORD || (rec.len > 0) != (rec.payload != NULL) ||
		    strlen(rec.participant) > RECORDING_MAX_PARTICIPANT ||
		    (rec.flags & ~RECORDING_FLAGS_KNOWN) || rec.offset >= size)
			abort();
		if (rec.len)
			(void)rec.payload[rec.len - 1]; /* in bounds under ASan */
		records++;
	}
	if (rc_plain == RECORDING_INTACT &&
	    (n != 0 || !recording_reader_complete(r) || records != plain.data_records))
		abort();
	if (n == 0 && recording_reader_next(r, &rec, err, sizeof err) != 0)
		abort();
	recording_reader_close(r);
	return 0;
}

#else /* FUZZ_RECORDING_MAKE_SEEDS: writes seed recordings with a given key */

static void append(struct recording_writer *w, enum recording_type type, uint16_t stream,
                   const char *who, uint8_t flags, uint64_t t, const void *p, size_t len)
{
	char err[256];

	if (recording_writer_append(w, type, stream, who, flags, t, p, len, err, sizeof err) != 0) {
		fprintf(stderr, "append: %s\n", err);
		exit(1);
	}
}

static void seed(const char *dir, const char *name, EVP_PKEY *key, uint32_t cp_ms, uint64_t cp_bytes,
                 size_t cut)
{
	static const unsigned char key_event[] = { 4, 1, 0, 0, 0, 0, 0, 0x61 };
	static const unsigned char pointer[] = { 5, 1, 0, 10, 0, 20 };
	unsigned char rfb[200];
	struct recording_params params;
	struct recording_writer *w;
	char path[512], err[256];

	for (size_t i = 0; i < sizeof rfb; i++)
		rfb[i] = (unsigned char)(i * 7);
	recording_params_default(&params);
	params.checkpoint_ms = cp_ms;
	params.checkpoint_bytes = cp_bytes;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	remove(path);
	w = recording_writer_open(path, "INC0012345", "s0a1b2c3d", key, &params, err, sizeof err);
	if (w == NULL) {
		fprintf(stderr, "open: %s\n", err);
		exit(1);
	}
	append(w, RECORDING_EVENT, 0, "", 0, 1, "event=join user=alice rights=control", 36);
	append(w, RECORDING_RFB_SERVER_BYTES, 1, "", 0, 10, rfb, sizeof rfb);
	append(w, RECORDING_INPUT_KEY, 1, "alice", 0, 20, key_event, sizeof key_event);
	append(w, RECORDING_INPUT_POINTER, 1, "bob", RECORDING_FLAG_DROPPED, 30, pointer, sizeof pointer);
	append(w, RECORDING_INPUT_CUT_TEXT, 1, "alice", 0, 35, "\x06\0\0\0\0\0\0\x02hi", 10);
	append(w, RECORDING_SHELL_OUTPUT, 2, "", 0, 40, "$ ", 2);
	append(w, RECORDING_SHELL_INPUT, 2, "alice", 0, 50, "ls\n", 3);
	append(w, RECORDING_SHELL_RESIZE, 2, "alice", 0, 60, "\x00\x50\x00\x18", 4);
	append(w, RECORDING_RFB_SERVER_BYTES, 1, "", 0, 70, NULL, 0);
	append(w, RECORDING_EVENT, 0, "", 0, 80, "event=end reason=desk", 21);
	if (recording_writer_close(w, NULL, err, sizeof err) != 0) {
		fprintf(stderr, "close: %s\n", err);
		exit(1);
	}
	if (cut > 0 && truncate(path, (off_t)cut) != 0) {
		perror("truncate");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	char err[256];
	EVP_PKEY *key;

	if (argc != 3) {
		fprintf(stderr, "usage: %s PRIVATE-KEY.pem OUTPUT-DIR\n", argv[0]);
		return 2;
	}
	key = recording_load_key(argv[1], err, sizeof err);
	if (key == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	seed(argv[2], "intact", key, 60000, 1024 * 1024, 0);
	seed(argv[2], "many_checkpoints", key, 0, 1024 * 1024, 0);
	seed(argv[2], "checkpoint_by_bytes", key, 60000, 200, 0);
	seed(argv[2], "truncated", key, 60000, 200, 900);
	PEM_write_PUBKEY(stdout, key);
	EVP_PKEY_free(key);
	return 0;
}

#endif
