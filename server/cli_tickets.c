/* concierge ticket open | list | show | close */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "json_out.h"
#include "ticket_id.h"
#include "tickets.h"

/* Validates the id against ticket_pattern: CLI_OK or a usage error. */
static int check_ticket_id(struct cli_ctx *ctx, const char *id)
{
	struct ticket_matcher *m;
	char err[256];
	int ok;

	if (ticket_matcher_new(ctx->cfg.ticket_pattern, &m, err, sizeof err) < 0)
		return cli_fail("%s", err);
	ok = ticket_id_valid(m, id);
	ticket_matcher_free(m);
	if (!ok)
		return cli_usage_error(ctx, "'%s' is not a ticket id: it must match ticket_pattern '%s' "
		                       "(e.g. INC0012345, RITM0001234, HD-4711); change ticket_pattern in "
		                       "the config for other schemes", id, ctx->cfg.ticket_pattern);
	return CLI_OK;
}

int cli_ticket_open(struct cli_ctx *ctx)
{
	const char *id = ctx->args.pos[0];
	struct store *store;
	char err[512];
	int rc;

	if ((rc = check_ticket_id(ctx, id)) != CLI_OK)
		return rc;
	if ((rc = cli_open_store(ctx, &store)) != CLI_OK)
		return rc;
	rc = tickets_open(store, ctx->actor, id, ctx->args.title ? ctx->args.title : "",
	                  ctx->args.requester ? ctx->args.requester : "", err, sizeof err);
	store_close(store);
	if (rc < 0)
		return cli_fail("%s", err);
	printf("opened ticket %s\n", id);
	return CLI_OK;
}

int cli_ticket_close(struct cli_ctx *ctx)
{
	const char *id = ctx->args.pos[0];
	struct store *store;
	char err[512];
	int rc;

	if ((rc = check_ticket_id(ctx, id)) != CLI_OK)
		return rc;
	if ((rc = cli_open_store(ctx, &store)) != CLI_OK)
		return rc;
	rc = tickets_close(store, ctx->actor, id, err, sizeof err);
	store_close(store);
	if (rc < 0)
		return cli_fail("%s", err);
	printf("closed ticket %s\n", id);
	return CLI_OK;
}

struct ticket_print {
	struct cli_listing list;
	int detail;
};

static void print_ticket_json(const struct ticket_info *t)
{
	printf("{");
	json_field_string(stdout, 1, "id", t->id);
	json_field_string(stdout, 0, "title", t->title);
	json_field_string(stdout, 0, "requester", t->requester);
	json_field_string(stdout, 0, "state", t->state);
	json_field_string(stdout, 0, "opened_at", t->opened_at);
	json_field_string(stdout, 0, "closed_at", t->closed_at);
	printf(",\"sessions\":%" PRId64 "}", t->sessions);
}

static void print_ticket(const struct ticket_info *t, void *arg)
{
	struct ticket_print *st = arg;

	if (st->list.json) {
		printf("%s", st->list.count && !st->detail ? "," : "");
		print_ticket_json(t);
	} else if (st->detail) {
		printf("ticket:    %s\ntitle:     %s\nrequester: %s\nstate:     %s\nopened:    %s\n"
		       "closed:    %s\nsessions:  %" PRId64 "\n", t->id, t->title, t->requester, t->state,
		       t->opened_at, t->closed_at ? t->closed_at : "-", t->sessions);
	} else {
		if (st->list.count == 0)
			printf("%-16s %-7s %-24s %-8s %s\n", "ID", "STATE", "OPENED", "SESSIONS", "TITLE");
		printf("%-16s %-7s %-24s %-8" PRId64 " %s\n", t->id, t->state, t->opened_at, t->sessions,
		       t->title);
	}
	st->list.count++;
}

static int query_tickets(struct cli_ctx *ctx, struct store *store, void *state, char *err, size_t errlen)
{
	(void)ctx;
	return tickets_foreach(store, print_ticket, state, err, errlen);
}

int cli_ticket_list(struct cli_ctx *ctx)
{
	struct ticket_print st = { { ctx->args.json, 0 }, 0 };

	return cli_run_listing(ctx, query_tickets, &st.list, &st,
	                       "no tickets yet: open one with 'concierge ticket open INC0012345 --title TEXT'");
}

int cli_ticket_show(struct cli_ctx *ctx)
{
	struct ticket_print st = { { ctx->args.json, 0 }, 1 };
	const char *id = ctx->args.pos[0];
	struct store *store;
	char err[512];
	int rc;

	if ((rc = check_ticket_id(ctx, id)) != CLI_OK)
		return rc;
	if ((rc = cli_open_store(ctx, &store)) != CLI_OK)
		return rc;
	rc = tickets_get(store, id, print_ticket, &st, err, sizeof err);
	store_close(store);
	if (rc < 0)
		return cli_fail("%s", err);
	if (rc == 0)
		return cli_fail("no ticket %s ('concierge ticket list' shows the tickets)", id);
	if (st.list.json)
		printf("\n");
	return CLI_OK;
}
