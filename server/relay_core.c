#include "relay_core.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "fsync_pool.h"
#include "log.h"
#include "peer_guard.h"
#include "recordings.h"
#include "reject_log.h"
#include "relay_internal.h"
#include "rfb_filter.h"
#include "secrets.h"
#include "shell_filter.h"
#include "sessions.h"
#include "splice.h"
#include "wire.h"
#include "xmalloc.h"

/* ---- helpers ---------------------------------------------------------- */

void core_send_line(struct bufferevent *bev, const char *line, int len)
{
	if (bev && len > 0)
		bufferevent_write(bev, line, (size_t)len);
}

/* Returns 0, or -1 when the row could not be written (callers granting
 * access then refuse: no decision without its record). */
int core_audit(struct relay_core *core, const char *actor, const char *action,
               const struct live_session *ls, const char *details)
{
	char object[SESSION_ID_LEN + 16], err[256];

	snprintf(object, sizeof object, "session:%s", ls ? ls->id : "-");
	struct audit_event ev = { actor, action, object, ls ? ls->ticket : NULL, details };
	if (audit_append(core->store, &ev, err, sizeof err) < 0) {
		log_error("event=audit_failed action=%s error=\"%s\"", action, err);
		return -1;
	}
	return 0;
}

#define NOT_RECORDED "The relay could not record this request in its audit log, so it is refused."

static void peer_address(const struct sockaddr *sa, char *out, size_t outlen)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host, sizeof host);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, host, sizeof host);
	snprintf(out, outlen, "%s", host);
}

/* An RFB 3.8 server greeting that offers no security type and says why:
 * every VNC viewer shows the reason to its user. */
static void refuse_rfb(struct bufferevent *bev, const char *reason)
{
	uint8_t header[12 + 1 + 4];
	size_t len = strlen(reason);

	memcpy(header, "RFB 003.008\n", 12);
	header[12] = 0;
	header[13] = (uint8_t)(len >> 24);
	header[14] = (uint8_t)(len >> 16);
	header[15] = (uint8_t)(len >> 8);
	header[16] = (uint8_t)len;
	bufferevent_write(bev, header, sizeof header);
	bufferevent_write(bev, reason, len);
	bev_close_after_flush(bev);
}

/* A shell participant is told why in a NOTICE, then exits with status 1. */
static size_t shell_goodbye(uint8_t *out, const char *reason);

static void refuse_shell(struct bufferevent *bev, const char *reason)
{
	uint8_t goodbye[2 * SHELL_FRAME_HEADER + SHELL_FRAME_MAX + 4];

	bufferevent_write(bev, goodbye, shell_goodbye(goodbye, reason));
	bev_close_after_flush(bev);
}

static void refuse(struct bufferevent *bev, int shell, const char *reason)
{
	if (shell)
		refuse_shell(bev, reason);
	else
		refuse_rfb(bev, reason);
}

static const char *rights_name(int shell, int input)
{
	if (shell)
		return input ? "shell" : "shell_view";
	return input ? "control" : "view";
}

/* ---- hostile peers: refusals logged (limited) and counted per source ---- */

/* A pre-auth failure of `source`: one log line (limited per source and
 * reason) and a count towards refusing the address at accept. */
static void reject_peer(struct relay_core *core, const char *source, const char *reason,
                        const char *detail)
{
	time_t now = peer_guard_clock();

	reject_log_line(core->rejects, now, "agent_refused", source, reason, detail);
	peer_guard_failure(core->guard, source, now);
}

static void on_rejects_flush(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	reject_log_flush(((struct relay_core *)arg)->rejects, peer_guard_clock());
}

/* ---- participants ------------------------------------------------------ */

static struct live_session *find_session(struct relay_core *core, const char *id)
{
	for (struct live_session *ls = core->sessions; ls; ls = ls->next)
		if (strcmp(ls->id, id) == 0)
			return ls;
	return NULL;
}

static void unlink_participant(struct participant *p)
{
	struct participant **pp = &p->session->participants;

	while (*pp && *pp != p)
		pp = &(*pp)->next;
	if (*pp)
		*pp = p->next;
}

/* A shell participant's goodbye: a NOTICE saying why, then exit status 1. */
static size_t shell_goodbye(uint8_t *out, const char *reason)
{
	size_t len = strlen(reason), n;

	if (len > SHELL_FRAME_MAX)
		len = SHELL_FRAME_MAX;
	n = shell_frame_write(out, SHELL_NOTICE, reason, len);
	return n + shell_frame_exit(out + n, 1);
}

void participant_notify(struct participant *p, const char *why)
{
	size_t len = strlen(why);

	if (p->notice_fd < 0 || p->state != P_LIVE)
		return; /* one not yet spliced is told in the RFB handshake */
	/* A fresh socket with room for it: this write does not block. */
	if (write(p->notice_fd, why, len > FORWARD_NOTICE_MAX ? FORWARD_NOTICE_MAX : len) < 0)
		log_warn("event=notice_failed user=%s error=\"%s\"", p->user, strerror(errno));
	close(p->notice_fd);
	p->notice_fd = -1;
}

