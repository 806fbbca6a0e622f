/*
 * Shared plumbing of the `concierge` admin/auditor CLI: the command table,
 * option parsing, config and database opening, and error reporting.
 * Each command group lives in its own cli_<group>.c and exposes handlers.
 *
 * Exit codes (every command): 0 ok, 1 operational error, 2 usage error,
 * 3 verification found tampering (audit log or recording), 4 a recording is
 * truncated (cut short, e.g. by a relay crash; the verified part is sound).
 * Errors go to stderr and name the fix.
 */
#ifndef CONCIERGE_CLI_H
#define CONCIERGE_CLI_H

#include <stdint.h>

#include <openssl/evp.h>

#include "config.h"
#include "store.h"

enum cli_exit { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2, CLI_TAMPERED = 3, CLI_TRUNCATED = 4 };

struct recording_row;
struct recording_record;

/* Options a command may accept; cli_main rejects those a command does not list. */
enum cli_option {
	OPT_JSON = 1 << 0, OPT_ROLE = 1 << 1, OPT_KEY = 1 << 2, OPT_TICKET = 1 << 3,
	OPT_TITLE = 1 << 4, OPT_REQUESTER = 1 << 5, OPT_HEAD = 1 << 6,
	/* recording export / play */
	OPT_PNG = 1 << 7, OPT_EVERY = 1 << 8, OPT_CONTACT_SHEET = 1 << 9, OPT_ASCIICAST = 1 << 10,
	OPT_FBS = 1 << 11, OPT_STREAM = 1 << 12, OPT_VIDEO = 1 << 13, OPT_LISTEN = 1 << 14,
	OPT_SPEED = 1 << 15, OPT_FROM = 1 << 16,
};

struct cli_args {
	const char *config_path; /* --config, NULL when not given */
	int json;
	const char *role, *key, *ticket, *title, *requester, *head;
	const char *png_dir, *every, *contact_sheet, *asciicast, *fbs, *stream, *video; /* export */
	const char *listen, *speed, *from;                                           /* play */
	int npos;
	char **pos;              /* positional arguments after the command words */
};

struct cli_ctx {
	struct cli_args args;
	struct concierge_config cfg;
	char actor[80];          /* "local:<login>" for the audit log */
	const struct cli_command *command;
};

struct cli_command {
	const char *group, *name;    /* "user", "add"; name NULL for one-word commands */
	int min_pos, max_pos;
	unsigned options;            /* OR of enum cli_option */
	const char *usage;           /* arguments after the command words */
	const char *summary;
	int (*run)(struct cli_ctx *ctx);
};

