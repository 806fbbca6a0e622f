/* concierge recording list | verify | timeline, and the helpers the recording commands share. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "audit.h"
#include "cli.h"
#include "json_out.h"
#include "recording.h"
#include "recordings.h"
#include "timeline.h"
#include "xmalloc.h"

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

/* ---- recording list ---- */

static void print_list_row(const struct recording_row *r, void *arg)
{
	struct cli_listing *st = arg;

	if (st->json) {
		printf("%s{\"id\":%lld", st->count ? ",\n" : "", r->id);
		json_field_string(stdout, 0, "ticket", r->ticket_id);
		json_field_string(stdout, 0, "session", r->session_id);
		json_field_string(stdout, 0, "state", r->state);
		json_field_string(stdout, 0, "started_at", r->started_at);
		json_field_string(stdout, 0, "ended_at", r->ended_at[0] ? r->ended_at : NULL);
		printf(",\"bytes\":%" PRIu64 ",\"records\":%" PRIu64, r->bytes, r->records);
		json_field_string(stdout, 0, "participants", r->participants);
		json_field_string(stdout, 0, "header_hash", r->header_hash[0] ? r->header_hash : NULL);
		json_field_string(stdout, 0, "final_hash", r->final_hash[0] ? r->final_hash : NULL);
		json_field_string(stdout, 0, "failure", r->failure[0] ? r->failure : NULL);
		json_field_string(stdout, 0, "path", r->path);
		printf("}");
	} else {
		if (st->count == 0)
			printf("%-5s %-12s %-10s %-9s %-24s %-24s %10s %-20s %s\n", "ID", "TICKET", "SESSION",
			       "STATE", "STARTED", "ENDED", "BYTES", "PARTICIPANTS", "FINAL HASH");
		printf("%-5lld %-12s %-10s %-9s %-24s %-24s %10" PRIu64 " %-20s %.16s\n", r->id, r->ticket_id,
		       r->session_id, r->state, r->started_at, r->ended_at[0] ? r->ended_at : "-", r->bytes,
		       r->participants[0] ? r->participants : "-", r->final_hash[0] ? r->final_hash : "-");
	}
	st->count++;
}

static int query_recordings(struct cli_ctx *ctx, struct store *store, void *state, char *err,
                            size_t errlen)
{
	return recordings_foreach(store, ctx->args.ticket, print_list_row, state, err, errlen);
}

int cli_recording_list(struct cli_ctx *ctx)
{
	return cli_run_ticket_listing(ctx, query_recordings, "recordings");
}

/* ---- recording verify ---- */

/* What recording_verify found, after the database's own check. */
struct verdict {
	int status;                           /* RECORDING_INTACT / _TRUNCATED / _TAMPERED */
	struct recording_verify_result res;
	char database[96];                    /* how the file compares with its row */
	char problem[RECORDING_MAX_FAILURE + 256];
};

/* A complete row names the file's header hash, final chain and trailer
 * signature: a file swapped for another valid recording differs there. */
static void check_against_row(const struct recording_row *row, struct verdict *v)
{
	const struct recording_verify_result *res = &v->res;
	const char *differs = NULL;

	if (row->id == 0) {
		snprintf(v->database, sizeof v->database, "not registered in the database");
		return;
	}
	if (res->header_ok && (strcmp(row->ticket_id, res->header.ticket) != 0 ||
	                       strcmp(row->session_id, res->header.session) != 0))
		differs = "ticket or session";
	else if (row->header_hash[0] && res->header_ok && strcmp(row->header_hash, res->header_hash) != 0)
		differs = "header hash";
	else if (v->status == RECORDING_INTACT && strcmp(row->state, "complete") == 0) {
		if (strcmp(row->final_hash, res->chain) != 0)
			differs = "final hash";
		else if (strcmp(row->signature, res->signature) != 0)
			differs = "trailer signature";
		else if (row->bytes != res->file_bytes)
			differs = "size";
	}
	if (differs) {
		v->status = RECORDING_TAMPERED;
		snprintf(v->database, sizeof v->database, "differs from the database (%s)", differs);
		snprintf(v->problem, sizeof v->problem, "the file is not the recording the database "
		         "registered as %lld: its %s differs", row->id, differs);
		return;
	}
	if (v->status == RECORDING_INTACT && strcmp(row->state, "complete") == 0)
		snprintf(v->database, sizeof v->database, "matches the database");
	else
		snprintf(v->database, sizeof v->database, "database state %s", row->state);
}

