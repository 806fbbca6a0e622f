/*
 * wire.h: parsing of well-formed lines (fields, percent-decoding, limits at
 * their exact bounds), refusal of every malformed shape the header rules
 * out, wire_get, and wire_format (its encoding, round trips through
 * wire_parse of values holding spaces, '=', '%', newlines and UTF-8, and -1
 * when the buffer or WIRE_MAX_LINE is too small).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "concierge_limits.h"
#include "wire.h"

/* Room for lines well past WIRE_MAX_LINE, so only the limit can refuse them. */
#define BIG (4 * WIRE_MAX_LINE)

static int parse_str(const char *line, struct wire_msg *msg)
{
	return wire_parse(line, strlen(line), msg);
}

static void expect_rejected_len(const char *line, size_t len)
{
	struct wire_msg msg;

	if (wire_parse(line, len, &msg) != -1)
		fail_msg("wire_parse accepted \"%.*s\" (%zu bytes)", (int)(len > 80 ? 80 : len), line, len);
}

static void expect_rejected(const char *line)
{
	expect_rejected_len(line, strlen(line));
}

/* `n` copies of `c` then NUL in buf[n + 1]. */
static char *repeat(char *buf, char c, size_t n)
{
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

static void test_parse_hello(void **state)
{
	struct wire_msg msg;

	(void)state;
	assert_int_equal(parse_str("HELLO code=123-456-789 host=lab-pc.example.org version=1", &msg), 0);
	assert_string_equal(msg.verb, "HELLO");
	assert_int_equal(msg.nfields, 3);
	assert_string_equal(msg.fields[0].key, "code");
	assert_string_equal(msg.fields[0].value, "123-456-789");
	assert_string_equal(wire_get(&msg, "host"), "lab-pc.example.org");
	assert_string_equal(wire_get(&msg, "version"), "1");

	assert_int_equal(parse_str("PING", &msg), 0);
	assert_string_equal(msg.verb, "PING");
	assert_int_equal(msg.nfields, 0);

	/* Every plain byte as itself, an empty value, and a key with '_'. */
	assert_int_equal(parse_str("CONSENT the_key=aZ09._:@+/- empty=", &msg), 0);
	assert_string_equal(wire_get(&msg, "the_key"), "aZ09._:@+/-");
	assert_string_equal(wire_get(&msg, "empty"), "");

	/* Only `len` bytes count: what follows is not read. */
	assert_int_equal(wire_parse("BYE k=v junk", 7, &msg), 0);
	assert_int_equal(msg.nfields, 1);
	assert_string_equal(wire_get(&msg, "k"), "v");
}

static void test_percent_decoding(void **state)
{
	struct wire_msg msg;

	(void)state;
	assert_int_equal(parse_str("HELLO name=Dr%20Ada%20Lovelace eq=a%3Db pct=100%25 "
	                           "low=%2f%2F utf=caf%C3%A9 nl=a%0Ab", &msg), 0);
	assert_string_equal(wire_get(&msg, "name"), "Dr Ada Lovelace");
	assert_string_equal(wire_get(&msg, "eq"), "a=b");
	assert_string_equal(wire_get(&msg, "pct"), "100%");
	assert_string_equal(wire_get(&msg, "low"), "//");
	assert_string_equal(wire_get(&msg, "utf"), "caf\xc3\xa9");
	assert_string_equal(wire_get(&msg, "nl"), "a\nb");
}

static void test_wire_get_missing(void **state)
{
	struct wire_msg msg;

	(void)state;
	assert_int_equal(parse_str("RESUME session=s0123abcd token=ff", &msg), 0);
	assert_null(wire_get(&msg, "code"));
	assert_null(wire_get(&msg, "sess"));     /* a prefix is not the key */
	assert_null(wire_get(&msg, "sessions")); /* nor is a longer name */
	assert_null(wire_get(&msg, ""));
	assert_string_equal(wire_get(&msg, "token"), "ff");
}

static void test_verb_rules(void **state)
{
	char line[64];
	struct wire_msg msg;

	(void)state;
	expect_rejected("hello k=v");
	expect_rejected("Hello");
	expect_rejected("HELLO2");
	expect_rejected("HEL_LO");
	expect_rejected("");
	expect_rejected(" k=v");
	expect_rejected("\x80");
	assert_int_equal(parse_str(repeat(line, 'A', WIRE_MAX_VERB), &msg), 0);
	assert_int_equal(strlen(msg.verb), WIRE_MAX_VERB);
	expect_rejected(repeat(line, 'A', WIRE_MAX_VERB + 1));
}

static void test_key_rules(void **state)
{
	char line[64], key[WIRE_MAX_KEY + 2];
	struct wire_msg msg;

	(void)state;
	expect_rejected("A K=v");
	expect_rejected("A kEy=v");
	expect_rejected("A k1=v");
	expect_rejected("A k-x=v");
	expect_rejected("A =v");
	expect_rejected("A k");
	expect_rejected("A kv k");
	expect_rejected("A k=v other");
	expect_rejected("A k=v k=w");
	expect_rejected("A k=v j=x k=v");

	snprintf(line, sizeof line, "A %s=v", repeat(key, 'k', WIRE_MAX_KEY));
	assert_int_equal(parse_str(line, &msg), 0);
	assert_string_equal(wire_get(&msg, key), "v");
	snprintf(line, sizeof line, "A %s=v", repeat(key, 'k', WIRE_MAX_KEY + 1));
	expect_rejected(line);
}

/* "A a=x b=x ..." with `n` fields. */
static void fields_line(char *line, size_t len, int n)
{
	size_t pos = (size_t)snprintf(line, len, "A");

	for (int i = 0; i < n; i++)
		pos += (size_t)snprintf(line + pos, len - pos, " %c=x", 'a' + i);
}

static void test_field_count(void **state)
{
	char line[128];
	struct wire_msg msg;

	(void)state;
	fields_line(line, sizeof line, WIRE_MAX_FIELDS);
	assert_int_equal(parse_str(line, &msg), 0);
	assert_int_equal(msg.nfields, WIRE_MAX_FIELDS);
	fields_line(line, sizeof line, WIRE_MAX_FIELDS + 1);
	expect_rejected(line);
}

/* "A k=" then `n` encoded bytes ("%41" each when `encoded`, else "x"). */
static void value_line(char *line, size_t n, int encoded)
{
	size_t pos = (size_t)snprintf(line, BIG, "A k=");

	for (size_t i = 0; i < n; i++)
		pos += (size_t)snprintf(line + pos, BIG - pos, "%s", encoded ? "%41" : "x");
}

static void test_value_length(void **state)
{
	static char line[BIG];
	struct wire_msg msg;

	(void)state;
	value_line(line, WIRE_MAX_VALUE, 0);
	assert_int_equal(parse_str(line, &msg), 0);
	assert_int_equal(strlen(wire_get(&msg, "k")), WIRE_MAX_VALUE);
	value_line(line, WIRE_MAX_VALUE + 1, 0);
	expect_rejected(line);

	/* The limit applies after decoding: 3 * 256 encoded bytes are fine. */
	value_line(line, WIRE_MAX_VALUE, 1);
	assert_true(strlen(line) < WIRE_MAX_LINE);
	assert_int_equal(parse_str(line, &msg), 0);
	assert_int_equal(strlen(wire_get(&msg, "k")), WIRE_MAX_VALUE);
	assert_int_equal(wire_get(&msg, "k")[0], 'A');
	value_line(line, WIRE_MAX_VALUE + 1, 1);
	assert_true(strlen(line) < WIRE_MAX_LINE);
	expect_rejected(line);
}

static void test_bad_percent(void **state)
{
	(void)state;
	expect_rejected("A k=%G1");
	expect_rejected("A k=%1G");
	expect_rejected("A k=%zz");
	expect_rejected("A k=%%41");
	expect_rejected("A k=%00");
	expect_rejected("A k=a%00b");
	expect_rejected("A k=%");
	expect_rejected("A k=%4");
	expect_rejected("A k=ab%4");
	expect_rejected("A k=%4 j=v");
	expect_rejected("A k=% j=v");
	expect_rejected_len("A k=%41", 6); /* the '1' lies past len */
	expect_rejected_len("A k=%41", 5);
}

static void test_spaces(void **state)
{
	(void)state;
	expect_rejected("A  k=v");
	expect_rejected("A k=v  j=w");
	expect_rejected("A k=v ");
	expect_rejected("A ");
	expect_rejected("A\tk=v");
	expect_rejected("A k=a b");
}

static void test_bytes_outside_plain_set(void **state)
{
	static const char *const lines[] = {
		"A k=\"v\"", "A k=a\nb", "A k=v\n", "A k=v\r", "A k=\x80", "A k=caf\xc3\xa9", "A k=a=b",
		"A k=a,b", "A k=a;b", "A k=a%b", "A k=~", "A k=a\\b", "A k=#",
	};
	static const char nul_inside[] = "A k=a\0b";

	(void)state;
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
		expect_rejected(lines[i]);
	expect_rejected_len(nul_inside, sizeof nul_inside - 1);
}

/*
 * A valid line of exactly 1 + 4 * 255 + 3 + tail = 1024 + tail bytes:
 * "A", four fields " a=<252 x>", then " e=" and `tail` more x's.  No value
 * is near WIRE_MAX_VALUE, so only the line limit can refuse it.
 */
static void long_line(char *line, size_t tail)
{
	static char value[253];
	size_t pos = (size_t)snprintf(line, BIG, "A");

	repeat(value, 'x', 252);
	for (int i = 0; i < 4; i++)
		pos += (size_t)snprintf(line + pos, BIG - pos, " %c=%s", 'a' + i, value);
	pos += (size_t)snprintf(line + pos, BIG - pos, " e=%s", repeat(value, 'x', tail));
	assert_int_equal(pos, WIRE_MAX_LINE + tail);
}

static void test_line_length(void **state)
{
	static char line[BIG];
	struct wire_msg msg;

	(void)state;
	long_line(line, 0);
	assert_int_equal(parse_str(line, &msg), 0);
	assert_int_equal(msg.nfields, 5);
	long_line(line, 1);
	expect_rejected(line);
}

static void test_format_exact(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(wire_format(buf, sizeof buf, "PING", (char *)NULL), 5);
	assert_string_equal(buf, "PING\n");
	assert_int_equal(wire_format(buf, sizeof buf, "JOIN", "user", "dana", "rights", "a b=c%",
	                             (char *)NULL), 35);
	assert_string_equal(buf, "JOIN user=dana rights=a%20b%3Dc%25\n");
	assert_int_equal(wire_format(buf, sizeof buf, "A", "k", "", (char *)NULL), 5);
	assert_string_equal(buf, "A k=\n");
}

static void expect_one_newline_at_end(const char *buf, int n)
{
	assert_true(n > 0);
	assert_int_equal(strlen(buf), (size_t)n);
	assert_int_equal(buf[n - 1], '\n');
	assert_ptr_equal(strchr(buf, '\n'), buf + n - 1);
}

static void test_format_round_trip(void **state)
{
	static const char *const values[] = {
		"two words", "a=b", "100% sure", "line one\nline two", "caf\xc3\xa9 \xe2\x9c\x93",
		"", "aZ09._:@+/-", " lead and trail ", "%41", "tab\there\r\n", "\x01\x7f\xff",
	};
	char buf[WIRE_MAX_LINE + 2];
	struct wire_msg msg;

	(void)state;
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		int n = wire_format(buf, sizeof buf, "HELLO", "value", values[i], "n", "1",
		                    (char *)NULL);

		expect_one_newline_at_end(buf, n);
		assert_int_equal(wire_parse(buf, (size_t)n - 1, &msg), 0);
		assert_string_equal(msg.verb, "HELLO");
		assert_int_equal(msg.nfields, 2);
		assert_string_equal(wire_get(&msg, "value"), values[i]);
		assert_string_equal(wire_get(&msg, "n"), "1");
	}
}

