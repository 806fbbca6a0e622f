/*
 * The end user's screen as an RFB server (libvncserver), fed by a source:
 * SCREEN_DEMO, the deterministic moving test pattern (common/demo_pattern.h),
 * or SCREEN_X11, the real X display (MIT-SHM capture, XDamage-driven refresh
 * or polling, XTest input injection, cursor shape sent).
 *
 * TLS is not libvncserver's business: each participant's stream arrives as
 * an already-connected local socket (one end of a socketpair whose other end
 * the agent pumps to the relay over TLS).  The RFB server offers only the
 * "None" security type; consent and authentication happen before the stream
 * exists.
 *
 * Threads: screen_start runs libvncserver's loop and the source's refresh
 * in background threads; every function here may be called from any thread.
 *
 * Ownership: screen_start returns a screen the caller ends with screen_stop
 * (which disconnects every client and frees everything).  screen_add_client
 * takes ownership of `fd` in every case (closed on failure).
 * Returns: screen_start NULL with `err` on failure; others 0 / -1.
 */
#ifndef CONCIERGE_AGENT_SCREEN_H
#define CONCIERGE_AGENT_SCREEN_H

#include <stddef.h>

enum screen_kind { SCREEN_DEMO, SCREEN_X11 };

struct screen_options {
	enum screen_kind kind;
	int width, height;    /* SCREEN_DEMO only: pattern size (default 640x480) */
	const char *display;  /* SCREEN_X11 only: X display name; NULL = $DISPLAY */
};

struct screen;

struct screen *screen_start(const struct screen_options *opts, char *err, size_t errlen);

/* Serves one participant on `fd`; with view_only its key, pointer and
 * clipboard input is ignored here too (the relay already drops it). */
int screen_add_client(struct screen *screen, int fd, int view_only);

/* Disconnects every participant now (the end user ended the session). */
void screen_disconnect_all(struct screen *screen);

/* Framebuffer size the source serves. */
void screen_size(const struct screen *screen, int *width, int *height);

void screen_stop(struct screen *screen);

#endif
