/*
 * session_code.h: the forms an end user types (dashes, spaces, plain) give
 * the nine digits; letters, other separators, too few or too many digits
 * and the empty string are refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "session_code.h"

static void test_accepted_forms(void **state)
{
	static const char *const forms[] = { "123-456-789", "123456789", "123 456 789", " 123-456-789 ",
	                                     "1-2-3-4-5-6-7-8-9", "--123 456 789--" };
	char digits[SESSION_CODE_DIGITS + 1];

	(void)state;
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		memset(digits, 'x', sizeof digits);
		if (session_code_normalise(forms[i], digits) != 1)
			fail_msg("\"%s\" refused", forms[i]);
		assert_string_equal(digits, "123456789");
	}
}

static void test_refused_forms(void **state)
{
	static const char *const forms[] = { "", "12345678", "1234567890", "123-456-78x", "123_456_789",
	                                     "123.456.789", "123\t456\t789", "١٢٣٤٥٦٧٨٩", "000-000-0000",
	                                     "-- --" };
	char digits[SESSION_CODE_DIGITS + 1];

	(void)state;
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
		if (session_code_normalise(forms[i], digits) != 0)
			fail_msg("\"%s\" accepted", forms[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted_forms),
		cmocka_unit_test(test_refused_forms),
	};

	return cmocka_run_group_tests_name("session_code", tests, NULL, NULL);
}
