#include "assist.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdarg.h>
#include <openssl/crypto.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "consent.h"
#include "log.h"
#include "shell_host.h"
#include "splice.h"
#include "tls_dial.h"
#include "wire.h"
#include "xmalloc.h"

#define BACKOFF_MAX_S 30
#define FLUSH_ON_EXIT_MS 500

struct helper {                 /* a participant, as the agent sees them */
	struct assist *assist;
	struct helper *next;
	int id;
	char user[USER_NAME_MAX + 1];
	char role[16];
	int wants_control;
	int shell;                      /* a shell request (else the screen) */
	int tty;
	unsigned cols, rows;
	int shell_attached;
	int view_granted, control_granted;
	int recorder;                   /* the relay's recorder leg, not a person */
	struct bufferevent *dialing;    /* stream TLS while connecting */
	char token[STREAM_TOKEN_HEX + 1];
	struct splice *splice;
};

struct assist {
	struct event_base *base;
	struct assist_options opts;
	struct bufferevent *control;
	struct consent *consent;
	struct shell_host *shells;      /* the shared shell, created on first use */
	struct helper *helpers;
	char session[SESSION_ID_LEN + 1];
	char ticket[TICKET_ID_MAX + 1];
	char resume_token[RESUME_TOKEN_HEX + 1];
	int welcomed;                   /* WELCOME seen on the current link */
	int told_recorded;              /* the end user knows the session is recorded */
	int ever_welcomed;
	int backoff_s;
	time_t lost_at;
	struct event *reconnect;
	int ending;
	int exit_code;
};

static void say(struct assist *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct assist *a, const char *fmt, ...)
{
	va_list ap;

	fputs("[concierge] ", a->opts.out);
	va_start(ap, fmt);
	vfprintf(a->opts.out, fmt, ap);
	va_end(ap);
	fputc('\n', a->opts.out);
	fflush(a->opts.out);
}

static void send_msg(struct assist *a, int n, const char *line)
{
	if (a->control && n > 0)
		bufferevent_write(a->control, line, (size_t)n);
}

static void stop_loop(struct assist *a, int exit_code)
{
	struct timeval flush = { 0, FLUSH_ON_EXIT_MS * 1000 };

	if (a->ending)
		return; /* the first reason to stop is the one reported */
	a->ending = 1;
	a->exit_code = exit_code;
	event_base_loopexit(a->base, &flush);
}

/* ---- helpers (participants) -------------------------------------------- */

static struct helper *find_helper(struct assist *a, int id)
{
	for (struct helper *h = a->helpers; h; h = h->next)
		if (h->id == id)
			return h;
	return NULL;
}

static void helper_free(struct helper *h)
{
	struct helper **pp = &h->assist->helpers;

	while (*pp && *pp != h)
		pp = &(*pp)->next;
	if (*pp)
		*pp = h->next;
	consent_cancel(h->assist->consent, h->id * 2);
	consent_cancel(h->assist->consent, h->id * 2 + 1);
	if (h->dialing)
		bufferevent_free(h->dialing);
	splice_free(h->splice);
	OPENSSL_cleanse(h->token, sizeof h->token);
	free(h);
}

static void free_all_helpers(struct assist *a)
{
	while (a->helpers)
		helper_free(a->helpers);
	screen_disconnect_all(a->opts.screen);
	if (a->shells) {
		shell_host_free(a->shells);
		a->shells = NULL;
	}
}

static void on_stream_closed(void *ctx, const char *why)
{
	struct helper *h = ctx;

	log_info("event=stream_closed user=%s reason=\"%s\"", h->user, why);
	splice_free(h->splice);
	h->splice = NULL;
}

static void on_shell_event(void *ctx, const char *what)
{
	say(ctx, "%s", what);
}

/* The stream now carries shell frames; the shared shell host owns it. */
static void attach_shell(struct assist *a, struct helper *h, struct bufferevent *bev)
{
	char err[256];

	if (a->shells == NULL)
		a->shells = shell_host_new(a->base, a->opts.shell_program, on_shell_event, a);
	bufferevent_set_timeouts(bev, NULL, NULL);
	if (shell_host_attach(a->shells, bev, h->control_granted, h->tty, h->cols, h->rows, h->user,
	                      err, sizeof err) < 0) {
		say(a, "Could not open the shell for %s: %s", h->user, err);
		return;
	}
	h->shell_attached = 1;
	if (!h->recorder)
		say(a, "%s (%s) %s the shell on this computer.", h->user, h->role,
		    h->control_granted ? "is now TYPING IN" : "is now watching");
}

