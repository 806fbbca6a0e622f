/*
 * ssh_commands.h with core NULL, on a real database with a desk user
 * "dana", a vendor "vic" and an admin "ada": help, whoami, unknown and
 * over-long commands, `session new` (text and --json, and each refusal
 * with its exit status, leaving no session behind), `sessions` (table and
 * --json) and `session end` by id and by ticket.  Output is captured with
 * open_memstream.  Every test works in its own mkdtemp directory.
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
#include "ssh_commands.h"
#include "store.h"
#include "support.h"
#include "users.h"

#define TICKET "INC0012345"

struct fixture {
	char dir[64];   /* the mkdtemp directory */
	char db[128];
	struct store *store;
	struct concierge_config cfg;
	char *out, *err; /* what the last run printed */
	char why[512];
};

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc = support_store_dir_close(f->store, f->dir);

	free(f->out);
	free(f->err);
	free(f);
	return rc;
}

static int setup(void **state)
{
	static const char *const users[][2] = { { "dana", "desk" }, { "vic", "vendor" },
	                                        { "ada", "admin" } };
	struct fixture *f = calloc(1, sizeof *f);

	if (f == NULL || support_store_dir_open(f->dir, sizeof f->dir, "test_ssh_commands", f->db,
	                                        sizeof f->db, &f->store) != 0) {
		free(f);
		return -1;
	}
	config_defaults(&f->cfg);
	*state = f;
	for (size_t i = 0; i < sizeof users / sizeof users[0]; i++) {
		if (users_add(f->store, "local:root", users[i][0], users[i][1], NULL, f->why,
		              sizeof f->why) != 0) {
			fprintf(stderr, "users_add %s: %s\n", users[i][0], f->why);
			teardown(state); /* cmocka runs no teardown after a failed setup */
			return -1;
		}
	}
	return 0;
}

/* Runs `line` as `user` (`role`); its output lands in f->out and f->err. */
static int run_as(struct fixture *f, const char *user, const char *role, const char *line)
{
	size_t outlen, errlen;
	FILE *out, *err;
	int rc;

	free(f->out);
	free(f->err);
	f->out = f->err = NULL;
	out = open_memstream(&f->out, &outlen);
	err = open_memstream(&f->err, &errlen);
	assert_non_null(out);
	assert_non_null(err);
	rc = ssh_command_run(f->store, &f->cfg, NULL, user, role, line, out, err);
	assert_int_equal(fclose(out), 0);
	assert_int_equal(fclose(err), 0);
	return rc;
}

static int desk(struct fixture *f, const char *line)
{
	return run_as(f, "dana", "desk", line);
}

static void expect_in(const char *text, const char *want)
{
	if (strstr(text, want) == NULL)
		fail_msg("\"%s\" not in:\n%s", want, text);
}

/* The string value of "key" in the JSON text (no escapes expected). */
static void json_value(const char *json, const char *key, char *out, size_t outlen)
{
	char pattern[64];
	const char *start, *end;

	snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
	start = strstr(json, pattern);
	if (start == NULL)
		fail_msg("no %s in %s", pattern, json);
	start += strlen(pattern);
	end = strchr(start, '"');
	assert_non_null(end);
	assert_true((size_t)(end - start) < outlen);
	memcpy(out, start, (size_t)(end - start));
	out[end - start] = '\0';
}

static void expect_code_format(const char *code)
{
	int a, b, c, n = 0;

	assert_int_equal(strlen(code), 11);
	assert_int_equal(sscanf(code, "%3d-%3d-%3d%n", &a, &b, &c, &n), 3);
	assert_int_equal(n, 11);
	assert_int_equal(strspn(code, "0123456789-"), 11);
}

/* `session new --ticket ticket` as dana; the new session's id in id. */
static void new_session(struct fixture *f, const char *ticket, char id[SESSION_ID_LEN + 1])
{
	char line[128], want[64];

	snprintf(line, sizeof line, "session new --ticket %s", ticket);
	if (desk(f, line) != 0)
		fail_msg("%s: %s", line, f->err);
	assert_int_equal(sscanf(f->out, "session %9s for ticket ", id), 1);
	snprintf(want, sizeof want, "session %s for ticket %s", id, ticket);
	assert_memory_equal(f->out, want, strlen(want));
}