void participant_end(struct participant *p, const char *reason, const char *refusal)
{
	struct live_session *ls = p->session;
	struct relay_core *core = ls->core;
	char line[WIRE_MAX_LINE + 2], idtext[16], err[256];
	int n;

	snprintf(idtext, sizeof idtext, "%d", p->id);
	if (p->timer)
		event_free(p->timer);
	if (p->splice) {
		char details[256];
		if (p->shell) {
			uint64_t frames, bytes;
			shell_filter_dropped(p->shell_in, &frames, &bytes);
			snprintf(details, sizeof details, "participant=%s kind=shell reason=\"%.80s\" "
			         "dropped_input_frames=%llu dropped_input_bytes=%llu", p->user, reason,
			         (unsigned long long)frames, (unsigned long long)bytes);
		} else {
			struct rfb_filter_stats st;
			rfb_filter_get_stats(p->filter, &st);
			snprintf(details, sizeof details, "participant=%s reason=\"%.80s\" dropped_key=%llu "
			         "dropped_pointer=%llu dropped_cut_text=%llu", p->user, reason,
			         (unsigned long long)st.dropped_key, (unsigned long long)st.dropped_pointer,
			         (unsigned long long)st.dropped_cut_text);
		}
		core_audit(core, "relay", "stream.close", ls, details);
		if (refusal && p->shell) {
			uint8_t goodbye[2 * SHELL_FRAME_HEADER + SHELL_FRAME_MAX + 4];
			splice_free_with_goodbye(p->splice, goodbye, shell_goodbye(goodbye, refusal));
		} else {
			splice_free(p->splice);
		}
		record_event(ls, "LEAVE", "participant", idtext, "user", p->user, "reason", reason, (char *)NULL);
	} else if (p->ssh_bev) {
		if (p->stream_bev)
			bufferevent_free(p->stream_bev); /* waited for the recorder */
		if (refusal)
			refuse(p->ssh_bev, p->shell, refusal);
		else
			bufferevent_free(p->ssh_bev);
	}
	if (p->notice_fd >= 0)
		close(p->notice_fd);
	if (p->filter)
		rfb_filter_free(p->filter);
	shell_filter_free(p->shell_in);
	shell_filter_free(p->shell_out);
	if (p->db_id > 0 && participants_leave(core->store, p->db_id, reason, err, sizeof err) < 0)
		log_error("event=participant_leave_failed error=\"%s\"", err);
	n = wire_format(line, sizeof line, "LEAVE", "id", idtext, "user", p->user, "reason", reason,
	                (char *)NULL);
	core_send_line(ls->control, line, n);
	log_info("event=participant_left session=%s user=%s reason=\"%s\"", ls->id, p->user, reason);
	unlink_participant(p);
	free(p);
	record_participants_changed(ls);
}

static void cut_all_participants(struct live_session *ls, const char *reason)
{
	while (ls->participants)
		participant_end(ls->participants, reason, reason);
}

static void on_participant_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct participant *p = arg;
	char details[128];

	(void)fd;
	(void)what;
	if (p->state == P_AWAIT_RECORDER) {
		snprintf(details, sizeof details, "participant=%s reason=recorder_not_ready", p->user);
		core_audit(p->session->core, "relay", "participant.deny", p->session, details);
		participant_end(p, "recorder timeout", "The relay could not start recording this session in "
		                "time, so you cannot join; try again.");
		return;
	}
	snprintf(details, sizeof details, "participant=%s reason=%s", p->user,
	         p->state == P_ASKING ? "no_answer" : "stream_not_opened");
	core_audit(p->session->core, "relay", "consent.deny", p->session, details);
	participant_end(p, p->state == P_ASKING ? "no answer" : "stream timeout",
	                p->state == P_ASKING
	                    ? "The end user did not answer within 60 seconds; ask them and try again."
	                    : "The end user's machine did not open the screen stream in time.");
}

/* The participant's side closed before the stream was spliced. */
static void on_waiting_ssh_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		participant_end(arg, "participant left before the stream opened", NULL);
}

static void on_waiting_ssh_read(struct bufferevent *bev, void *arg)
{
	(void)arg;
	/* Bytes before the splice wait in the input buffer (watermarked). */
	if (evbuffer_get_length(bufferevent_get_input(bev)) >= WIRE_MAX_LINE)
		bufferevent_disable(bev, EV_READ);
}

static void filter_emit(void *ctx, const uint8_t *data, size_t len)
{
	struct participant *p = ctx;

	bufferevent_write(p->stream_bev, data, len);
}

/* Every key, pointer and clipboard message, forwarded or not, attributed. */
static void filter_input(void *ctx, enum rfb_input_kind kind, int forwarded, const uint8_t *msg,
                         size_t len)
{
	struct participant *p = ctx;
	enum recording_type type = kind == RFB_INPUT_KEY       ? RECORDING_INPUT_KEY
	                           : kind == RFB_INPUT_POINTER ? RECORDING_INPUT_POINTER
	                                                       : RECORDING_INPUT_CUT_TEXT;

	record_data(p->session, type, p->id, p->user, !forwarded, msg, len);
}

/* Participant time exists only while it is recorded: once the recording
 * failed, nothing more passes in either direction. */
static int filter_feed(void *ctx, const uint8_t *data, size_t len)
{
	struct participant *p = ctx;

	if (!record_ok(p->session))
		return -1;
	if (rfb_filter_feed(p->filter, data, len) < 0) {
		log_warn("event=rfb_violation session=%s user=%s reason=\"%s\"", p->session->id, p->user,
		         rfb_filter_error(p->filter));
		return -1;
	}
	return record_ok(p->session) ? 0 : -1;
}

static int screen_feed_out(void *ctx, const uint8_t *data, size_t len)
{
	struct participant *p = ctx;

	if (!record_ok(p->session))
		return -1;
	bufferevent_write(p->ssh_side, data, len);
	return 0;
}

static void shell_emit_to_agent(void *ctx, const uint8_t *data, size_t len)
{
	bufferevent_write(((struct participant *)ctx)->stream_bev, data, len);
}

static void shell_emit_to_participant(void *ctx, const uint8_t *data, size_t len)
{
	bufferevent_write(((struct participant *)ctx)->ssh_side, data, len);
}

/* Resizes and exit statuses are steps of the session: audit them. */
static void shell_frame_audit(struct participant *p, const struct shell_frame *frame, int forwarded)
{
	char details[128];
	unsigned cols, rows;
	int status;

	if (frame->type == SHELL_RESIZE && forwarded && shell_frame_get_resize(frame, &cols, &rows) == 0) {
		snprintf(details, sizeof details, "participant=%s cols=%u rows=%u", p->user, cols, rows);
		core_audit(p->session->core, "ssh:shell", "shell.resize", p->session, details);
	} else if (frame->type == SHELL_EXIT && shell_frame_get_exit(frame, &status) == 0) {
		snprintf(details, sizeof details, "participant=%s status=%d", p->user, status);
		core_audit(p->session->core, "enduser", "shell.exit", p->session, details);
	}
}

