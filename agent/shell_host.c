#include "shell_host.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <dirent.h>
#include <fcntl.h>
#include <pty.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "concierge_limits.h"
#include "log.h"
#include "shell_frame.h"
#include "splice.h"
#include "xmalloc.h"

#define SHELL_KILL_GRACE_MS   1000  /* SIGHUP, then SIGKILL this much later */
#define SHELL_DRAIN_GRACE_MS  200   /* after a child is reaped, wait this long for its last output */
#define SHELL_DRAIN_READS     8     /* reads of leftover output when a child is finished */
#define SHELL_FREE_WAIT_MS    500   /* shell_host_free: wait after SIGKILL before giving up */
#define SHELL_INPUT_MAX       SPLICE_HIGH_WATER /* input queued for one child; writers pause */
#define SHELL_SLOW_MAX        (4 * SPLICE_HIGH_WATER) /* queued output that drops a participant */
#define SHELL_READ_WATERMARK  (4 * (SHELL_FRAME_HEADER + SHELL_FRAME_MAX)) /* per participant */
#define SHELL_ENV_MAX         4096  /* environment entries handed to a child */
#define SHELL_EVENT_MAX       256   /* one on_event line */
#define SHELL_DEFAULT_COLS    80
#define SHELL_DEFAULT_ROWS    24
#define SHELL_FD_SCAN_MAX     65536 /* close loop bound when close_range is missing */
#define SHELL_PROC_SCAN_MAX   65536 /* /proc entries looked at to find a shell's session */
#define SHELL_STAT_MAX        1024  /* bytes of /proc/PID/stat read */

#define SHELL_TERM_DEFAULT    "TERM=xterm-256color"
#define SHELL_END_NOTICE      "the end user closed the shell"

struct shell_participant;

/* One child: the shared PTY shell or one participant's pipe child. */
struct shell_child {
	struct shell_host *host;
	struct shell_child *next;
	pid_t pid;
	int tty;
	int in_fd, out_fd;        /* both the PTY master when tty; -1 once closed */
	struct event *rd, *wr;
	struct event *timer;      /* SIGKILL escalation, then the drain grace */
	struct evbuffer *inq;     /* participant input not yet written */
	int in_eof;               /* pipe: close stdin once inq drains */
	int out_done;             /* EOF or EIO on out_fd */
	int reaped, status;
	int ending, killed;
	int out_paused;           /* every participant holds SPLICE_HIGH_WATER: reads wait */
	struct shell_participant *owner; /* pipe: its one participant */
	uint8_t *tail;            /* tty: ring of the last SHELL_TAIL_MAX output bytes */
	size_t tail_len, tail_head;
	struct shell_participant *typist; /* tty: the PTY has this participant's window size */
};

struct shell_participant {
	struct shell_host *host;
	struct shell_participant *next;
	struct shell_child *child;
	struct bufferevent *bev;
	char user[USER_NAME_MAX + 1];
	int input_allowed;
	unsigned cols, rows;      /* this participant's window (pty-req, window-change) */
	int paused;               /* EV_READ off while the child's input queue is full */
	uint64_t dropped;         /* frames dropped for lack of the input right */
};

struct shell_host {
	struct event_base *base;
	char *program;
	char *home;
	void (*on_event)(void *ctx, const char *what);
	void *ctx;
	struct event *sigchld;
	struct shell_child *children;
	struct shell_child *shared;
	struct shell_participant *participants;
	int nparticipants;
};

static void child_finish(struct shell_child *c);
static void child_pace(struct shell_child *c);

