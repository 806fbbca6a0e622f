#include "replay_index.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "errbuf.h"
#include "fd_io.h"
#include "wire.h"
#include "xmalloc.h"

#define SCREEN_STREAM_FIRST 1000
#define SCREEN_STREAM_LAST 1999

static int header_hash(int fd, unsigned char out[RECORDING_HASH_LEN], char *err, size_t errlen)
{
	uint8_t buf[RECORDING_MAX_HEADER];
	uint32_t body;

	if (fd_pread_full(fd, buf, 14, 0) < 0) {
		errbuf_set(err, errlen, "not a recording: too short");
		return -1;
	}
	body = (uint32_t)buf[10] << 24 | (uint32_t)buf[11] << 16 | (uint32_t)buf[12] << 8 | buf[13];
	if (body > RECORDING_MAX_HEADER - 14 || fd_pread_full(fd, buf + 14, body, 14) < 0) {
		errbuf_set(err, errlen, "not a recording: bad header");
		return -1;
	}
	SHA256(buf, 14 + (size_t)body, out);
	return 0;
}

static void on_bytes(void *ctx, const uint8_t *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
}

static void on_end(void *ctx, const struct rfb_frame_info *info)
{
	struct replay_index_leg *leg = ctx;
	struct replay_unit *u;

	if (leg->nunits == leg->capunits) {
		leg->capunits = leg->capunits ? 2 * leg->capunits : 256;
		leg->units = xreallocarray(leg->units, leg->capunits, sizeof *leg->units);
	}
	u = &leg->units[leg->nunits];
	u->stream_off = info->offset;
	u->length = info->length;
	u->time_us = leg->cur_time;
	u->width = info->width;
	u->height = info->height;
	u->type = (int8_t)info->type;
	if (info->type == RFB_FRAME_FB_UPDATE) {
		if (leg->first_update == SIZE_MAX)
			leg->first_update = leg->nunits;
		leg->pub.updates++;
	}
	leg->nunits++;
}

static struct replay_index_leg *leg_for(struct replay_index *idx, uint16_t stream, uint64_t time_us)
{
	struct replay_index_leg *leg;
	struct rfb_framer_callbacks cb;

	for (size_t i = 0; i < idx->nlegs; i++)
		if (idx->legs[i]->pub.stream == stream)
			return idx->legs[i];
	idx->legs = xreallocarray(idx->legs, idx->nlegs + 1, sizeof *idx->legs);
	leg = xcalloc(1, sizeof *leg);
	idx->legs[idx->nlegs++] = leg;
	leg->pub.stream = stream;
	leg->pub.start_us = time_us;
	leg->pub.first_update_us = UINT64_MAX;
	leg->first_update = SIZE_MAX;
	cb = (struct rfb_framer_callbacks){ on_bytes, on_end, leg };
	leg->framer = rfb_framer_new(&cb);
	return leg;
}

static void stop_event(struct replay_index *idx, const uint8_t *payload, size_t len, uint64_t time_us)
{
	struct wire_msg msg;
	const char *stream, *state, *kind;
	char *end;
	unsigned long n;

	if (len == 0 || len > WIRE_MAX_LINE || wire_parse((const char *)payload, len, &msg) < 0 ||
	    strcmp(msg.verb, "RECORDER") != 0)
		return;
	kind = wire_get(&msg, "kind");
	stream = wire_get(&msg, "stream");
	state = wire_get(&msg, "state");
	if (kind == NULL || strcmp(kind, "screen") != 0 || stream == NULL || state == NULL ||
	    strcmp(state, "stop") != 0)
		return;
	errno = 0;
	n = strtoul(stream, &end, 10);
	if (errno != 0 || *end != '\0' || n < SCREEN_STREAM_FIRST || n > SCREEN_STREAM_LAST)
		return;
	for (size_t i = 0; i < idx->nlegs; i++) {
		if (idx->legs[i]->pub.stream == n && !idx->legs[i]->has_stop) {
			idx->legs[i]->has_stop = 1;
			idx->legs[i]->stop_us = time_us;
		}
	}
}

