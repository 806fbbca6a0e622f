/*
 * asciicast.h: the header line, "o"/"i"/"r" events with six-decimal times
 * that never go back, JSON escaping of control characters, quotes and
 * backslashes, UTF-8 kept as is, invalid UTF-8 (overlong, surrogate, above
 * U+10FFFF, stray continuation, cut short) turned into U+FFFD per byte, a
 * character split across calls joined, held bytes flushed at close, the
 * size checks, and the UTF-8 length classifier at its boundaries.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asciicast.h"

struct mem_out {
	char *buf;
	size_t len;
	FILE *f;
};

static void mem_open(struct mem_out *m)
{
	m->buf = NULL;
	m->len = 0;
	m->f = open_memstream(&m->buf, &m->len);
	assert_non_null(m->f);
}

/* Closes the stream and returns the text written (caller frees). */
static char *mem_close(struct mem_out *m)
{
	fclose(m->f);
	return m->buf;
}

/* A writer on a memory stream (80x24, timestamp 0). */
static struct asciicast_writer *open_writer(struct mem_out *m)
{
	struct asciicast_writer *w;

	mem_open(m);
	w = asciicast_open(m->f, 80, 24, 0, NULL);
	assert_non_null(w);
	return w;
}

/* Closes the writer and checks the event lines after the header. */
static void expect_events(struct mem_out *m, struct asciicast_writer *w, const char *events)
{
	char *text;

	assert_int_equal(asciicast_close(w), 0);
	text = mem_close(m);
	assert_string_equal(strchr(text, '\n') + 1, events);
	free(text);
}

/* Writes one output event of `data` and returns the whole file text. */
static char *cast_of(const char *data, size_t len)
{
	struct mem_out m;
	struct asciicast_writer *w;

	mem_open(&m);
	w = asciicast_open(m.f, 80, 24, 1700000000, NULL);
	assert_non_null(w);
	assert_int_equal(asciicast_output(w, 1500000, data, len), 0);
	assert_int_equal(asciicast_close(w), 0);
	return mem_close(&m);
}

static void expect_event(const char *data, size_t len, const char *event_line)
{
	char *text = cast_of(data, len);
	const char *second = strchr(text, '\n');

	assert_non_null(second);
	assert_string_equal(second + 1, event_line);
	free(text);
}

static void test_header(void **state)
{
	struct mem_out m;
	struct asciicast_writer *w;
	char *text;

	(void)state;
	mem_open(&m);
	w = asciicast_open(m.f, 100, 30, 1700000123, "INC1 \"x\"");
	assert_non_null(w);
	assert_int_equal(asciicast_events(w), 0);
	assert_int_equal(asciicast_close(w), 0);
	text = mem_close(&m);
	assert_string_equal(text, "{\"version\": 2, \"width\": 100, \"height\": 30, \"timestamp\": 1700000123, "
	                          "\"title\": \"INC1 \\\"x\\\"\"}\n");
	free(text);
}

static void test_sizes_checked(void **state)
{
	FILE *f = fopen("/dev/null", "w");

	(void)state;
	assert_null(asciicast_open(f, 0, 24, 0, NULL));
	assert_null(asciicast_open(f, 80, 0, 0, NULL));
	assert_null(asciicast_open(f, ASCIICAST_MAX_SIDE + 1, 24, 0, NULL));
	assert_null(asciicast_open(f, 80, ASCIICAST_MAX_SIDE + 1, 0, NULL));
	fclose(f);
}

static void test_plain_and_escapes(void **state)
{
	(void)state;
	expect_event("ls\r\n", 4, "[1.500000, \"o\", \"ls\\r\\n\"]\n");
	expect_event("\"a\\b\"\t\b\f", 8, "[1.500000, \"o\", \"\\\"a\\\\b\\\"\\t\\b\\f\"]\n");
	expect_event("\x1b[0m\x7f", 5, "[1.500000, \"o\", \"\\u001b[0m\\u007f\"]\n");
	expect_event("a\0b", 3, "[1.500000, \"o\", \"a\\u0000b\"]\n");
}

static void test_valid_utf8_kept(void **state)
{
	(void)state;
	/* 2, 3 and 4 byte characters, at the edges of their ranges */
	expect_event("\xc2\x80\xdf\xbf", 4, "[1.500000, \"o\", \"\xc2\x80\xdf\xbf\"]\n");
	expect_event("\xe0\xa0\x80\xed\x9f\xbf\xef\xbf\xbf", 9,
	             "[1.500000, \"o\", \"\xe0\xa0\x80\xed\x9f\xbf\xef\xbf\xbf\"]\n");
	expect_event("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", 8,
	             "[1.500000, \"o\", \"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"]\n");
}

