/*
 * The recording side of the relay core (see relay_internal.h): each live
 * session's recording file, the records its participants' streams produce,
 * and the recorder legs — one screen stream the relay itself reads as an
 * RFB client (recorder_leg.h) and one shell stream carrying the shared
 * PTY's output once.  Everything fails closed: a record that cannot be
 * written ends all participant time of the session, from the next turn of
 * the event loop (never inside a filter or splice callback), and the
 * participants' filters refuse to pass a byte meanwhile.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "fsync_pool.h"
#include "log.h"
#include "recorder_leg.h"
#include "relay_internal.h"
#include "session_record.h"
#include "shell_filter.h"
#include "shell_frame.h"
#include "splice.h"
#include "wire.h"
#include "xmalloc.h"

/* Bytes taken from a leg's input per feed (the framer never holds them). */
#define LEG_READ_CHUNK 16384

static void record_broken(struct live_session *ls, const char *why)
{
	if (ls->record_failed)
		return;
	ls->record_failed = 1;
	snprintf(ls->record_why, sizeof ls->record_why, "%s", why);
	log_error("event=recording_broken session=%s reason=\"%s\"", ls->id, why);
	event_active(ls->record_fail, EV_TIMEOUT, 0);
}

int record_ok(const struct live_session *ls)
{
	return ls->record != NULL && !ls->record_failed;
}

void record_event(struct live_session *ls, const char *verb, ...)
{
	char line[WIRE_MAX_LINE + 2];
	va_list ap;
	int len;

	if (!record_ok(ls))
		return; /* no recording, so no participant time either */
	va_start(ap, verb);
	len = wire_vformat(line, sizeof line, verb, ap);
	va_end(ap);
	if (len < 0) {
		record_broken(ls, "an event did not fit a line");
		return;
	}
	record_data(ls, RECORDING_EVENT, 0, NULL, 0, line, (size_t)len - 1);
}

void record_data(struct live_session *ls, enum recording_type type, int stream,
                 const char *participant, int dropped, const void *data, size_t len)
{
	if (ls->record_failed)
		return;
	if (ls->record == NULL) {
		record_broken(ls, "no recording is open");
		return;
	}
	if (session_record_data(ls->record, type, (uint16_t)stream, participant, dropped, data, len) < 0)
		record_broken(ls, session_record_error(ls->record));
}

void record_participant_joined(struct participant *p, const char *rights)
{
	struct live_session *ls = p->session;
	char idtext[16];

	snprintf(idtext, sizeof idtext, "%d", p->id);
	record_event(ls, "JOIN", "participant", idtext, "user", p->user, "role", p->role, "kind",
	             p->shell ? "shell" : "screen", "rights", rights, (char *)NULL);
	if (record_ok(ls) && session_record_participant(ls->record, p->user) < 0)
		record_broken(ls, session_record_error(ls->record));
}

/* ---- recorder legs ------------------------------------------------------ */

static int needs_leg(const struct participant *p)
{
#ifdef CONCIERGE_BENCH_UNRECORDED
	/* BENCH ONLY, never installed nor the default (`make bench-relay-unrecorded`
	 * builds build/bench/concierge-relay-unrecorded): no recorder leg, so
	 * tests/bench/bench_recording_cost.sh can measure what the legs cost.
	 * Events and input are still recorded; screen and PTY output are not. */
	(void)p;
	return 0;
#else
	return !p->shell || p->tty; /* a pipe-mode shell is recorded on its own stream */
#endif
}

static struct record_leg **leg_slot(struct live_session *ls, int shell)
{
	return shell ? &ls->shell_leg : &ls->screen_leg;
}

static void leg_stop(struct record_leg *leg, const char *reason)
{
	struct live_session *ls = leg->session;
	char line[WIRE_MAX_LINE + 2], idtext[16];
	int n;

	snprintf(idtext, sizeof idtext, "%d", leg->id);
	if (leg->ready)
		record_event(ls, "RECORDER", "kind", leg->shell ? "shell" : "screen", "stream", idtext, "state",
		             "stop", "reason", reason, (char *)NULL);
	n = wire_format(line, sizeof line, "LEAVE", "id", idtext, "user", "recorder", "reason", reason,
	                (char *)NULL);
	core_send_line(ls->control, line, n);
	log_info("event=recorder_stopped session=%s kind=%s stream=%d reason=\"%s\"", ls->id,
	         leg->shell ? "shell" : "screen", leg->id, reason);
	*leg_slot(ls, leg->shell) = NULL;
	if (leg->bev)
		bufferevent_free(leg->bev);
	recorder_leg_free(leg->rfb);
	shell_filter_free(leg->frames);
	event_free(leg->timer);
	free(leg);
}

