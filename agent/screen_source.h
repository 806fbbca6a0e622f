/*
 * Internal to agent/screen*.c: the contract between the RFB server core
 * (screen.c) and a pixel source (screen_demo.c, screen_x11.c).
 *
 * Framebuffer: width x height uint32_t pixels 0x00RRGGBB, rows packed
 * (stride = width * 4), allocated and freed by the core.  Only the source
 * writes it, and it calls rfbMarkRegionAsModified / rfbMarkRectAsModified
 * for what it changed.  libvncserver's own cursor painting is disabled
 * (rfb->cursor stays NULL); a source that has a cursor hands it out through
 * ops->cursor, keeps every rfbCursor it ever handed out alive until its
 * destroy (libvncserver may still read one after it was replaced), and on a
 * change sets cursorWasChanged on every client and wakes it.  Ops that a
 * source does not need may be NULL (pointer, key, input_reset, cursor).
 *
 * Lifetime: *_open (caller's thread) learns the size; start() begins the
 * source's thread; pointer/key/input_reset/cursor may be called from any
 * libvncserver client thread between start() and destroy() and must not
 * block for long;
 * stop() joins the thread (no framebuffer or cursor change after it);
 * destroy() frees everything and is called only once no client is left.
 * Returns: open NULL with `err`; start 0 / -1 with `err`.
 */
#ifndef CONCIERGE_AGENT_SCREEN_SOURCE_H
#define CONCIERGE_AGENT_SCREEN_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include <rfb/rfb.h>

struct screen_source;

struct screen_source_ops {
	const char *name;
	int (*start)(struct screen_source *src, rfbScreenInfoPtr rfb, uint32_t *fb, char *err,
	             size_t errlen);
	void (*pointer)(struct screen_source *src, int button_mask, int x, int y);
	void (*key)(struct screen_source *src, int down, uint32_t keysym);
	/* A controlling client left: release buttons and keys it may hold. */
	void (*input_reset)(struct screen_source *src);
	/* Current cursor shape or NULL (called from client output threads). */
	rfbCursorPtr (*cursor)(struct screen_source *src);
	void (*stop)(struct screen_source *src);
	void (*destroy)(struct screen_source *src);
};

struct screen_source {
	const struct screen_source_ops *ops;
	int width, height;
};

struct screen_source *screen_demo_open(int width, int height, char *err, size_t errlen);
struct screen_source *screen_x11_open(const char *display, char *err, size_t errlen);

#endif
