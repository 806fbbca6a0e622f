#include "ssh_front.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "concierge_version.h"
#include "log.h"
#include "peer_guard.h"
#include "reject_log.h"
#include "shell_frame.h"
#include "ssh_command_line.h"
#include "ssh_commands.h"
#include "xmalloc.h"

#define ACCEPT_POLL_MS 200
#define LOOP_POLL_MS 100
#define MAX_AUTH_FAILURES 10
#define MAX_CHANNELS 32
#define STOP_WAIT_MS 3000
#define KEX_TIMEOUT_S 10L

/* Algorithms offered (checked with ssh-audit, docs/SECURITY_SCANS.md): key
 * exchange on curve25519 or >= 4096-bit MODP groups only (no NIST curves, no
 * SHA-1, no 2048-bit group exchange); AEAD ciphers first, CTR only with
 * encrypt-then-MAC; no encrypt-and-MAC. libssh adds its strict-kex marker
 * (the Terrapin countermeasure) to the key exchange list itself. */
#define SSH_KEX_ALGORITHMS \
	"curve25519-sha256,curve25519-sha256@libssh.org,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512"
#define SSH_CIPHERS \
	"aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes256-ctr,aes128-ctr"
#define SSH_MACS "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com"
/* The identification string names the product, not the library and its version. */
#define SSH_SOFTWARE_VERSION "Concierge_" CONCIERGE_VERSION

struct ssh_front {
	const struct concierge_config *cfg;
	struct relay_core *core;
	ssh_bind bind;
	int listen_fd;
	pthread_t accept_thread;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	int connections;
	volatile int stopping;
	struct peer_guard *guard;     /* unauthenticated connections per source (peer_guard.h) */
	struct reject_log *rejects;   /* rejected peers' log lines, limited (reject_log.h) */
};

enum channel_kind { CHANNEL_SESSION, CHANNEL_FORWARD, CHANNEL_SHELL };

struct conn;

struct channel_ctx {
	struct conn *conn;
	struct channel_ctx *next;
	ssh_channel channel;
	struct ssh_channel_callbacks_struct cb;
	enum channel_kind kind;
	int fd;               /* forward: our end of the socketpair */
	int notice_fd;        /* forward: the core writes here why it cut the forward */
	int command_pending;  /* session: exec or shell request waiting to run */
	char command[SSH_COMMAND_MAX + 1];
	int tty;              /* pty-req seen */
	int input_closed;     /* shell: the core no longer takes input */
	int busy;             /* data from the core is being written to the channel */
	char *early;          /* stdin that arrived before the command was dispatched */
	size_t nearly;
	int early_eof;
	unsigned cols, rows;  /* from pty-req / window-change */
	size_t nin;           /* shell: bytes of a partial frame from the core */
	uint8_t *in;          /* shell: SHELL_FRAME_HEADER + SHELL_FRAME_MAX */
	int dead;             /* to be freed after this poll round */
};

struct conn {
	struct ssh_front *front;
	ssh_session session;
	ssh_event event;
	struct store *store;
	char source[64];
	char user[USER_NAME_MAX + 1];
	char role[16];
	int authenticated;
	int preauth_slot;             /* holds a peer_guard slot until authenticated or gone */
	int auth_failures;
	int nchannels;
	struct channel_ctx *channels;
	char goodbye[FORWARD_NOTICE_MAX + 1]; /* the core cut a forward with a reason: disconnect with it */
	struct ssh_server_callbacks_struct server_cb;
};

static void conn_audit(struct conn *c, const char *action, const char *details)
{
	char actor[USER_NAME_MAX + 8], err[256];

	snprintf(actor, sizeof actor, "ssh:%s", c->user[0] ? c->user : "?");
	struct audit_event ev = { actor, action, "relay:ssh", NULL, details };
	if (audit_append(c->store, &ev, err, sizeof err) < 0)
		log_error("event=audit_failed action=%s error=\"%s\"", action, err);
}

/* ---- hostile peers: refusals logged (limited) and counted per source ---- */

static void reject_peer(struct conn *c, const char *reason, const char *detail)
{
	time_t now = peer_guard_clock();

	reject_log_line(c->front->rejects, now, "ssh_refused", c->source, reason, detail);
	peer_guard_failure(c->front->guard, c->source, now);
}

static void release_preauth_slot(struct conn *c)
{
	if (c->preauth_slot) {
		peer_guard_release(c->front->guard, c->source);
		c->preauth_slot = 0;
	}
}

/* ---- authentication ----------------------------------------------------- */