/* Participants of the leg's kind cannot go on unrecorded: cut them. */
static void leg_fail(struct record_leg *leg, const char *why)
{
	struct live_session *ls = leg->session;
	int shell = leg->shell;
	char notice[384];

	snprintf(notice, sizeof notice, "The relay could not record the %s (%.200s), so the session "
	         "cannot go on for you.", shell ? "shell" : "screen", why);
	log_warn("event=recorder_failed session=%s stream=%d reason=\"%s\"", ls->id, leg->id, why);
	leg_stop(leg, why);
	for (struct participant *p = ls->participants, *next; p; p = next) {
		next = p->next;
		if (p->shell == shell && needs_leg(p) && p->state != P_ASKING) {
			participant_notify(p, notice);
			participant_end(p, "recording failed", notice);
		}
	}
}

/* The leg records: let in the participants who waited for it. */
static void leg_ready(struct record_leg *leg)
{
	struct live_session *ls = leg->session;
	char idtext[16], wtext[16], htext[16];

	leg->announced = 1;
	snprintf(idtext, sizeof idtext, "%d", leg->id);
	if (leg->rfb) {
		uint32_t w, h;
		recorder_leg_size(leg->rfb, &w, &h);
		snprintf(wtext, sizeof wtext, "%u", w);
		snprintf(htext, sizeof htext, "%u", h);
		record_event(ls, "RECORDER", "kind", "screen", "stream", idtext, "state", "start", "width",
		             wtext, "height", htext, (char *)NULL);
	} else {
		record_event(ls, "RECORDER", "kind", "shell", "stream", idtext, "state", "start", (char *)NULL);
	}
	log_info("event=recorder_started session=%s kind=%s stream=%d", ls->id,
	         leg->shell ? "shell" : "screen", leg->id);
	for (struct participant *p = ls->participants; p; p = p->next)
		if (p->state == P_AWAIT_RECORDER && p->shell == leg->shell && needs_leg(p) && record_ok(ls))
			participant_splice(p);
}

static void leg_send(void *ctx, const uint8_t *data, size_t len)
{
	bufferevent_write(((struct record_leg *)ctx)->bev, data, len);
}

static void leg_rfb_bytes(void *ctx, const uint8_t *data, size_t len)
{
	struct record_leg *leg = ctx;

	record_data(leg->session, RECORDING_RFB_SERVER_BYTES, leg->id, NULL, 0, data, len);
}

static void leg_rfb_unit(void *ctx, const struct rfb_frame_info *info)
{
	if (info->type == RFB_FRAME_HANDSHAKE)
		((struct record_leg *)ctx)->ready = 1;
}

static void leg_discard(void *ctx, const uint8_t *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
}

static void leg_shell_frame(void *ctx, const struct shell_frame *frame, int forwarded)
{
	struct record_leg *leg = ctx;

	(void)forwarded;
	if (frame->type == SHELL_DATA)
		record_data(leg->session, RECORDING_SHELL_OUTPUT, leg->id, NULL, 0, frame->payload, frame->len);
	else if (frame->type == SHELL_EXIT)
		leg->exited = 1;
}

static void on_leg_read(struct bufferevent *bev, void *arg)
{
	struct record_leg *leg = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t chunk[LEG_READ_CHUNK];
	int n;

	if (leg->draining)
		event_base_gettimeofday_cached(leg->session->core->base, &leg->last_data);
	while (!leg->session->record_failed && (n = evbuffer_remove(in, chunk, sizeof chunk)) > 0) {
		int rc = leg->rfb ? recorder_leg_feed(leg->rfb, chunk, (size_t)n)
		                  : shell_filter_feed(leg->frames, chunk, (size_t)n);
		if (rc < 0) {
			leg_fail(leg, leg->rfb ? recorder_leg_error(leg->rfb) : "malformed shell frames");
			return;
		}
	}
	if (leg->ready && !leg->announced)
		leg_ready(leg);
}

static void on_leg_event(struct bufferevent *bev, short what, void *arg)
{
	struct record_leg *leg = arg;

	(void)bev;
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	if (leg->draining)
		leg_stop(leg, "no participant left");
	else if (leg->exited)
		leg_stop(leg, "the shell ended"); /* its participants get the exit status themselves */
	else
		leg_fail(leg, "the end user's agent closed the recorder stream");
}

static long ms_between(const struct timeval *from, const struct timeval *to)
{
	return (long)(to->tv_sec - from->tv_sec) * 1000 + (long)(to->tv_usec - from->tv_usec) / 1000;
}

