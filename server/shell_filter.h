/*
 * Relay-side filter for shell streams (frames of common/shell_frame.h).
 *
 * One instance per direction.  Participant -> agent: DATA and RESIZE frames
 * pass only with the input right (otherwise they are dropped and counted,
 * never half-forwarded); EXIT and NOTICE are not the participant's to send
 * and are a violation.  Agent -> participant (allow_input = 1): every frame
 * passes; on_frame lets the caller audit EXIT.  Frames are re-emitted whole
 * and unchanged; partial frames wait inside (at most one frame).
 *
 * Ownership: shell_filter_new returns a filter freed with shell_filter_free.
 * shell_filter_feed returns 0, or -1 on a malformed frame (close the stream:
 * fail closed); after -1 every feed returns -1.
 */
#ifndef CONCIERGE_SHELL_FILTER_H
#define CONCIERGE_SHELL_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "shell_frame.h"

enum shell_filter_direction { SHELL_FROM_PARTICIPANT, SHELL_FROM_AGENT };

struct shell_filter_callbacks {
	void (*emit)(void *ctx, const uint8_t *data, size_t len);
	/* Optional: every complete frame, and whether it was forwarded. */
	void (*on_frame)(void *ctx, const struct shell_frame *frame, int forwarded);
	void *ctx;
};

struct shell_filter;

struct shell_filter *shell_filter_new(enum shell_filter_direction direction, int allow_input,
                                      const struct shell_filter_callbacks *callbacks);
int shell_filter_feed(struct shell_filter *filter, const uint8_t *data, size_t len);
/* Input frames and their payload bytes dropped for lack of the input right. */
void shell_filter_dropped(const struct shell_filter *filter, uint64_t *frames, uint64_t *bytes);
void shell_filter_free(struct shell_filter *filter);

#endif