static void finish_legs(struct replay_index *idx)
{
	for (size_t i = 0; i < idx->nlegs; i++) {
		struct replay_index_leg *leg = idx->legs[i];
		uint64_t end = idx->duration_us + 1;

		if (leg->has_stop && leg->stop_us >= leg->pub.start_us)
			end = leg->stop_us;
		if (i + 1 < idx->nlegs && idx->legs[i + 1]->pub.start_us < end)
			end = idx->legs[i + 1]->pub.start_us;
		if (end <= leg->pub.start_us)
			end = leg->pub.start_us + 1;
		leg->pub.end_us = end;
		/* Messages after the end are never shown. */
		while (leg->nunits > 0 && leg->units[leg->nunits - 1].time_us >= end && leg->nunits > 1)
			leg->nunits--;
		leg->pub.updates = 0;
		leg->first_update = SIZE_MAX;
		for (size_t u = 0; u < leg->nunits; u++) {
			if (leg->units[u].type != RFB_FRAME_FB_UPDATE)
				continue;
			if (leg->first_update == SIZE_MAX)
				leg->first_update = u;
			leg->pub.updates++;
		}
		leg->pub.first_update_us =
		    leg->first_update == SIZE_MAX ? UINT64_MAX : leg->units[leg->first_update].time_us;
		if (leg->nunits > 0 && leg->units[0].type == RFB_FRAME_HANDSHAKE) {
			leg->pub.width = leg->units[0].width;
			leg->pub.height = leg->units[0].height;
		}
		if (!leg->broken) {
			uint64_t fed = leg->nrecs ? leg->recs[leg->nrecs - 1].stream_off + leg->recs[leg->nrecs - 1].len : 0;
			uint64_t framed = leg->nunits ? leg->units[leg->nunits - 1].stream_off +
			                                    leg->units[leg->nunits - 1].length : 0;

			if (fed != framed) {
				snprintf(leg->pub.problem, sizeof leg->pub.problem,
				         "ends inside a message (%llu bytes after the last whole one)",
				         (unsigned long long)(fed - framed));
			} else if (leg->nunits == 0) {
				snprintf(leg->pub.problem, sizeof leg->pub.problem, "no RFB handshake");
			} else {
				leg->pub.complete = 1;
			}
		}
		rfb_framer_free(leg->framer);
		leg->framer = NULL;
	}
}

/* The scan with a local error buffer: callers may pass err NULL. */
static int build(int fd, struct replay_index *idx, char *err, size_t errlen);

int replay_index_build(int fd, struct replay_index *idx, char *err, size_t errlen)
{
	char why[256] = "";
	int rc = build(fd, idx, why, sizeof why);

	if (rc < 0)
		errbuf_set(err, errlen, "%s", why);
	return rc;
}