static void on_stream_event(struct bufferevent *bev, short what, void *arg)
{
	struct helper *h = arg;
	struct assist *a = h->assist;
	char line[WIRE_MAX_LINE_PREAUTH + 2], msg[512];
	int n, pair[2];

	if (!(what & BEV_EVENT_CONNECTED)) {
		tls_dial_failure(bev, &a->opts.relay, msg, sizeof msg);
		say(a, "Could not open the %s stream for %s: %s", h->shell ? "shell" : "screen", h->user, msg);
		bufferevent_free(bev);
		h->dialing = NULL;
		return;
	}
	h->dialing = NULL;
	n = wire_format(line, sizeof line, "STREAM", "token", h->token, (char *)NULL);
	OPENSSL_cleanse(h->token, sizeof h->token);
	if (n < 0) {
		bufferevent_free(bev);
		return;
	}
	bufferevent_write(bev, line, (size_t)n);
	if (h->shell) {
		attach_shell(a, h, bev);
		return;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
		bufferevent_free(bev);
		return;
	}
	evutil_make_socket_nonblocking(pair[0]);
	if (screen_add_client(a->opts.screen, pair[1], !h->control_granted) < 0) {
		close(pair[0]);
		bufferevent_free(bev);
		say(a, "Could not share the screen with %s.", h->user);
		return;
	}
	struct bufferevent *local = bufferevent_socket_new(a->base, pair[0],
	                                                   BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	h->splice = splice_new(local, bev, NULL, NULL, NULL, on_stream_closed, h);
	if (!h->recorder)
		say(a, "%s (%s) is now %s your screen.", h->user, h->role,
		    h->control_granted ? "VIEWING AND CONTROLLING" : "viewing");
}

/* OPEN id=N token=T kind=screen|shell recorder=1: the relay records what a
 * person the end user admitted is shown, on a stream of its own.  It is
 * accepted only while such a person is admitted (the recorder never sees
 * more than they do) and it gets no input right. */
static struct helper *recorder_helper(struct assist *a, const struct wire_msg *msg)
{
	const char *id = wire_get(msg, "id"), *kind = wire_get(msg, "kind");
	int shell = kind && strcmp(kind, "shell") == 0, admitted = 0;
	struct helper *h;

	if (id == NULL || atoi(id) <= 0 || find_helper(a, atoi(id)) || kind == NULL)
		return NULL;
	for (h = a->helpers; h; h = h->next)
		admitted |= !h->recorder && h->view_granted && h->shell == shell;
	if (!admitted)
		return NULL;
	h = xcalloc(1, sizeof *h);
	h->assist = a;
	h->id = atoi(id);
	h->recorder = 1;
	h->shell = shell;
	h->view_granted = 1;
	snprintf(h->user, sizeof h->user, "recorder");
	snprintf(h->role, sizeof h->role, "relay");
	h->next = a->helpers;
	a->helpers = h;
	if (!a->told_recorded) {
		a->told_recorded = 1;
		say(a, "This session is recorded for ticket %s; the IT desk's auditors can review it.",
		    a->ticket);
	}
	return h;
}

/* OPEN id=N token=T rights=view|control: consent given, dial the stream. */
static void open_stream(struct assist *a, const struct wire_msg *msg)
{
	const char *id = wire_get(msg, "id"), *token = wire_get(msg, "token");
	const char *rights = wire_get(msg, "rights"), *recorder = wire_get(msg, "recorder");
	struct helper *h;
	char err[256];

	if (recorder && strcmp(recorder, "1") == 0)
		h = recorder_helper(a, msg);
	else
		h = id ? find_helper(a, atoi(id)) : NULL;
	if (h == NULL || token == NULL || strlen(token) != STREAM_TOKEN_HEX || h->splice || h->dialing ||
	    h->shell_attached)
		return;
	/* The relay decides rights, but never more than the person allowed. */
	h->control_granted = h->control_granted && rights &&
	                     (strcmp(rights, "control") == 0 || strcmp(rights, "shell") == 0);
	if (h->shell) {
		const char *tty = wire_get(msg, "tty"), *cols = wire_get(msg, "cols"), *rows = wire_get(msg, "rows");
		h->tty = tty && strcmp(tty, "1") == 0;
		h->cols = cols ? (unsigned)atoi(cols) : 80;
		h->rows = rows ? (unsigned)atoi(rows) : 24;
		if (h->cols == 0 || h->cols > 1000 || h->rows == 0 || h->rows > 1000) {
			h->cols = 80;
			h->rows = 24;
		}
	}
	snprintf(h->token, sizeof h->token, "%s", token);
	h->dialing = tls_dial(a->base, a->opts.tls, &a->opts.relay, err, sizeof err);
	if (h->dialing == NULL) {
		say(a, "%s", err);
		return;
	}
	struct timeval limit = { PREAUTH_TIMEOUT_S, 0 };
	bufferevent_set_timeouts(h->dialing, &limit, &limit); /* cleared once spliced */
	bufferevent_setcb(h->dialing, NULL, NULL, on_stream_event, h);
	bufferevent_enable(h->dialing, EV_READ | EV_WRITE);
}

static void on_answer(void *ctx, int question_id, int yes, int timed_out)
{
	struct assist *a = ctx;
	struct helper *h = find_helper(a, question_id / 2);
	char line[WIRE_MAX_LINE + 2], idtext[16], question[CONSENT_MAX_TEXT];
	int n;

	if (h == NULL)
		return;
	snprintf(idtext, sizeof idtext, "%d", h->id);
	if (question_id % 2 == 0) {
		h->view_granted = yes;
		if (h->shell)
			h->control_granted = yes && h->wants_control;
		else if (yes && h->wants_control) {
			snprintf(question, sizeof question, "%s (%s) also asks to CONTROL your mouse and "
			         "keyboard for ticket %s. Allow control?", h->user, h->role, a->ticket);
			consent_ask(a->consent, h->id * 2 + 1, question);
			return;
		}
	} else {
		h->control_granted = yes;
	}
	n = wire_format(line, sizeof line, "CONSENT", "id", idtext, "view", h->view_granted ? "yes" : "no",
	                "control", h->control_granted ? "yes" : "no", "reason",
	                timed_out ? "timeout" : (yes ? "allowed" : "declined"), "auto",
	                a->opts.auto_accept ? "1" : "0", (char *)NULL);
	send_msg(a, n, line);
	if (!h->view_granted)
		helper_free(h);
}

static void on_command(void *ctx, const char *line)
{
	struct assist *a = ctx;

	if (strcasecmp(line, "q") == 0 || strcasecmp(line, "quit") == 0 || strcasecmp(line, "end") == 0) {
		assist_end(a, "ended by the end user");
	} else if (strcasecmp(line, "s") == 0 && a->shells && shell_host_attached(a->shells) > 0) {
		say(a, "Closing the shell.");
		shell_host_end(a->shells);
	} else {
		say(a, "Nothing to answer right now. Type q and Enter to end the session%s.",
		    a->shells && shell_host_attached(a->shells) > 0 ? ", s and Enter to close the shell" : "");
	}
}

/* JOIN id=N user=U role=R ticket=T right=view|control */
static void join_request(struct assist *a, const struct wire_msg *msg)
{
	const char *id = wire_get(msg, "id"), *user = wire_get(msg, "user");
	const char *role = wire_get(msg, "role"), *right = wire_get(msg, "right");
	char question[CONSENT_MAX_TEXT];
	struct helper *h;

	if (id == NULL || user == NULL || role == NULL || right == NULL || atoi(id) <= 0 ||
	    find_helper(a, atoi(id)))
		return;
	h = xcalloc(1, sizeof *h);
	h->assist = a;
	h->id = atoi(id);
	snprintf(h->user, sizeof h->user, "%s", user);
	snprintf(h->role, sizeof h->role, "%s", role);
	h->shell = strcmp(right, "shell") == 0 || strcmp(right, "shell_view") == 0;
	h->wants_control = strcmp(right, "control") == 0 || strcmp(right, "shell") == 0;
	h->next = a->helpers;
	a->helpers = h;
	if (h->shell && a->opts.no_shell) {
		char line[WIRE_MAX_LINE + 2], idtext[16];
		int n;
		snprintf(idtext, sizeof idtext, "%d", h->id);
		n = wire_format(line, sizeof line, "CONSENT", "id", idtext, "view", "no", "control", "no",
		                "reason", "no_shell", (char *)NULL);
		send_msg(a, n, line);
		say(a, "%s asked for a shell; refused because this agent runs with --no-shell.", h->user);
		helper_free(h);
		return;
	}
	if (h->shell && h->wants_control)
		snprintf(question, sizeof question, "%s (%s agent) asks to open a SHELL on this computer "
		         "(a terminal that runs commands as you) for ticket %s. Allow?", h->user, h->role,
		         a->ticket);
	else if (h->shell)
		snprintf(question, sizeof question, "%s (%s agent) asks to WATCH the shell on this computer "
		         "(without typing) for ticket %s. Allow?", h->user, h->role, a->ticket);
	else
		snprintf(question, sizeof question, "%s (%s agent) asks to SEE your screen for ticket %s. "
		         "Allow viewing?", h->user, h->role, a->ticket);
	consent_ask(a->consent, h->id * 2, question);
}

static void helper_left(struct assist *a, const struct wire_msg *msg)
{
	const char *id = wire_get(msg, "id");
	struct helper *h = id ? find_helper(a, atoi(id)) : NULL;

	if (h == NULL)
		return;
	if (!h->recorder && (h->splice || h->dialing || h->shell_attached))
		say(a, "%s has left.", h->user);
	helper_free(h);
}

/* ---- control link ---------------------------------------------------------- */

static void dial_control(struct assist *a);

static void on_reconnect_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	dial_control(arg);
}