static void notify(struct shell_host *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void notify(struct shell_host *h, const char *fmt, ...)
{
	char text[SHELL_EVENT_MAX];
	va_list ap;

	if (h->on_event == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	h->on_event(h->ctx, text);
}

static struct timeval ms_tv(long ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	return tv;
}

static int exit_code(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return -1;
}

static int set_nonblock_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static void send_frame(struct shell_participant *p, enum shell_frame_type type, const void *payload,
                       size_t len)
{
	uint8_t hdr[SHELL_FRAME_HEADER] = { (uint8_t)type, 0, (uint8_t)(len >> 8), (uint8_t)len };

	bufferevent_write(p->bev, hdr, sizeof hdr);
	if (len)
		bufferevent_write(p->bev, payload, len);
}

/* ---- participants ---- */

static void participant_unlink(struct shell_participant *p)
{
	struct shell_host *h = p->host;
	struct shell_participant **pp;

	if (p->child && p->child->typist == p)
		p->child->typist = NULL;
	for (pp = &h->participants; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			h->nparticipants--;
			break;
		}
	}
}

/* Signals every process of the session `sid` (the shell and the jobs it
 * started in other process groups, which a group kill misses; Linux /proc).
 * A session id is not reused while any member lives; once the leader is
 * reaped (leader_alive 0) the number itself is skipped, so a stranger that
 * got the pid is never hit. */
static void kill_session(pid_t sid, int leader_alive, int sig)
{
	char path[64], buf[SHELL_STAT_MAX];
	struct dirent *de;
	const char *rp;
	long pid, sess;
	int n = 0, fd;
	ssize_t len;
	DIR *d;

	if (leader_alive) {
		kill(-sid, sig);
		kill(sid, sig);
	}
	d = opendir("/proc");
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL && n++ < SHELL_PROC_SCAN_MAX) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		pid = strtol(de->d_name, NULL, 10);
		snprintf(path, sizeof path, "/proc/%ld/stat", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		/* pid (comm) state ppid pgrp session ...; comm may hold ')' */
		rp = strrchr(buf, ')');
		if (rp && sscanf(rp + 1, " %*c %*d %*d %ld", &sess) == 1 && sess == (long)sid &&
		    pid != (long)getpid() && (leader_alive || pid != (long)sid))
			kill((pid_t)pid, sig);
	}
	closedir(d);
}

static void child_kill(struct shell_child *c)
{
	struct timeval tv = ms_tv(SHELL_KILL_GRACE_MS);

	if (c->reaped || c->ending)
		return;
	c->ending = 1;
	kill_session(c->pid, 1, SIGHUP);
	evtimer_add(c->timer, &tv);
	log_info("event=shell_hangup pid=%ld tty=%d", (long)c->pid, c->tty);
}

/* Detaches p at once, without a goodbye (stream closed, malformed input,
 * stopped reading).  A pipe child loses its only reader: it is killed. */
static void participant_detach(struct shell_participant *p, const char *why)
{
	struct shell_host *h = p->host;
	struct shell_child *c = p->child;

	participant_unlink(p);
	log_info("event=shell_detach user=%s tty=%d input=%d dropped=%llu reason=\"%s\" participants=%d",
	         p->user, c->tty, p->input_allowed, (unsigned long long)p->dropped, why,
	         h->nparticipants);
	if (c->owner == p) {
		c->owner = NULL;
		child_kill(c);
	}
	bufferevent_free(p->bev);
	notify(h, "%s left the shell (%s)", p->user, why);
	free(p);
	child_pace(c);
}

static void pause_writer(struct shell_participant *p)
{
	p->paused = 1;
	bufferevent_disable(p->bev, EV_READ);
}

/* The PTY follows the window of the participant who typed last. */
static void follow_typist(struct shell_child *c, struct shell_participant *p)
{
	struct winsize ws = { (unsigned short)p->rows, (unsigned short)p->cols, 0, 0 };

	c->typist = p;
	if (!c->tty || c->out_fd < 0 || p->cols == 0 || p->rows == 0)
		return;
	if (ioctl(c->out_fd, TIOCSWINSZ, &ws) < 0)
		log_warn("event=shell_resize_failed error=\"%s\"", strerror(errno));
	else
		log_debug("event=shell_resize user=%s cols=%u rows=%u", p->user, p->cols, p->rows);
}

