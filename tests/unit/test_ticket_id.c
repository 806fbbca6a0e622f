/*
 * ticket_id.h: the default pattern, whole-id anchoring (also for "A|B"
 * patterns), the pattern-independent safety rules (length, printable ASCII,
 * no spaces, slashes or leading dot) and refusal of invalid regexes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concierge_limits.h"
#include "config.h"
#include "ticket_id.h"

static struct ticket_matcher *matcher_of(const char *pattern)
{
	struct ticket_matcher *m = NULL;
	char err[256] = "";

	if (ticket_matcher_new(pattern, &m, err, sizeof err) != 0)
		fail_msg("pattern '%s' refused: %s", pattern, err);
	assert_non_null(m);
	return m;
}

static void expect_valid(const struct ticket_matcher *m, const char *id)
{
	if (ticket_id_valid(m, id) != 1)
		fail_msg("'%s' should be accepted", id);
}

static void expect_invalid(const struct ticket_matcher *m, const char *id)
{
	if (ticket_id_valid(m, id) != 0)
		fail_msg("'%s' should be refused", id);
}

static void test_default_pattern_accepts(void **state)
{
	struct ticket_matcher *m = matcher_of(CONFIG_DEFAULT_TICKET_PATTERN);
	static const char *const good[] = {
		"INC0012345", "RITM0001234", "HD-4711", "CHG0000042", "REQ0000001", "PRB1234567",
		"TASK0000007", "SCTASK0000007", "A-1", "JIRA9-1234567890", "Z0Z0Z0Z0Z0-9",
	};

	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		expect_valid(m, good[i]);
	ticket_matcher_free(m);
}

static void test_default_pattern_refuses(void **state)
{
	struct ticket_matcher *m = matcher_of(CONFIG_DEFAULT_TICKET_PATTERN);
	static const char *const bad[] = {
		"", "INC123", "INC00123456", "inc0012345", "INC0012345 ", " INC0012345",
		"INC0012345;rm", "INC0012345\n", "XYZ0012345", "hd-4711", "HD-", "-4711",
		"HD-12345678901", "ABCDEFGHIJK-1", "HD4711", "HD--4711", "../x", ".hidden",
		"INC0012345/..", "HD-4711x",
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		expect_invalid(m, bad[i]);
	ticket_matcher_free(m);
}

/* With ".*" the pattern allows anything: the built-in rules still hold. */
static void test_safety_rules_beat_permissive_pattern(void **state)
{
	struct ticket_matcher *m = matcher_of(".*");
	static const char *const bad[] = {
		"", "../x", "..", ".", ".hidden", "a/b", "/etc", "a\\b", "a b", "a\tb", "a\nb",
		"a\rb", "a\x7f", "\x01x", "caf\xc3\xa9", "INC\xe2\x80\x8b" "0012345", "\xff",
		"INC0012345 ", "INC0012345;rm -rf",
	};

	(void)state;
	expect_valid(m, "anything-goes_here:1,2@x");
	expect_valid(m, "a.b");
	expect_valid(m, "INC0012345;rm"); /* printable, no space: the pattern decides */
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		expect_invalid(m, bad[i]);
	ticket_matcher_free(m);
}

static void test_length_limit(void **state)
{
	struct ticket_matcher *any = matcher_of(".*");
	struct ticket_matcher *digits = matcher_of("T[0-9]+");
	char id[TICKET_ID_MAX + 64];

	(void)state;
	memset(id, 'A', TICKET_ID_MAX);
	id[TICKET_ID_MAX] = '\0';
	expect_valid(any, id);
	id[TICKET_ID_MAX] = 'A';
	id[TICKET_ID_MAX + 1] = '\0';
	expect_invalid(any, id);
	memset(id, 'A', sizeof id - 1);
	id[sizeof id - 1] = '\0';
	expect_invalid(any, id);

	id[0] = 'T';
	memset(id + 1, '7', TICKET_ID_MAX - 1);
	id[TICKET_ID_MAX] = '\0';
	expect_valid(digits, id);
	id[TICKET_ID_MAX] = '7';
	id[TICKET_ID_MAX + 1] = '\0';
	expect_invalid(digits, id);
	ticket_matcher_free(any);
	ticket_matcher_free(digits);
}