static void link_lost(struct assist *a, const char *why)
{
	struct timeval wait;

	if (a->control) {
		bufferevent_free(a->control);
		a->control = NULL;
	}
	a->welcomed = 0;
	if (a->ending)
		return;
	if (!a->ever_welcomed) {
		say(a, "%s", why);
		stop_loop(a, 1);
		return;
	}
	if (a->lost_at == 0) {
		a->lost_at = time(NULL);
		free_all_helpers(a);
		say(a, "Lost the connection to the relay (%s); reconnecting. Nobody can see your screen "
		    "meanwhile.", why);
	}
	if (time(NULL) - a->lost_at > RESUME_GRACE_S) {
		say(a, "The relay did not come back: the session has ended.");
		stop_loop(a, 0);
		return;
	}
	a->backoff_s = a->backoff_s ? a->backoff_s * 2 : 1;
	if (a->backoff_s > BACKOFF_MAX_S)
		a->backoff_s = BACKOFF_MAX_S;
	wait.tv_sec = a->backoff_s;
	wait.tv_usec = 0;
	evtimer_add(a->reconnect, &wait);
}

static void handle_message(struct assist *a, const struct wire_msg *msg)
{
	char line[32];
	int n;

	if (strcmp(msg->verb, "WELCOME") == 0 && !a->welcomed) {
		const char *resume = wire_get(msg, "resume"), *by = wire_get(msg, "by");
		a->welcomed = 1;
		a->backoff_s = 0;
		if (a->lost_at) {
			a->lost_at = 0;
			say(a, "Reconnected to the relay; the session goes on.");
			return;
		}
		a->ever_welcomed = 1;
		snprintf(a->session, sizeof a->session, "%s", wire_get(msg, "session") ? wire_get(msg, "session") : "");
		snprintf(a->ticket, sizeof a->ticket, "%s", wire_get(msg, "ticket") ? wire_get(msg, "ticket") : "");
		if (resume)
			snprintf(a->resume_token, sizeof a->resume_token, "%s", resume);
		say(a, "Connected to your IT desk (session %s, ticket %s, opened by %s).", a->session,
		    a->ticket, by ? by : "?");
		say(a, "Nobody sees your screen or gets a shell until you allow it. Type q and Enter (or "
		    "press Ctrl-C) to end the session at any time.");
	} else if (strcmp(msg->verb, "DENIED") == 0) {
		const char *why = wire_get(msg, "reason");
		if (a->lost_at) {
			say(a, "The session has ended: %s", why ? why : "refused by the relay");
			stop_loop(a, 0);
		} else {
			say(a, "The relay refused the connection: %s", why ? why : "no reason given");
			stop_loop(a, 1);
		}
	} else if (!a->welcomed) {
		link_lost(a, "the relay sent something unexpected");
	} else if (strcmp(msg->verb, "JOIN") == 0) {
		join_request(a, msg);
	} else if (strcmp(msg->verb, "OPEN") == 0) {
		open_stream(a, msg);
	} else if (strcmp(msg->verb, "LEAVE") == 0) {
		helper_left(a, msg);
	} else if (strcmp(msg->verb, "END") == 0) {
		const char *why = wire_get(msg, "reason");
		free_all_helpers(a);
		say(a, "The session has ended: %s.", why ? why : "ended by the relay");
		stop_loop(a, 0);
	} else if (strcmp(msg->verb, "PING") == 0) {
		n = wire_format(line, sizeof line, "PONG", (char *)NULL);
		send_msg(a, n, line);
	}
}