/* Handles one frame; -1 means detach p (the caller does). */
static int participant_frame(struct shell_participant *p, const struct shell_frame *f)
{
	struct shell_child *c = p->child;
	unsigned cols, rows;

	switch (f->type) {
	case SHELL_DATA:
		if (!p->input_allowed || c->ending || c->in_fd < 0 || c->in_eof) {
			p->dropped++;
			return 0;
		}
		if (f->len == 0) {
			if (c->tty)
				return 0;
			c->in_eof = 1;
			event_add(c->wr, NULL); /* closes stdin once the queue is written */
			return 0;
		}
		if (c->tty && c->typist != p)
			follow_typist(c, p);
		evbuffer_add(c->inq, f->payload, f->len);
		event_add(c->wr, NULL);
		return 0;
	case SHELL_RESIZE:
		if (shell_frame_get_resize(f, &cols, &rows) < 0)
			return -1;
		if (!c->tty)
			return 0;
		if (!p->input_allowed || c->ending) {
			p->dropped++;
			return 0;
		}
		if (cols > 0 && rows > 0) {
			p->cols = cols;
			p->rows = rows;
			if (c->typist == p || c->typist == NULL)
				follow_typist(c, p);
		}
		return 0;
	default:
		return -1; /* EXIT and NOTICE only go to participants */
	}
}

/* Consumes complete frames.  Returns -1 when p was detached (freed). */
static int participant_input(struct shell_participant *p)
{
	struct evbuffer *in = bufferevent_get_input(p->bev);

	for (;;) {
		size_t avail = evbuffer_get_length(in), want;
		struct shell_frame f;
		const uint8_t *data;
		long n;

		if (avail == 0)
			return 0;
		if (p->input_allowed && evbuffer_get_length(p->child->inq) >= SHELL_INPUT_MAX) {
			pause_writer(p);
			return 0;
		}
		want = avail < SHELL_FRAME_HEADER + SHELL_FRAME_MAX ? avail
		                                                    : SHELL_FRAME_HEADER + SHELL_FRAME_MAX;
		data = evbuffer_pullup(in, (ssize_t)want);
		n = shell_frame_next(data, want, &f);
		if (n == 0)
			return 0;
		if (n < 0) {
			participant_detach(p, "malformed frame");
			return -1;
		}
		if (participant_frame(p, &f) < 0) {
			participant_detach(p, "unexpected frame");
			return -1;
		}
		evbuffer_drain(in, (size_t)n);
	}
}

static void on_participant_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	participant_input(arg);
}

static void on_participant_drained(struct bufferevent *bev, void *arg)
{
	struct shell_participant *p = arg;

	(void)bev;
	if (p->child->out_paused)
		child_pace(p->child);
}

static void on_participant_event(struct bufferevent *bev, short what, void *arg)
{
	struct shell_participant *p = arg;

	(void)bev;
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	/* Act on what arrived before the end (a pipe's last input). */
	if (participant_input(p) < 0)
		return;
	participant_detach(p, (what & BEV_EVENT_EOF) ? "stream closed" : "stream error");
}

/* ---- children: output ---- */

static void tail_append(struct shell_child *c, const uint8_t *data, size_t len)
{
	size_t room;

	while (len > 0) {
		room = SHELL_TAIL_MAX - c->tail_head;
		if (room > len)
			room = len;
		memcpy(c->tail + c->tail_head, data, room);
		c->tail_head = (c->tail_head + room) % SHELL_TAIL_MAX;
		c->tail_len = c->tail_len + room > SHELL_TAIL_MAX ? SHELL_TAIL_MAX : c->tail_len + room;
		data += room;
		len -= room;
	}
}

static void tail_send(struct shell_child *c, struct shell_participant *p)
{
	size_t pos = (c->tail_head + SHELL_TAIL_MAX - c->tail_len) % SHELL_TAIL_MAX;
	size_t left = c->tail_len, n;

	while (left > 0) {
		n = left < SHELL_FRAME_MAX ? left : SHELL_FRAME_MAX;
		if (n > SHELL_TAIL_MAX - pos)
			n = SHELL_TAIL_MAX - pos;
		send_frame(p, SHELL_DATA, c->tail + pos, n);
		pos = (pos + n) % SHELL_TAIL_MAX;
		left -= n;
	}
}

