#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ticket_id.h"
#include "xmalloc.h"

void config_defaults(struct concierge_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	snprintf(cfg->source, sizeof cfg->source, "built-in defaults");
	snprintf(cfg->database, sizeof cfg->database, "./concierge.db");
	snprintf(cfg->certs_dir, sizeof cfg->certs_dir, "./certs");
	snprintf(cfg->recordings_dir, sizeof cfg->recordings_dir, "./recordings");
	snprintf(cfg->agent_listen.host, sizeof cfg->agent_listen.host, "127.0.0.1");
	cfg->agent_listen.port = 8443;
	snprintf(cfg->ssh_listen.host, sizeof cfg->ssh_listen.host, "127.0.0.1");
	cfg->ssh_listen.port = 2222;
	snprintf(cfg->hostname, sizeof cfg->hostname, "localhost");
	snprintf(cfg->ticket_pattern, sizeof cfg->ticket_pattern, "%s", CONFIG_DEFAULT_TICKET_PATTERN);
	cfg->code_ttl = 600;
	cfg->preauth_per_source = PREAUTH_MAX_PER_SOURCE;
	cfg->preauth_failures_per_source = PREAUTH_FAILURES_PER_SOURCE;
}

static int parse_port(const char *text, unsigned *port)
{
	char *end;
	unsigned long v;

	if (*text == '\0' || !isdigit((unsigned char)*text))
		return -1;
	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || v > 65535)
		return -1;
	*port = (unsigned)v;
	return 0;
}

static int valid_host(const char *host, int bracketed)
{
	if (*host == '\0')
		return 0;
	for (const char *p = host; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (isalnum(c) || c == '.' || c == '-' || (bracketed && c == ':'))
			continue;
		return 0;
	}
	return 1;
}

int host_port_parse(const char *text, struct host_port *out, char *err, size_t errlen)
{
	const char *host = text, *colon;
	size_t host_len;
	int bracketed = 0;

	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (close == NULL || close[1] != ':')
			goto bad;
		host = text + 1;
		host_len = (size_t)(close - host);
		colon = close + 1;
		bracketed = 1;
	} else {
		colon = strrchr(text, ':');
		if (colon == NULL)
			goto bad;
		host_len = (size_t)(colon - text);
	}
	if (host_len == 0 || host_len > CFG_MAX_HOSTNAME)
		goto bad;
	memcpy(out->host, host, host_len);
	out->host[host_len] = '\0';
	if (!valid_host(out->host, bracketed) || parse_port(colon + 1, &out->port) < 0)
		goto bad;
	return 0;
bad:
	snprintf(err, errlen, "'%s' is not HOST:PORT (examples: 127.0.0.1:8443, relay.example.edu:443, [::1]:2222; port 1-65535)",
	         text);
	return -1;
}

void config_agent_ca(const struct concierge_config *cfg, char *out, size_t outlen)
{
	if (cfg->ca_file[0] != '\0')
		snprintf(out, outlen, "%s", cfg->ca_file);
	else
		snprintf(out, outlen, "%s/ca.pem", cfg->certs_dir);
}

/* Removes leading and trailing white space in place; returns the start. */
static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int set_path(char *dst, size_t dstlen, const char *value, const char *basedir,
                    char *why, size_t whylen)
{
	int n;

	if (*value == '\0') {
		snprintf(why, whylen, "an empty path");
		return -1;
	}
	if (value[0] == '/' || basedir[0] == '\0')
		n = snprintf(dst, dstlen, "%s", value);
	else
		n = snprintf(dst, dstlen, "%s/%s", basedir, value);
	if (n < 0 || (size_t)n >= dstlen) {
		snprintf(why, whylen, "a path longer than %zu bytes", dstlen - 1);
		return -1;
	}
	return 0;
}

static int set_hostname(char *dst, const char *value, char *why, size_t whylen)
{
	size_t len = strlen(value);

	if (len == 0 || len > CFG_MAX_HOSTNAME || !valid_host(value, 0) || value[0] == '-' ||
	    value[0] == '.') {
		snprintf(why, whylen, "not a DNS name (letters, digits, '-' and '.', at most %d bytes)",
		         CFG_MAX_HOSTNAME);
		return -1;
	}
	memcpy(dst, value, len + 1);
	return 0;
}