static void on_control_read(struct bufferevent *bev, void *arg)
{
	struct assist *a = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct wire_msg msg;
	size_t n;
	char *line;

	while (!a->ending && a->control == bev && (line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF))) {
		int ok = wire_parse(line, n, &msg) == 0;
		OPENSSL_cleanse(line, n);
		free(line);
		if (!ok) {
			link_lost(a, "the relay sent a malformed message");
			return;
		}
		handle_message(a, &msg);
		OPENSSL_cleanse(&msg, sizeof msg);
	}
	if (a->control == bev && evbuffer_get_length(in) > WIRE_MAX_LINE)
		link_lost(a, "the relay sent an over-long message");
}

static void send_hello(struct assist *a)
{
	char line[WIRE_MAX_LINE + 2], host[256] = "?";
	struct passwd *pw = getpwuid(getuid());
	int n;

	gethostname(host, sizeof host - 1);
	if (a->lost_at)
		n = wire_format(line, sizeof line, "RESUME", "v", "1", "session", a->session, "token",
		                a->resume_token, "host", host, (char *)NULL);
	else
		n = wire_format(line, sizeof line, "HELLO", "v", "1", "code", a->opts.code, "host", host,
		                "user", pw ? pw->pw_name : "?", "screen", a->opts.screen_kind, "auto",
		                a->opts.auto_accept ? "1" : "0", (char *)NULL);
	send_msg(a, n, line);
	OPENSSL_cleanse(line, sizeof line);
}

