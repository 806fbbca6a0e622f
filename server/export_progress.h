/*
 * Progress of a long export on the auditor's terminal: one stderr line,
 * rewritten in place, "export: 42% (01:23 of 03:20 recorded time)".
 *
 * Contract: export_progress_init decides once whether to show anything
 * (only when stderr is a terminal, so logs and pipes stay clean) and takes
 * the total recorded time to cover.  export_progress_update redraws at
 * most every EXPORT_PROGRESS_PERIOD_MS (cheap to call per record or frame);
 * export_progress_end erases the line.  Plain data, no allocation.
 */
#ifndef CONCIERGE_EXPORT_PROGRESS_H
#define CONCIERGE_EXPORT_PROGRESS_H

#include <stdint.h>

#define EXPORT_PROGRESS_PERIOD_MS 200

struct export_progress {
	int enabled;
	uint64_t total_us, last_draw_ms;
	const char *what;  /* "png", "video", ...: the pass under way */
	int drawn;
};

void export_progress_init(struct export_progress *p, const char *what, uint64_t total_us);
void export_progress_update(struct export_progress *p, uint64_t done_us);
void export_progress_end(struct export_progress *p);

#endif
