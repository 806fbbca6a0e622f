/* concierge recording ...: shared helpers (resolve, audited access, relay key). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "audit.h"
#include "cli.h"
#include "recording.h"
#include "recordings.h"

EVP_PKEY *cli_recording_load_key(const struct cli_ctx *ctx)
{
	char path[CFG_MAX_PATH + 16], err[512];
	EVP_PKEY *key;

	snprintf(path, sizeof path, "%s/relay.pem", ctx->cfg.certs_dir);
	key = recording_load_key(path, err, sizeof err);
	if (key == NULL)
		cli_fail("cannot load the relay's verification key %s: %s (run 'concierge init', or fix "
		         "certs_dir in the config)", path, err);
	return key;
}

static int all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* UTC text of microseconds since the epoch, like store_now_utc. */
static void utc_text(uint64_t us, char *out, size_t outlen)
{
	time_t t = (time_t)(us / 1000000);
	char base[24];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, outlen, "%s.%03uZ", base, (unsigned)(us % 1000000 / 1000));
}

/* A file the database does not know: what its header says (nothing when
 * the header does not parse; the verifier reports that). */
static void row_from_header(const char *path, struct recording_row *row)
{
	struct recording_reader *reader;
	char err[256];

	memset(row, 0, sizeof *row);
	snprintf(row->path, sizeof row->path, "%s", path);
	if (recording_reader_open(path, &reader, err, sizeof err) < 0)
		return;
	const struct recording_header *h = recording_reader_header(reader);
	snprintf(row->ticket_id, sizeof row->ticket_id, "%s", h->ticket);
	snprintf(row->session_id, sizeof row->session_id, "%s", h->session);
	utc_text(h->start_utc_us, row->started_at, sizeof row->started_at);
	recording_reader_close(reader);
}

int cli_recording_resolve(struct cli_ctx *ctx, struct store *store, const char *id_or_path,
                          struct recording_row *row)
{
	char err[512], canonical[RECORDING_MAX_PATH];
	struct stat st;
	int found;

	(void)ctx;
	if (all_digits(id_or_path)) {
		long long id = strtoll(id_or_path, NULL, 10);
		found = id > 0 ? recordings_get(store, id, row, err, sizeof err) : 0;
		if (found < 0)
			return cli_fail("%s", err);
		if (found == 0)
			return cli_fail("no recording %s ('concierge recording list' shows them; give a file as "
			                "./%s)", id_or_path, id_or_path);
		if (stat(row->path, &st) != 0)
			return cli_fail("the file of recording %lld (%s, state %s) is missing: %s; restore it "
			                "from a backup", row->id, row->path, row->state, strerror(errno));
		return CLI_OK;
	}
	if (stat(id_or_path, &st) != 0)
		return cli_fail("cannot open recording file %s: %s", id_or_path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return cli_fail("%s is not a recording file", id_or_path);
	if (recordings_canonical_path(id_or_path, canonical, err, sizeof err) < 0)
		return cli_fail("%s", err);
	found = recordings_find_by_path(store, canonical, row, err, sizeof err);
	if (found < 0)
		return cli_fail("%s", err);
	if (found == 0)
		row_from_header(canonical, row);
	return CLI_OK;
}

int cli_recording_audit_access(struct cli_ctx *ctx, struct store *store, const struct recording_row *row,
                               const char *action, const char *details)
{
	char verb[64], object[AUDIT_FIELD_MAX], err[512];

	snprintf(verb, sizeof verb, "recording.%s", action);
	if (row->id > 0)
		snprintf(object, sizeof object, "recording:%lld", row->id);
	else
		snprintf(object, sizeof object, "recording:%.*s", AUDIT_FIELD_MAX - 16, row->path);
	struct audit_event ev = { ctx->actor, verb, object, row->ticket_id[0] ? row->ticket_id : NULL,
		                  details ? details : "" };
	if (audit_append(store, &ev, err, sizeof err) < 0)
		return cli_fail("cannot write the audit row for this access, so it does not happen: %s", err);
	return CLI_OK;
}