static int set_ticket_pattern(char *dst, size_t dstlen, const char *value, char *why, size_t whylen)
{
	struct ticket_matcher *m;

	if (*value == '\0' || strlen(value) >= dstlen) {
		snprintf(why, whylen, "an empty or over-long pattern");
		return -1;
	}
	if (ticket_matcher_new(value, &m, why, whylen) < 0)
		return -1;
	ticket_matcher_free(m);
	snprintf(dst, dstlen, "%s", value);
	return 0;
}

/* A decimal number from `min` to `max` ("what" names it in the error). */
static int set_number(unsigned *dst, const char *value, unsigned long min, unsigned long max,
                      const char *what, char *why, size_t whylen)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = isdigit((unsigned char)*value) ? strtoul(value, &end, 10) : 0;
	if (!isdigit((unsigned char)*value) || errno != 0 || *end != '\0' || v < min || v > max) {
		snprintf(why, whylen, "not a number of %s from %lu to %lu", what, min, max);
		return -1;
	}
	*dst = (unsigned)v;
	return 0;
}

enum config_key {
	KEY_DATABASE, KEY_CERTS_DIR, KEY_RECORDINGS_DIR, KEY_AGENT_LISTEN, KEY_SSH_LISTEN,
	KEY_HOSTNAME, KEY_TICKET_PATTERN, KEY_CODE_TTL, KEY_RELAY, KEY_CA, KEY_PREAUTH_PER_SOURCE,
	KEY_PREAUTH_FAILURES_PER_SOURCE, KEY_COUNT
};

static const char *const key_names[KEY_COUNT] = {
	"database", "certs_dir", "recordings_dir", "agent_listen", "ssh_listen",
	"hostname", "ticket_pattern", "code_ttl", "relay", "ca", "preauth_per_source",
	"preauth_failures_per_source",
};

static int apply_key(struct concierge_config *cfg, enum config_key key, const char *value,
                     const char *basedir, char *why, size_t whylen)
{
	switch (key) {
	case KEY_DATABASE:
		return set_path(cfg->database, sizeof cfg->database, value, basedir, why, whylen);
	case KEY_CERTS_DIR:
		return set_path(cfg->certs_dir, sizeof cfg->certs_dir, value, basedir, why, whylen);
	case KEY_RECORDINGS_DIR:
		return set_path(cfg->recordings_dir, sizeof cfg->recordings_dir, value, basedir, why, whylen);
	case KEY_AGENT_LISTEN:
		return host_port_parse(value, &cfg->agent_listen, why, whylen);
	case KEY_SSH_LISTEN:
		return host_port_parse(value, &cfg->ssh_listen, why, whylen);
	case KEY_RELAY:
		return host_port_parse(value, &cfg->relay, why, whylen);
	case KEY_HOSTNAME:
		return set_hostname(cfg->hostname, value, why, whylen);
	case KEY_TICKET_PATTERN:
		return set_ticket_pattern(cfg->ticket_pattern, sizeof cfg->ticket_pattern, value, why, whylen);
	case KEY_CODE_TTL:
		return set_number(&cfg->code_ttl, value, 30, CFG_MAX_CODE_TTL_S, "seconds", why, whylen);
	case KEY_PREAUTH_PER_SOURCE:
		return set_number(&cfg->preauth_per_source, value, 1, PREAUTH_MAX_CONNECTIONS, "connections", why,
		                  whylen);
	case KEY_PREAUTH_FAILURES_PER_SOURCE:
		return set_number(&cfg->preauth_failures_per_source, value, 1, CFG_MAX_PREAUTH_FAILURES,
		                  "failures", why, whylen);
	case KEY_CA:
		return set_path(cfg->ca_file, sizeof cfg->ca_file, value, basedir, why, whylen);
	default:
		snprintf(why, whylen, "an unhandled key");
		return -1;
	}
}