/* What the participant typed (dropped when they may only watch) and their
 * window size. */
static void shell_frame_in(void *ctx, const struct shell_frame *frame, int forwarded)
{
	struct participant *p = ctx;

	if (frame->type == SHELL_DATA)
		record_data(p->session, RECORDING_SHELL_INPUT, p->id, p->user, !forwarded, frame->payload,
		            frame->len);
	else if (frame->type == SHELL_RESIZE && forwarded)
		record_data(p->session, RECORDING_SHELL_RESIZE, p->id, p->user, 0, frame->payload, frame->len);
	shell_frame_audit(p, frame, forwarded);
}

/* A pipe-mode shell is the participant's own process: its output is
 * recorded on their stream (the shared PTY's comes from the shell leg). */
static void shell_frame_out(void *ctx, const struct shell_frame *frame, int forwarded)
{
	struct participant *p = ctx;

	if (frame->type == SHELL_DATA && !p->tty)
		record_data(p->session, RECORDING_SHELL_OUTPUT, p->id, p->user, 0, frame->payload, frame->len);
	shell_frame_audit(p, frame, forwarded);
}

static int shell_feed_in(void *ctx, const uint8_t *data, size_t len)
{
	struct participant *p = ctx;

	if (!record_ok(p->session) || shell_filter_feed(p->shell_in, data, len) < 0)
		return -1;
	return record_ok(p->session) ? 0 : -1;
}

static int shell_feed_out(void *ctx, const uint8_t *data, size_t len)
{
	struct participant *p = ctx;

	if (!record_ok(p->session) || shell_filter_feed(p->shell_out, data, len) < 0)
		return -1;
	return record_ok(p->session) ? 0 : -1;
}

static void on_splice_closed(void *ctx, const char *why)
{
	/* participant_end frees the splice: its report has run. */
	participant_end(ctx, why, NULL);
}

void participant_splice(struct participant *p)
{
	struct live_session *ls = p->session;

	if (p->timer)
		evtimer_del(p->timer);
	p->state = P_LIVE;
	record_participant_joined(p, rights_name(p->shell, p->granted_control));
	bufferevent_setcb(p->ssh_bev, NULL, NULL, NULL, NULL);
	p->ssh_side = p->ssh_bev;
	if (p->shell)
		p->splice = splice_new(p->ssh_bev, p->stream_bev, shell_feed_in, shell_feed_out, p,
		                       on_splice_closed, p);
	else
		p->splice = splice_new(p->ssh_bev, p->stream_bev, filter_feed, screen_feed_out, p,
		                       on_splice_closed, p);
	p->ssh_bev = NULL;
	log_info("event=participant_joined session=%s ticket=%s user=%s rights=%s", ls->id, ls->ticket,
	         p->user, rights_name(p->shell, p->granted_control));
}

/* STREAM token=... arrived on `bev`: find who it belongs to and splice. */
static void attach_stream(struct relay_core *core, struct bufferevent *bev, const char *token,
                          const char *source)
{
	char digest[SHA256_HEX_LEN], details[192], err[256];
	struct participant *p = NULL;

	secret_sha256_hex(token, strlen(token), digest);
	if (record_attach_leg(core, bev, digest))
		return;
	for (struct live_session *ls = core->sessions; ls && !p; ls = ls->next)
		for (struct participant *q = ls->participants; q; q = q->next)
			if (q->state == P_AWAIT_STREAM && secret_equal(q->token_hash, digest)) {
				p = q;
				break;
			}
	if (p == NULL) {
		snprintf(details, sizeof details, "reason=unknown_stream_token source=%s", source);
		core_audit(core, "relay", "stream.deny", NULL, details);
		reject_peer(core, source, "unknown_stream_token", NULL);
		bufferevent_free(bev);
		return;
	}
	memset(p->token_hash, 0, sizeof p->token_hash); /* single use */
	evtimer_del(p->timer);
	p->stream_bev = bev;
	if (p->shell) {
		struct shell_filter_callbacks in = { shell_emit_to_agent, shell_frame_in, p };
		struct shell_filter_callbacks out = { shell_emit_to_participant, shell_frame_out, p };
		p->shell_in = shell_filter_new(SHELL_FROM_PARTICIPANT, p->granted_control, &in);
		p->shell_out = shell_filter_new(SHELL_FROM_AGENT, 1, &out);
	} else {
		struct rfb_filter_callbacks cb = { filter_emit, filter_input, p };
		p->filter = rfb_filter_new(p->granted_control, &cb);
	}
	p->db_id = participants_join(core->store, p->session->id, p->session->ticket, p->user,
	                             rights_name(p->shell, p->granted_control), err, sizeof err);
	if (p->db_id < 0) {
		/* Fail closed: no participant time without its record. */
		log_error("event=participant_record_failed error=\"%s\"", err);
		participant_end(p, "could not record the participant", "The relay could not record this "
		                "participant, so the request is refused.");
		return;
	}
	p->state = P_AWAIT_RECORDER;
	if (record_ready_for(p)) {
		participant_splice(p);
	} else {
		struct timeval limit = { PREAUTH_TIMEOUT_S, 0 };
		bufferevent_disable(bev, EV_READ);
		evtimer_add(p->timer, &limit);
	}
}

void core_send_open(struct live_session *ls, int id, int shell, const char *rights, int tty,
                    unsigned cols, unsigned rows, int recorder, char token_hash[SHA256_HEX_LEN])
{
	char token[STREAM_TOKEN_HEX + 1], line[WIRE_MAX_LINE + 2], idtext[16], coltext[8], rowtext[8];
	int n;

	secret_random_hex(token, STREAM_TOKEN_HEX / 2);
	secret_sha256_hex(token, strlen(token), token_hash);
	snprintf(idtext, sizeof idtext, "%d", id);
	snprintf(coltext, sizeof coltext, "%u", cols);
	snprintf(rowtext, sizeof rowtext, "%u", rows);
	n = wire_format(line, sizeof line, "OPEN", "id", idtext, "token", token, "rights", rights, "kind",
	                shell ? "shell" : "screen", "tty", tty ? "1" : "0", "cols", coltext, "rows", rowtext,
	                "recorder", recorder ? "1" : "0", (char *)NULL);
	core_send_line(ls->control, line, n);
	OPENSSL_cleanse(token, sizeof token);
	OPENSSL_cleanse(line, sizeof line);
}

