#include "stop_signals.h"

#include <event2/event.h>
#include <signal.h>
#include <stdlib.h>

#include "xmalloc.h"

struct stop_signals {
	struct event_base *base;
	struct event *term, *intr;
	int received;
};

static void on_stop_signal(evutil_socket_t signo, short what, void *arg)
{
	struct stop_signals *s = arg;

	(void)what;
	s->received = (int)signo;
	event_base_loopbreak(s->base);
}

struct stop_signals *stop_signals_install(struct event_base *base)
{
	struct stop_signals *s = xcalloc(1, sizeof *s);

	signal(SIGPIPE, SIG_IGN);
	s->base = base;
	s->term = evsignal_new(base, SIGTERM, on_stop_signal, s);
	s->intr = evsignal_new(base, SIGINT, on_stop_signal, s);
	if (s->term == NULL || s->intr == NULL || evsignal_add(s->term, NULL) < 0 ||
	    evsignal_add(s->intr, NULL) < 0) {
		stop_signals_free(s);
		return NULL;
	}
	return s;
}

int stop_signals_received(const struct stop_signals *s)
{
	return s->received;
}

void stop_signals_free(struct stop_signals *s)
{
	if (s == NULL)
		return;
	if (s->term)
		event_free(s->term);
	if (s->intr)
		event_free(s->intr);
	free(s);
}