static size_t queued(const struct shell_participant *p)
{
	return evbuffer_get_length(bufferevent_get_output(p->bev));
}

/* Output pacing: the PTY (or pipe) is read while at least one participant
 * holds less than SPLICE_HIGH_WATER of queued output, so the fastest reader
 * sets the pace and a stalled one stalls nobody (it is dropped at
 * SHELL_SLOW_MAX).  With nobody attached the shell is read for the tail. */
static void child_pace(struct shell_child *c)
{
	struct shell_participant *p;
	int any = 0, all_full = 1;

	for (p = c->host->participants; p; p = p->next) {
		if (p->child != c)
			continue;
		any = 1;
		if (queued(p) < SPLICE_HIGH_WATER)
			all_full = 0;
	}
	if (any && all_full) {
		if (!c->out_paused && !c->out_done)
			event_del(c->rd);
		c->out_paused = 1;
	} else if (c->out_paused) {
		c->out_paused = 0;
		if (!c->out_done)
			event_add(c->rd, NULL);
	}
}

/* frame: SHELL_FRAME_HEADER bytes of room, then len bytes of output. */
static void deliver(struct shell_child *c, uint8_t *frame, size_t len)
{
	struct shell_host *h = c->host;
	struct shell_participant *p, *next;

	if (c->tty)
		tail_append(c, frame + SHELL_FRAME_HEADER, len);
	frame[0] = SHELL_DATA;
	frame[1] = 0;
	frame[2] = (uint8_t)(len >> 8);
	frame[3] = (uint8_t)len;
	for (p = h->participants; p; p = next) {
		next = p->next;
		if (p->child != c)
			continue;
		if (queued(p) > SHELL_SLOW_MAX) {
			log_warn("event=shell_slow_participant user=%s queued=%zu", p->user, queued(p));
			participant_detach(p, "stopped reading");
			continue;
		}
		bufferevent_write(p->bev, frame, SHELL_FRAME_HEADER + len);
	}
	child_pace(c);
}

/* One read; 1 delivered, 0 nothing now, -1 end of output. */
static int read_output(struct shell_child *c)
{
	uint8_t buf[SHELL_FRAME_HEADER + SHELL_FRAME_MAX];
	ssize_t n;

	if (c->out_done)
		return -1;
	n = read(c->out_fd, buf + SHELL_FRAME_HEADER, SHELL_FRAME_MAX);
	if (n > 0) {
		deliver(c, buf, (size_t)n);
		return 1;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n < 0 && errno != EIO)
		log_warn("event=shell_read_failed pid=%ld error=\"%s\"", (long)c->pid, strerror(errno));
	c->out_done = 1;
	event_del(c->rd);
	return -1;
}

static void on_output(evutil_socket_t fd, short what, void *arg)
{
	struct shell_child *c = arg;

	(void)fd;
	(void)what;
	if (read_output(c) < 0 && c->reaped)
		child_finish(c);
}

/* ---- children: input ---- */

static void resume_writers(struct shell_child *c)
{
	struct shell_participant *p, *next;

	for (p = c->host->participants; p; p = next) {
		next = p->next;
		if (p->child != c || !p->paused)
			continue;
		p->paused = 0;
		bufferevent_enable(p->bev, EV_READ);
		participant_input(p);
		if (evbuffer_get_length(c->inq) >= SHELL_INPUT_MAX)
			break;
	}
}

static void close_input(struct shell_child *c)
{
	event_del(c->wr);
	evbuffer_drain(c->inq, evbuffer_get_length(c->inq));
	if (!c->tty && c->in_fd >= 0) {
		close(c->in_fd);
		c->in_fd = -1;
	}
}

