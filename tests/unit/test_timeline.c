/*
 * timeline.h: session events described (unknown verbs ignored, malformed
 * ones marked), typed text rebuilt from key events (case from the keysym,
 * modifiers, named keys, Latin-1 and Unicode keysyms, key-ups ignored),
 * coalescing per participant until Return / another entry / a pause / the
 * size limit, clicks on button-down transitions only, clipboard text cut
 * and escaped, shell input escaped and split at Return, resizes, dropped
 * input marked, the streaming tick, the JSON form, and the whole-file API
 * on real recordings (complete and cut short).
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

#include <openssl/evp.h>

#include "recording.h"
#include "support.h"
#include "timeline.h"

#define MAX_ENTRIES 64

struct seen {
	int count;
	char line[MAX_ENTRIES][TIMELINE_MAX_TEXT + 160];
	char kind[MAX_ENTRIES][16];
	char participant[MAX_ENTRIES][40];
	uint64_t time[MAX_ENTRIES];
	int dropped[MAX_ENTRIES], button[MAX_ENTRIES], x[MAX_ENTRIES], y[MAX_ENTRIES];
};

static void collect(const struct timeline_entry *e, void *arg)
{
	struct seen *s = arg;

	assert_true(s->count < MAX_ENTRIES);
	snprintf(s->line[s->count], sizeof s->line[0], "%s", e->line);
	snprintf(s->kind[s->count], sizeof s->kind[0], "%s", e->kind);
	snprintf(s->participant[s->count], sizeof s->participant[0], "%s", e->participant);
	s->time[s->count] = e->time_us;
	s->dropped[s->count] = e->dropped;
	s->button[s->count] = e->button;
	s->x[s->count] = e->x;
	s->y[s->count] = e->y;
	s->count++;
}

struct fixture {
	struct seen seen;
	struct timeline *tl;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (f == NULL)
		return -1;
	f->tl = timeline_new(collect, &f->seen);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	timeline_free(f->tl);
	free(f);
	return 0;
}

static void feed(struct fixture *f, enum recording_type type, uint16_t stream, const char *who,
                 uint8_t flags, uint64_t t, const void *payload, size_t len)
{
	struct recording_record rec = {
		.type = type, .stream = stream, .flags = flags, .time_us = t,
		.participant = who ? who : "", .payload = payload, .len = len,
	};

	timeline_feed(f->tl, &rec);
}

static void event(struct fixture *f, uint64_t t, const char *line)
{
	feed(f, RECORDING_EVENT, 0, NULL, 0, t, line, strlen(line));
}

static void key(struct fixture *f, const char *who, uint8_t flags, uint64_t t, uint32_t keysym, int down)
{
	unsigned char k[8] = { 4, (unsigned char)down, 0, 0, (unsigned char)(keysym >> 24),
		               (unsigned char)(keysym >> 16), (unsigned char)(keysym >> 8),
		               (unsigned char)keysym };

	feed(f, RECORDING_INPUT_KEY, who[0] == 'a' ? 1 : 2, who, flags, t, k, sizeof k);
}

/* A key pressed and released. */
static void tap(struct fixture *f, const char *who, uint64_t t, uint32_t keysym)
{
	key(f, who, 0, t, keysym, 1);
	key(f, who, 0, t + 1, keysym, 0);
}

static void pointer(struct fixture *f, const char *who, uint8_t flags, uint64_t t, unsigned mask,
                    unsigned x, unsigned y)
{
	unsigned char p[6] = { 5, (unsigned char)mask, (unsigned char)(x >> 8), (unsigned char)x,
		               (unsigned char)(y >> 8), (unsigned char)y };

	feed(f, RECORDING_INPUT_POINTER, who[0] == 'a' ? 1 : 2, who, flags, t, p, sizeof p);
}

static void expect_line(struct fixture *f, int i, const char *line)
{
	assert_true(f->seen.count > i);
	assert_string_equal(f->seen.line[i], line);
}