/* "A|B" must mean ^(A|B)$, not ^A|B$. */
static void test_alternation_anchored_as_a_whole(void **state)
{
	struct ticket_matcher *m = matcher_of("INC[0-9]+|HD-[0-9]+");

	(void)state;
	expect_valid(m, "INC1");
	expect_valid(m, "HD-1");
	expect_invalid(m, "xxHD-1");
	expect_invalid(m, "INC1yy");
	expect_invalid(m, "INC1HD-1");
	expect_invalid(m, "HD-1INC1");
	expect_invalid(m, "xINC1");
	expect_invalid(m, "HD-1-");
	ticket_matcher_free(m);

	/* Patterns that already carry anchors keep working. */
	m = matcher_of("^CHG[0-9]{3}$");
	expect_valid(m, "CHG123");
	expect_invalid(m, "CHG1234");
	expect_invalid(m, "xCHG123");
	ticket_matcher_free(m);

	/* Leftmost-longest: a shorter alternative must not hide the full match. */
	m = matcher_of("A|AB");
	expect_valid(m, "A");
	expect_valid(m, "AB");
	expect_invalid(m, "ABC");
	ticket_matcher_free(m);
}

/* A pattern must not be able to close the anchoring group and escape it. */
static void test_pattern_cannot_break_anchoring(void **state)
{
	struct ticket_matcher *m = NULL;
	char err[256] = "";

	(void)state;
	/* Not a valid ERE on its own (unbalanced parentheses): refused. */
	assert_int_equal(ticket_matcher_new("INC[0-9]+)|(.*", &m, err, sizeof err), -1);
	assert_null(m);
	assert_non_null(strstr(err, "regex"));
	err[0] = '\0';
	assert_int_equal(ticket_matcher_new("x)(y", &m, err, sizeof err), -1);
	assert_null(m);
	assert_true(err[0] != '\0');

	/* Whatever a pattern looks like, only whole-id matches count. */
	/* glibc takes a lone ')' as a literal, so this is a valid ERE on its own;
	 * wrapped naively as ^(...)$ its ')' would close the anchoring group. */
	m = NULL;
	if (ticket_matcher_new("INC[0-9]+|HD-[0-9]+)|ZZ", &m, err, sizeof err) == 0) {
		expect_invalid(m, "INC1yy");
		expect_invalid(m, "xxINC1");
		expect_invalid(m, "HD-1zzz");
		expect_invalid(m, "aaZZ)");
		expect_invalid(m, "xyz");
		ticket_matcher_free(m);
	}
}

static void test_bad_regex(void **state)
{
	static const char *const bad[] = { "INC[0-9", "(INC", "INC{2", "*[", "a{1,2,3}", "+a", "a{2,1}" };
	static struct ticket_matcher *const poison = (struct ticket_matcher *)&poison;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct ticket_matcher *m = poison; /* must be reset to NULL */
		char err[256] = "";

		if (ticket_matcher_new(bad[i], &m, err, sizeof err) != -1)
			fail_msg("'%s' accepted as a regex", bad[i]);
		assert_null(m);
		if (strstr(err, "ticket_pattern is not a valid POSIX extended regex") == NULL)
			fail_msg("'%s': message '%s'", bad[i], err);
		assert_true(strlen(err) > strlen("ticket_pattern is not a valid POSIX extended regex: "));
	}
}

static void test_free_null(void **state)
{
	(void)state;
	ticket_matcher_free(NULL);
}

static void test_matchers_are_independent(void **state)
{
	struct ticket_matcher *a = matcher_of("A[0-9]"), *b = matcher_of("B[0-9]");

	(void)state;
	expect_valid(a, "A1");
	expect_invalid(a, "B1");
	expect_valid(b, "B1");
	expect_invalid(b, "A1");
	ticket_matcher_free(a);
	expect_valid(b, "B2");
	ticket_matcher_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_pattern_accepts),
		cmocka_unit_test(test_default_pattern_refuses),
		cmocka_unit_test(test_safety_rules_beat_permissive_pattern),
		cmocka_unit_test(test_length_limit),
		cmocka_unit_test(test_alternation_anchored_as_a_whole),
		cmocka_unit_test(test_pattern_cannot_break_anchoring),
		cmocka_unit_test(test_bad_regex),
		cmocka_unit_test(test_free_null),
		cmocka_unit_test(test_matchers_are_independent),
	};

	return cmocka_run_group_tests_name("ticket_id", tests, NULL, NULL);
}
