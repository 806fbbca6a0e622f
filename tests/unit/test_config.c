/*
 * config.h: built-in defaults, the `key = value` parser (comments, blank
 * lines, CRLF, quotes, relative paths), every error naming its line,
 * host_port_parse, config_load_file limits and config_load's resolution rule.
 * Every test works in its own mkdtemp directory, removed afterwards.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "concierge_limits.h"
#include "config.h"
#include "support.h"

struct fixture {
	char dir[64];          /* the mkdtemp directory */
	char cwd[PATH_MAX];    /* restored by teardown (tests may chdir) */
	struct concierge_config cfg;
	char err[1024];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (f == NULL)
		return -1;
	if (getcwd(f->cwd, sizeof f->cwd) == NULL ||
	    support_tempdir(f->dir, sizeof f->dir, "test_config") != 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc = chdir(f->cwd);

	rc |= support_remove_tree(f->dir);
	free(f);
	return rc;
}

/* Writes `len` bytes to dir/name; the full path goes to `path`. */
static void write_file(const char *dir, const char *name, const char *data, size_t len,
                       char *path, size_t pathlen)
{
	support_path(path, pathlen, dir, name);
	support_write_file(dir, name, data, len);
}

/* Parses `text` with source name "x" so errors read "x:LINE: ...". */
static int parse(struct fixture *f, const char *text, size_t len, const char *basedir)
{
	config_defaults(&f->cfg);
	snprintf(f->cfg.source, sizeof f->cfg.source, "x");
	f->err[0] = '\0';
	return config_parse_text(&f->cfg, text, len, basedir, f->err, sizeof f->err);
}

static int parse_str(struct fixture *f, const char *text)
{
	return parse(f, text, strlen(text), "");
}

static int parse_base(struct fixture *f, const char *text, const char *basedir)
{
	return parse(f, text, strlen(text), basedir);
}

/* The parse must fail, and the message must start with "x:LINE: ". */
static void expect_error_at(struct fixture *f, const char *text, size_t len, unsigned line)
{
	char prefix[32];

	snprintf(prefix, sizeof prefix, "x:%u: ", line);
	if (parse(f, text, len, "") != -1)
		fail_msg("accepted: %.200s", text);
	if (strncmp(f->err, prefix, strlen(prefix)) != 0)
		fail_msg("error '%s' does not start with '%s'", f->err, prefix);
}

/* Puts `bad` on line 3, after a comment and a blank line. */
static void expect_line3_error(struct fixture *f, const char *bad)
{
	char text[2048];

	snprintf(text, sizeof text, "# comment\n\n%s\nhostname = ok.example\n", bad);
	expect_error_at(f, text, strlen(text), 3);
}

/* Each of the n lines in `bad` must be refused on line 3 (see
 * expect_line3_error), with `needle` in the message. */
static void expect_line3_errors(struct fixture *f, const char *const *bad, size_t n, const char *needle)
{
	for (size_t i = 0; i < n; i++) {
		expect_line3_error(f, bad[i]);
		if (strstr(f->err, needle) == NULL)
			fail_msg("'%s': error '%s' does not say '%s'", bad[i], f->err, needle);
	}
}

/* ---- defaults ------------------------------------------------------------ */

static void test_defaults(void **state)
{
	struct fixture *f = *state;
	struct concierge_config *c = &f->cfg;
	char ca[CFG_MAX_PATH + 16];

	memset(c, 0xA5, sizeof *c);
	config_defaults(c);
	assert_string_equal(c->source, "built-in defaults");
	assert_string_equal(c->database, "./concierge.db");
	assert_string_equal(c->certs_dir, "./certs");
	assert_string_equal(c->recordings_dir, "./recordings");
	assert_string_equal(c->agent_listen.host, "127.0.0.1");
	assert_int_equal(c->agent_listen.port, 8443);
	assert_string_equal(c->ssh_listen.host, "127.0.0.1");
	assert_int_equal(c->ssh_listen.port, 2222);
	assert_string_equal(c->hostname, "localhost");
	assert_string_equal(c->ticket_pattern, CONFIG_DEFAULT_TICKET_PATTERN);
	assert_int_equal(c->code_ttl, 600);
	assert_int_equal(c->relay.port, 0);
	assert_string_equal(c->relay.host, "");
	assert_string_equal(c->ca_file, "");
	config_agent_ca(c, ca, sizeof ca);
	assert_string_equal(ca, "./certs/ca.pem");
}