/* CONSENT id=N view=yes|no control=yes|no [reason=...] from the agent. */
static void handle_consent(struct live_session *ls, const struct wire_msg *msg)
{
	const char *id = wire_get(msg, "id"), *view = wire_get(msg, "view");
	const char *control = wire_get(msg, "control"), *why = wire_get(msg, "reason");
	const char *auto_answer = wire_get(msg, "auto");
	char details[256], idtext[16];
	struct participant *p;

	for (p = ls->participants; p; p = p->next)
		if (id && p->state == P_ASKING && atoi(id) == p->id)
			break;
	if (p == NULL)
		return; /* late answer for someone already gone */
	if (view == NULL || strcmp(view, "yes") != 0) {
		const char *refusal = p->shell ? "The end user declined to open a shell for you."
		                               : "The end user declined to share their screen with you.";
		if (why && strcmp(why, "timeout") == 0)
			refusal = "The end user did not answer within 60 seconds; ask them and try again.";
		else if (why && strcmp(why, "no_shell") == 0)
			refusal = "The end user's agent does not offer a shell (it runs with --no-shell).";
		snprintf(details, sizeof details, "participant=%s asked=%s reason=%s", p->user,
		         rights_name(p->shell, p->want_control), why ? why : "declined");
		core_audit(ls->core, "enduser", "consent.deny", ls, details);
		snprintf(idtext, sizeof idtext, "%d", p->id);
		record_event(ls, "CONSENT", "participant", idtext, "user", p->user, "asked",
		             rights_name(p->shell, p->want_control), "granted", "none", "answer",
		             why ? why : "declined", "auto", auto_answer ? auto_answer : "0", (char *)NULL);
		participant_end(p, "end user declined", refusal);
		return;
	}
	p->granted_control = p->want_control && control && strcmp(control, "yes") == 0;
	snprintf(details, sizeof details, "participant=%s asked=%s granted=%s auto=%s", p->user,
	         rights_name(p->shell, p->want_control), rights_name(p->shell, p->granted_control),
	         auto_answer ? auto_answer : "0");
	if (core_audit(ls->core, "enduser", "consent.allow", ls, details) < 0) {
		participant_end(p, "audit log unavailable", NOT_RECORDED);
		return;
	}
	snprintf(idtext, sizeof idtext, "%d", p->id);
	record_event(ls, "CONSENT", "participant", idtext, "user", p->user, "asked",
	             rights_name(p->shell, p->want_control), "granted",
	             rights_name(p->shell, p->granted_control), "answer", "allowed", "auto",
	             auto_answer ? auto_answer : "0", (char *)NULL);
	p->state = P_AWAIT_STREAM;
	record_participant_allowed(p);
	core_send_open(ls, p->id, p->shell, rights_name(p->shell, p->granted_control), p->tty, p->cols,
	               p->rows, 0, p->token_hash);
	struct timeval limit = { PREAUTH_TIMEOUT_S, 0 };
	evtimer_add(p->timer, &limit);
}

static void start_join(struct relay_core *core, struct join_request *req)
{
	struct live_session *ls = NULL;
	struct bufferevent *bev;
	char details[256], line[WIRE_MAX_LINE + 2], idtext[16], reason[320], err[256];
	struct participant *p;
	int matches = 0, count = 0, n;

	bev = bufferevent_socket_new(core->base, req->fd, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL) {
		close(req->fd);
		if (req->notice_fd >= 0)
			close(req->notice_fd);
		return;
	}
	for (struct live_session *s = core->sessions; s; s = s->next)
		if (strcmp(s->id, req->session_ref) == 0 || strcmp(s->ticket, req->session_ref) == 0) {
			ls = s;
			matches++;
		}
	reason[0] = '\0';
	if (core->shutting_down)
		snprintf(reason, sizeof reason, "The relay is shutting down.");
	else if (strcmp(req->role, "desk") != 0)
		snprintf(reason, sizeof reason, "Only desk agents may join sessions; your role is %s.",
		         req->role);
	else if (matches == 0)
		snprintf(reason, sizeof reason, "No live session %.64s: check the id with 'sessions', and "
		         "that the end user's agent is connected.", req->session_ref);
	else if (matches > 1)
		snprintf(reason, sizeof reason, "Ticket %.64s has several live sessions: use the session id.",
		         req->session_ref);
	else if (ls->control == NULL)
		snprintf(reason, sizeof reason, "The end user's agent is reconnecting; try again shortly.");
	if (!reason[0]) {
		for (p = ls->participants; p; p = p->next)
			count++;
		if (count >= MAX_PARTICIPANTS)
			snprintf(reason, sizeof reason, "The session already has %d participants.", count);
		else if (ls->next_participant_id >= RECORD_MAX_PARTICIPANT_ID)
			snprintf(reason, sizeof reason, "The session has had %d joins; open a new session.",
			         ls->next_participant_id);
		else if (ls->record_failed)
			snprintf(reason, sizeof reason, "The session's recording failed (%.100s); it cannot go on.",
			         ls->record_why);
	}
	if (!reason[0] && record_open(ls, err, sizeof err) < 0)
		snprintf(reason, sizeof reason, "The relay cannot record this session (%.120s), so nobody "
		         "can join it: ask the relay's operator to fix the recordings folder.", err);
	if (reason[0]) {
		snprintf(details, sizeof details, "user=%s source=%s asked=%s reason=\"%.120s\"", req->user,
		         req->source, rights_name(req->shell, req->want_control), reason);
		core_audit(core, "relay", "participant.deny", matches == 1 ? ls : NULL, details);
		log_info("event=join_refused user=%s ref=%s reason=\"%s\"", req->user, req->session_ref, reason);
		refuse(bev, req->shell, reason);
		if (req->notice_fd >= 0)
			close(req->notice_fd);
		return;
	}
	p = xcalloc(1, sizeof *p);
	p->session = ls;
	p->id = ++ls->next_participant_id;
	snprintf(p->user, sizeof p->user, "%s", req->user);
	snprintf(p->role, sizeof p->role, "%s", req->role);
	snprintf(p->source, sizeof p->source, "%s", req->source);
	p->want_control = req->want_control;
	p->shell = req->shell;
	p->tty = req->tty;
	p->cols = req->cols;
	p->rows = req->rows;
	p->state = P_ASKING;
	p->ssh_bev = bev;
	p->notice_fd = req->notice_fd;
	p->timer = evtimer_new(core->base, on_participant_timeout, p);
	p->next = ls->participants;
	ls->participants = p;
	bufferevent_setwatermark(bev, EV_READ, 0, WIRE_MAX_LINE);
	bufferevent_setcb(bev, on_waiting_ssh_read, NULL, on_waiting_ssh_event, p);
	bufferevent_enable(bev, EV_READ);
	snprintf(details, sizeof details, "user=%s source=%s asked=%s", req->user, req->source,
	         rights_name(req->shell, req->want_control));
	if (core_audit(core, "relay", "consent.ask", ls, details) < 0) {
		participant_end(p, "audit log unavailable", NOT_RECORDED);
		return;
	}
	snprintf(idtext, sizeof idtext, "%d", p->id);
	record_event(ls, "ASK", "participant", idtext, "user", p->user, "role", p->role, "asked",
	             rights_name(p->shell, p->want_control), (char *)NULL);
	snprintf(idtext, sizeof idtext, "%d", p->id);
	n = wire_format(line, sizeof line, "JOIN", "id", idtext, "user", p->user, "role", p->role,
	                "ticket", ls->ticket, "right", rights_name(p->shell, p->want_control), (char *)NULL);
	core_send_line(ls->control, line, n);
	struct timeval limit = { CONSENT_TIMEOUT_S + 5, 0 };
	evtimer_add(p->timer, &limit);
}

