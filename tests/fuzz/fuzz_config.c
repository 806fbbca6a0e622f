/*
 * libFuzzer target for the configuration parser (common/config.c): any text
 * either parses into bounded, NUL-terminated fields or is refused with a
 * message; it never crashes or reads out of bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct concierge_config cfg;
	char err[512];

	if (size > CFG_MAX_FILE_BYTES)
		return 0;
	config_defaults(&cfg);
	err[0] = '\0';
	if (config_parse_text(&cfg, (const char *)data, size, "/base", err, sizeof err) == 0) {
		if (strnlen(cfg.database, sizeof cfg.database) == sizeof cfg.database ||
		    strnlen(cfg.hostname, sizeof cfg.hostname) == sizeof cfg.hostname ||
		    cfg.agent_listen.port == 0 || cfg.agent_listen.port > 65535 ||
		    cfg.code_ttl < 30 || cfg.code_ttl > CFG_MAX_CODE_TTL_S)
			abort();
	} else if (err[0] == '\0') {
		abort(); /* every refusal says why */
	}
	return 0;
}