/* Parses one logical line (NUL-terminated, no newline).  0 ok, -1 with `why`. */
static int parse_line(struct concierge_config *cfg, char *line, const char *basedir,
                      unsigned *seen, char *why, size_t whylen)
{
	char *eq, *key, *value;
	size_t vlen;
	int k;

	line = trim(line);
	if (*line == '\0' || *line == '#')
		return 0;
	eq = strchr(line, '=');
	if (eq == NULL) {
		snprintf(why, whylen, "expected 'key = value'");
		return -1;
	}
	*eq = '\0';
	key = trim(line);
	value = trim(eq + 1);
	vlen = strlen(value);
	if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
		value[vlen - 1] = '\0';
		value++;
		vlen -= 2;
	}
	if (vlen > CFG_MAX_VALUE) {
		snprintf(why, whylen, "value longer than %d bytes", CFG_MAX_VALUE);
		return -1;
	}
	for (k = 0; k < KEY_COUNT; k++)
		if (strcmp(key, key_names[k]) == 0)
			break;
	if (k == KEY_COUNT) {
		snprintf(why, whylen, "unknown key '%.64s' (known: database, certs_dir, recordings_dir, "
		         "agent_listen, ssh_listen, hostname, ticket_pattern, code_ttl, relay, ca, "
		         "preauth_per_source, preauth_failures_per_source)", key);
		return -1;
	}
	if (*seen & (1u << k)) {
		snprintf(why, whylen, "key '%s' given twice", key_names[k]);
		return -1;
	}
	*seen |= 1u << k;
	char detail[400];
	if (apply_key(cfg, (enum config_key)k, value, basedir, detail, sizeof detail) < 0) {
		/* Prefix the key so "not HOST:PORT" says which setting it was. */
		snprintf(why, whylen, "bad value for %s: %s", key_names[k], detail);
		return -1;
	}
	return 0;
}

int config_parse_text(struct concierge_config *cfg, const char *text, size_t len,
                      const char *basedir, char *err, size_t errlen)
{
	char line[CFG_MAX_LINE + 1];
	char why[512];
	unsigned seen = 0, lineno = 0;
	size_t pos = 0;

	while (pos < len) {
		size_t start = pos, n;

		while (pos < len && text[pos] != '\n')
			pos++;
		n = pos - start;
		lineno++;
		if (pos < len)
			pos++; /* skip newline */
		if (n > CFG_MAX_LINE) {
			snprintf(err, errlen, "%s:%u: line longer than %d bytes", cfg->source, lineno, CFG_MAX_LINE);
			return -1;
		}
		if (memchr(text + start, '\0', n) != NULL) {
			snprintf(err, errlen, "%s:%u: NUL byte in line", cfg->source, lineno);
			return -1;
		}
		memcpy(line, text + start, n);
		line[n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[n - 1] = '\0';
		if (parse_line(cfg, line, basedir, &seen, why, sizeof why) < 0) {
			snprintf(err, errlen, "%s:%u: %s", cfg->source, lineno, why);
			return -1;
		}
	}
	return 0;
}

int config_load_file(struct concierge_config *cfg, const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL, *pathcopy = NULL;
	ssize_t n;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot read config %s: %s (pass an existing file to --config)",
		         path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "config %s is not a regular file", path);
		goto out;
	}
	if (st.st_size > CFG_MAX_FILE_BYTES) {
		snprintf(err, errlen, "config %s is larger than %d bytes", path, CFG_MAX_FILE_BYTES);
		goto out;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	n = read(fd, buf, (size_t)st.st_size + 1);
	if (n < 0 || n > st.st_size) {
		snprintf(err, errlen, "cannot read config %s: %s", path, n < 0 ? strerror(errno) : "file grew");
		goto out;
	}
	snprintf(cfg->source, sizeof cfg->source, "%s", path);
	pathcopy = xstrdup(path);
	rc = config_parse_text(cfg, buf, (size_t)n, dirname(pathcopy), err, errlen);
out:
	free(pathcopy);
	free(buf);
	close(fd);
	return rc;
}

int config_load(struct concierge_config *cfg, const char *explicit_path, char *err, size_t errlen)
{
	config_defaults(cfg);
	if (explicit_path != NULL)
		return config_load_file(cfg, explicit_path, err, errlen);
	if (access(CONFIG_DEFAULT_FILE, F_OK) == 0)
		return config_load_file(cfg, CONFIG_DEFAULT_FILE, err, errlen);
	return 0;
}