/* ---- valid text ---------------------------------------------------------- */

static void test_full_valid_text(void **state)
{
	struct fixture *f = *state;
	struct concierge_config *c = &f->cfg;
	char ca[CFG_MAX_PATH + 16];
	const char *text =
		"database = state/concierge.db\n"
		"certs_dir = /srv/certs\n"
		"recordings_dir = rec\n"
		"agent_listen = 0.0.0.0:443\n"
		"ssh_listen = [::1]:22\n"
		"hostname = relay.example.edu\n"
		"ticket_pattern = INC[0-9]{7}\n"
		"code_ttl = 900\n"
		"relay = relay.example.edu:8443\n"
		"ca = pinned/ca.pem\n";

	assert_int_equal(parse(f, text, strlen(text), "/etc/concierge"), 0);
	assert_string_equal(c->database, "/etc/concierge/state/concierge.db");
	assert_string_equal(c->certs_dir, "/srv/certs");
	assert_string_equal(c->recordings_dir, "/etc/concierge/rec");
	assert_string_equal(c->agent_listen.host, "0.0.0.0");
	assert_int_equal(c->agent_listen.port, 443);
	assert_string_equal(c->ssh_listen.host, "::1");
	assert_int_equal(c->ssh_listen.port, 22);
	assert_string_equal(c->hostname, "relay.example.edu");
	assert_string_equal(c->ticket_pattern, "INC[0-9]{7}");
	assert_int_equal(c->code_ttl, 900);
	assert_string_equal(c->relay.host, "relay.example.edu");
	assert_int_equal(c->relay.port, 8443);
	assert_string_equal(c->ca_file, "/etc/concierge/pinned/ca.pem");
	config_agent_ca(c, ca, sizeof ca);
	assert_string_equal(ca, "/etc/concierge/pinned/ca.pem");
	/* The source name is the caller's, not overwritten by parsing. */
	assert_string_equal(c->source, "x");
}

static void test_empty_text_keeps_defaults(void **state)
{
	struct fixture *f = *state;
	struct concierge_config def;

	config_defaults(&def);
	assert_int_equal(parse(f, "", 0, ""), 0);
	assert_string_equal(f->cfg.database, def.database);
	assert_int_equal(f->cfg.code_ttl, def.code_ttl);
	assert_int_equal(parse_str(f, "\n\n# only comments\n   # indented comment\n\t\n"), 0);
	assert_string_equal(f->cfg.hostname, def.hostname);
	assert_int_equal(f->cfg.agent_listen.port, def.agent_listen.port);
}

static void test_comments_blank_crlf_quotes(void **state)
{
	struct fixture *f = *state;
	struct concierge_config *c = &f->cfg;
	const char *text =
		"# Concierge\r\n"
		"\r\n"
		"   # indented comment = not a key\r\n"
		"  code_ttl   =   120  \r\n"
		"hostname=\"relay.example.edu\"\r\n"
		"database = \"  spaced name.db \"\r\n"
		"ticket_pattern = \"INC#[0-9]+\"\r\n"
		"ssh_listen = 10.0.0.1:2200"; /* last line without newline */

	assert_int_equal(parse(f, text, strlen(text), ""), 0);
	assert_int_equal(c->code_ttl, 120);
	assert_string_equal(c->hostname, "relay.example.edu");
	/* Quotes keep leading and trailing spaces; no basedir keeps it as written. */
	assert_string_equal(c->database, "  spaced name.db ");
	/* '#' after the start of a line is data, not a comment. */
	assert_string_equal(c->ticket_pattern, "INC#[0-9]+");
	assert_string_equal(c->ssh_listen.host, "10.0.0.1");
	assert_int_equal(c->ssh_listen.port, 2200);
}

