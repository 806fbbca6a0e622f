/*
 * The RFB server core: one libvncserver screen with no listening socket,
 * fed by a pixel source (screen_source.h), serving participants whose
 * already-connected sockets are handed in with screen_add_client.
 *
 * Threads: libvncserver's background mode gives every client its own input
 * thread (and that thread its own output thread), so a participant that
 * stops reading blocks only its own output thread.  There is no listener
 * thread (nothing to accept) and no rfbProcessEvents loop.  The handover
 * itself (rfbNewClient: libvncserver waits up to 100 ms for a WebSockets
 * request before it speaks) runs on a short-lived thread per client, so
 * screen_add_client never blocks its caller; a peer that took libvncserver's
 * WebSockets/TLS path is refused in the new-client hook.
 *
 * Client bookkeeping: for each client we keep a dup() of its socket.
 * screen_disconnect_all shutdown()s those dups, which every libvncserver
 * thread of that client sees at once (EOF on read, EPIPE on write), without
 * racing libvncserver's own close() of its descriptor.  The gone hook (run
 * by the client's input thread) drops the record and queues that thread to
 * be joined, so screen_stop can wait until no libvncserver client thread
 * touches the screen any more before freeing it.
 */
#include "screen.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rfb/rfb.h>

#include "log.h"
#include "rfb_no_listeners.h"
#include "screen_source.h"
#include "xmalloc.h"

/* screen_stop waits this long for client threads to finish.  A client whose
 * output thread sits in libvncserver's write wait notices the shutdown()
 * within its 5 s select, so this is comfortably above that. */
#define SCREEN_STOP_WAIT_MS 10000
#define SCREEN_LOG_LINE 512

struct screen_client {
	struct screen *screen;
	int fd;             /* our dup of the client's socket: shutdown() target */
	int rfb_fd;         /* the descriptor libvncserver owns */
	int view_only;
	int thread_started; /* its libvncserver input thread exists */
	struct screen_client *next;
};

struct screen {
	rfbScreenInfoPtr rfb;
	struct screen_source *src;
	uint32_t *fb;
	int width, height;

	pthread_mutex_t lock; /* everything below */
	pthread_cond_t changed;
	struct screen_client *clients;
	int nclients;
	int adding;           /* screen_add_client calls in flight */
	int stopping;
	pthread_t *finished;  /* exited client threads not yet joined */
	size_t nfinished, capfinished;
};

/* Handed from screen_add_client to the new-client hook, which libvncserver
 * calls synchronously inside rfbNewClient on the same thread. */
static _Thread_local struct screen_client *pending_client;

/* ---- libvncserver log lines into ours (process-wide, set once) ---- */

static void rfb_vlog(enum log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void rfb_vlog(enum log_level level, const char *fmt, va_list ap)
{
	char line[SCREEN_LOG_LINE];
	size_t len;

	vsnprintf(line, sizeof line, fmt, ap);
	len = strlen(line);
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	for (char *p = line; *p; p++)
		if (*p == '"' || *p == '\n' || (unsigned char)*p < 0x20)
			*p = '\'';
	/* Participants arrive on socketpairs, where TCP_NODELAY cannot apply. */
	if (strstr(line, "TCP_NODELAY") != NULL)
		level = LOG_LEVEL_DEBUG;
	if (len > 0)
		log_emit(level, "libvncserver", "msg=\"%s\"", line);
}

static void rfb_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void rfb_log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void rfb_log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rfb_vlog(LOG_LEVEL_DEBUG, fmt, ap);
	va_end(ap);
}

static void rfb_log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rfb_vlog(LOG_LEVEL_WARN, fmt, ap);
	va_end(ap);
}

static pthread_once_t rfb_once = PTHREAD_ONCE_INIT;

/* Process-wide libvncserver setup, once, before any client thread exists. */
static void rfb_setup_once(void)
{
	rfbLog = rfb_log_info;
	rfbErr = rfb_log_err;
	/* rfbNewClient initialises the extension mutex lazily and without a
	 * lock; two first clients handed over at once would race on it. */
	rfbGetExtensionIterator();
	rfbReleaseExtensionIterator();
}

/* ---- time ---- */

