/* concierge user add | key add | list | disable */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "json_out.h"
#include "ssh_pubkey.h"
#include "users.h"

static int check_name(struct cli_ctx *ctx, const char *name)
{
	if (!user_name_valid(name))
		return cli_usage_error(ctx, "invalid user name '%s': use lowercase letters, digits, '_', "
		                       "'.', '-', starting with a letter or '_', at most %d characters",
		                       name, USER_NAME_MAX);
	return CLI_OK;
}

/* Runs a users_* change on the open database and reports the result. */
static int finish(struct store *store, int rc, const char *err, const char *done)
{
	store_close(store);
	if (rc < 0)
		return cli_fail("%s", err);
	printf("%s\n", done);
	return CLI_OK;
}

int cli_user_add(struct cli_ctx *ctx)
{
	const char *name = ctx->args.pos[0];
	struct ssh_pubkey key;
	struct store *store;
	char err[512], done[256];
	int rc;

	if ((rc = check_name(ctx, name)) != CLI_OK)
		return rc;
	if (ctx->args.role == NULL)
		return cli_usage_error(ctx, "--role is required");
	if (!user_role_valid(ctx->args.role))
		return cli_usage_error(ctx, "unknown role '%s': choose desk, vendor, auditor or admin",
		                       ctx->args.role);
	if (ctx->args.key && ssh_pubkey_read_file(ctx->args.key, &key, err, sizeof err) < 0)
		return cli_fail("%s", err);
	if ((rc = cli_open_store(ctx, &store)) != CLI_OK)
		return rc;
	rc = users_add(store, ctx->actor, name, ctx->args.role, ctx->args.key ? &key : NULL, err, sizeof err);
	snprintf(done, sizeof done, "added user %s (role %s%s%s)", name, ctx->args.role,
	         ctx->args.key ? ", key " : ", no key yet", ctx->args.key ? key.fingerprint : "");
	return finish(store, rc, err, done);
}

int cli_user_key_add(struct cli_ctx *ctx)
{
	const char *name = ctx->args.pos[1], *path = ctx->args.pos[2];
	struct ssh_pubkey key;
	struct store *store;
	char err[512], done[256];
	int rc;

	if (strcmp(ctx->args.pos[0], "add") != 0)
		return cli_usage_error(ctx, "unknown subcommand 'user key %s'", ctx->args.pos[0]);
	if ((rc = check_name(ctx, name)) != CLI_OK)
		return rc;
	if (ssh_pubkey_read_file(path, &key, err, sizeof err) < 0)
		return cli_fail("%s", err);
	if ((rc = cli_open_store(ctx, &store)) != CLI_OK)
		return rc;
	rc = users_add_key(store, ctx->actor, name, &key, err, sizeof err);
	snprintf(done, sizeof done, "added %s key %s to user %s", key.type, key.fingerprint, name);
	return finish(store, rc, err, done);
}

int cli_user_disable(struct cli_ctx *ctx)
{
	const char *name = ctx->args.pos[0];
	struct store *store;
	char err[512], done[128];
	int rc;

	if ((rc = check_name(ctx, name)) != CLI_OK)
		return rc;
	if ((rc = cli_open_store(ctx, &store)) != CLI_OK)
		return rc;
	rc = users_disable(store, ctx->actor, name, err, sizeof err);
	snprintf(done, sizeof done, "disabled user %s", name);
	return finish(store, rc, err, done);
}


static void print_user(const struct user_info *u, void *arg)
{
	struct cli_listing *st = arg;

	if (!st->json) {
		if (st->count == 0)
			printf("%-20s %-8s %-8s %-4s %s\n", "NAME", "ROLE", "STATE", "KEYS", "FINGERPRINTS");
		printf("%-20s %-8s %-8s %-4d %s\n", u->name, u->role, u->disabled ? "disabled" : "active",
		       u->key_count, u->fingerprints);
	} else {
		char fps[4096], *save = NULL;
		int first_fp = 1;

		printf("%s{", st->count ? "," : "");
		json_field_string(stdout, 1, "name", u->name);
		json_field_string(stdout, 0, "role", u->role);
		printf(",\"disabled\":%s,\"created_at\":", u->disabled ? "true" : "false");
		json_string(stdout, u->created_at);
		printf(",\"fingerprints\":[");
		snprintf(fps, sizeof fps, "%s", u->fingerprints);
		for (char *fp = strtok_r(fps, " ", &save); fp; fp = strtok_r(NULL, " ", &save)) {
			printf("%s", first_fp ? "" : ",");
			json_string(stdout, fp);
			first_fp = 0;
		}
		printf("]}");
	}
	st->count++;
}

static int query_users(struct cli_ctx *ctx, struct store *store, void *state, char *err, size_t errlen)
{
	(void)ctx;
	return users_foreach(store, print_user, state, err, errlen);
}

int cli_user_list(struct cli_ctx *ctx)
{
	struct cli_listing st = { ctx->args.json, 0 };

	return cli_run_listing(ctx, query_users, &st, &st,
	                       "no users yet: add one with 'concierge user add NAME --role desk --key KEY.pub'");
}
