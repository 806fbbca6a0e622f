/*
 * Filter for the participant -> end user direction of an RFB stream, so the
 * relay enforces rights without trusting the endpoint (libvncserver's
 * viewOnly still lets a client grab the pointer).
 *
 * It parses the handshake and the client message set: ProtocolVersion
 * (3.3, 3.7, 3.8), the security-type choice (only None = 1 is allowed),
 * ClientInit (its shared flag is forced to 1 so nobody is disconnected by a
 * newcomer), then SetPixelFormat, SetEncodings, FramebufferUpdateRequest,
 * KeyEvent, PointerEvent, ClientCutText.  Without the control right, key,
 * pointer and cut-text messages are dropped and counted.  Anything else,
 * or a length beyond the limits in concierge_limits.h, is a protocol
 * violation: the caller must close the stream (fail closed).
 *
 * Byte-oriented: feed any split of the stream; partial messages are kept
 * inside (bounded by RFB_FILTER_MAX_MESSAGE).  Passing bytes go to `emit`
 * in order and unchanged except the forced shared flag.  Every input
 * message (forwarded or dropped) is reported to `on_input` when set, for the
 * recording and audit trail.
 *
 * Ownership: rfb_filter_new returns a filter freed with rfb_filter_free.
 * rfb_filter_feed returns 0, or -1 on a violation with a reason in
 * rfb_filter_error(); after -1 the filter refuses further input.
 */
#ifndef CONCIERGE_RFB_FILTER_H
#define CONCIERGE_RFB_FILTER_H

#include <stddef.h>
#include <stdint.h>

enum rfb_input_kind { RFB_INPUT_KEY, RFB_INPUT_POINTER, RFB_INPUT_CUT_TEXT };

struct rfb_filter_callbacks {
	void (*emit)(void *ctx, const uint8_t *data, size_t len);
	/* Optional.  `msg` is the whole client message as received. */
	void (*on_input)(void *ctx, enum rfb_input_kind kind, int forwarded, const uint8_t *msg,
	                 size_t len);
	void *ctx;
};

struct rfb_filter_stats {
	uint64_t forwarded_input, dropped_key, dropped_pointer, dropped_cut_text;
};

struct rfb_filter;

struct rfb_filter *rfb_filter_new(int allow_input, const struct rfb_filter_callbacks *callbacks);
void rfb_filter_free(struct rfb_filter *filter);

int rfb_filter_feed(struct rfb_filter *filter, const uint8_t *data, size_t len);

/* Rights may change mid-stream (a participant granted or denied control). */
void rfb_filter_set_allow_input(struct rfb_filter *filter, int allow_input);

void rfb_filter_get_stats(const struct rfb_filter *filter, struct rfb_filter_stats *stats);
const char *rfb_filter_error(const struct rfb_filter *filter);

#endif
