/*
 * Private to the relay core's two files: relay_core.c (connections,
 * consent, splices) and relay_record.c (the recording of live sessions:
 * records, recorder legs, failing closed).  Everything here runs on the
 * core's event thread.
 */
#ifndef CONCIERGE_RELAY_INTERNAL_H
#define CONCIERGE_RELAY_INTERNAL_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "recording.h"
#include "relay_core.h"
#include "secrets.h"

enum participant_state {
	P_ASKING,         /* the end user is asked */
	P_AWAIT_STREAM,   /* allowed; the agent opens the stream */
	P_AWAIT_RECORDER, /* stream here; waits for the recorder leg to record */
	P_LIVE,           /* spliced: participant time, recorded */
};

struct live_session;
struct recorder_leg;
struct fsync_pool;
struct session_record;

struct participant {
	struct live_session *session;
	struct participant *next;
	int id;                         /* also its stream number in the recording */
	char user[USER_NAME_MAX + 1];
	char role[16];
	char source[64];
	int want_control, granted_control;
	int shell, tty;
	unsigned cols, rows;
	enum participant_state state;
	struct bufferevent *ssh_bev;    /* participant side until spliced */
	struct bufferevent *stream_bev; /* agent side once it arrives (owned by splice once spliced) */
	char token_hash[SHA256_HEX_LEN];
	struct event *timer;            /* consent, stream or recorder deadline */
	struct splice *splice;
	struct rfb_filter *filter;              /* screen streams */
	struct shell_filter *shell_in, *shell_out; /* shell streams */
	struct bufferevent *ssh_side;           /* borrowed from the splice, for shell_out */
	long long db_id;
	int notice_fd;                  /* screen forwards: why we cut it (see join_request) */
};

/* A recorder leg: one more stream from the agent that only the relay reads. */
struct record_leg {
	struct live_session *session;
	int shell;                      /* shell leg (PTY output) or screen leg (RFB) */
	int id;                         /* wire id and recording stream: 1000+k screen, 2000+k shell */
	int ready;                      /* screen: handshake recorded; shell: stream attached */
	int announced;                  /* RECORDER start written, waiting participants let in */
	int exited;                     /* shell: the shell's exit status went by */
	int draining;                   /* nobody left: read what is in flight, then stop */
	struct timeval drain_started, last_data;
	char token_hash[SHA256_HEX_LEN];
	struct event *timer;            /* stream deadline */
	struct bufferevent *bev;        /* the agent's stream once attached */
	struct recorder_leg *rfb;       /* screen */
	struct shell_filter *frames;    /* shell */
};

struct live_session {
	struct relay_core *core;
	struct live_session *next;
	char id[SESSION_ID_LEN + 1];
	char ticket[TICKET_ID_MAX + 1];
	char created_by[USER_NAME_MAX + 1];
	struct bufferevent *control;    /* NULL while the agent is away */
	struct event *grace_timer, *ping_timer;
	struct participant *participants;
	int next_participant_id;
	int resumed;                    /* adopted or resumed after a relay restart */
	/* Recording (relay_record.c) */
	struct session_record *record;  /* NULL until the first join asks */
	int record_failed;              /* a write failed: everyone is being cut */
	char record_why[256];
	struct event *record_tick, *record_fail;
	uint64_t record_serial;         /* names this recording to the fsync pool */
	struct record_leg *screen_leg, *shell_leg;
	int screen_legs, shell_legs;    /* legs started so far (stream numbering) */
};

struct pending_conn {
	struct relay_core *core;
	struct pending_conn *prev, *next;
	struct bufferevent *bev;
	struct event *deadline;         /* PREAUTH_TIMEOUT_S from accept, however the bytes trickle */
	char source[64];
};

enum post_kind { POST_JOIN, POST_END };

struct post {
	enum post_kind kind;
	struct join_request join;
	char session_id[SESSION_ID_LEN + 1];
	char reason[128];
	struct post *next;
};

struct relay_core {
	struct event_base *base;
	const struct concierge_config *cfg;
	struct store *store;
	SSL_CTX *tls;
	EVP_PKEY *signing_key;          /* signs recordings */
	struct evconnlistener *listener;
	struct pending_conn *pending;
	struct live_session *sessions;
	pthread_mutex_t lock;
	struct post *posts, *posts_tail;
	struct event *wakeup;
	struct peer_guard *wrong_codes; /* wrong session codes per source (peer_guard.h, counting only) */
	struct peer_guard *guard;       /* pre-auth connections per source (peer_guard.h) */
	struct reject_log *rejects;     /* rejected peers' log lines, limited (reject_log.h) */
	struct event *rejects_flush;    /* reports suppressed log lines every second */
	int shutting_down;
	struct fsync_pool *fsync_pool;  /* checkpoint fsyncs off this thread */
	uint64_t record_serials;        /* last record_serial handed out */
};

/* relay_core.c */
void core_send_line(struct bufferevent *bev, const char *line, int len);
int core_audit(struct relay_core *core, const char *actor, const char *action,
               const struct live_session *ls, const char *details);
/* Removes a participant in any state; `refusal` is told to one not yet
 * spliced (a spliced shell participant gets it as a NOTICE). */
void participant_end(struct participant *p, const char *reason, const char *refusal);
/* OPEN for the agent: a fresh single-use stream token, its hash kept. */
void core_send_open(struct live_session *ls, int id, int shell, const char *rights, int tty,
                    unsigned cols, unsigned rows, int recorder, char token_hash[SHA256_HEX_LEN]);
/* Tells a spliced screen participant why they are cut off, as the SSH
 * disconnect message their client prints (shells get a NOTICE instead). */
void participant_notify(struct participant *p, const char *why);
/* Splices a participant whose stream is here (P_AWAIT_RECORDER). */
void participant_splice(struct participant *p);

/* relay_record.c */
/* The fsync pool's failure report (event thread): fails that recording. */
void record_sync_failed(uint64_t serial, int error_number, void *core);
/* Opens the session's recording if it has none: 0, or -1 with `err`. */
int record_open(struct live_session *ls, char *err, size_t errlen);
/* 1 while the session's recording takes records. */
int record_ok(const struct live_session *ls);
/* Event records; a failure cuts the session (from a later loop turn). */
void record_event(struct live_session *ls, const char *verb, ...) __attribute__((sentinel));
void record_data(struct live_session *ls, enum recording_type type, int stream,
                 const char *participant, int dropped, const void *data, size_t len);
/* A participant allowed in: starts the recorder leg its kind needs. */
void record_participant_allowed(struct participant *p);
/* JOIN event and the participant on the recording's database row. */
void record_participant_joined(struct participant *p, const char *rights);
/* 1 when the participant's kind is being recorded (it may be spliced). */
int record_ready_for(const struct participant *p);
/* STREAM token digest of a recorder leg: attaches `bev` and returns 1, else 0. */
int record_attach_leg(struct relay_core *core, struct bufferevent *bev, const char *digest);
/* After a participant left: stops legs nobody needs. */
void record_participants_changed(struct live_session *ls);
/* Session end: END event, legs stopped, trailer written; frees recording state. */
void record_close(struct live_session *ls, const char *reason);

#endif
