/* One live session's recording: see session_record.h for the contract. */
#include "session_record.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "log.h"
#include "recordings.h"
#include "wire.h"
#include "xmalloc.h"

/* Names tried for one session in the same second before giving up. */
#define SESSION_RECORD_NAME_TRIES 100

struct session_record {
	struct store *store;
	struct recording_writer *writer;
	long long id;
	int failed;
	char ticket[TICKET_ID_MAX + 1];
	char session[RECORDING_MAX_SESSION_ID + 1];
	char path[RECORDING_MAX_PATH];
	char err[384];
};

static int record_audit(struct session_record *sr, const char *action, const char *details)
{
	char object[48], err[256];
	struct audit_event ev = { "relay", action, object, sr->ticket, details };

	snprintf(object, sizeof object, "recording:%lld", sr->id);
	if (audit_append(sr->store, &ev, err, sizeof err) < 0) {
		snprintf(sr->err, sizeof sr->err, "audit log: %s", err);
		return -1;
	}
	return 0;
}

/* The writer on a fresh file name below the canonical recordings dir. */
static struct recording_writer *open_fresh_file(struct session_record *sr, EVP_PKEY *key,
                                                const char *root, int (*defer_sync)(void *ctx, int fd),
                                                void *defer_sync_ctx, char *err, size_t errlen)
{
	struct recording_params params;
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	recording_params_default(&params);
	params.root = root;
	params.defer_sync = defer_sync;
	params.defer_sync_ctx = defer_sync_ctx;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	for (int n = 1; n <= SESSION_RECORD_NAME_TRIES; n++) {
		struct stat st;
		int len = snprintf(sr->path, sizeof sr->path, "%s/%s/%s/%s-%d.cncgrec", root, sr->ticket,
		                   sr->session, stamp, n);
		if (len < 0 || (size_t)len >= sizeof sr->path) {
			snprintf(err, errlen, "recordings_dir %s is too long a path", root);
			return NULL;
		}
		if (lstat(sr->path, &st) == 0)
			continue;
		return recording_writer_open(sr->path, sr->ticket, sr->session, key, &params, err, errlen);
	}
	snprintf(err, errlen, "no free recording file name in %s/%s/%s", root, sr->ticket, sr->session);
	return NULL;
}

struct session_record *session_record_open(struct store *store, EVP_PKEY *key, const char *dir,
                                           const char *ticket, const char *session, int resumed,
                                           int (*defer_sync)(void *ctx, int fd), void *defer_sync_ctx,
                                           char *err, size_t errlen)
{
	struct session_record *sr;
	char root[PATH_MAX], details[RECORDING_MAX_PATH + 64];

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create recordings_dir %s: %s", dir, strerror(errno));
		return NULL;
	}
	if (realpath(dir, root) == NULL) {
		snprintf(err, errlen, "recordings_dir %s: %s", dir, strerror(errno));
		return NULL;
	}
	sr = xcalloc(1, sizeof *sr);
	sr->store = store;
	snprintf(sr->ticket, sizeof sr->ticket, "%s", ticket);
	snprintf(sr->session, sizeof sr->session, "%s", session);
	sr->writer = open_fresh_file(sr, key, root, defer_sync, defer_sync_ctx, err, errlen);
	if (sr->writer == NULL) {
		free(sr);
		return NULL;
	}
	sr->id = recordings_begin(store, ticket, session, sr->path, err, errlen);
	snprintf(details, sizeof details, "session=%s path=%s", session, sr->path);
	if (sr->id < 0 || session_record_event(sr, "START", "ticket", ticket, "session", session,
	                                       "resumed", resumed ? "1" : "0", (char *)NULL) < 0 ||
	    record_audit(sr, "recording.start", details) < 0) {
		if (sr->id >= 0)
			snprintf(err, errlen, "%s", sr->err);
		if (sr->id > 0)
			recordings_finish(store, sr->id, "failed", NULL, err, sr->err, sizeof sr->err);
		recording_writer_close(sr->writer, NULL, sr->err, sizeof sr->err);
		unlink(sr->path);
		free(sr);
		return NULL;
	}
	log_info("event=recording_started session=%s ticket=%s path=%s", session, ticket, sr->path);
	return sr;
}