/* ---- sessions ---------------------------------------------------------- */

static void session_free(struct live_session *ls)
{
	struct live_session **pp = &ls->core->sessions;

	cut_all_participants(ls, "session ended");
	record_close(ls, "session ended");
	while (*pp && *pp != ls)
		pp = &(*pp)->next;
	if (*pp)
		*pp = ls->next;
	if (ls->grace_timer)
		event_free(ls->grace_timer);
	if (ls->ping_timer)
		event_free(ls->ping_timer);
	if (ls->control)
		bev_close_after_flush(ls->control);
	free(ls);
}

/* Ends a live session: participants cut, agent told, database updated. */
static void session_end(struct live_session *ls, const char *actor, const char *reason)
{
	char line[WIRE_MAX_LINE + 2], err[256];
	int n;

	cut_all_participants(ls, reason);
	record_close(ls, reason);
	n = wire_format(line, sizeof line, "END", "reason", reason, (char *)NULL);
	core_send_line(ls->control, line, n);
	if (sessions_end(ls->core->store, actor, ls->id, reason, err, sizeof err) < 0)
		log_error("event=session_end_failed session=%s error=\"%s\"", ls->id, err);
	log_info("event=session_ended session=%s ticket=%s reason=\"%s\"", ls->id, ls->ticket, reason);
	session_free(ls);
}

static void on_grace_expired(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	session_end(arg, "relay", "the end user's agent did not reconnect");
}

/* The agent's control link went away without BYE: keep the session
 * resumable for RESUME_GRACE_S. */
static void session_detach(struct live_session *ls, const char *why)
{
	struct timeval grace = { RESUME_GRACE_S, 0 };
	char details[192];

	log_info("event=agent_lost session=%s reason=\"%s\"", ls->id, why);
	/* An agent that vanished (reset, crash) is a step of the session the
	 * audit log must show even when nobody was connected; its resume or the
	 * end after the grace period follow as their own rows. */
	snprintf(details, sizeof details, "reason=\"%.100s\" resumable_for_s=%d", why, RESUME_GRACE_S);
	core_audit(ls->core, "relay", "session.agent_lost", ls, details);
	cut_all_participants(ls, "the end user's connection was lost");
	if (ls->control) {
		bufferevent_free(ls->control);
		ls->control = NULL;
	}
	if (ls->ping_timer)
		event_del(ls->ping_timer);
	evtimer_add(ls->grace_timer, &grace);
}

static void on_ping(evutil_socket_t fd, short what, void *arg)
{
	struct live_session *ls = arg;
	char line[16];
	int n = wire_format(line, sizeof line, "PING", (char *)NULL);

	(void)fd;
	(void)what;
	core_send_line(ls->control, line, n);
}

static void on_control_read(struct bufferevent *bev, void *arg)
{
	struct live_session *ls = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct wire_msg msg;
	size_t n;
	char *line;

	while ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF)) != NULL) {
		int ok = wire_parse(line, n, &msg) == 0;
		free(line);
		if (!ok) {
			session_detach(ls, "malformed message from agent");
			return;
		}
		if (strcmp(msg.verb, "CONSENT") == 0) {
			handle_consent(ls, &msg);
		} else if (strcmp(msg.verb, "BYE") == 0) {
			const char *why = wire_get(&msg, "reason");
			session_end(ls, "enduser", why ? why : "ended by the end user");
			return;
		} else if (strcmp(msg.verb, "PONG") != 0) {
			session_detach(ls, "unexpected message from agent");
			return;
		}
	}
	if (evbuffer_get_length(in) > WIRE_MAX_LINE)
		session_detach(ls, "over-long message from agent");
}

static void on_control_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		session_detach(arg, (what & BEV_EVENT_TIMEOUT) ? "idle timeout" : "connection closed");
}

static struct live_session *session_new(struct relay_core *core, const struct session_claimed *c)
{
	struct live_session *ls = xcalloc(1, sizeof *ls);

