/*
 * fbs.h: the 12-byte signature, block layout (u32be length, data, zero
 * padding to a multiple of 4 for every remainder, u32be milliseconds),
 * empty blocks skipped, oversized blocks refused, write errors reported.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fbs.h"

static void test_header(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_int_equal(fbs_write_header(f), 0);
	fclose(f);
	assert_int_equal(len, FBS_SIGNATURE_LEN);
	assert_memory_equal(buf, "FBS 001.000\n", 12);
	free(buf);
}

static void test_block_padding(void **state)
{
	(void)state;
	for (size_t n = 1; n <= 8; n++) {
		unsigned char data[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
		unsigned char want[4 + 8 + 3 + 4];
		size_t pad = (4 - n % 4) % 4, wlen = 0;
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		assert_int_equal(fbs_write_block(f, 0x01020304u, data, n), 0);
		fclose(f);
		want[wlen++] = 0, want[wlen++] = 0, want[wlen++] = 0, want[wlen++] = (unsigned char)n;
		memcpy(want + wlen, data, n);
		wlen += n;
		memset(want + wlen, 0, pad);
		wlen += pad;
		want[wlen++] = 1, want[wlen++] = 2, want[wlen++] = 3, want[wlen++] = 4;
		assert_int_equal(len, wlen);
		assert_int_equal(len % 4, 0);
		assert_memory_equal(buf, want, wlen);
		free(buf);
	}
}

static void test_empty_and_oversized(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	unsigned char *big = calloc(1, FBS_MAX_BLOCK + 1);

	(void)state;
	assert_non_null(big);
	assert_int_equal(fbs_write_block(f, 5, "", 0), 0);
	assert_int_equal(fbs_write_block(f, 5, big, FBS_MAX_BLOCK + 1), -1);
	fclose(f);
	assert_int_equal(len, 0);
	free(big);
	free(buf);
}

static void test_write_error(void **state)
{
	FILE *f = fopen("/dev/full", "w");

	(void)state;
	if (f == NULL)
		skip();
	setvbuf(f, NULL, _IONBF, 0);
	assert_int_equal(fbs_write_header(f), -1);
	assert_int_equal(fbs_write_block(f, 1, "abcd", 4), -1);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_block_padding),
		cmocka_unit_test(test_empty_and_oversized),
		cmocka_unit_test(test_write_error),
	};

	return cmocka_run_group_tests_name("fbs", tests, NULL, NULL);
}
