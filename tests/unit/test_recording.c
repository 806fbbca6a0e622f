/*
 * recording.h: a recording written with a mix of records verifies intact
 * (with the private key, the public key alone and no key) and the iterator
 * gives back exactly what was written; the file layout matches
 * docs/RECORDING.md (checked by an independent walker below); every flipped
 * byte, a removed, duplicated or swapped record, a recomputed chain without
 * the key, a wrong key and bytes after the trailer are TAMPERED, naming the
 * first bad record; every prefix of a file is TRUNCATED with the records up
 * to its last checkpoint; write and fsync failures fail closed; checkpoint
 * cadence by bytes and by time; directory creation below a root; hostile
 * lengths.  Every test works in its own mkdtemp directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "recording.h"
#include "support.h"

#define TICKET  "INC0012345"
#define SESSION "s0a1b2c3d"
#define NAME    "rec.cncgrec"
#define BIG_LEN 40000 /* more than the reader's 16 KiB hashing chunk */
#define MAX_SPANS 512

struct fixture {
	char dir[64];
	char path[256];
	char err[512];
	EVP_PKEY *key;
};

struct sample {
	enum recording_type type;
	uint16_t stream;
	const char *participant;
	uint8_t flags;
	const char *text; /* payload, or NULL for `len` pattern bytes */
	size_t len;
};

static const struct sample samples[] = {
	{ RECORDING_EVENT, 0, "", 0, "event=join user=alice rights=view,control", 0 },
	{ RECORDING_RFB_SERVER_BYTES, 1, "", 0, NULL, 300 },
	{ RECORDING_INPUT_KEY, 1, "alice", 0, NULL, 8 },
	{ RECORDING_INPUT_POINTER, 1, "bob", RECORDING_FLAG_DROPPED, NULL, 6 },
	{ RECORDING_RFB_SERVER_BYTES, 1, "", 0, NULL, BIG_LEN },
	{ RECORDING_INPUT_CUT_TEXT, 1, "alice", 0, NULL, 20 },
	{ RECORDING_SHELL_OUTPUT, 2, "", 0, NULL, 500 },
	{ RECORDING_SHELL_INPUT, 2, "alice", 0, "ls\n", 0 },
	{ RECORDING_SHELL_RESIZE, 2, "alice", 0, "\x00\x50\x00\x18", 0 },
	{ RECORDING_RFB_SERVER_BYTES, 1, "", 0, NULL, 0 },
	{ RECORDING_EVENT, 0, "", 0, "event=leave user=bob reason=quit", 0 },
	{ RECORDING_EVENT, 0, "", 0, "event=end reason=desk", 0 },
};
#define N_SAMPLES (sizeof samples / sizeof samples[0])
#define BIG_SAMPLE 4

/* One record as the independent walker sees it. */
struct span {
	int type;
	uint64_t offset, size;
};

static size_t sample_len(size_t i)
{
	if (samples[i].text == NULL)
		return samples[i].len;
	return samples[i].type == RECORDING_SHELL_RESIZE ? 4 : strlen(samples[i].text);
}

static void sample_payload(size_t i, unsigned char *buf)
{
	if (samples[i].text) {
		memcpy(buf, samples[i].text, sample_len(i));
		return;
	}
	for (size_t k = 0; k < samples[i].len; k++)
		buf[k] = (unsigned char)(k * 31 + i * 7 + 1);
}

static uint64_t sample_time(size_t i)
{
	return 1000 * (uint64_t)i + 5;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (f == NULL || support_tempdir(f->dir, sizeof f->dir, "test_recording") != 0) {
		free(f);
		return -1;
	}
	f->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (f->key == NULL) {
		support_remove_tree(f->dir);
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof f->path, "%s/%s", f->dir, NAME);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc = support_remove_tree(f->dir);

	EVP_PKEY_free(f->key);
	free(f);
	return rc;
}

/* Test parameters: checkpoints by bytes only (every `cp_bytes`). */
static struct recording_params params_bytes(uint64_t cp_bytes)
{
	struct recording_params p;

	recording_params_default(&p);
	p.checkpoint_ms = 3600 * 1000;
	p.checkpoint_bytes = cp_bytes;
	return p;
}

/* Writes the samples (without the big one when `small`) to f->path. */
static void write_sample(struct fixture *f, const struct recording_params *params, int small,
                         struct recording_summary *sum)
{
	static unsigned char payload[BIG_LEN];
	struct recording_writer *w;

	w = recording_writer_open(f->path, TICKET, SESSION, f->key, params, f->err, sizeof f->err);
	if (w == NULL)
		fail_msg("open: %s", f->err);
	for (size_t i = 0; i < N_SAMPLES; i++) {
		if (small && i == BIG_SAMPLE)
			continue;
		sample_payload(i, payload);
		if (recording_writer_append(w, samples[i].type, samples[i].stream, samples[i].participant,
		                            samples[i].flags, sample_time(i), payload, sample_len(i),
		                            f->err, sizeof f->err) != 0)
			fail_msg("append %zu: %s", i, f->err);
	}
	if (recording_writer_close(w, sum, f->err, sizeof f->err) != 0)
		fail_msg("close: %s", f->err);
}

static unsigned char *load(struct fixture *f, size_t *len)
{
	unsigned char *data = (unsigned char *)support_read_file(f->dir, NAME, len);

	assert_non_null(data);
	return data;
}