/* Verifies the row's file with the relay key; CLI_OK with *v, or an exit code. */
static int verify_recording(const struct cli_ctx *ctx, const struct recording_row *row, struct verdict *v)
{
	char err[512];
	EVP_PKEY *key = cli_recording_load_key(ctx);

	memset(v, 0, sizeof *v);
	if (key == NULL)
		return CLI_FAIL;
	v->status = recording_verify(row->path, key, &v->res, err, sizeof err);
	EVP_PKEY_free(key);
	if (v->status < 0)
		return cli_fail("cannot read %s: %s", row->path, err);
	snprintf(v->problem, sizeof v->problem, "%s", v->res.why);
	check_against_row(row, v);
	return CLI_OK;
}

int cli_recording_check(const struct cli_ctx *ctx, const struct recording_row *row, int *status,
                        struct recording_verify_result *res, char *problem, size_t problemlen)
{
	struct verdict *v = xcalloc(1, sizeof *v);
	int rc = verify_recording(ctx, row, v);

	if (rc == CLI_OK) {
		*status = v->status;
		*res = v->res;
		snprintf(problem, problemlen, "%s", v->problem);
	}
	free(v);
	return rc;
}

static void recording_name(const struct recording_row *row, char *out, size_t outlen)
{
	if (row->id > 0)
		snprintf(out, outlen, "recording %lld", row->id);
	else
		snprintf(out, outlen, "recording %.*s", (int)outlen - 16, row->path);
}

static void print_verdict_json(const struct recording_row *row, const struct verdict *v)
{
	const struct recording_verify_result *r = &v->res;
	int tampered = v->status == RECORDING_TAMPERED;

	printf("{\"recording\":");
	if (row->id > 0)
		printf("%lld", row->id);
	else
		printf("null");
	json_field_string(stdout, 0, "path", row->path);
	json_field_string(stdout, 0, "status", recording_status_name(v->status));
	json_field_string(stdout, 0, "ticket", r->header_ok ? r->header.ticket : NULL);
	json_field_string(stdout, 0, "session", r->header_ok ? r->header.session : NULL);
	printf(",\"file_bytes\":%" PRIu64 ",\"records\":%" PRIu64 ",\"data_records\":%" PRIu64
	       ",\"records_verified\":%" PRIu64 ",\"bytes_verified\":%" PRIu64 ",\"tail_bytes\":%" PRIu64
	       ",\"tail_records\":%" PRIu64 ",\"signatures_checked\":%s", r->file_bytes, r->records,
	       r->data_records, r->records_verified, r->bytes_verified, r->tail_bytes, r->tail_records,
	       r->signatures_checked ? "true" : "false");
	/* Found by the file's own check (not by the comparison with the database): */
	if (tampered && strcmp(v->problem, r->why) == 0)
		printf(",\"first_bad_record\":%" PRId64 ",\"first_bad_offset\":%" PRIu64, r->first_bad_record,
		       r->first_bad_offset);
	else
		printf(",\"first_bad_record\":null,\"first_bad_offset\":null");
	json_field_string(stdout, 0, "problem", v->status == RECORDING_INTACT ? NULL : v->problem);
	json_field_string(stdout, 0, "final_hash", r->chain[0] ? r->chain : NULL);
	json_field_string(stdout, 0, "database", v->database);
	printf("}\n");
}

static void print_verdict_text(const struct recording_row *row, const struct verdict *v)
{
	const struct recording_verify_result *r = &v->res;
	char name[RECORDING_MAX_PATH + 16];

	recording_name(row, name, sizeof name);
	if (v->status == RECORDING_INTACT) {
		printf("%s: INTACT\n  file %s\n  ticket %s, session %s\n  %" PRIu64 " records (%" PRIu64
		       " data), %" PRIu64 " bytes verified; signatures checked with the relay key\n"
		       "  final hash %s; %s\n", name, row->path, r->header.ticket, r->header.session,
		       r->records_verified, r->data_records, r->bytes_verified, r->chain, v->database);
	} else if (v->status == RECORDING_TRUNCATED) {
		printf("%s: TRUNCATED: %" PRIu64 " records, %" PRIu64 " bytes verified (to the last "
		       "signed checkpoint); the %" PRIu64 " bytes after it (%" PRIu64 " complete records) "
		       "are not covered by a signature: %s\n  file %s; %s\n", name, r->records_verified,
		       r->bytes_verified, r->tail_bytes, r->tail_records, v->problem, row->path, v->database);
	} else if (strcmp(v->problem, r->why) != 0) {
		fprintf(stderr, "concierge: %s TAMPERED: %s\n  keep the file as evidence\n", name, v->problem);
	} else if (r->first_bad_record < 0) {
		fprintf(stderr, "concierge: %s TAMPERED: the header is bad: %s\n  keep the file as evidence\n",
		        name, v->problem);
	} else {
		/* the verifier's words start with "record N at offset O: " */
		fprintf(stderr, "concierge: %s TAMPERED: first bad %s\n  %" PRIu64 " records, %" PRIu64
		        " bytes before it verified; keep the file as evidence\n", name, v->problem,
		        r->records_verified, r->bytes_verified);
	}
}

