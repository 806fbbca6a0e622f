#include "replay_child.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "errbuf.h"
#include "replay_decoder.h"
#include "xmalloc.h"

/* How long a failing child gets to deliver its ERROR reply and exit. */
#define CHILD_LAST_WORDS_MS 1000

void replay_child_init(struct replay_child *c, uint32_t timeout_ms)
{
	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->timeout_ms = timeout_ms;
}

int replay_child_running(const struct replay_child *c)
{
	return c->pid > 0;
}

int replay_child_start(struct replay_child *c, char *err, size_t errlen)
{
	int sv[2];
	pid_t pid;

	replay_child_stop(c);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		errbuf_set(err, errlen, "decoder: socketpair: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		errbuf_set(err, errlen, "decoder: fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		replay_decoder_main(sv[1]);
	}
	close(sv[1]);
	c->pid = pid;
	c->fd = sv[0];
	c->last_signal = 0;
	return 0;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000L + (now.tv_nsec - t0->tv_nsec) / 1000000L;
}

/* Reaps the child (killing it if it does not exit on its own soon). */
static void reap(struct replay_child *c, int kill_first)
{
	int status = 0;
	struct timespec t0;

	if (c->pid <= 0)
		return;
	if (kill_first)
		kill(c->pid, SIGKILL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		pid_t r = waitpid(c->pid, &status, WNOHANG);

		if (r == c->pid || (r < 0 && errno != EINTR))
			break;
		if (ms_since(&t0) > CHILD_LAST_WORDS_MS) {
			kill(c->pid, SIGKILL);
			while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
				;
			break;
		}
		usleep(1000);
	}
	c->last_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	if (kill_first && c->last_signal == SIGKILL)
		c->last_signal = 0; /* our own kill */
	c->pid = 0;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

void replay_child_stop(struct replay_child *c)
{
	if (c->pid > 0 && c->fd >= 0) {
		struct replay_cmd_hdr q = { REPLAY_CMD_QUIT, 0, 0, 0 };

		(void)!send(c->fd, &q, sizeof q, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	reap(c, 1);
}

void replay_child_free(struct replay_child *c)
{
	replay_child_stop(c);
	free(c->buf);
	c->buf = NULL;
	c->cap = 0;
}

/* 1 when fd is ready for `events` within ms, 0 on timeout, -1 on error. */
static int wait_fd(int fd, short events, long ms)
{
	struct pollfd p = { fd, events, 0 };
	int rc;

	do
		rc = poll(&p, 1, (int)ms);
	while (rc < 0 && errno == EINTR);
	return rc;
}

static int recv_exact(struct replay_child *c, void *data, size_t len, long ms, const char **why)
{
	uint8_t *p = data;

	while (len > 0) {
		ssize_t n;
		int rc = wait_fd(c->fd, POLLIN, ms);

		if (rc == 0) {
			*why = "stalled";
			return -1;
		}
		if (rc < 0) {
			*why = "unreadable";
			return -1;
		}
		n = recv(c->fd, p, len, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			*why = "gone";
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The child failed: collect its ERROR reply if it sent one, reap it and
 * describe what happened. */
static int child_failed(struct replay_child *c, const char *what, const char *detail,
                        char *err, size_t errlen)
{
	struct replay_reply_hdr h;
	char text[REPLAY_MAX_ERROR_TEXT + 1] = "";
	const char *why = NULL;
	int stalled = detail != NULL && strcmp(detail, "stalled") == 0;

	if (!stalled && c->fd >= 0 &&
	    recv_exact(c, &h, sizeof h, CHILD_LAST_WORDS_MS, &why) == 0 &&
	    h.kind == REPLAY_REPLY_ERROR && h.payload_len <= REPLAY_MAX_ERROR_TEXT &&
	    recv_exact(c, text, (size_t)h.payload_len, CHILD_LAST_WORDS_MS, &why) == 0) {
		text[h.payload_len] = '\0';
		for (char *p = text; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
				*p = '?';
	}
	reap(c, stalled || text[0] == '\0');
	if (text[0])
		errbuf_set(err, errlen, "decoder failed: %s", text);
	else if (c->last_signal == SIGSYS)
		errbuf_set(err, errlen, "decoder killed by signal %d (SIGSYS: the sandbox stopped a "
		           "forbidden system call)", SIGSYS);
	else if (c->last_signal != 0)
		errbuf_set(err, errlen, "decoder killed by signal %d (%s)", c->last_signal,
		           strsignal(c->last_signal));
	else if (stalled)
		errbuf_set(err, errlen, "decoder stalled for %u ms while %s; stopped it", c->timeout_ms, what);
	else
		errbuf_set(err, errlen, "decoder %s while %s (%s)", detail ? detail : "failed", what,
		           detail ? "it exited" : "protocol error");
	return -1;
}

int replay_child_send(struct replay_child *c, const struct replay_cmd_hdr *cmd,
                      const struct iovec *iov, int iovcnt, char *err, size_t errlen)
{
	struct iovec v[1 + 16];
	struct msghdr msg;
	int n = 0;

	if (c->pid <= 0) {
		errbuf_set(err, errlen, "decoder not running");
		return -1;
	}
	if (iovcnt > 16) {
		errbuf_set(err, errlen, "decoder: too many pieces");
		return -1;
	}
	v[n++] = (struct iovec){ (void *)cmd, sizeof *cmd };
	for (int i = 0; i < iovcnt; i++)
		if (iov[i].iov_len > 0)
			v[n++] = iov[i];
	while (n > 0) {
		ssize_t sent;
		int rc = wait_fd(c->fd, POLLOUT, c->timeout_ms);

		if (rc == 0)
			return child_failed(c, "taking the recording", "stalled", err, errlen);
		if (rc < 0)
			return child_failed(c, "taking the recording", "gone", err, errlen);
		memset(&msg, 0, sizeof msg);
		msg.msg_iov = v;
		msg.msg_iovlen = (size_t)n;
		sent = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (sent < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (sent < 0)
			return child_failed(c, "taking the recording", "gone", err, errlen);
		/* Drop what was sent from the front of v. */
		while (n > 0 && (size_t)sent >= v[0].iov_len) {
			sent -= (ssize_t)v[0].iov_len;
			memmove(v, v + 1, (size_t)(n - 1) * sizeof v[0]);
			n--;
		}
		if (n > 0) {
			v[0].iov_base = (uint8_t *)v[0].iov_base + sent;
			v[0].iov_len -= (size_t)sent;
		}
	}
	return 0;
}

int replay_child_recv(struct replay_child *c, uint32_t kind, struct replay_reply_hdr *h,
                      char *err, size_t errlen)
{
	const char *why = NULL;
	char bad[160];

	if (c->pid <= 0) {
		errbuf_set(err, errlen, "decoder not running");
		return -1;
	}
	if (recv_exact(c, h, sizeof *h, c->timeout_ms, &why) < 0)
		return child_failed(c, "decoding", why, err, errlen);
	if (replay_proto_check_reply(h, kind, bad, sizeof bad) < 0) {
		reap(c, 1);
		errbuf_set(err, errlen, "decoder broke the protocol: %s; stopped it", bad);
		return -1;
	}
	if (h->kind == REPLAY_REPLY_ERROR) {
		char text[REPLAY_MAX_ERROR_TEXT + 1];

		if (recv_exact(c, text, (size_t)h->payload_len, CHILD_LAST_WORDS_MS, &why) < 0)
			text[0] = '\0', h->payload_len = 0;
		text[h->payload_len] = '\0';
		for (char *p = text; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
				*p = '?';
		reap(c, 0);
		errbuf_set(err, errlen, "decoder failed: %s", text[0] ? text : "no reason given");
		return -1;
	}
	if (h->payload_len > c->cap) {
		free(c->buf);
		c->cap = (size_t)h->payload_len;
		c->buf = xmalloc(c->cap);
	}
	if (h->payload_len > 0 && recv_exact(c, c->buf, (size_t)h->payload_len, c->timeout_ms, &why) < 0)
		return child_failed(c, "decoding", why, err, errlen);
	return 0;
}
