/*
 * Parent side of the replay decoder child: start (fork +
 * replay_decoder_main), send commands, receive checked replies, stop.
 *
 * Every send and receive waits at most `timeout_ms` for progress (poll);
 * every reply header is checked with replay_proto_check_reply before its
 * payload (at most REPLAY_MAX_REPLY_PAYLOAD bytes) is read into the
 * child's own buffer (valid until the next receive).  Any failure (the
 * child answered ERROR, died, stalled or broke the protocol) kills and
 * reaps the child and returns -1 with a message naming what happened
 * ("decoder failed: <its reason>", "decoder killed by signal 31 (SIGSYS:
 * the sandbox stopped a forbidden system call)", "decoder stalled ...");
 * after that replay_child_running() is 0 and replay_child_start may be
 * called again.  replay_child_stop kills and reaps; safe on a stopped
 * child.  Not thread-safe.
 */
#ifndef CONCIERGE_REPLAY_CHILD_H
#define CONCIERGE_REPLAY_CHILD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "replay_proto.h"

struct replay_child {
	pid_t pid;          /* 0 when not running */
	int fd;             /* -1 when not running */
	uint32_t timeout_ms;
	uint8_t *buf;       /* last reply's payload */
	size_t cap;
	int last_signal;    /* signal that ended the last child, 0 if none */
};

void replay_child_init(struct replay_child *c, uint32_t timeout_ms);
int replay_child_start(struct replay_child *c, char *err, size_t errlen);
int replay_child_running(const struct replay_child *c);

/* A command with its payload in `iov` (total = cmd->len bytes). */
int replay_child_send(struct replay_child *c, const struct replay_cmd_hdr *cmd,
                      const struct iovec *iov, int iovcnt, char *err, size_t errlen);

/* Waits for a reply of `kind`; *h and c->buf (h->payload_len bytes). */
int replay_child_recv(struct replay_child *c, uint32_t kind, struct replay_reply_hdr *h,
                      char *err, size_t errlen);

void replay_child_stop(struct replay_child *c);
void replay_child_free(struct replay_child *c);

#endif
