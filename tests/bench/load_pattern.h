/*
 * The deterministic byte pattern the load generators send and verify
 * (tests/bench/load_agent.c writes it, load_participant.c checks it).
 *
 * A stream's bytes are a function of (seed, offset) only: 8-byte blocks of
 * splitmix64(seed + block index), so the pattern never repeats within a
 * stream, a lost, duplicated or reordered chunk is caught at its first
 * byte, and two sessions (different seeds) never carry the same bytes.
 * The seed of a session is load_pattern_seed(session id); connections
 * without a session use load_pattern_seed("direct").
 *
 * Text variant (shell streams, which a terminal and the asciicast export
 * must carry unchanged): each byte mapped to printable ASCII 0x20..0x7e,
 * selected by `text` = 1 in fill and check.
 *
 * Header-only, no state, no allocation: every function is pure.
 * load_pattern_check returns the index of the first byte of `data` that is
 * not pattern(seed, offset + index), or -1 when all `len` bytes match.
 */
#ifndef CONCIERGE_LOAD_PATTERN_H
#define CONCIERGE_LOAD_PATTERN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t load_pattern_block(uint64_t seed, uint64_t block)
{
	uint64_t z = seed + block * 0x9E3779B97F4A7C15ull;

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* FNV-1a of a NUL-terminated name. */
static inline uint64_t load_pattern_seed(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 0x100000001b3ull;
	return h;
}

static inline uint8_t load_pattern_byte(uint64_t seed, uint64_t offset)
{
	return (uint8_t)(load_pattern_block(seed, offset / 8) >> (8 * (offset % 8)));
}

static inline void load_pattern_fill(uint8_t *out, size_t len, uint64_t seed, uint64_t offset, int text)
{
	size_t i = 0;

	while (i < len && (offset + i) % 8 != 0) {
		out[i] = load_pattern_byte(seed, offset + i);
		i++;
	}
	for (; i + 8 <= len; i += 8) {
		uint64_t v = load_pattern_block(seed, (offset + i) / 8);
		for (int b = 0; b < 8; b++)
			out[i + (size_t)b] = (uint8_t)(v >> (8 * b));
	}
	for (; i < len; i++)
		out[i] = load_pattern_byte(seed, offset + i);
	if (text)
		for (i = 0; i < len; i++)
			out[i] = (uint8_t)(0x20 + out[i] % 95);
}

static inline long load_pattern_check(const uint8_t *data, size_t len, uint64_t seed, uint64_t offset,
                                      int text)
{
	uint8_t expect[4096];

	for (size_t done = 0; done < len;) {
		size_t n = len - done < sizeof expect ? len - done : sizeof expect;
		load_pattern_fill(expect, n, seed, offset + done, text);
		if (memcmp(expect, data + done, n) != 0)
			for (size_t i = 0; i < n; i++)
				if (expect[i] != data[done + i])
					return (long)(done + i);
		done += n;
	}
	return -1;
}

#endif
