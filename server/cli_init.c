/* concierge init: keys, certificates, database and recordings folder. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic_file.h"
#include "audit.h"
#include "cli.h"
#include "keygen.h"

/* Appends one audit row per key file created in this run, plus the init itself. */
static int audit_init(struct store *store, const char *actor, const struct keygen_result *keys,
                      int db_version_before, char *err, size_t errlen)
{
	char details[256];

	if (store_begin(store, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < keys->count; i++) {
		const struct keygen_file *f = &keys->files[i];
		char object[CFG_MAX_PATH + 8];
		if (!f->created)
			continue;
		snprintf(object, sizeof object, "file:%s", f->path);
		snprintf(details, sizeof details, "what=\"%s\"%s%s", f->what,
		         f->fingerprint[0] ? " fingerprint=" : "", f->fingerprint);
		struct audit_event ev = { actor, "key.create", object, NULL, details };
		if (audit_append(store, &ev, err, errlen) < 0)
			goto fail;
	}
	snprintf(details, sizeof details, "schema_from=%d schema_to=%d", db_version_before,
	         store_latest_version());
	struct audit_event ev = { actor, "state.init", "database", NULL, details };
	if (audit_append(store, &ev, err, errlen) < 0)
		goto fail;
	return store_commit(store, err, errlen);
fail:
	store_rollback(store);
	return -1;
}

int cli_init(struct cli_ctx *ctx)
{
	const struct concierge_config *cfg = &ctx->cfg;
	struct keygen_result keys;
	struct store *store = NULL;
	char err[640];
	int before, created_any = 0;

	printf("concierge init (config: %s)\n", cfg->source);
	if (ensure_directory(cfg->certs_dir, 0700) < 0)
		return cli_fail("cannot create %s: %s (fix certs_dir in the config or the folder's "
		                "permissions)", cfg->certs_dir, strerror(errno));
	if (keygen_ensure(cfg->certs_dir, cfg->hostname, &keys, err, sizeof err) < 0)
		return cli_fail("%s", err);
	for (size_t i = 0; i < keys.count; i++) {
		const struct keygen_file *f = &keys.files[i];
		printf("  %-8s %-44s %s%s%s\n", f->created ? "created" : "exists", f->path, f->what,
		       f->fingerprint[0] ? " " : "", f->fingerprint);
		created_any |= f->created;
	}
	if (ensure_directory(cfg->recordings_dir, 0700) < 0)
		return cli_fail("cannot create %s: %s (fix recordings_dir in the config)",
		                cfg->recordings_dir, strerror(errno));
	printf("  %-8s %-44s recordings folder\n", "ready", cfg->recordings_dir);
	if (store_open(cfg->database, STORE_OPEN_CREATE, &store, err, sizeof err) < 0)
		return cli_fail("%s", err);
	before = store_version_at_open(store);
	if (before != store_latest_version() || created_any) {
		if (audit_init(store, ctx->actor, &keys, before, err, sizeof err) < 0) {
			store_close(store);
			return cli_fail("%s", err);
		}
	}
	if (before == 0)
		printf("  %-8s %-44s database, schema version %d\n", "created", cfg->database,
		       store_latest_version());
	else if (before < store_latest_version())
		printf("  %-8s %-44s database, schema version %d -> %d\n", "upgraded", cfg->database,
		       before, store_latest_version());
	else
		printf("  %-8s %-44s database, schema version %d\n", "exists", cfg->database, before);
	store_close(store);
	printf("End users' agents pin %s/ca.pem (pass it to concierge-agent --ca).\n"
	       "Next: concierge user add NAME --role desk --key ~/.ssh/id_ed25519.pub\n", cfg->certs_dir);
	return CLI_OK;
}