static void test_format_too_small(void **state)
{
	char buf[16];
	static char big[BIG], value[253];

	(void)state;
	/* "A k=v\n" is 6 bytes and needs 7 with its NUL. */
	assert_int_equal(wire_format(buf, 7, "A", "k", "v", (char *)NULL), 6);
	assert_string_equal(buf, "A k=v\n");
	for (size_t len = 0; len < 7; len++)
		assert_int_equal(wire_format(buf, len, "A", "k", "v", (char *)NULL), -1);
	/* An encoded byte needs all three of its characters. */
	assert_int_equal(wire_format(buf, 9, "A", "k", " ", (char *)NULL), 8);
	assert_int_equal(wire_format(buf, 8, "A", "k", " ", (char *)NULL), -1);

	/* The same shape as long_line: 1024 bytes fit, 1025 do not. */
	repeat(value, 'x', 252);
	assert_int_equal(wire_format(big, sizeof big, "A", "a", value, "b", value, "c", value, "d",
	                             value, "e", "", (char *)NULL), WIRE_MAX_LINE + 1);
	expect_one_newline_at_end(big, WIRE_MAX_LINE + 1);
	assert_int_equal(wire_format(big, sizeof big, "A", "a", value, "b", value, "c", value, "d",
	                             value, "e", "x", (char *)NULL), -1);
	/* Encoding counts: 3 bytes per escaped byte. */
	repeat(value, ' ', 250);
	assert_int_equal(wire_format(big, sizeof big, "A", "a", value, "b", value, (char *)NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_hello),
		cmocka_unit_test(test_percent_decoding),
		cmocka_unit_test(test_wire_get_missing),
		cmocka_unit_test(test_verb_rules),
		cmocka_unit_test(test_key_rules),
		cmocka_unit_test(test_field_count),
		cmocka_unit_test(test_value_length),
		cmocka_unit_test(test_bad_percent),
		cmocka_unit_test(test_spaces),
		cmocka_unit_test(test_bytes_outside_plain_set),
		cmocka_unit_test(test_line_length),
		cmocka_unit_test(test_format_exact),
		cmocka_unit_test(test_format_round_trip),
		cmocka_unit_test(test_format_too_small),
	};

	return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
