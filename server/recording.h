/*
 * Session recordings: a tamper-evident, crash-safe container file
 * (format in docs/RECORDING.md).
 *
 * A recording is a header (ticket, session, relay key id, start time), then
 * typed records, each closed by the running SHA-256 chain value, with signed
 * checkpoint records written and fsync'd at least every second and every
 * MiB, and a signed trailer on close.  After a crash everything up to the
 * last checkpoint verifies; the rest is reported as an unverifiable tail.
 *
 * Writer
 *  - recording_writer_open creates the file (O_EXCL, 0600; missing
 *    directories below params->root with 0700), writes the header and
 *    checkpoint 0 and fsyncs the file and its directories.  It takes its own
 *    reference to the signing key (the caller keeps and frees its own).
 *    Returns the writer, or NULL with `err` (nothing is left behind).
 *  - recording_writer_append / _checkpoint / _tick return 0, or -1 with
 *    `err`.  The caller must fail closed on -1: stop the session, because
 *    nothing more can be recorded.  After any -1 the writer refuses every
 *    further append.  An invalid argument (unknown type or flag, over-long
 *    payload or participant) writes nothing; a write, fsync or signing
 *    failure may leave a partial record.
 *  - recording_writer_close writes the signed trailer and fsyncs, unless a
 *    write, fsync or signing failure happened earlier (then the file stays
 *    as it is and verifies as TRUNCATED).  It always frees the writer and
 *    returns 0 when the trailer is on disk, -1 with `err` otherwise.
 *  - Time stamps are microseconds on CLOCK_MONOTONIC since the writer was
 *    opened: recording_writer_now_us gives the current one.  They should
 *    not decrease; the container does not enforce it.
 *  - A writer is not thread-safe: one thread (the relay core) uses it.
 *
 * Reader and verifier
 *  - Both accept hostile files: every length is checked against the limits
 *    below and against the bytes actually present before anything is read
 *    or allocated, so memory stays within RECORDING_MAX_RECORD plus a small
 *    constant whatever the file claims.
 *  - recording_verify walks the whole file and returns RECORDING_INTACT,
 *    RECORDING_TRUNCATED or RECORDING_TAMPERED with details in `res`, or -1
 *    with `err` on an I/O error.  Signatures are checked only when a key is
 *    given (res->signatures_checked says so).
 *  - The record iterator yields data records (never checkpoints or the
 *    trailer) in file order, checking the chain as it goes but not the
 *    signatures: run recording_verify first.
 *
 * Fault injection (tests): params->fault_write_after_bytes lets that many
 * bytes reach the file, then every write fails with ENOSPC (a full disk);
 * params->fault_fsync_after lets that many fsyncs succeed, then fsync fails
 * with EIO.  When fault_write_after_bytes is -1 the environment variable
 * CONCIERGE_RECORDING_FAIL_AFTER_BYTES (decimal) sets it, so end-to-end tests
 * can fill the "disk" of a real relay.  Both can only make writing fail.
 */
#ifndef CONCIERGE_RECORDING_H
#define CONCIERGE_RECORDING_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "concierge_limits.h"

/* Limits: RECORDING_MAX_* in concierge_limits.h. */
#define RECORDING_MAGIC            "CNCGREC1"
#define RECORDING_VERSION          1
#define RECORDING_HASH_LEN         32            /* SHA-256 */
#define RECORDING_HASH_HEX         65            /* 64 hex digits + NUL */

/* Default checkpoint cadence. */
#define RECORDING_CHECKPOINT_MS    1000
#define RECORDING_CHECKPOINT_BYTES (1024 * 1024)

enum recording_type {
	RECORDING_RFB_SERVER_BYTES = 1, /* recorder leg server->client bytes, unchanged */
	RECORDING_INPUT_KEY        = 2, /* the participant's whole RFB KeyEvent message */
	RECORDING_INPUT_POINTER    = 3, /* ... PointerEvent message */
	RECORDING_INPUT_CUT_TEXT   = 4, /* ... ClientCutText message */
	RECORDING_SHELL_OUTPUT     = 5, /* PTY output bytes */
	RECORDING_SHELL_INPUT      = 6, /* one participant's shell input bytes */
	RECORDING_SHELL_RESIZE     = 7, /* u16be columns, u16be rows */
	RECORDING_EVENT            = 8, /* key=value text: join, leave, consent, rights, end */
	RECORDING_CHECKPOINT       = 0xf0, /* written by the writer only */
	RECORDING_TRAILER          = 0xff, /* written by the writer only */
};