static void deadline_in(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* ---- libvncserver hooks ---- */

/* Appends a thread that is about to exit to the join list (lock held). */
static void finished_push(struct screen *s, pthread_t id)
{
	if (s->nfinished == s->capfinished) {
		s->capfinished = s->capfinished ? 2 * s->capfinished : 8;
		s->finished = xreallocarray(s->finished, s->capfinished, sizeof *s->finished);
	}
	s->finished[s->nfinished++] = id;
}

static void unlink_client(struct screen *s, struct screen_client *sc)
{
	for (struct screen_client **pp = &s->clients; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == sc) {
			*pp = sc->next;
			s->nclients--;
			return;
		}
	}
}

static void screen_client_gone(rfbClientPtr cl)
{
	struct screen_client *sc = cl->clientData;
	struct screen *s;

	if (sc == NULL)
		return;
	s = sc->screen;
	cl->clientData = NULL;
	if (!sc->view_only && s->src->ops->input_reset != NULL)
		s->src->ops->input_reset(s->src);

	pthread_mutex_lock(&s->lock);
	unlink_client(s, sc);
	/* We run on the client's own input thread (threaded mode calls the
	 * gone hook from there); it exits right after this, join it later. */
	if (sc->thread_started)
		finished_push(s, pthread_self());
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->lock);

	close(sc->fd);
	log_info("event=screen_client_gone view_only=%d", sc->view_only);
	free(sc);
}

static enum rfbNewClientAction screen_new_client(rfbClientPtr cl)
{
	struct screen_client *sc = pending_client;

	if (sc == NULL)
		return RFB_CLIENT_REFUSE; /* only screen_add_client brings clients */
	if (cl->wsctx != NULL || cl->sslctx != NULL) {
		/* The peer spoke first with an HTTP or TLS hello and libvncserver
		 * took its WebSockets path: never serve that (TLS is ours). */
		log_warn("event=screen_client_refused reason=websocket");
		/* libvncserver 0.9.14 never frees the WebSockets context on the
		 * refuse path (one flat calloc'd block); NULL keeps a later
		 * version that does from freeing it twice. */
		free(cl->wsctx);
		cl->wsctx = NULL;
		return RFB_CLIENT_REFUSE;
	}
	cl->clientData = sc;
	cl->clientGoneHook = screen_client_gone;
	cl->viewOnly = sc->view_only ? TRUE : FALSE;
	return RFB_CLIENT_ACCEPT;
}

static void screen_pointer(int button_mask, int x, int y, rfbClientPtr cl)
{
	struct screen *s = cl->screen->screenData;

	if (cl->viewOnly)
		return;
	rfbDefaultPtrAddEvent(button_mask, x, y, cl);
	if (s->src->ops->pointer != NULL)
		s->src->ops->pointer(s->src, button_mask, x, y);
}

static void screen_key(rfbBool down, rfbKeySym keysym, rfbClientPtr cl)
{
	struct screen *s = cl->screen->screenData;

	if (cl->viewOnly)
		return;
	if (s->src->ops->key != NULL)
		s->src->ops->key(s->src, down ? 1 : 0, (uint32_t)keysym);
}

/* Clipboard from participants is not passed to the desktop (yet). */
static void screen_cut_text(char *text, int len, rfbClientPtr cl)
{
	(void)text;
	(void)len;
	(void)cl;
}

static rfbCursorPtr screen_cursor(rfbClientPtr cl)
{
	struct screen *s = cl->screen->screenData;

	return s->src->ops->cursor != NULL ? s->src->ops->cursor(s->src) : NULL;
}

/* ---- API ---- */

struct screen *screen_start(const struct screen_options *opts, char *err, size_t errlen)
{
	struct screen_source *src;
	struct screen *s;
	rfbScreenInfoPtr rfb;
	pthread_condattr_t ca;

	pthread_once(&rfb_once, rfb_setup_once);
	if (opts->kind == SCREEN_DEMO)
		src = screen_demo_open(opts->width, opts->height, err, errlen);
	else if (opts->kind == SCREEN_X11)
		src = screen_x11_open(opts->display, err, errlen);
	else {
		snprintf(err, errlen, "unknown screen source %d", (int)opts->kind);
		return NULL;
	}
	if (src == NULL)
		return NULL;