static void test_quoted_edge_cases(void **state)
{
	struct fixture *f = *state;

	/* "" is an empty value: an empty path is refused. */
	expect_line3_error(f, "database = \"\"");
	assert_non_null(strstr(f->err, "empty path"));
	/* A lone quote is not a quoted value: kept as written. */
	assert_int_equal(parse_str(f, "database = \"x.db\n"), 0);
	assert_string_equal(f->cfg.database, "\"x.db");
	/* Quotes inside a relative path are resolved like any other path. */
	assert_int_equal(parse_base(f, "recordings_dir = \" r \"\n", "/base"), 0);
	assert_string_equal(f->cfg.recordings_dir, "/base/ r ");
}

static void test_relative_and_absolute_paths(void **state)
{
	struct fixture *f = *state;
	const char *text = "database = db/c.db\ncerts_dir = /abs/certs\nrecordings_dir = ./rec\nca = ca.pem\n";

	assert_int_equal(parse(f, text, strlen(text), "/opt/cfg"), 0);
	assert_string_equal(f->cfg.database, "/opt/cfg/db/c.db");
	assert_string_equal(f->cfg.certs_dir, "/abs/certs");
	assert_string_equal(f->cfg.recordings_dir, "/opt/cfg/./rec");
	assert_string_equal(f->cfg.ca_file, "/opt/cfg/ca.pem");

	/* "" as basedir keeps relative paths as written. */
	assert_int_equal(parse(f, text, strlen(text), ""), 0);
	assert_string_equal(f->cfg.database, "db/c.db");
	assert_string_equal(f->cfg.certs_dir, "/abs/certs");
	assert_string_equal(f->cfg.ca_file, "ca.pem");
}

static void test_path_too_long_after_resolution(void **state)
{
	struct fixture *f = *state;
	char base[CFG_MAX_PATH], text[CFG_MAX_LINE];

	/* A value that fits, but not once the basedir is put in front. */
	memset(base, 'b', 300);
	base[0] = '/';
	base[300] = '\0';
	snprintf(text, sizeof text, "database = %0300d\n", 0);
	assert_int_equal(parse(f, text, strlen(text), base), -1);
	assert_non_null(strstr(f->err, "x:1: "));
	assert_non_null(strstr(f->err, "longer than"));
	/* The same value without a basedir is fine. */
	assert_int_equal(parse(f, text, strlen(text), ""), 0);
	assert_int_equal(strlen(f->cfg.database), 300);
}

static void test_code_ttl_bounds(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse_str(f, "code_ttl = 30\n"), 0);
	assert_int_equal(f->cfg.code_ttl, 30);
	assert_int_equal(parse_str(f, "code_ttl = 86400\n"), 0);
	assert_int_equal(f->cfg.code_ttl, CFG_MAX_CODE_TTL_S);
	assert_int_equal(parse_str(f, "code_ttl = \"45\"\n"), 0);
	assert_int_equal(f->cfg.code_ttl, 45);
}

static void test_preauth_limits(void **state)
{
	struct fixture *f = *state;
	struct concierge_config def;

	config_defaults(&def);
	assert_int_equal(def.preauth_per_source, PREAUTH_MAX_PER_SOURCE);
	assert_int_equal(def.preauth_failures_per_source, PREAUTH_FAILURES_PER_SOURCE);
	assert_int_equal(parse_str(f, "preauth_per_source = 200\npreauth_failures_per_source = 5000\n"), 0);
	assert_int_equal(f->cfg.preauth_per_source, 200);
	assert_int_equal(f->cfg.preauth_failures_per_source, 5000);
	expect_line3_error(f, "preauth_per_source = 0");
	assert_non_null(strstr(f->err, "connections from 1 to"));
	expect_line3_error(f, "preauth_per_source = 257");
	expect_line3_error(f, "preauth_failures_per_source = 1000001");
	assert_non_null(strstr(f->err, "failures from 1 to 1000000"));
	expect_line3_error(f, "preauth_failures_per_source = many");
}