static void test_help_and_whoami(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(run_as(f, "vic", "vendor", "whoami"), 0);
	assert_string_equal(f->out, "vic (vendor)\n");
	assert_string_equal(f->err, "");

	assert_int_equal(desk(f, ""), 0);
	expect_in(f->out, "session new --ticket ID");
	expect_in(f->out, "sessions");
	expect_in(f->out, "whoami");
	assert_string_equal(f->err, "");
	assert_int_equal(desk(f, " \t "), 0);
	expect_in(f->out, "session new --ticket ID");
	assert_int_equal(desk(f, "help"), 0);
	expect_in(f->out, "session end SESSION");
}

static void test_unknown_and_usage(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(desk(f, "rm -rf /"), 2);
	expect_in(f->err, "unknown command 'rm'");
	assert_string_equal(f->out, "");
	assert_int_equal(desk(f, "whoami --verbose"), 2);
	assert_int_equal(desk(f, "session"), 2);
	assert_int_equal(desk(f, "session start"), 2);
	assert_int_equal(desk(f, "sessions --all"), 2);
	assert_int_equal(desk(f, "session end"), 2);
	assert_int_equal(desk(f, "session end a b"), 2);
	assert_int_equal(desk(f, "a b c d e f g h i"), 2);
	expect_in(f->err, "too many");
	assert_int_equal(support_count_rows(f->store, "sessions"), 0);
}

static void test_line_length(void **state)
{
	struct fixture *f = *state;
	char line[SSH_COMMAND_MAX + 2];

	/* "whoami" padded with spaces to exactly the limit still runs. */
	memset(line, ' ', SSH_COMMAND_MAX);
	memcpy(line, "whoami", 6);
	line[SSH_COMMAND_MAX] = '\0';
	assert_int_equal(desk(f, line), 0);
	assert_string_equal(f->out, "dana (desk)\n");
	line[SSH_COMMAND_MAX] = ' ';
	line[SSH_COMMAND_MAX + 1] = '\0';
	assert_int_equal(desk(f, line), 2);
	expect_in(f->err, "too long");
	assert_string_equal(f->out, "");
}

static void test_session_new(void **state)
{
	struct fixture *f = *state;
	char id[SESSION_ID_LEN + 1], code[16], want[CFG_MAX_HOSTNAME + 128];

	new_session(f, TICKET, id);
	assert_int_equal(strlen(id), SESSION_ID_LEN);
	assert_int_equal(strspn(id + 1, "0123456789abcdef"), SESSION_ID_LEN - 1);
	expect_in(f->out, "(ticket opened)");
	assert_int_equal(sscanf(strstr(f->out, "code: "), "code: %15s", code), 1);
	expect_code_format(code);
	snprintf(want, sizeof want, "concierge-agent --relay %s:%u --code %s", f->cfg.hostname,
	         f->cfg.agent_listen.port, code);
	expect_in(f->out, want);
	snprintf(want, sizeof want, "ssh -N -L 5900:%s:5900 -p %u dana@%s", id, f->cfg.ssh_listen.port,
	         f->cfg.hostname);
	expect_in(f->out, want);
	assert_string_equal(f->err, "");
	assert_int_equal(support_count_rows(f->store, "sessions"), 1);

	/* The ticket is now open: a second session reuses it. */
	new_session(f, TICKET, id);
	assert_null(strstr(f->out, "(ticket opened)"));
	assert_int_equal(support_count_rows(f->store, "sessions"), 2);
	assert_int_equal(support_count_rows(f->store, "tickets"), 1);
}

static void test_session_new_json(void **state)
{
	struct fixture *f = *state;
	char id[32], ticket[32], code[32], expires[40];
	size_t n;

	assert_int_equal(desk(f, "session new --json --ticket " TICKET), 0);
	n = strlen(f->out);
	assert_true(n > 2);
	assert_int_equal(f->out[0], '{');
	assert_string_equal(f->out + n - 2, "}\n");
	assert_ptr_equal(strchr(f->out, '\n'), f->out + n - 1);
	json_value(f->out, "session", id, sizeof id);
	assert_int_equal(strlen(id), SESSION_ID_LEN);
	assert_int_equal(id[0], 's');
	json_value(f->out, "ticket", ticket, sizeof ticket);
	assert_string_equal(ticket, TICKET);
	json_value(f->out, "code", code, sizeof code);
	expect_code_format(code);
	json_value(f->out, "code_expires_at", expires, sizeof expires);
	assert_int_equal(strlen(expires), 24); /* YYYY-MM-DDTHH:MM:SS.mmmZ */
	expect_in(f->out, "\"ticket_created\":true}");

	assert_int_equal(desk(f, "session new --ticket " TICKET " --json"), 0);
	expect_in(f->out, "\"ticket_created\":false}");
	assert_int_equal(support_count_rows(f->store, "sessions"), 2);
}