static void test_events(void **state)
{
	struct fixture *f = *state;

	event(f, 0, "START ticket=INC0012345 session=s0011aabb resumed=1");
	event(f, 10, "ASK participant=1 user=alice role=desk asked=control");
	event(f, 20, "CONSENT participant=1 user=alice asked=control granted=control answer=allowed auto=1");
	event(f, 30, "CONSENT participant=2 user=bob asked=shell granted=none answer=declined auto=0");
	event(f, 40, "CONSENT participant=3 user=carol asked=view granted=none answer=timeout auto=0");
	event(f, 50, "JOIN participant=1 user=alice role=desk kind=screen rights=control future=42");
	event(f, 60, "WOBBLE participant=1");                      /* a newer relay's verb */
	event(f, 70, "RECORDER kind=shell stream=2001 state=stop reason=agent%20lost");
	event(f, 80, "LEAVE participant=1 user=alice reason=quit%0Anow"); /* newline in a value */
	event(f, 90, "END reason=ended by=relay");
	event(f, 100, "not a wire line");
	timeline_flush(f->tl);
	assert_int_equal(f->seen.count, 10);
	expect_line(f, 0, "recording started: ticket INC0012345, session s0011aabb (resumed after a relay restart)");
	expect_line(f, 1, "alice (desk) asks for control");
	expect_line(f, 2, "the end user allowed alice: control (auto-accepted)");
	expect_line(f, 3, "bob's request for shell was declined");
	expect_line(f, 4, "carol's request for view got no answer (timed out)");
	expect_line(f, 5, "alice (desk) joined: screen, control");
	expect_line(f, 6, "shell recorder (stream 2001) stopped (agent lost)");
	expect_line(f, 7, "alice left (quit\\nnow)");
	expect_line(f, 8, "session ended by relay: ended");
	expect_line(f, 9, "malformed event record (15 bytes)");
	assert_string_equal(f->seen.kind[5], "join");
	assert_string_equal(f->seen.participant[5], "alice");
	assert_string_equal(f->seen.participant[0], "");
	assert_int_equal(f->seen.time[6], 70);
}

static void test_typing(void **state)
{
	struct fixture *f = *state;

	key(f, "alice", 0, 100, 0xffe1, 1); /* Shift_L down */
	tap(f, "alice", 110, 'H');          /* the keysym carries the case */
	tap(f, "alice", 120, 'i');          /* Shift held, lower-case keysym: 'i' */
	key(f, "alice", 0, 130, 0xffe1, 0);
	tap(f, "alice", 140, 0xe9);         /* Latin-1 e acute */
	tap(f, "alice", 150, 0x010020ac);   /* Unicode keysym: euro sign */
	tap(f, "alice", 160, 0xffb7);       /* KP_7 */
	tap(f, "alice", 170, 0xff08);       /* BackSpace */
	tap(f, "alice", 180, 0xffc2);       /* F5 */
	tap(f, "alice", 190, 0xff51);       /* Left */
	key(f, "alice", 0, 200, 0xffe3, 1); /* Control_L */
	tap(f, "alice", 210, 'c');
	key(f, "alice", 0, 220, 0xffe3, 0);
	key(f, "alice", 0, 230, 0xffe1, 1);
	tap(f, "alice", 240, 0xff09);       /* Shift+Tab */
	key(f, "alice", 0, 250, 0xffe1, 0);
	tap(f, "alice", 255, '\\');
	tap(f, "alice", 260, 0x12345);      /* no such keysym */
	feed(f, RECORDING_RFB_SERVER_BYTES, 1001, NULL, 0, 265, "xyz", 3); /* screen does not interrupt */
	tap(f, "alice", 270, 0xff0d);       /* Return ends the entry */
	tap(f, "alice", 280, 'z');
	assert_int_equal(f->seen.count, 1);
	expect_line(f, 0, "alice typed: Hi\xc3\xa9\xe2\x82\xac" "7<BackSpace><F5><Left><Ctrl+c><Shift+Tab>\\\\"
	                  "<0x12345><Return>");
	assert_int_equal(f->seen.time[0], 110);
	assert_string_equal(f->seen.kind[0], "typed");
	timeline_flush(f->tl);
	expect_line(f, 1, "alice typed: z");
	timeline_flush(f->tl);
	assert_int_equal(f->seen.count, 2);
}

static void test_coalescing_breaks(void **state)
{
	struct fixture *f = *state;

	tap(f, "alice", 1000, 'a');
	tap(f, "bob", 1010, 'b');                         /* another participant */
	key(f, "bob", RECORDING_FLAG_DROPPED, 1020, 'c', 1); /* dropped: its own entry */
	tap(f, "bob", 1030, 'd');
	event(f, 1040, "END reason=x by=relay");          /* an event */
	tap(f, "alice", 2000, 'e');
	tap(f, "alice", 2000 + TIMELINE_TYPING_GAP_US + 1, 'f'); /* a pause */
	timeline_flush(f->tl);
	assert_int_equal(f->seen.count, 7);
	expect_line(f, 0, "alice typed: a");
	expect_line(f, 1, "bob typed: b");
	expect_line(f, 2, "bob typed: c (dropped: view-only)");
	assert_int_equal(f->seen.dropped[2], 1);
	expect_line(f, 3, "bob typed: d");
	assert_int_equal(f->seen.dropped[3], 0);
	expect_line(f, 4, "session ended by relay: x");
	expect_line(f, 5, "alice typed: e");
	expect_line(f, 6, "alice typed: f");
	assert_int_equal(f->seen.time[6], 2000 + TIMELINE_TYPING_GAP_US + 1);
}