/* Prints "concierge: <message>" and the command's usage on stderr; returns CLI_USAGE. */
int cli_usage_error(const struct cli_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "concierge: <message>" on stderr; returns CLI_FAIL. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Opens the database at cfg.database (must exist); prints the error itself. */
int cli_open_store(struct cli_ctx *ctx, struct store **store);

/* A listing command's print state: --json and rows printed so far. */
struct cli_listing {
	int json, count;
};
/* Runs a listing: opens the store, calls query(ctx, store, state, ...) (it
 * prints each row and counts it in *listing), brackets --json output as an
 * array and prints `empty` in text mode when nothing was listed. */
typedef int (*cli_list_query)(struct cli_ctx *ctx, struct store *store, void *state, char *err,
                              size_t errlen);
int cli_run_listing(struct cli_ctx *ctx, cli_list_query query, struct cli_listing *listing,
                    void *state, const char *empty);
/* The same for a listing with --ticket whose state is a bare cli_listing:
 * "no <noun>[ for ticket ID]" when empty. */
int cli_run_ticket_listing(struct cli_ctx *ctx, cli_list_query query, const char *noun);

/* Command handlers, by group. */
int cli_init(struct cli_ctx *ctx);
int cli_user_add(struct cli_ctx *ctx);
int cli_user_key_add(struct cli_ctx *ctx);
int cli_user_list(struct cli_ctx *ctx);
int cli_user_disable(struct cli_ctx *ctx);
int cli_ticket_open(struct cli_ctx *ctx);
int cli_ticket_list(struct cli_ctx *ctx);
int cli_ticket_show(struct cli_ctx *ctx);
int cli_ticket_close(struct cli_ctx *ctx);
int cli_audit_list(struct cli_ctx *ctx);
int cli_audit_verify(struct cli_ctx *ctx);
int cli_audit_head(struct cli_ctx *ctx);
int cli_recording_list(struct cli_ctx *ctx);
int cli_recording_verify(struct cli_ctx *ctx);     /* exit 0 intact, 4 truncated, 3 tampered */
int cli_recording_timeline(struct cli_ctx *ctx);   /* exit 3 tampered (no timeline) */
/* A recording the auditor opens for export or play (cli_verified.c):
 * resolved, verified with the relay key and the access audited. */
struct cli_verified {
	struct recording_row *row;     /* owned (freed by cli_verified_done) */
	int status;                    /* RECORDING_INTACT or RECORDING_TRUNCATED */
	uint64_t records_verified;     /* records (all types) the signatures cover */
	uint64_t end_us;               /* last verified time: exports stop here */
	int complete;                  /* the file ends with its trailer */
	uint64_t start_utc_us;         /* header: wall-clock start */
};
/* Resolves `id_or_path`, verifies it (relay key), audits action
 * recording.<action> with `details` plus the verification result, in that
 * order.  TAMPERED: audited, reported, CLI_TAMPERED.  TRUNCATED: a warning
 * on stderr naming what is left out, CLI_OK.  Anything else that fails is
 * printed: CLI_FAIL.  On CLI_OK the caller ends with cli_verified_done. */
int cli_verified_open(struct cli_ctx *ctx, const char *id_or_path, const char *action,
                      const char *details, struct cli_verified *out);
/* Calls fn for every verified data record, in file order (stops early when
 * fn returns nonzero, passing that on); -1 after printing a read error. */
int cli_verified_foreach(const struct cli_verified *v,
                         int (*fn)(const struct recording_record *rec, void *arg), void *arg);
void cli_verified_done(struct cli_verified *v);
int cli_recording_export(struct cli_ctx *ctx);
int cli_recording_play(struct cli_ctx *ctx);

/* Shared by the `recording` commands (cli_recording*.c).
 * cli_recording_resolve: ID (all digits) = a database row, whose file must
 * exist; PATH = a file, looked up in the database by its realpath; a file
 * the database does not know still works (row from its header, id 0, state
 * ""; nothing but the path when the header does not parse).  Prints its own
 * error; returns CLI_OK or CLI_FAIL. */
int cli_recording_resolve(struct cli_ctx *ctx, struct store *store, const char *id_or_path,
                          struct recording_row *row);
/* Audit row: actor ctx->actor, action recording.<action>, object
 * recording:<id> (recording:<path> for id 0), the row's ticket.  Fails
 * closed: CLI_FAIL (printed) when it cannot be written, and the caller must
 * then not give access. */
int cli_recording_audit_access(struct cli_ctx *ctx, struct store *store, const struct recording_row *row,
                               const char *action, const char *details);
/* Verifies the row's file with the relay key and, for a registered row,
 * compares it with the database (a file swapped for another valid recording
 * is TAMPERED): CLI_OK with *status (enum recording_status), *res and the
 * problem in words (the verifier's, or how the file differs from its row);
 * CLI_FAIL after printing why it could not verify. */
struct recording_verify_result;
int cli_recording_check(const struct cli_ctx *ctx, const struct recording_row *row, int *status,
                        struct recording_verify_result *res, char *problem, size_t problemlen);
/* The relay's verification key, certs_dir/relay.pem; NULL after printing why.
 * The caller EVP_PKEY_free()s it. */
EVP_PKEY *cli_recording_load_key(const struct cli_ctx *ctx);

#endif
