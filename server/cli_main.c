/*
 * concierge: the admin and auditor command line.  Parses the command words
 * and options, loads the config, and hands over to a handler in cli_*.c.
 */
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "concierge_version.h"
#include "log.h"

#define RECORDING_ARG_HELP \
	"ID is a recording id from 'concierge recording list'; PATH a recording file (found in the\n" \
	"database by its real path; a file the database does not know is checked on its own).\n"

static const struct cli_command commands[] = {
	{ "init", NULL, 0, 0, 0, "",
	  "create keys, certificates, the database and recordings folder (idempotent)", cli_init },
	{ "user", "add", 1, 1, OPT_ROLE | OPT_KEY, "NAME --role desk|vendor|auditor|admin [--key PUBKEY_FILE]",
	  "add a staff user, optionally with an SSH public key", cli_user_add },
	{ "user", "key", 3, 3, 0, "add NAME PUBKEY_FILE",
	  "add an SSH public key to a user ('user key add')", cli_user_key_add },
	{ "user", "list", 0, 0, OPT_JSON, "[--json]", "list users, roles and key fingerprints", cli_user_list },
	{ "user", "disable", 1, 1, 0, "NAME", "disable a user: its keys no longer log in", cli_user_disable },
	{ "ticket", "open", 1, 1, OPT_TITLE | OPT_REQUESTER, "ID [--title TEXT] [--requester NAME]",
	  "open a ticket that sessions will be recorded against", cli_ticket_open },
	{ "ticket", "list", 0, 0, OPT_JSON, "[--json]", "list tickets, newest first", cli_ticket_list },
	{ "ticket", "show", 1, 1, OPT_JSON, "ID [--json]", "show one ticket", cli_ticket_show },
	{ "ticket", "close", 1, 1, 0, "ID", "close a ticket", cli_ticket_close },
	{ "audit", "list", 0, 0, OPT_JSON | OPT_TICKET, "[--ticket ID] [--json]",
	  "list audit rows, optionally of one ticket", cli_audit_list },
	{ "audit", "verify", 0, 0, OPT_JSON | OPT_HEAD, "[--head HASH] [--json]",
	  "verify the hash chain (exit 3 and the first bad row when tampered)", cli_audit_verify },
	{ "audit", "head", 0, 0, OPT_JSON, "[--json]", "print the latest chain hash, to anchor elsewhere",
	  cli_audit_head },
	{ "recording", "list", 0, 0, OPT_JSON | OPT_TICKET, "[--ticket ID] [--json]",
	  "list session recordings: state, times, size, participants, final hash", cli_recording_list },
	{ "recording", "verify", 1, 1, OPT_JSON, "ID|PATH [--json]",
	  "verify a recording's hash chain, signatures (certs/relay.pem) and database row; audited",
	  cli_recording_verify },
	{ "recording", "timeline", 1, 1, OPT_JSON, "ID|PATH [--json]",
	  "show who joined, was allowed what, typed, clicked, pasted and left, in time order; audited",
	  cli_recording_timeline },
	{ "recording", "export", 1, 1,
	  OPT_PNG | OPT_EVERY | OPT_CONTACT_SHEET | OPT_ASCIICAST | OPT_FBS | OPT_STREAM | OPT_VIDEO,
	  "ID|PATH [--png DIR [--every 5s]] [--contact-sheet FILE.png] [--asciicast FILE.cast]\n"
	  "                             [--fbs FILE.fbs [--stream N]] [--video FILE.mp4]",
	  "export a verified recording as PNG frames, a contact sheet, asciicast, FBS or video "
	  "(audited; exit 3 when tampered, 4 when only the verified part of a truncated one was exported)",
	  cli_recording_export },
	{ "recording", "play", 1, 1, OPT_LISTEN | OPT_SPEED | OPT_FROM,
	  "ID|PATH [--listen 127.0.0.1:PORT] [--speed X] [--from MM:SS]",
	  "play a recording as a view-only VNC server with its timeline on stdout (audited)",
	  cli_recording_play },
};

#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

/* More for a command's --help: argument forms and exit codes beyond 0/1/2. */
static const struct {
	const char *group, *name, *text;
} command_help[] = {
	{ "recording", "verify", RECORDING_ARG_HELP
	  "Exit codes: 0 intact; 4 truncated (cut short, e.g. by a relay crash: the records and bytes\n"
	  "up to the last signed checkpoint verify, the tail does not); 3 tampered (names the first\n"
	  "bad record, its index and byte offset, and why); 1 error (missing file, no key)." },
	{ "recording", "timeline", RECORDING_ARG_HELP
	  "Typed text is rebuilt from key events (special keys as <Return>, <Ctrl+c>); input the relay\n"
	  "did not forward is marked (dropped: view-only).  --json: one object per entry.\n"
	  "Exit codes: 0 shown (a truncated recording with a warning); 3 tampered (nothing shown);\n"
	  "1 error." },
};