static void on_input(evutil_socket_t fd, short what, void *arg)
{
	struct shell_child *c = arg;
	int n;

	(void)fd;
	(void)what;
	if (c->in_fd < 0) {
		event_del(c->wr);
		return;
	}
	if (evbuffer_get_length(c->inq) > 0) {
		n = evbuffer_write(c->inq, c->in_fd);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			log_info("event=shell_input_closed pid=%ld error=\"%s\"", (long)c->pid,
			         strerror(errno));
			close_input(c);
			c->in_eof = 1;
			return;
		}
	}
	if (evbuffer_get_length(c->inq) == 0) {
		event_del(c->wr);
		if (c->in_eof)
			close_input(c);
	}
	if (evbuffer_get_length(c->inq) < SHELL_INPUT_MAX / 2)
		resume_writers(c);
}

/* ---- children: life ---- */

static void child_free(struct shell_child *c)
{
	event_free(c->rd);
	event_free(c->wr);
	event_free(c->timer);
	evbuffer_free(c->inq);
	if (c->in_fd >= 0 && c->in_fd != c->out_fd)
		close(c->in_fd);
	if (c->out_fd >= 0)
		close(c->out_fd);
	free(c->tail);
	free(c);
}

/* The child was reaped and its output is drained (or the grace ran out):
 * every participant gets EXIT and goes; the child is freed. */
