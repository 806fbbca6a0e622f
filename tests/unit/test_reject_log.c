/*
 * reject_log.h: lines per key and window (the first N pass, the rest are
 * counted), the count carried by the next line of a new window, summaries
 * from flush only for ended windows with counted lines (and only once),
 * keys kept apart by event, source and reason, a full key table reporting
 * the key it reuses, and log_clean_text on hostile bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "reject_log.h"

struct summaries {
	int n;
	char last[160];
	unsigned long total;
};

static void collect(const char *event, const char *source, const char *reason, unsigned long count,
                    void *arg)
{
	struct summaries *s = arg;

	s->n++;
	s->total += count;
	snprintf(s->last, sizeof s->last, "%s %s %s %lu", event, source, reason, count);
}

static void test_lines_per_window(void **state)
{
	struct reject_log *rl = reject_log_new(3, 10, 16);
	unsigned long suppressed = 99;

	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(reject_log_allow(rl, "agent_refused", "10.0.0.1", "garbage", 100, &suppressed), 1);
		assert_int_equal(suppressed, 0);
	}
	for (int i = 0; i < 7; i++)
		assert_int_equal(reject_log_allow(rl, "agent_refused", "10.0.0.1", "garbage", 105, &suppressed), 0);
	/* Another reason, source or event is another key. */
	assert_int_equal(reject_log_allow(rl, "agent_refused", "10.0.0.1", "timeout", 105, &suppressed), 1);
	assert_int_equal(reject_log_allow(rl, "agent_refused", "10.0.0.2", "garbage", 105, &suppressed), 1);
	assert_int_equal(reject_log_allow(rl, "ssh_refused", "10.0.0.1", "garbage", 105, &suppressed), 1);
	/* Still the window of 100: counted. */
	assert_int_equal(reject_log_allow(rl, "agent_refused", "10.0.0.1", "garbage", 109, &suppressed), 0);
	/* New window: logged, with the 8 counted before. */
	assert_int_equal(reject_log_allow(rl, "agent_refused", "10.0.0.1", "garbage", 110, &suppressed), 1);
	assert_int_equal(suppressed, 8);
	assert_int_equal(reject_log_allow(rl, "agent_refused", "10.0.0.1", "garbage", 111, &suppressed), 1);
	assert_int_equal(suppressed, 0);
	reject_log_free(rl);
}

static void test_flush(void **state)
{
	struct reject_log *rl = reject_log_new(1, 10, 16);
	struct summaries s = { 0 };
	unsigned long suppressed;

	(void)state;
	reject_log_allow(rl, "ssh_refused", "10.0.0.5", "kex_failed", 200, &suppressed);
	for (int i = 0; i < 4; i++)
		reject_log_allow(rl, "ssh_refused", "10.0.0.5", "kex_failed", 201, &suppressed);
	/* A key with nothing counted is never summarised. */
	reject_log_allow(rl, "ssh_refused", "10.0.0.6", "kex_failed", 200, &suppressed);
	assert_int_equal(reject_log_flush_with(rl, 209, collect, &s), 0); /* window not over */
	assert_int_equal(reject_log_flush_with(rl, 210, collect, &s), 1);
	assert_string_equal(s.last, "ssh_refused 10.0.0.5 kex_failed 4");
	/* Reported once: neither a second flush nor the next line repeat it. */
	assert_int_equal(reject_log_flush_with(rl, 230, collect, &s), 0);
	assert_int_equal(reject_log_allow(rl, "ssh_refused", "10.0.0.5", "kex_failed", 231, &suppressed), 1);
	assert_int_equal(suppressed, 0);
	assert_int_equal(reject_log_flush(rl, 300), 0);
	reject_log_free(rl);
}

static void test_full_table_keeps_counts(void **state)
{
	struct reject_log *rl = reject_log_new(1, 10, 2);
	unsigned long suppressed;
	struct summaries s = { 0 };

	(void)state;
	reject_log_allow(rl, "e", "10.0.0.1", "r", 100, &suppressed);
	reject_log_allow(rl, "e", "10.0.0.1", "r", 100, &suppressed); /* counted */
	reject_log_allow(rl, "e", "10.0.0.2", "r", 101, &suppressed);
	/* A third key reuses the oldest (10.0.0.1), reporting its count in a
	 * log line; the newcomer is logged. */
	assert_int_equal(reject_log_allow(rl, "e", "10.0.0.3", "r", 102, &suppressed), 1);
	/* 10.0.0.1 comes back as a fresh key. */
	assert_int_equal(reject_log_allow(rl, "e", "10.0.0.1", "r", 103, &suppressed), 1);
	assert_int_equal(suppressed, 0);
	assert_int_equal(reject_log_flush_with(rl, 200, collect, &s), 0);
	reject_log_free(rl);
}

static void test_clean_text(void **state)
{
	char out[32];

	(void)state;
	log_clean_text(out, sizeof out, "ok \"q\" \\ \x1b[2J\r\n\xff");
	assert_string_equal(out, "ok ?q? ? ?[2J???");
	log_clean_text(out, 4, "abcdef");
	assert_string_equal(out, "abc");
	log_clean_text(out, 1, "abc");
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_per_window),
		cmocka_unit_test(test_flush),
		cmocka_unit_test(test_full_table_keeps_counts),
		cmocka_unit_test(test_clean_text),
	};

	return cmocka_run_group_tests_name("reject_log", tests, NULL, NULL);
}