	s = xcalloc(1, sizeof *s);
	s->src = src;
	s->width = src->width;
	s->height = src->height;
	s->fb = calloc((size_t)s->width * (size_t)s->height, sizeof *s->fb);
	if (s->fb == NULL) {
		snprintf(err, errlen, "no memory for a %dx%d framebuffer", s->width, s->height);
		goto fail;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->changed, &ca);
	pthread_condattr_destroy(&ca);

	rfb = rfbGetScreen(NULL, NULL, s->width, s->height, 8, 3, 4);
	if (rfb == NULL) {
		snprintf(err, errlen, "libvncserver could not create a %dx%d screen", s->width, s->height);
		goto fail_sync;
	}
	s->rfb = rfb;
	/* Framebuffer pixels are host-order uint32 0x00RRGGBB. */
	rfb->serverFormat.redShift = 16;
	rfb->serverFormat.greenShift = 8;
	rfb->serverFormat.blueShift = 0;
	rfb->frameBuffer = (char *)s->fb;
	rfb->desktopName = "Concierge";
	rfb->screenData = s;
	rfb_screen_without_listeners(rfb);
	rfb->dontDisconnect = TRUE;
	/* Threaded mode never runs the deferred-pointer flush: deliver at once. */
	rfb->deferPtrUpdateTime = 0;
	rfb->permitFileTransfer = FALSE;
	rfb->authPasswdData = NULL; /* security type None only */
	/* Never paint a cursor into the shared framebuffer; sources hand out
	 * cursor shapes through getCursorPtr instead. */
	rfb->cursor = NULL;
	rfb->getCursorPtr = screen_cursor;
	rfb->newClientHook = screen_new_client;
	rfb->ptrAddEvent = screen_pointer;
	rfb->kbdAddEvent = screen_key;
	rfb->setXCutText = screen_cut_text;
	rfb->setXCutTextUTF8 = screen_cut_text;

	rfbInitServer(rfb);
	if (rfb->listenSock != RFB_INVALID_SOCKET || rfb->listen6Sock != RFB_INVALID_SOCKET ||
	    rfb->httpListenSock != RFB_INVALID_SOCKET || rfb->udpSock != RFB_INVALID_SOCKET) {
		snprintf(err, errlen, "libvncserver opened a listening socket (refused)");
		goto fail_rfb;
	}
	/* Threaded mode without rfbRunEventLoop: its listener thread would
	 * have nothing to accept; each client gets its own threads from
	 * rfbStartOnHoldClient. */
	rfb->backgroundLoop = TRUE;
	if (src->ops->start(src, rfb, s->fb, err, errlen) < 0)
		goto fail_rfb;
	log_info("event=screen_started source=%s width=%d height=%d", src->ops->name, s->width,
	         s->height);
	return s;

fail_rfb:
	rfbShutdownSockets(rfb);
	rfb->cursor = NULL;
	rfbScreenCleanup(rfb);
fail_sync:
	pthread_cond_destroy(&s->changed);
	pthread_mutex_destroy(&s->lock);
fail:
	src->ops->destroy(src);
	free(s->fb);
	free(s);
	return NULL;
}

/* Joins client threads that have said goodbye (each exits right after). */
static void reap_finished(struct screen *s)
{
	pthread_t ids[16];
	size_t n;

	for (;;) {
		pthread_mutex_lock(&s->lock);
		n = s->nfinished < 16 ? s->nfinished : 16;
		if (n > 0)
			memcpy(ids, s->finished + (s->nfinished - n), n * sizeof *ids);
		s->nfinished -= n;
		pthread_mutex_unlock(&s->lock);
		if (n == 0)
			return;
		for (size_t i = 0; i < n; i++)
			pthread_join(ids[i], NULL);
	}
}

/* The handover runs on its own short-lived thread: rfbNewClient may wait
 * (libvncserver peeks 100 ms for a WebSockets request before it speaks),
 * and the caller's event loop must not. */