static void child_finish(struct shell_child *c)
{
	struct shell_host *h = c->host;
	struct shell_participant *p, *next;
	struct shell_child **pp;
	uint8_t frame[SHELL_FRAME_HEADER + 4];
	size_t flen = shell_frame_exit(frame, c->status);
	int i, told = 0;

	for (i = 0; i < SHELL_DRAIN_READS && read_output(c) > 0; i++)
		;
	for (p = h->participants; p; p = next) {
		next = p->next;
		if (p->child != c)
			continue;
		participant_unlink(p);
		bufferevent_write(p->bev, frame, flen);
		log_info("event=shell_detach user=%s tty=%d input=%d dropped=%llu reason=exit "
		         "status=%d participants=%d",
		         p->user, c->tty, p->input_allowed, (unsigned long long)p->dropped, c->status,
		         h->nparticipants);
		bev_close_after_flush(p->bev);
		notify(h, "%s's shell session ended (exit %d)", p->user, c->status);
		told = 1;
		free(p);
	}
	if (c->tty && !told)
		notify(h, "the shell ended (exit %d)", c->status);
	if (c->ending)
		kill_session(c->pid, 0, SIGKILL); /* jobs that outlived an ended shell */
	if (h->shared == c)
		h->shared = NULL;
	for (pp = &h->children; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	log_info("event=shell_exit pid=%ld tty=%d status=%d", (long)c->pid, c->tty, c->status);
	child_free(c);
}

static void child_reaped(struct shell_child *c, int status)
{
	struct timeval tv = ms_tv(SHELL_DRAIN_GRACE_MS);

	c->reaped = 1;
	c->status = status;
	if (c->host->shared == c)
		c->host->shared = NULL; /* the next interactive attach starts a fresh shell */
	evtimer_del(c->timer);
	if (c->out_done)
		child_finish(c);
	else
		evtimer_add(c->timer, &tv); /* the PTY may still hold its last output */
}

static void on_child_timer(evutil_socket_t fd, short what, void *arg)
{
	struct shell_child *c = arg;

	(void)fd;
	(void)what;
	if (c->reaped) {
		child_finish(c);
		return;
	}
	if (!c->killed) {
		c->killed = 1;
		kill_session(c->pid, 1, SIGKILL);
		log_info("event=shell_kill pid=%ld", (long)c->pid);
	}
}

static void on_sigchld(evutil_socket_t fd, short what, void *arg)
{
	struct shell_host *h = arg;
	struct shell_child *c, *next;
	int st = 0;
	pid_t r;

	(void)fd;
	(void)what;
	for (c = h->children; c; c = next) {
		next = c->next;
		if (c->reaped)
			continue;
		r = waitpid(c->pid, &st, WNOHANG);
		if (r == c->pid)
			child_reaped(c, exit_code(st));
		else if (r < 0 && errno == ECHILD) /* reaped by someone else */
			child_reaped(c, -1);
	}
}

/* Runs in the forked child: async-signal-safe calls only. */
static void __attribute__((noreturn)) child_exec(const char *home, char *const argv[],
                                                 char *const envp[])
{
	static const char msg[] = "concierge-agent: cannot start the shell\n";
	struct sigaction sa;
	sigset_t all;
	int sig;
	long fd;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	if (close_range(3, ~0U, 0) < 0)
		for (fd = 3; fd < SHELL_FD_SCAN_MAX; fd++)
			close((int)fd);
	if (home == NULL || chdir(home) < 0)
		(void)!chdir("/");
	execvpe(argv[0], argv, envp);
	(void)!write(2, msg, sizeof msg - 1);
	_exit(127);
}

/* A NULL-terminated copy of environ (pointers only), plus TERM when asked. */
static char **child_env(int want_term)
{
	extern char **environ;
	size_t n = 0, i;
	char **envp;
	int has_term = 0;

	while (environ[n] && n < SHELL_ENV_MAX)
		n++;
	envp = xcalloc(n + 2, sizeof *envp);
	for (i = 0; i < n; i++) {
		envp[i] = environ[i];
		if (strncmp(environ[i], "TERM=", 5) == 0)
			has_term = 1;
	}
	if (want_term && !has_term)
		envp[n++] = (char *)SHELL_TERM_DEFAULT;
	return envp;
}

static struct shell_child *child_new(struct shell_host *h, pid_t pid, int in_fd, int out_fd, int tty)
{
	struct shell_child *c = xcalloc(1, sizeof *c);

	c->host = h;
	c->pid = pid;
	c->tty = tty;
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	c->inq = evbuffer_new();
	c->rd = event_new(h->base, out_fd, EV_READ | EV_PERSIST, on_output, c);
	c->wr = event_new(h->base, in_fd, EV_WRITE | EV_PERSIST, on_input, c);
	c->timer = evtimer_new(h->base, on_child_timer, c);
	if (c->inq == NULL || c->rd == NULL || c->wr == NULL || c->timer == NULL)
		fatal("event=alloc_failed what=shell_child");
	if (tty)
		c->tail = xmalloc(SHELL_TAIL_MAX);
	event_add(c->rd, NULL);
	c->next = h->children;
	h->children = c;
	return c;
}

static struct shell_child *spawn_tty(struct shell_host *h, unsigned cols, unsigned rows, char *err,
                                     size_t errlen)
{
	struct winsize ws = { (unsigned short)rows, (unsigned short)cols, 0, 0 };
	char *argv[] = { h->program, NULL };
	char **envp = child_env(1);
	int master = -1;
	pid_t pid;

	pid = forkpty(&master, NULL, NULL, &ws);
	if (pid == 0)
		child_exec(h->home, argv, envp);
	free(envp);
	if (pid < 0) {
		snprintf(err, errlen, "cannot start a terminal: %s", strerror(errno));
		log_error("event=shell_spawn_failed tty=1 error=\"%s\"", strerror(errno));
		return NULL;
	}
	if (set_nonblock_cloexec(master) < 0)
		fatal("event=fcntl_failed error=\"%s\"", strerror(errno));
	log_info("event=shell_start pid=%ld tty=1 cols=%u rows=%u", (long)pid, cols, rows);
	return child_new(h, pid, master, master, 1);
}

static struct shell_child *spawn_pipe(struct shell_host *h, char *err, size_t errlen)
{
	char dash_s[] = "-s";
	char *argv[] = { h->program, dash_s, NULL };
	int in[2] = { -1, -1 }, out[2] = { -1, -1 };
	char **envp;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "cannot start a shell: %s", strerror(errno));
		log_error("event=shell_spawn_failed tty=0 error=\"%s\"", strerror(errno));
		if (in[0] >= 0) {
			close(in[0]);
			close(in[1]);
		}
		return NULL;
	}
	envp = child_env(0);
	pid = fork();
	if (pid == 0) {
		setsid();
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0)
			_exit(127);
		child_exec(h->home, argv, envp);
	}
	free(envp);
	close(in[0]);
	close(out[1]);
	if (pid < 0) {
		snprintf(err, errlen, "cannot start a shell: %s", strerror(errno));
		log_error("event=shell_spawn_failed tty=0 error=\"%s\"", strerror(errno));
		close(in[1]);
		close(out[0]);
		return NULL;
	}
	if (set_nonblock_cloexec(in[1]) < 0 || set_nonblock_cloexec(out[0]) < 0)
		fatal("event=fcntl_failed error=\"%s\"", strerror(errno));
	log_info("event=shell_start pid=%ld tty=0", (long)pid);
	return child_new(h, pid, in[1], out[0], 0);
}

