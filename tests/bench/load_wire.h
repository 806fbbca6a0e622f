/*
 * What load_agent and load_participant agree on besides the byte pattern
 * (load_pattern.h): big-endian field helpers for the RFB messages they
 * exchange, and the in-band end marker "load-end bytes=N" that ends a
 * pattern (shell: a NOTICE frame, screen: a ServerCutText), so a receiver
 * tells "everything arrived" from "stalled".  Header-only and pure.
 */
#ifndef CONCIERGE_LOAD_WIRE_H
#define CONCIERGE_LOAD_WIRE_H

#include <stdint.h>

#define LOAD_END_MARKER "load-end bytes="
#define LOAD_RFB_NAME   "concierge-load"  /* the generator's RFB desktop name */

static inline void load_put_u16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void load_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t load_get_u16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static inline uint32_t load_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#endif