static void test_hostname_values(void **state)
{
	struct fixture *f = *state;
	char text[CFG_MAX_LINE], name[CFG_MAX_HOSTNAME + 2];

	assert_int_equal(parse_str(f, "hostname = a-1.example.edu\n"), 0);
	assert_string_equal(f->cfg.hostname, "a-1.example.edu");
	expect_line3_error(f, "hostname = -lead.example");
	expect_line3_error(f, "hostname = .lead");
	expect_line3_error(f, "hostname = under_score");
	expect_line3_error(f, "hostname = two words");
	expect_line3_error(f, "hostname =");
	assert_non_null(strstr(f->err, "hostname"));
	memset(name, 'a', sizeof name);
	name[CFG_MAX_HOSTNAME] = '\0';
	snprintf(text, sizeof text, "hostname = %s\n", name);
	assert_int_equal(parse_str(f, text), 0);
	assert_int_equal(strlen(f->cfg.hostname), CFG_MAX_HOSTNAME);
	name[CFG_MAX_HOSTNAME] = 'a';
	name[CFG_MAX_HOSTNAME + 1] = '\0';
	snprintf(text, sizeof text, "# long\n\nhostname = %s\n", name);
	expect_error_at(f, text, strlen(text), 3);
}

/* ---- errors name the line ------------------------------------------------ */

static void test_error_unknown_key(void **state)
{
	struct fixture *f = *state;

	expect_line3_error(f, "databse = x.db");
	assert_non_null(strstr(f->err, "unknown key"));
	assert_non_null(strstr(f->err, "databse"));
	expect_line3_error(f, "Database = x.db"); /* keys are case-sensitive */
	expect_line3_error(f, "= value");
}

static void test_error_duplicate_key(void **state)
{
	struct fixture *f = *state;
	const char *text = "code_ttl = 60\n# again\ncode_ttl = 70\n";

	expect_error_at(f, text, strlen(text), 3);
	assert_non_null(strstr(f->err, "code_ttl"));
	assert_non_null(strstr(f->err, "twice"));
	/* Same value twice is still a duplicate. */
	text = "\n\nhostname = a\nhostname = a\n";
	expect_error_at(f, text, strlen(text), 4);
}

static void test_error_missing_equals(void **state)
{
	struct fixture *f = *state;

	expect_line3_error(f, "hostname relay.example.edu");
	assert_non_null(strstr(f->err, "key = value"));
	expect_line3_error(f, "just-a-word");
}

static void test_error_bad_host_port(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
		"agent_listen = 127.0.0.1",        /* no port */
		"agent_listen = 127.0.0.1:",       /* empty port */
		"agent_listen = 127.0.0.1:0",      /* port 0 */
		"agent_listen = 127.0.0.1:70000",  /* beyond 65535 */
		"agent_listen = 127.0.0.1:65536",
		"ssh_listen = 127.0.0.1:ssh",      /* letters */
		"ssh_listen = 127.0.0.1:22x",
		"ssh_listen = 127.0.0.1:+22",
		"ssh_listen = 127.0.0.1:-22",
		"relay = :8443",                   /* no host */
		"relay = ::1:8443",                /* IPv6 needs brackets */
		"relay = [::1]8443",
		"relay = [::1]",
		"relay = bad host:80",
	};

	expect_line3_errors(f, bad, sizeof bad / sizeof bad[0], "HOST:PORT");
}

static void test_error_bad_code_ttl(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
		"code_ttl = 0", "code_ttl = 29", "code_ttl = 86401", "code_ttl = abc", "code_ttl = 10s",
		"code_ttl = -60", "code_ttl = +60", "code_ttl =", "code_ttl = 60 s",
		"code_ttl = 99999999999999999999999",
	};

	expect_line3_errors(f, bad, sizeof bad / sizeof bad[0], "code_ttl");
}

static void test_error_bad_regex(void **state)
{
	struct fixture *f = *state;

	expect_line3_error(f, "ticket_pattern = INC[0-9");
	assert_non_null(strstr(f->err, "ticket_pattern"));
	expect_line3_error(f, "ticket_pattern = (INC");
	expect_line3_error(f, "ticket_pattern = \"\"");
}