/* ---- API ---- */

struct shell_host *shell_host_new(struct event_base *base, const char *program,
                                  void (*on_event)(void *ctx, const char *what), void *ctx)
{
	struct shell_host *h = xcalloc(1, sizeof *h);
	struct passwd *pw = getpwuid(getuid());
	const char *home = getenv("HOME");

	h->base = base;
	h->on_event = on_event;
	h->ctx = ctx;
	if (program && *program)
		h->program = xstrdup(program);
	else if (pw && pw->pw_shell && *pw->pw_shell)
		h->program = xstrdup(pw->pw_shell);
	else
		h->program = xstrdup("/bin/sh");
	if ((home == NULL || *home != '/') && pw && pw->pw_dir)
		home = pw->pw_dir;
	h->home = (home && *home == '/') ? xstrdup(home) : NULL;
	h->sigchld = evsignal_new(base, SIGCHLD, on_sigchld, h);
	if (h->sigchld == NULL || evsignal_add(h->sigchld, NULL) < 0) {
		log_error("event=sigchld_event_failed");
		if (h->sigchld)
			event_free(h->sigchld);
		free(h->program);
		free(h->home);
		free(h);
		return NULL;
	}
	return h;
}

int shell_host_attach(struct shell_host *h, struct bufferevent *stream, int input_allowed, int tty,
                      unsigned cols, unsigned rows, const char *user, char *err, size_t errlen)
{
	struct shell_participant *p = NULL;
	struct shell_child *c;
	int late = 0;

	if (err && errlen)
		err[0] = '\0';
	if (user == NULL || *user == '\0')
		user = "someone";
	if (h->nparticipants >= MAX_PARTICIPANTS) {
		snprintf(err, errlen, "too many people on the shell (at most %d)", MAX_PARTICIPANTS);
		goto fail;
	}
	if (!tty && !input_allowed) {
		snprintf(err, errlen, "watching a shell needs a terminal (ssh -t)");
		goto fail;
	}
	if (cols == 0 || rows == 0 || cols > UINT16_MAX || rows > UINT16_MAX) {
		cols = SHELL_DEFAULT_COLS;
		rows = SHELL_DEFAULT_ROWS;
	}
	if (tty) {
		late = h->shared != NULL;
		if (h->shared == NULL)
			h->shared = spawn_tty(h, cols, rows, err, errlen);
		c = h->shared;
	} else {
		c = spawn_pipe(h, err, errlen);
	}
	if (c == NULL)
		goto fail;

	p = xcalloc(1, sizeof *p);
	p->host = h;
	p->child = c;
	p->bev = stream;
	p->input_allowed = input_allowed;
	p->cols = cols ? cols : 80;
	p->rows = rows ? rows : 24;
	snprintf(p->user, sizeof p->user, "%s", user);
	if (!tty)
		c->owner = p;
	p->next = h->participants;
	h->participants = p;
	h->nparticipants++;

	bufferevent_setcb(stream, on_participant_read, on_participant_drained, on_participant_event, p);
	bufferevent_setwatermark(stream, EV_READ, 0, SHELL_READ_WATERMARK);
	bufferevent_setwatermark(stream, EV_WRITE, SPLICE_HIGH_WATER / 2, 0);
	bufferevent_set_timeouts(stream, NULL, NULL);
	bufferevent_enable(stream, EV_READ | EV_WRITE);
	if (late)
		tail_send(c, p);
	log_info("event=shell_attach user=%s tty=%d input=%d late=%d pid=%ld participants=%d", p->user,
	         tty, input_allowed, late, (long)c->pid, h->nparticipants);
	if (tty)
		notify(h, "%s joined the shell (%s)", p->user, input_allowed ? "can type" : "watching");
	else
		notify(h, "%s is running commands in a shell without a terminal", p->user);
	/* Frames that arrived before the attach. */
	child_pace(c);
	if (evbuffer_get_length(bufferevent_get_input(stream)) > 0)
		participant_input(p);
	return 0;
fail:
	log_info("event=shell_attach_refused user=%s tty=%d input=%d reason=\"%s\"", user, tty,
	         input_allowed, err ? err : "");
	bufferevent_free(stream);
	return -1;
}