static int verdict_exit(const struct verdict *v)
{
	return v->status == RECORDING_INTACT ? CLI_OK : v->status == RECORDING_TRUNCATED ? CLI_TRUNCATED
	                                                                                  : CLI_TAMPERED;
}

/* Opens the store and resolves the positional ID|PATH. */
static int open_recording(struct cli_ctx *ctx, struct store **store, struct recording_row *row)
{
	int rc = cli_open_store(ctx, store);

	if (rc != CLI_OK)
		return rc;
	rc = cli_recording_resolve(ctx, *store, ctx->args.pos[0], row);
	if (rc != CLI_OK) {
		store_close(*store);
		*store = NULL;
	}
	return rc;
}

int cli_recording_verify(struct cli_ctx *ctx)
{
	struct recording_row *row = xcalloc(1, sizeof *row);
	struct verdict *v = xcalloc(1, sizeof *v);
	struct store *store = NULL;
	char details[RECORDING_MAX_FAILURE + 512];
	int rc;

	if ((rc = open_recording(ctx, &store, row)) != CLI_OK)
		goto out;
	if ((rc = verify_recording(ctx, row, v)) != CLI_OK)
		goto out;
	snprintf(details, sizeof details, "result=%s records_verified=%" PRIu64 " bytes_verified=%"
	         PRIu64 "%s%.400s%s", recording_status_name(v->status), v->res.records_verified,
	         v->res.bytes_verified, v->status == RECORDING_INTACT ? "" : " problem=\"",
	         v->status == RECORDING_INTACT ? "" : v->problem, v->status == RECORDING_INTACT ? "" : "\"");
	if ((rc = cli_recording_audit_access(ctx, store, row, "verify", details)) != CLI_OK)
		goto out;
	if (ctx->args.json)
		print_verdict_json(row, v);
	else
		print_verdict_text(row, v);
	rc = verdict_exit(v);
out:
	store_close(store);
	free(row);
	free(v);
	return rc;
}

/* ---- recording timeline ---- */

struct timeline_out {
	int json, count;
};

static void print_entry(const struct timeline_entry *e, void *arg)
{
	struct timeline_out *o = arg;

	if (o->json) {
		fputs(o->count ? ",\n" : "\n", stdout);
		timeline_print_json(stdout, e);
	} else {
		timeline_print_text(stdout, e);
	}
	o->count++;
}

int cli_recording_timeline(struct cli_ctx *ctx)
{
	struct recording_row *row = xcalloc(1, sizeof *row);
	struct verdict *v = xcalloc(1, sizeof *v);
	struct timeline_out o = { ctx->args.json, 0 };
	struct store *store = NULL;
	char name[RECORDING_MAX_PATH + 16], err[512];
	int rc;

	if ((rc = open_recording(ctx, &store, row)) != CLI_OK)
		goto out;
	if ((rc = verify_recording(ctx, row, v)) != CLI_OK)
		goto out;
	recording_name(row, name, sizeof name);
	if (v->status == RECORDING_TAMPERED) {
		rc = cli_fail("%s is TAMPERED (%s): no timeline; 'concierge recording verify %s' says more",
		              name, v->problem, ctx->args.pos[0]);
		rc = CLI_TAMPERED;
		goto out;
	}
	if ((rc = cli_recording_audit_access(ctx, store, row, "timeline",
	                                     v->status == RECORDING_INTACT ? "result=intact"
	                                                                   : "result=truncated")) != CLI_OK)
		goto out;
	if (v->status == RECORDING_TRUNCATED)
		fprintf(stderr, "concierge: warning: %s is TRUNCATED: its last %" PRIu64 " bytes are not "
		        "covered by a signature (%s)\n", name, v->res.tail_bytes, v->problem);
	if (o.json)
		printf("[");
	else
		printf("%s: ticket %s, session %s\n", name, v->res.header.ticket, v->res.header.session);
	if (timeline_file(row->path, print_entry, &o, err, sizeof err) < 0) {
		if (o.json)
			printf("]\n");
		rc = cli_fail("cannot read %s further: %s", row->path, err);
		goto out;
	}
	if (o.json)
		printf("%s]\n", o.count ? "\n" : "");
	else if (o.count == 0)
		printf("(no events or input)\n");
out:
	store_close(store);
	free(row);
	free(v);
	return rc;
}