static void test_error_long_line(void **state)
{
	struct fixture *f = *state;
	size_t len = 2 * CFG_MAX_LINE;
	char *text = calloc(1, len + 1);
	size_t n;

	assert_non_null(text);
	/* A comment line of CFG_MAX_LINE bytes including its newline is fine. */
	n = (size_t)snprintf(text, len, "hostname = a\n#");
	memset(text + n, 'c', CFG_MAX_LINE - 2);
	text[n + CFG_MAX_LINE - 2] = '\n';
	assert_int_equal(parse(f, text, n + CFG_MAX_LINE - 1, ""), 0);

	/* One byte over the limit on line 3 is refused, naming the line. */
	memset(text, 0, len + 1);
	n = (size_t)snprintf(text, len, "# a\n\n#");
	memset(text + n, 'c', CFG_MAX_LINE);
	text[n + CFG_MAX_LINE] = '\n';
	expect_error_at(f, text, n + CFG_MAX_LINE + 1, 3);
	assert_non_null(strstr(f->err, "longer than"));
	/* Also without a trailing newline (last line of the text). */
	expect_error_at(f, text, n + CFG_MAX_LINE, 3);
	free(text);
}

static void test_error_long_value(void **state)
{
	struct fixture *f = *state;
	char text[CFG_MAX_LINE];
	int n = snprintf(text, sizeof text, "\n\ndatabase = ");

	memset(text + n, 'd', CFG_MAX_VALUE + 1);
	text[n + CFG_MAX_VALUE + 1] = '\0';
	expect_error_at(f, text, strlen(text), 3);
	assert_non_null(strstr(f->err, "value longer"));
}

static void test_error_embedded_nul(void **state)
{
	struct fixture *f = *state;
	static const char text[] = "# ok\nhostname = a\n\ndatabase = x\0.db\n";

	expect_error_at(f, text, sizeof text - 1, 4);
	assert_non_null(strstr(f->err, "NUL"));
	/* A NUL in a comment is refused too: nothing hides after it. */
	static const char comment[] = "# a\0b\n";
	expect_error_at(f, comment, sizeof comment - 1, 1);
}

static void test_error_uses_source_name(void **state)
{
	struct fixture *f = *state;

	config_defaults(&f->cfg);
	snprintf(f->cfg.source, sizeof f->cfg.source, "/etc/concierge.conf");
	assert_int_equal(config_parse_text(&f->cfg, "bogus = 1\n", 10, "", f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "/etc/concierge.conf:1: "));
}

/* ---- host_port_parse ----------------------------------------------------- */

static void test_host_port_parse(void **state)
{
	struct fixture *f = *state;
	struct host_port hp;
	char big[CFG_MAX_HOSTNAME + 16];

	assert_int_equal(host_port_parse("192.0.2.7:8443", &hp, f->err, sizeof f->err), 0);
	assert_string_equal(hp.host, "192.0.2.7");
	assert_int_equal(hp.port, 8443);
	assert_int_equal(host_port_parse("relay.example.edu:443", &hp, f->err, sizeof f->err), 0);
	assert_string_equal(hp.host, "relay.example.edu");
	assert_int_equal(hp.port, 443);
	assert_int_equal(host_port_parse("[::1]:2222", &hp, f->err, sizeof f->err), 0);
	assert_string_equal(hp.host, "::1");
	assert_int_equal(hp.port, 2222);
	assert_int_equal(host_port_parse("[2001:db8::5]:1", &hp, f->err, sizeof f->err), 0);
	assert_string_equal(hp.host, "2001:db8::5");
	assert_int_equal(hp.port, 1);
	assert_int_equal(host_port_parse("localhost:65535", &hp, f->err, sizeof f->err), 0);
	assert_int_equal(hp.port, 65535);

	static const char *const bad[] = {
		"", ":", "host", "host:", "host:0", "host:65536", "host:70000", "host:abc",
		"host:1a", "host: 80", "[::1]", "[::1]:", "[::1]:0", "[]:80", "::1:80", "[::1:80",
		"ho st:80", "host/x:80", "[::1]:99999999999999999999",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		f->err[0] = '\0';
		if (host_port_parse(bad[i], &hp, f->err, sizeof f->err) != -1)
			fail_msg("accepted '%s'", bad[i]);
		assert_non_null(strstr(f->err, "HOST:PORT"));
	}

	/* Host length limit: CFG_MAX_HOSTNAME bytes fit, one more does not. */
	memset(big, 'h', CFG_MAX_HOSTNAME);
	snprintf(big + CFG_MAX_HOSTNAME, sizeof big - CFG_MAX_HOSTNAME, ":80");
	assert_int_equal(host_port_parse(big, &hp, f->err, sizeof f->err), 0);
	assert_int_equal(strlen(hp.host), CFG_MAX_HOSTNAME);
	memset(big, 'h', CFG_MAX_HOSTNAME + 1);
	snprintf(big + CFG_MAX_HOSTNAME + 1, sizeof big - CFG_MAX_HOSTNAME - 1, ":80");
	assert_int_equal(host_port_parse(big, &hp, f->err, sizeof f->err), -1);
}

