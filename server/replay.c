#include "replay.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "errbuf.h"
#include "replay_child.h"
#include "replay_index.h"
#include "replay_keyframes.h"
#include "replay_proto.h"
#include "xmalloc.h"

#define PROGRESS_EVERY_MS 250

struct replay {
	int fd;
	struct replay_options opts;
	struct replay_index idx;
	struct replay_keyframes kf;
	struct replay_info info;
	struct replay_child child;
	int child_leg;            /* leg the child decodes, -1: none */
	size_t child_next;        /* messages [0, child_next) of it applied */
	uint32_t *fb;             /* the parent's copy, as of the child's last FRAME */
	uint32_t fb_w, fb_h;
	size_t fb_cap;
	uint8_t *unit_buf;
	size_t unit_cap;
	/* playback position */
	uint64_t pos_us;
	int pos_leg;              /* -1: outside every leg */
	size_t pos_next;          /* messages [0, pos_next) of pos_leg applied */
	int pos_picture;          /* the last frame handed out had a picture */
	size_t scan_leg;          /* outside: the next leg to enter */
	struct replay_rect rects[REPLAY_MAX_DIRTY_RECTS];
};

void replay_options_default(struct replay_options *opts)
{
	memset(opts, 0, sizeof *opts);
}

int replay_keyframes_path(const char *recording_path, char *out, size_t len)
{
	int n = snprintf(out, len, "%s%s", recording_path, REPLAY_KEYFRAMES_SUFFIX);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

const struct replay_info *replay_info(const struct replay *r)
{
	return &r->info;
}

const struct replay_leg *replay_leg(const struct replay *r, size_t i)
{
	return i < r->idx.nlegs ? &r->idx.legs[i]->pub : NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- talking to the child ------------------------------------------------ */

static void child_lost(struct replay *r)
{
	replay_child_stop(&r->child);
	r->child_leg = -1;
	r->child_next = 0;
}

static int ensure_child(struct replay *r, char *err, size_t errlen)
{
	if (replay_child_running(&r->child))
		return 0;
	r->child_leg = -1;
	r->child_next = 0;
	return replay_child_start(&r->child, err, errlen);
}

static int send_unit(struct replay *r, size_t leg_i, size_t u, uint32_t cmd, char *err, size_t errlen)
{
	const struct replay_index_leg *leg = r->idx.legs[leg_i];
	const struct replay_unit *unit = &leg->units[u];
	struct replay_cmd_hdr h = { cmd, 0, 0, (uint32_t)unit->length };
	struct iovec iov;

	if (unit->length > r->unit_cap) {
		free(r->unit_buf);
		r->unit_cap = (size_t)unit->length;
		r->unit_buf = xmalloc(r->unit_cap);
	}
	if (replay_index_read_unit(r->fd, leg, unit->stream_off, unit->length, r->unit_buf, err, errlen) < 0)
		return -1;
	iov = (struct iovec){ r->unit_buf, (size_t)unit->length };
	if (replay_child_send(&r->child, &h, &iov, 1, err, errlen) < 0) {
		child_lost(r);
		return -1;
	}
	return 0;
}

/* The keyframe of leg `leg_i` with the largest next_unit <= next, or NULL. */
static const struct replay_keyframe *keyframe_for(const struct replay *r, size_t leg_i, size_t next)
{
	size_t lo = 0, hi = r->kf.count;
	const struct replay_keyframe *best = NULL;

	/* First keyframe past (leg_i, next). */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct replay_keyframe *k = &r->kf.kf[mid];

		if (k->leg < leg_i || (k->leg == leg_i && k->next_unit <= next))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0 && r->kf.kf[lo - 1].leg == leg_i)
		best = &r->kf.kf[lo - 1];
	return best;
}

static int restore_keyframe(struct replay *r, const struct replay_keyframe *k, char *err, size_t errlen)
{
	uint8_t head[5];
	struct replay_cmd_hdr h = { REPLAY_CMD_RESTORE, k->width, k->height,
	                            (uint32_t)(sizeof head + k->window_len + k->fb_len) };
	struct iovec iov[3] = {
		{ head, sizeof head },
		{ (void *)k->window, k->window_len },
		{ (void *)k->fb, k->fb_len },
	};

	head[0] = k->zlib_state;
	memcpy(head + 1, &k->window_len, 4);
	if (replay_child_send(&r->child, &h, iov, 3, err, errlen) < 0) {
		child_lost(r);
		return -1;
	}
	return 0;
}

/* Brings the child to "messages [0, next) of leg leg_i applied" (next >= 1)
 * the cheapest way: continuing, or from the best keyframe. */
static int seek_state(struct replay *r, size_t leg_i, size_t next, char *err, size_t errlen)
{
	const struct replay_keyframe *k;
	size_t from;

	if (ensure_child(r, err, errlen) < 0)
		return -1;
	k = keyframe_for(r, leg_i, next);
	from = k ? (size_t)k->next_unit : 1;
	if (r->child_leg != (int)leg_i || r->child_next > next || r->child_next < from) {
		if (send_unit(r, leg_i, 0, REPLAY_CMD_LEG, err, errlen) < 0)
			return -1;
		r->child_leg = (int)leg_i;
		r->child_next = 1;
		if (k != NULL && k->next_unit > 1) {
			if (restore_keyframe(r, k, err, errlen) < 0)
				return -1;
			r->child_next = (size_t)k->next_unit;
		}
	}
	while (r->child_next < next) {
		if (send_unit(r, leg_i, r->child_next, REPLAY_CMD_UNIT, err, errlen) < 0)
			return -1;
		r->child_next++;
	}
	return 0;
}

/* FRAME into r->fb; *full and *nrects say what changed. */
static int fetch_frame(struct replay *r, int want_full, int *full, size_t *nrects, char *err, size_t errlen)
{
	struct replay_cmd_hdr h = { REPLAY_CMD_FRAME, want_full ? 1u : 0u, 0, 0 };
	struct replay_reply_hdr rep;
	struct replay_proto_rect pr[REPLAY_MAX_DIRTY_RECTS];
	char why[160];

	if (replay_child_send(&r->child, &h, NULL, 0, err, errlen) < 0 ||
	    replay_child_recv(&r->child, REPLAY_REPLY_FRAME, &rep, err, errlen) < 0) {
		child_lost(r);
		return -1;
	}
	if (rep.width == 0) {
		child_lost(r);
		errbuf_set(err, errlen, "decoder has no framebuffer after an update");
		return -1;
	}
	*full = (rep.flags & REPLAY_FRAME_FULL) != 0;
	if (!*full && (rep.width != r->fb_w || rep.height != r->fb_h)) {
		child_lost(r);
		errbuf_set(err, errlen, "decoder broke the protocol: partial frame of another size");
		return -1;
	}
	if (*full) {
		size_t need = (size_t)rep.width * rep.height;

		if (need > r->fb_cap) {
			free(r->fb);
			r->fb = xcalloc(need, 4);
			r->fb_cap = need;
		}
		r->fb_w = rep.width;
		r->fb_h = rep.height;
	}
	if (replay_proto_apply_frame(&rep, r->child.buf, r->fb, pr, nrects, why, sizeof why) < 0) {
		child_lost(r);
		errbuf_set(err, errlen, "decoder broke the protocol: %s", why);
		return -1;
	}
	for (size_t i = 0; i < *nrects; i++)
		r->rects[i] = (struct replay_rect){ pr[i].x, pr[i].y, pr[i].w, pr[i].h };
	return 0;
}

/* ---- keyframes -------------------------------------------------------------- */

static void keyframe_meta(const struct replay *r, size_t leg_i, size_t next, struct replay_keyframe *m)
{
	const struct replay_index_leg *leg = r->idx.legs[leg_i];

	memset(m, 0, sizeof *m);
	m->time_us = leg->units[next - 1].time_us;
	m->leg = (uint32_t)leg_i;
	m->stream = leg->pub.stream;
	m->next_unit = next;
	m->record_index = m->record_offset = UINT64_MAX;
	if (next < leg->nunits) {
		size_t rec = replay_index_rec_at(leg, leg->units[next].stream_off);

		if (rec < leg->nrecs) {
			m->record_index = leg->recs[rec].index;
			m->record_offset = leg->recs[rec].offset;
		}
	}
}

static int snapshot(struct replay *r, size_t leg_i, size_t next, char *err, size_t errlen)
{
	struct replay_cmd_hdr h = { REPLAY_CMD_SNAPSHOT, 0, 0, 0 };
	struct replay_reply_hdr rep;
	struct replay_keyframe m;

	if (replay_child_send(&r->child, &h, NULL, 0, err, errlen) < 0 ||
	    replay_child_recv(&r->child, REPLAY_REPLY_SNAPSHOT, &rep, err, errlen) < 0) {
		child_lost(r);
		return -1;
	}
	if (rep.width == 0) {
		child_lost(r);
		errbuf_set(err, errlen, "decoder has no framebuffer for a keyframe");
		return -1;
	}
	keyframe_meta(r, leg_i, next, &m);
	m.width = rep.width;
	m.height = rep.height;
	m.zlib_state = (uint8_t)rep.flags;
	m.window_len = rep.window_len;
	return replay_keyframes_add(&r->kf, &m, (const uint32_t *)(r->child.buf + rep.window_len),
	                            r->child.buf, err, errlen);
}

static void progress(const struct replay *r, int show, uint64_t done_us, double *last, int final)
{
	double t = now_s();
	uint64_t total = r->idx.duration_us ? r->idx.duration_us : 1;

	if (!show || (!final && t - *last < PROGRESS_EVERY_MS / 1000.0))
		return;
	*last = t;
	fprintf(stderr, "\rbuilding keyframes: %3d%% (%llu:%02llu of %llu:%02llu recorded)%s",
	        (int)(done_us * 100 / total), (unsigned long long)(done_us / 60000000),
	        (unsigned long long)(done_us / 1000000 % 60), (unsigned long long)(total / 60000000),
	        (unsigned long long)(total / 1000000 % 60), final ? "\n" : "");
	fflush(stderr);
}

static int build_keyframes(struct replay *r, char *err, size_t errlen)
{
	struct replay_keyframes_id id;
	uint64_t interval_us = (uint64_t)(r->opts.keyframe_interval_ms ? r->opts.keyframe_interval_ms
	                                                                : REPLAY_KEYFRAME_INTERVAL_MS) * 1000;
	int show = !(r->opts.flags & REPLAY_PROGRESS_NEVER) && isatty(STDERR_FILENO);
	double t0 = now_s(), last = 0;

	memcpy(id.header_hash, r->idx.header_hash, sizeof id.header_hash);
	memcpy(id.chain, r->idx.chain, sizeof id.chain);
	id.records = r->idx.records;
	id.bytes = r->idx.bytes;
	id.interval_ms = (uint32_t)(interval_us / 1000);
	replay_keyframes_begin(&r->kf, &id);
	for (size_t li = 0; li < r->idx.nlegs; li++) {
		struct replay_index_leg *leg = r->idx.legs[li];
		uint64_t last_kf;
		char why[200];

		if (leg->nunits == 0 || leg->units[0].type != RFB_FRAME_HANDSHAKE)
			continue;
		if (ensure_child(r, err, errlen) < 0)
			return -1;
		if (send_unit(r, li, 0, REPLAY_CMD_LEG, why, sizeof why) < 0 || snapshot(r, li, 1, why, sizeof why) < 0)
			goto leg_failed;
		r->child_leg = (int)li;
		r->child_next = 1;
		last_kf = leg->units[0].time_us;
		for (size_t u = 1; u < leg->nunits; u++) {
			if (send_unit(r, li, u, REPLAY_CMD_UNIT, why, sizeof why) < 0)
				goto leg_failed;
			r->child_next = u + 1;
			if (leg->units[u].time_us - last_kf >= interval_us && u + 1 < leg->nunits) {
				if (snapshot(r, li, u + 1, why, sizeof why) < 0)
					goto leg_failed;
				last_kf = leg->units[u].time_us;
			}
			progress(r, show, leg->units[u].time_us, &last, 0);
		}
		{
			/* UNIT is not answered: one round trip shows whether the
			 * decoder took the leg's last messages. */
			int full;
			size_t nrects;

			if (fetch_frame(r, 0, &full, &nrects, why, sizeof why) < 0)
				goto leg_failed;
		}
		continue;
leg_failed:
		/* A leg the decoder refuses replays up to the keyframes before
		 * the failure; seeking past them reports the decoder's error. */
		child_lost(r);
		if (leg->pub.complete || leg->pub.problem[0] == '\0') {
			leg->pub.complete = 0;
			snprintf(leg->pub.problem, sizeof leg->pub.problem, "%.150s", why);
		}
		if (strstr(why, "more than") != NULL && strstr(why, "keyframes") != NULL) {
			errbuf_set(err, errlen, "%s", why);
			return -1;
		}
	}
	child_lost(r);
	progress(r, show, r->idx.duration_us, &last, 1);
	r->info.keyframes_build_s = now_s() - t0;
	return replay_keyframes_finish(&r->kf, err, errlen);
}

/* Does the loaded file belong to this recording, entry by entry? */
static int keyframes_fit(const struct replay *r, char *why, size_t whylen)
{
	const struct replay_keyframes_id *id = &r->kf.id;

	if (memcmp(id->header_hash, r->idx.header_hash, sizeof id->header_hash) != 0) {
		errbuf_set(why, whylen, "mismatched: it belongs to another recording");
		return 0;
	}
	if (id->records != r->idx.records || id->bytes != r->idx.bytes ||
	    memcmp(id->chain, r->idx.chain, sizeof id->chain) != 0) {
		errbuf_set(why, whylen, "stale: the recording changed since (%llu records then, %llu now)",
		           (unsigned long long)id->records, (unsigned long long)r->idx.records);
		return 0;
	}
	for (size_t i = 0; i < r->kf.count; i++) {
		const struct replay_keyframe *k = &r->kf.kf[i];
		struct replay_keyframe m;

		if (k->leg >= r->idx.nlegs || k->next_unit > r->idx.legs[k->leg]->nunits ||
		    k->stream != r->idx.legs[k->leg]->pub.stream) {
			errbuf_set(why, whylen, "mismatched: keyframe %zu names a message that does not exist", i);
			return 0;
		}
		keyframe_meta(r, k->leg, (size_t)k->next_unit, &m);
		if (m.record_index != k->record_index || m.record_offset != k->record_offset ||
		    m.time_us != k->time_us) {
			errbuf_set(why, whylen, "mismatched: keyframe %zu does not fit the recording", i);
			return 0;
		}
	}
	return 1;
}

static int setup_keyframes(struct replay *r, const char *path, char *err, size_t errlen)
{
	char why[256] = "";
	int rc = 0, rebuilding = 0;

	if (r->opts.flags & REPLAY_KEYFRAMES_IN_MEMORY) {
		r->info.keyframes_path[0] = '\0';
	} else {
		if (replay_keyframes_path(path, r->info.keyframes_path, sizeof r->info.keyframes_path) < 0) {
			errbuf_set(err, errlen, "recording path too long");
			return -1;
		}
		if (r->opts.flags & REPLAY_REBUILD_KEYFRAMES) {
			rebuilding = 1;
			snprintf(why, sizeof why, "rebuild asked for");
		} else {
			rc = replay_keyframes_load(r->info.keyframes_path, &r->kf, why, sizeof why);
			if (rc == 1 && keyframes_fit(r, why, sizeof why)) {
				r->info.keyframes_origin = REPLAY_KEYFRAMES_LOADED;
				r->info.keyframes = r->kf.count;
				return 0;
			}
			replay_keyframes_free(&r->kf);
			rebuilding = rc != 0;
		}
	}
	if (build_keyframes(r, err, errlen) < 0)
		return -1;
	r->info.keyframes = r->kf.count;
	r->info.keyframes_origin = rebuilding ? REPLAY_KEYFRAMES_REBUILT : REPLAY_KEYFRAMES_BUILT;
	if (rebuilding)
		snprintf(r->info.keyframes_note, sizeof r->info.keyframes_note, "%s", why);
	if (r->info.keyframes_path[0]) {
		char werr[200];

		if (replay_keyframes_store(r->info.keyframes_path, &r->kf, werr, sizeof werr) < 0) {
			size_t used = strlen(r->info.keyframes_note);

			snprintf(r->info.keyframes_note + used, sizeof r->info.keyframes_note - used,
			         "%skept in memory only: %s", used ? "; " : "", werr);
			r->info.keyframes_path[0] = '\0';
		}
	}
	if (rebuilding && isatty(STDERR_FILENO) && !(r->opts.flags & REPLAY_PROGRESS_NEVER))
		fprintf(stderr, "keyframes rebuilt (%s)\n", why);
	return 0;
}

/* ---- open / close ------------------------------------------------------------ */

int replay_open(const char *path, const struct replay_options *opts, struct replay **out,
                char *err, size_t errlen)
{
	struct replay *r;
	struct stat st;

	*out = NULL;
	if (strlen(path) >= REPLAY_MAX_PATH - sizeof REPLAY_KEYFRAMES_SUFFIX) {
		errbuf_set(err, errlen, "recording path too long");
		return -1;
	}
	r = xcalloc(1, sizeof *r);
	if (opts)
		r->opts = *opts;
	replay_child_init(&r->child, r->opts.child_timeout_ms ? r->opts.child_timeout_ms : REPLAY_CHILD_TIMEOUT_MS);
	r->child_leg = -1;
	r->pos_leg = -1;
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0 || fstat(r->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		errbuf_set(err, errlen, "cannot open %s: %s", path, r->fd < 0 ? strerror(errno) : "not a regular file");
		goto fail;
	}
	if (replay_index_build(r->fd, &r->idx, err, errlen) < 0)
		goto fail;
	r->info.duration_us = r->idx.duration_us;
	r->info.recording_complete = r->idx.complete;
	r->info.legs = r->idx.nlegs;
	if (setup_keyframes(r, path, err, errlen) < 0)
		goto fail;
	*out = r;
	return 0;
fail:
	replay_close(r);
	return -1;
}

void replay_close(struct replay *r)
{
	if (r == NULL)
		return;
	replay_child_free(&r->child);
	replay_index_free(&r->idx);
	replay_keyframes_free(&r->kf);
	if (r->fd >= 0)
		close(r->fd);
	free(r->fb);
	free(r->unit_buf);
	free(r);
}

/* ---- frames -------------------------------------------------------------------- */

static void no_picture(struct replay *r, uint64_t t, int leg, struct replay_frame *f)
{
	memset(f, 0, sizeof *f);
	f->time_us = t;
	f->leg = leg;
	f->full_change = 1;
	f->rects = r->rects;
	r->pos_picture = 0;
}

static void picture(struct replay *r, uint64_t t, int leg, struct replay_frame *f, int full, size_t nrects)
{
	const struct replay_index_leg *l = r->idx.legs[leg];

	memset(f, 0, sizeof *f);
	f->has_picture = 1;
	f->time_us = t;
	f->leg = leg;
	f->width = r->fb_w;
	f->height = r->fb_h;
	f->pixels = r->fb;
	f->full_change = full;
	f->nrects = full ? 0 : nrects;
	f->rects = r->rects;
	for (size_t u = r->pos_next; u-- > 0;) {
		if (l->units[u].type == RFB_FRAME_FB_UPDATE) {
			f->update_us = l->units[u].time_us;
			break;
		}
	}
	r->pos_picture = 1;
}

/* Index of the last leg starting at or before t, or -1. */
static int leg_at(const struct replay *r, uint64_t t)
{
	size_t lo = 0, hi = r->idx.nlegs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->idx.legs[mid]->pub.start_us <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (int)lo - 1;
}

/* Messages of the leg with time <= t. */
static size_t units_until(const struct replay_index_leg *leg, uint64_t t)
{
	size_t lo = 0, hi = leg->nunits;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (leg->units[mid].time_us <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int replay_frame_at(struct replay *r, uint64_t t, struct replay_frame *f, char *err, size_t errlen)
{
	/* Past the end: the last state. */
	uint64_t at = t > r->idx.duration_us ? r->idx.duration_us : t;
	int li = leg_at(r, at);
	const struct replay_index_leg *leg;
	size_t next;
	int full;
	size_t nrects;

	r->pos_us = t;
	if (li < 0 || at >= r->idx.legs[li]->pub.end_us) {
		r->pos_leg = -1;
		r->scan_leg = (size_t)(li + 1);
		no_picture(r, t, -1, f);
		return 0;
	}
	leg = r->idx.legs[li];
	next = units_until(leg, at);
	r->pos_leg = li;
	r->pos_next = next;
	if (leg->first_update == SIZE_MAX || next <= leg->first_update) {
		no_picture(r, t, li, f);
		return 0;
	}
	if (seek_state(r, (size_t)li, next, err, errlen) < 0 || fetch_frame(r, 1, &full, &nrects, err, errlen) < 0)
		return -1;
	picture(r, t, li, f, 1, 0);
	return 0;
}

int replay_next(struct replay *r, struct replay_frame *f, char *err, size_t errlen)
{
	for (;;) {
		const struct replay_index_leg *leg;
		size_t u;
		int full;
		size_t nrects;

		if (r->pos_leg < 0) {
			if (r->scan_leg >= r->idx.nlegs)
				return 0;
			r->pos_leg = (int)r->scan_leg;
			r->pos_next = 0;
			if (r->idx.legs[r->pos_leg]->pub.start_us > r->pos_us)
				r->pos_us = r->idx.legs[r->pos_leg]->pub.start_us;
			continue;
		}
		leg = r->idx.legs[r->pos_leg];
		if (r->pos_next >= leg->nunits) {
			/* The leg is over: its picture ends at end_us (never for the
			 * last leg without a stop, which lasts to the end). */
			if (leg->pub.end_us > r->idx.duration_us)
				return 0;
			r->scan_leg = (size_t)r->pos_leg + 1;
			r->pos_leg = -1;
			if (leg->pub.end_us > r->pos_us)
				r->pos_us = leg->pub.end_us;
			if (r->pos_picture) {
				no_picture(r, r->pos_us, -1, f);
				return 1;
			}
			continue;
		}
		u = r->pos_next;
		if (u == 0 || leg->units[u].type != RFB_FRAME_FB_UPDATE) {
			r->pos_next = u + 1;
			if (leg->units[u].time_us > r->pos_us)
				r->pos_us = leg->units[u].time_us;
			continue;
		}
		if (seek_state(r, (size_t)r->pos_leg, u + 1, err, errlen) < 0)
			return -1;
		r->pos_next = u + 1;
		if (leg->units[u].time_us > r->pos_us)
			r->pos_us = leg->units[u].time_us;
		if (fetch_frame(r, !r->pos_picture, &full, &nrects, err, errlen) < 0)
			return -1;
		if (!r->pos_picture || full) {
			picture(r, r->pos_us, r->pos_leg, f, 1, 0);
			return 1;
		}
		if (nrects == 0)
			continue;
		picture(r, r->pos_us, r->pos_leg, f, 0, nrects);
		return 1;
	}
}

int replay_probe_sandbox(struct replay *r, int *blocked, char *how, size_t howlen, char *err, size_t errlen)
{
	struct replay_cmd_hdr h = { REPLAY_CMD_PROBE, 0, 0, 0 };
	struct replay_reply_hdr rep;
	char why[256];

	*blocked = 0;
	child_lost(r);
	if (ensure_child(r, err, errlen) < 0)
		return -1;
	if (replay_child_send(&r->child, &h, NULL, 0, why, sizeof why) < 0 ||
	    replay_child_recv(&r->child, REPLAY_REPLY_PROBE, &rep, why, sizeof why) < 0) {
		if (r->child.last_signal == SIGSYS) {
			*blocked = 1;
			errbuf_set(how, howlen, "the decoder was killed by the seccomp filter (SIGSYS) when it "
			           "called socket(AF_INET)");
			child_lost(r);
			return 0;
		}
		child_lost(r);
		errbuf_set(err, errlen, "sandbox probe: %s", why);
		return -1;
	}
	*blocked = rep.flags == 0;
	if (*blocked)
		errbuf_set(how, howlen, "socket(AF_INET) was refused: %s", strerror((int)rep.b_errno));
	else
		errbuf_set(how, howlen, "socket(AF_INET) succeeded: the sandbox does not hold");
	child_lost(r);
	return 0;
}
