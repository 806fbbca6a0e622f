/*
 * Configuration shared by every Concierge program.
 *
 * Format: `key = value` lines; `#` starts a comment line; blank lines are
 * ignored; values may be wrapped in double quotes to keep leading or trailing
 * spaces.  Unknown keys, repeated keys and bad values are errors that name the
 * line.  Relative paths in a file are resolved against the file's directory;
 * built-in defaults are relative to the working directory.
 *
 * Resolution (config_load): an explicit --config path; else ./concierge.conf
 * when present; else built-in defaults that keep all state in the working copy.
 *
 * The struct is plain data: fixed-size buffers, nothing to free.
 * Functions return 0 on success, -1 on error with a one-line message in `err`.
 */
#ifndef CONCIERGE_CONFIG_H
#define CONCIERGE_CONFIG_H

#include <stddef.h>

#include "concierge_limits.h"

#define CONFIG_DEFAULT_FILE "concierge.conf"
/* Accepts e.g. INC0012345, RITM0001234, CHG0000042 and HD-4711 style ids. */
#define CONFIG_DEFAULT_TICKET_PATTERN \
	"(INC|RITM|REQ|CHG|PRB|TASK|SCTASK)[0-9]{7}|[A-Z][A-Z0-9]{0,9}-[0-9]{1,10}"

struct host_port {
	char host[CFG_MAX_HOSTNAME + 1]; /* name, IPv4, or IPv6 without brackets */
	unsigned port;                    /* 1..65535 */
};

struct concierge_config {
	char source[CFG_MAX_PATH];        /* file read, or "built-in defaults" */
	char database[CFG_MAX_PATH];
	char certs_dir[CFG_MAX_PATH];
	char recordings_dir[CFG_MAX_PATH];
	struct host_port agent_listen;    /* TLS port for end users' agents */
	struct host_port ssh_listen;      /* SSH port for staff */
	char hostname[CFG_MAX_HOSTNAME + 1]; /* put in the relay certificate */
	char ticket_pattern[CFG_MAX_VALUE + 1]; /* POSIX ERE, matched whole */
	unsigned code_ttl;                /* seconds a session code lives */
	struct host_port relay;           /* agent side: relay to dial (port 0 = unset) */
	char ca_file[CFG_MAX_PATH];       /* agent side: CA to pin; "" = certs_dir/ca.pem */
	/* Per source address on each relay port (server/peer_guard): connections
	 * not yet authenticated at once, and pre-authentication failures per
	 * PREAUTH_FAILURES_WINDOW_S before the address is refused.  Raise them
	 * when many end users share one address (NAT). */
	unsigned preauth_per_source;
	unsigned preauth_failures_per_source;
};

/* Fills `cfg` with the built-in defaults. */
void config_defaults(struct concierge_config *cfg);

/* Parses `len` bytes of config text over the current contents of `cfg`.
 * `basedir` resolves relative paths ("" keeps them as written). */
int config_parse_text(struct concierge_config *cfg, const char *text, size_t len,
                      const char *basedir, char *err, size_t errlen);

/* Reads and parses one file (at most CFG_MAX_FILE_BYTES). */
int config_load_file(struct concierge_config *cfg, const char *path, char *err, size_t errlen);

/* Defaults, then the file chosen by the resolution rule above. */
int config_load(struct concierge_config *cfg, const char *explicit_path, char *err, size_t errlen);

/* Parses HOST:PORT or [IPv6]:PORT. */
int host_port_parse(const char *text, struct host_port *out, char *err, size_t errlen);

/* Writes the CA file agents pin: ca_file if set, else certs_dir/ca.pem. */
void config_agent_ca(const struct concierge_config *cfg, char *out, size_t outlen);

#endif