/* ---- files --------------------------------------------------------------- */

static void test_load_file_resolves_against_its_dir(void **state)
{
	struct fixture *f = *state;
	char path[256], want[512];
	const char *text = "database = state/c.db\ncerts_dir = /var/lib/certs\ncode_ttl = 300\n";

	write_file(f->dir, "site.conf", text, strlen(text), path, sizeof path);
	config_defaults(&f->cfg);
	assert_int_equal(config_load_file(&f->cfg, path, f->err, sizeof f->err), 0);
	assert_string_equal(f->cfg.source, path);
	snprintf(want, sizeof want, "%s/state/c.db", f->dir);
	assert_string_equal(f->cfg.database, want);
	assert_string_equal(f->cfg.certs_dir, "/var/lib/certs");
	assert_int_equal(f->cfg.code_ttl, 300);
	/* Keys the file does not set keep the values already in cfg. */
	assert_string_equal(f->cfg.recordings_dir, "./recordings");
}

static void test_load_file_error_names_file_and_line(void **state)
{
	struct fixture *f = *state;
	char path[256], want[300];
	const char *text = "# site\ncode_ttl = 60\ncode_ttl = 10s\n";

	write_file(f->dir, "bad.conf", text, strlen(text), path, sizeof path);
	config_defaults(&f->cfg);
	assert_int_equal(config_load_file(&f->cfg, path, f->err, sizeof f->err), -1);
	snprintf(want, sizeof want, "%s:3: ", path);
	assert_non_null(strstr(f->err, want));
}

static void test_load_file_missing(void **state)
{
	struct fixture *f = *state;
	char path[256];

	snprintf(path, sizeof path, "%s/nope.conf", f->dir);
	config_defaults(&f->cfg);
	assert_int_equal(config_load_file(&f->cfg, path, f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, path));
	assert_non_null(strstr(f->err, "No such file"));
	/* A directory is not a config file. */
	assert_int_equal(config_load_file(&f->cfg, f->dir, f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "not a regular file"));
}

static void test_load_file_size_limit(void **state)
{
	struct fixture *f = *state;
	size_t len = CFG_MAX_FILE_BYTES + 1;
	char *text = malloc(len), path[256];

	assert_non_null(text);
	/* Exactly CFG_MAX_FILE_BYTES of comment lines ending in a real key: accepted. */
	memset(text, '#', len);
	for (size_t i = 99; i < len; i += 100)
		text[i] = '\n';
	memcpy(text + CFG_MAX_FILE_BYTES - 15, "\ncode_ttl = 31\n", 15);
	write_file(f->dir, "max.conf", text, CFG_MAX_FILE_BYTES, path, sizeof path);
	config_defaults(&f->cfg);
	assert_int_equal(config_load_file(&f->cfg, path, f->err, sizeof f->err), 0);
	assert_int_equal(f->cfg.code_ttl, 31);

	/* One byte more: refused before parsing. */
	text[CFG_MAX_FILE_BYTES] = '\n';
	write_file(f->dir, "big.conf", text, len, path, sizeof path);
	config_defaults(&f->cfg);
	assert_int_equal(config_load_file(&f->cfg, path, f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "larger than"));
	assert_int_equal(f->cfg.code_ttl, 600);
	free(text);
}