static void on_control_event(struct bufferevent *bev, short what, void *arg)
{
	struct assist *a = arg;
	char msg[512];

	if (what & BEV_EVENT_CONNECTED) {
		send_hello(a);
		return;
	}
	if (a->ending)
		return; /* e.g. the relay closes after DENIED or END */
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		if (tls_dial_failure(bev, &a->opts.relay, msg, sizeof msg) && !a->welcomed) {
			/* Talking to an impostor is never retried. */
			say(a, "%s", msg);
			bufferevent_free(a->control);
			a->control = NULL;
			stop_loop(a, 3);
			return;
		}
		link_lost(a, a->welcomed ? "connection closed" : msg);
	}
}

static void dial_control(struct assist *a)
{
	struct timeval idle = { CONTROL_IDLE_TIMEOUT_S, 0 };
	char err[256];

	a->control = tls_dial(a->base, a->opts.tls, &a->opts.relay, err, sizeof err);
	if (a->control == NULL) {
		link_lost(a, err);
		return;
	}
	bufferevent_setwatermark(a->control, EV_READ, 0, WIRE_MAX_LINE * 4);
	bufferevent_setcb(a->control, on_control_read, NULL, on_control_event, a);
	bufferevent_set_timeouts(a->control, &idle, NULL);
	bufferevent_enable(a->control, EV_READ | EV_WRITE);
}

/* ---- public ------------------------------------------------------------------ */

struct assist *assist_start(struct event_base *base, const struct assist_options *opts)
{
	struct assist *a = xcalloc(1, sizeof *a);
	struct consent_callbacks cb = { on_answer, on_command, a };

	a->base = base;
	a->opts = *opts;
	a->reconnect = evtimer_new(base, on_reconnect_timer, a);
	a->consent = consent_new(base, opts->in_fd, opts->out, opts->auto_accept,
	                         opts->consent_timeout_s, &cb);
	if (opts->auto_accept)
		say(a, "DEMO MODE: every request to see or control this demo screen is allowed "
		    "automatically (the relay records this).");
	say(a, "Connecting to the relay %s:%u ...", opts->relay.host, opts->relay.port);
	dial_control(a);
	return a;
}

void assist_end(struct assist *a, const char *reason)
{
	char line[WIRE_MAX_LINE + 2];
	int n;

	if (a->ending)
		return;
	free_all_helpers(a);
	if (a->control && a->welcomed) {
		n = wire_format(line, sizeof line, "BYE", "reason", reason, (char *)NULL);
		send_msg(a, n, line);
		bev_close_after_flush(a->control);
		a->control = NULL;
	}
	say(a, "Session ended. Nobody can see your screen any more.");
	stop_loop(a, 0);
}

int assist_exit_code(const struct assist *a)
{
	return a->exit_code;
}

void assist_free(struct assist *a)
{
	if (a == NULL)
		return;
	while (a->helpers)
		helper_free(a->helpers);
	if (a->control)
		bufferevent_free(a->control);
	shell_host_free(a->shells);
	consent_free(a->consent);
	event_free(a->reconnect);
	OPENSSL_cleanse(a->resume_token, sizeof a->resume_token);
	free(a);
}
