/* concierge audit list | verify | head */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "cli.h"
#include "json_out.h"

static void print_row(const struct audit_row *r, void *arg)
{
	struct cli_listing *st = arg;

	if (st->json) {
		printf("%s{\"seq\":%" PRId64, st->count ? "," : "", r->seq);
		json_field_string(stdout, 0, "ts", r->ts);
		json_field_string(stdout, 0, "actor", r->actor);
		json_field_string(stdout, 0, "action", r->action);
		json_field_string(stdout, 0, "object", r->object);
		json_field_string(stdout, 0, "ticket", r->ticket_id);
		json_field_string(stdout, 0, "details", r->details);
		json_field_string(stdout, 0, "prev_hash", r->prev_hash);
		json_field_string(stdout, 0, "hash", r->hash);
		printf("}");
	} else {
		if (st->count == 0)
			printf("%-6s %-24s %-18s %-16s %-24s %-12s %s\n", "SEQ", "TIME", "ACTOR", "ACTION",
			       "OBJECT", "TICKET", "DETAILS");
		printf("%-6" PRId64 " %-24s %-18s %-16s %-24s %-12s %s\n", r->seq, r->ts, r->actor,
		       r->action, r->object, r->ticket_id ? r->ticket_id : "-", r->details);
	}
	st->count++;
}

static int query_audit(struct cli_ctx *ctx, struct store *store, void *state, char *err, size_t errlen)
{
	return audit_foreach(store, ctx->args.ticket, print_row, state, err, errlen);
}

int cli_audit_list(struct cli_ctx *ctx)
{
	return cli_run_ticket_listing(ctx, query_audit, "audit rows");
}

static int valid_hash_text(const char *s)
{
	if (strlen(s) != 64)
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

int cli_audit_verify(struct cli_ctx *ctx)
{
	struct audit_verify_result res;
	struct store *store;
	char err[512];
	int rc;

	if (ctx->args.head && !valid_hash_text(ctx->args.head))
		return cli_usage_error(ctx, "--head takes the 64 lowercase hex digits 'concierge audit head' printed");
	if ((rc = cli_open_store(ctx, &store)) != CLI_OK)
		return rc;
	rc = audit_verify(store, ctx->args.head, &res, err, sizeof err);
	store_close(store);
	if (rc < 0)
		return cli_fail("%s", err);
	if (ctx->args.json) {
		printf("{\"intact\":%s,\"rows\":%" PRId64 ",\"first_bad_seq\":", rc == 0 ? "true" : "false",
		       res.rows);
		if (rc == 0)
			printf("null");
		else
			printf("%" PRId64, res.first_bad_seq);
		json_field_string(stdout, 0, "problem", rc == 0 ? NULL : res.why);
		json_field_string(stdout, 0, "head", res.head[0] ? res.head : NULL);
		printf("}\n");
	}
	if (rc == 0) {
		if (!ctx->args.json)
			printf("audit log intact: %" PRId64 " rows verified%s%s%s\n", res.rows,
			       res.rows ? ", head " : "", res.head, ctx->args.head ? ", anchor found" : "");
		return CLI_OK;
	}
	fprintf(stderr, "concierge: audit log TAMPERED: first bad row is seq %" PRId64 ": %s\n"
	        "  rows before it verify; keep this database as evidence and restore from a backup\n",
	        res.first_bad_seq, res.why);
	return CLI_TAMPERED;
}

int cli_audit_head(struct cli_ctx *ctx)
{
	char err[512], hash[AUDIT_HASH_HEX];
	struct store *store;
	int64_t seq;
	int rc;

	if ((rc = cli_open_store(ctx, &store)) != CLI_OK)
		return rc;
	rc = audit_head(store, &seq, hash, err, sizeof err);
	store_close(store);
	if (rc < 0)
		return cli_fail("%s", err);
	if (ctx->args.json)
		printf("{\"seq\":%" PRId64 ",\"hash\":\"%s\"}\n", seq, hash);
	else
		printf("%s\n", hash);
	return CLI_OK;
}
