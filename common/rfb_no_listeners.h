/*
 * A libvncserver screen that serves only the sockets handed to it (one end
 * of a socketpair per viewer, see agent/screen.c): no RFB, HTTP or UDP
 * listener of its own, no inetd socket, every client shared.
 *
 * rfb_screen_without_listeners only sets fields of `screen` (call it before
 * rfbInitServer); it calls no libvncserver function, so linking it needs no
 * libvncserver.
 */
#ifndef CONCIERGE_RFB_NO_LISTENERS_H
#define CONCIERGE_RFB_NO_LISTENERS_H

#include <rfb/rfb.h>

void rfb_screen_without_listeners(rfbScreenInfoPtr screen);

#endif