/* 1 known key of an enabled user (role filled), 0 not, -1 error; `why` says which. */
static int key_allows(struct conn *c, const char *user, ssh_key key, char *role, size_t rolelen,
                      const char **why)
{
	sqlite3_stmt *stmt = NULL;
	char *b64 = NULL;
	int rc = -1;

	*why = "database error";
	if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
		return -1;
	if (sqlite3_prepare_v2(store_db(c->store),
	                       "SELECT u.role, u.disabled FROM users u JOIN user_keys k ON k.user_id = u.id "
	                       "WHERE u.name = ?1 AND k.key_base64 = ?2", -1, &stmt, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(stmt, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, b64, -1, SQLITE_STATIC);
	switch (sqlite3_step(stmt)) {
	case SQLITE_ROW:
		if (sqlite3_column_int(stmt, 1)) {
			*why = "user disabled";
			rc = 0;
		} else {
			snprintf(role, rolelen, "%s", (const char *)sqlite3_column_text(stmt, 0));
			*why = "ok";
			rc = 1;
		}
		break;
	case SQLITE_DONE:
		*why = "unknown user or key";
		rc = 0;
		break;
	default:
		break;
	}
out:
	sqlite3_finalize(stmt);
	ssh_string_free_char(b64);
	return rc;
}

static int on_auth_pubkey(ssh_session session, const char *user, struct ssh_key_struct *pubkey,
                          char signature_state, void *userdata)
{
	struct conn *c = userdata;
	char role[16], details[256], fp[80] = "?";
	unsigned char *hash = NULL;
	size_t hlen = 0;
	const char *why = "user name too long";
	int allowed;

	(void)session;
	if (signature_state != SSH_PUBLICKEY_STATE_NONE && signature_state != SSH_PUBLICKEY_STATE_VALID)
		return SSH_AUTH_DENIED;
	allowed = strlen(user) <= USER_NAME_MAX && key_allows(c, user, pubkey, role, sizeof role, &why) == 1;
	if (allowed && signature_state == SSH_PUBLICKEY_STATE_NONE)
		return SSH_AUTH_SUCCESS; /* "this key would do": the client signs next */
	if (ssh_get_publickey_hash(pubkey, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == SSH_OK) {
		char *text = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
		if (text)
			snprintf(fp, sizeof fp, "%s", text);
		ssh_string_free_char(text);
		ssh_clean_pubkey_hash(&hash);
	}
	if (!allowed) {
		c->auth_failures++;
		snprintf(details, sizeof details, "login=%.32s key=%s source=%s reason=\"%s\"", user, fp,
		         c->source, why);
		conn_audit(c, "auth.deny", details);
		snprintf(details, sizeof details, "login=%.32s %s", user, why);
		reject_peer(c, "auth_denied", details);
		return SSH_AUTH_DENIED;
	}
	snprintf(c->user, sizeof c->user, "%s", user);
	snprintf(c->role, sizeof c->role, "%s", role);
	c->authenticated = 1;
	release_preauth_slot(c);
	snprintf(details, sizeof details, "role=%s key=%s source=%s", role, fp, c->source);
	conn_audit(c, "auth.allow", details);
	log_info("event=ssh_login user=%s role=%s source=%s", user, role, c->source);
	return SSH_AUTH_SUCCESS;
}

/* ---- channels ----------------------------------------------------------- */

static void clamp_size(struct channel_ctx *cc, int w, int h)
{
	cc->cols = w > 0 && w < 10000 ? (unsigned)w : 80;
	cc->rows = h > 0 && h < 10000 ? (unsigned)h : 24;
}

static int on_pty_request(ssh_session s, ssh_channel ch, const char *term, int w, int h, int pw,
                          int ph, void *userdata)
{
	struct channel_ctx *cc = userdata;

	(void)s; (void)ch; (void)term; (void)pw; (void)ph;
	cc->tty = 1; /* commands print plain lines either way; shells get a PTY */
	clamp_size(cc, w, h);
	return 0;
}

static int write_fd_all(struct conn *c, int fd, const char *data, size_t len);

/* Sends one shell frame to the core; a failure ends the channel. */
static void shell_send(struct channel_ctx *cc, enum shell_frame_type type, const void *payload, size_t len)
{
	uint8_t frame[SHELL_FRAME_HEADER + SHELL_FRAME_MAX];

	if (cc->fd < 0 || cc->dead || cc->input_closed)
		return;
	shell_frame_write(frame, type, payload, len);
	/* The core may have refused and closed already: its NOTICE and EXIT
	 * frames are still to be read, so only stop sending. */
	if (write_fd_all(cc->conn, cc->fd, (const char *)frame, SHELL_FRAME_HEADER + len) < 0)
		cc->input_closed = 1;
}

static int on_window_change(ssh_session s, ssh_channel ch, int w, int h, int pw, int ph, void *userdata)
{
	struct channel_ctx *cc = userdata;
	uint8_t frame[SHELL_FRAME_HEADER + 4];

	(void)s; (void)ch; (void)pw; (void)ph;
	clamp_size(cc, w, h);
	if (cc->kind == CHANNEL_SHELL)
		shell_send(cc, SHELL_RESIZE, frame + SHELL_FRAME_HEADER,
		           shell_frame_resize(frame, cc->cols, cc->rows) - SHELL_FRAME_HEADER);
	return 0;
}

static int on_shell_request(ssh_session s, ssh_channel ch, void *userdata)
{
	struct channel_ctx *cc = userdata;

	(void)s;
	(void)ch;
	if (cc->command_pending)
		return -1;
	cc->command[0] = '\0';
	cc->command_pending = 1;
	return 0;
}

static int on_exec_request(ssh_session s, ssh_channel ch, const char *command, void *userdata)
{
	struct channel_ctx *cc = userdata;

	(void)s;
	(void)ch;
	if (cc->command_pending || strlen(command) >= sizeof cc->command)
		return -1;
	snprintf(cc->command, sizeof cc->command, "%s", command);
	cc->command_pending = 1;
	return 0;
}

/* Blocking write of everything to the core's socketpair: a slow core side
 * (back-pressure from a slow end user) stalls only this connection. */
static int write_fd_all(struct conn *c, int fd, const char *data, size_t len)
{
	time_t last_progress = time(NULL);

	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			data += n;
			len -= (size_t)n;
			last_progress = time(NULL);
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -1;
		/* Bounded: a peer that takes nothing for this long is gone. */
		if (c->front->stopping || time(NULL) - last_progress > FORWARD_STALL_TIMEOUT_S)
			return -1;
		struct pollfd pfd = { fd, POLLOUT, 0 };
		poll(&pfd, 1, LOOP_POLL_MS);
	}
	return 0;
}

static int on_channel_data(ssh_session s, ssh_channel ch, void *data, uint32_t len, int is_stderr,
                           void *userdata)
{
	struct channel_ctx *cc = userdata;

	(void)s;
	(void)ch;
	(void)is_stderr;
	if (cc->kind == CHANNEL_SHELL) {
		for (uint32_t off = 0; off < len; off += SHELL_FRAME_MAX)
			shell_send(cc, SHELL_DATA, (const char *)data + off,
			           len - off < SHELL_FRAME_MAX ? len - off : SHELL_FRAME_MAX);
		return (int)len;
	}
	if (cc->kind == CHANNEL_SESSION) {
		/* Input may arrive in the same poll round as the exec request, before
		 * the command is dispatched: keep it (bounded) for a shell. */
		size_t room = SHELL_EARLY_INPUT_MAX - cc->nearly;
		size_t take = len < room ? len : room;
		if (take) {
			if (cc->early == NULL)
				cc->early = xmalloc(SHELL_EARLY_INPUT_MAX);
			memcpy(cc->early + cc->nearly, data, take);
			cc->nearly += take;
		}
		return (int)len;
	}
	if (cc->kind != CHANNEL_FORWARD || cc->fd < 0)
		return (int)len;
	if (write_fd_all(cc->conn, cc->fd, data, len) < 0)
		cc->dead = 1;
	return (int)len;
}

static void on_channel_eof(ssh_session s, ssh_channel ch, void *userdata)
{
	struct channel_ctx *cc = userdata;

	(void)s;
	(void)ch;
	if (cc->kind == CHANNEL_FORWARD && cc->fd >= 0)
		shutdown(cc->fd, SHUT_WR);
	if (cc->kind == CHANNEL_SHELL)
		shell_send(cc, SHELL_DATA, "", 0); /* end of input (pipe mode) */
	else if (cc->kind == CHANNEL_SESSION)
		cc->early_eof = 1;
}

static void on_channel_close(ssh_session s, ssh_channel ch, void *userdata)
{
	(void)s;
	(void)ch;
	((struct channel_ctx *)userdata)->dead = 1;
}

static struct channel_ctx *channel_ctx_new(struct conn *c, ssh_channel channel, enum channel_kind kind)
{
	struct channel_ctx *cc = xcalloc(1, sizeof *cc);

	cc->conn = c;
	cc->channel = channel;
	cc->kind = kind;
	cc->fd = -1;
	cc->notice_fd = -1;
	cc->cb.userdata = cc;
	cc->cb.channel_data_function = on_channel_data;
	cc->cb.channel_eof_function = on_channel_eof;
	cc->cb.channel_close_function = on_channel_close;
	if (kind == CHANNEL_SESSION) {
		cc->cb.channel_pty_request_function = on_pty_request;
		cc->cb.channel_shell_request_function = on_shell_request;
		cc->cb.channel_exec_request_function = on_exec_request;
		cc->cb.channel_pty_window_change_function = on_window_change;
	}
	ssh_callbacks_init(&cc->cb);
	ssh_set_channel_callbacks(channel, &cc->cb);
	cc->next = c->channels;
	c->channels = cc;
	c->nchannels++;
	return cc;
}

static ssh_channel on_session_channel(ssh_session session, void *userdata)
{
	struct conn *c = userdata;
	ssh_channel channel;

	if (!c->authenticated || c->nchannels >= MAX_CHANNELS)
		return NULL;
	channel = ssh_channel_new(session);
	if (channel)
		channel_ctx_new(c, channel, CHANNEL_SESSION);
	return channel;
}

/* Forward data from the core's side to the SSH channel. */
/* A forward carries raw RFB, so a reason for cutting it comes on its own
 * socket, written before the forward was closed.  `ssh -N -L` has no
 * channel to print on: the whole connection ends with the reason as its
 * disconnect message, which the OpenSSH client prints. */
static void take_notice(struct channel_ctx *cc)
{
	struct conn *c = cc->conn;
	char text[FORWARD_NOTICE_MAX + 1];
	ssize_t n;

	if (cc->notice_fd < 0 || c->goodbye[0])
		return;
	n = recv(cc->notice_fd, text, FORWARD_NOTICE_MAX, MSG_DONTWAIT);
	if (n <= 0)
		return;
	for (ssize_t i = 0; i < n; i++)
		c->goodbye[i] = (text[i] >= 0x20 && text[i] < 0x7f) ? text[i] : ' ';
	c->goodbye[n] = '\0';
	log_info("event=forward_cut user=%s reason=\"%s\"", c->user, c->goodbye);
}

static int on_forward_fd(socket_t fd, int revents, void *userdata)
{
	struct channel_ctx *cc = userdata;
	char buf[SSH_CHANNEL_CHUNK];
	ssize_t n;

	/* ssh_channel_write may poll and call us again: a nested read would
	 * interleave its bytes with the ones being written. */
	if (cc->dead || cc->busy)
		return 0;
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return 0;
	n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
	if (n > 0) {
		cc->busy = 1;
		if (ssh_channel_write(cc->channel, buf, (uint32_t)n) != n)
			cc->dead = 1;
		cc->busy = 0;
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		/* The core closed (session ended, refusal sent): end the channel. */
		ssh_channel_send_eof(cc->channel);
		cc->dead = 1;
		take_notice(cc);
	}
	return 0;
}

/* direct-tcpip (ssh -L) arrives only through the message callback. */
static int on_message(ssh_session session, ssh_message msg, void *userdata)
{
	struct conn *c = userdata;
	struct join_request req;
	struct channel_ctx *cc;
	ssh_channel channel;
	const char *dest;
	int port, pair[2], notice[2];

	(void)session;
	if (ssh_message_type(msg) == SSH_REQUEST_AUTH && ssh_message_subtype(msg) != SSH_AUTH_METHOD_NONE) {
		/* Passwords and the like: refused (default reply), but a failure. */
		c->auth_failures++;
		reject_peer(c, "auth_method_refused", ssh_message_subtype(msg) == SSH_AUTH_METHOD_PASSWORD
		                                          ? "password" : "not publickey");
		return 1;
	}
	if (ssh_message_type(msg) != SSH_REQUEST_CHANNEL_OPEN ||
	    ssh_message_subtype(msg) != SSH_CHANNEL_DIRECT_TCPIP)
		return 1; /* default reply (refuse) */
	dest = ssh_message_channel_request_open_destination(msg);
	port = ssh_message_channel_request_open_destination_port(msg);
	if (!c->authenticated || dest == NULL || (port != 5900 && port != 5901) ||
	    strlen(dest) > TICKET_ID_MAX || c->nchannels >= MAX_CHANNELS) {
		char details[192];
		snprintf(details, sizeof details, "forward=%.64s:%d reason=\"only SESSION:5900 (control) "
		         "or SESSION:5901 (view) can be forwarded\"", dest ? dest : "?", port);
		conn_audit(c, "forward.deny", details);
		return 1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
		return 1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, notice) < 0) {
		close(pair[0]);
		close(pair[1]);
		return 1;
	}
	channel = ssh_message_channel_request_open_reply_accept(msg);
	if (channel == NULL) {
		close(pair[0]);
		close(pair[1]);
		close(notice[0]);
		close(notice[1]);
		return 0;
	}
	cc = channel_ctx_new(c, channel, CHANNEL_FORWARD);
	cc->fd = pair[0];
	cc->notice_fd = notice[0];
	fcntl(cc->fd, F_SETFL, fcntl(cc->fd, F_GETFL) | O_NONBLOCK);
	ssh_event_add_fd(c->event, cc->fd, POLLIN, on_forward_fd, cc);
	memset(&req, 0, sizeof req);
	snprintf(req.session_ref, sizeof req.session_ref, "%s", dest);
	snprintf(req.user, sizeof req.user, "%s", c->user);
	snprintf(req.role, sizeof req.role, "%s", c->role);
	snprintf(req.source, sizeof req.source, "%s", c->source);
	req.want_control = port == 5900;
	req.fd = pair[1];
	req.notice_fd = notice[1];
	relay_core_post_join(c->front->core, &req);
	return 0;
}

/* Frames from the core for a shell channel: output, notices, the exit status. */
static int on_shell_fd(socket_t fd, int revents, void *userdata)
{
	struct channel_ctx *cc = userdata;
	struct shell_frame frame;
	ssize_t n;
	long size;
	int status;

	/* Channel writes may poll the session again and call us back: the
	 * frames being handled must not be read twice. */
	if (cc->dead || cc->busy || !(revents & (POLLIN | POLLHUP | POLLERR)))
		return 0;
	n = recv(fd, cc->in + cc->nin, SHELL_FRAME_HEADER + SHELL_FRAME_MAX - cc->nin, MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		static const char gone[] = "\r\nconcierge: the shell stream closed: the session ended or "
		                           "the end user's connection was lost\r\n";
		cc->busy = 1;
		ssh_channel_write_stderr(cc->channel, gone, sizeof gone - 1);
		ssh_channel_request_send_exit_status(cc->channel, 255);
		ssh_channel_send_eof(cc->channel);
		cc->busy = 0;
		cc->dead = 1;
		return 0;
	}
	if (n < 0)
		return 0;
	cc->nin += (size_t)n;
	cc->busy = 1;
	while ((size = shell_frame_next(cc->in, cc->nin, &frame)) > 0) {
		if (frame.type == SHELL_DATA && frame.len) {
			ssh_channel_write(cc->channel, frame.payload, (uint32_t)frame.len);
		} else if (frame.type == SHELL_NOTICE) {
			char notice[SHELL_FRAME_MAX + 16];
			int len = snprintf(notice, sizeof notice, "concierge: %.*s\r\n", (int)frame.len,
			                   (const char *)frame.payload);
			ssh_channel_write_stderr(cc->channel, notice, (uint32_t)len);
		} else if (frame.type == SHELL_EXIT && shell_frame_get_exit(&frame, &status) == 0) {
			ssh_channel_request_send_exit_status(cc->channel, status);
			ssh_channel_send_eof(cc->channel);
			ssh_channel_close(cc->channel);
			cc->dead = 1;
			break;
		}
		memmove(cc->in, cc->in + size, cc->nin - (size_t)size);
		cc->nin -= (size_t)size;
	}
	cc->busy = 0;
	if (size < 0)
		cc->dead = 1; /* a malformed frame from our own core: end the channel */
	return 0;
}

/* `shell SESSION [--view-only]`: the channel becomes a shell stream. */
static int start_shell(struct conn *c, struct channel_ctx *cc)
{
	char session_ref[TICKET_ID_MAX + 1];
	struct join_request req;
	int view_only = 0, pair[2];

	if (ssh_shell_request_parse(cc->command, session_ref, &view_only) < 0) {
		const char *usage = "usage: shell SESSION [--view-only]   (SESSION: id or ticket id)\r\n";
		ssh_channel_write_stderr(cc->channel, usage, (uint32_t)strlen(usage));
		return 2;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
		return 1;
	cc->kind = CHANNEL_SHELL;
	cc->fd = pair[0];
	cc->in = xmalloc(SHELL_FRAME_HEADER + SHELL_FRAME_MAX);
	fcntl(cc->fd, F_SETFL, fcntl(cc->fd, F_GETFL) | O_NONBLOCK);
	ssh_event_add_fd(c->event, cc->fd, POLLIN, on_shell_fd, cc);
	memset(&req, 0, sizeof req);
	snprintf(req.session_ref, sizeof req.session_ref, "%s", session_ref);
	snprintf(req.user, sizeof req.user, "%s", c->user);
	snprintf(req.role, sizeof req.role, "%s", c->role);
	snprintf(req.source, sizeof req.source, "%s", c->source);
	req.want_control = !view_only;
	req.shell = 1;
	req.tty = cc->tty;
	req.cols = cc->tty ? cc->cols : 80;
	req.rows = cc->tty ? cc->rows : 24;
	req.fd = pair[1];
	req.notice_fd = -1; /* shells get NOTICE frames in-band */
	relay_core_post_join(c->front->core, &req);
	/* Input that came with the request goes first, then its end if it ended. */
	for (size_t off = 0; off < cc->nearly; off += SHELL_FRAME_MAX)
		shell_send(cc, SHELL_DATA, cc->early + off,
		           cc->nearly - off < SHELL_FRAME_MAX ? cc->nearly - off : SHELL_FRAME_MAX);
	if (cc->early_eof)
		shell_send(cc, SHELL_DATA, "", 0);
	free(cc->early);
	cc->early = NULL;
	cc->nearly = 0;
	log_info("event=shell_requested user=%s session=%.64s tty=%d view_only=%d", c->user, session_ref,
	         cc->tty, view_only);
	return 0;
}

static void finish_command(struct channel_ctx *cc, int status)
{
	ssh_channel_request_send_exit_status(cc->channel, status);
	ssh_channel_send_eof(cc->channel);
	ssh_channel_close(cc->channel);
}

static void run_command(struct conn *c, struct channel_ctx *cc)
{
	char *out_text = NULL, *err_text = NULL;
	size_t out_len = 0, err_len = 0;
	FILE *out = open_memstream(&out_text, &out_len), *err = open_memstream(&err_text, &err_len);
	int status = 1;

	if (out && err) {
		status = ssh_command_run(c->store, c->front->cfg, c->front->core, c->user, c->role,
		                         cc->command, out, err);
		fclose(out);
		fclose(err);
		out = err = NULL;
		if (out_len)
			ssh_channel_write(cc->channel, out_text, (uint32_t)out_len);
		if (err_len)
			ssh_channel_write_stderr(cc->channel, err_text, (uint32_t)err_len);
	}
	if (out)
		fclose(out);
	if (err)
		fclose(err);
	free(out_text);
	free(err_text);
	log_info("event=ssh_command user=%s command=\"%.80s\" status=%d", c->user, cc->command, status);
	finish_command(cc, status);
}

/* A session channel's exec/shell request: a shell stream or a command. */
static void dispatch_command(struct conn *c, struct channel_ctx *cc)
{
	int status;

	cc->command_pending = 0;
	if (strncmp(cc->command, "shell", 5) == 0 && (cc->command[5] == ' ' || cc->command[5] == '\0')) {
		status = start_shell(c, cc);
		if (status != 0)
			finish_command(cc, status);
		return;
	}
	run_command(c, cc);
}

static void channel_ctx_free(struct conn *c, struct channel_ctx *cc)
{
	if (cc->fd >= 0) {
		ssh_event_remove_fd(c->event, cc->fd);
		close(cc->fd);
	}
	if (cc->notice_fd >= 0)
		close(cc->notice_fd);
	if (!ssh_channel_is_closed(cc->channel))
		ssh_channel_close(cc->channel);
	ssh_remove_channel_callbacks(cc->channel, &cc->cb);
	ssh_channel_free(cc->channel);
	c->nchannels--;
	free(cc->in);
	free(cc->early);
	free(cc);
}

static void sweep_channels(struct conn *c)
{
	struct channel_ctx **pp = &c->channels;

	while (*pp) {
		struct channel_ctx *cc = *pp;
		if (cc->command_pending)
			dispatch_command(c, cc);
		if (cc->dead || ssh_channel_is_closed(cc->channel)) {
			*pp = cc->next;
			channel_ctx_free(c, cc);
		} else {
			pp = &cc->next;
		}
	}
}

/* ---- connection thread ------------------------------------------------- */

static void conn_run(struct conn *c)
{
	long kex_timeout = KEX_TIMEOUT_S;
	time_t started = time(NULL);
	char err[512];

	ssh_options_set(c->session, SSH_OPTIONS_TIMEOUT, &kex_timeout);
	c->server_cb.userdata = c;
	c->server_cb.auth_pubkey_function = on_auth_pubkey;
	c->server_cb.channel_open_request_session_function = on_session_channel;
	ssh_callbacks_init(&c->server_cb);
	ssh_set_server_callbacks(c->session, &c->server_cb);
	ssh_set_message_callback(c->session, on_message, c);
	if (ssh_handle_key_exchange(c->session) != SSH_OK) {
		/* The error may quote the peer's banner: reject_log cleans it. */
		reject_peer(c, "kex_failed", ssh_get_error(c->session));
		return;
	}
	/* Only peers that completed the key exchange cost a database handle. */
	if (store_open(c->front->cfg->database, STORE_OPEN_EXISTING, &c->store, err, sizeof err) < 0) {
		log_error("event=ssh_store_failed error=\"%s\"", err);
		return;
	}
	ssh_set_auth_methods(c->session, SSH_AUTH_METHOD_PUBLICKEY);
	c->event = ssh_event_new();
	if (c->event == NULL || ssh_event_add_session(c->event, c->session) != SSH_OK)
		return;
	const char *why = "relay stopping";
	while (!c->front->stopping) {
		if (ssh_event_dopoll(c->event, LOOP_POLL_MS) == SSH_ERROR) {
			why = "connection error";
			break;
		}
		if (!c->authenticated && (time(NULL) - started > SSH_AUTH_TIMEOUT_S ||
		                          c->auth_failures >= MAX_AUTH_FAILURES)) {
			reject_peer(c, c->auth_failures >= MAX_AUTH_FAILURES ? "too_many_auth_failures"
			                                                     : "auth_timeout", NULL);
			ssh_session_set_disconnect_message(c->session, "authentication timed out or failed too often");
			why = "not authenticated";
			break;
		}
		sweep_channels(c);
		if (c->goodbye[0]) {
			ssh_session_set_disconnect_message(c->session, c->goodbye);
			why = "cut by the relay";
			break;
		}
		if (!ssh_is_connected(c->session)) {
			why = "client disconnected";
			break;
		}
		if (c->authenticated && c->channels == NULL && time(NULL) - started > SSH_AUTH_TIMEOUT_S &&
		    ssh_get_status(c->session) & SSH_CLOSED) {
			why = "client closed";
			break;
		}
	}
	if (c->front->stopping)
		ssh_session_set_disconnect_message(c->session, "Concierge relay shutting down: sessions ended");
	/* Why a logged-in connection ended, so an operator can tell a client's
	 * goodbye from a network error (libssh's error text names the cause). */
	if (c->authenticated) {
		log_clean_text(err, sizeof err, strcmp(why, "connection error") == 0 ? ssh_get_error(c->session) : "");
		log_info("event=ssh_closed user=%s source=%s seconds=%ld why=\"%s\" detail=\"%.120s\"", c->user,
		         c->source, (long)(time(NULL) - started), why, err);
	}
	while (c->channels) {
		struct channel_ctx *cc = c->channels;
		c->channels = cc->next;
		channel_ctx_free(c, cc);
	}
}

/* After our disconnect message, read what the client still sends until it
 * closes (at most DISCONNECT_LINGER_MS): closing a socket with unread input
 * resets the connection, and the client would lose the message. */
static void linger_close(int fd)
{
	char sink[4096];
	struct pollfd pfd = { fd, POLLIN, 0 };
	struct timespec start, now;

	shutdown(fd, SHUT_WR);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		long waited_ms;
		clock_gettime(CLOCK_MONOTONIC, &now);
		waited_ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (waited_ms >= DISCONNECT_LINGER_MS || poll(&pfd, 1, (int)(DISCONNECT_LINGER_MS - waited_ms)) <= 0)
			break;
		if (recv(fd, sink, sizeof sink, MSG_DONTWAIT) <= 0)
			break;
	}
	close(fd);
}

/* Before ssh_disconnect: output still queued (screen data) and the
 * disconnect message must reach the client, so the socket blocks for up to
 * DISCONNECT_LINGER_MS per write instead of dropping what does not fit; and
 * we keep our own descriptor (libssh closes its own) for linger_close. */
static int hold_for_goodbye(int fd)
{
	struct timeval limit = { DISCONNECT_LINGER_MS / 1000, (DISCONNECT_LINGER_MS % 1000) * 1000 };
	int flags;

	if (fd < 0)
		return -1;
	flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
	return dup(fd);
}

static void *conn_thread(void *arg)
{
	struct conn *c = arg;
	struct ssh_front *front = c->front;
	int lingering;

	conn_run(c);
	/* libssh sends a packet only once its poll saw the socket writable
	 * since the last write; without this round the disconnect message right
	 * after a channel close would be dropped with the socket. */
	if (c->event && ssh_is_connected(c->session))
		ssh_event_dopoll(c->event, LOOP_POLL_MS);
	lingering = hold_for_goodbye(ssh_get_fd(c->session));
	ssh_disconnect(c->session);
	if (lingering >= 0)
		linger_close(lingering);
	if (c->event) {
		ssh_event_remove_session(c->event, c->session);
		ssh_event_free(c->event);
	}
	ssh_free(c->session);
	if (c->store)
		store_close(c->store);
	release_preauth_slot(c);
	free(c);
	pthread_mutex_lock(&front->lock);
	if (--front->connections == 0)
		pthread_cond_broadcast(&front->idle);
	pthread_mutex_unlock(&front->lock);
	return NULL;
}

static void accept_one(struct ssh_front *front)
{
	struct sockaddr_storage sa;
	socklen_t salen = sizeof sa;
	struct conn *c;
	pthread_t thread;
	pthread_attr_t attr;
	enum peer_verdict verdict;
	int fd = accept4(front->listen_fd, (struct sockaddr *)&sa, &salen, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	/* The relay writes whole SSH packets: Nagle's algorithm would only hold
	 * a small one (a keystroke's echo, a small screen update) back until the
	 * client acknowledges the previous one.  OpenSSH's sshd does the same
	 * for interactive sessions. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	c = xcalloc(1, sizeof *c);
	c->front = front;
	if (sa.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, c->source, sizeof c->source);
	else if (sa.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr, c->source, sizeof c->source);
	/* Before a thread or any SSH work: too many unauthenticated, or an
	 * address that keeps failing. */
	verdict = peer_guard_admit(front->guard, c->source, peer_guard_clock());
	if (verdict != PEER_ADMIT) {
		reject_log_line(front->rejects, peer_guard_clock(), "ssh_refused", c->source,
		                peer_verdict_name(verdict), NULL);
		close(fd);
		free(c);
		return;
	}
	c->preauth_slot = 1;
	c->session = ssh_new();
	if (c->session == NULL || ssh_bind_accept_fd(front->bind, c->session, fd) != SSH_OK) {
		log_error("event=ssh_accept_failed error=\"%s\"", ssh_get_error(front->bind));
		if (c->session)
			ssh_free(c->session);
		close(fd);
		release_preauth_slot(c);
		free(c);
		return;
	}
	pthread_mutex_lock(&front->lock);
	front->connections++;
	pthread_mutex_unlock(&front->lock);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&thread, &attr, conn_thread, c) != 0) {
		log_error("event=ssh_thread_failed");
		pthread_mutex_lock(&front->lock);
		front->connections--;
		pthread_mutex_unlock(&front->lock);
		ssh_free(c->session);
		release_preauth_slot(c);
		free(c);
	}
	pthread_attr_destroy(&attr);
}