static void test_config_load_explicit(void **state)
{
	struct fixture *f = *state;
	char path[256], want[300];
	const char *text = "recordings_dir = rec\nssh_listen = [::1]:2022\n";

	write_file(f->dir, "explicit.conf", text, strlen(text), path, sizeof path);
	/* Junk in cfg must not survive: config_load starts from the defaults. */
	memset(&f->cfg, 0x5A, sizeof f->cfg);
	assert_int_equal(config_load(&f->cfg, path, f->err, sizeof f->err), 0);
	assert_string_equal(f->cfg.source, path);
	snprintf(want, sizeof want, "%s/rec", f->dir);
	assert_string_equal(f->cfg.recordings_dir, want);
	assert_string_equal(f->cfg.ssh_listen.host, "::1");
	assert_int_equal(f->cfg.ssh_listen.port, 2022);
	assert_string_equal(f->cfg.database, "./concierge.db");
	assert_int_equal(f->cfg.code_ttl, 600);

	/* An explicit path that does not exist is an error, never a fallback. */
	snprintf(path, sizeof path, "%s/missing.conf", f->dir);
	assert_int_equal(config_load(&f->cfg, path, f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "missing.conf"));
}

static void test_config_load_without_path(void **state)
{
	struct fixture *f = *state;
	char path[256];
	const char *text = "database = data/c.db\ncode_ttl = 90\n";

	assert_int_equal(chdir(f->dir), 0);
	/* No ./concierge.conf: built-in defaults. */
	memset(&f->cfg, 0x5A, sizeof f->cfg);
	assert_int_equal(config_load(&f->cfg, NULL, f->err, sizeof f->err), 0);
	assert_string_equal(f->cfg.source, "built-in defaults");
	assert_string_equal(f->cfg.database, "./concierge.db");
	assert_int_equal(f->cfg.code_ttl, 600);

	/* With ./concierge.conf: it is read, paths relative to "." */
	write_file(f->dir, CONFIG_DEFAULT_FILE, text, strlen(text), path, sizeof path);
	assert_int_equal(config_load(&f->cfg, NULL, f->err, sizeof f->err), 0);
	assert_string_equal(f->cfg.source, CONFIG_DEFAULT_FILE);
	assert_string_equal(f->cfg.database, "./data/c.db");
	assert_int_equal(f->cfg.code_ttl, 90);

	/* A broken ./concierge.conf is an error, not silently skipped. */
	text = "code_ttl = 90\nnonsense\n";
	write_file(f->dir, CONFIG_DEFAULT_FILE, text, strlen(text), path, sizeof path);
	assert_int_equal(config_load(&f->cfg, NULL, f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, CONFIG_DEFAULT_FILE ":2: "));
}

static void test_agent_ca(void **state)
{
	struct fixture *f = *state;
	char ca[CFG_MAX_PATH + 16];

	config_defaults(&f->cfg);
	assert_int_equal(parse_base(f, "certs_dir = c\n", "/b"), 0);
	config_agent_ca(&f->cfg, ca, sizeof ca);
	assert_string_equal(ca, "/b/c/ca.pem");
	assert_int_equal(parse_base(f, "certs_dir = c\nca = /pin/ca.pem\n", "/b"), 0);
	config_agent_ca(&f->cfg, ca, sizeof ca);
	assert_string_equal(ca, "/pin/ca.pem");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_valid_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_text_keeps_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_comments_blank_crlf_quotes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quoted_edge_cases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relative_and_absolute_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_too_long_after_resolution, setup, teardown),
		cmocka_unit_test_setup_teardown(test_preauth_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_code_ttl_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostname_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_unknown_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_duplicate_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_missing_equals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_bad_host_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_bad_code_ttl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_bad_regex, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_long_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_long_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_embedded_nul, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_uses_source_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_port_parse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_file_resolves_against_its_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_file_error_names_file_and_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_file_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_file_size_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_load_explicit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_load_without_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_agent_ca, setup, teardown),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
