/*
 * The end user's side of shell sessions: one shared PTY per host that every
 * interactive participant sees (like a shared tmux), plus one private pipe
 * child per non-interactive participant (scripts).  Every participant's
 * stream carries shell frames (common/shell_frame.h) both ways.  Runs on the
 * caller's libevent loop thread; nothing blocks except fork and
 * shell_host_free.
 *
 * Children run as the calling user in their own session (setsid), with the
 * agent's environment (TERM=xterm-256color added for the PTY when unset),
 * the current directory set to $HOME, default signal dispositions, an empty
 * signal mask and no other open fd than 0, 1, 2.
 *
 * Ownership and lifetime:
 *  - shell_host_new borrows `base` (must outlive the host), copies `program`.
 *    It installs a SIGCHLD event on `base` and reaps only its own children
 *    (waitpid by pid).  The caller ignores SIGPIPE (stop_signals_install
 *    does): input is written to pipes whose reader may be gone.
 *  - shell_host_attach takes `stream` in every case: on failure it is freed
 *    before return.  The host frees it when the participant detaches (its
 *    stream closed, malformed or unexpected frame, it fell 4 x
 *    SPLICE_HIGH_WATER bytes of output behind) or, after a last EXIT frame
 *    is flushed (bounded by PREAUTH_TIMEOUT_S), when its shell ended.
 *
 * Back-pressure: output is read in chunks of at most SHELL_FRAME_MAX while
 * at least one participant of that shell holds less than SPLICE_HIGH_WATER
 * queued, so the fastest reader sets the pace and a stalled participant
 * stalls nobody else (it is dropped, with a log line).  Input is queued to
 * a child up to SPLICE_HIGH_WATER; then its writers stop being read.
 *  - on_event(ctx, text) gets one line for the person at the machine (who
 *    joined or left, how a shell ended); `text` lives only for the call.  It
 *    runs from the event loop, never from inside a host API call, except
 *    shell_host_attach ("... joined the shell").  It must not free the host.
 *  - shell_host_free may be called at any time from outside host callbacks;
 *    it frees every stream without a goodbye and kills every child: SIGHUP to
 *    its process group, SIGKILL after 1 s; it waits for them
 *    (blocking, bounded by about 1.5 s in all).
 *
 * Returns: shell_host_new returns NULL only when the SIGCHLD event cannot be
 * installed (logged); allocation failures are fatal().
 */
#ifndef CONCIERGE_AGENT_SHELL_HOST_H
#define CONCIERGE_AGENT_SHELL_HOST_H

#include <stddef.h>

struct bufferevent;
struct event_base;
struct shell_host;

/* `program`: NULL means the user's login shell from the password database,
 * else /bin/sh.  A name without '/' is searched in PATH. */
struct shell_host *shell_host_new(struct event_base *base, const char *program,
                                  void (*on_event)(void *ctx, const char *what), void *ctx);

/*
 * Attaches one participant's stream (a connected bufferevent, e.g. TLS to
 * the relay; its callbacks are replaced).  `user` names the participant in
 * logs and events (NULL: "someone").  At most MAX_PARTICIPANTS at once.
 *
 * tty=1: joins the one shared PTY, started on the first interactive attach
 * at cols x rows (0 means 80 x 24).  A late joiner first gets the last
 * SHELL_TAIL_MAX bytes of output as DATA frames, then live output.  An
 * input-allowed joiner's size is applied like a RESIZE.  With
 * input_allowed=0, DATA and RESIZE frames from this participant are dropped
 * and counted (logged when it detaches).  RESIZE from an input-allowed
 * participant sets the PTY size (most recent wins).
 *
 * tty=0 (pipe mode; needs input_allowed=1): starts `program -s` with
 * stdin and stdout+stderr on pipes for this participant only.  DATA goes to
 * its stdin; an empty DATA frame closes its stdin; its output comes back as
 * DATA; RESIZE is ignored.  When this participant detaches early, its child
 * is killed.
 *
 * When a shell exits, each of its participants gets EXIT(status: the exit
 * code, or 128 + signal number) as the last frame and its stream is closed
 * after flushing.  The next interactive attach starts a fresh shell.  The
 * shared shell keeps running when its last participant leaves.
 *
 * Returns 0, or -1 with a sentence for the person in `err` (stream freed).
 */
int shell_host_attach(struct shell_host *host, struct bufferevent *stream, int input_allowed,
                      int tty, unsigned cols, unsigned rows, const char *user, char *err,
                      size_t errlen);

/* The end user ends every shell of this host now (shared and pipe): each
 * participant gets NOTICE "the end user closed the shell", then EXIT(status)
 * once the child is reaped (SIGHUP, SIGKILL after 1 s), and
 * is detached.  Their input is dropped meanwhile. */
void shell_host_end(struct shell_host *host);

/* Number of attached participants (both modes). */
int shell_host_attached(const struct shell_host *host);
/* 1 while the shared PTY shell runs (not yet ended or exited), else 0. */
int shell_host_running(const struct shell_host *host);

void shell_host_free(struct shell_host *host);

#endif