	ls->core = core;
	snprintf(ls->id, sizeof ls->id, "%s", c->id);
	snprintf(ls->ticket, sizeof ls->ticket, "%s", c->ticket_id);
	snprintf(ls->created_by, sizeof ls->created_by, "%s", c->created_by);
	ls->grace_timer = evtimer_new(core->base, on_grace_expired, ls);
	ls->ping_timer = event_new(core->base, -1, EV_PERSIST, on_ping, ls);
	ls->next = core->sessions;
	core->sessions = ls;
	return ls;
}

static void session_attach(struct live_session *ls, struct bufferevent *bev)
{
	struct timeval idle = { CONTROL_IDLE_TIMEOUT_S, 0 }, ping = { CONTROL_PING_INTERVAL_S, 0 };

	evtimer_del(ls->grace_timer);
	ls->control = bev;
	bufferevent_setwatermark(bev, EV_READ, 0, WIRE_MAX_LINE * 4);
	bufferevent_setcb(bev, on_control_read, NULL, on_control_event, ls);
	bufferevent_set_timeouts(bev, &idle, NULL);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	event_add(ls->ping_timer, &ping);
}

/* ---- first line of an agent connection -------------------------------- */

static void pending_free(struct pending_conn *pc, int free_bev)
{
	if (pc->prev)
		pc->prev->next = pc->next;
	else
		pc->core->pending = pc->next;
	if (pc->next)
		pc->next->prev = pc->prev;
	if (free_bev)
		bufferevent_free(pc->bev);
	event_free(pc->deadline);
	peer_guard_release(pc->core->guard, pc->source);
	free(pc);
}

static void deny(struct bufferevent *bev, const char *reason)
{
	char line[WIRE_MAX_LINE + 2];
	int n = wire_format(line, sizeof line, "DENIED", "reason", reason, (char *)NULL);

	core_send_line(bev, line, n);
	bev_close_after_flush(bev);
}

static void handle_hello(struct relay_core *core, struct bufferevent *bev, const struct wire_msg *msg,
                         const char *source)
{
	const char *code = wire_get(msg, "code"), *host = wire_get(msg, "host");
	const char *screen = wire_get(msg, "screen"), *auto_accept = wire_get(msg, "auto");
	char err[256], details[128], line[WIRE_MAX_LINE + 2];
	struct session_claimed claimed;
	enum code_claim result;
	struct live_session *ls;
	int n, is_auto;

	if (peer_guard_penalised(core->wrong_codes, source, peer_guard_clock())) {
		snprintf(details, sizeof details, "reason=rate_limited source=%s", source);
		core_audit(core, "relay", "session.code_deny", NULL, details);
		reject_peer(core, source, "wrong_codes_rate_limited", NULL);
		deny(bev, "too many wrong codes from your network: wait a minute and try again");
		return;
	}
	/* Automatic consent exists only for the generated demo screen. */
	is_auto = auto_accept && strcmp(auto_accept, "1") == 0;
	if (is_auto && (screen == NULL || strcmp(screen, "demo") != 0)) {
		deny(bev, "automatic consent is only allowed with --screen demo");
		return;
	}
	result = sessions_claim_code(core->store, code ? code : "", source, host ? host : "?", is_auto,
	                             &claimed, err, sizeof err);
	if (result == CODE_ERROR)
		log_error("event=code_check_failed error=\"%s\"", err);
	if (result != CODE_OK) {
		if (result == CODE_WRONG || result == CODE_UNKNOWN || result == CODE_MALFORMED ||
		    result == CODE_BURNED) {
			peer_guard_failure(core->wrong_codes, source, peer_guard_clock());
			reject_peer(core, source, "wrong_code", NULL);
		}
		log_info("event=code_refused source=%s result=%d", source, (int)result);
		deny(bev, sessions_claim_message(result));
		return;
	}
	ls = session_new(core, &claimed);
	session_attach(ls, bev);
	n = wire_format(line, sizeof line, "WELCOME", "session", ls->id, "ticket", ls->ticket, "by",
	                ls->created_by, "resume", claimed.resume_token, (char *)NULL);
	core_send_line(bev, line, n);
	OPENSSL_cleanse(claimed.resume_token, sizeof claimed.resume_token);
	OPENSSL_cleanse(line, sizeof line);
	log_info("event=session_started session=%s ticket=%s source=%s auto_accept=%d", ls->id,
	         ls->ticket, source, is_auto);
}

static void handle_resume(struct relay_core *core, struct bufferevent *bev, const struct wire_msg *msg,
                          const char *source)
{
	const char *id = wire_get(msg, "session"), *token = wire_get(msg, "token");
	char err[256], line[WIRE_MAX_LINE + 2];
	struct session_claimed claimed;
	struct live_session *ls;
	int rc, n;

	if (id == NULL || token == NULL || strlen(id) != SESSION_ID_LEN) {
		deny(bev, "malformed resume request");
		return;
	}
	rc = sessions_resume(core->store, id, token, source, &claimed, err, sizeof err);
	if (rc <= 0) {
		deny(bev, rc < 0 ? "the relay could not check the session right now" : err);
		return;
	}
	ls = find_session(core, id);
	if (ls == NULL) {
		ls = session_new(core, &claimed);
		ls->resumed = 1;
	}
	else if (ls->control)
		session_detach(ls, "replaced by a resumed connection");
	session_attach(ls, bev);
	n = wire_format(line, sizeof line, "WELCOME", "session", ls->id, "ticket", ls->ticket, "by",
	                ls->created_by, (char *)NULL);
	core_send_line(bev, line, n);
	log_info("event=session_resumed session=%s source=%s", ls->id, source);
}