static const char *help_text(const struct cli_command *c)
{
	for (size_t i = 0; i < sizeof command_help / sizeof command_help[0]; i++)
		if (strcmp(command_help[i].group, c->group) == 0 && c->name &&
		    strcmp(command_help[i].name, c->name) == 0)
			return command_help[i].text;
	return NULL;
}

static void print_command_line(FILE *out, const struct cli_command *c)
{
	fprintf(out, "  concierge %s%s%s %s\n", c->group, c->name ? " " : "", c->name ? c->name : "",
	        c->usage);
}

static void print_help(FILE *out, const char *group)
{
	fprintf(out, "usage: concierge [--config FILE] COMMAND [ARGS]\n\n"
	             "Concierge admin and auditor tool (version %s).\n\nCommands:\n", CONCIERGE_VERSION);
	for (size_t i = 0; i < COMMAND_COUNT; i++) {
		if (group && strcmp(group, commands[i].group) != 0)
			continue;
		print_command_line(out, &commands[i]);
		fprintf(out, "      %s\n", commands[i].summary);
	}
	fprintf(out, "\nEvery command takes --config FILE (default ./concierge.conf if present, else\n"
	             "built-in defaults: ./concierge.db, ./certs, ./recordings) and --help.\n"
	             "Exit codes: 0 ok, 1 error, 2 usage error, 3 verification found tampering (audit log or\n"
	             "recording), 4 recording truncated.\n");
}

static void print_usage(FILE *out, const struct cli_command *c)
{
	fprintf(out, "usage:\n");
	print_command_line(out, c);
	fprintf(out, "\n%s.\n", c->summary);
	if (help_text(c))
		fprintf(out, "\n%s\n", help_text(c));
	fprintf(out, "Options: --config FILE, --help\n");
}

int cli_usage_error(const struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	fputs("concierge: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (ctx && ctx->command)
		print_usage(stderr, ctx->command);
	else
		fprintf(stderr, "run 'concierge --help' for the list of commands\n");
	return CLI_USAGE;
}

int cli_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("concierge: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_FAIL;
}

int cli_open_store(struct cli_ctx *ctx, struct store **store)
{
	char err[512];

	if (store_open(ctx->cfg.database, STORE_OPEN_EXISTING, store, err, sizeof err) < 0)
		return cli_fail("%s", err);
	return CLI_OK;
}

int cli_run_listing(struct cli_ctx *ctx, cli_list_query query, struct cli_listing *listing,
                    void *state, const char *empty)
{
	struct store *store;
	char err[512];
	int rc;

	if ((rc = cli_open_store(ctx, &store)) != CLI_OK)
		return rc;
	if (listing->json)
		printf("[");
	rc = query(ctx, store, state, err, sizeof err);
	store_close(store);
	if (rc < 0)
		return cli_fail("%s", err);
	if (listing->json)
		printf("]\n");
	else if (listing->count == 0)
		printf("%s\n", empty);
	return CLI_OK;
}

int cli_run_ticket_listing(struct cli_ctx *ctx, cli_list_query query, const char *noun)
{
	struct cli_listing st = { ctx->args.json, 0 };
	char empty[TICKET_ID_MAX + 64];

	snprintf(empty, sizeof empty, "no %s%s%.*s", noun, ctx->args.ticket ? " for ticket " : "",
	         TICKET_ID_MAX, ctx->args.ticket ? ctx->args.ticket : "");
	return cli_run_listing(ctx, query, &st, &st, empty);
}

static const struct cli_command *find_command(const char *group, const char *name)
{
	for (size_t i = 0; i < COMMAND_COUNT; i++) {
		const struct cli_command *c = &commands[i];
		if (strcmp(c->group, group) != 0)
			continue;
		if (c->name == NULL || (name && strcmp(c->name, name) == 0))
			return c;
	}
	return NULL;
}

static int group_exists(const char *group)
{
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		if (strcmp(commands[i].group, group) == 0)
			return 1;
	return 0;
}

/* Above every enum cli_option bit, so no value means two options. */
enum { LONG_CONFIG = 1 << 28, LONG_HELP, LONG_VERSION };

/* Parses options anywhere after the command words. Returns CLI_OK, CLI_USAGE,
 * or -1 when --help was printed. */
static int parse_options(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "config", required_argument, NULL, LONG_CONFIG },
		{ "help", no_argument, NULL, LONG_HELP },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "role", required_argument, NULL, OPT_ROLE },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "ticket", required_argument, NULL, OPT_TICKET },
		{ "title", required_argument, NULL, OPT_TITLE },
		{ "requester", required_argument, NULL, OPT_REQUESTER },
		{ "head", required_argument, NULL, OPT_HEAD },
		{ "png", required_argument, NULL, OPT_PNG },
		{ "every", required_argument, NULL, OPT_EVERY },
		{ "contact-sheet", required_argument, NULL, OPT_CONTACT_SHEET },
		{ "asciicast", required_argument, NULL, OPT_ASCIICAST },
		{ "fbs", required_argument, NULL, OPT_FBS },
		{ "stream", required_argument, NULL, OPT_STREAM },
		{ "video", required_argument, NULL, OPT_VIDEO },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "speed", required_argument, NULL, OPT_SPEED },
		{ "from", required_argument, NULL, OPT_FROM },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_args *a = &ctx->args;
	int opt;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
		if (opt == 'h' || opt == LONG_HELP) {
			print_usage(stdout, ctx->command);
			return -1;
		}
		if (opt == '?')
			return cli_usage_error(ctx, "unknown option '%s'", argv[optind - 1]);
		if (opt == ':')
			return cli_usage_error(ctx, "option '%s' needs a value", argv[optind - 1]);
		if (opt == LONG_CONFIG) {
			a->config_path = optarg;
			continue;
		}
		if (!(ctx->command->options & (unsigned)opt))
			return cli_usage_error(ctx, "option '%s' does not apply here", argv[optind - 1]);
		switch (opt) {
		case OPT_JSON: a->json = 1; break;
		case OPT_ROLE: a->role = optarg; break;
		case OPT_KEY: a->key = optarg; break;
		case OPT_TICKET: a->ticket = optarg; break;
		case OPT_TITLE: a->title = optarg; break;
		case OPT_REQUESTER: a->requester = optarg; break;
		case OPT_HEAD: a->head = optarg; break;
		case OPT_PNG: a->png_dir = optarg; break;
		case OPT_EVERY: a->every = optarg; break;
		case OPT_CONTACT_SHEET: a->contact_sheet = optarg; break;
		case OPT_ASCIICAST: a->asciicast = optarg; break;
		case OPT_FBS: a->fbs = optarg; break;
		case OPT_STREAM: a->stream = optarg; break;
		case OPT_VIDEO: a->video = optarg; break;
		case OPT_LISTEN: a->listen = optarg; break;
		case OPT_SPEED: a->speed = optarg; break;
		case OPT_FROM: a->from = optarg; break;
		}
	}
	a->pos = argv + optind;
	a->npos = argc - optind;
	if (a->npos < ctx->command->min_pos)
		return cli_usage_error(ctx, "missing argument");
	if (a->npos > ctx->command->max_pos)
		return cli_usage_error(ctx, "unexpected argument '%s'", a->pos[ctx->command->max_pos]);
	return CLI_OK;
}

