/*
 * secrets.h: random hex and digits (length, alphabet, termination without
 * writing past it, calls that differ, every symbol reachable, digits close
 * to uniform), SHA-256 against published vectors, hex encoding, and
 * secret_equal on equal, unequal and different-length strings.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "secrets.h"

#define GUARD 'X'
#define DIGIT_SAMPLES 100000
#define DIGIT_CHUNK 1000

/* buf[size], filled with GUARD before, now holds `len` chars of `alphabet`,
 * a NUL, and GUARD after it. */
static void expect_terminated(const char *buf, size_t size, size_t len, const char *alphabet)
{
	assert_int_equal(strlen(buf), len);
	assert_int_equal(strspn(buf, alphabet), len);
	for (size_t i = len + 1; i < size; i++)
		assert_int_equal(buf[i], GUARD);
}

static void test_random_hex(void **state)
{
	static const char hex[] = "0123456789abcdef";
	char a[70], b[70], first[70];
	int seen[16] = { 0 }, varies[64] = { 0 };

	(void)state;
	for (size_t n = 1; n <= 32; n++) {
		memset(a, GUARD, sizeof a);
		secret_random_hex(a, n);
		expect_terminated(a, sizeof a, 2 * n, hex);
	}
	memset(b, GUARD, sizeof b);
	secret_random_hex(a, 32);
	secret_random_hex(b, 32);
	assert_string_not_equal(a, b);
	/* All 16 digits turn up in 4096, and no position keeps one digit. */
	secret_random_hex(first, 32);
	for (int round = 0; round < 64; round++) {
		secret_random_hex(a, 32);
		for (int i = 0; i < 64; i++) {
			seen[strchr(hex, a[i]) - hex]++;
			varies[i] |= a[i] != first[i];
		}
	}
	for (int d = 0; d < 16; d++)
		assert_true(seen[d] > 0);
	for (int i = 0; i < 64; i++)
		assert_true(varies[i]);
}

static void test_random_digits(void **state)
{
	char a[DIGIT_CHUNK + 8], b[DIGIT_CHUNK + 8];
	long counts[10] = { 0 };

	(void)state;
	for (size_t n = 1; n <= 20; n++) {
		memset(a, GUARD, sizeof a);
		secret_random_digits(a, n);
		expect_terminated(a, n + 8, n, "0123456789");
	}
	secret_random_digits(a, 20);
	secret_random_digits(b, 20);
	assert_string_not_equal(a, b);

	for (int chunk = 0; chunk < DIGIT_SAMPLES / DIGIT_CHUNK; chunk++) {
		memset(a, GUARD, sizeof a);
		secret_random_digits(a, DIGIT_CHUNK);
		expect_terminated(a, sizeof a, DIGIT_CHUNK, "0123456789");
		for (const char *p = a; *p; p++)
			counts[*p - '0']++;
	}
	/* Expected 10000 each (sd ~95): 8%..12% is far outside chance. */
	for (int d = 0; d < 10; d++) {
		if (counts[d] < DIGIT_SAMPLES * 8 / 100 || counts[d] > DIGIT_SAMPLES * 12 / 100)
			fail_msg("digit %d: %ld of %d", d, counts[d], DIGIT_SAMPLES);
	}
}

static void test_sha256(void **state)
{
	char out[SHA256_HEX_LEN];

	(void)state;
	secret_sha256_hex("abc", 3, out);
	assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	secret_sha256_hex("", 0, out);
	assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	secret_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, out);
	assert_string_equal(out, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	/* Only `len` bytes count: the first of "abc" is "a". */
	secret_sha256_hex("abc", 1, out);
	assert_string_equal(out, "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb");
}

static void test_to_hex(void **state)
{
	static const unsigned char bytes[] = { 0x00, 0x7f, 0x80, 0xff, 0xa5, 0x0c };
	char out[2 * sizeof bytes + 1];

	(void)state;
	secret_to_hex(bytes, sizeof bytes, out);
	assert_string_equal(out, "007f80ffa50c");
	secret_to_hex(bytes, 0, out);
	assert_string_equal(out, "");
}

static void test_secret_equal(void **state)
{
	(void)state;
	assert_int_equal(secret_equal("", ""), 1);
	assert_int_equal(secret_equal("0123abcd", "0123abcd"), 1);
	assert_int_equal(secret_equal("0123abcd", "1123abcd"), 0);
	assert_int_equal(secret_equal("0123abcd", "0123abce"), 0);
	assert_int_equal(secret_equal("0123abcd", "0123ABCD"), 0);
	assert_int_equal(secret_equal("abc", "abcd"), 0);
	assert_int_equal(secret_equal("abcd", "abc"), 0);
	assert_int_equal(secret_equal("", "a"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_hex),
		cmocka_unit_test(test_random_digits),
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_to_hex),
		cmocka_unit_test(test_secret_equal),
	};

	return cmocka_run_group_tests_name("secrets", tests, NULL, NULL);
}