static void on_pending_read(struct bufferevent *bev, void *arg)
{
	struct pending_conn *pc = arg;
	struct relay_core *core = pc->core;
	struct evbuffer *in = bufferevent_get_input(bev);
	char source[64], *line;
	struct wire_msg msg;
	size_t n;
	int ok;

	line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF);
	if (line == NULL) {
		if (evbuffer_get_length(in) > WIRE_MAX_LINE_PREAUTH) {
			reject_peer(core, pc->source, "over_long_first_line", NULL);
			pending_free(pc, 1);
		}
		return;
	}
	ok = n <= WIRE_MAX_LINE_PREAUTH && wire_parse(line, n, &msg) == 0;
	free(line);
	snprintf(source, sizeof source, "%s", pc->source);
	pending_free(pc, 0);
	if (!ok) {
		reject_peer(core, source, "malformed_first_line", NULL);
		bufferevent_free(bev);
	} else if (strcmp(msg.verb, "HELLO") == 0) {
		handle_hello(core, bev, &msg, source);
	} else if (strcmp(msg.verb, "RESUME") == 0) {
		handle_resume(core, bev, &msg, source);
	} else if (strcmp(msg.verb, "STREAM") == 0 && wire_get(&msg, "token")) {
		attach_stream(core, bev, wire_get(&msg, "token"), source);
	} else {
		reject_peer(core, source, "unexpected_first_line", NULL);
		bufferevent_free(bev);
	}
	OPENSSL_cleanse(&msg, sizeof msg);
}

static void on_pending_event(struct bufferevent *bev, short what, void *arg)
{
	struct pending_conn *pc = arg;

	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		unsigned long tls_error = bufferevent_get_openssl_error(bev);
		const char *why = tls_error ? ERR_reason_error_string(tls_error) : NULL;
		reject_peer(pc->core, pc->source, tls_error ? "tls_error" : "closed_before_first_line", why);
		pending_free(pc, 1);
	}
}

/* The whole pre-auth phase (handshake and first line) has one deadline:
 * a peer dribbling a byte at a time gets no longer than a silent one. */
static void on_pending_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct pending_conn *pc = arg;

	(void)fd;
	(void)what;
	reject_peer(pc->core, pc->source, "preauth_timeout", NULL);
	pending_free(pc, 1);
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *sa,
                      int socklen, void *arg)
{
	struct relay_core *core = arg;
	struct timeval limit = { PREAUTH_TIMEOUT_S, 0 };
	struct pending_conn *pc;
	enum peer_verdict verdict;
	char source[64];
	SSL *ssl;

	(void)listener;
	(void)socklen;
	peer_address(sa, source, sizeof source);
	/* Before any TLS work: too many pending, or an address that keeps failing. */
	verdict = peer_guard_admit(core->guard, source, peer_guard_clock());
	if (verdict != PEER_ADMIT) {
		reject_log_line(core->rejects, peer_guard_clock(), "agent_refused", source,
		                peer_verdict_name(verdict), NULL);
		evutil_closesocket(fd);
		return;
	}
	/* Small lines (WELCOME, OPEN, PING) must not wait for the agent's
	 * delayed ACK of the handshake's last flight (Nagle): 40 ms per set-up. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	ssl = SSL_new(core->tls);
	if (ssl == NULL) {
		peer_guard_release(core->guard, source);
		evutil_closesocket(fd);
		return;
	}
	pc = xcalloc(1, sizeof *pc);
	pc->core = core;
	snprintf(pc->source, sizeof pc->source, "%s", source);
	pc->bev = bufferevent_openssl_socket_new(core->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
	                                         BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (pc->bev == NULL) {
		peer_guard_release(core->guard, source);
		SSL_free(ssl);
		evutil_closesocket(fd);
		free(pc);
		return;
	}
	pc->deadline = evtimer_new(core->base, on_pending_deadline, pc);
	evtimer_add(pc->deadline, &limit);
	bufferevent_openssl_set_allow_dirty_shutdown(pc->bev, 1);
	pc->next = core->pending;
	if (pc->next)
		pc->next->prev = pc;
	core->pending = pc;
	bufferevent_setwatermark(pc->bev, EV_READ, 0, WIRE_MAX_LINE_PREAUTH + 2);
	bufferevent_setcb(pc->bev, on_pending_read, NULL, on_pending_event, pc);
	bufferevent_enable(pc->bev, EV_READ | EV_WRITE);
}

/* ---- posts from SSH threads ------------------------------------------- */

static void on_wakeup(evutil_socket_t fd, short what, void *arg)
{
	struct relay_core *core = arg;
	struct post *list;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&core->lock);
	list = core->posts;
	core->posts = core->posts_tail = NULL;
	pthread_mutex_unlock(&core->lock);
	while (list) {
		struct post *next = list->next;
		if (list->kind == POST_JOIN) {
			start_join(core, &list->join);
		} else {
			struct live_session *ls = find_session(core, list->session_id);
			if (ls)
				session_end(ls, "relay", list->reason);
		}
		free(list);
		list = next;
	}
}

static void post(struct relay_core *core, struct post *p)
{
	pthread_mutex_lock(&core->lock);
	if (core->posts_tail)
		core->posts_tail->next = p;
	else
		core->posts = p;
	core->posts_tail = p;
	pthread_mutex_unlock(&core->lock);
	event_active(core->wakeup, EV_READ, 0);
}

void relay_core_post_join(struct relay_core *core, const struct join_request *request)
{
	struct post *p = xcalloc(1, sizeof *p);

	p->kind = POST_JOIN;
	p->join = *request;
	post(core, p);
}

void relay_core_post_end(struct relay_core *core, const char *session_id, const char *reason)
{
	struct post *p = xcalloc(1, sizeof *p);

	p->kind = POST_END;
	snprintf(p->session_id, sizeof p->session_id, "%s", session_id);
	snprintf(p->reason, sizeof p->reason, "%s", reason);
	post(core, p);
}

/* ---- life cycle --------------------------------------------------------- */

static struct evconnlistener *bind_listener(struct relay_core *core, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	struct addrinfo *res = NULL;
	struct evconnlistener *listener = NULL;
	char port[8];
	int rc;

	snprintf(port, sizeof port, "%u", core->cfg->agent_listen.port);
	rc = getaddrinfo(core->cfg->agent_listen.host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "agent_listen %s: %s", core->cfg->agent_listen.host, gai_strerror(rc));
		return NULL;
	}
	listener = evconnlistener_new_bind(core->base, on_accept, core,
	                                   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	                                   128, res->ai_addr, (int)res->ai_addrlen);
	if (listener == NULL)
		snprintf(err, errlen, "cannot listen on agent_listen %s:%u (in use? change agent_listen)",
		         core->cfg->agent_listen.host, core->cfg->agent_listen.port);
	freeaddrinfo(res);
	return listener;
}

