/*
 * The map of a recording's screen, built once per replay_open: the screen
 * legs, where each leg's RFB bytes lie in the file and where each RFB
 * message (unit) starts and ends, with its time.  No pixel is decoded: the
 * leg's byte stream goes through rfb_framer only.
 *
 * replay_index_build reads the whole recording through the container
 * reader (chain checked record by record; signatures are recording_verify's
 * job) from descriptor `fd`, which stays the caller's.  A leg whose stream
 * breaks the RFB rules is indexed up to its last whole message and marked
 * incomplete with the reason; a recording cut short by a crash is indexed
 * up to its last readable record.  0, or -1 with `err` (unreadable file,
 * malformed header, more than REPLAY_MAX_LEG_RECORDS RFB records).
 * replay_index_free frees everything (a zeroed index is fine).
 *
 * replay_index_read_unit copies the bytes [from, from+len) of a leg's RFB
 * stream out of the file (pread on `fd`) into `out`; 0 or -1 with `err`.
 */
#ifndef CONCIERGE_REPLAY_INDEX_H
#define CONCIERGE_REPLAY_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "recording.h"
#include "replay.h"
#include "rfb_framer.h"

struct replay_rec {
	uint64_t stream_off;  /* offset of its first byte in the leg's RFB stream */
	uint64_t payload_off; /* file offset of its payload */
	uint64_t index;       /* container record index */
	uint64_t offset;      /* container record offset */
	uint32_t len;
};

struct replay_unit {
	uint64_t stream_off;
	uint64_t length;
	uint64_t time_us;     /* the record holding its last byte (never decreasing) */
	uint32_t width, height;
	int8_t type;          /* enum rfb_frame_type */
};

struct replay_index_leg {
	struct replay_leg pub;
	struct replay_rec *recs;
	size_t nrecs, caprecs;
	struct replay_unit *units;
	size_t nunits, capunits;
	size_t first_update;  /* unit index of the first FramebufferUpdate, SIZE_MAX: none */
	/* while scanning */
	struct rfb_framer *framer;
	uint64_t cur_time;
	int broken;
	int has_stop;
	uint64_t stop_us;
};

struct replay_index {
	struct replay_index_leg **legs; /* stable addresses: each framer points at its leg */
	size_t nlegs;
	uint64_t duration_us;
	int complete;
	unsigned char header_hash[RECORDING_HASH_LEN];
	uint64_t records;     /* container records up to the last data record */
	uint64_t bytes;       /* file bytes up to the end of the last data record */
	unsigned char chain[RECORDING_HASH_LEN]; /* chain value of the last data record */
};

int replay_index_build(int fd, struct replay_index *idx, char *err, size_t errlen);
void replay_index_free(struct replay_index *idx);

int replay_index_read_unit(int fd, const struct replay_index_leg *leg, uint64_t from, uint64_t len,
                           uint8_t *out, char *err, size_t errlen);

/* First record of the leg holding stream byte `off` (nrecs when past the end). */
size_t replay_index_rec_at(const struct replay_index_leg *leg, uint64_t off);

#endif
