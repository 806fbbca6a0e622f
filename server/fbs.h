/*
 * FBS 001.000 writer: the "framebuffer stream" file of rfbproxy and the
 * TightVNC/vncrec-style players, one direction (server -> client) of one RFB
 * connection with its timing.
 *
 *   "FBS 001.000\n"
 *   block*: u32be N | N bytes of server->client RFB | 0-3 zero bytes so the
 *           data fill a multiple of 4 | u32be milliseconds since the start
 *
 * Contract: the caller owns `out` (opened for writing, closed by the
 * caller).  fbs_write_header writes the 12-byte signature; fbs_write_block
 * one block (len 1..FBS_MAX_BLOCK; an empty block is skipped).  Both return
 * 0, or -1 when the stream reports a write error.  The bytes are copied
 * unchanged: the caller passes the recorder leg's bytes in order.
 */
#ifndef CONCIERGE_FBS_H
#define CONCIERGE_FBS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "concierge_limits.h"

#define FBS_SIGNATURE     "FBS 001.000\n"
#define FBS_SIGNATURE_LEN 12
#define FBS_MAX_BLOCK     RECORDING_MAX_RECORD /* one recording record per block */

int fbs_write_header(FILE *out);
int fbs_write_block(FILE *out, uint32_t time_ms, const void *data, size_t len);

#endif