/* Record flags; every other bit must be zero. */
#define RECORDING_FLAG_DROPPED     0x01 /* input not forwarded (no control right) */
#define RECORDING_FLAGS_KNOWN      RECORDING_FLAG_DROPPED

/* recording_verify results (-1 is an I/O error). */
enum recording_status {
	RECORDING_INTACT    = 0,
	RECORDING_TRUNCATED = 1,
	RECORDING_TAMPERED  = 2,
};

struct recording_params {
	const char *root;           /* NULL: the file's directory must exist; else path must
	                               lie below this existing directory, and the directories
	                               between are created (0700) */
	uint32_t checkpoint_ms;     /* checkpoint when this much time passed (0: every append) */
	uint64_t checkpoint_bytes;  /* ... or this many bytes were written (0: every append) */
	int64_t fault_write_after_bytes; /* -1 off (see above) */
	int64_t fault_fsync_after;       /* -1 off */
	/* When set, a checkpoint's fsync is handed to defer_sync (0: queued, the
	 * file becomes durable shortly and whoever queued it reports a failure;
	 * -1: the writer syncs itself).  The header and trailer always sync
	 * here.  Fault injection applies to the writer's own fsyncs only. */
	int (*defer_sync)(void *ctx, int fd);
	void *defer_sync_ctx;
};

/* Defaults: no root, RECORDING_CHECKPOINT_MS, RECORDING_CHECKPOINT_BYTES, faults off,
 * every fsync done by the writer. */
void recording_params_default(struct recording_params *params);

struct recording_header {
	unsigned version;
	char ticket[TICKET_ID_MAX + 1];
	char session[RECORDING_MAX_SESSION_ID + 1];
	unsigned char key_id[RECORDING_HASH_LEN]; /* SHA-256 of the DER SubjectPublicKeyInfo */
	uint64_t start_utc_us;                    /* CLOCK_REALTIME at open, us since the epoch */
	uint64_t start_mono_us;                   /* CLOCK_MONOTONIC at open: time 0 of records */
};

struct recording_writer;

/* What close reports, for the database row and the audit log. */
struct recording_summary {
	uint64_t records;                     /* records before the trailer (checkpoints included) */
	uint64_t data_records;
	uint64_t bytes;                       /* file size, trailer included */
	char header_hash[RECORDING_HASH_HEX]; /* SHA-256 of the header bytes */
	char final_chain[RECORDING_HASH_HEX]; /* chain value the trailer signs */
	char signature[2 * RECORDING_MAX_SIGNATURE + 1]; /* the trailer's signature, hex */
};

struct recording_writer *recording_writer_open(const char *path, const char *ticket,
                                               const char *session, EVP_PKEY *signing_key,
                                               const struct recording_params *params,
                                               char *err, size_t errlen);

/* One data record.  `participant` is NULL or "" for none, else 1 to
 * RECORDING_MAX_PARTICIPANT printable ASCII characters without spaces;
 * `payload` may be NULL only when len is 0.  May write a checkpoint. */
int recording_writer_append(struct recording_writer *w, enum recording_type type, uint16_t stream,
                            const char *participant, uint8_t flags, uint64_t time_us,
                            const void *payload, size_t len, char *err, size_t errlen);

/* Writes a checkpoint now and fsyncs. */
int recording_writer_checkpoint(struct recording_writer *w, char *err, size_t errlen);

/* Call from a timer at least every checkpoint_ms: writes a checkpoint when
 * records were appended since the last one and checkpoint_ms has passed. */
int recording_writer_tick(struct recording_writer *w, char *err, size_t errlen);

/* Microseconds on CLOCK_MONOTONIC since the writer was opened. */
uint64_t recording_writer_now_us(const struct recording_writer *w);