static void *accept_thread(void *arg)
{
	struct ssh_front *front = arg;

	while (!front->stopping) {
		struct pollfd pfd = { front->listen_fd, POLLIN, 0 };
		if (poll(&pfd, 1, ACCEPT_POLL_MS) > 0 && (pfd.revents & POLLIN))
			accept_one(front);
		reject_log_flush(front->rejects, peer_guard_clock());
	}
	return NULL;
}

static int listen_on(const struct host_port *hp, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	struct addrinfo *res = NULL;
	char port[8];
	int fd = -1, one = 1, rc;

	snprintf(port, sizeof port, "%u", hp->port);
	rc = getaddrinfo(hp->host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "ssh_listen %s: %s", hp->host, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 64) < 0) {
		snprintf(err, errlen, "cannot listen on ssh_listen %s:%u: %s (in use? change ssh_listen)",
		         hp->host, hp->port, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static int restrict_algorithms(ssh_bind bind)
{
	if (ssh_bind_options_set(bind, SSH_BIND_OPTIONS_KEY_EXCHANGE, SSH_KEX_ALGORITHMS) != SSH_OK ||
	    ssh_bind_options_set(bind, SSH_BIND_OPTIONS_CIPHERS_C_S, SSH_CIPHERS) != SSH_OK ||
	    ssh_bind_options_set(bind, SSH_BIND_OPTIONS_CIPHERS_S_C, SSH_CIPHERS) != SSH_OK ||
	    ssh_bind_options_set(bind, SSH_BIND_OPTIONS_HMAC_C_S, SSH_MACS) != SSH_OK ||
	    ssh_bind_options_set(bind, SSH_BIND_OPTIONS_HMAC_S_C, SSH_MACS) != SSH_OK ||
	    ssh_bind_options_set(bind, SSH_BIND_OPTIONS_BANNER, SSH_SOFTWARE_VERSION) != SSH_OK)
		return -1;
	return 0;
}

struct ssh_front *ssh_front_start(const struct concierge_config *cfg, struct relay_core *core,
                                  char *err, size_t errlen)
{
	struct ssh_front *front = xcalloc(1, sizeof *front);
	char hostkey[CFG_MAX_PATH + 32];
	bool no_config = false;

	front->cfg = cfg;
	front->core = core;
	front->listen_fd = -1;
	pthread_mutex_init(&front->lock, NULL);
	pthread_cond_init(&front->idle, NULL);
	front->guard = peer_guard_new_preauth(cfg);
	front->rejects = reject_log_new(REJECT_LOG_PER_WINDOW, REJECT_LOG_WINDOW_S, REJECT_LOG_KEYS);
	snprintf(hostkey, sizeof hostkey, "%s/ssh_host_ed25519_key", cfg->certs_dir);
	front->bind = ssh_bind_new();
	if (front->bind == NULL ||
	    ssh_bind_options_set(front->bind, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no_config) != SSH_OK ||
	    ssh_bind_options_set(front->bind, SSH_BIND_OPTIONS_HOSTKEY, hostkey) != SSH_OK) {
		snprintf(err, errlen, "cannot load the SSH host key %s: run 'concierge init'", hostkey);
		goto fail;
	}
	if (restrict_algorithms(front->bind) < 0) {
		snprintf(err, errlen, "libssh refused the SSH algorithm lists: %s", ssh_get_error(front->bind));
		goto fail;
	}
	front->listen_fd = listen_on(&cfg->ssh_listen, err, errlen);
	if (front->listen_fd < 0)
		goto fail;
	if (pthread_create(&front->accept_thread, NULL, accept_thread, front) != 0) {
		snprintf(err, errlen, "cannot start the SSH accept thread");
		goto fail;
	}
	return front;
fail:
	if (front->listen_fd >= 0)
		close(front->listen_fd);
	if (front->bind)
		ssh_bind_free(front->bind);
	peer_guard_free(front->guard);
	reject_log_free(front->rejects);
	free(front);
	return NULL;
}

void ssh_front_stop(struct ssh_front *front)
{
	struct timespec deadline;

	if (front == NULL)
		return;
	front->stopping = 1;
	pthread_join(front->accept_thread, NULL);
	close(front->listen_fd);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += STOP_WAIT_MS / 1000;
	pthread_mutex_lock(&front->lock);
	while (front->connections > 0)
		if (pthread_cond_timedwait(&front->idle, &front->lock, &deadline) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&front->lock);
	if (front->connections > 0) {
		/* Threads still out would touch freed state: leave it allocated. */
		log_warn("event=ssh_threads_still_running count=%d", front->connections);
		return;
	}
	ssh_bind_free(front->bind);
	reject_log_flush(front->rejects, peer_guard_clock() + REJECT_LOG_WINDOW_S);
	reject_log_free(front->rejects);
	peer_guard_free(front->guard);
	pthread_cond_destroy(&front->idle);
	pthread_mutex_destroy(&front->lock);
	free(front);
}
