/*
 * Tamper-evident audit log, stored in the audit_log table.
 *
 * Row n carries prev_hash = hash of row n-1 (64 zero hex digits for row 1)
 * and hash = SHA-256(prev_hash_bytes || canonical(row)), where canonical is
 * the sequence number as 8 big-endian bytes followed by ts, actor, action,
 * object, ticket flag (1 byte: 0 none, 1 present), ticket_id and details, each
 * string as a 4-byte big-endian length and its bytes.  Length prefixes make
 * the encoding unambiguous: no two different rows encode alike.
 *
 * audit_append joins the caller's transaction when one is open (so a state
 * change and its audit row commit together) and otherwise runs in its own.
 * Strings are copied; nothing is retained.  Never pass a secret.
 */
#ifndef CONCIERGE_AUDIT_H
#define CONCIERGE_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define AUDIT_HASH_HEX 65 /* 64 hex digits + NUL */

struct audit_event {
	const char *actor;     /* "local:alice", "ssh:bob", "relay" */
	const char *action;    /* verb, e.g. "user.add", "auth.deny" */
	const char *object;    /* what it acted on, e.g. "user:bob" */
	const char *ticket_id; /* NULL when no ticket is involved */
	const char *details;   /* key=value text; "" when none */
};

struct audit_row {
	int64_t seq;
	const char *ts, *actor, *action, *object, *ticket_id, *details, *prev_hash, *hash;
};

/* 0 appended, -1 with `err`. */
int audit_append(struct store *store, const struct audit_event *event, char *err, size_t errlen);

/* Calls `fn` for each row in sequence order, only those of `ticket_id` when it
 * is not NULL.  Row strings live until `fn` returns.  0 or -1 with `err`. */
typedef void (*audit_row_fn)(const struct audit_row *row, void *ctx);
int audit_foreach(struct store *store, const char *ticket_id, audit_row_fn fn, void *ctx,
                  char *err, size_t errlen);

struct audit_verify_result {
	int64_t rows;          /* rows checked */
	int64_t first_bad_seq; /* 0 when intact */
	char why[256];         /* what is wrong at first_bad_seq */
	char head[AUDIT_HASH_HEX]; /* hash of the last good row ("" for an empty log) */
};

/* Walks the whole chain.  Returns 0 intact, 1 broken (see result), -1 error.
 * With `anchor_hex` (a head printed earlier) the chain must also contain a
 * row with that hash, which catches truncation of the newest rows. */
int audit_verify(struct store *store, const char *anchor_hex, struct audit_verify_result *result,
                 char *err, size_t errlen);

/* Latest sequence number and hash; seq 0 and all-zero hash for an empty log. */
int audit_head(struct store *store, int64_t *seq, char hash_hex[AUDIT_HASH_HEX],
               char *err, size_t errlen);

/* Computes the hash of one row given its fields (exposed for tests). */
void audit_row_hash(const struct audit_row *row, char hash_hex[AUDIT_HASH_HEX]);

#endif
