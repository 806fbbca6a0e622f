/*
 * ssh_command_line.h: splitting on the runner's and the shell's separator
 * sets, the length and word-count limits (exact boundaries), and the
 * `shell SESSION [--view-only]` parser with every malformed variant.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "ssh_command_line.h"

static void test_split_words(void **state)
{
	struct ssh_command_words w;

	(void)state;
	assert_int_equal(ssh_command_split("  session\tnew --ticket INC0012345\r\n", " \t\r\n",
	                                   SSH_COMMAND_MAX_ARGS, &w), SSH_SPLIT_OK);
	assert_int_equal(w.argc, 4);
	assert_string_equal(w.argv[0], "session");
	assert_string_equal(w.argv[1], "new");
	assert_string_equal(w.argv[2], "--ticket");
	assert_string_equal(w.argv[3], "INC0012345");
	assert_null(w.argv[4]);

	/* Only spaces and tabs separate for the shell: CR stays in the word. */
	assert_int_equal(ssh_command_split("shell s1\r", " \t", 3, &w), SSH_SPLIT_OK);
	assert_int_equal(w.argc, 2);
	assert_string_equal(w.argv[1], "s1\r");

	assert_int_equal(ssh_command_split(" \t ", " \t", 3, &w), SSH_SPLIT_OK);
	assert_int_equal(w.argc, 0);
	assert_null(w.argv[0]);
}

static void test_split_limits(void **state)
{
	char line[SSH_COMMAND_MAX + 2];
	struct ssh_command_words w;

	(void)state;
	memset(line, 'a', SSH_COMMAND_MAX);
	line[SSH_COMMAND_MAX] = '\0';
	assert_int_equal(ssh_command_split(line, " ", 1, &w), SSH_SPLIT_OK);
	assert_int_equal(strlen(w.argv[0]), SSH_COMMAND_MAX);
	strcat(line, "a");
	assert_int_equal(ssh_command_split(line, " ", 1, &w), SSH_SPLIT_TOO_LONG);
	assert_int_equal(w.argc, 0);

	assert_int_equal(ssh_command_split("a b c d e f g h", " ", SSH_COMMAND_MAX_ARGS, &w), SSH_SPLIT_OK);
	assert_int_equal(w.argc, 8);
	assert_int_equal(ssh_command_split("a b c d e f g h i", " ", SSH_COMMAND_MAX_ARGS, &w),
	                 SSH_SPLIT_TOO_MANY);
	assert_int_equal(w.argc, 0);
	assert_null(w.argv[0]);
}

static void test_shell_request(void **state)
{
	static const char *const malformed[] = {
		"shell", "shell ", "shell s1 --view", "shell s1 --view-only x", "shell s1 extra",
		"shel s1", "shell\ts1\t--view-only\tmore",
		"shell AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* 65 */
	};
	char ref[TICKET_ID_MAX + 1];
	int view_only = -1;

	(void)state;
	assert_int_equal(ssh_shell_request_parse("shell s1a2b3c4d", ref, &view_only), 0);
	assert_string_equal(ref, "s1a2b3c4d");
	assert_int_equal(view_only, 0);
	assert_int_equal(ssh_shell_request_parse("shell\tINC0012345  --view-only", ref, &view_only), 0);
	assert_string_equal(ref, "INC0012345");
	assert_int_equal(view_only, 1);
	/* 64 bytes is the longest reference. */
	assert_int_equal(ssh_shell_request_parse(
		"shell AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", ref, &view_only), 0);
	assert_int_equal(strlen(ref), TICKET_ID_MAX);
	for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++)
		if (ssh_shell_request_parse(malformed[i], ref, &view_only) != -1)
			fail_msg("\"%s\" accepted", malformed[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_words),
		cmocka_unit_test(test_split_limits),
		cmocka_unit_test(test_shell_request),
	};

	return cmocka_run_group_tests_name("ssh_command_line", tests, NULL, NULL);
}