static void on_leg_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct record_leg *leg = arg;
	struct timeval now, again = { 0, RECORD_LEG_DRAIN_IDLE_MS * 1000 };

	(void)fd;
	(void)what;
	if (!leg->draining) {
		leg_fail(leg, "the end user's agent did not open the recorder stream in time");
		return;
	}
	event_base_gettimeofday_cached(leg->session->core->base, &now);
	if (ms_between(&leg->last_data, &now) >= RECORD_LEG_DRAIN_IDLE_MS ||
	    ms_between(&leg->drain_started, &now) >= RECORD_LEG_DRAIN_MAX_MS)
		leg_stop(leg, "no participant left");
	else
		evtimer_add(leg->timer, &again);
}

/* The last participant of the leg's kind left: what they saw last may still
 * be on its way on the leg, so keep recording until the agent pauses. */
static void leg_drain(struct record_leg *leg)
{
	struct timeval idle = { 0, RECORD_LEG_DRAIN_IDLE_MS * 1000 };

	if (leg->bev == NULL || !leg->announced) {
		leg_stop(leg, "no participant left");
		return;
	}
	if (leg->draining)
		return;
	leg->draining = 1;
	event_base_gettimeofday_cached(leg->session->core->base, &leg->drain_started);
	leg->last_data = leg->drain_started;
	evtimer_add(leg->timer, &idle);
}

/* Someone of the leg's kind is back before the drain ended: keep the leg. */
static void leg_undrain(struct record_leg *leg)
{
	leg->draining = 0;
	evtimer_del(leg->timer);
}

void record_participant_allowed(struct participant *p)
{
	struct live_session *ls = p->session;
	struct record_leg **slot = leg_slot(ls, p->shell), *leg;
	int *count = p->shell ? &ls->shell_legs : &ls->screen_legs;
	struct timeval limit = { PREAUTH_TIMEOUT_S, 0 };

	if (*slot != NULL && (*slot)->draining && needs_leg(p))
		leg_undrain(*slot);
	if (!needs_leg(p) || *slot != NULL)
		return;
	if (*count >= RECORD_MAX_LEGS) {
		record_broken(ls, "too many recorder legs in one session");
		return;
	}
	leg = xcalloc(1, sizeof *leg);
	leg->session = ls;
	leg->shell = p->shell;
	leg->id = (p->shell ? RECORD_SHELL_LEG_BASE : RECORD_SCREEN_LEG_BASE) + ++*count;
	leg->timer = evtimer_new(ls->core->base, on_leg_timeout, leg);
	*slot = leg;
	/* The shell leg watches the same PTY at the participant's size. */
	core_send_open(ls, leg->id, leg->shell, leg->shell ? "shell_view" : "view", 1, p->cols, p->rows, 1,
	               leg->token_hash);
	evtimer_add(leg->timer, &limit);
}

int record_ready_for(const struct participant *p)
{
	struct record_leg *leg = p->shell ? p->session->shell_leg : p->session->screen_leg;

	if (!record_ok(p->session))
		return 0;
	return !needs_leg(p) || (leg != NULL && leg->announced);
}

int record_attach_leg(struct relay_core *core, struct bufferevent *bev, const char *digest)
{
	struct record_leg *leg = NULL;

	for (struct live_session *ls = core->sessions; ls && !leg; ls = ls->next) {
		if (ls->screen_leg && !ls->screen_leg->bev && secret_equal(ls->screen_leg->token_hash, digest))
			leg = ls->screen_leg;
		else if (ls->shell_leg && !ls->shell_leg->bev && secret_equal(ls->shell_leg->token_hash, digest))
			leg = ls->shell_leg;
	}
	if (leg == NULL)
		return 0;
	memset(leg->token_hash, 0, sizeof leg->token_hash); /* single use */
	evtimer_del(leg->timer);
	leg->bev = bev;
	bufferevent_setwatermark(bev, EV_READ, 0, SPLICE_HIGH_WATER);
	bufferevent_setcb(bev, on_leg_read, NULL, on_leg_event, leg);
	bufferevent_set_timeouts(bev, NULL, NULL);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	if (leg->shell) {
		struct shell_filter_callbacks cb = { leg_discard, leg_shell_frame, leg };
		leg->frames = shell_filter_new(SHELL_FROM_AGENT, 1, &cb);
		leg->ready = 1;
	} else {
		struct recorder_leg_callbacks cb = { leg_send, leg_rfb_bytes, leg_rfb_unit, leg };
		leg->rfb = recorder_leg_new(&cb);
	}
	on_leg_read(bev, leg); /* bytes that came with the STREAM line */
	return 1;
}