static int writer_failed(struct session_record *sr)
{
	if (!sr->failed)
		log_error("event=recording_failed session=%s path=%s error=\"%s\"", sr->session, sr->path,
		          sr->err);
	sr->failed = 1;
	return -1;
}

int session_record_data(struct session_record *sr, enum recording_type type, uint16_t stream,
                        const char *participant, int dropped, const void *data, size_t len)
{
	if (sr->failed)
		return -1;
	if (recording_writer_append(sr->writer, type, stream, participant,
	                            dropped ? RECORDING_FLAG_DROPPED : 0,
	                            recording_writer_now_us(sr->writer), data, len, sr->err,
	                            sizeof sr->err) < 0)
		return writer_failed(sr);
	return 0;
}

int session_record_event(struct session_record *sr, const char *verb, ...)
{
	char line[WIRE_MAX_LINE + 2];
	va_list ap;
	int len;

	if (sr->failed)
		return -1;
	va_start(ap, verb);
	len = wire_vformat(line, sizeof line, verb, ap);
	va_end(ap);
	if (len < 0) {
		snprintf(sr->err, sizeof sr->err, "event %s does not fit a line", verb);
		return writer_failed(sr);
	}
	/* The line's newline is framing, not content. */
	return session_record_data(sr, RECORDING_EVENT, 0, NULL, 0, line, (size_t)len - 1);
}

int session_record_participant(struct session_record *sr, const char *user)
{
	if (sr->failed)
		return -1;
	if (recordings_add_participant(sr->store, sr->id, user, sr->err, sizeof sr->err) < 0)
		return writer_failed(sr);
	return 0;
}

int session_record_tick(struct session_record *sr)
{
	if (sr->failed)
		return -1;
	if (recording_writer_tick(sr->writer, sr->err, sizeof sr->err) < 0)
		return writer_failed(sr);
	return 0;
}

uint64_t session_record_now_us(const struct session_record *sr)
{
	return recording_writer_now_us(sr->writer);
}

int session_record_close(struct session_record *sr, int failed, const char *why)
{
	struct recording_summary sum;
	char details[RECORDING_MAX_PATH + 2 * RECORDING_MAX_SIGNATURE + 512], err[384];
	int rc = 0;

	failed |= sr->failed;
	if (recording_writer_close(sr->writer, failed ? NULL : &sum, err, sizeof err) < 0 && !failed) {
		failed = 1;
		why = err;
		rc = -1;
	}
	if (failed) {
		snprintf(details, sizeof details, "session=%s path=%s reason=\"%.200s\"", sr->session, sr->path,
		         why ? why : sr->err);
		if (recordings_finish(sr->store, sr->id, "failed", NULL, why ? why : sr->err, err, sizeof err) < 0)
			log_error("event=recording_row_failed id=%lld error=\"%s\"", sr->id, err);
		record_audit(sr, "recording.failed", details);
	} else {
		snprintf(details, sizeof details, "session=%s path=%s records=%" PRIu64 " bytes=%" PRIu64
		         " header_hash=%s final_chain=%s signature=%s", sr->session, sr->path, sum.records,
		         sum.bytes, sum.header_hash, sum.final_chain, sum.signature);
		if (recordings_finish(sr->store, sr->id, "complete", &sum, NULL, err, sizeof err) < 0)
			log_error("event=recording_row_failed id=%lld error=\"%s\"", sr->id, err);
		record_audit(sr, "recording.close", details);
		log_info("event=recording_closed session=%s path=%s bytes=%" PRIu64 " final_chain=%s",
		         sr->session, sr->path, sum.bytes, sum.final_chain);
	}
	free(sr);
	return rc;
}

const char *session_record_error(const struct session_record *sr)
{
	return sr->err;
}

const char *session_record_path(const struct session_record *sr)
{
	return sr->path;
}

long long session_record_id(const struct session_record *sr)
{
	return sr->id;
}