static void *add_client_thread(void *arg)
{
	struct screen_client *sc = arg;
	struct screen *s = sc->screen;
	int view_only = sc->view_only;
	rfbClientPtr cl;

	pending_client = sc;
	cl = rfbNewClient(s->rfb, sc->rfb_fd); /* closes the fd itself when it fails */
	pending_client = NULL;

	pthread_mutex_lock(&s->lock);
	if (cl == NULL) {
		unlink_client(s, sc);
		pthread_mutex_unlock(&s->lock);
		close(sc->fd);
		free(sc);
		log_warn("event=screen_client_refused reason=handshake");
	} else {
		sc->thread_started = 1;
		pthread_mutex_unlock(&s->lock);
		log_info("event=screen_client_added view_only=%d", view_only);
		rfbStartOnHoldClient(cl); /* cl and sc may be gone once this returns */
	}

	pthread_mutex_lock(&s->lock);
	s->adding--;
	finished_push(s, pthread_self());
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int screen_add_client(struct screen *s, int fd, int view_only)
{
	struct screen_client *sc;
	pthread_t id;
	int rc;

	if (fd < 0)
		return -1;
	if (fd >= FD_SETSIZE) {
		/* libvncserver select()s on it: an fd this high would abort us. */
		log_error("event=screen_client_refused reason=fd_too_high fd=%d", fd);
		close(fd);
		return -1;
	}
	reap_finished(s);

	sc = xcalloc(1, sizeof *sc);
	sc->screen = s;
	sc->rfb_fd = fd;
	sc->view_only = view_only ? 1 : 0;
	sc->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (sc->fd < 0) {
		log_error("event=screen_client_refused reason=dup errno=%d", errno);
		close(fd);
		free(sc);
		return -1;
	}

	pthread_mutex_lock(&s->lock);
	if (s->stopping) {
		pthread_mutex_unlock(&s->lock);
		close(sc->fd);
		close(fd);
		free(sc);
		return -1;
	}
	sc->next = s->clients;
	s->clients = sc;
	s->nclients++;
	s->adding++;
	rc = pthread_create(&id, NULL, add_client_thread, sc);
	if (rc != 0) {
		unlink_client(s, sc);
		s->adding--;
		pthread_cond_broadcast(&s->changed);
	}
	pthread_mutex_unlock(&s->lock);
	if (rc != 0) {
		log_error("event=screen_client_refused reason=thread error=%d", rc);
		close(sc->fd);
		close(fd);
		free(sc);
		return -1;
	}
	return 0;
}

void screen_disconnect_all(struct screen *s)
{
	int n = 0;

	pthread_mutex_lock(&s->lock);
	for (struct screen_client *sc = s->clients; sc != NULL; sc = sc->next) {
		shutdown(sc->fd, SHUT_RDWR);
		n++;
	}
	pthread_mutex_unlock(&s->lock);
	log_info("event=screen_disconnect_all clients=%d", n);
}

void screen_size(const struct screen *s, int *width, int *height)
{
	*width = s->width;
	*height = s->height;
}

void screen_stop(struct screen *s)
{
	struct timespec deadline;
	int rc = 0, left;

	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = 1;
	pthread_mutex_unlock(&s->lock);

	s->src->ops->stop(s->src);
	screen_disconnect_all(s);

	deadline_in(&deadline, SCREEN_STOP_WAIT_MS);
	pthread_mutex_lock(&s->lock);
	while ((s->nclients > 0 || s->adding > 0) && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&s->changed, &s->lock, &deadline);
	left = s->nclients + s->adding;
	pthread_mutex_unlock(&s->lock);
	if (left > 0) {
		/* Freeing now would pull the screen from under a libvncserver
		 * thread; leaking it is the lesser evil. */
		log_error("event=screen_stop_incomplete clients_left=%d wait_ms=%d", left,
		          SCREEN_STOP_WAIT_MS);
		return;
	}
	reap_finished(s);

	rfbShutdownSockets(s->rfb);
	s->src->ops->destroy(s->src);
	s->rfb->cursor = NULL;
	rfbScreenCleanup(s->rfb);
	free(s->finished);
	free(s->fb);
	pthread_cond_destroy(&s->changed);
	pthread_mutex_destroy(&s->lock);
	free(s);
	log_info("event=screen_stopped");
}
