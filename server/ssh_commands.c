#include "ssh_commands.h"

#include <string.h>

#include "json_out.h"
#include "sessions.h"
#include "ssh_command_line.h"
#include "ticket_id.h"


static void print_help(FILE *out)
{
	fprintf(out,
	        "Concierge relay commands:\n"
	        "  session new --ticket ID [--json]   open a session and get the code for the end user\n"
	        "  sessions [--json]                  list live sessions\n"
	        "  session end SESSION                end a session (id or ticket id)\n"
	        "  whoami                             show your user and role\n"
	        "  shell SESSION [--view-only]        a terminal on the end user's machine (use ssh -t)\n"
	        "Join a session's screen: ssh -N -L 5900:SESSION:5900 (control) or\n"
	        "  -L 5901:SESSION:5901 (view only), then point a VNC viewer at localhost:5900.\n");
}

static int cmd_session_new(struct store *store, const struct concierge_config *cfg, const char *user,
                           const char *role, int argc, char **argv, FILE *out, FILE *err)
{
	const char *ticket = NULL;
	int json = 0;
	struct ticket_matcher *m;
	struct session_created created;
	char why[512];
	int ok;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--ticket") == 0 && i + 1 < argc)
			ticket = argv[++i];
		else if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else {
			fprintf(err, "session new: unexpected '%s'\nusage: session new --ticket ID [--json]\n",
			        argv[i]);
			return 2;
		}
	}
	if (ticket == NULL) {
		fprintf(err, "session new: --ticket ID is required (every session belongs to a ticket)\n");
		return 2;
	}
	if (strcmp(role, "desk") != 0) {
		fprintf(err, "session new: only desk agents open sessions; you are %s (%s)\n", user, role);
		return 1;
	}
	if (ticket_matcher_new(cfg->ticket_pattern, &m, why, sizeof why) < 0) {
		fprintf(err, "session new: %s\n", why);
		return 1;
	}
	ok = ticket_id_valid(m, ticket);
	ticket_matcher_free(m);
	if (!ok) {
		fprintf(err, "session new: '%.64s' is not a ticket id (it must match the relay's "
		        "ticket_pattern, e.g. INC0012345)\n", ticket);
		return 2;
	}
	if (sessions_create(store, user, ticket, cfg->code_ttl, &created, why, sizeof why) < 0) {
		fprintf(err, "session new: %s\n", why);
		return 1;
	}
	if (json) {
		fprintf(out, "{");
		json_field_string(out, 1, "session", created.id);
		json_field_string(out, 0, "ticket", ticket);
		json_field_string(out, 0, "code", created.code);
		json_field_string(out, 0, "code_expires_at", created.expires_at);
		fprintf(out, ",\"ticket_created\":%s}\n", created.ticket_created ? "true" : "false");
	} else {
		fprintf(out, "session %s for ticket %s%s\n"
		        "code: %s  (read it to the end user; it works once, until %s)\n\n"
		        "The end user runs:\n  concierge-agent --relay %s:%u --code %s\n"
		        "Then you run:\n  ssh -N -L 5900:%s:5900 -p %u %s@%s\n"
		        "and point a VNC viewer at localhost:5900 (use 5901 for view only).\n",
		        created.id, ticket, created.ticket_created ? " (ticket opened)" : "", created.code,
		        created.expires_at, cfg->hostname, cfg->agent_listen.port, created.code, created.id,
		        cfg->ssh_listen.port, user, cfg->hostname);
	}
	memset(&created, 0, sizeof created);
	return 0;
}

struct list_ctx {
	FILE *out;
	int json, count;
};

static void print_session(const struct session_info *s, void *arg)
{
	struct list_ctx *c = arg;

	if (c->json) {
		fprintf(c->out, "%s{", c->count ? "," : "");
		json_field_string(c->out, 1, "session", s->id);
		json_field_string(c->out, 0, "ticket", s->ticket_id);
		json_field_string(c->out, 0, "state", s->state);
		json_field_string(c->out, 0, "opened_by", s->created_by);
		json_field_string(c->out, 0, "end_user_host", s->endpoint_host);
		json_field_string(c->out, 0, "participants", s->participants);
		json_field_string(c->out, 0, "created_at", s->created_at);
		fprintf(c->out, "}");
	} else {
		if (c->count == 0)
			fprintf(c->out, "%-10s %-14s %-8s %-12s %-20s %s\n", "SESSION", "TICKET", "STATE",
			        "OPENED_BY", "END_USER_HOST", "PARTICIPANTS");
		fprintf(c->out, "%-10s %-14s %-8s %-12s %-20s %s\n", s->id, s->ticket_id, s->state,
		        s->created_by, s->endpoint_host ? s->endpoint_host : "-",
		        s->participants[0] ? s->participants : "-");
	}
	c->count++;
}