static void test_long_typing_splits(void **state)
{
	struct fixture *f = *state;
	size_t total = 0;

	for (int i = 0; i < TIMELINE_MAX_TEXT + 10; i++)
		tap(f, "alice", 10u * (unsigned)i, 'a' + (uint32_t)(i % 26));
	timeline_flush(f->tl);
	assert_int_equal(f->seen.count, 2);
	for (int i = 0; i < 2; i++)
		total += strlen(f->seen.line[i]) - strlen("alice typed: ");
	assert_int_equal(total, TIMELINE_MAX_TEXT + 10); /* nothing lost at the split */
}

static void test_tick(void **state)
{
	struct fixture *f = *state;

	tap(f, "alice", 5000, 'l');
	tap(f, "alice", 6000, 's');
	timeline_tick(f->tl, 6000 + TIMELINE_TYPING_GAP_US); /* not yet */
	assert_int_equal(f->seen.count, 0);
	timeline_tick(f->tl, 6001 + TIMELINE_TYPING_GAP_US);
	assert_int_equal(f->seen.count, 1);
	expect_line(f, 0, "alice typed: ls");
	assert_int_equal(f->seen.time[0], 5000);
}

static void test_pointer(void **state)
{
	struct fixture *f = *state;

	pointer(f, "alice", 0, 10, 0, 5, 5);     /* a move: nothing */
	pointer(f, "alice", 0, 20, 1, 100, 200); /* button 1 down */
	pointer(f, "alice", 0, 30, 1, 150, 250); /* drag: still down */
	pointer(f, "alice", 0, 40, 0, 150, 250);
	pointer(f, "alice", 0, 50, 4 | 16, 300, 65535); /* buttons 3 and 5 at once */
	pointer(f, "bob", RECORDING_FLAG_DROPPED, 60, 1, 1, 2);
	feed(f, RECORDING_INPUT_POINTER, 1, "alice", 0, 70, "\x05\x01", 2);
	timeline_flush(f->tl);
	assert_int_equal(f->seen.count, 5);
	expect_line(f, 0, "alice clicked button 1 at 100,200");
	assert_int_equal(f->seen.button[0], 1);
	assert_int_equal(f->seen.x[0], 100);
	assert_int_equal(f->seen.y[0], 200);
	expect_line(f, 1, "alice clicked button 3 at 300,65535");
	expect_line(f, 2, "alice clicked button 5 at 300,65535");
	expect_line(f, 3, "bob clicked button 1 at 1,2 (dropped: view-only)");
	expect_line(f, 4, "malformed pointer record (2 bytes)");
}

static void test_clipboard(void **state)
{
	struct fixture *f = *state;
	unsigned char msg[8 + TIMELINE_MAX_CLIPBOARD + 50];
	char want[TIMELINE_MAX_CLIPBOARD + 100];
	size_t n = TIMELINE_MAX_CLIPBOARD + 50;

	memset(msg, 0, sizeof msg);
	msg[0] = 6;
	msg[7] = 5;
	memcpy(msg + 8, "a\tb\"\xe9", 5);
	feed(f, RECORDING_INPUT_CUT_TEXT, 1, "alice", 0, 10, msg, 13);
	msg[6] = (unsigned char)(n >> 8);
	msg[7] = (unsigned char)n;
	memset(msg + 8, 'q', n);
	feed(f, RECORDING_INPUT_CUT_TEXT, 1, "alice", RECORDING_FLAG_DROPPED, 20, msg, sizeof msg);
	feed(f, RECORDING_INPUT_CUT_TEXT, 1, "alice", 0, 30, msg, sizeof msg - 1); /* length lies */
	timeline_flush(f->tl);
	assert_int_equal(f->seen.count, 3);
	expect_line(f, 0, "alice clipboard: \"a\\tb\"\xc3\xa9\"");
	snprintf(want, sizeof want, "alice clipboard: \"%.*s\"... (%zu bytes in all) (dropped: view-only)",
	         TIMELINE_MAX_CLIPBOARD, msg + 8, n);
	expect_line(f, 1, want);
	assert_string_equal(f->seen.kind[2], "malformed");
}