void record_participants_changed(struct live_session *ls)
{
	for (int shell = 0; shell <= 1; shell++) {
		struct record_leg *leg = *leg_slot(ls, shell);
		int needed = 0;
		if (leg == NULL)
			continue;
		for (struct participant *p = ls->participants; p; p = p->next)
			needed |= p->shell == shell && needs_leg(p) && p->state != P_ASKING;
		if (!needed)
			leg_drain(leg);
	}
}

/* ---- the recording file -------------------------------------------------- */

static void on_record_tick(evutil_socket_t fd, short what, void *arg)
{
	struct live_session *ls = arg;

	(void)fd;
	(void)what;
	if (record_ok(ls) && session_record_tick(ls->record) < 0)
		record_broken(ls, session_record_error(ls->record));
}

/* Fail closed, outside any stream callback: everyone out, with why. */
static void on_record_failed(evutil_socket_t fd, short what, void *arg)
{
	struct live_session *ls = arg;
	char notice[400], details[320];

	(void)fd;
	(void)what;
	snprintf(notice, sizeof notice, "The relay could not write this session's recording (%.200s), so "
	         "nobody may take part in it now; ask the relay's operator to fix the recordings folder.",
	         ls->record_why);
	snprintf(details, sizeof details, "reason=\"%.200s\"", ls->record_why);
	core_audit(ls->core, "relay", "session.recording_failed", ls, details);
	if (ls->screen_leg)
		leg_stop(ls->screen_leg, "recording failed");
	if (ls->shell_leg)
		leg_stop(ls->shell_leg, "recording failed");
	while (ls->participants) {
		participant_notify(ls->participants, notice);
		participant_end(ls->participants, "recording failed", notice);
	}
	if (ls->record) {
		session_record_close(ls->record, 1, ls->record_why);
		ls->record = NULL;
	}
	ls->record_failed = 0; /* a later join tries a new recording, refused if it fails too */
}

/* recording_params.defer_sync: the checkpoint's fsync goes to the pool. */
static int defer_checkpoint_sync(void *ctx, int fd)
{
	struct live_session *ls = ctx;

	return fsync_pool_submit(ls->core->fsync_pool, fd, ls->record_serial);
}

void record_sync_failed(uint64_t serial, int error_number, void *arg)
{
	struct relay_core *core = arg;
	char why[200];

	snprintf(why, sizeof why, "cannot sync the recording: %s", strerror(error_number));
	for (struct live_session *ls = core->sessions; ls; ls = ls->next) {
		if (ls->record && ls->record_serial == serial) {
			log_error("event=recording_sync_failed session=%s error=\"%s\"", ls->id, why);
			record_broken(ls, why);
			return;
		}
	}
	/* Closed meanwhile: its trailer was synced (and checked) by the close. */
	log_warn("event=recording_sync_failed session=closed error=\"%s\"", why);
}

int record_open(struct live_session *ls, char *err, size_t errlen)
{
	struct relay_core *core = ls->core;
	struct timeval second = { 1, 0 };

	if (ls->record)
		return 0;
	if (ls->record_tick == NULL) {
		ls->record_tick = event_new(core->base, -1, EV_PERSIST, on_record_tick, ls);
		ls->record_fail = event_new(core->base, -1, 0, on_record_failed, ls);
	}
	ls->record_serial = ++core->record_serials;
	ls->record = session_record_open(core->store, core->signing_key, core->cfg->recordings_dir,
	                                 ls->ticket, ls->id, ls->resumed, defer_checkpoint_sync, ls,
	                                 err, errlen);
	if (ls->record == NULL) {
		char details[320];
		snprintf(details, sizeof details, "reason=\"%.200s\"", err);
		core_audit(core, "relay", "recording.open_failed", ls, details);
		log_error("event=recording_open_failed session=%s error=\"%s\"", ls->id, err);
		return -1;
	}
	event_add(ls->record_tick, &second);
	return 0;
}

void record_close(struct live_session *ls, const char *reason)
{
	if (ls->screen_leg)
		leg_stop(ls->screen_leg, reason);
	if (ls->shell_leg)
		leg_stop(ls->shell_leg, reason);
	if (ls->record) {
		record_event(ls, "END", "reason", reason, (char *)NULL);
		session_record_close(ls->record, 0, NULL);
		ls->record = NULL;
	}
	if (ls->record_tick) {
		event_free(ls->record_tick);
		event_free(ls->record_fail);
		ls->record_tick = ls->record_fail = NULL;
	}
	ls->record_failed = 0;
}
