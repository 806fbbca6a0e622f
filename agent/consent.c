#include "consent.h"

#include <ctype.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "concierge_limits.h"
#include "xmalloc.h"

struct question {
	struct question *next;
	int id;
	char text[CONSENT_MAX_TEXT];
};

struct consent {
	struct event_base *base;
	FILE *out;
	int auto_yes;
	int timeout_s;
	struct consent_callbacks cb;
	struct bufferevent *input;
	struct question *queue;   /* head is the open question when `open` */
	int open;
	struct event *deadline;
};

static void ask_next(struct consent *c);

static void finish_open(struct consent *c, int yes, int timed_out)
{
	struct question *q = c->queue;

	c->queue = q->next;
	c->open = 0;
	event_del(c->deadline);
	fprintf(c->out, "[concierge] %s\n", timed_out ? "No answer in time: refused." :
	        yes ? "Allowed." : "Refused.");
	fflush(c->out);
	c->cb.answered(c->cb.ctx, q->id, yes, timed_out);
	free(q);
	ask_next(c);
}

static void ask_next(struct consent *c)
{
	struct timeval limit = { c->timeout_s, 0 };

	if (c->open || c->queue == NULL)
		return;
	c->open = 1;
	if (c->auto_yes) {
		fprintf(c->out, "[concierge] %s\n[concierge] DEMO MODE: allowed automatically.\n",
		        c->queue->text);
		fflush(c->out);
		finish_open(c, 1, 0);
		return;
	}
	fprintf(c->out, "[concierge] %s\n[concierge] Type y and Enter to allow, n to refuse "
	        "(no answer within %d seconds means no): ", c->queue->text, c->timeout_s);
	fflush(c->out);
	evtimer_add(c->deadline, &limit);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	finish_open(arg, 0, 1);
}

static void handle_line(struct consent *c, char *line)
{
	char *p = line;

	while (isspace((unsigned char)*p))
		p++;
	for (char *e = p + strlen(p); e > p && isspace((unsigned char)e[-1]);)
		*--e = '\0';
	if (c->open) {
		finish_open(c, strcasecmp(p, "y") == 0 || strcasecmp(p, "yes") == 0, 0);
		return;
	}
	if (*p)
		c->cb.command(c->cb.ctx, p);
}

static void on_input(struct bufferevent *bev, void *arg)
{
	struct consent *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t n;
	char *line;

	while ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_ANY)) != NULL) {
		if (n <= CONSENT_MAX_INPUT)
			handle_line(c, line);
		free(line);
	}
	if (evbuffer_get_length(in) > CONSENT_MAX_INPUT)
		evbuffer_drain(in, evbuffer_get_length(in));
}

static void on_input_event(struct bufferevent *bev, short what, void *arg)
{
	(void)arg;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		bufferevent_disable(bev, EV_READ); /* no more answers; deadlines still run */
}

/* epoll refuses regular files and /dev/null: such input cannot answer. */
static int pollable(int fd)
{
	struct stat st;

	return isatty(fd) || (fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)));
}

struct consent *consent_new(struct event_base *base, int in_fd, FILE *out, int auto_yes,
                            int timeout_s, const struct consent_callbacks *callbacks)
{
	struct consent *c = xcalloc(1, sizeof *c);

	c->timeout_s = timeout_s > 0 && timeout_s < CONSENT_TIMEOUT_S ? timeout_s : CONSENT_TIMEOUT_S;
	c->base = base;
	c->out = out;
	c->auto_yes = auto_yes;
	c->cb = *callbacks;
	c->deadline = evtimer_new(base, on_deadline, c);
	if (!auto_yes && pollable(in_fd)) {
		evutil_make_socket_nonblocking(in_fd);
		c->input = bufferevent_socket_new(base, in_fd, 0);
		if (c->input) {
			bufferevent_setcb(c->input, on_input, NULL, on_input_event, c);
			bufferevent_enable(c->input, EV_READ);
		}
	}
	return c;
}

void consent_ask(struct consent *c, int question_id, const char *text)
{
	struct question *q = xcalloc(1, sizeof *q), **tail = &c->queue;

	q->id = question_id;
	snprintf(q->text, sizeof q->text, "%s", text);
	while (*tail)
		tail = &(*tail)->next;
	*tail = q;
	ask_next(c);
}

void consent_cancel(struct consent *c, int question_id)
{
	struct question **pp = &c->queue;

	while (*pp && (*pp)->id != question_id)
		pp = &(*pp)->next;
	if (*pp == NULL)
		return;
	if (*pp == c->queue && c->open) {
		struct question *q = c->queue;
		c->queue = q->next;
		c->open = 0;
		event_del(c->deadline);
		fprintf(c->out, "\n[concierge] The request was withdrawn.\n");
		fflush(c->out);
		free(q);
		ask_next(c);
		return;
	}
	struct question *q = *pp;
	*pp = q->next;
	free(q);
}

void consent_free(struct consent *c)
{
	if (c == NULL)
		return;
	while (c->queue) {
		struct question *q = c->queue;
		c->queue = q->next;
		free(q);
	}
	if (c->input)
		bufferevent_free(c->input);
	event_free(c->deadline);
	free(c);
}