static void test_shell(void **state)
{
	struct fixture *f = *state;

	feed(f, RECORDING_SHELL_INPUT, 3, "alice", 0, 10, "ls\r\x1b[Ax\x01\xff", 9);
	feed(f, RECORDING_SHELL_OUTPUT, 2001, NULL, 0, 15, "output", 6);
	feed(f, RECORDING_SHELL_INPUT, 3, "alice", 0, 20, "y\n", 2);
	feed(f, RECORDING_SHELL_RESIZE, 3, "alice", 0, 30, "\x00\x50\x00\x18", 4);
	feed(f, RECORDING_SHELL_INPUT, 4, "bob", RECORDING_FLAG_DROPPED, 40, "rm", 2);
	timeline_flush(f->tl);
	assert_int_equal(f->seen.count, 4);
	expect_line(f, 0, "alice shell input: ls\\r");
	expect_line(f, 1, "alice shell input: \\e[Ax\\x01\\xffy\\n");
	assert_int_equal(f->seen.time[1], 10);
	expect_line(f, 2, "alice resized the shell to 80x24");
	expect_line(f, 3, "bob shell input: rm (dropped: view-only)");
}

static void test_json(void **state)
{
	struct fixture *f = *state;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct timeline_entry e = { .time_us = 3723004005ULL, .participant = "alice", .kind = "click",
		                    .text = "", .line = "alice clicked \"x\"", .button = 2, .x = 3, .y = 4,
		                    .dropped = 1 };

	(void)f;
	timeline_print_json(out, &e);
	e = (struct timeline_entry){ .time_us = 12345, .participant = "", .kind = "start", .text = "t",
		                     .line = "t" };
	fputc('\n', out);
	timeline_print_json(out, &e);
	fputc('\n', out);
	timeline_print_text(out, &e);
	fclose(out);
	assert_string_equal(buf,
	    "{\"time_us\":3723004005,\"time\":\"1:02:03.004\",\"participant\":\"alice\",\"kind\":\"click\","
	    "\"text\":\"\",\"line\":\"alice clicked \\\"x\\\"\",\"button\":2,\"x\":3,\"y\":4,\"dropped\":true}\n"
	    "{\"time_us\":12345,\"time\":\"00:00.012\",\"participant\":null,\"kind\":\"start\",\"text\":\"t\","
	    "\"line\":\"t\",\"dropped\":false}\n"
	    "00:00.012  t\n");
	free(buf);
}

/* The whole-file API on a real recording, complete and then cut short. */
static void test_file(void **state)
{
	static const char start[] = "START ticket=INC0012345 session=s0011aabb resumed=0";
	struct fixture *f = *state;
	struct recording_params p;
	struct recording_writer *w;
	struct seen *seen = calloc(1, sizeof *seen);
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	char dir[64], path[128], err[256];
	unsigned char k[8] = { 4, 1, 0, 0, 0, 0, 0, 'q' };
	struct recording_summary sum;

	(void)f;
	assert_non_null(key);
	assert_int_equal(support_tempdir(dir, sizeof dir, "test_timeline"), 0);
	support_path(path, sizeof path, dir, "r.cncgrec");
	recording_params_default(&p);
	w = recording_writer_open(path, "INC0012345", "s0011aabb", key, &p, err, sizeof err);
	assert_non_null(w);
	assert_int_equal(recording_writer_append(w, RECORDING_EVENT, 0, NULL, 0, 0, start, strlen(start),
	                                         err, sizeof err), 0);
	assert_int_equal(recording_writer_append(w, RECORDING_INPUT_KEY, 1, "alice", 0, 500, k, 8, err,
	                                         sizeof err), 0);
	assert_int_equal(recording_writer_close(w, &sum, err, sizeof err), 0);
	assert_int_equal(timeline_file(path, collect, seen, err, sizeof err), 1);
	assert_int_equal(seen->count, 2);
	assert_string_equal(seen->line[1], "alice typed: q");
	assert_int_equal(truncate(path, (off_t)sum.bytes - 10), 0);
	seen->count = 0;
	assert_int_equal(timeline_file(path, collect, seen, err, sizeof err), 0);
	assert_int_equal(seen->count, 2);
	support_path(path, sizeof path, dir, "missing.cncgrec");
	assert_int_equal(timeline_file(path, collect, seen, err, sizeof err), -1);
	assert_int_equal(support_remove_tree(dir), 0);
	EVP_PKEY_free(key);
	free(seen);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_events),
		T(test_typing),
		T(test_coalescing_breaks),
		T(test_long_typing_splits),
		T(test_tick),
		T(test_pointer),
		T(test_clipboard),
		T(test_shell),
		T(test_json),
		T(test_file),
	};
#undef T

	return cmocka_run_group_tests_name("timeline", tests, NULL, NULL);
}
