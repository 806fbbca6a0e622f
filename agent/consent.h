/*
 * Questions to the person at the machine, on the agent's terminal: one at a
 * time, in arrival order, each answered by typing y (yes) or anything else
 * (no) and Enter, and each with a deadline (`timeout_s`, at most
 * CONSENT_TIMEOUT_S) after which the answer is no.  With no question open, typing q (or "end") and Enter asks
 * to end the session.  In auto_yes mode (demo only) every question is
 * printed and answered yes at once.
 *
 * Input is read from `in_fd` (normally 0) without blocking the event loop;
 * lines longer than CONSENT_MAX_INPUT are ignored.  End of input is not an
 * answer: open questions then run to their deadline.
 *
 * Ownership: consent_new returns an object freed with consent_free; `text`
 * given to consent_ask is copied.  Callbacks run on the event loop thread.
 */
#ifndef CONCIERGE_AGENT_CONSENT_H
#define CONCIERGE_AGENT_CONSENT_H

#include <stdio.h>

#define CONSENT_MAX_INPUT 256
#define CONSENT_MAX_TEXT 512

struct event_base;
struct consent;

struct consent_callbacks {
	/* yes: 1 allowed, 0 refused; timed_out: 1 when nobody answered. */
	void (*answered)(void *ctx, int question_id, int yes, int timed_out);
	/* A line typed while no question is open (trimmed, non-empty). */
	void (*command)(void *ctx, const char *line);
	void *ctx;
};

struct consent *consent_new(struct event_base *base, int in_fd, FILE *out, int auto_yes,
                            int timeout_s, const struct consent_callbacks *callbacks);
void consent_ask(struct consent *consent, int question_id, const char *text);
/* Withdraws a question (the asker left); no callback for it. */
void consent_cancel(struct consent *consent, int question_id);
void consent_free(struct consent *consent);

#endif
