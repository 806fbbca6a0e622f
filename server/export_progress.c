#include "export_progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "time_spec.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void export_progress_init(struct export_progress *p, const char *what, uint64_t total_us)
{
	p->enabled = isatty(STDERR_FILENO);
	p->total_us = total_us;
	p->last_draw_ms = 0;
	p->what = what;
	p->drawn = 0;
}

void export_progress_update(struct export_progress *p, uint64_t done_us)
{
	char done[TIME_SPEC_TEXT_MAX], total[TIME_SPEC_TEXT_MAX];
	uint64_t t = now_ms();
	unsigned percent;

	if (!p->enabled || (p->drawn && t - p->last_draw_ms < EXPORT_PROGRESS_PERIOD_MS))
		return;
	if (done_us > p->total_us)
		done_us = p->total_us;
	percent = p->total_us ? (unsigned)(done_us * 100 / p->total_us) : 100;
	time_spec_clock(done_us, done);
	time_spec_clock(p->total_us, total);
	fprintf(stderr, "\r\033[Kexport %s: %3u%% (%s of %s recorded time)", p->what, percent, done, total);
	fflush(stderr);
	p->last_draw_ms = t;
	p->drawn = 1;
}

void export_progress_end(struct export_progress *p)
{
	if (p->enabled && p->drawn)
		fputs("\r\033[K", stderr);
	p->drawn = 0;
}