/* Sessions a previous relay left active (it was killed): their agents may
 * resume within RESUME_GRACE_S. */
static void adopt_orphan(const struct session_info *info, void *arg)
{
	struct relay_core *core = arg;
	struct timeval grace = { RESUME_GRACE_S, 0 };
	struct session_claimed c;
	struct live_session *ls;

	if (strcmp(info->state, "active") != 0)
		return;
	memset(&c, 0, sizeof c);
	snprintf(c.id, sizeof c.id, "%s", info->id);
	snprintf(c.ticket_id, sizeof c.ticket_id, "%s", info->ticket_id);
	snprintf(c.created_by, sizeof c.created_by, "%s", info->created_by);
	ls = session_new(core, &c);
	ls->resumed = 1;
	evtimer_add(ls->grace_timer, &grace);
	log_info("event=session_awaiting_resume session=%s grace_s=%d", ls->id, RESUME_GRACE_S);
}

/* The recordings' signing key, and the recordings a killed relay left open:
 * verified and marked truncated (or complete) before anything new starts. */
static int open_recordings(struct relay_core *core, char *err, size_t errlen)
{
	char path[CFG_MAX_PATH + 32], why[256];
	int marked = 0;

	snprintf(path, sizeof path, "%s/relay.key", core->cfg->certs_dir);
	core->signing_key = recording_load_key(path, why, sizeof why);
	if (core->signing_key == NULL) {
		snprintf(err, errlen, "recording key: %s (run 'concierge init')", why);
		return -1;
	}
	if (recordings_mark_interrupted(core->store, core->signing_key, &marked, why, sizeof why) < 0) {
		snprintf(err, errlen, "settling interrupted recordings: %s", why);
		EVP_PKEY_free(core->signing_key);
		return -1;
	}
	if (marked > 0)
		log_info("event=recordings_settled count=%d", marked);
	return 0;
}

/* Wrong session codes per source address: past WRONG_CODES_PER_SOURCE in a
 * window the address is told to wait (the connection limits do not apply:
 * this guard only counts). */
static const struct peer_guard_limits wrong_code_limits = {
	.max_total = INT_MAX,
	.max_per_source = INT_MAX,
	.failures_per_source = WRONG_CODES_PER_SOURCE,
	.window_s = WRONG_CODES_WINDOW_S,
	.sources_tracked = RATE_LIMIT_SOURCES,
};

struct relay_core *relay_core_new(struct event_base *base, const struct concierge_config *cfg,
                                  struct store *store, SSL_CTX *tls, char *err, size_t errlen)
{
	struct relay_core *core = xcalloc(1, sizeof *core);

	core->base = base;
	core->cfg = cfg;
	core->store = store;
	core->tls = tls;
	core->wrong_codes = peer_guard_new(&wrong_code_limits);
	core->guard = peer_guard_new_preauth(cfg);
	core->rejects = reject_log_new(REJECT_LOG_PER_WINDOW, REJECT_LOG_WINDOW_S, REJECT_LOG_KEYS);
	if (open_recordings(core, err, errlen) < 0) {
		peer_guard_free(core->guard);
		peer_guard_free(core->wrong_codes);
		reject_log_free(core->rejects);
		free(core);
		return NULL;
	}
	pthread_mutex_init(&core->lock, NULL);
	core->wakeup = event_new(base, -1, EV_PERSIST | EV_READ, on_wakeup, core);
	core->fsync_pool = fsync_pool_new(base, record_sync_failed, core);
	if (core->fsync_pool == NULL) {
		snprintf(err, errlen, "cannot start the recordings' fsync threads");
		relay_core_free(core);
		return NULL;
	}
	core->rejects_flush = event_new(base, -1, EV_PERSIST, on_rejects_flush, core);
	event_add(core->rejects_flush, &(struct timeval){ 1, 0 });
	core->listener = bind_listener(core, err, errlen);
	if (core->listener == NULL) {
		relay_core_free(core);
		return NULL;
	}
	if (sessions_foreach(store, 1, adopt_orphan, core, err, errlen) < 0) {
		relay_core_free(core);
		return NULL;
	}
	return core;
}

void relay_core_shutdown(struct relay_core *core, const char *reason)
{
	struct timeval flush = { 1, 0 };

	core->shutting_down = 1;
	if (core->listener) {
		evconnlistener_free(core->listener);
		core->listener = NULL;
	}
	on_wakeup(-1, 0, core); /* refuse joins that were posted meanwhile */
	while (core->sessions)
		session_end(core->sessions, "relay", reason);
	while (core->pending)
		pending_free(core->pending, 1);
	/* Let END lines and refusals reach their peers. */
	event_base_loopexit(core->base, &flush);
	event_base_dispatch(core->base);
}

void relay_core_free(struct relay_core *core)
{
	if (core == NULL)
		return;
	while (core->sessions)
		session_free(core->sessions);
	while (core->pending)
		pending_free(core->pending, 1);
	if (core->listener)
		evconnlistener_free(core->listener);
	if (core->wakeup)
		event_free(core->wakeup);
	if (core->rejects_flush)
		event_free(core->rejects_flush);
	/* After the sessions: their last checkpoints may still be syncing. */
	fsync_pool_free(core->fsync_pool);
	while (core->posts) {
		struct post *next = core->posts->next;
		if (core->posts->kind == POST_JOIN) {
			close(core->posts->join.fd);
			if (core->posts->join.notice_fd >= 0)
				close(core->posts->join.notice_fd);
		}
		free(core->posts);
		core->posts = next;
	}
	pthread_mutex_destroy(&core->lock);
	EVP_PKEY_free(core->signing_key);
	if (core->rejects)
		reject_log_flush(core->rejects, peer_guard_clock() + REJECT_LOG_WINDOW_S);
	reject_log_free(core->rejects);
	peer_guard_free(core->guard);
	peer_guard_free(core->wrong_codes);
	free(core);
}