void shell_host_end(struct shell_host *h)
{
	struct shell_participant *p;
	struct shell_child *c;

	for (c = h->children; c; c = c->next) {
		if (c->reaped || c->ending)
			continue;
		for (p = h->participants; p; p = p->next)
			if (p->child == c)
				send_frame(p, SHELL_NOTICE, SHELL_END_NOTICE, sizeof SHELL_END_NOTICE - 1);
		evbuffer_drain(c->inq, evbuffer_get_length(c->inq));
		child_kill(c);
	}
	h->shared = NULL;
	log_info("event=shell_end_by_user participants=%d", h->nparticipants);
}

int shell_host_attached(const struct shell_host *h)
{
	return h->nparticipants;
}

int shell_host_running(const struct shell_host *h)
{
	return h->shared != NULL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Waits up to `ms` for every child to be reaped; returns how many remain. */
static int reap_wait(struct shell_host *h, long ms)
{
	struct shell_child *c;
	int left, st;
	long waited;
	pid_t r;

	for (waited = 0;; waited += 10) {
		left = 0;
		for (c = h->children; c; c = c->next) {
			if (c->reaped)
				continue;
			r = waitpid(c->pid, &st, WNOHANG);
			if (r == c->pid || (r < 0 && errno == ECHILD)) {
				c->reaped = 1;
				continue;
			}
			left++;
		}
		if (left == 0 || waited >= ms)
			return left;
		sleep_ms(10);
	}
}

void shell_host_free(struct shell_host *h)
{
	struct shell_participant *p;
	struct shell_child *c;

	if (h == NULL)
		return;
	while ((p = h->participants) != NULL) {
		h->participants = p->next;
		bufferevent_free(p->bev);
		free(p);
	}
	h->nparticipants = 0;
	for (c = h->children; c; c = c->next) {
		if (!c->reaped)
			kill_session(c->pid, 1, SIGHUP);
		/* Closing the master hangs up the terminal's whole session too. */
		event_del(c->rd);
		event_del(c->wr);
		evtimer_del(c->timer);
		if (c->out_fd >= 0) {
			close(c->out_fd);
			if (c->in_fd == c->out_fd)
				c->in_fd = -1;
			c->out_fd = -1;
		}
	}
	if (reap_wait(h, SHELL_KILL_GRACE_MS) > 0) {
		for (c = h->children; c; c = c->next)
			if (!c->reaped)
				kill_session(c->pid, 1, SIGKILL);
		if (reap_wait(h, SHELL_FREE_WAIT_MS) > 0)
			log_warn("event=shell_children_left");
	}
	for (c = h->children; c; c = c->next)
		kill_session(c->pid, 0, SIGKILL); /* jobs left behind (leaders reaped by now) */
	while ((c = h->children) != NULL) {
		h->children = c->next;
		child_free(c);
	}
	event_free(h->sigchld);
	free(h->program);
	free(h->home);
	free(h);
}