static uint64_t be(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* The framing of docs/RECORDING.md, written again independently of
 * recording.c: header, then records of type, stream, participant, flags,
 * time, length, payload, chain.  Returns the number of complete records. */
static int walk(const unsigned char *d, size_t len, struct span *spans, uint64_t *header_len)
{
	uint64_t off;
	int n = 0;

	assert_true(len >= 14);
	assert_memory_equal(d, "CNCGREC1", 8);
	assert_int_equal(be(d + 8, 2), 1);
	off = 14 + be(d + 10, 4);
	if (header_len)
		*header_len = off;
	while (off + 4 <= len) {
		uint64_t plen = d[off + 3], size;
		if (off + 4 + plen + 13 > len)
			break;
		size = 4 + plen + 13 + be(d + off + 4 + plen + 9, 4) + 32;
		if (off + size > len)
			break;
		assert_true(n < MAX_SPANS);
		spans[n++] = (struct span){ .type = d[off], .offset = off, .size = size };
		off += size;
	}
	return n;
}

/* Index of the n-th data record (0-based) among spans. */
static int data_span(const struct span *spans, int nspans, int nth)
{
	for (int i = 0; i < nspans; i++)
		if (spans[i].type != RECORDING_CHECKPOINT && spans[i].type != RECORDING_TRAILER && nth-- == 0)
			return i;
	fail_msg("no data record %d", nth);
	return -1;
}

static int verify_mem(const unsigned char *d, size_t len, EVP_PKEY *key,
                      struct recording_verify_result *res)
{
	char err[256];
	int rc = recording_verify_mem(d, len, key, res, err, sizeof err);

	if (rc < 0)
		fail_msg("verify: %s", err);
	return rc;
}

static void expect_tampered_at(const unsigned char *d, size_t len, EVP_PKEY *key, int64_t index,
                               uint64_t offset, const char *why)
{
	struct recording_verify_result res;
	int rc = verify_mem(d, len, key, &res);

	if (rc != RECORDING_TAMPERED || res.first_bad_record != index || res.first_bad_offset != offset ||
	    strstr(res.why, why) == NULL)
		fail_msg("expected tampered at record %" PRId64 " offset %" PRIu64 " (%s), got %s at %" PRId64
		         " offset %" PRIu64 ": %s", index, offset, why, recording_status_name(rc),
		         res.first_bad_record, res.first_bad_offset, res.why);
}

static void test_intact_round_trip(void **state)
{
	struct fixture *f = *state;
	struct recording_params p = params_bytes(1024);
	struct recording_verify_result res;
	struct recording_summary sum;
	struct recording_reader *r;
	struct recording_record rec;
	unsigned char payload[BIG_LEN], key_id[RECORDING_HASH_LEN];
	struct span spans[MAX_SPANS];
	EVP_PKEY *pub;
	unsigned char *der = NULL, *data;
	const unsigned char *dp;
	struct stat st;
	size_t len, i = 0;
	int n, der_len;

	write_sample(f, &p, 0, &sum);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(sum.bytes, (uint64_t)st.st_size);
	assert_int_equal(sum.data_records, N_SAMPLES);
	assert_int_equal(strlen(sum.final_chain), 64);
	assert_true(strlen(sum.signature) > 0);

	assert_int_equal(recording_verify(f->path, f->key, &res, f->err, sizeof f->err), RECORDING_INTACT);
	assert_true(res.signatures_checked);
	assert_int_equal(res.data_records, N_SAMPLES);
	assert_true(res.checkpoints >= 2); /* checkpoint 0 and at least the one after the big record */
	assert_int_equal(res.records, sum.records + 1);
	assert_int_equal(res.records_verified, sum.records + 1);
	assert_int_equal(res.bytes_verified, sum.bytes);
	assert_int_equal(res.file_bytes, sum.bytes);
	assert_int_equal(res.tail_bytes, 0);
	assert_int_equal(res.first_bad_record, -1);
	assert_string_equal(res.chain, sum.final_chain);
	assert_string_equal(res.header.ticket, TICKET);
	assert_string_equal(res.header.session, SESSION);
	assert_int_equal(recording_key_id(f->key, key_id, f->err, sizeof f->err), 0);
	assert_memory_equal(res.header.key_id, key_id, sizeof key_id);
	assert_true(res.header.start_utc_us > 1600000000ull * 1000000);

	/* The public key alone verifies; no key checks only the chain. */
	der_len = i2d_PUBKEY(f->key, &der);
	assert_true(der_len > 0);
	dp = der;
	pub = d2i_PUBKEY(NULL, &dp, der_len);
	assert_non_null(pub);
	assert_int_equal(recording_verify(f->path, pub, &res, f->err, sizeof f->err), RECORDING_INTACT);
	EVP_PKEY_free(pub);
	OPENSSL_free(der);
	assert_int_equal(recording_verify(f->path, NULL, &res, f->err, sizeof f->err), RECORDING_INTACT);
	assert_false(res.signatures_checked);

	/* The iterator gives back exactly what was written. */
	assert_int_equal(recording_reader_open(f->path, &r, f->err, sizeof f->err), 0);
	assert_string_equal(recording_reader_header(r)->ticket, TICKET);
	while ((n = recording_reader_next(r, &rec, f->err, sizeof f->err)) == 1) {
		assert_true(i < N_SAMPLES);
		sample_payload(i, payload);
		assert_int_equal(rec.type, samples[i].type);
		assert_int_equal(rec.stream, samples[i].stream);
		assert_string_equal(rec.participant, samples[i].participant);
		assert_int_equal(rec.flags, samples[i].flags);
		assert_int_equal(rec.time_us, sample_time(i));
		assert_int_equal(rec.len, sample_len(i));
		if (rec.len)
			assert_memory_equal(rec.payload, payload, rec.len);
		else
			assert_null(rec.payload);
		i++;
	}
	assert_int_equal(n, 0);
	assert_int_equal(i, N_SAMPLES);
	assert_true(recording_reader_complete(r));
	assert_int_equal(recording_reader_next(r, &rec, f->err, sizeof f->err), 0);
	recording_reader_close(r);

	/* Layout: checkpoint 0 right after the header, the trailer last, one
	 * checkpoint right after the big record (over 1024 bytes). */
	data = load(f, &len);
	n = walk(data, len, spans, NULL);
	assert_int_equal(n, (int)res.records);
	assert_int_equal(spans[0].type, RECORDING_CHECKPOINT);
	assert_int_equal(spans[n - 1].type, RECORDING_TRAILER);
	assert_int_equal(spans[n - 1].offset + spans[n - 1].size, len);
	assert_int_equal(spans[data_span(spans, n, BIG_SAMPLE) + 1].type, RECORDING_CHECKPOINT);
	free(data);
}

static void test_flipped_payload_byte_names_record(void **state)
{
	struct fixture *f = *state;
	struct recording_params p = params_bytes(1024);
	struct span spans[MAX_SPANS];
	unsigned char *d;
	size_t len;
	int n;

	write_sample(f, &p, 0, NULL);
	d = load(f, &len);
	n = walk(d, len, spans, NULL);
	/* Flip a byte in the payload of each data record in turn. */
	for (size_t k = 0; k < N_SAMPLES; k++) {
		int s = data_span(spans, n, (int)k);
		uint64_t at;
		if (sample_len(k) == 0)
			continue;
		at = spans[s].offset + spans[s].size - 32 - 1; /* last payload byte */
		d[at] ^= 0x20;
		expect_tampered_at(d, len, f->key, s, spans[s].offset, "chain mismatch");
		expect_tampered_at(d, len, NULL, s, spans[s].offset, "chain mismatch");
		d[at] ^= 0x20;
	}
	/* Time stamp, participant, stream and flags are covered too. */
	{
		int s = data_span(spans, n, 3); /* bob's dropped pointer event */
		for (uint64_t at = spans[s].offset + 1; at < spans[s].offset + 4 + 3 + 13; at++) {
			d[at] ^= 0x01;
			assert_int_equal(verify_mem(d, len, f->key, &(struct recording_verify_result){ 0 }),
			                 RECORDING_TAMPERED);
			d[at] ^= 0x01;
		}
	}
	free(d);
}

/* Every single flipped bit, anywhere in the file, is TAMPERED (never
 * INTACT or TRUNCATED), even without the key. */
static void test_every_flipped_byte_is_tampered(void **state)
{
	struct fixture *f = *state;
	struct recording_params p = params_bytes(256);
	struct recording_verify_result res;
	static const unsigned char masks[] = { 0x01, 0x80, 0xff };
	unsigned char *d;
	size_t len;

	write_sample(f, &p, 1, NULL);
	d = load(f, &len);
	for (size_t at = 0; at < len; at++) {
		for (size_t m = 0; m < sizeof masks; m++) {
			int rc;
			d[at] ^= masks[m];
			rc = verify_mem(d, len, NULL, &res);
			if (rc != RECORDING_TAMPERED)
				fail_msg("byte %zu ^ 0x%02x: %s (%s)", at, masks[m], recording_status_name(rc),
				         res.why);
			d[at] ^= masks[m];
		}
	}
	assert_int_equal(verify_mem(d, len, f->key, &res), RECORDING_INTACT);
	free(d);
}

static void test_removed_record(void **state)
{
	struct fixture *f = *state;
	struct recording_params p = params_bytes(1024);
	struct span spans[MAX_SPANS];
	unsigned char *d, *cut;
	size_t len;
	int n;

	write_sample(f, &p, 0, NULL);
	d = load(f, &len);
	n = walk(d, len, spans, NULL);
	cut = malloc(len);
	assert_non_null(cut);
	for (int s = 0; s < n; s++) {
		size_t a = spans[s].offset, b = a + spans[s].size;
		memcpy(cut, d, a);
		memcpy(cut + a, d + b, len - b);
		if (s == n - 1) /* the trailer gone: indistinguishable from a crash */
			assert_int_equal(verify_mem(cut, len - (b - a), f->key, &(struct recording_verify_result){ 0 }),
			                 RECORDING_TRUNCATED);
		else
			expect_tampered_at(cut, len - (b - a), f->key, s, a, "chain mismatch");
	}
	free(cut);
	free(d);
}

static void test_duplicated_record(void **state)
{
	struct fixture *f = *state;
	struct recording_params p = params_bytes(1024);
	struct span spans[MAX_SPANS];
	unsigned char *d, *dup;
	size_t len;
	int n;

	write_sample(f, &p, 0, NULL);
	d = load(f, &len);
	n = walk(d, len, spans, NULL);
	dup = malloc(2 * len);
	assert_non_null(dup);
	for (int s = 0; s < n; s++) {
		size_t b = spans[s].offset + spans[s].size;
		memcpy(dup, d, b);
		memcpy(dup + b, d + spans[s].offset, spans[s].size);
		memcpy(dup + b + spans[s].size, d + b, len - b);
		if (s == n - 1)
			expect_tampered_at(dup, len + spans[s].size, f->key, s, spans[s].offset, "follow the trailer");
		else
			expect_tampered_at(dup, len + spans[s].size, f->key, s + 1, b, "chain mismatch");
	}
	free(dup);
	free(d);
}

static void test_swapped_records(void **state)
{
	struct fixture *f = *state;
	struct recording_params p = params_bytes(1024);
	struct span spans[MAX_SPANS];
	unsigned char *d, *sw;
	size_t len;
	int n;

	write_sample(f, &p, 0, NULL);
	d = load(f, &len);
	n = walk(d, len, spans, NULL);
	sw = malloc(len);
	assert_non_null(sw);
	for (int s = 0; s + 1 < n; s++) {
		size_t a = spans[s].offset;
		memcpy(sw, d, len);
		memcpy(sw + a, d + spans[s + 1].offset, spans[s + 1].size);
		memcpy(sw + a + spans[s + 1].size, d + a, spans[s].size);
		expect_tampered_at(sw, len, f->key, s, a, "chain mismatch");
	}
	/* Two records further apart, of different sizes: data 1 and data 3. */
	{
		int x = data_span(spans, n, 1), z = data_span(spans, n, 3);
		size_t a = spans[x].offset, mid = spans[x + 1].offset, end = spans[z].offset + spans[z].size;
		size_t o = a;
		memcpy(sw, d, len);
		memcpy(sw + o, d + spans[z].offset, spans[z].size);
		o += spans[z].size;
		memcpy(sw + o, d + mid, spans[z].offset - mid);
		o += spans[z].offset - mid;
		memcpy(sw + o, d + a, spans[x].size);
		assert_int_equal(o + spans[x].size, end);
		expect_tampered_at(sw, len, f->key, x, a, "chain mismatch");
	}
	free(sw);
	free(d);
}

/* An attacker who edits a record and recomputes every chain value (no key
 * needed for that) passes a key-less check but not the signatures. */
static void test_recomputed_chain_needs_the_key(void **state)
{
	struct fixture *f = *state;
	struct recording_params p = params_bytes(1024);
	struct recording_verify_result res;
	struct span spans[MAX_SPANS];
	unsigned char *d, chain[32];
	uint64_t hlen;
	size_t len;
	int n, s;

	write_sample(f, &p, 0, NULL);
	d = load(f, &len);
	n = walk(d, len, spans, &hlen);
	s = data_span(spans, n, 2);
	d[spans[s].offset + spans[s].size - 33] ^= 0x01; /* alice's key event */
	EVP_Digest(d, hlen, chain, NULL, EVP_sha256(), NULL);
	for (int i = 0; i < n; i++) {
		unsigned char *rec = d + spans[i].offset;
		size_t body = spans[i].size - 32;
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		if (spans[i].type == RECORDING_CHECKPOINT || spans[i].type == RECORDING_TRAILER)
			memcpy(rec + 17 + 16, chain, 32); /* the chain value the control record carries */
		EVP_DigestInit_ex(md, EVP_sha256(), NULL);
		EVP_DigestUpdate(md, chain, 32);
		EVP_DigestUpdate(md, rec, body);
		EVP_DigestFinal_ex(md, chain, NULL);
		EVP_MD_CTX_free(md);
		memcpy(rec + body, chain, 32);
	}
	assert_int_equal(verify_mem(d, len, NULL, &res), RECORDING_INTACT);
	/* The first checkpoint after the edit no longer matches its signature. */
	assert_int_equal(verify_mem(d, len, f->key, &res), RECORDING_TAMPERED);
	assert_non_null(strstr(res.why, "bad signature"));
	assert_true(res.first_bad_record > s);
	assert_int_equal(spans[res.first_bad_record].type, RECORDING_CHECKPOINT);
	free(d);
}

static void test_wrong_key_and_signature(void **state)
{
	struct fixture *f = *state;
	struct recording_params p = params_bytes(1024);
	struct recording_verify_result res;
	struct span spans[MAX_SPANS];
	EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	unsigned char *d;
	size_t len;
	int n;

	assert_non_null(other);
	write_sample(f, &p, 0, NULL);
	assert_int_equal(recording_verify(f->path, other, &res, f->err, sizeof f->err), RECORDING_TAMPERED);
	assert_int_equal(res.first_bad_record, 0); /* checkpoint 0 */
	assert_non_null(strstr(res.why, "bad signature"));
	assert_non_null(strstr(res.why, "another relay key"));
	EVP_PKEY_free(other);

	/* A flipped signature byte in the trailer, chain recomputed. */
	d = load(f, &len);
	n = walk(d, len, spans, NULL);
	{
		unsigned char *rec = d + spans[n - 1].offset, chain[32];
		size_t body = spans[n - 1].size - 32;
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		rec[body - 1] ^= 0x01;
		EVP_DigestInit_ex(md, EVP_sha256(), NULL);
		EVP_DigestUpdate(md, rec - 32, 32); /* the previous record's chain value */
		EVP_DigestUpdate(md, rec, body);
		EVP_DigestFinal_ex(md, chain, NULL);
		EVP_MD_CTX_free(md);
		memcpy(rec + body, chain, 32);
	}
	assert_int_equal(verify_mem(d, len, NULL, &res), RECORDING_INTACT);
	expect_tampered_at(d, len, f->key, n - 1, spans[n - 1].offset, "bad signature on the trailer");
	free(d);
}

static void test_bytes_after_trailer(void **state)
{
	struct fixture *f = *state;
	struct recording_params p = params_bytes(1024);
	struct span spans[MAX_SPANS];
	unsigned char *d;
	size_t len;
	int n;

	write_sample(f, &p, 1, NULL);
	d = load(f, &len);
	n = walk(d, len, spans, NULL);
	d = realloc(d, len + 1);
	assert_non_null(d);
	d[len] = 0x01;
	expect_tampered_at(d, len + 1, f->key, n - 1, spans[n - 1].offset, "1 bytes follow the trailer");
	free(d);
}

/* Expected records_verified/bytes_verified for a file cut at `cut`: up to
 * the end of the last control record that fits. */
static void expect_cut(const struct span *spans, int n, size_t cut, uint64_t *records, uint64_t *bytes)
{
	*records = 0;
	*bytes = 0;
	for (int i = 0; i < n; i++)
		if ((spans[i].type == RECORDING_CHECKPOINT || spans[i].type == RECORDING_TRAILER) &&
		    spans[i].offset + spans[i].size <= cut) {
			*records = (uint64_t)i + 1;
			*bytes = spans[i].offset + spans[i].size;
		}
}

/* Every proper prefix (a crash at any byte) is TRUNCATED, with exactly the
 * records up to the last checkpoint verified and the rest as tail. */
static void test_every_prefix_is_truncated(void **state)
{
	struct fixture *f = *state;
	struct recording_params p = params_bytes(256);
	struct recording_verify_result res;
	struct span spans[MAX_SPANS];
	unsigned char *d;
	size_t len;
	int n, checkpoints = 0;

	write_sample(f, &p, 1, NULL);
	d = load(f, &len);
	n = walk(d, len, spans, NULL);
	for (int i = 0; i < n; i++)
		checkpoints += spans[i].type == RECORDING_CHECKPOINT;
	assert_true(checkpoints >= 4);
	for (size_t cut = 0; cut < len; cut++) {
		uint64_t records, bytes;
		/* Signatures on some cuts only: each verify checks them all. */
		int rc = verify_mem(d, cut, cut % 37 == 0 ? f->key : NULL, &res);
		expect_cut(spans, n, cut, &records, &bytes);
		if (rc != RECORDING_TRUNCATED || res.records_verified != records || res.bytes_verified != bytes ||
		    res.tail_bytes != cut - bytes)
			fail_msg("cut at %zu: %s, %" PRIu64 " records / %" PRIu64 " bytes verified, tail %" PRIu64
			         " (expected %" PRIu64 " / %" PRIu64 "): %s", cut, recording_status_name(rc),
			         res.records_verified, res.bytes_verified, res.tail_bytes, records, bytes, res.why);
	}
	free(d);
}

static void test_truncated_file_and_zero_tail(void **state)
{
	struct fixture *f = *state;
	struct recording_params p = params_bytes(1024);
	struct recording_verify_result res;
	struct recording_reader *r;
	struct recording_record rec;
	struct span spans[MAX_SPANS];
	unsigned char *d;
	size_t len, cut;
	uint64_t records, bytes;
	int n, s, got = 0;

	write_sample(f, &p, 0, NULL);
	d = load(f, &len);
	n = walk(d, len, spans, NULL);
	/* Cut in the middle of the record after the checkpoint that follows the big one. */
	s = data_span(spans, n, BIG_SAMPLE + 2);
	cut = spans[s].offset + spans[s].size / 2;
	expect_cut(spans, n, cut, &records, &bytes);
	assert_true(records >= 2);
	support_write_file(f->dir, NAME, d, cut);
	assert_int_equal(recording_verify(f->path, f->key, &res, f->err, sizeof f->err), RECORDING_TRUNCATED);
	assert_int_equal(res.records_verified, records);
	assert_int_equal(res.bytes_verified, bytes);
	assert_int_equal(res.tail_bytes, cut - bytes);
	assert_int_equal(res.tail_records, 1); /* one complete record after the checkpoint */
	assert_non_null(strstr(res.why, "ends inside"));
	assert_int_equal(strlen(res.chain), 64);

	/* The iterator gives every complete record, then a clean end without a trailer. */
	assert_int_equal(recording_reader_open(f->path, &r, f->err, sizeof f->err), 0);
	while ((n = recording_reader_next(r, &rec, f->err, sizeof f->err)) == 1)
		got++;
	assert_int_equal(n, 0);
	assert_int_equal(got, BIG_SAMPLE + 2);
	assert_false(recording_reader_complete(r));
	recording_reader_close(r);

	/* Zero bytes a crash left after the last record are not tampering. */
	{
		unsigned char *z = calloc(1, cut + 4096);
		assert_non_null(z);
		memcpy(z, d, cut);
		assert_int_equal(verify_mem(z, cut + 4096, f->key, &res), RECORDING_TRUNCATED);
		assert_int_equal(res.records_verified, records);
		assert_int_equal(verify_mem(z, 4096, f->key, &res), RECORDING_TRUNCATED); /* zero file */
		free(z);
	}
	free(d);
}

static void test_write_failure_fails_closed(void **state)
{
	struct fixture *f = *state;
	struct recording_params p = params_bytes(1024);
	struct recording_verify_result res;
	struct recording_writer *w;
	unsigned char payload[200] = { 0 };
	uint64_t opened;
	int rc = 0, appended = 0;

	/* A full disk about 600 bytes after the open (ECDSA signatures vary
	 * by a few bytes, so each writer's own size is used below). */
	w = recording_writer_open(f->path, TICKET, SESSION, f->key, &p, f->err, sizeof f->err);
	assert_non_null(w);
	opened = recording_writer_bytes(w);
	recording_writer_close(w, NULL, f->err, sizeof f->err);
	unlink(f->path);
	p.fault_write_after_bytes = (int64_t)opened + 600;
	w = recording_writer_open(f->path, TICKET, SESSION, f->key, &p, f->err, sizeof f->err);
	assert_non_null(w);
	opened = recording_writer_bytes(w);
	for (int i = 0; i < 10 && rc == 0; i++) {
		rc = recording_writer_append(w, RECORDING_SHELL_OUTPUT, 2, NULL, 0, (uint64_t)i, payload,
		                             sizeof payload, f->err, sizeof f->err);
		appended += rc == 0;
	}
	assert_int_equal(rc, -1);
	assert_int_equal(appended, 2);
	assert_non_null(strstr(f->err, "No space left"));
	assert_int_equal(recording_writer_append(w, RECORDING_EVENT, 0, NULL, 0, 99, "x", 1, f->err,
	                                         sizeof f->err), -1);
	assert_non_null(strstr(f->err, "failed earlier"));
	assert_int_equal(recording_writer_checkpoint(w, f->err, sizeof f->err), -1);
	assert_int_equal(recording_writer_tick(w, f->err, sizeof f->err), -1);
	assert_int_equal(recording_writer_close(w, NULL, f->err, sizeof f->err), -1);
	/* What reached the disk: checkpoint 0 verified, the rest an honest tail. */
	assert_int_equal(recording_verify(f->path, f->key, &res, f->err, sizeof f->err), RECORDING_TRUNCATED);
	assert_int_equal(res.records_verified, 1);
	assert_int_equal(res.bytes_verified, opened);
	assert_int_equal(res.tail_bytes, (uint64_t)p.fault_write_after_bytes - opened);
	assert_int_equal(res.tail_records, 2);
	unlink(f->path);

	/* Full before the header is out: open fails and leaves nothing. */
	p.fault_write_after_bytes = 10;
	assert_null(recording_writer_open(f->path, TICKET, SESSION, f->key, &p, f->err, sizeof f->err));
	assert_non_null(strstr(f->err, "No space left"));
	assert_int_equal(access(f->path, F_OK), -1);

	/* The environment variable does the same for end-to-end tests. */
	p.fault_write_after_bytes = -1;
	setenv("CONCIERGE_RECORDING_FAIL_AFTER_BYTES", "0", 1);
	assert_null(recording_writer_open(f->path, TICKET, SESSION, f->key, &p, f->err, sizeof f->err));
	unsetenv("CONCIERGE_RECORDING_FAIL_AFTER_BYTES");
	assert_int_equal(access(f->path, F_OK), -1);

	/* fsync failing: open syncs file and directory; the next checkpoint fails. */
	p.fault_fsync_after = 2;
	p.checkpoint_ms = 0;
	w = recording_writer_open(f->path, TICKET, SESSION, f->key, &p, f->err, sizeof f->err);
	assert_non_null(w);
	assert_int_equal(recording_writer_append(w, RECORDING_EVENT, 0, NULL, 0, 1, "a=b", 3, f->err,
	                                         sizeof f->err), -1);
	assert_non_null(strstr(f->err, "cannot sync"));
	assert_int_equal(recording_writer_append(w, RECORDING_EVENT, 0, NULL, 0, 2, "a=b", 3, f->err,
	                                         sizeof f->err), -1);
	assert_int_equal(recording_writer_close(w, NULL, f->err, sizeof f->err), -1);
	p.fault_fsync_after = 0;
	unlink(f->path);
	assert_null(recording_writer_open(f->path, TICKET, SESSION, f->key, &p, f->err, sizeof f->err));
	assert_int_equal(access(f->path, F_OK), -1);
}

static void test_invalid_arguments(void **state)
{
	struct fixture *f = *state;
	struct recording_params p = params_bytes(1024);
	struct recording_verify_result res;
	struct recording_writer *w;
	static unsigned char big[RECORDING_MAX_RECORD + 1];
	char long_name[RECORDING_MAX_PARTICIPANT + 2];
	struct {
		int type;
		const char *who;
		uint8_t flags;
		size_t len;
	} bad[] = {
		{ RECORDING_CHECKPOINT, NULL, 0, 1 },
		{ RECORDING_TRAILER, NULL, 0, 1 },
		{ 0, NULL, 0, 1 },
		{ 9, NULL, 0, 1 },
		{ RECORDING_EVENT, NULL, 0x80, 1 },
		{ RECORDING_SHELL_INPUT, "al ice", 0, 1 },
		{ RECORDING_SHELL_INPUT, "al\nice", 0, 1 },
		{ RECORDING_SHELL_INPUT, long_name, 0, 1 },
		{ RECORDING_RFB_SERVER_BYTES, NULL, 0, RECORDING_MAX_RECORD + 1 },
	};
	uint64_t bytes;

	memset(long_name, 'a', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';
	assert_null(recording_writer_open(f->path, "bad ticket", SESSION, f->key, &p, f->err, sizeof f->err));
	assert_null(recording_writer_open(f->path, "", SESSION, f->key, &p, f->err, sizeof f->err));
	assert_null(recording_writer_open(f->path, TICKET, NULL, f->key, &p, f->err, sizeof f->err));
	assert_null(recording_writer_open(f->path, TICKET, SESSION, NULL, &p, f->err, sizeof f->err));
	assert_int_equal(access(f->path, F_OK), -1);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		unlink(f->path);
		w = recording_writer_open(f->path, TICKET, SESSION, f->key, &p, f->err, sizeof f->err);
		assert_non_null(w);
		bytes = recording_writer_bytes(w);
		assert_int_equal(recording_writer_append(w, (enum recording_type)bad[i].type, 0, bad[i].who,
		                                         bad[i].flags, 1, big, bad[i].len, f->err,
		                                         sizeof f->err), -1);
		assert_int_equal(recording_writer_bytes(w), bytes); /* nothing written */
		/* Refused from now on, but the file is whole: close signs it. */
		assert_int_equal(recording_writer_append(w, RECORDING_EVENT, 0, NULL, 0, 2, "a=b", 3, f->err,
		                                         sizeof f->err), -1);
		assert_int_equal(recording_writer_close(w, NULL, f->err, sizeof f->err), 0);
		assert_int_equal(recording_verify(f->path, f->key, &res, f->err, sizeof f->err), RECORDING_INTACT);
		assert_int_equal(res.data_records, 0);
	}
	/* A NULL payload with a length. */
	unlink(f->path);
	w = recording_writer_open(f->path, TICKET, SESSION, f->key, &p, f->err, sizeof f->err);
	assert_non_null(w);
	assert_int_equal(recording_writer_append(w, RECORDING_EVENT, 0, NULL, 0, 1, NULL, 3, f->err,
	                                         sizeof f->err), -1);
	assert_int_equal(recording_writer_close(w, NULL, f->err, sizeof f->err), 0);
	/* Largest payload and longest name are fine. */
	unlink(f->path);
	long_name[RECORDING_MAX_PARTICIPANT] = '\0';
	w = recording_writer_open(f->path, TICKET, SESSION, f->key, &p, f->err, sizeof f->err);
	assert_non_null(w);
	assert_int_equal(recording_writer_append(w, RECORDING_RFB_SERVER_BYTES, 1, long_name, 0, 1, big,
	                                         RECORDING_MAX_RECORD, f->err, sizeof f->err), 0);
	assert_int_equal(recording_writer_close(w, NULL, f->err, sizeof f->err), 0);
	assert_int_equal(recording_verify(f->path, f->key, &res, f->err, sizeof f->err), RECORDING_INTACT);
	assert_int_equal(res.data_records, 1);
}

static int count_type(struct fixture *f, int type)
{
	struct span spans[MAX_SPANS];
	unsigned char *d;
	size_t len;
	int n, count = 0;

	d = load(f, &len);
	n = walk(d, len, spans, NULL);
	for (int i = 0; i < n; i++)
		count += spans[i].type == type;
	free(d);
	return count;
}

static void test_checkpoint_cadence(void **state)
{
	struct fixture *f = *state;
	struct recording_params p = params_bytes(500);
	struct recording_writer *w;
	unsigned char payload[100] = { 0 };
	uint64_t base;

	/* By bytes: each record is 4 + 13 + 100 + 32 = 149 bytes, so the 4th
	 * (596 >= 500) is followed by a checkpoint, and so on. */
	w = recording_writer_open(f->path, TICKET, SESSION, f->key, &p, f->err, sizeof f->err);
	assert_non_null(w);
	base = recording_writer_records(w);
	assert_int_equal(base, 1); /* checkpoint 0 */
	for (int i = 1; i <= 8; i++) {
		assert_int_equal(recording_writer_append(w, RECORDING_SHELL_OUTPUT, 2, NULL, 0, (uint64_t)i,
		                                         payload, sizeof payload, f->err, sizeof f->err), 0);
		assert_int_equal(recording_writer_records(w), 1 + (uint64_t)i + (uint64_t)(i / 4));
	}
	/* Ticks do nothing before the interval. */
	assert_int_equal(recording_writer_append(w, RECORDING_SHELL_OUTPUT, 2, NULL, 0, 9, payload, 1,
	                                         f->err, sizeof f->err), 0);
	assert_int_equal(recording_writer_tick(w, f->err, sizeof f->err), 0);
	assert_int_equal(recording_writer_records(w), 12);
	/* An explicit checkpoint. */
	assert_int_equal(recording_writer_checkpoint(w, f->err, sizeof f->err), 0);
	assert_int_equal(recording_writer_records(w), 13);
	assert_int_equal(recording_writer_close(w, NULL, f->err, sizeof f->err), 0);
	assert_int_equal(count_type(f, RECORDING_CHECKPOINT), 4);
	unlink(f->path);

	/* By time: 0 ms checkpoints after every append. */
	p = params_bytes(RECORDING_CHECKPOINT_BYTES);
	p.checkpoint_ms = 0;
	w = recording_writer_open(f->path, TICKET, SESSION, f->key, &p, f->err, sizeof f->err);
	assert_non_null(w);
	for (int i = 1; i <= 5; i++) {
		assert_int_equal(recording_writer_append(w, RECORDING_INPUT_KEY, 1, "alice", 0,
		                                         recording_writer_now_us(w), "\x04\x01\x00\x00\x00\x00\x00\x61",
		                                         8, f->err, sizeof f->err), 0);
		assert_int_equal(recording_writer_records(w), 1 + 2 * (uint64_t)i);
	}
	assert_int_equal(recording_writer_close(w, NULL, f->err, sizeof f->err), 0);
	assert_int_equal(count_type(f, RECORDING_CHECKPOINT), 6);
	unlink(f->path);

	/* By time with a timer: 50 ms. */
	p.checkpoint_ms = 50;
	w = recording_writer_open(f->path, TICKET, SESSION, f->key, &p, f->err, sizeof f->err);
	assert_non_null(w);
	assert_int_equal(recording_writer_tick(w, f->err, sizeof f->err), 0);
	assert_int_equal(recording_writer_append(w, RECORDING_EVENT, 0, NULL, 0, 1, "a=b", 3, f->err,
	                                         sizeof f->err), 0);
	usleep(80 * 1000);
	assert_int_equal(recording_writer_tick(w, f->err, sizeof f->err), 0);
	assert_int_equal(recording_writer_records(w), 3);
	usleep(80 * 1000);
	assert_int_equal(recording_writer_tick(w, f->err, sizeof f->err), 0); /* nothing new */
	assert_int_equal(recording_writer_records(w), 3);
	assert_int_equal(recording_writer_close(w, NULL, f->err, sizeof f->err), 0);
}

static void test_directories_below_root(void **state)
{
	struct fixture *f = *state;
	struct recording_params p = params_bytes(1024);
	struct recording_verify_result res;
	struct recording_writer *w;
	char path[512], sub[512];
	struct stat st;

	p.root = f->dir;
	snprintf(path, sizeof path, "%s/%s/%s/screen.cncgrec", f->dir, TICKET, SESSION);
	w = recording_writer_open(path, TICKET, SESSION, f->key, &p, f->err, sizeof f->err);
	if (w == NULL)
		fail_msg("open: %s", f->err);
	assert_int_equal(recording_writer_close(w, NULL, f->err, sizeof f->err), 0);
	assert_int_equal(recording_verify(path, f->key, &res, f->err, sizeof f->err), RECORDING_INTACT);
	snprintf(sub, sizeof sub, "%s/%s", f->dir, TICKET);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* Never over an existing recording. */
	assert_null(recording_writer_open(path, TICKET, SESSION, f->key, &p, f->err, sizeof f->err));
	assert_non_null(strstr(f->err, "exists"));
	assert_int_equal(recording_verify(path, f->key, &res, f->err, sizeof f->err), RECORDING_INTACT);
	/* Outside the root, through "..", or a root that does not exist. */
	assert_null(recording_writer_open("/tmp/elsewhere.cncgrec", TICKET, SESSION, f->key, &p, f->err,
	                                  sizeof f->err));
	snprintf(path, sizeof path, "%s/a/../b.cncgrec", f->dir);
	assert_null(recording_writer_open(path, TICKET, SESSION, f->key, &p, f->err, sizeof f->err));
	snprintf(sub, sizeof sub, "%s/missing", f->dir);
	p.root = sub;
	snprintf(path, sizeof path, "%s/missing/x/y.cncgrec", f->dir);
	assert_null(recording_writer_open(path, TICKET, SESSION, f->key, &p, f->err, sizeof f->err));
	/* Without a root the directory must exist. */
	p.root = NULL;
	assert_null(recording_writer_open(path, TICKET, SESSION, f->key, &p, f->err, sizeof f->err));
	assert_int_equal(access(sub, F_OK), -1);
}

/* Appends one record with the given raw fields (valid chain) to buf. */
static size_t raw_record(unsigned char *buf, int type, uint8_t plen, uint32_t len)
{
	buf[0] = (unsigned char)type;
	buf[1] = 0;
	buf[2] = 1;
	buf[3] = plen;
	memset(buf + 4, 'a', plen);
	memset(buf + 4 + plen, 0, 9);
	buf[4 + plen + 9] = (unsigned char)(len >> 24);
	buf[4 + plen + 10] = (unsigned char)(len >> 16);
	buf[4 + plen + 11] = (unsigned char)(len >> 8);
	buf[4 + plen + 12] = (unsigned char)len;
	return 4 + (size_t)plen + 13;
}

static void test_hostile_inputs(void **state)
{
	struct fixture *f = *state;
	struct recording_params p = params_bytes(1024);
	struct recording_verify_result res;
	struct recording_reader *r;
	struct span spans[MAX_SPANS];
	unsigned char *d, *h;
	uint64_t hlen;
	size_t len, n;

	write_sample(f, &p, 1, NULL);
	d = load(f, &len);
	walk(d, len, spans, &hlen);
	h = calloc(1, hlen + 4096);
	assert_non_null(h);
	memcpy(h, d, hlen);

	/* A 4 GiB record length: refused as malformed, nothing allocated. */
	n = raw_record(h + hlen, RECORDING_RFB_SERVER_BYTES, 0, 0xffffffffu);
	memset(h + hlen + n, 0x55, 64);
	assert_int_equal(verify_mem(h, hlen + n + 64, f->key, &res), RECORDING_TAMPERED);
	assert_non_null(strstr(res.why, "exceeds"));
	assert_int_equal(recording_reader_open_mem(h, hlen + n + 64, &r, f->err, sizeof f->err), 0);
	assert_int_equal(recording_reader_next(r, &(struct recording_record){ 0 }, f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "exceeds"));
	assert_int_equal(recording_reader_next(r, &(struct recording_record){ 0 }, f->err, sizeof f->err), -1);
	recording_reader_close(r);
	/* A length within the limit but beyond the file: the file just stops. */
	n = raw_record(h + hlen, RECORDING_RFB_SERVER_BYTES, 0, RECORDING_MAX_RECORD);
	assert_int_equal(verify_mem(h, hlen + n + 64, f->key, &res), RECORDING_TRUNCATED);
	/* Oversized control record, unknown type, over-long or unprintable name, unknown flag. */
	n = raw_record(h + hlen, RECORDING_CHECKPOINT, 0, 4096);
	assert_int_equal(verify_mem(h, hlen + n + 64, f->key, &res), RECORDING_TAMPERED);
	n = raw_record(h + hlen, 0x42, 0, 1);
	assert_int_equal(verify_mem(h, hlen + n + 64, f->key, &res), RECORDING_TAMPERED);
	n = raw_record(h + hlen, RECORDING_EVENT, 200, 1);
	assert_int_equal(verify_mem(h, hlen + n + 64, f->key, &res), RECORDING_TAMPERED);
	n = raw_record(h + hlen, RECORDING_EVENT, 3, 1);
	h[hlen + 5] = '\0';
	assert_int_equal(verify_mem(h, hlen + n + 64, f->key, &res), RECORDING_TAMPERED);
	n = raw_record(h + hlen, RECORDING_EVENT, 0, 1);
	h[hlen + 4] = 0x02;
	assert_int_equal(verify_mem(h, hlen + n + 64, f->key, &res), RECORDING_TAMPERED);
	/* Header: absurd length, bad magic, other version. */
	h[10] = 0xff;
	assert_int_equal(verify_mem(h, hlen + 64, f->key, &res), RECORDING_TAMPERED);
	assert_int_equal(res.first_bad_record, -1);
	assert_int_equal(recording_reader_open_mem(h, hlen + 64, &r, f->err, sizeof f->err), -1);
	memcpy(h, d, hlen);
	h[0] = 'X';
	assert_int_equal(verify_mem(h, hlen, f->key, &res), RECORDING_TAMPERED);
	assert_non_null(strstr(res.why, "magic"));
	memcpy(h, d, hlen);
	h[9] = 2;
	assert_int_equal(verify_mem(h, hlen, f->key, &res), RECORDING_TAMPERED);
	assert_non_null(strstr(res.why, "version"));
	/* Empty file, and not a file at all. */
	assert_int_equal(verify_mem(h, 0, f->key, &res), RECORDING_TRUNCATED);
	assert_int_equal(recording_verify(f->dir, f->key, &res, f->err, sizeof f->err), -1);
	assert_int_equal(recording_reader_open(f->dir, &r, f->err, sizeof f->err), -1);
	free(h);
	free(d);
}

static void test_load_key(void **state)
{
	struct fixture *f = *state;
	char path[512];
	EVP_PKEY *k;
	BIO *bio;
	unsigned char a[32], b[32];

	snprintf(path, sizeof path, "%s/relay.key", f->dir);
	bio = BIO_new_file(path, "w");
	assert_non_null(bio);
	assert_int_equal(PEM_write_bio_PrivateKey(bio, f->key, NULL, NULL, 0, NULL, NULL), 1);
	BIO_free(bio);
	k = recording_load_key(path, f->err, sizeof f->err);
	assert_non_null(k);
	assert_int_equal(recording_key_id(k, a, f->err, sizeof f->err), 0);
	assert_int_equal(recording_key_id(f->key, b, f->err, sizeof f->err), 0);
	assert_memory_equal(a, b, 32);
	EVP_PKEY_free(k);

	snprintf(path, sizeof path, "%s/relay.pub", f->dir);
	bio = BIO_new_file(path, "w");
	assert_non_null(bio);
	assert_int_equal(PEM_write_bio_PUBKEY(bio, f->key), 1);
	BIO_free(bio);
	k = recording_load_key(path, f->err, sizeof f->err);
	assert_non_null(k);
	assert_int_equal(recording_key_id(k, a, f->err, sizeof f->err), 0);
	assert_memory_equal(a, b, 32);
	EVP_PKEY_free(k);

	support_write_file(f->dir, "junk.pem", "hello", 5);
	snprintf(path, sizeof path, "%s/junk.pem", f->dir);
	assert_null(recording_load_key(path, f->err, sizeof f->err));
	snprintf(path, sizeof path, "%s/none.pem", f->dir);
	assert_null(recording_load_key(path, f->err, sizeof f->err));
}

/* defer_sync: checkpoints hand over the recording's own descriptor; the
 * header and trailer are synced by the writer; -1 makes the writer sync. */
struct deferred {
	int calls;
	int answer;
	ino_t inode;
};

static int count_deferred_sync(void *ctx, int fd)
{
	struct deferred *d = ctx;
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	d->inode = st.st_ino;
	d->calls++;
	return d->answer;
}

static void test_deferred_checkpoint_sync(void **state)
{
	struct fixture *f = *state;
	struct recording_params p = params_bytes(RECORDING_CHECKPOINT_BYTES);
	struct recording_verify_result res;
	struct deferred d = { 0, 0, 0 };
	struct recording_writer *w;
	struct stat st;

	p.checkpoint_ms = 0; /* a checkpoint after every append */
	p.defer_sync = count_deferred_sync;
	p.defer_sync_ctx = &d;
	w = recording_writer_open(f->path, TICKET, SESSION, f->key, &p, f->err, sizeof f->err);
	assert_non_null(w);
	assert_int_equal(d.calls, 0); /* the header's checkpoint 0 is synced by open */
	for (int i = 1; i <= 3; i++)
		assert_int_equal(recording_writer_append(w, RECORDING_EVENT, 0, NULL, 0, (uint64_t)i, "a=b", 3,
		                                         f->err, sizeof f->err), 0);
	assert_int_equal(d.calls, 3);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(d.inode, st.st_ino);
	/* A full queue (-1): the writer syncs itself; with its fsync failing, the
	 * checkpoint fails closed. */
	d.answer = -1;
	assert_int_equal(recording_writer_append(w, RECORDING_EVENT, 0, NULL, 0, 4, "a=b", 3, f->err,
	                                         sizeof f->err), 0);
	assert_int_equal(d.calls, 4);
	assert_int_equal(recording_writer_close(w, NULL, f->err, sizeof f->err), 0);
	assert_int_equal(d.calls, 4); /* the trailer was synced by close itself */
	assert_int_equal(recording_verify(f->path, f->key, &res, f->err, sizeof f->err), RECORDING_INTACT);
	unlink(f->path);

	p.fault_fsync_after = 2; /* open's own two syncs pass, the next one fails */
	d.calls = 0;
	w = recording_writer_open(f->path, TICKET, SESSION, f->key, &p, f->err, sizeof f->err);
	assert_non_null(w);
	assert_int_equal(recording_writer_append(w, RECORDING_EVENT, 0, NULL, 0, 1, "a=b", 3, f->err,
	                                         sizeof f->err), -1);
	assert_int_equal(d.calls, 1);
	assert_non_null(strstr(f->err, "cannot sync recording"));
	recording_writer_close(w, NULL, f->err, sizeof f->err);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_intact_round_trip),
		T(test_flipped_payload_byte_names_record),
		T(test_every_flipped_byte_is_tampered),
		T(test_removed_record),
		T(test_duplicated_record),
		T(test_swapped_records),
		T(test_recomputed_chain_needs_the_key),
		T(test_wrong_key_and_signature),
		T(test_bytes_after_trailer),
		T(test_every_prefix_is_truncated),
		T(test_truncated_file_and_zero_tail),
		T(test_write_failure_fails_closed),
		T(test_invalid_arguments),
		T(test_checkpoint_cadence),
		T(test_deferred_checkpoint_sync),
		T(test_directories_below_root),
		T(test_hostile_inputs),
		T(test_load_key),
	};
#undef T

	return cmocka_run_group_tests_name("recording", tests, NULL, NULL);
}
