#include "splice.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdlib.h>

#include "concierge_limits.h"
#include "xmalloc.h"

struct splice {
	struct bufferevent *a, *b;
	splice_filter_fn filter, filter_back;
	void *filter_ctx;
	splice_close_fn on_close;
	void *close_ctx;
	uint64_t a_to_b, b_to_a;
	int closed;
	int report_pending; /* on_close scheduled but not run yet */
	int free_on_report; /* owner already freed: release when it runs */
	const char *why;
};

static struct bufferevent *peer_of(struct splice *s, struct bufferevent *bev)
{
	return bev == s->a ? s->b : s->a;
}

static void report_close(evutil_socket_t fd, short what, void *arg)
{
	struct splice *s = arg;

	(void)fd;
	(void)what;
	s->report_pending = 0;
	if (s->free_on_report)
		free(s);
	else if (s->on_close)
		s->on_close(s->close_ctx, s->why);
}

/* Frees both sides now; tells the owner from a fresh event so the owner may
 * free the splice without pulling it from under a running callback. */
static void close_pair(struct splice *s, const char *why)
{
	struct event_base *base;

	if (s->closed)
		return;
	s->closed = 1;
	s->why = why;
	base = bufferevent_get_base(s->a);
	bufferevent_free(s->a);
	bufferevent_free(s->b);
	s->a = s->b = NULL;
	if (event_base_once(base, -1, EV_TIMEOUT, report_close, s, NULL) == 0)
		s->report_pending = 1;
	else if (s->on_close)
		s->on_close(s->close_ctx, why);
}

static void pump(struct splice *s, struct bufferevent *from)
{
	struct bufferevent *to = peer_of(s, from);
	struct evbuffer *in = bufferevent_get_input(from), *out = bufferevent_get_output(to);
	size_t len = evbuffer_get_length(in);

	if (len == 0)
		return;
	splice_filter_fn filter = from == s->a ? s->filter : s->filter_back;
	if (filter) {
		const uint8_t *data = evbuffer_pullup(in, -1);
		if (filter(s->filter_ctx, data, len) < 0) {
			close_pair(s, "filter refused the stream");
			return;
		}
		evbuffer_drain(in, len);
		if (from == s->a)
			s->a_to_b += len;
		else
			s->b_to_a += len;
	} else {
		evbuffer_add_buffer(out, in);
		if (from == s->a)
			s->a_to_b += len;
		else
			s->b_to_a += len;
	}
	if (evbuffer_get_length(out) >= SPLICE_HIGH_WATER) {
		/* The peer is slow: stop reading until its output drains to half. */
		bufferevent_disable(from, EV_READ);
		bufferevent_setwatermark(to, EV_WRITE, SPLICE_HIGH_WATER / 2, 0);
	}
}

static void on_read(struct bufferevent *bev, void *arg)
{
	pump(arg, bev);
}

static void on_drained(struct bufferevent *bev, void *arg)
{
	struct splice *s = arg;
	struct bufferevent *from = peer_of(s, bev);

	if (!(bufferevent_get_enabled(from) & EV_READ)) {
		bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
		bufferevent_enable(from, EV_READ);
		pump(s, from);
	}
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct splice *s = arg;

	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		/* Hand over what already arrived before the pair goes. */
		pump(s, bev);
		if (!s->closed)
			close_pair(s, (what & BEV_EVENT_EOF) ? "peer closed" : "connection error");
	}
}

struct splice *splice_new(struct bufferevent *a, struct bufferevent *b, splice_filter_fn a_to_b,
                          splice_filter_fn b_to_a, void *filter_ctx, splice_close_fn on_close,
                          void *close_ctx)
{
	struct splice *s = xcalloc(1, sizeof *s);

	s->a = a;
	s->b = b;
	s->filter = a_to_b;
	s->filter_back = b_to_a;
	s->filter_ctx = filter_ctx;
	s->on_close = on_close;
	s->close_ctx = close_ctx;
	bufferevent_setwatermark(a, EV_READ, 0, SPLICE_HIGH_WATER);
	bufferevent_setwatermark(b, EV_READ, 0, SPLICE_HIGH_WATER);
	bufferevent_setcb(a, on_read, on_drained, on_event, s);
	bufferevent_setcb(b, on_read, on_drained, on_event, s);
	bufferevent_set_timeouts(a, NULL, NULL);
	bufferevent_set_timeouts(b, NULL, NULL);
	bufferevent_enable(a, EV_READ | EV_WRITE);
	bufferevent_enable(b, EV_READ | EV_WRITE);
	/* Bytes that arrived before the splice existed. */
	pump(s, a);
	if (!s->closed)
		pump(s, b);
	return s;
}

void splice_write_b(struct splice *s, const void *data, size_t len)
{
	if (!s->closed)
		bufferevent_write(s->b, data, len);
}

void splice_write_a(struct splice *s, const void *data, size_t len)
{
	if (!s->closed)
		bufferevent_write(s->a, data, len);
}

void splice_counts(const struct splice *s, uint64_t *a_to_b, uint64_t *b_to_a)
{
	*a_to_b = s->a_to_b;
	*b_to_a = s->b_to_a;
}

void splice_free(struct splice *s)
{
	if (s == NULL)
		return;
	if (!s->closed) {
		s->closed = 1;
		bufferevent_free(s->a);
		bufferevent_free(s->b);
	}
	if (s->report_pending) {
		s->free_on_report = 1;
		return;
	}
	free(s);
}

void splice_free_with_goodbye(struct splice *s, const void *goodbye, size_t len)
{
	if (s != NULL && !s->closed) {
		s->closed = 1;
		bufferevent_setcb(s->a, NULL, NULL, NULL, NULL);
		bufferevent_write(s->a, goodbye, len);
		bev_close_after_flush(s->a);
		bufferevent_free(s->b);
	}
	splice_free(s);
}

static void flush_done(struct bufferevent *bev, void *arg)
{
	(void)arg;
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		bufferevent_free(bev);
}

static void flush_event(struct bufferevent *bev, short what, void *arg)
{
	(void)what;
	(void)arg;
	bufferevent_free(bev);
}

void bev_close_after_flush(struct bufferevent *bev)
{
	struct timeval limit = { PREAUTH_TIMEOUT_S, 0 };

	bufferevent_disable(bev, EV_READ);
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	bufferevent_setcb(bev, NULL, flush_done, flush_event, NULL);
	bufferevent_set_timeouts(bev, NULL, &limit);
	bufferevent_enable(bev, EV_WRITE);
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		bufferevent_free(bev);
}