/* Records written so far (checkpoints included) and file bytes so far. */
uint64_t recording_writer_records(const struct recording_writer *w);
uint64_t recording_writer_bytes(const struct recording_writer *w);

/* Writes the trailer (see above) and frees `w`; `summary` may be NULL. */
int recording_writer_close(struct recording_writer *w, struct recording_summary *summary,
                           char *err, size_t errlen);

struct recording_verify_result {
	struct recording_header header; /* valid when the header parsed */
	int header_ok;
	int signatures_checked;         /* 1 when a key was given */
	uint64_t file_bytes;
	uint64_t records;               /* complete records walked, all types */
	uint64_t data_records;
	uint64_t checkpoints;           /* valid checkpoints */
	uint64_t records_verified;      /* records covered by the last valid checkpoint or trailer */
	uint64_t bytes_verified;        /* file bytes so covered (header included) */
	uint64_t tail_bytes;            /* TRUNCATED: bytes after that, unverifiable */
	uint64_t tail_records;          /* TRUNCATED: complete records among them */
	int64_t first_bad_record;       /* TAMPERED: index (0 = first record), -1 = header */
	uint64_t first_bad_offset;      /* TAMPERED: its byte offset */
	char why[384];                  /* TAMPERED: what is wrong; TRUNCATED: how the tail ends */
	char chain[RECORDING_HASH_HEX]; /* last verified chain value (the trailer's when INTACT) */
	char header_hash[RECORDING_HASH_HEX]; /* H0, when the header parsed */
	char signature[2 * RECORDING_MAX_SIGNATURE + 1]; /* INTACT: the trailer's signature, hex */
};

/* Verifies the file at `path` (or `len` bytes at `data`).  `key` (public
 * or private; NULL to skip signatures) is only read. */
int recording_verify(const char *path, EVP_PKEY *key, struct recording_verify_result *res,
                     char *err, size_t errlen);
int recording_verify_mem(const void *data, size_t len, EVP_PKEY *key,
                         struct recording_verify_result *res, char *err, size_t errlen);

struct recording_record {
	uint64_t index;           /* position among all records (checkpoints counted) */
	uint64_t offset;          /* byte offset in the file */
	enum recording_type type;
	uint16_t stream;
	uint8_t flags;
	uint64_t time_us;
	const char *participant;  /* "" when none */
	const unsigned char *payload; /* `len` bytes; NULL when len is 0 */
	size_t len;
};

struct recording_reader;

/* 0 with *out (closed with recording_reader_close), or -1 with `err` (the
 * file cannot be read, or its header is incomplete or malformed).  The
 * memory variant reads `data` in place: it must outlive the reader. */
int recording_reader_open(const char *path, struct recording_reader **out, char *err, size_t errlen);
int recording_reader_open_mem(const void *data, size_t len, struct recording_reader **out,
                              char *err, size_t errlen);
const struct recording_header *recording_reader_header(const struct recording_reader *r);

/* 1 with the next data record in *rec (its pointers stay valid until the
 * next call or close), 0 at the end, -1 with `err` when the file is damaged
 * (chain mismatch, malformed record) or cannot be read; after -1 it keeps
 * returning -1.  At the end, recording_reader_complete is 1 when the
 * trailer was reached, 0 when the file just stops (crash: the last records
 * were never checkpointed). */
int recording_reader_next(struct recording_reader *r, struct recording_record *rec,
                          char *err, size_t errlen);
int recording_reader_complete(const struct recording_reader *r);
void recording_reader_close(struct recording_reader *r);

/* SHA-256 of the key's DER SubjectPublicKeyInfo; 0 or -1 with `err`. */
int recording_key_id(EVP_PKEY *key, unsigned char out[RECORDING_HASH_LEN], char *err, size_t errlen);

/* Loads a key from a PEM file holding a private key, a public key or a
 * certificate (relay.key or relay.pem).  NULL with `err` when none parses.
 * The caller frees it with EVP_PKEY_free. */
EVP_PKEY *recording_load_key(const char *path, char *err, size_t errlen);

/* Human names: "rfb", "key", ... and "intact", "truncated", "tampered". */
const char *recording_type_name(int type);
const char *recording_status_name(int status);

#endif
