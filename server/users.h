/*
 * Staff accounts: desk agents, vendors, auditors and admins, each with the
 * SSH public keys that log them in.  Every change is one transaction that
 * also appends its audit row, so a failure leaves nothing half-written.
 *
 * `actor` names who asked (e.g. "local:root"); it goes to the audit log.
 * Return convention: 0 done, -1 refused or failed with `err` naming the fix.
 */
#ifndef CONCIERGE_USERS_H
#define CONCIERGE_USERS_H

#include <stddef.h>

#include "ssh_pubkey.h"
#include "store.h"

/* 1 when `name` is a valid user name: [a-z_][a-z0-9_.-]*, at most USER_NAME_MAX. */
int user_name_valid(const char *name);
/* 1 for desk, vendor, auditor, admin. */
int user_role_valid(const char *role);

int users_add(struct store *store, const char *actor, const char *name, const char *role,
              const struct ssh_pubkey *key, char *err, size_t errlen); /* key may be NULL */
int users_add_key(struct store *store, const char *actor, const char *name,
                  const struct ssh_pubkey *key, char *err, size_t errlen);
int users_disable(struct store *store, const char *actor, const char *name, char *err, size_t errlen);

struct user_info {
	const char *name, *role, *created_at;
	int disabled;
	int key_count;
	const char *fingerprints; /* space-separated, "" when none */
};

/* Calls `fn` per user, by name; strings live until `fn` returns. */
typedef void (*user_info_fn)(const struct user_info *user, void *ctx);
int users_foreach(struct store *store, user_info_fn fn, void *ctx, char *err, size_t errlen);

#endif