static void test_invalid_utf8_replaced(void **state)
{
	(void)state;
	expect_event("a\xff" "b", 3, "[1.500000, \"o\", \"a\\ufffdb\"]\n");              /* never valid */
	expect_event("\x80", 1, "[1.500000, \"o\", \"\\ufffd\"]\n");                      /* stray continuation */
	expect_event("\xc0\xaf", 2, "[1.500000, \"o\", \"\\ufffd\\ufffd\"]\n");           /* overlong '/' */
	expect_event("\xe0\x80\xaf", 3, "[1.500000, \"o\", \"\\ufffd\\ufffd\\ufffd\"]\n"); /* overlong */
	expect_event("\xed\xa0\x80", 3, "[1.500000, \"o\", \"\\ufffd\\ufffd\\ufffd\"]\n"); /* surrogate */
	expect_event("\xf4\x90\x80\x80", 4,
	             "[1.500000, \"o\", \"\\ufffd\\ufffd\\ufffd\\ufffd\"]\n");            /* > U+10FFFF */
	expect_event("\xc3" "x", 2, "[1.500000, \"o\", \"\\ufffdx\"]\n");                /* cut by ASCII */
}

static void test_split_character_joined(void **state)
{
	struct mem_out m;
	struct asciicast_writer *w = open_writer(&m);

	(void)state;
	assert_int_equal(asciicast_output(w, 1000, "h\xc3", 2), 0);
	assert_int_equal(asciicast_output(w, 2000, "\xa9!", 2), 0);
	/* a whole event held back is written with the completing call's time */
	assert_int_equal(asciicast_output(w, 3000, "\xe2\x82", 2), 0);
	assert_int_equal(asciicast_output(w, 4000, "\xac", 1), 0);
	assert_int_equal(asciicast_events(w), 3);
	expect_events(&m, w, "[0.001000, \"o\", \"h\"]\n"
	                     "[0.002000, \"o\", \"\xc3\xa9!\"]\n"
	                     "[0.004000, \"o\", \"\xe2\x82\xac\"]\n");
}

static void test_held_bytes_flushed_at_close(void **state)
{
	struct mem_out m;
	struct asciicast_writer *w = open_writer(&m);

	(void)state;
	assert_int_equal(asciicast_output(w, 5000000, "ok\xf0\x9f", 4), 0);
	expect_events(&m, w, "[5.000000, \"o\", \"ok\"]\n"
	                     "[5.000000, \"o\", \"\\ufffd\\ufffd\"]\n");
}

static void test_input_resize_and_time_order(void **state)
{
	struct mem_out m;
	struct asciicast_writer *w = open_writer(&m);

	(void)state;
	assert_int_equal(asciicast_input(w, 2000000, "y\r", 2), 0);
	assert_int_equal(asciicast_resize(w, 1000000, 120, 40), 0); /* earlier: raised to 2 s */
	assert_int_equal(asciicast_resize(w, 3000000, 0, 40), 0);   /* nonsense: no event */
	assert_int_equal(asciicast_output(w, 61234567, "", 0), 0);  /* empty: no event */
	assert_int_equal(asciicast_events(w), 2);
	expect_events(&m, w, "[2.000000, \"i\", \"y\\r\"]\n"
	                     "[2.000000, \"r\", \"120x40\"]\n");
}

static void test_write_error_reported(void **state)
{
	FILE *f = fopen("/dev/full", "w");
	struct asciicast_writer *w;

	(void)state;
	if (f == NULL)
		skip();
	setvbuf(f, NULL, _IONBF, 0);
	w = asciicast_open(f, 80, 24, 0, NULL);
	assert_non_null(w);
	assert_int_equal(asciicast_output(w, 1, "x", 1), -1);
	assert_int_equal(asciicast_close(w), -1);
	fclose(f);
}

static void test_char_len(void **state)
{
	(void)state;
	assert_int_equal(asciicast_utf8_char_len((const unsigned char *)"A", 1), 1);
	assert_int_equal(asciicast_utf8_char_len((const unsigned char *)"\xc2", 1), -1);
	assert_int_equal(asciicast_utf8_char_len((const unsigned char *)"\xc1\xbf", 2), 0);
	assert_int_equal(asciicast_utf8_char_len((const unsigned char *)"\xe0\x9f\x80", 3), 0);
	assert_int_equal(asciicast_utf8_char_len((const unsigned char *)"\xe0\xa0", 2), -1);
	assert_int_equal(asciicast_utf8_char_len((const unsigned char *)"\xf0\x8f\x80\x80", 4), 0);
	assert_int_equal(asciicast_utf8_char_len((const unsigned char *)"\xf4\x8f\xbf\xbf", 4), 4);
	assert_int_equal(asciicast_utf8_char_len((const unsigned char *)"\xf5\x80\x80\x80", 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_sizes_checked),
		cmocka_unit_test(test_plain_and_escapes),
		cmocka_unit_test(test_valid_utf8_kept),
		cmocka_unit_test(test_invalid_utf8_replaced),
		cmocka_unit_test(test_split_character_joined),
		cmocka_unit_test(test_held_bytes_flushed_at_close),
		cmocka_unit_test(test_input_resize_and_time_order),
		cmocka_unit_test(test_write_error_reported),
		cmocka_unit_test(test_char_len),
	};

	return cmocka_run_group_tests_name("asciicast", tests, NULL, NULL);
}