static void test_session_new_refused(void **state)
{
	static const char *const usage[] = {
		"session new", "session new --json", "session new --ticket", "session new " TICKET,
		"session new --ticket " TICKET " --force", "session new --ticket nope",
		"session new --ticket inc0012345", "session new --ticket INC0012345;id",
		"session new --ticket INC001234567890",
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof usage / sizeof usage[0]; i++) {
		if (desk(f, usage[i]) != 2)
			fail_msg("'%s' did not exit 2", usage[i]);
		assert_string_equal(f->out, "");
		assert_true(strlen(f->err) > 0);
	}
	expect_in(f->err, "ticket");

	assert_int_equal(run_as(f, "vic", "vendor", "session new --ticket " TICKET), 1);
	expect_in(f->err, "desk");
	assert_string_equal(f->out, "");
	assert_int_equal(run_as(f, "ada", "admin", "session new --ticket " TICKET), 1);
	/* A desk role for a name the database does not know. */
	assert_int_equal(run_as(f, "nobody", "desk", "session new --ticket " TICKET), 1);
	expect_in(f->err, "nobody");
	assert_int_equal(support_count_rows(f->store, "sessions"), 0);
	assert_int_equal(support_count_rows(f->store, "tickets"), 0);
}

static void test_sessions_list(void **state)
{
	struct fixture *f = *state;
	char id[SESSION_ID_LEN + 1], want[128];

	assert_int_equal(desk(f, "sessions"), 0);
	expect_in(f->out, "no live sessions");
	assert_int_equal(desk(f, "sessions --json"), 0);
	assert_string_equal(f->out, "[]\n");

	new_session(f, TICKET, id);
	assert_int_equal(run_as(f, "vic", "vendor", "sessions"), 1);
	expect_in(f->err, "vendors cannot list sessions");
	assert_int_equal(run_as(f, "aud", "auditor", "sessions"), 0);
	expect_in(f->out, "SESSION");
	expect_in(f->out, "PARTICIPANTS");
	snprintf(want, sizeof want, "%-10s %-14s %-8s %-12s %-20s %s\n", id, TICKET, "waiting", "dana",
	         "-", "-");
	expect_in(f->out, want);
	assert_null(strstr(f->out, "no live sessions"));

	assert_int_equal(desk(f, "sessions --json"), 0);
	assert_memory_equal(f->out, "[{", 2);
	assert_string_equal(f->out + strlen(f->out) - 3, "}]\n");
	snprintf(want, sizeof want, "\"session\":\"%s\"", id);
	expect_in(f->out, want);
	expect_in(f->out, "\"ticket\":\"" TICKET "\"");
	expect_in(f->out, "\"state\":\"waiting\"");
	expect_in(f->out, "\"opened_by\":\"dana\"");
	expect_in(f->out, "\"end_user_host\":null");
	expect_in(f->out, "\"participants\":\"\"");
}

static void test_session_end(void **state)
{
	struct fixture *f = *state;
	char a[SESSION_ID_LEN + 1], b[SESSION_ID_LEN + 1], line[64], want[96];

	new_session(f, TICKET, a);
	new_session(f, "INC0000002", b);

	snprintf(line, sizeof line, "session end %s", a);
	assert_int_equal(run_as(f, "vic", "vendor", line), 1);
	assert_int_equal(desk(f, line), 0);
	snprintf(want, sizeof want, "ended session %s (ticket %s)\n", a, TICKET);
	assert_string_equal(f->out, want);
	assert_int_equal(desk(f, line), 1); /* no longer live */
	expect_in(f->err, a);

	/* By ticket id, as an admin. */
	assert_int_equal(run_as(f, "ada", "admin", "session end INC0000002"), 0);
	snprintf(want, sizeof want, "ended session %s (ticket INC0000002)\n", b);
	assert_string_equal(f->out, want);

	assert_int_equal(desk(f, "sessions"), 0);
	expect_in(f->out, "no live sessions");
	assert_int_equal(desk(f, "sessions --json"), 0);
	assert_string_equal(f->out, "[]\n");

	assert_int_equal(desk(f, "session end s00000000"), 1);
	assert_int_equal(desk(f, "session end INC7654321"), 1);
	expect_in(f->err, "INC7654321");
	assert_string_equal(f->out, "");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_help_and_whoami),
		T(test_unknown_and_usage),
		T(test_line_length),
		T(test_session_new),
		T(test_session_new_json),
		T(test_session_new_refused),
		T(test_sessions_list),
		T(test_session_end),
	};
#undef T

	return cmocka_run_group_tests_name("ssh_commands", tests, NULL, NULL);
}
