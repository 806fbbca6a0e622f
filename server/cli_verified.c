/* The auditor's access to one recording for export or play: resolve,
 * verify, audit (fail closed), then read only what the signatures cover. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "recording.h"
#include "recordings.h"
#include "xmalloc.h"

/* The time of the last verified data record, kept strictly below the first
 * unverified one so that "every record up to t" never reaches into the tail. */
static int verified_end(const char *path, uint64_t records_verified, uint64_t *end_us,
                        uint64_t *start_utc_us, char *err, size_t errlen)
{
	struct recording_reader *reader;
	struct recording_record rec;
	int rc;

	*end_us = 0;
	if (recording_reader_open(path, &reader, err, errlen) < 0)
		return -1;
	*start_utc_us = recording_reader_header(reader)->start_utc_us;
	while ((rc = recording_reader_next(reader, &rec, err, errlen)) == 1) {
		if (rec.index >= records_verified) {
			if (rec.time_us <= *end_us)
				*end_us = rec.time_us ? rec.time_us - 1 : 0;
			break;
		}
		if (rec.time_us > *end_us)
			*end_us = rec.time_us;
	}
	recording_reader_close(reader);
	return rc < 0 ? -1 : 0;
}

int cli_verified_open(struct cli_ctx *ctx, const char *id_or_path, const char *action,
                      const char *details, struct cli_verified *out)
{
	struct recording_verify_result res;
	char err[512], problem[RECORDING_MAX_FAILURE + 256], audit_details[AUDIT_FIELD_MAX];
	struct store *store = NULL;
	int rc, status;

	memset(out, 0, sizeof *out);
	out->row = xcalloc(1, sizeof *out->row);
	if ((rc = cli_open_store(ctx, &store)) != CLI_OK)
		goto out;
	if ((rc = cli_recording_resolve(ctx, store, id_or_path, out->row)) != CLI_OK)
		goto out;
	if ((rc = cli_recording_check(ctx, out->row, &status, &res, problem, sizeof problem)) != CLI_OK)
		goto out;
	snprintf(audit_details, sizeof audit_details, "%s verify=%s%s", details, recording_status_name(status),
	         status == RECORDING_TAMPERED ? " refused=tampered" : "");
	if ((rc = cli_recording_audit_access(ctx, store, out->row, action, audit_details)) != CLI_OK)
		goto out;
	if (status == RECORDING_TAMPERED) {
		fprintf(stderr, "concierge: recording %s is TAMPERED: %s\n  nothing was exported or played; "
		        "keep the file as evidence and run 'concierge recording verify' for details\n",
		        out->row->path, problem);
		rc = CLI_TAMPERED;
		goto out;
	}
	out->status = status;
	out->records_verified = res.records_verified;
	out->complete = status == RECORDING_INTACT;
	if (verified_end(out->row->path, res.records_verified, &out->end_us, &out->start_utc_us, err, sizeof err) < 0) {
		rc = cli_fail("cannot read %s: %s", out->row->path, err);
		goto out;
	}
	if (status == RECORDING_TRUNCATED)
		fprintf(stderr, "concierge: warning: recording %s is truncated (%s); only its verified part "
		        "(%" PRIu64 " records, up to %" PRIu64 ".%03" PRIu64 " s) is used, the last %" PRIu64
		        " bytes are left out\n", out->row->path, problem, res.records_verified,
		        out->end_us / 1000000, out->end_us / 1000 % 1000, res.tail_bytes);
	rc = CLI_OK;
out:
	store_close(store);
	if (rc != CLI_OK)
		cli_verified_done(out);
	return rc;
}

int cli_verified_foreach(const struct cli_verified *v,
                         int (*fn)(const struct recording_record *rec, void *arg), void *arg)
{
	struct recording_reader *reader;
	struct recording_record rec;
	char err[512];
	int rc = 0, stop = 0;

	if (recording_reader_open(v->row->path, &reader, err, sizeof err) < 0) {
		cli_fail("cannot read %s: %s", v->row->path, err);
		return -1;
	}
	while (!stop && (rc = recording_reader_next(reader, &rec, err, sizeof err)) == 1) {
		if (rec.index >= v->records_verified)
			break;
		stop = fn(&rec, arg);
	}
	recording_reader_close(reader);
	if (!stop && rc < 0) {
		cli_fail("cannot read %s: %s", v->row->path, err);
		return -1;
	}
	return stop;
}

void cli_verified_done(struct cli_verified *v)
{
	free(v->row);
	v->row = NULL;
}
