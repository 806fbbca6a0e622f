#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static enum log_level min_level = LOG_LEVEL_INFO;
static const char *program_name = "concierge";

void log_set_level(enum log_level level) { min_level = level; }
void log_set_program(const char *program) { program_name = program; }

static const char *level_name(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_DEBUG: return "debug";
	case LOG_LEVEL_INFO: return "info";
	case LOG_LEVEL_WARN: return "warn";
	default: return "error";
	}
}

static void log_vemit(enum log_level level, const char *func, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void log_vemit(enum log_level level, const char *func, const char *fmt, va_list ap)
{
	char stamp[32];
	struct timespec now;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	/* One fprintf per piece would interleave between threads; build the line first. */
	char body[2048];
	vsnprintf(body, sizeof body, fmt, ap);
	fprintf(stderr, "ts=%s.%03ldZ prog=%s level=%s func=%s %s\n", stamp,
	        now.tv_nsec / 1000000L, program_name, level_name(level), func, body);
}

void log_emit(enum log_level level, const char *func, const char *fmt, ...)
{
	va_list ap;

	if (level < min_level)
		return;
	va_start(ap, fmt);
	log_vemit(level, func, fmt, ap);
	va_end(ap);
}

void fatal_at(const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_LEVEL_ERROR, func, fmt, ap);
	va_end(ap);
	exit(1);
}

void log_clean_text(char *out, size_t outlen, const char *in)
{
	size_t n = 0;

	if (outlen == 0)
		return;
	for (; in[n] && n + 1 < outlen; n++) {
		unsigned char c = (unsigned char)in[n];
		out[n] = (c < 0x20 || c > 0x7e || c == '"' || c == '\\') ? '?' : (char)c;
	}
	out[n] = '\0';
}