static int cmd_sessions(struct store *store, const char *role, int argc, char **argv, FILE *out,
                        FILE *err)
{
	struct list_ctx c = { out, argc > 1 && strcmp(argv[1], "--json") == 0, 0 };
	char why[512];

	/* Which lecturers' machines are being helped is not a vendor's business. */
	if (strcmp(role, "vendor") == 0) {
		fprintf(err, "sessions: vendors cannot list sessions\n");
		return 1;
	}

	if (argc > 2 || (argc == 2 && !c.json)) {
		fprintf(err, "usage: sessions [--json]\n");
		return 2;
	}
	if (c.json)
		fprintf(out, "[");
	if (sessions_foreach(store, 1, print_session, &c, why, sizeof why) < 0) {
		fprintf(err, "sessions: %s\n", why);
		return 1;
	}
	if (c.json)
		fprintf(out, "]\n");
	else if (c.count == 0)
		fprintf(out, "no live sessions ('session new --ticket ID' opens one)\n");
	return 0;
}

static int cmd_session_end(struct store *store, struct relay_core *core, const char *user,
                           const char *role, int argc, char **argv, FILE *out, FILE *err)
{
	char id[SESSION_ID_LEN + 1], ticket[TICKET_ID_MAX + 1], why[512], reason[64], actor[48];
	int found;

	if (argc != 3) {
		fprintf(err, "usage: session end SESSION\n");
		return 2;
	}
	if (strcmp(role, "desk") != 0 && strcmp(role, "admin") != 0) {
		fprintf(err, "session end: only desk agents and admins end sessions\n");
		return 1;
	}
	found = sessions_resolve(store, argv[2], id, ticket, why, sizeof why);
	if (found <= 0) {
		fprintf(err, "session end: %s\n", why);
		return 1;
	}
	snprintf(reason, sizeof reason, "ended by %s", user);
	snprintf(actor, sizeof actor, "ssh:%s", user);
	if (sessions_end(store, actor, id, reason, why, sizeof why) < 0) {
		fprintf(err, "session end: %s\n", why);
		return 1;
	}
	if (core)
		relay_core_post_end(core, id, reason);
	fprintf(out, "ended session %s (ticket %s)\n", id, ticket);
	return 0;
}

int ssh_command_run(struct store *store, const struct concierge_config *cfg, struct relay_core *core,
                    const char *user, const char *role, const char *command_line, FILE *out,
                    FILE *err)
{
	struct ssh_command_words words;
	enum ssh_split_result split =
		ssh_command_split(command_line, " \t\r\n", SSH_COMMAND_MAX_ARGS, &words);
	char **argv = words.argv;
	int argc = words.argc;

	if (split == SSH_SPLIT_TOO_LONG) {
		fprintf(err, "command too long (at most %d bytes)\n", SSH_COMMAND_MAX);
		return 2;
	}
	if (split == SSH_SPLIT_TOO_MANY) {
		fprintf(err, "too many arguments\n");
		return 2;
	}
	if (argc == 0 || strcmp(argv[0], "help") == 0 || strcmp(argv[0], "--help") == 0) {
		print_help(out);
		return 0;
	}
	if (strcmp(argv[0], "whoami") == 0 && argc == 1) {
		fprintf(out, "%s (%s)\n", user, role);
		return 0;
	}
	if (strcmp(argv[0], "sessions") == 0)
		return cmd_sessions(store, role, argc, argv, out, err);
	if (strcmp(argv[0], "session") == 0 && argc >= 2 && strcmp(argv[1], "new") == 0)
		return cmd_session_new(store, cfg, user, role, argc, argv, out, err);
	if (strcmp(argv[0], "session") == 0 && argc >= 2 && strcmp(argv[1], "end") == 0)
		return cmd_session_end(store, core, user, role, argc, argv, out, err);
	fprintf(err, "unknown command '%.64s'\n", argv[0]);
	print_help(err);
	return 2;
}