static void set_actor(struct cli_ctx *ctx)
{
	struct passwd *pw = getpwuid(geteuid());

	if (pw && pw->pw_name)
		snprintf(ctx->actor, sizeof ctx->actor, "local:%s", pw->pw_name);
	else
		snprintf(ctx->actor, sizeof ctx->actor, "local:uid%ld", (long)geteuid());
}

int main(int argc, char **argv)
{
	struct cli_ctx ctx;
	const char *global_config = NULL;
	char err[640];
	int argi = 1, rc;

	memset(&ctx, 0, sizeof ctx);
	log_set_program("concierge");
	/* Global options before the command words. */
	while (argi < argc && argv[argi][0] == '-') {
		if (strcmp(argv[argi], "--help") == 0 || strcmp(argv[argi], "-h") == 0) {
			print_help(stdout, NULL);
			return CLI_OK;
		}
		if (strcmp(argv[argi], "--version") == 0) {
			printf("concierge %s\n", CONCIERGE_VERSION);
			return CLI_OK;
		}
		if (strcmp(argv[argi], "--config") == 0 && argi + 1 < argc) {
			global_config = argv[argi + 1];
			argi += 2;
			continue;
		}
		return cli_usage_error(NULL, "unknown option '%s'", argv[argi]);
	}
	if (argi >= argc) {
		print_help(stderr, NULL);
		return CLI_USAGE;
	}
	if (!group_exists(argv[argi]))
		return cli_usage_error(NULL, "unknown command '%s'", argv[argi]);
	ctx.command = find_command(argv[argi], argi + 1 < argc ? argv[argi + 1] : NULL);
	if (ctx.command == NULL) {
		if (argi + 1 < argc && (strcmp(argv[argi + 1], "--help") == 0 || strcmp(argv[argi + 1], "-h") == 0)) {
			print_help(stdout, argv[argi]);
			return CLI_OK;
		}
		fprintf(stderr, "concierge: '%s' needs a subcommand%s%s\n", argv[argi],
		        argi + 1 < argc ? ", not " : "", argi + 1 < argc ? argv[argi + 1] : "");
		print_help(stderr, argv[argi]);
		return CLI_USAGE;
	}
	argi += ctx.command->name ? 2 : 1;
	/* getopt wants argv[0] before the options; reuse the last command word. */
	rc = parse_options(&ctx, argc - argi + 1, argv + argi - 1);
	if (rc != CLI_OK)
		return rc < 0 ? CLI_OK : rc;
	if (ctx.args.config_path == NULL)
		ctx.args.config_path = global_config;
	if (config_load(&ctx.cfg, ctx.args.config_path, err, sizeof err) < 0)
		return cli_fail("%s", err);
	set_actor(&ctx);
	return ctx.command->run(&ctx);
}
