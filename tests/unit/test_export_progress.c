/*
 * export_progress.h: silent when stderr is not a terminal; when enabled,
 * one line rewritten in place with the percentage and the recorded time
 * done of the total, at most one redraw per period, clamped at 100 %, and
 * erased at the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export_progress.h"

#define S 1000000ull

/* Runs fn with stderr going to a temporary file; returns what it wrote. */
static char *capture_stderr(void (*fn)(int enable), int enable)
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	long len;
	char *text;

	assert_non_null(tmp);
	fflush(stderr);
	dup2(fileno(tmp), STDERR_FILENO);
	fn(enable);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	len = ftell(tmp);
	text = calloc(1, (size_t)len + 1);
	rewind(tmp);
	assert_int_equal(fread(text, 1, (size_t)len, tmp), (size_t)len);
	fclose(tmp);
	return text;
}

static void run_progress(int enable)
{
	struct export_progress p;

	export_progress_init(&p, "png", 200 * S);
	if (enable)
		p.enabled = 1; /* as if stderr were a terminal */
	export_progress_update(&p, 50 * S);
	export_progress_update(&p, 60 * S); /* within the period: no redraw */
	export_progress_end(&p);
	export_progress_init(&p, "video", 10 * S);
	if (enable)
		p.enabled = 1;
	export_progress_update(&p, 99 * S); /* past the total: 100 % */
	export_progress_end(&p);
}

static void test_silent_without_terminal(void **state)
{
	char *text = capture_stderr(run_progress, 0);

	(void)state;
	assert_string_equal(text, "");
	free(text);
}

static void test_line_when_enabled(void **state)
{
	char *text = capture_stderr(run_progress, 1);

	(void)state;
	assert_string_equal(text, "\r\033[Kexport png:  25% (00:50 of 03:20 recorded time)\r\033[K"
	                          "\r\033[Kexport video: 100% (00:10 of 00:10 recorded time)\r\033[K");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_silent_without_terminal),
		cmocka_unit_test(test_line_when_enabled),
	};

	return cmocka_run_group_tests_name("export_progress", tests, NULL, NULL);
}
