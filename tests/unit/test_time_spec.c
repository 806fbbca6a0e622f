/*
 * time_spec.h: intervals (ms/s/m/h, bare seconds, fractions, bounds, junk
 * refused), positions (SS, MM:SS, HH:MM:SS, fractions, 60 refused after a
 * colon, bounds, junk refused, *out untouched on refusal), file stamps
 * (fixed width, with and without hours) and clock labels.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "time_spec.h"

#define S 1000000ull

static uint64_t interval(const char *text)
{
	uint64_t us = 12345;

	if (time_spec_parse_interval(text, &us) != 0)
		fail_msg("interval '%s' refused", text);
	return us;
}

static uint64_t position(const char *text)
{
	uint64_t us = 12345;

	if (time_spec_parse_position(text, &us) != 0)
		fail_msg("position '%s' refused", text);
	return us;
}

static void test_intervals(void **state)
{
	(void)state;
	assert_int_equal(interval("500ms"), 500000);
	assert_int_equal(interval("5s"), 5 * S);
	assert_int_equal(interval("1m"), 60 * S);
	assert_int_equal(interval("2h"), 7200 * S);
	assert_int_equal(interval("7"), 7 * S);
	assert_int_equal(interval("1.5s"), 1500000);
	assert_int_equal(interval("0.25m"), 15 * S);
	assert_int_equal(interval("1ms"), 1000);
	assert_int_equal(interval("86400s"), 86400 * S);
}

static void test_bad_intervals(void **state)
{
	static const char *bad[] = { "", "0", "0s", "0.5ms", "-5s", "+5s", "5 s", " 5s", "5s ", "5x", "5sec",
	                             "s", ".5s", "5.s", "5.1234567s", "86401s", "25h", "1234567890s",
	                             "5S", "5ms5", "0x10" };
	uint64_t us = 777;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (time_spec_parse_interval(bad[i], &us) != -1)
			fail_msg("interval '%s' accepted", bad[i]);
	assert_int_equal(us, 777);
}

static void test_positions(void **state)
{
	(void)state;
	assert_int_equal(position("0"), 0);
	assert_int_equal(position("90"), 90 * S);
	assert_int_equal(position("01:30"), 90 * S);
	assert_int_equal(position("75:00"), 4500 * S);
	assert_int_equal(position("1:02:03"), 3723 * S);
	assert_int_equal(position("00:05.250"), 5250000);
	assert_int_equal(position("2.5"), 2500000);
}

static void test_bad_positions(void **state)
{
	static const char *bad[] = { "", ":", "1:", ":30", "1:60", "1:60:00", "1:00:60", "1:2:3:4", "a",
	                             "1:3a", "-1", "1..5", "1:30.", "100:00:01", "1 :30" };
	uint64_t us = 777;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (time_spec_parse_position(bad[i], &us) != -1)
			fail_msg("position '%s' accepted", bad[i]);
	assert_int_equal(us, 777);
}

static void test_formats(void **state)
{
	char out[TIME_SPEC_TEXT_MAX];

	(void)state;
	time_spec_file_stamp(5 * S, 0, out);
	assert_string_equal(out, "00m05.000s");
	time_spec_file_stamp(65 * S + 250000, 0, out);
	assert_string_equal(out, "01m05.250s");
	time_spec_file_stamp(3725 * S + 7000, 1, out);
	assert_string_equal(out, "01h02m05.007s");
	time_spec_file_stamp(5 * S, 1, out);
	assert_string_equal(out, "00h00m05.000s");
	time_spec_clock(0, out);
	assert_string_equal(out, "00:00");
	time_spec_clock(599 * S + 999999, out);
	assert_string_equal(out, "09:59");
	time_spec_clock(3725 * S, out);
	assert_string_equal(out, "1:02:05");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intervals),
		cmocka_unit_test(test_bad_intervals),
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_bad_positions),
		cmocka_unit_test(test_formats),
	};

	return cmocka_run_group_tests_name("time_spec", tests, NULL, NULL);
}