static int build(int fd, struct replay_index *idx, char *err, size_t errlen)
{
	struct recording_reader *rd = NULL;
	struct recording_record rec;
	char path[64];
	size_t total_recs = 0;
	int rc;

	memset(idx, 0, sizeof *idx);
	if (header_hash(fd, idx->header_hash, err, errlen) < 0)
		return -1;
	/* The reader opens by name: the same open file, never a replaced one. */
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	if (recording_reader_open(path, &rd, err, errlen) < 0)
		return -1;
	memcpy(idx->chain, idx->header_hash, RECORDING_HASH_LEN);
	while ((rc = recording_reader_next(rd, &rec, err, errlen)) == 1) {
		uint64_t rec_end = rec.offset + 17 + strlen(rec.participant) + rec.len + RECORDING_HASH_LEN;

		if (rec.time_us > idx->duration_us)
			idx->duration_us = rec.time_us;
		idx->records = rec.index + 1;
		idx->bytes = rec_end;
		if (fd_pread_full(fd, idx->chain, RECORDING_HASH_LEN, rec_end - RECORDING_HASH_LEN) < 0) {
			errbuf_set(err, errlen, "cannot read the recording: %s", strerror(errno));
			rc = -1;
			break;
		}
		if (rec.type == RECORDING_EVENT && rec.stream == 0) {
			stop_event(idx, rec.payload, rec.len, rec.time_us);
			continue;
		}
		if (rec.type != RECORDING_RFB_SERVER_BYTES || rec.stream < SCREEN_STREAM_FIRST ||
		    rec.stream > SCREEN_STREAM_LAST || rec.len == 0)
			continue;
		{
			struct replay_index_leg *leg = leg_for(idx, rec.stream, rec.time_us);
			struct replay_rec *r;
			uint64_t off;

			if (leg->broken || leg->has_stop)
				continue;
			if (++total_recs > REPLAY_MAX_LEG_RECORDS) {
				errbuf_set(err, errlen, "more than %u screen records: too large to replay",
				           REPLAY_MAX_LEG_RECORDS);
				rc = -1;
				break;
			}
			if (leg->nrecs == leg->caprecs) {
				leg->caprecs = leg->caprecs ? 2 * leg->caprecs : 256;
				leg->recs = xreallocarray(leg->recs, leg->caprecs, sizeof *leg->recs);
			}
			off = leg->nrecs ? leg->recs[leg->nrecs - 1].stream_off + leg->recs[leg->nrecs - 1].len : 0;
			r = &leg->recs[leg->nrecs++];
			r->stream_off = off;
			r->payload_off = rec.offset + 17 + strlen(rec.participant);
			r->index = rec.index;
			r->offset = rec.offset;
			r->len = (uint32_t)rec.len;
			if (rec.time_us > leg->cur_time)
				leg->cur_time = rec.time_us;
			if (rfb_framer_feed(leg->framer, rec.payload, rec.len) < 0) {
				leg->broken = 1;
				snprintf(leg->pub.problem, sizeof leg->pub.problem,
				         "RFB stream broken at byte %llu: %s",
				         (unsigned long long)rfb_framer_offset(leg->framer),
				         rfb_framer_error(leg->framer));
			}
		}
	}
	if (rc == 0) {
		idx->complete = recording_reader_complete(rd);
		finish_legs(idx);
	} else if (rc < 0 && idx->records > 0 && total_recs <= REPLAY_MAX_LEG_RECORDS &&
	           strstr(err, "screen records") == NULL) {
		/* A damaged tail: replay what was read before it. */
		idx->complete = 0;
		finish_legs(idx);
		rc = 0;
	}
	recording_reader_close(rd);
	return rc < 0 ? -1 : 0;
}

void replay_index_free(struct replay_index *idx)
{
	for (size_t i = 0; i < idx->nlegs; i++) {
		rfb_framer_free(idx->legs[i]->framer);
		free(idx->legs[i]->recs);
		free(idx->legs[i]->units);
		free(idx->legs[i]);
	}
	free(idx->legs);
	memset(idx, 0, sizeof *idx);
}

size_t replay_index_rec_at(const struct replay_index_leg *leg, uint64_t off)
{
	size_t lo = 0, hi = leg->nrecs;

	/* Last record whose stream_off <= off. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (leg->recs[mid].stream_off <= off)
			lo = mid;
		else
			hi = mid;
	}
	if (leg->nrecs == 0 || off >= leg->recs[leg->nrecs - 1].stream_off + leg->recs[leg->nrecs - 1].len)
		return leg->nrecs;
	return lo;
}

int replay_index_read_unit(int fd, const struct replay_index_leg *leg, uint64_t from, uint64_t len,
                           uint8_t *out, char *err, size_t errlen)
{
	size_t r = replay_index_rec_at(leg, from);

	while (len > 0) {
		uint64_t skip, n;

		if (r >= leg->nrecs) {
			errbuf_set(err, errlen, "RFB stream shorter than indexed");
			return -1;
		}
		skip = from - leg->recs[r].stream_off;
		n = leg->recs[r].len - skip;
		if (n > len)
			n = len;
		if (fd_pread_full(fd, out, (size_t)n, leg->recs[r].payload_off + skip) < 0) {
			errbuf_set(err, errlen, "cannot read the recording: %s",
			           errno ? strerror(errno) : "it became shorter");
			return -1;
		}
		out += n;
		from += n;
		len -= n;
		r++;
	}
	return 0;
}
